-- Dimension Data operations end to end, in-process: the client (catalog + engine + hooks) talks
-- to the simulator through the `transport` option; time is a fake clock both sides share.
local luacloud = require("luacloud")
local simmod = require("luacloud.sim.dimensiondata")
local core = require("luacloud.core")

local function setup(opts)
  opts = opts or {}
  local clock = { t = 1356998400 } -- 2013-01-01
  local sim = simmod.new({ now = function() return clock.t end, deploy_seconds = 30, action_seconds = 5 })
  local log = {}
  local function transport(req)
    local path = req.url:gsub("^https?://[^/]+", ""):gsub("^/dimensiondata", "")
    local h = {}
    for k, v in pairs(req.headers or {}) do h[k:lower()] = v end
    local status, rh, body = sim:handle({ method = req.method, path = path, headers = h, body = req.body })
    local lh = {}
    for k, v in pairs(rh or {}) do lh[k:lower()] = v end
    log[#log + 1] = { req = req, status = status, body = body }
    return { status = status, headers = lh, body = body }
  end
  local c = assert(luacloud.new("dimensiondata", {
    username = opts.username or "demo", password = opts.password or "demo-password",
    org_id = opts.org_id, endpoint = "http://127.0.0.1:8080/dimensiondata", transport = transport,
    sleep = function(s) clock.t = clock.t + s end, clock = function() return clock.t end,
  }))
  return c, sim, clock, log
end

local function net_id(c, name)
  local nets = assert(c:list_networks_with_location())
  for _, n in ipairs(nets.network) do if n.name == name then return n.id end end
end

local function new_network(c, name, loc)
  local st = assert(c:create_network_with_location({ name = name, location = loc or "NA1" }))
  assert.equal("SUCCESS", st.result)
  return net_id(c, name)
end

local function deploy(c, sim, clock, nid, name, started)
  local _, err = c:deploy_server({ name = name, description = "spec server",
    vlanResourcePath = "/oec/" .. c.org_id .. "/network/" .. nid,
    imageResourcePath = "/oec/base/image/" .. sim.images[1].id,
    administratorPassword = "Secret-123", isStarted = started ~= false })
  assert.is_nil(err)
  local s = assert(c:wait({ name = name, network_id = nid },
    { interval = 5, progress = function() clock.t = clock.t + 5 end }))
  return s
end

describe("dimensiondata client against the simulator", function()
  describe("authentication and organization", function()
    it("sends pre-emptive Basic auth on every request and learns the org id once", function()
      local c, sim, _, log = setup()
      assert(c:list_networks_with_location())
      assert(c:list_software_labels())
      assert.equal(sim.credentials.org_id, c.org_id)
      local myaccount = 0
      for _, e in ipairs(log) do
        assert.equal(core.basic_auth("demo", "demo-password"), e.req.headers.Authorization)
        if e.req.url:match("/myaccount$") then myaccount = myaccount + 1 end
      end
      assert.equal(1, myaccount)
      assert.truthy(log[2].req.url:find("/oec/0.9/" .. sim.credentials.org_id .. "/networkWithLocation", 1, true))
    end)

    it("uses a given org_id without asking for it", function()
      local c, _, _, log = setup({ org_id = simmod.ORG_ID })
      assert(c:list_software_labels())
      assert.equal(1, #log)
      assert.falsy(log[1].req.url:match("myaccount"))
    end)

    it("reports bad credentials as an auth error with HTTP 401", function()
      local c = setup({ password = "wrong" })
      local res, err = c:get_my_account()
      assert.is_nil(res)
      assert.equal("auth", err.kind)
      assert.equal(401, err.status)
    end)

    it("returns the account with its roles as a list", function()
      local c = setup()
      local acc = assert(c:get_my_account())
      assert.equal("demo", acc.userName)
      assert.equal(simmod.ORG_ID, acc.orgId)
      assert.equal("primary administrator", acc.roles.role[1].name)
    end)

    it("refuses a sub-administrator without the role with 403 REASON_140", function()
      local c = setup({ username = "viewer", password = "viewer-password" })
      assert(c:list_networks_with_location())
      local res, err = c:create_network_with_location({ name = "n", location = "NA1" })
      assert.is_nil(res)
      assert.equal("REASON_140", err.code)
      assert.equal(403, err.status)
      local _, rerr = c:summary_usage_report({ startDate = "2013-01-01", endDate = "2013-01-02" })
      assert.equal("REASON_140", rerr.code)
    end)

    it("adds a sub-administrator with roles and rejects a duplicate user name", function()
      local c = setup()
      assert(c:get_my_account())
      local st = assert(c:add_sub_administrator_account({ userName = "ops1", password = "password-1",
        fullName = "Op One", firstName = "Op", lastName = "One", emailAddress = "op@example.com",
        orgId = c.org_id, roles = { role = { { name = "network" }, { name = "server" } } } }))
      assert.equal("SUCCESS", st.result)
      local list = assert(c:list_accounts())
      local found
      for _, a in ipairs(list.Account) do if a.userName == "ops1" then found = a end end
      assert.same({ "network", "server" }, { found.roles.role[1].name, found.roles.role[2].name })
      local _, err = c:add_sub_administrator_account({ userName = "ops1", password = "password-1",
        fullName = "x", firstName = "x", lastName = "x", emailAddress = "x@example.com", orgId = c.org_id })
      assert.equal("REASON_120", err.code)
    end)
  end)

  describe("endpoints", function()
    it("selects the host of a vendor and region from the catalog", function()
      local c = assert(luacloud.new("dimensiondata", { username = "u", password = "p", vendor = "opsource", region = "eu",
        transport = function() end }))
      assert.equal("https://euapi.opsourcecloud.net", c.endpoint)
      local d = assert(luacloud.new("dimensiondata", { username = "u", password = "p", transport = function() end }))
      assert.equal("https://api-na.dimensiondata.com", d.endpoint)
      local _, err = luacloud.new("dimensiondata", { username = "u", password = "p", vendor = "xo", region = "eu",
        transport = function() end })
      assert.equal("validation", err.kind)
    end)

    it("accepts a cloudApiUrl that already ends in /oec/0.9", function()
      local c = assert(luacloud.new("dimensiondata", { username = "u", password = "p",
        endpoint = "https://api-eu.dimensiondata.com/oec/0.9/", transport = function() end }))
      assert.equal("https://api-eu.dimensiondata.com", c.endpoint)
    end)

    it("requires credentials", function()
      local _, err = luacloud.new("dimensiondata", { transport = function() end })
      assert.equal("validation", err.kind)
    end)
  end)

  describe("servers", function()
    it("deploys a server that stays PENDING_ADD until the deployment time has passed", function()
      local c, sim, clock = setup()
      local nid = new_network(c, "web-net")
      assert(c:deploy_server({ name = "web1", description = "d",
        vlanResourcePath = "/oec/" .. c.org_id .. "/network/" .. nid,
        imageResourcePath = "/oec/base/image/" .. sim.images[1].id,
        administratorPassword = "Secret-123", isStarted = true }))
      local list = assert(c:list_servers_with_backup({ name = "web1" }))
      assert.equal(1, #list.server)
      assert.equal("PENDING_ADD", list.server[1].state)
      assert.equal("false", list.server[1].isDeployed)
      assert.equal("DEPLOY_SERVER", list.server[1].status.action)
      clock.t = clock.t + 31
      list = assert(c:list_servers_with_backup({ id = list.server[1].id }))
      assert.equal("NORMAL", list.server[1].state)
      assert.equal("true", list.server[1].isDeployed)
      assert.equal("true", list.server[1].isStarted)
      assert.is_nil(list.server[1].status)
      assert.equal(1, #list.server[1].disk)
    end)

    it("waits for a deployment and reports progress", function()
      local c, sim = setup()
      local nid = new_network(c, "w")
      assert(c:deploy_server({ name = "app", description = "d",
        vlanResourcePath = "/oec/" .. c.org_id .. "/network/" .. nid,
        imageResourcePath = "/oec/base/image/" .. sim.images[1].id,
        administratorPassword = "Secret-123", isStarted = false }))
      local seen = {}
      local s = assert(c:wait({ name = "app" }, { interval = 10, max_interval = 10,
        progress = function(p) seen[#seen + 1] = p end }))
      assert.equal("NORMAL", s.state)
      assert.equal("false", s.isStarted)
      assert.truthy(#seen >= 3)
      assert.equal(100, seen[#seen])
      assert.truthy(seen[2] > seen[1])
    end)

    it("refuses invalid power transitions and work on a busy server", function()
      local c, sim, clock = setup()
      local nid = new_network(c, "p")
      local s = deploy(c, sim, clock, nid, "p1", true)
      local _, err = c:start_server({ server_id = s.id })
      assert.equal("REASON_40", err.code)
      assert(c:power_off_server({ server_id = s.id }))
      local _, busy = c:reboot_server({ server_id = s.id })
      assert.equal("REASON_392", busy.code)
      assert(c:wait({ server_id = s.id, started = false }, { interval = 5 }))
      local _, stopped = c:shutdown_server({ server_id = s.id })
      assert.equal("REASON_40", stopped.code)
    end)

    it("adds storage with the flag and a parameter, and deletes a stopped server", function()
      local c, sim, clock, log = setup()
      local nid = new_network(c, "s")
      local s = deploy(c, sim, clock, nid, "s1", false)
      assert(c:add_storage_to_server({ server_id = s.id, amount = 20, speed = "ECONOMY" }))
      assert.truthy(log[#log].req.url:match("%?addLocalStorage&amount=20&speed=ECONOMY$"))
      local done = assert(c:wait({ server_id = s.id }, { interval = 5 }))
      assert.equal(2, #done.disk)
      assert.equal("20", done.disk[2].sizeGb)
      assert.equal("ECONOMY", done.disk[2].speed)
      assert(c:delete_server({ server_id = s.id }))
      assert(c:wait({ server_id = s.id, deleted = true }, { interval = 5 }))
      local _, err = c:start_server({ server_id = s.id })
      assert.equal("REASON_395", err.code)
    end)

    it("clones a server into a customer image found by name", function()
      local c, sim, clock = setup()
      local nid = new_network(c, "img")
      local s = deploy(c, sim, clock, nid, "gold", true)
      local ex = assert(c:does_image_name_exist({ location = "NA1", imageName = "Gold Image #1" }))
      assert.is_false(ex.Exists)
      assert(c:clone_server_to_customer_image({ server_id = s.id, clone = "Gold Image #1", desc = "a b" }))
      ex = assert(c:does_image_name_exist({ location = "NA1", imageName = "Gold Image #1" }))
      assert.is_true(ex.Exists)
      local pending = assert(c:list_pending_deployment_customer_images_in_location({ location_id = "NA1" }))
      assert.equal(1, #pending.PendingDeployImage)
      local id = pending.PendingDeployImage[1].id
      local img = assert(c:wait({ image_id = id }, { interval = 5 }))
      assert.equal("Gold Image #1", img.name)
      assert.equal("a b", img.description)
      local _, dup = c:clone_server_to_customer_image({ server_id = s.id, clone = "Gold Image #1" })
      assert.equal("REASON_391", dup.code)
    end)

    it("creates and lists anti-affinity rules, with the id from additionalInformation", function()
      local c, sim, clock = setup()
      local nid = new_network(c, "aa")
      local a = deploy(c, sim, clock, nid, "a", true)
      local b = deploy(c, sim, clock, nid, "b", true)
      local st = assert(c:create_server_anti_affinity_rule({ serverId = { a.id, b.id } }))
      assert.equal("RESULT_0", st.resultCode)
      local rid = st.info["antiaffinityrule.id"]
      assert.truthy(rid)
      local rules = assert(c:list_server_anti_affinity_rules({ networkId = nid }))
      assert.equal(1, rules.paging.totalCount)
      assert.equal(rid, rules.antiAffinityRule[1].id)
      assert.equal(2, #rules.antiAffinityRule[1].serverSummary)
      local _, err = c:delete_server({ server_id = a.id })
      assert.equal("REASON_40", err.code) -- still running
    end)
  end)

  describe("paging and filtering (section 1.8)", function()
    local c, sim, ids
    before_each(function()
      c, sim = setup()
      ids = sim:seed("servers", 523).servers
    end)

    it("walks every page with c:each", function()
      local seen, n = {}, 0
      for s in c:each("list_servers_with_backup", { pageSize = 100 }) do
        n = n + 1
        assert.is_nil(seen[s.id])
        seen[s.id] = true
      end
      assert.equal(523, n)
      for _, id in ipairs(ids) do assert.is_true(seen[id]) end
    end)

    it("keeps the paging attributes and returns the last page for a page number past the end", function()
      local r = assert(c:list_servers_with_backup({ pageSize = 100, pageNumber = 3 }))
      assert.same({ totalCount = 523, pageCount = 100, pageNumber = 3, pageSize = 100 }, r.paging)
      assert.equal(ids[201], r.server[1].id) -- default order: created ascending
      local last = assert(c:list_servers_with_backup({ pageSize = 100, pageNumber = 99 }))
      assert.equal(6, last.paging.pageNumber)
      assert.equal(23, #last.server)
      local def = assert(c:list_servers_with_backup())
      assert.equal(250, def.paging.pageSize)
      assert.equal(250, #def.server)
    end)

    it("orders by a field, descending on request", function()
      local r = assert(c:list_servers_with_backup({ orderBy = "name.DESCENDING", pageSize = 3 }))
      assert.same({ "seed-0523", "seed-0522", "seed-0521" }, { r.server[1].name, r.server[2].name, r.server[3].name })
      local _, err = c:list_servers_with_backup({ orderBy = "colour" })
      assert.equal("REASON_71", err.code)
    end)

    it("filters with EQUALS, IN (repeated values) and MIN/MAX on created", function()
      local one = assert(c:list_servers_with_backup({ name = "seed-0007" }))
      assert.equal(1, one.paging.totalCount)
      local two = assert(c:list_servers_with_backup({ _raw = { name = { "seed-0007", "seed-0009" } } }))
      assert.equal(2, two.paging.totalCount)
      local started = assert(c:list_servers_with_backup({ _raw = { deployed = "true" }, pageSize = 1 }))
      assert.equal(523, started.paging.totalCount)
      local none = assert(c:list_servers_with_backup({ ["created.MAX"] = "20000101" }))
      assert.equal(0, none.paging.totalCount)
      assert.same({}, none.server)
      local all = assert(c:list_servers_with_backup({ ["created.MIN"] = "20000101T00:00:00Z", pageSize = 1 }))
      assert.equal(523, all.paging.totalCount)
    end)

    it("answers the documented paging errors", function()
      local cases = {
        { { foo = "1" }, "REASON_70" },
        { { pageSize = "abc" }, "REASON_71" },
        { { pageSize = { "1", "2" } }, "REASON_71" },
        { { name = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11" } }, "REASON_72" },
        { { ["name.MIN"] = "a" }, "REASON_73" },
        { { deployed = "maybe" }, "REASON_320" },
        { { ["created.MIN"] = "yesterday" }, "REASON_320" },
      }
      for _, case in ipairs(cases) do
        local res, err = c:list_servers_with_backup({ _raw = case[1] })
        assert.is_nil(res)
        assert.equal(case[2], err.code)
        assert.equal(400, err.status)
        assert.equal("api", err.kind)
      end
    end)

    it("pages data centers and filters them by location", function()
      local r = assert(c:list_data_centers_with_maintenance_status({ pageSize = 2 }))
      assert.equal(3, r.paging.totalCount)
      assert.equal(2, #r.datacenter)
      local na3 = assert(c:list_data_centers_with_maintenance_status({ location = "NA3" }))
      assert.equal("NA3", na3.datacenter[1].location)
      assert.equal(3, #na3.datacenter[1].hypervisor.diskSpeed)
      local n = 0
      for _ in c:each("list_data_centers_with_maintenance_status", { pageSize = 1 }) do n = n + 1 end
      assert.equal(3, n)
    end)
  end)

  describe("networks", function()
    it("creates networks with unique names and deletes empty ones", function()
      local c = setup()
      local nid = new_network(c, "n1", "NA3")
      local _, dup = c:create_network_with_location({ name = "n1", location = "NA1" })
      assert.equal("REASON_210", dup.code)
      local _, bad = c:create_network_with_location({ name = "n2", location = "XX9" })
      assert.equal("REASON_770", bad.code)
      local inloc = assert(c:list_networks_in_location({ location_id = "NA3" }))
      assert.equal(1, #inloc.network)
      local none = assert(c:list_networks_in_location({ location_id = "NA5" }))
      assert.same({}, none.network)
      assert(c:modify_network({ network_id = nid, description = "renamed net" }))
      local details = assert(c:get_network_details({ net_id = nid }))
      assert.equal("renamed net", details.description)
      local st = assert(c:delete_network({ network_id = nid }))
      assert.equal("Network deleted successfully", st.resultDetail)
      local _, gone = c:get_network_details({ net_id = nid })
      assert.equal("REASON_250", gone.code)
    end)

    it("creates ACL rules, refusing a taken position", function()
      local c = setup()
      local nid = new_network(c, "acl")
      local rule = assert(c:create_acl_rule({ network_id = nid, name = "web", position = 200, action = "PERMIT",
        protocol = "TCP", sourceIpRange = { ipAddress = "10.0.0.0", netmask = "255.0.0.0" },
        portRange = { type = "RANGE", port1 = 8080, port2 = 8090 }, type = "OUTSIDE_ACL" }))
      assert.equal("web", rule.name)
      assert.equal("NORMAL", rule.status)
      assert.equal("8090", rule.portRange.port2)
      local _, taken = c:create_acl_rule({ network_id = nid, name = "web2", position = 200, action = "DENY",
        protocol = "IP", portRange = { type = "ALL" } })
      assert.equal("REASON_290", taken.code)
      local list = assert(c:list_acl_rules({ net_id = nid }))
      assert.equal("ALL_ACL", list.name)
      local names = {}
      for _, r in ipairs(list.AclRule) do names[r.name] = r.id end
      assert.truthy(names.web)
      assert(c:delete_acl_rule({ net_id = nid, acl_id = names.web }))
      local _, gone = c:delete_acl_rule({ net_id = nid, acl_id = names.web })
      assert.equal("REASON_280", gone.code)
    end)

    it("allocates NAT addresses from the public blocks and guards deletion", function()
      local c = setup()
      local nid = new_network(c, "nat")
      local cfg = assert(c:get_network_configuration_with_location({ network_id = nid }))
      local prefix = cfg.privateNet:match("^(.*)%.0$")
      local nat = assert(c:create_nat_rule({ net_id = nid, name = "n", sourceIp = prefix .. ".20" }))
      assert.truthy(nat.natIp:match("^%d+%.%d+%.%d+%.%d+$"))
      local _, reserved = c:create_nat_rule({ net_id = nid, name = "m", sourceIp = prefix .. ".5" })
      assert.equal("REASON_240", reserved.code)
      local _, twice = c:create_nat_rule({ net_id = nid, name = "k", sourceIp = prefix .. ".20" })
      assert.equal("REASON_272", twice.code)
      local _, busy = c:delete_network({ network_id = nid })
      assert.equal("REASON_382", busy.code)
      assert(c:delete_nat_rule({ network_id = nid, natrule_id = nat.id }))
      local rules = assert(c:list_nat_rules({ net_id = nid }))
      assert.same({}, rules.NatRule)
    end)

    it("reserves and releases public IP blocks", function()
      local c = setup()
      local nid = new_network(c, "ip")
      local st = assert(c:reserve_public_ip_block_with_size({ network_id = nid }))
      local bid = st.info["ipBlock.id"]
      assert.truthy(bid)
      assert.equal("2", st.info["ipBlock.size"])
      local cfg = assert(c:get_network_configuration_with_location({ network_id = nid }))
      assert.equal(2, #cfg.publicIps.IpBlock)
      local default
      for _, b in ipairs(cfg.publicIps.IpBlock) do if b.networkDefault == "true" then default = b.id end end
      local _, err = c:release_public_ip_block({ network_id = nid, ipblock_id = default })
      assert.equal("REASON_350", err.code)
      assert(c:set_server_to_vip_connectivity({ network_id = nid, ipblock_id = bid, serverToVipConnectivity = true }))
      local _, same = c:set_server_to_vip_connectivity({ network_id = nid, ipblock_id = bid, serverToVipConnectivity = true })
      assert.equal("REASON_341", same.code)
      assert(c:release_public_ip_block({ network_id = nid, ipblock_id = bid }))
    end)
  end)

  describe("load balancing", function()
    it("builds real servers, a farm and a VIP, and tears them down in reverse order", function()
      local c, sim, clock = setup()
      local nid = new_network(c, "lb")
      local a = deploy(c, sim, clock, nid, "lb-a", true)
      local b = deploy(c, sim, clock, nid, "lb-b", true)
      local ra = assert(c:create_real_server({ network_id = nid, name = "ra", serverId = a.id, inService = true }))
      local rb = assert(c:create_real_server({ network_id = nid, name = "rb", serverId = b.id, inService = true }))
      assert.truthy(ra.id and rb.id)
      local _, twice = c:create_real_server({ network_id = nid, name = "rc", serverId = a.id, inService = true })
      assert.equal("REASON_393", twice.code)
      local probes = assert(c:list_probes({ network_id = nid }))
      local tcp
      for _, p in ipairs(probes.Probe) do if p.name == "tcp" then tcp = p.id end end
      local farm = assert(c:create_server_farm({ network_id = nid, name = "farm1", probeId = tcp,
        predictor = "ROUND_ROBIN", realServer = { { id = ra.id, port = 80 }, { id = rb.id, port = 80 } } }))
      local details = assert(c:get_server_farm_details({ network_id = nid, server_farm_id = farm.id }))
      assert.equal(2, #details.realServer)
      assert.equal("tcp", details.probe[1].name)
      local vip = assert(c:create_vip({ network_id = nid, name = "web", port = 80, protocol = "TCP",
        vipTargetType = "SERVER_FARM", vipTargetId = farm.id, replyToIcmp = true, inService = true }))
      local vips = assert(c:list_vips({ network_id = nid }))
      assert.equal(vip.id, vips.vip[1].id)
      assert.equal("farm1", vips.vip[1].vipTargetName)
      local _, inuse = c:delete_server_farm({ network_id = nid, server_farm_id = farm.id })
      assert.equal("REASON_635", inuse.code)
      local _, member = c:delete_real_server({ network_id = nid, rserver_id = ra.id })
      assert.equal("REASON_615", member.code)
      assert(c:delete_vip({ network_id = nid, vip_id = vip.id }))
      assert(c:delete_server_farm({ network_id = nid, server_farm_id = farm.id }))
      assert(c:delete_real_server({ network_id = nid, rserver_id = ra.id }))
    end)
  end)

  describe("images and backup", function()
    it("imports an OVF package, refusing an expired one, and waits for the image", function()
      local c = setup()
      local pkgs = assert(c:list_ovf_packages())
      local status = {}
      for _, p in ipairs(pkgs.ovfPackage) do status[p.name] = p.status end
      assert.equal("VALID", status["MyCustomerImage.mf"])
      local img = assert(c:import_customer_image({ ovfPackage = "MyCustomerImage.mf", location = "NA3", name = "Imported 1" }))
      assert.equal("PENDING_ADD", img.state)
      assert.equal("IMAGE_IMPORT", img.status.action)
      local busy = assert(c:list_customer_image_imports_in_progress())
      assert.equal(img.id, busy.serverImageWithState[1].id)
      local _, expired = c:import_customer_image({ ovfPackage = "OldImage.mf", location = "NA3", name = "Imported 2" })
      assert.equal("REASON_432", expired.code)
      local _, dup = c:import_customer_image({ ovfPackage = "MyCustomerImage.mf", location = "NA3", name = "Imported 1" })
      assert.equal("REASON_391", dup.code)
      local done = assert(c:wait({ image_id = img.id }, { interval = 5 }))
      assert.equal("NORMAL", done.state)
      local deployed = assert(c:list_deployed_customer_images_with_software_labels({ location_id = "NA3" }))
      assert.equal("Imported 1", deployed.DeployedImageWithSoftwareLabels[1].name)
    end)

    it("exports and copies a customer image, with in-progress lists and history", function()
      local c, _, clock = setup()
      local img = assert(c:import_customer_image({ ovfPackage = "MyCustomerImage.mf", location = "NA1", name = "Base" }))
      assert(c:wait({ image_id = img.id }, { interval = 5 }))
      local ex = assert(c:export_customer_image({ imageId = img.id, ovfPackagePrefix = "base-export" }))
      assert.equal("base-export", ex.ovfPackagePrefix)
      assert.equal(1, #assert(c:list_customer_image_exports_in_progress()).ImageExport)
      assert(c:wait({ image_export_id = ex.id }, { interval = 5 }))
      local hist = assert(c:list_customer_image_export_history({ count = 10 }))
      assert.equal(ex.id, hist.imageExportRecord[1].id)
      assert.equal(3, #hist.imageExportRecord[1].outputFile)
      local copy = assert(c:copy_customer_image_to_data_center({ sourceImageId = img.id, targetImageName = "Base copy",
        targetLocation = "NA5" }))
      assert.equal("NA5", copy.targetImage.location)
      local _, same = c:copy_customer_image_to_data_center({ sourceImageId = img.id, targetImageName = "x",
        targetLocation = "NA1" })
      assert.equal("REASON_770", same.code)
      assert(c:wait({ image_copy_id = copy.imageCopyId }, { interval = 5 }))
      assert.equal("NORMAL", assert(c:get_server_image({ image_id = copy.targetImage.id })).state)
      assert.truthy(clock.t > 1356998400)
    end)

    it("copies an OVF package from a remote geography and pages its history", function()
      local c = setup()
      local geos = assert(c:list_multi_geography_data_centers_with_key())
      local st = assert(c:copy_ovf_package_from_remote_geo({ sourceGeoId = geos.geo[1].id, sourceOvfPackage = "web.mf" }))
      local id = st.info["remoteOvfPackageCopy.copyId"]
      local busy = assert(c:list_remote_ovf_package_copying_in_progress({ id = id }))
      assert.equal(1, busy.paging.totalCount)
      assert.equal("COPY_REMOTE_OVF_PACKAGE", busy.ovfCopy[1].status.action)
      assert(c:wait({ remote_copy_id = id }, { interval = 5 }))
      local hist = assert(c:list_remote_ovf_package_copy_history({ packageName = "web.mf" }))
      assert.equal(id, hist.copyRemoteOvfPackageRecord[1].id)
      local _, bad = c:list_remote_ovf_package_copy_history({ orderBy = "size" })
      assert.equal("REASON_71", bad.code)
    end)

    it("enables backup, adds a client from the documented policies and restores", function()
      local c, sim, clock = setup()
      local nid = new_network(c, "bk")
      local s = deploy(c, sim, clock, nid, "bk1", true)
      local _, off = c:get_backup_client_types({ server_id = s.id })
      assert.equal("REASON_541", off.code)
      local st = assert(c:enable_server_backup({ server_id = s.id, servicePlan = "Enterprise" }))
      assert.truthy(st.info.assetId)
      local types = assert(c:get_backup_client_types({ server_id = s.id }))
      local storage = assert(c:get_storage_policies({ server_id = s.id }))
      local schedule = assert(c:get_schedule_policies({ server_id = s.id }))
      local added = assert(c:add_backup_client({ server_id = s.id, type = types.backupClientType[1].type,
        storagePolicyName = storage.storagePolicy[1].name, schedulePolicyName = schedule.schedulePolicy[1].name,
        alerting = { trigger = "ON_FAILURE", emailAddress = { "ops@example.com", "dev@example.com" } } }))
      local cid = added.info["backupClient.id"]
      assert.truthy(added.info["backupClient.downloadUrl"])
      local details = assert(c:get_server_backup_details({ server_id = s.id }))
      assert.equal("Enterprise", details.servicePlan)
      assert.equal(cid, details.backupClient[1].id)
      assert.same({ "ops@example.com", "dev@example.com" }, details.backupClient[1].alerting.emailAddress)
      local job = assert(c:restore_file_system_backup_in_place({ server_id = s.id, backup_client_id = cid }))
      assert.truthy(job.info["backupClient.restoreJobId"])
      local _, busy = c:disable_server_backup({ server_id = s.id })
      assert.equal("REASON_548", busy.code)
      assert(c:remove_backup_client({ server_id = s.id, backup_client_id = cid }))
      assert(c:disable_server_backup({ server_id = s.id }))
    end)
  end)

  describe("reports", function()
    it("returns CSV rows keyed by the documented columns", function()
      local c = setup()
      new_network(c, "r")
      local rep = assert(c:summary_usage_report({ startDate = "2013-01-01", endDate = "2013-01-03" }))
      assert.equal(20, #rep.columns)
      assert.equal("DAY", rep.columns[1])
      assert.equal(9, #rep.rows) -- 3 days x 3 data centers
      assert.equal("01/01/2013", rep.rows[1].DAY)
      local log = assert(c:administrator_logs_report({ startDate = "2013-01-01", endDate = "2013-01-02" }))
      assert.equal(11, #log.columns)
      assert.equal("NETWORK", log.rows[1].Type)
      local _, long = c:administrator_logs_report({ startDate = "2013-01-01", endDate = "2013-03-01" })
      assert.equal("REASON_520", long.code)
      local _, bad = c:detailed_usage_report({ startDate = "01/01/2013", endDate = "2013-01-02" })
      assert.equal("REASON_520", bad.code)
    end)
  end)

  describe("faults", function()
    it("turns whole-system maintenance into a retryable REASON_5 (HTTP 503)", function()
      local c, sim, _, log = setup({ org_id = simmod.ORG_ID })
      sim.maintenance = true
      local res, err = c:list_networks_with_location()
      assert.is_nil(res)
      assert.equal("REASON_5", err.code)
      assert.equal(503, err.status)
      assert.is_true(err.retryable)
      -- the GET is retried after Retry-After: 60; a second 60 s wait would end past the
      -- default deadline (2 x the 60 s timeout), so the call stops there and says so
      assert.equal(2, #log)
      assert.equal("deadline", err.gave_up)
      local status, _, body = sim:fault("maintenance")
      assert.equal(503, status)
      assert.truthy(body:find("REASON_5", 1, true))
    end)

    it("answers REASON_51 for server work in a data center under maintenance", function()
      local c, sim = setup()
      local nid = new_network(c, "m")
      sim.dc_maintenance.NA1 = true
      local _, err = c:deploy_server({ name = "x", description = "d",
        vlanResourcePath = "/oec/" .. c.org_id .. "/network/" .. nid,
        imageResourcePath = "/oec/base/image/" .. sim.images[1].id,
        administratorPassword = "Secret-123", isStarted = true })
      assert.equal("REASON_51", err.code)
      assert(c:list_networks_with_location()) -- networks are not affected
      local status, _, body = sim:fault("dc_maintenance")
      assert.equal(400, status)
      assert.truthy(body:find("REASON_51", 1, true))
    end)
  end)

  describe("simulator wire behaviour", function()
    local auth = { authorization = core.basic_auth("demo", "demo-password") }
    local org = simmod.ORG_ID

    it("accepts the document's and the live namespace, and rejects others with REASON_60", function()
      local sim = simmod.new({ now = function() return 0 end })
      local function post(ns)
        return sim:handle({ method = "POST", path = "/oec/0.9/" .. org .. "/networkWithLocation", headers = auth,
          body = '<NewNetworkWithLocation xmlns="' .. ns .. '"><name>n' .. #ns .. '</name><location>NA1</location></NewNetworkWithLocation>' })
      end
      assert.equal(200, (post("http://oec.api.opsource.net/schemas/network")))
      assert.equal(200, (post("http://oec.api.opscale.net/schemas/network")))
      local status, _, body = post("http://example.com/other/network")
      assert.equal(400, status)
      assert.truthy(body:find("REASON_60", 1, true))
    end)

    it("varies the namespace prefix of responses", function()
      local sim = simmod.new({ now = function() return 0 end })
      local prefixes = {}
      for _ = 1, 40 do
        local _, _, body = sim:handle({ method = "GET", path = "/oec/0.9/myaccount", headers = auth })
        prefixes[body:match("<(%w*:?)Account") or "?"] = true
      end
      local n = 0
      for _ in pairs(prefixes) do n = n + 1 end
      assert.truthy(n >= 3)
    end)

    it("answers 401 without credentials and REASON_100 for a foreign org id", function()
      local sim = simmod.new({ now = function() return 0 end })
      assert.equal(401, (sim:handle({ method = "GET", path = "/oec/0.9/myaccount", headers = {} })))
      local status, _, body = sim:handle({ method = "GET", path = "/oec/0.9/00000000-0000-0000-0000-000000000000/networkWithLocation", headers = auth })
      assert.equal(400, status)
      assert.truthy(body:find("REASON_100", 1, true))
    end)
  end)
end)
