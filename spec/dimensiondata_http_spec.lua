-- Dimension Data operations over real HTTP: every operation of the catalog against the simulator
-- served by nginx (bin/luacloud-sim), with the default libcurl transport and XML (the only format
-- of this API). The simulator runs in real time; its pending work is sped up 20x through the admin
-- interface (seed kind "speed") so deployments, power actions and image jobs finish in about a
-- second. Every op id called is recorded; the last test checks that the calls cover the catalog.
-- Pending (not failing) when nginx or its lua module is not installed.

local support = require("spec.support.sim")
local why = support.missing { luajit = true }
if why then -- pending, not failing
  return describe("dimensiondata over HTTP", function()
    it("needs nginx", function() pending(why .. ": skipping the dimensiondata HTTP specs") end)
  end)
end

local luacloud = require("luacloud")
local catalog = require("luacloud.catalog.dimensiondata")
local core = require("luacloud.core")

local SPEED = 10 -- deploy 12 s -> 1.2 s, actions 3 s -> 0.3 s, image jobs 12 s -> 1.2 s
local W = { interval = 0.1, max_interval = 0.3, backoff = 1.5, timeout = 20 }

describe("dimensiondata over HTTP (nginx simulator, libcurl, XML)", function()
  local sim, creds, c
  local nr -- a client without retries (REASON_5/11/529 would be waited out)
  local used = {}       -- op id -> number of calls that reached the server
  local org             -- learned by the first client
  local images = {}     -- location -> OS image id

  -- A client with call recording: a call counts when the server answered (result, or an error
  -- carrying an HTTP status); client-side validation failures do not.
  local function client(extra)
    local o = { endpoint = sim.endpoints.dimensiondata, username = creds.username, password = creds.password,
      format = "xml" }
    for k, v in pairs(extra or {}) do o[k] = v end
    local cl = assert(luacloud.new("dimensiondata", o))
    local call = cl.call
    cl.call = function(self, name, params)
      local res, err = call(self, name, params)
      if res ~= nil or (type(err) == "table" and err.status) then
        local id = self:resolve(name)
        if id then used[id] = (used[id] or 0) + 1 end
      end
      return res, err
    end
    return cl
  end

  -- fails(code, status, c:op(...)): the call failed with the API's error `code`, documented for the op.
  local function fails(code, status, res, err)
    assert.is_nil(res, "expected " .. code .. ", got a result")
    assert.is_table(err)
    assert.equal(code, err.code, tostring(err))
    assert.equal("api", err.kind, tostring(err))
    if status then assert.equal(status, err.status, tostring(err)) end
    assert.truthy(err.details and err.details.documented, "undocumented code for " .. tostring(err.op) .. ": " .. tostring(err))
    return err
  end
  -- the same for a code the simulator answers although the document does not list it for the op
  local function fails_undocumented(code, status, res, err)
    assert.is_nil(res, "expected " .. code .. ", got a result")
    assert.is_table(err)
    assert.equal(code, err.code, tostring(err))
    assert.equal("api", err.kind, tostring(err))
    if status then assert.equal(status, err.status, tostring(err)) end
    return err
  end

  -- the items array of a list result (the catalog's response.items)
  local function items(op, res)
    local list = res[catalog.operations[op].response.items]
    assert.is_table(list, op .. " returned no " .. tostring(catalog.operations[op].response.items))
    return list
  end

  local function listing(op, params)
    return items(op, assert(c:call(op, params)))
  end

  local function by(list, field, value)
    for _, x in ipairs(list) do if x[field] == value then return x end end
  end

  local function image(loc)
    loc = loc or "NA1"
    if not images[loc] then
      local l = assert(c:list_os_server_images_with_software_labels({ location_id = loc }))
      images[loc] = l.DeployedImageWithSoftwareLabels[1].id
    end
    return images[loc]
  end

  local function network(name, loc)
    local st = assert(c:create_network_with_location({ name = name, description = "http spec", location = loc or "NA1" }))
    assert.equal("SUCCESS", st.result)
    for _, n in ipairs(assert(c:list_networks_with_location()).network) do
      if n.name == name then return n.id, n end
    end
    error("network " .. name .. " not listed")
  end

  local function deploy_req(nid, name, started)
    local st = assert(c:deploy_server({ name = name, description = "http spec server",
      vlanResourcePath = "/oec/" .. c.org_id .. "/network/" .. nid,
      imageResourcePath = "/oec/base/image/" .. image("NA1"),
      administratorPassword = "Secret-123", isStarted = started ~= false }))
    assert.equal("SUCCESS", st.result)
  end

  local function ready(nid, name, opts)
    local o = {}
    for k, v in pairs(W) do o[k] = v end
    for k, v in pairs(opts or {}) do o[k] = v end
    return assert(c:wait({ name = name, network_id = nid }, o))
  end

  local function idle(id, started)
    return assert(c:wait({ server_id = id, started = started }, W))
  end

  setup(function()
    sim = support.start()
    creds = sim.credentials.dimensiondata
    local _, st = sim.admin("POST", "/_sim/reset?provider=dimensiondata")
    assert.equal(200, st)
    local res
    res, st = sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=speed&n=" .. SPEED)
    assert.equal(200, st, "seed speed: " .. tostring(res and res.error))
    c = client()
    nr = client({ retries = 0 })
  end)

  teardown(function()
    if sim then sim.stop() end
  end)

  describe("authentication and accounts", function()
    it("learns the organization once with pre-emptive Basic auth", function()
      local events = {}
      local cl = client({ log = function(e) events[#events + 1] = e end })
      local acc = assert(cl:get_my_account())
      assert.equal(creds.username, acc.userName)
      assert.equal(creds.org_id, acc.orgId)
      assert.equal("primary administrator", acc.roles.role[1].name)
      assert.equal(creds.org_id, cl.org_id)
      assert(cl:list_software_labels())
      local myaccount = 0
      for _, e in ipairs(events) do
        if e.event == "response" and e.url:match("/myaccount$") then myaccount = myaccount + 1 end
      end
      assert.equal(1, myaccount)
      assert(c:get_my_account())
      org = c.org_id
    end)

    it("reports bad credentials as an auth error (HTTP 401)", function()
      local bad = client({ password = "wrong-password" })
      local res, err = bad:get_my_account()
      assert.is_nil(res)
      assert.equal("auth", err.kind)
      assert.equal(401, err.status)
      local res2, err2 = bad:list_networks_with_location() -- org discovery fails the same way
      assert.is_nil(res2)
      assert.equal(401, err2.status)
    end)

    it("answers REASON_100 for a foreign org id and REASON_140 for a read-only user", function()
      local foreign = client({ org_id = "00000000-0000-0000-0000-000000000000" })
      fails("REASON_100", 400, foreign:list_networks_with_location())
      local viewer = client({ username = creds.readonly_username, password = creds.readonly_password, org_id = creds.org_id })
      assert(viewer:list_networks_with_location())
      fails("REASON_140", 403, viewer:create_network_with_location({ name = "nope", location = "NA1" }))
      fails("REASON_140", 403, viewer:summary_usage_report({ startDate = "2013-01-01", endDate = "2013-01-02" }))
    end)

    it("adds, updates, promotes and deletes a sub-administrator", function()
      local st = assert(c:add_sub_administrator_account({ userName = "ops1", password = "password-1",
        fullName = "Op One", firstName = "Op", lastName = "One", emailAddress = "op@example.com",
        department = "ops", orgId = c.org_id, roles = { role = { { name = "network" }, { name = "server" } } } }))
      assert.equal("SUCCESS", st.result)
      fails("REASON_120", 400, c:add_sub_administrator_account({ userName = "ops1", password = "password-1",
        fullName = "x", firstName = "x", lastName = "x", emailAddress = "x@example.com", orgId = c.org_id }))
      fails("REASON_122", 400, c:add_sub_administrator_account({ userName = "ops2", password = "short",
        fullName = "x", firstName = "x", lastName = "x", emailAddress = "x@example.com", orgId = c.org_id }))
      local function find(name)
        for _, a in ipairs(assert(c:list_accounts()).Account) do if a.userName == name then return a end end
      end
      local a = find("ops1")
      assert.same({ "network", "server" }, { a.roles.role[1].name, a.roles.role[2].name })
      assert(c:update_administrator_account({ userName = "ops1", fullName = "Op Uno", role = { "network", "backup" } }))
      a = find("ops1")
      assert.equal("Op Uno", a.fullName)
      assert.same({ "network", "backup" }, { a.roles.role[1].name, a.roles.role[2].name })
      fails("REASON_123", 400, c:update_administrator_account({ userName = "ops1", role = { "superuser" } }))
      -- the document lists no "unknown user" code for Update; the simulator answers REASON_110
      fails_undocumented("REASON_110", 400, c:update_administrator_account({ userName = "nobody", fullName = "x" }))
      -- ops1 becomes the primary administrator, then hands the role back
      assert(c:designate_primary_administrator({ username = "ops1" }))
      assert.equal("primary administrator", find("ops1").roles.role[1].name)
      fails("REASON_140", 403, c:designate_primary_administrator({ username = "demo" }))
      local ops1 = client({ username = "ops1", password = "password-1" })
      assert(ops1:designate_primary_administrator({ username = "demo" }))
      assert.equal("primary administrator", assert(c:get_my_account()).roles.role[1].name)
      fails("REASON_130", 400, c:delete_sub_administrator_account({ username = "demo" }))
      assert(c:delete_sub_administrator_account({ username = "ops1" }))
      fails("REASON_110", 400, c:delete_sub_administrator_account({ username = "ops1" }))
      assert.is_nil(find("ops1"))
    end)
  end)

  describe("data centers, geographies and images", function()
    it("lists data centers in every documented form, paged and filtered", function()
      assert.equal(3, #assert(c:list_data_centers()).datacenter)
      assert.equal("16", assert(c:list_data_centers_with_limits()).datacenter[1].maxCpu)
      local r = assert(c:list_data_centers_with_maintenance_status({ pageSize = 2 }))
      assert.same({ totalCount = 3, pageCount = 2, pageNumber = 1, pageSize = 2 }, r.paging)
      local locs = {}
      for dc in c:each("list_data_centers_with_maintenance_status", { pageSize = 1 }) do locs[#locs + 1] = dc.location end
      assert.same({ "NA1", "NA3", "NA5" }, locs)
      local na3 = assert(c:list_data_centers_with_parameters({ location = "NA3" }))
      assert.equal(1, na3.paging.totalCount)
      assert.equal(3, #na3.datacenter[1].diskSpeed)
      fails("REASON_71", 400, c:list_data_centers_with_maintenance_status({ orderBy = "colour" }))
    end)

    it("lists geographies, software labels, OS, partner and OVF images", function()
      local geo = assert(c:list_multi_geography_data_centers()).geo[1]
      assert.is_nil(geo.geoKey)
      local geok = assert(c:list_multi_geography_data_centers_with_key()).geo[1]
      assert.equal("northamerica", geok.geoKey)
      assert.equal(sim.endpoints.dimensiondata .. "/oec/0.9", geok.cloudApiUrl)
      assert.equal("MSSQL2008R2S", assert(c:list_software_labels()).softwareLabel[1].id)
      local all = assert(c:list_os_server_images()).ServerImage
      assert.truthy(#all >= 1)
      assert.equal("NA1", all[1].location)
      local na3 = assert(c:list_os_server_images_in_location({ location_id = "NA3" })).ServerImage
      assert.equal("NA3", na3[1].location)
      fails("REASON_770", 400, c:list_os_server_images_in_location({ location_id = "XX9" }))
      local labelled = assert(c:list_os_server_images_with_software_labels({ location_id = "NA5" }))
      assert.equal("NA5", labelled.DeployedImageWithSoftwareLabels[1].location)
      -- the pre-built stacks of section 12.6-12.8, listed as ServerImage items
      assert.truthy(assert(c:list_db_server_images({ ["Image Provider"] = "opsource" })).ServerImage[1].name)
      assert.truthy(assert(c:list_web_server_images({ image_provider = "ntta" })).ServerImage[1].resourcePath)
      assert.truthy(assert(c:list_partner_server_images()).ServerImage[1].id)
      local pkgs = {}
      for _, p in ipairs(assert(c:list_ovf_packages()).ovfPackage) do pkgs[p.name] = p.status end
      assert.same({ ["MyCustomerImage.mf"] = "VALID", ["OldImage.mf"] = "EXPIRED" }, pkgs)
    end)
  end)

  describe("networks", function()
    it("creates, modifies, configures and deletes networks (with location and legacy)", function()
      local nid = network("net-a", "NA3")
      fails("REASON_210", 400, c:create_network_with_location({ name = "net-a", location = "NA1" }))
      fails("REASON_770", 400, c:create_network_with_location({ name = "net-b", location = "XX9" }))
      assert.truthy(by(listing("list_networks_in_location", { location_id = "NA3" }), "id", nid))
      assert.is_nil(by(listing("list_networks_in_location", { location_id = "NA5" }), "id", nid))
      assert(c:modify_network({ network_id = nid, name = "net-a2", description = "renamed net" }))
      local d = assert(c:get_network_details({ net_id = nid }))
      assert.same({ "net-a2", "renamed net" }, { d.name, d.description })
      local cfg = assert(c:get_network_configuration({ network_id = nid }))
      assert.equal(nid, cfg.network.id)
      assert.truthy(cfg.privateNet:match("%.0$"))
      local cfgl = assert(c:get_network_configuration_with_location({ network_id = nid }))
      assert.equal("NA3", cfgl.location)
      assert.equal(1, #cfgl.publicIps.IpBlock)
      assert(c:set_multicast({ network_id = nid, enabled = true }))
      fails("REASON_372", 400, c:set_multicast({ network_id = nid, enabled = true }))
      fails("REASON_371", 400, c:delete_network({ network_id = nid }))
      assert(c:set_multicast({ network_id = nid, enabled = false }))
      local st = assert(c:delete_network({ network_id = nid }))
      assert.equal("Network deleted successfully", st.resultDetail)
      fails("REASON_250", 400, c:get_network_details({ net_id = nid }))
      fails("REASON_250", 400, c:delete_network({ network_id = nid }))
      -- the deprecated pair (data center NA1 only)
      assert(c:create_network({ name = "legacy-net", description = "old style" }))
      local legacy = by(listing("list_networks"), "name", "legacy-net")
      assert.equal("/oec/" .. org .. "/network/" .. legacy.id, legacy.resourcePath)
      fails("REASON_210", 400, c:create_network({ name = "legacy-net" }))
      assert(c:delete_network({ network_id = legacy.id }))
    end)

    it("creates ACL rules, refusing a taken position, and deletes them", function()
      local nid = network("acl")
      local rule = assert(c:create_acl_rule({ network_id = nid, name = "web", position = 200, action = "PERMIT",
        protocol = "TCP", sourceIpRange = { ipAddress = "10.0.0.0", netmask = "255.0.0.0" },
        destinationIpRange = { ipAddress = "10.1.1.1" },
        portRange = { type = "RANGE", port1 = 8080, port2 = 8090 }, type = "OUTSIDE_ACL" }))
      assert.same({ "web", "NORMAL", "8090" }, { rule.name, rule.status, rule.portRange.port2 })
      fails("REASON_290", 400, c:create_acl_rule({ network_id = nid, name = "web2", position = 200, action = "DENY",
        protocol = "IP", portRange = { type = "ALL" } }))
      fails("REASON_320", 400, c:create_acl_rule({ network_id = nid, name = "web3", position = 300, action = "DENY",
        protocol = "IP", sourceIpRange = { ipAddress = "10.0.0.999" }, portRange = { type = "ALL" } }))
      -- a position outside 100..500 never leaves the client
      local res, verr = c:create_acl_rule({ network_id = nid, name = "web4", position = 50, action = "DENY",
        protocol = "IP", portRange = { type = "ALL" } })
      assert.is_nil(res)
      assert.same({ "validation", nil }, { verr.kind, verr.status })
      local list = assert(c:list_acl_rules({ net_id = nid }))
      assert.equal("ALL_ACL", list.name)
      assert.equal(rule.id, by(list.AclRule, "name", "web").id)
      assert(c:delete_acl_rule({ net_id = nid, acl_id = rule.id }))
      fails("REASON_280", 400, c:delete_acl_rule({ net_id = nid, acl_id = rule.id }))
      assert.is_nil(by(assert(c:list_acl_rules({ net_id = nid })).AclRule, "id", rule.id))
    end)

    it("allocates NAT addresses and reserves, flags and releases public IP blocks", function()
      local nid = network("nat")
      local cfg = assert(c:get_network_configuration_with_location({ network_id = nid }))
      local prefix = cfg.privateNet:match("^(.*)%.0$")
      local nat = assert(c:create_nat_rule({ net_id = nid, name = "n", sourceIp = prefix .. ".20" }))
      assert.truthy(nat.natIp:match("^%d+%.%d+%.%d+%.%d+$"))
      fails("REASON_240", 400, c:create_nat_rule({ net_id = nid, name = "m", sourceIp = prefix .. ".5" }))
      fails("REASON_272", 400, c:create_nat_rule({ net_id = nid, name = "k", sourceIp = prefix .. ".20" }))
      assert.equal(nat.id, listing("list_nat_rules", { net_id = nid })[1].id)
      fails("REASON_382", 400, c:delete_network({ network_id = nid }))
      assert(c:delete_nat_rule({ network_id = nid, natrule_id = nat.id }))
      fails("REASON_260", 400, c:delete_nat_rule({ network_id = nid, natrule_id = nat.id }))
      assert.same({}, listing("list_nat_rules", { net_id = nid }))

      local old = assert(c:reserve_public_ip_block({ net_id = nid }))
      assert.truthy(old.resultDetail:match("base IP %d+%.%d+%.%d+%.%d+"))
      local st = assert(c:reserve_public_ip_block_with_size({ network_id = nid }))
      local bid = st.info["ipBlock.id"]
      assert.equal("2", st.info["ipBlock.size"])
      local blocks = assert(c:get_network_configuration_with_location({ network_id = nid })).publicIps.IpBlock
      assert.equal(3, #blocks)
      local default = by(blocks, "networkDefault", "true").id
      assert(c:set_server_to_vip_connectivity({ network_id = nid, ipblock_id = bid, serverToVipConnectivity = true }))
      fails("REASON_341", 400, c:set_server_to_vip_connectivity({ network_id = nid, ipblock_id = bid, serverToVipConnectivity = true }))
      fails("REASON_350", 400, c:release_public_ip_block({ network_id = nid, ipblock_id = default }))
      assert(c:release_public_ip_block({ network_id = nid, ipblock_id = bid }))
      fails("REASON_370", 400, c:release_public_ip_block({ network_id = nid, ipblock_id = bid }))
    end)
  end)

  describe("servers", function()
    local nid, web, app

    it("deploys servers, lists them while pending and waits with progress", function()
      nid = network("srv")
      deploy_req(nid, "web1", true)
      deploy_req(nid, "app1", false)
      fails("REASON_320", 400, c:deploy_server({ name = "bad", description = "d",
        vlanResourcePath = "/oec/" .. org .. "/network/" .. nid, imageResourcePath = "/oec/base/image/" .. image("NA1"),
        administratorPassword = "short", isStarted = true }))
      fails("REASON_390", 400, c:deploy_server({ name = "bad", description = "d",
        vlanResourcePath = "/oec/" .. org .. "/network/" .. nid, imageResourcePath = "/oec/base/image/" .. image("NA3"),
        administratorPassword = "Secret-123", isStarted = true }))
      -- the deprecated pending lists, while the deployments run
      assert.truthy(by(listing("list_pending_deployment_servers"), "name", "web1"))
      assert.truthy(by(listing("list_pending_deployment_servers_on_network", { network_id = nid }), "name", "app1"))
      -- (the document names the disks of these legacy lists <additionalDisk>; the simulator writes <disk>)
      assert.truthy(by(listing("list_pending_deployment_servers_on_network_with_disks", { network_id = nid }), "name", "web1"))
      local pending = assert(c:list_servers_with_backup({ name = "web1" })).server[1]
      assert.same({ "PENDING_ADD", "false", "DEPLOY_SERVER" }, { pending.state, pending.isDeployed, pending.status.action })
      fails("REASON_392", 400, nr:reboot_server({ server_id = pending.id }))
      -- refused while busy, by a client that learns the org id in this very call: sent once, never
      -- resent with an empty org id, and the server's own code and text in err
      local wire = {}
      local fresh = client({ log = function(e) if e.event == "response" then wire[#wire + 1] = e.method .. " " .. e.url end end })
      local busy = fails("REASON_392", 400, fresh:delete_server({ server_id = pending.id }))
      assert.equal("An operation is already in progress on Server " .. pending.id .. ".", busy.message)
      assert.equal(2, #wire, table.concat(wire, "\n"))
      assert.truthy(wire[1]:match("^GET .*/oec/0%.9/myaccount$"), wire[1])
      assert.equal("GET " .. sim.endpoints.dimensiondata:gsub("/+$", "") .. "/oec/0.9/" .. org .. "/server/" .. pending.id .. "?delete", wire[2])
      local seen = {}
      local s = ready(nid, "web1", { progress = function(pct) seen[#seen + 1] = pct end })
      assert.same({ "NORMAL", "true", "true" }, { s.state, s.isDeployed, s.isStarted })
      assert.equal(100, seen[#seen])
      assert.truthy(#seen >= 2)
      web = s.id
      app = ready(nid, "app1").id
      assert.equal("false", assert(c:list_servers_with_backup({ id = app })).server[1].isStarted)
      fails("REASON_250", 400, c:list_servers_with_backup({ networkId = "no-such-network" }))
    end)

    it("lists the servers in every documented form", function()
      assert(web and app, "needs the deployed servers")
      local paged = assert(c:list_servers_with_backup({ networkId = nid, orderBy = "name" }))
      assert.same({ "app1", "web1" }, { paged.server[1].name, paged.server[2].name })
      assert.equal(2, paged.paging.totalCount)
      local st = assert(c:list_servers_with_parameters({ networkId = nid, deployed = true }))
      assert.equal(2, #st.serverWithState)
      assert.truthy(by(listing("list_servers"), "id", web))
      assert.equal(2, #listing("list_servers_on_network", { network_id = nid }))
      assert.truthy(by(listing("list_deployed_servers"), "id", app))
      assert.equal(2, #listing("list_deployed_servers_on_network", { network_id = nid }))
      local wd = by(listing("list_deployed_servers_on_network_with_disks", { network_id = nid }), "id", web)
      assert.truthy(wd)
      -- <additionalDisk> lists the disks besides the OS disk (section 5.13): none before Add Storage
      assert.equal(0, #(wd.additionalDisk or {}))
      assert.equal("0", wd.machineSpecification.additionalLocalStorageGb)
      assert.equal(2, #listing("list_deployed_servers_on_network_with_software_labels", { network_id = nid }))
      assert.equal(2, #listing("list_deployed_servers_on_network_with_status", { network_id = nid }))
      assert.same({}, listing("list_pending_deployment_servers_on_network", { network_id = nid }))
      local d = assert(c:get_server_details({ server_id = web }))
      assert.same({ "web1", "true" }, { d.name, d.isStarted })
      fails("REASON_395", 400, c:get_server_details({ server_id = "no-such-server" }))
      fails("REASON_380", 400, c:delete_network({ network_id = nid }))
    end)

    it("runs the power actions, refusing invalid transitions and busy servers", function()
      assert(web, "needs the deployed server")
      fails("REASON_40", 400, c:start_server({ server_id = web }))
      for _, op in ipairs({ "reboot_server", "reset_server", "restart_server", "update_vmware_tools" }) do
        assert(c:call(op, { server_id = web }))
        if op == "reboot_server" then
          -- while the reboot runs: refused with REASON_392 and not retried (no backoff outlasts it);
          -- on a slow machine the reboot may be over already
          local ok, busy = c:reset_server({ server_id = web })
          if not ok then
            fails("REASON_392", 400, ok, busy)
            assert.is_true(busy.details.in_progress)
            idle(web, true)
            assert(c:reset_server({ server_id = web }))
          end
        end
        idle(web, true)
      end
      for _, op in ipairs({ "shutdown_server", "power_off_server", "stop_server" }) do
        assert(c:call(op, { server_id = web }))
        idle(web, false)
        fails("REASON_40", 400, c:call(op, { server_id = web }))
        assert(c:start_server({ server_id = web }))
        idle(web, true)
      end
      fails("REASON_395", 400, c:start_server({ server_id = "no-such-server" }))
    end)

    it("modifies a server, changes its private IP and manages its disks", function()
      assert(app, "needs the deployed server")
      assert(c:modify_server({ server_id = app, name = "app1", description = "edited", cpuCount = 4, memory = 8192 }))
      local s = idle(app)
      assert.same({ "4", "8192", "edited" }, { s.cpuCount, s.memoryMb, s.description })
      fails("REASON_320", 400, c:modify_server({ server_id = app, memory = 1536 })) -- whole GB only
      local prefix = s.privateIp:match("^(.*)%.%d+$")
      assert(c:notify_private_ip_address_change({ server_id = app, privateIp = prefix .. ".77" }))
      assert.equal(prefix .. ".77", assert(c:get_server_details({ server_id = app })).privateIPAddress)
      fails("REASON_240", 400, c:notify_private_ip_address_change({ server_id = app, privateIp = prefix .. ".3" }))
      assert(c:add_storage_to_server({ server_id = app, amount = 20, speed = "ECONOMY" }))
      s = idle(app)
      assert.equal(2, #s.disk)
      local disk = s.disk[2]
      assert.same({ "20", "ECONOMY" }, { disk.sizeGb, disk.speed })
      assert(c:change_server_disk_speed({ server_id = app, disk_id = disk.id, speed = "HIGHPERFORMANCE" }))
      s = idle(app)
      assert.equal("HIGHPERFORMANCE", s.disk[2].speed)
      fails("REASON_696", 400, c:remove_storage_from_server({ server_id = app, disk_id = s.disk[1].id }))
      assert(c:remove_storage_from_server({ server_id = app, disk_id = disk.id }))
      s = idle(app)
      assert.equal(1, #s.disk)
      fails("REASON_394", 400, c:remove_storage_from_server({ server_id = app, disk_id = disk.id }))
      -- no failed deployment to clean: the documented refusal
      fails("REASON_392", 400, c:clean_failed_server_deployment({ server_id = app }))
    end)

    it("creates, lists and deletes an anti-affinity rule", function()
      assert(web and app, "needs the deployed servers")
      local st = assert(c:create_server_anti_affinity_rule({ serverId = { web, app } }))
      assert.equal("RESULT_0", st.resultCode)
      local rid = st.info["antiaffinityrule.id"]
      fails("REASON_692", 400, c:create_server_anti_affinity_rule({ serverId = { web, app } }))
      local rules = assert(c:list_server_anti_affinity_rules({ networkId = nid }))
      assert.equal(1, rules.paging.totalCount)
      assert.equal(rid, rules.antiAffinityRule[1].id)
      assert.equal(2, #rules.antiAffinityRule[1].serverSummary)
      fails("REASON_692", 400, c:delete_server({ server_id = app })) -- stopped, but in the rule
      assert(c:delete_server_anti_affinity_rule({ rule_id = rid }))
      fails("REASON_693", 400, c:delete_server_anti_affinity_rule({ rule_id = rid }))
      assert.equal(0, assert(c:list_server_anti_affinity_rules({ networkId = nid })).paging.totalCount)
    end)

    it("backs a server up: plans, clients, policies, restores", function()
      assert(web and app, "needs the deployed servers")
      fails("REASON_541", 400, c:get_backup_client_types({ server_id = web }))
      local st = assert(c:enable_server_backup({ server_id = web, servicePlan = "Essentials" }))
      assert.truthy(st.info.assetId)
      fails("REASON_550", 400, c:enable_server_backup({ server_id = web, servicePlan = "Essentials" }))
      assert(c:change_backup_service_plan({ server_id = web, servicePlan = "Enterprise" }))
      assert(c:enable_server_backup({ server_id = app, servicePlan = "Advanced" }))
      local types = assert(c:get_backup_client_types({ server_id = web })).backupClientType
      assert.equal("FA.Linux", types[1].type)
      local storage = assert(c:get_storage_policies({ server_id = web })).storagePolicy
      local schedule = assert(c:get_schedule_policies({ server_id = web })).schedulePolicy
      local added = assert(c:add_backup_client({ server_id = web, type = "FA.Linux",
        storagePolicyName = storage[1].name, schedulePolicyName = schedule[1].name,
        alerting = { trigger = "ON_FAILURE", emailAddress = { "ops@example.com", "dev@example.com" } } }))
      local cid = added.info["backupClient.id"]
      assert.truthy(added.info["backupClient.downloadUrl"])
      assert(c:add_backup_client({ server_id = app, type = "FA.Linux", storagePolicyName = storage[2].name,
        schedulePolicyName = schedule[2].name }))
      assert(c:modify_backup_client({ server_id = web, backup_client_id = cid, storagePolicyName = storage[2].name,
        schedulePolicyName = schedule[2].name, alerting = { trigger = "ON_SUCCESS", emailAddress = { "ops@example.com" } } }))
      local details = assert(c:get_server_backup_details({ server_id = web }))
      assert.equal("Enterprise", details.servicePlan)
      assert.same({ cid, storage[2].name, "ON_SUCCESS" }, { details.backupClient[1].id,
        details.backupClient[1].storagePolicyName, details.backupClient[1].alerting.trigger })
      local targets = assert(c:get_servers_for_out_of_place_restore({ server_id = web, backup_client_type = "FA.Linux" })).server
      assert.equal(app, targets[1].id)
      local job = assert(c:restore_file_system_backup_in_place({ server_id = web, backup_client_id = cid }))
      assert.truthy(job.info["backupClient.restoreJobId"])
      local out = assert(c:restore_file_system_backup_out_of_place({ server_id = web, backup_client_id = cid,
        targetServerId = app }))
      assert.truthy(out.info["backupClient.restoreJobId"])
      fails("REASON_545", 400, c:remove_backup_client({ server_id = web, backup_client_id = "no-such-client" }))
      fails("REASON_548", 400, c:disable_server_backup({ server_id = web }))
      assert(c:remove_backup_client({ server_id = web, backup_client_id = cid }))
      assert(c:disable_server_backup({ server_id = web }))
      fails("REASON_541", 400, c:disable_server_backup({ server_id = web }))
      local other = assert(c:get_server_backup_details({ server_id = app })).backupClient[1].id
      assert(c:remove_backup_client({ server_id = app, backup_client_id = other }))
      assert(c:disable_server_backup({ server_id = app }))
    end)

    it("clones a server into a customer image and manages the image", function()
      assert(web, "needs the deployed server")
      assert.is_false(assert(c:does_image_name_exist({ location = "NA1", imageName = "Gold #1" })).Exists)
      assert(c:clone_server_to_customer_image({ server_id = web, clone = "Gold #1", desc = "a b&c" }))
      assert.is_true(assert(c:does_image_name_exist({ location = "NA1", imageName = "Gold #1" })).Exists)
      local p = by(listing("list_pending_deployment_customer_images_in_location", { location_id = "NA1" }), "name", "Gold #1")
      assert.truthy(by(listing("list_pending_deployment_customer_images"), "id", p.id))
      local img = assert(c:wait({ image_id = p.id }, W))
      assert.same({ "Gold #1", "a b&c", "NORMAL" }, { img.name, img.description, img.state })
      idle(web)
      fails("REASON_391", 400, c:clone_server_to_customer_image({ server_id = web, clone = "Gold #1" }))
      assert.truthy(by(listing("list_customer_server_images"), "id", p.id))
      assert.truthy(by(listing("list_deployed_customer_images"), "id", p.id))
      assert.truthy(by(listing("list_deployed_customer_images_in_location", { location_id = "NA1" }), "id", p.id))
      local dep = by(listing("list_deployed_customer_images_with_software_labels", { location_id = "NA1" }), "id", p.id)
      assert.equal(web, dep.sourceServerId)
      assert(c:modify_customer_server_image({ image_id = p.id, description = "golden" }))
      assert.equal("golden", assert(c:get_server_image({ image_id = p.id })).description)
      fails("REASON_40", 400, c:clean_failed_customer_image({ image_id = p.id }))
      assert(c:delete_customer_server_image({ image_id = p.id }))
      fails("REASON_390", 400, c:get_server_image({ image_id = p.id }))
    end)

    it("deletes the servers and then the network", function()
      assert(web and app, "needs the deployed servers")
      fails("REASON_40", 400, c:delete_server({ server_id = web }))
      assert(c:power_off_server({ server_id = web }))
      idle(web, false)
      assert(c:delete_server({ server_id = web }))
      assert(c:delete_server({ server_id = app }))
      assert(c:wait({ server_id = web, deleted = true }, W))
      assert(c:wait({ server_id = app, deleted = true }, W))
      fails("REASON_395", 400, c:delete_server({ server_id = web }))
      assert(c:delete_network({ network_id = nid }))
    end)
  end)

  describe("load balancing", function()
    it("builds real servers, probes, a farm, a persistence profile and VIPs, and tears them down", function()
      local nid = network("lb")
      deploy_req(nid, "lb-a", true)
      deploy_req(nid, "lb-b", true)
      local a, b = ready(nid, "lb-a"), ready(nid, "lb-b")
      local ra = assert(c:create_real_server({ network_id = nid, name = "ra", serverId = a.id, inService = true }))
      local rb = assert(c:create_real_server({ network_id = nid, name = "rb", serverId = b.id, inService = false }))
      assert.truthy(ra.id and rb.id)
      fails("REASON_393", 400, c:create_real_server({ network_id = nid, name = "rc", serverId = a.id, inService = true }))
      fails("REASON_395", 400, c:create_real_server({ network_id = nid, name = "rd", serverId = "no-such-server", inService = true }))
      assert(c:modify_real_server({ network_id = nid, rserver_id = rb.id, inService = true }))
      local reals = listing("list_real_servers", { network_id = nid })
      assert.equal("true", by(reals, "id", rb.id).inService)
      fails("REASON_610", 400, c:modify_real_server({ network_id = nid, rserver_id = "nope", inService = true }))

      local http = assert(c:create_probe({ network_id = nid, name = "http-check", type = "HTTP", probeIntervalSeconds = 30,
        errorCountBeforeServerFail = 3, successCountBeforeServerEnable = 2, failedProbeIntervalSeconds = 30,
        maxReplyWaitSeconds = 5, statusCodeRange = { lowerBound = 200, upperBound = 299 }, requestMethod = "GET",
        port = 80, requestUrl = "/health", matchContent = "ok" }))
      assert.truthy(http.id)
      fails("REASON_320", 400, c:create_probe({ network_id = nid, name = "bad", type = "HTTP", probeIntervalSeconds = 30,
        errorCountBeforeServerFail = 3, successCountBeforeServerEnable = 2, failedProbeIntervalSeconds = 30,
        maxReplyWaitSeconds = 5 })) -- HTTP probes need a statusCodeRange
      assert(c:modify_probe({ network_id = nid, probe_id = http.id, probeIntervalSeconds = 60 }))
      local probes = listing("list_probes", { network_id = nid })
      assert.equal("60", by(probes, "id", http.id).probeIntervalSeconds)
      local tcp = by(probes, "name", "tcp")

      local farm = assert(c:create_server_farm({ network_id = nid, name = "farm1", probeId = tcp and tcp.id or http.id,
        predictor = "ROUND_ROBIN", realServer = { { id = ra.id, port = 80 } } }))
      assert.truthy(farm.id)
      assert.equal(farm.id, by(listing("list_server_farms", { network_id = nid }), "name", "farm1").id)
      assert(c:add_real_server_to_server_farm({ network_id = nid, server_farm_id = farm.id, realServerId = rb.id, realServerPort = 80 }))
      assert(c:add_real_server_to_server_farm({ network_id = nid, server_farm_id = farm.id, realServerId = rb.id, realServerPort = 8080 }))
      assert(c:remove_real_server_from_server_farm({ network_id = nid, server_farm_id = farm.id, realServerId = rb.id, realServerPort = 8080 }))
      fails("REASON_320", 400, c:remove_real_server_from_server_farm({ network_id = nid, server_farm_id = farm.id,
        realServerId = rb.id, realServerPort = 8080 }))
      if tcp then
        assert(c:add_probe_to_server_farm({ network_id = nid, server_farm_id = farm.id, probeId = http.id }))
        assert(c:remove_probe_from_server_farm({ network_id = nid, server_farm_id = farm.id, probeId = http.id }))
      else
        assert(c:remove_probe_from_server_farm({ network_id = nid, server_farm_id = farm.id, probeId = http.id }))
        assert(c:add_probe_to_server_farm({ network_id = nid, server_farm_id = farm.id, probeId = http.id }))
      end
      assert(c:modify_server_farm_predictor({ network_id = nid, server_farm_id = farm.id, predictor = "LEAST_CONNECTIONS" }))
      local details = assert(c:get_server_farm_details({ network_id = nid, server_farm_id = farm.id }))
      assert.same({ "farm1", "LEAST_CONNECTIONS", 2 }, { details.name, details.predictor, #details.realServer })
      assert.equal(1, #details.probe)
      fails("REASON_630", 400, c:get_server_farm_details({ network_id = nid, server_farm_id = "nope" }))

      local prof = assert(c:create_persistence_profile({ network_id = nid, name = "sticky", serverFarmId = farm.id,
        timeoutMinutes = 30, type = "HTTP_COOKIE", cookieName = "SESSION", cookieType = "COOKIE_INSERT" }))
      local ipprof = assert(c:create_persistence_profile({ network_id = nid, name = "by-ip", serverFarmId = farm.id,
        timeoutMinutes = 10, type = "IP_NETMASK", direction = "SOURCE", netmask = "255.255.255.0" }))
      local profiles = listing("list_persistence_profiles", { network_id = nid })
      assert.equal("SESSION", by(profiles, "id", prof.id).cookieName)
      assert.equal("SOURCE", by(profiles, "id", ipprof.id).direction)

      local vip = assert(c:create_vip({ network_id = nid, name = "web", port = 80, protocol = "TCP",
        vipTargetType = "SERVER_FARM", vipTargetId = farm.id, replyToIcmp = true, inService = true }))
      local pvip = assert(c:create_vip({ network_id = nid, name = "web-sticky", ipAddress = "203.0.113.10", port = 443,
        protocol = "TCP", vipTargetType = "PERSISTENCE_PROFILE", vipTargetId = prof.id, replyToIcmp = false, inService = true }))
      fails("REASON_630", 400, c:create_vip({ network_id = nid, name = "x", port = 81, protocol = "TCP",
        vipTargetType = "SERVER_FARM", vipTargetId = "nope", replyToIcmp = true, inService = true }))
      assert(c:modify_vip({ network_id = nid, vip_id = vip.id, inService = false, replyToIcmp = false }))
      local vips = listing("list_vips", { network_id = nid })
      assert.same({ "farm1", "false" }, { by(vips, "id", vip.id).vipTargetName, by(vips, "id", vip.id).inService })
      assert.equal("203.0.113.10", by(vips, "id", pvip.id).ipAddress)

      fails("REASON_635", 400, c:delete_server_farm({ network_id = nid, server_farm_id = farm.id }))
      fails("REASON_675", 400, c:delete_persistence_profile({ network_id = nid, persistence_profile_id = prof.id }))
      fails("REASON_615", 400, c:delete_real_server({ network_id = nid, rserver_id = ra.id }))
      assert(c:delete_vip({ network_id = nid, vip_id = vip.id }))
      assert(c:delete_vip({ network_id = nid, vip_id = pvip.id }))
      fails("REASON_650", 400, c:delete_vip({ network_id = nid, vip_id = vip.id }))
      assert(c:delete_persistence_profile({ network_id = nid, persistence_profile_id = prof.id }))
      assert(c:delete_persistence_profile({ network_id = nid, persistence_profile_id = ipprof.id }))
      fails("REASON_670", 400, c:delete_persistence_profile({ network_id = nid, persistence_profile_id = prof.id }))
      fails("REASON_625", 400, c:delete_probe({ network_id = nid, probe_id = tcp and tcp.id or http.id }))
      assert(c:delete_server_farm({ network_id = nid, server_farm_id = farm.id }))
      assert(c:delete_probe({ network_id = nid, probe_id = http.id }))
      fails("REASON_620", 400, c:delete_probe({ network_id = nid, probe_id = http.id }))
      assert(c:delete_real_server({ network_id = nid, rserver_id = ra.id }))
      assert(c:delete_real_server({ network_id = nid, rserver_id = rb.id }))
      fails("REASON_610", 400, c:delete_real_server({ network_id = nid, rserver_id = ra.id }))
    end)
  end)

  describe("customer images", function()
    it("imports an OVF package, exports and copies the image, waiting in real time", function()
      local img = assert(c:import_customer_image({ ovfPackage = "MyCustomerImage.mf", location = "NA3", name = "Imported 1",
        description = "from OVF" }))
      assert.same({ "PENDING_ADD", "IMAGE_IMPORT" }, { img.state, img.status.action })
      assert.equal(img.id, listing("list_customer_image_imports_in_progress")[1].id)
      fails("REASON_601", 400, nr:delete_customer_server_image({ image_id = img.id }))
      fails("REASON_432", 400, c:import_customer_image({ ovfPackage = "OldImage.mf", location = "NA3", name = "Imported 2" }))
      fails("REASON_431", 400, c:import_customer_image({ ovfPackage = "Missing.mf", location = "NA3", name = "Imported 3" }))
      fails("REASON_391", 400, c:import_customer_image({ ovfPackage = "MyCustomerImage.mf", location = "NA3", name = "Imported 1" }))
      local t0 = core.now()
      local done = assert(c:wait({ image_id = img.id }, W))
      assert.equal("NORMAL", done.state)
      assert.truthy(core.now() - t0 < 10)
      assert.same({}, listing("list_customer_image_imports_in_progress"))

      local ex = assert(c:export_customer_image({ imageId = img.id, ovfPackagePrefix = "imported-export" }))
      assert.equal("imported-export", ex.ovfPackagePrefix)
      fails("REASON_460", 400, c:export_customer_image({ imageId = img.id, ovfPackagePrefix = "imported-export" }))
      assert.equal(ex.id, listing("list_customer_image_exports_in_progress")[1].id)
      assert(c:wait({ image_export_id = ex.id }, W))
      local hist = assert(c:list_customer_image_export_history({ count = 10 }))
      assert.equal(ex.id, hist.imageExportRecord[1].id)
      assert.equal(3, #hist.imageExportRecord[1].outputFile)
      local res, verr = c:list_customer_image_export_history({ count = 1000 }) -- 1..100, checked by the client
      assert.is_nil(res)
      assert.equal("validation", verr.kind)

      local copy = assert(c:copy_customer_image_to_data_center({ sourceImageId = img.id, targetImageName = "Imported copy",
        targetImageDescription = "copied", targetLocation = "NA5", ovfPackagePrefix = "copy" }))
      assert.equal("NA5", copy.targetImage.location)
      fails("REASON_770", 400, c:copy_customer_image_to_data_center({ sourceImageId = img.id, targetImageName = "x",
        targetLocation = "NA3" }))
      assert.equal(copy.imageCopyId, listing("list_customer_image_copying_in_progress")[1].imageCopyId)
      assert(c:wait({ image_copy_id = copy.imageCopyId }, W))
      assert.equal("NORMAL", assert(c:get_server_image({ image_id = copy.targetImage.id })).state)
      assert(c:delete_customer_server_image({ image_id = copy.targetImage.id }))
      assert(c:delete_customer_server_image({ image_id = img.id }))
    end)

    it("copies an OVF package from a remote geography and pages the copies", function()
      local geo = assert(c:list_multi_geography_data_centers_with_key()).geo[1]
      local st = assert(c:copy_ovf_package_from_remote_geo({ sourceGeoId = geo.id, sourceOvfPackage = "web.mf" }))
      local id = st.info["remoteOvfPackageCopy.copyId"]
      fails("REASON_160", 400, c:copy_ovf_package_from_remote_geo({ sourceGeoId = "nowhere", sourceOvfPackage = "web.mf" }))
      local busy = assert(c:list_remote_ovf_package_copying_in_progress({ id = id }))
      assert.equal(1, busy.paging.totalCount)
      assert.equal("COPY_REMOTE_OVF_PACKAGE", busy.ovfCopy[1].status.action)
      assert(c:wait({ remote_copy_id = id }, W))
      local hist = assert(c:list_remote_ovf_package_copy_history({ packageName = "web.mf", pageSize = 1 }))
      assert.equal(id, hist.copyRemoteOvfPackageRecord[1].id)
      fails("REASON_71", 400, c:list_remote_ovf_package_copy_history({ orderBy = "size" }))
    end)
  end)

  describe("cloud files accounts", function()
    it("creates, modifies and deletes a files account", function()
      assert(c:create_files_account({ userName = "files1", password = "password-1", email = "files@example.com",
        allocatedStorageMb = 20480, displayName = "Files One", description = "spec", subAdminUserName = { "viewer" } }))
      fails("REASON_110", 400, c:create_files_account({ userName = "files2", password = "password-1",
        email = "f2@example.com", allocatedStorageMb = 20480, displayName = "x", subAdminUserName = { "nobody" } }))
      local a = by(listing("list_files_accounts"), "userName", "files1")
      assert.same({ "20480", "Files One" }, { a.allocatedStorageMb, a.displayName })
      assert(c:modify_files_account({ files_account_username = "files1", displayName = "Files Uno", allocatedStorageMb = 30720,
        subAdminUserName = { "demo" } }))
      a = by(listing("list_files_accounts"), "userName", "files1")
      assert.same({ "30720", "Files Uno" }, { a.allocatedStorageMb, a.displayName })
      assert(c:delete_files_account({ files_account_username = "files1" }))
      fails("REASON_680", 400, c:delete_files_account({ files_account_username = "files1" }))
    end)
  end)

  describe("reports", function()
    it("returns the CSV reports keyed by their columns", function()
      local today = os.date("!%Y-%m-%d")
      local rep = assert(c:summary_usage_report({ startDate = today, endDate = today }))
      assert.equal("DAY", rep.columns[1])
      assert.equal(3, #rep.rows)
      local det = assert(c:detailed_usage_report({ startDate = today, endDate = today }))
      assert.equal("Name", det.columns[1])
      local su = assert(c:software_units_report({ startDate = today, endDate = today }))
      assert.equal("Software Units", su.columns[#su.columns])
      local log = assert(c:administrator_logs_report({ startDate = today, endDate = today }))
      assert.equal(11, #log.columns)
      assert.truthy(by(log.rows, "Action", "Add Network"))
      local bk = assert(c:backup_usage_report({ datacenterId = "NA1", fromDate = today, toDate = today }))
      assert.equal("BackupClientID", bk.columns[1])
      fails("REASON_520", 400, c:administrator_logs_report({ startDate = "2013-01-01", endDate = "2013-03-01" }))
      fails("REASON_520", 400, c:detailed_usage_report({ startDate = "01/01/2013", endDate = "2013-01-02" }))
    end)
  end)

  describe("paging and filtering (section 1.8)", function()
    it("walks every page of seeded servers with c:each and answers the paging errors", function()
      local seeded, st = sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=servers&n=260")
      assert.equal(200, st)
      local ids = seeded.result.servers
      local net = seeded.result.network_id
      local seen, n = {}, 0
      for s in c:each("list_servers_with_backup", { networkId = net, pageSize = 100 }) do
        n = n + 1
        assert.is_nil(seen[s.id])
        seen[s.id] = true
      end
      assert.equal(260, n)
      for _, id in ipairs(ids) do assert.is_true(seen[id]) end
      local last = assert(c:list_servers_with_backup({ networkId = net, pageSize = 100, pageNumber = 99 }))
      assert.same({ totalCount = 260, pageCount = 60, pageNumber = 3, pageSize = 100 }, last.paging)
      local two = assert(c:list_servers_with_parameters({ _raw = { id = { ids[1], ids[260] } } }))
      assert.equal(2, two.paging.totalCount)
      local cases = {
        { { foo = "1" }, "REASON_70" }, { { pageSize = "abc" }, "REASON_71" },
        { { name = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11" } }, "REASON_72" },
        { { ["name.MIN"] = "a" }, "REASON_73" }, { { deployed = "maybe" }, "REASON_320" },
      }
      for _, case in ipairs(cases) do
        fails(case[2], 400, c:list_servers_with_backup({ _raw = case[1] }))
      end
    end)
  end)

  describe("faults injected through the admin interface", function()
    it("turns maintenance into a retryable REASON_5 (HTTP 503)", function()
      local once = client({ retries = 0, org_id = org })
      local _, st = sim.admin("POST", "/_sim/fault", { provider = "dimensiondata", kind = "maintenance", count = 1 })
      assert.equal(200, st)
      local err = fails("REASON_5", 503, once:list_networks_with_location())
      assert.is_true(err.retryable)
      assert(once:list_networks_with_location())
    end)

    it("resends a refused discovery and a refused state-changing GET as the very same requests", function()
      local nid = network("again")
      local urls = {}
      local cl = client({ log = function(e) if e.event == "response" then urls[#urls + 1] = e.status .. " " .. e.url end end })
      local base = sim.endpoints.dimensiondata:gsub("/+$", "")
      -- REASON_529 (too many requests, a refusal that did nothing), once for the discovery
      assert.equal(200, select(2, sim.admin("POST", "/_sim/fault", { provider = "dimensiondata", kind = "rate_limit", count = 1 })))
      assert(cl:list_networks_with_location())
      -- and once for a delete (a GET that changes state)
      assert.equal(200, select(2, sim.admin("POST", "/_sim/fault", { provider = "dimensiondata", kind = "rate_limit", count = 1 })))
      assert(cl:delete_network({ network_id = nid }))
      sim.admin("DELETE", "/_sim/fault")
      local del = base .. "/oec/0.9/" .. org .. "/network/" .. nid .. "?delete"
      assert.same({ "429 " .. base .. "/oec/0.9/myaccount", "200 " .. base .. "/oec/0.9/myaccount",
        "200 " .. base .. "/oec/0.9/" .. org .. "/networkWithLocation", "429 " .. del, "200 " .. del }, urls)
    end)

    it("retries a rate-limited read after Retry-After (REASON_529)", function()
      local _, st = sim.admin("POST", "/_sim/fault", { provider = "dimensiondata", kind = "rate_limit", count = 1 })
      assert.equal(200, st)
      local t0 = core.now()
      local events = {}
      local cl = client({ org_id = org, log = function(e) events[#events + 1] = e end })
      assert(cl:list_software_labels())
      local retried = false
      for _, e in ipairs(events) do if e.event == "retry" then retried = true end end
      assert.is_true(retried)
      assert.truthy(core.now() - t0 < 5)
      sim.admin("DELETE", "/_sim/fault")
    end)
  end)

  describe("state-changing GET requests", function()
    it("are not sent twice after a bare HTTP 503 (the first may have been carried out)", function()
      local nid = network("resend")
      local events = {}
      local cl = client({ org_id = org, log = function(e) events[#events + 1] = e end })
      local _, st = sim.admin("POST", "/_sim/fault", { provider = "dimensiondata", kind = "http503", count = 1 })
      assert.equal(200, st)
      local res, err = cl:reserve_public_ip_block_with_size({ network_id = nid })
      sim.admin("DELETE", "/_sim/fault")
      local sent = 0
      for _, e in ipairs(events) do
        if e.event == "response" and e.url:find("reserveNewWithSize", 1, true) then sent = sent + 1 end
      end
      -- Dimension Data changes state with GET (?reserveNewWithSize, ?reboot, ?delete, ?clone, ...):
      -- the catalog marks them safe = false, so a 503 is reported, not repeated
      assert.are.equal(1, sent)
      assert.is_nil(res)
      assert.equal(503, err.status)
    end)
  end)

  describe("coverage", function()
    it("called every operation of the catalog over HTTP", function()
      local missing = {}
      for id in pairs(catalog.operations) do
        if not used[id] then missing[#missing + 1] = id end
      end
      table.sort(missing)
      assert.same({}, missing)
    end)
  end)
end)
