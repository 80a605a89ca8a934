-- CenturyLink operations over real HTTP: the nginx-hosted simulator (bin/luacloud-sim) and the
-- default libcurl transport, in JSON and in XML. Every operation of the catalog is called at least
-- once per format (the last test checks that against the catalog, so a new operation needs an HTTP
-- test here), the documented StatusCodes of a representative set of error cases come back as
-- err.code, and queued requests are waited for with c:wait in real time (the simulator's queue is
-- sped up through the admin interface: seed kind "speed"). Pending when nginx is not installed.
local support = require "spec.support.sim"
local luacloud = require "luacloud"
local core = require "luacloud.core"
local catalog = require "luacloud.catalog.centurylink"

local why = support.missing()
if why then -- pending, not failing
  return describe("centurylink over HTTP", function()
    it("needs nginx", function() pending(why .. ": skipping the CenturyLink HTTP specs") end)
  end)
end

local FORMATS = { "json", "xml" }
local SPEED = 40 -- queued jobs take 4 s / SPEED (0.1 s; blueprints 0.2 s)
local WAIT = { interval = 0.03, backoff = 1.2, max_interval = 0.2, timeout = 15 }

-- op ids that reached the simulator and got an answer (success or API error), per format
local exercised = { json = {}, xml = {} }

local sim

local function client(fmt, extra)
  local cr = sim.credentials.centurylink
  local o = { endpoint = sim.endpoints.centurylink, api_key = cr.api_key, password = cr.password,
    account_alias = cr.account_alias, format = fmt, timeout = 10 }
  for k, v in pairs(extra or {}) do o[k] = v end
  local c = assert(luacloud.new("centurylink", o))
  local call = c.call
  rawset(c, "call", function(self, name, params)
    local res, err = call(self, name, params)
    local id = self:resolve(name)
    if id and (res ~= nil or (err and (err.kind == "api" or err.kind == "auth"))) then exercised[fmt][id] = true end
    return res, err
  end)
  return c
end

local function wait(c, target, extra)
  local o = {}
  for k, v in pairs(WAIT) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return c:wait(target, o)
end

-- a queued call, then its completion
local function done(c, res, err)
  assert(res, err)
  assert.equal("number", type(res.RequestID))
  local d, werr = wait(c, res)
  assert(d, werr)
  assert.equal("Succeeded", d.CurrentStatus)
  return d
end

local function expect_code(code, res, err)
  assert.is_nil(res)
  assert.is_table(err, "expected an error with code " .. tostring(code))
  assert.equal(code, err.code, tostring(err))
  return err
end

local function default_group(c, loc)
  local r = assert(c:get_groups { Location = loc or "WA1" })
  for _, g in ipairs(r.HardwareGroups) do if g.Name == "Default Group" then return g end end
  error("no Default Group")
end

local function network(c)
  return assert(c:get_deployable_networks {}).Networks[1].Name
end

local function new_server(c, group_uuid, extra)
  local p = { Template = "UBUNTU-14-64-TEMPLATE", Alias = "APP", HardwareGroupUUID = group_uuid, ServerType = 1,
    ServiceLevel = 2, Cpu = 1, MemoryGB = 2, ExtraDriveGB = 0, Network = network(c), Password = "Secret!234" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return c:create_server(p)
end

local function server(c, name)
  return assert(c:get_server { Name = name }).Servers[1]
end

local function truthy(v) return v == true or v == "true" end

describe("centurylink over HTTP (nginx simulator, libcurl)", function()
  local t_start

  setup(function()
    t_start = core.now()
    sim = support.start()
    local r, st = sim.admin("POST", "/_sim/seed?provider=centurylink&kind=speed&n=" .. SPEED)
    assert.equal(200, st, core.json_encode(r))
  end)

  teardown(function()
    if sim then sim.stop() end
  end)

  for _, fmt in ipairs(FORMATS) do
    describe(fmt, function()
      local c

      before_each(function()
        local _, st = sim.admin("POST", "/_sim/reset?provider=centurylink")
        assert.equal(200, st)
        c = client(fmt)
      end)

      after_each(function()
        if c then c:close() end
      end)

      it("Logon, Logout and the session cookie", function()
        local requests = {}
        c = client(fmt, { log = function(ev) if ev.event == "response" then requests[#requests + 1] = ev end end })
        local r = assert(c:logon { APIKey = "demo-api-key", Password = "demo-password" })
        assert.is_true(r.Success)
        assert.truthy(c.cookies:header() and c.cookies:header():match("Tier3%.API%.Cookie=Seed=%x+"))
        assert.equal("DEMO", assert(c:get_accounts()).Accounts[1].AccountAlias)
        local out = assert(c:logout())
        assert.equal("Logout was successful", out.Message)
        assert.is_nil(c.cookies:header())
        -- the next call logs on by itself
        assert.equal(4, #assert(c:get_locations()).Locations)
        local logons, fmts = 0, {}
        for _, ev in ipairs(requests) do
          if ev.url:find("/REST/Auth/Logon/", 1, true) then logons = logons + 1 end
          local seg = ev.url:match("/REST/[^/]+/[^/]+/(%u+)$")
          if seg then fmts[seg] = true end
          assert.equal(200, ev.status)
        end
        assert.is_true(logons >= 2)
        assert.same({ [fmt:upper()] = true }, fmts)
      end)

      it("StatusCode 100: wrong credentials, expired sessions, calls without a session", function()
        -- wrong password: the automatic Logon fails with 100, kind auth, not retryable
        local bad = client(fmt, { password = "wrong" })
        local err = expect_code(100, bad:get_accounts())
        assert.equal("auth", err.kind)
        assert.is_false(err.retryable)
        -- an explicit Logon with wrong credentials
        err = expect_code(100, c:logon { APIKey = "demo-api-key", Password = "nope" })
        assert.equal("auth", err.kind)
        expect_code(100, c:logon { APIKey = "no-such-key", Password = "demo-password" })
        -- the simulator forgets every session (reset): the client logs on again once, the call succeeds
        assert(c:get_accounts())
        sim.admin("POST", "/_sim/reset?provider=centurylink")
        assert.equal("DEMO", assert(c:get_accounts()).Accounts[1].AccountAlias)
        -- on the wire: a call without the cookie answers 100, a malformed body 3 (Invalid Request Format)
        local hooks = require "luacloud.providers.centurylink"
        local s = core.session { timeout = 5 }
        local function raw(path, body, cookie)
          local resp = assert(s:request { method = "POST", url = sim.endpoints.centurylink .. path,
            headers = { ["Content-Type"] = fmt == "xml" and "text/xml" or "application/json", Cookie = cookie }, body = body })
          assert.equal(200, resp.status)
          return assert(hooks.decode_body(nil, nil, resp.body, fmt)), resp
        end
        local r = raw("/REST/Account/GetAccounts/" .. fmt:upper(), fmt == "xml" and "<GetAccountsRequest />" or "{}")
        assert.equal(100, r.StatusCode)
        assert.is_false(r.Success)
        local _, resp = raw("/REST/Auth/Logon/", fmt == "xml"
          and "<LogonRequest><APIKey>demo-api-key</APIKey><Password>demo-password</Password></LogonRequest>"
          or '{"APIKey":"demo-api-key","Password":"demo-password"}')
        local cookie = assert(resp.headers["set-cookie"]):match("^[^;]+")
        r = raw("/REST/Server/GetServer/" .. fmt:upper(), fmt == "xml" and "<GetServerRequest><Name>" or "{not json", cookie)
        assert.equal(3, r.StatusCode)
        r = raw("/REST/Queue/ListQueueRequests/" .. fmt:upper(), fmt == "xml"
          and "<ListQueueItemsRequest><ItemStatusType>9</ItemStatusType></ListQueueItemsRequest>" or '{"ItemStatusType":9}', cookie)
        assert.equal(901, r.StatusCode)
        s:close()
      end)

      it("error messages read as the server wrote them", function()
        local _, err = c:logon { APIKey = "demo-api-key", Password = "nope" }
        assert.equal(100, err.code)
        assert.truthy(err.message:find("The APIKey & Password combination were not valid", 1, true), err.message)
      end)

      it("an explicit Logon is the client's session: the next call does not log on again", function()
        local logons = 0
        c = client(fmt, { log = function(ev)
          if ev.event == "response" and ev.url:find("/REST/Auth/Logon/", 1, true) then logons = logons + 1 end
        end })
        assert(c:logon { APIKey = "demo-api-key", Password = "demo-password" })
        assert(c:get_accounts())
        assert.equal(1, logons)
      end)

      it("c:logon() without parameters logs on with the client's api_key and password", function()
        local r, err = c:logon()
        assert(r, err)
        assert.is_true(r.Success)
      end)

      it("accounts: create, details, update, suspend, enable; denied and unknown accounts", function()
        local r = assert(c:create_account { ParentAlias = "DEMO", AccountAlias = "NEW1", Location = "WA1",
          BusinessName = "New Co " .. fmt, Address1 = "1 Road", City = "Seattle", StateProvince = "WA", PostalCode = "98101",
          Country = "USA", Telephone = "206-555-0100", ShareParentNetworks = true, BillingResponsibilityID = 2,
          TimeZone = "Pacific Standard Time" })
        assert.equal("NEW1", r.AccountDetails.AccountAlias)
        assert.equal("DEMO", r.AccountDetails.ParentAlias)
        expect_code(1611, c:create_account { ParentAlias = "DEMO", AccountAlias = "NEW1", Location = "WA1",
          BusinessName = "Other", Address1 = "1 Road", City = "Seattle", StateProvince = "WA", PostalCode = "98101",
          Country = "USA", Telephone = "1", ShareParentNetworks = true, BillingResponsibilityID = 2 })
        assert.equal(3, #assert(c:get_accounts()).Accounts)
        local u = assert(c:update_account_details { AccountAlias = "NEW1", BusinessName = "Renamed & Co <x>", Address1 = "2 Road",
          City = "Seattle", StateProvince = "WA", PostalCode = "98101", Country = "USA", Telephone = "1",
          TimeZone = "UTC", ShareParentNetworks = false })
        assert.equal("Renamed & Co <x>", u.AccountDetails.BusinessName)
        done(c, c:suspend_account { AccountAlias = "NEW1" })
        assert.equal(2, tonumber(assert(c:get_account_details { AccountAlias = "NEW1" }).AccountDetails.Status))
        done(c, c:enable_account { AccountAlias = "NEW1" })
        assert.equal(1, tonumber(assert(c:get_account_details { AccountAlias = "NEW1" }).AccountDetails.Status))
        expect_code(101, c:get_account_details { AccountAlias = "XTRN" })
        expect_code(5, c:get_account_details { AccountAlias = "ZZZZ" })
        local cf = assert(c:get_custom_fields { AccountAlias = "DEMO" }).AccountCustomFields
        assert.equal(3, #cf)
        assert.equal(2, #cf[2].AccountCustomFieldOptions)
        local locs = assert(c:get_locations()).Locations
        assert.equal(4, #locs)
        assert.equal(luacloud.array_mt, getmetatable(locs))
      end)

      it("billing figures, and their StatusCodes", function()
        local root = default_group(c)
        local g = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = root.UUID, Name = "Billed" }).Group
        assert.equal(0, tonumber(assert(c:get_group_estimate { HardwareGroupUUID = g.UUID }).MonthlyEstimate))
        done(c, new_server(c, g.UUID, { Cpu = 2, MemoryGB = 4 }))
        local ge = assert(c:get_group_estimate { HardwareGroupUUID = g.UUID })
        local srv = assert(c:get_servers { HardwareGroupUUID = g.UUID }).Servers[1].Name
        local se = assert(c:get_server_estimate { ServerName = srv })
        assert.is_true(tonumber(ge.MonthlyEstimate) > 0)
        assert.equal(tonumber(se.MonthlyEstimate), tonumber(ge.MonthlyEstimate))
        local web = assert(c:get_server_estimate { ServerName = "WA1DEMOWEB01" })
        local sum = assert(c:get_account_summary { AccountAlias = "DEMO" })
        assert.is_true(math.abs(tonumber(sum.MonthlyEstimate)
          - (tonumber(se.MonthlyEstimate) + tonumber(web.MonthlyEstimate))) < 0.01)
        local charges = assert(c:get_server_hourly_charges { ServerName = "WA1DEMOWEB01",
          StartDate = os.date("!%Y-%m-%d", os.time() - 86400) })
        assert.is_table(charges.HourlyCharges)
        assert.is_true(#charges.HourlyCharges >= 1)
        local summaries = assert(c:get_group_summaries {})
        assert.is_true(#summaries.GroupTotals >= 1)
        expect_code(1801, c:get_group_summaries { StartDate = "not a date" })
        expect_code(541, c:get_group_estimate { HardwareGroupUUID = "0123456789abcdef0123456789abcdef" })
        expect_code(1800, c:get_account_summary { AccountAlias = "NOPE" })
        local hist = assert(c:get_billing_history { AccountAlias = "DEMO" })
        assert.is_true(#hist.BillingHistory >= 2)
        local inv = assert(c:get_invoice_details { AccountAlias = "DEMO",
          InvoiceID = hist.BillingHistory[#hist.BillingHistory].InvoiceID })
        assert.is_true(#inv.Invoice.LineItems >= 1)
        expect_code(1805, c:get_invoice_details { AccountAlias = "DEMO", InvoiceID = "NOPE" })
      end)

      it("blueprints and packages, waiting through the Blueprint queue", function()
        local bps = assert(c:get_blueprints { Visibility = 1 }).Blueprints
        assert.equal(2, #bps)
        assert.equal(1, #assert(c:get_blueprints { Visibility = 1, Search = "iis" }).Blueprints)
        assert.equal("LAMP Web Server", assert(c:get_blueprint_details { ID = 1 }).BlueprintDetails.Name)
        local prm = assert(c:get_blueprint_parameters { ID = 1 }).Parameters
        assert.equal(4, #prm)
        assert.equal(2, #prm[4].Options)
        expect_code(5, c:get_blueprint_details { ID = 99 })
        expect_code(1210, c:deploy_blueprint { ID = 1, Parameters = { { Name = "T3.BuildServerTask.Password", Value = "Secret!234" } } })
        expect_code(1212, c:deploy_blueprint { ID = 1, Parameters = {
          { Name = "T3.BuildServerTask.Password", Value = "Secret!234" }, { Name = "T3.BuildServerTask.Network", Value = network(c) },
          { Name = "T3.ScriptTask.CacheSize", Value = "lots" } } })
        local dep = assert(c:deploy_blueprint { ID = 1, LocationAlias = "WA1", Parameters = {
          { Name = "T3.BuildServerTask.Password", Value = "Secret!234" }, { Name = "T3.BuildServerTask.Network", Value = network(c) } } })
        local st = assert(wait(c, { RequestID = dep.RequestID, via = "blueprint", AccountAlias = "DEMO" }))
        assert.equal("Succeeded", st.CurrentStatus)
        assert.equal(1, #st.Servers)
        assert.equal("Active", server(c, st.Servers[1]).Status)
        local ds = assert(c:get_deployment_status { RequestID = dep.RequestID, AccountAlias = "DEMO" })
        assert.equal("Succeeded", ds.CurrentStatus)
        expect_code(5, c:get_deployment_status { RequestID = 99999, AccountAlias = "DEMO" })
        local pub = assert(c:publish_package { Classification = 2, Name = "setup.zip", OperatingSystems = { 35, 41 }, Visibility = 2 })
        assert.equal(1, #assert(c:get_pending_packages()).Packages)
        done(c, pub)
        assert.equal(0, #assert(c:get_pending_packages()).Packages)
        local names = {}
        for _, p in ipairs(assert(c:get_packages { Classification = 2, Visibility = 2 }).Packages) do names[p.Name] = true end
        assert.truthy(names["setup.zip"])
      end)

      it("hardware groups: create, power actions on the subtree, maintenance, archive, restore, delete", function()
        local root = default_group(c)
        local g = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = root.UUID, Name = "Outer",
          Description = "outer " .. fmt }).Group
        assert.equal(root.UUID, g.ParentUUID)
        local sub = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = g.UUID, Name = "Inner" }).Group
        done(c, new_server(c, sub.UUID))
        local name = assert(c:get_servers { HardwareGroupUUID = sub.UUID }).Servers[1].Name
        local function power() return server(c, name).PowerState end
        done(c, c:power_off_hardware_group { UUID = g.UUID })
        assert.equal("Stopped", power())
        done(c, c:power_on_hardware_group { UUID = g.UUID })
        assert.equal("Started", power())
        done(c, c:shutdown_hardware_group { UUID = g.UUID })
        assert.equal("Stopped", power())
        done(c, c:reset_hardware_group { UUID = g.UUID })
        assert.equal("Started", power())
        done(c, c:pause_hardware_group { UUID = g.UUID })
        assert.equal("Paused", power())
        done(c, c:reboot_hardware_group { UUID = g.UUID })
        assert.equal("Started", power())
        assert.equal("Started", server(c, "WA1DEMOWEB01").PowerState) -- outside the group
        done(c, c:hardware_group_maintenance { UUID = g.UUID, Enable = true })
        assert.is_true(truthy(server(c, name).InMaintenanceMode))
        done(c, c:hardware_group_maintenance { UUID = g.UUID, Enable = false })
        -- archive and restore; actions on an archived group answer StatusCode 6
        expect_code(6, c:restore_hardware_group { UUID = g.UUID, ParentUUID = root.UUID })
        done(c, c:archive_hardware_group { UUID = g.UUID })
        expect_code(6, c:reboot_hardware_group { UUID = g.UUID })
        local names = {}
        for _, x in ipairs(assert(c:get_groups { Location = "WA1" }).HardwareGroups) do names[x.Name] = true end
        assert.is_nil(names.Outer)
        done(c, c:restore_hardware_group { UUID = g.UUID, ParentUUID = root.UUID })
        assert.equal("Active", assert(c:get_servers { HardwareGroupUUID = sub.UUID }).Servers[1].Status)
        local system
        for _, x in ipairs(assert(c:get_groups { Location = "WA1" }).HardwareGroups) do
          if truthy(x.IsSystemGroup) and x.Name == "Templates" then system = x end
        end
        assert.truthy(system)
        expect_code(6, c:delete_hardware_group { UUID = system.UUID })
        expect_code(6, c:archive_hardware_group { UUID = system.UUID })
        done(c, c:delete_hardware_group { UUID = g.UUID })
        expect_code(5, c:get_servers { HardwareGroupUUID = g.UUID })
        expect_code(5, c:power_on_hardware_group { UUID = "0123456789abcdef0123456789abcdef" })
      end)

      it("networks and public IP addresses", function()
        local nets = assert(c:get_networks {}).Networks
        assert.is_true(#nets >= 1)
        assert.equal(#nets, #assert(c:get_account_networks { AccountAlias = "DEMO", Location = "WA1" }).Networks)
        local name = "WA1DEMOWEB01"
        done(c, c:add_public_ip_address { ServerName = name, AllowSSH = true, AllowHTTP = true })
        local public
        for _, ip in ipairs(server(c, name).IPAddresses) do if ip.AddressType == "MIP" then public = ip.Address end end
        assert.truthy(public)
        done(c, c:update_public_ip_address { ServerName = name, PublicIPAddress = public, AllowRDP = true })
        expect_code(1000, c:update_public_ip_address { ServerName = name, PublicIPAddress = "1.2.3.4" })
        expect_code(1000, c:add_public_ip_address { ServerName = name, IPAddress = "10.9.9.9" })
        expect_code(5, c:add_public_ip_address { ServerName = "NOSUCHSERVER" })
        local details = assert(c:get_network_details { Name = network(c) }).NetworkDetails
        local claimed = 0
        for _, ip in ipairs(details.IPAddresses) do if truthy(ip.IsClaimed) then claimed = claimed + 1 end end
        assert.equal(1, claimed)
        expect_code(5, c:get_network_details { Name = "vlan_nope" })
      end)

      it("queue: request status, progress while waiting, listing, failed requests", function()
        sim.admin("POST", "/_sim/seed?provider=centurylink&kind=speed&n=8") -- 0.5 s jobs
        local ok, err = pcall(function()
          local r = assert(c:reboot_server { Name = "WA1DEMOWEB01" })
          local st = assert(c:get_request_status { RequestID = r.RequestID }).RequestDetails
          assert.equal(r.RequestID, tonumber(st.RequestID))
          assert.truthy(st.CurrentStatus == "Not Started" or st.CurrentStatus == "Executing", st.CurrentStatus)
          assert.is_true(tonumber(st.PercentComplete) < 100)
          assert.equal(1, #assert(c:list_queue_requests { ItemStatusType = 2 }).Requests)
          local seen = {}
          local d = assert(wait(c, r, { progress = function(p) seen[#seen + 1] = p end }))
          assert.equal("Succeeded", d.CurrentStatus)
          assert.equal(100, tonumber(d.PercentComplete))
          assert.is_true(#seen >= 2)
          for i = 2, #seen do assert.is_true((seen[i] or 0) >= (seen[i - 1] or 0)) end
          assert.equal(100, seen[#seen])
        end)
        sim.admin("POST", "/_sim/seed?provider=centurylink&kind=speed&n=" .. SPEED)
        assert(ok, err)
        assert.equal(0, #assert(c:list_queue_requests { ItemStatusType = 2 }).Requests)
        assert.equal(1, #assert(c:list_queue_requests { ItemStatusType = 3 }).Requests)
        sim.admin("POST", "/_sim/seed?provider=centurylink&kind=failed_requests&n=1")
        local failed = assert(c:list_queue_requests { ItemStatusType = 1 }).Requests[1]
        local _, ferr = wait(c, failed)
        assert.equal("Failed", ferr.code)
        assert.equal(1, #assert(c:list_queue_requests { ItemStatusType = 4 }).Requests)
        expect_code(3, c:get_request_status { RequestID = 99999 })
        local _, verr = c:list_queue_requests { ItemStatusType = 9 }
        assert.equal("validation", verr.kind)
        -- a wait that runs out of time
        sim.admin("POST", "/_sim/seed?provider=centurylink&kind=speed&n=1")
        local slow = assert(c:reboot_server { Name = "WA1DEMOWEB01" })
        local _, terr = c:wait(slow, { interval = 0.05, timeout = 0.2 })
        sim.admin("POST", "/_sim/seed?provider=centurylink&kind=speed&n=" .. SPEED)
        assert.equal("timeout", terr and terr.kind)
      end)

      it("servers: create, list, configure, power actions, maintenance, credentials", function()
        local root = default_group(c)
        local g = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = root.UUID, Name = "Web" }).Group
        local jobs = {}
        for i = 1, 2 do jobs[i] = assert(new_server(c, g.UUID, { Alias = "WEB", Description = "web " .. i })) end
        assert.are_not.equal(jobs[1].RequestID, jobs[2].RequestID)
        local before = assert(c:get_servers { HardwareGroupUUID = g.UUID }).Servers
        assert.equal(2, #before)
        for _, j in ipairs(jobs) do done(c, j) end
        local after = assert(c:get_servers { HardwareGroupUUID = g.UUID }).Servers
        local names = {}
        for _, s in ipairs(after) do
          assert.equal("Active", s.Status)
          assert.equal("Started", s.PowerState)
          names[#names + 1] = s.Name
        end
        table.sort(names)
        assert.same({ "WA1DEMOWEB02", "WA1DEMOWEB03" }, names)
        local each = {}
        for s in c:each("get_all_servers", { HardwareGroupUUID = root.UUID }) do each[#each + 1] = s.Name end
        assert.equal(3, #each)
        assert.equal(3, #assert(c:get_all_servers { Location = "WA1" }).Servers)
        local hier = assert(c:get_all_servers_for_account_hierarchy { Location = "WA1" }).AccountServers
        assert.equal("DEMO", hier[1].AccountAlias)
        assert.equal(3, #hier[1].Servers)
        -- modified in the last day: the two new servers, not the 40 days old WA1DEMOWEB01
        local recent = assert(c:get_servers_by_modified_dates { HardwareGroupUUID = root.UUID }).Servers
        assert.equal(0, #recent)
        assert.equal(2, #assert(c:get_all_servers_by_modified_dates { Location = "WA1" }).Servers)
        local h2 = assert(c:get_all_servers_for_account_hierarchy_by_modified_dates { Location = "WA1",
          BeginDate = "2000-01-01", EndDate = os.date("!%Y-%m-%d", os.time() + 86400) }).AccountServers
        assert.equal(3, #h2[1].Servers)
        expect_code(3, c:get_all_servers_by_modified_dates { BeginDate = "yesterday" })
        -- configure and power actions on WA1DEMOWEB02
        local name = names[1]
        done(c, c:configure_server { Name = name, HardwareGroupUUID = g.UUID, Cpu = 4, MemoryGB = 8 })
        assert.equal(4, tonumber(server(c, name).Cpu))
        assert.equal(8, tonumber(server(c, name).MemoryGB))
        expect_code(501, c:configure_server { Name = name, HardwareGroupUUID = g.UUID, Cpu = 99, MemoryGB = 8 })
        local steps = {
          { "pause_server", "Paused" }, { "power_on_server", "Started" }, { "power_off_server", "Stopped" },
          { "reset_server", "Started" }, { "shutdown_server", "Stopped" }, { "reboot_server", "Started" },
        }
        for _, step in ipairs(steps) do
          done(c, c[step[1]](c, { Name = name }))
          assert.equal(step[2], server(c, name).PowerState, step[1])
        end
        assert.equal(2, #assert(c:get_servers_by_modified_dates { HardwareGroupUUID = g.UUID }).Servers)
        assert.equal(0, #assert(c:get_servers_by_modified_dates { HardwareGroupUUID = g.UUID,
          BeginDate = "2000-01-01", EndDate = "2000-12-31" }).Servers)
        done(c, c:server_maintenance { Name = name, Enable = true })
        assert.is_true(truthy(server(c, name).InMaintenanceMode))
        done(c, c:server_maintenance { Name = name, Enable = false })
        assert.is_false(truthy(server(c, name).InMaintenanceMode))
        local cred = assert(c:get_server_credentials { Name = name })
        assert.equal("Secret!234", cred.Password)
        assert(c:change_password { Name = name, CurrentPassword = cred.Password, NewPassword = "N3w!Passw0rd" })
        assert.equal("N3w!Passw0rd", assert(c:get_server_credentials { Name = name }).Password)
        expect_code(5, c:power_on_server { Name = "NOSUCHSERVER" })
        expect_code(5, c:get_server { Name = "NOSUCHSERVER" })
      end)

      it("CreateServer error StatusCodes, and validation before sending", function()
        local g = default_group(c).UUID
        expect_code(503, new_server(c, g, { Alias = "TOOLONG" }))
        expect_code(501, new_server(c, g, { Cpu = 99 }))
        expect_code(500, new_server(c, g, { MemoryGB = 999 }))
        expect_code(5, new_server(c, "0123456789abcdef0123456789abcdef"))
        expect_code(1414, new_server(c, g, { Password = "weak" }))
        expect_code(1413, new_server(c, g, { ExtraDriveGB = 5000 }))
        expect_code(1510, new_server(c, g, { Network = "no-such-vlan" }))
        local _, err = c:create_server { Alias = "X" }
        assert.equal("validation", err.kind)
        local _, err2 = new_server(c, g, { ServerType = 7 })
        assert.equal("validation", err2.kind)
      end)

      it("disks and snapshots", function()
        local name = "WA1DEMOWEB01"
        done(c, c:snapshot_server { Name = name })
        local snaps = assert(c:get_snapshots { Name = name }).Snapshots
        assert.equal(1, #snaps)
        assert.truthy(snaps[1].Name:match("^%d%d%d%d%-%d%d%-%d%d%-%d%d:%d%d:%d%d$"))
        expect_code(6, c:resize_disk { Name = name, ScsiBusID = "0", ScsiDeviceID = "1", NewSizeGB = 100 })
        assert.is_true(truthy(assert(c:list_disks { Name = name }).HasSnapshot))
        done(c, c:configure_server { Name = name, HardwareGroupUUID = default_group(c).UUID, Cpu = 4, MemoryGB = 8 })
        assert.equal(4, tonumber(server(c, name).Cpu))
        assert(c:revert_to_snapshot { Name = name, SnapshotName = snaps[1].Name })
        assert.equal(2, tonumber(server(c, name).Cpu))
        expect_code(5, c:revert_to_snapshot { Name = name, SnapshotName = "1999-01-01-00:00:00" })
        expect_code(5, c:delete_snapshot { Name = name, SnapshotName = "1999-01-01-00:00:00" })
        assert(c:delete_snapshot { Name = name, SnapshotName = snaps[1].Name })
        assert.equal(0, #assert(c:get_snapshots { Name = name }).Snapshots)
        done(c, c:resize_disk { Name = name, ScsiBusID = "0", ScsiDeviceID = "1", NewSizeGB = 100 })
        local disks = assert(c:list_disks { Name = name, QueryGuestDiskNames = true }).Disks
        assert.equal(2, #disks)
        assert.equal(100, tonumber(disks[2].SizeGB))
        expect_code(6, c:delete_disk { Name = name, ScsiBusID = "0", ScsiDeviceID = "0" })
        done(c, c:delete_disk { Name = name, ScsiBusID = "0", ScsiDeviceID = "1" })
        assert.equal(1, #assert(c:list_disks { Name = name }).Disks)
      end)

      it("archive, restore and delete servers", function()
        local name = "WA1DEMOWEB01"
        local root = default_group(c).UUID
        expect_code(6, c:restore_server { Name = name, HardwareGroupUUID = root })
        done(c, c:archive_server { Name = name })
        expect_code(6, c:power_on_server { Name = name })
        assert.equal(name, assert(c:list_archived_servers { Location = "WA1" }).Servers[1].Name)
        assert.equal(1, #assert(c:get_archive_servers {}).Servers)
        done(c, c:restore_server { Name = name, HardwareGroupUUID = root })
        assert.equal("Active", server(c, name).Status)
        assert.equal(0, #assert(c:get_archive_servers {}).Servers)
        done(c, c:delete_server { Name = name })
        expect_code(5, c:get_server { Name = name })
        expect_code(5, c:delete_server { Name = name })
      end)

      it("templates: convert a server to a template and back, delete a template", function()
        local name = "WA1DEMOWEB01"
        done(c, c:convert_server_to_template { Name = name, Password = "Secret!234", TemplateAlias = "My template" })
        local found
        for _, x in ipairs(assert(c:get_server_templates {}).Templates) do if x.Name == name then found = x end end
        assert.truthy(found)
        assert.equal("My template", found.Description)
        done(c, c:convert_template_to_server { Name = name, Password = "Secret!234",
          HardwareGroupUUID = default_group(c).UUID, Network = network(c) })
        assert.is_false(truthy(server(c, name).IsTemplate))
        done(c, c:convert_server_to_template { Name = name, Password = "Secret!234", TemplateAlias = "T" })
        done(c, c:delete_template { Name = name })
        expect_code(5, c:delete_template { Name = name })
        assert.is_true(#assert(c:list_available_server_templates { Location = "WA1" }).Templates >= 6)
      end)

      it("users: create, read, update, suspend, delete with their StatusCodes", function()
        local u = assert(c:create_user { UserName = "ann@demo.example", AccountAlias = "DEMO", EmailAddress = "ann@demo.example",
          FirstName = "Ann", LastName = "Lee", Roles = { 2, 9 } }).UserDetails
        assert.same({ 2, 9 }, { tonumber(u.Roles[1]), tonumber(u.Roles[2]) })
        expect_code(1701, c:create_user { UserName = "ann@demo.example", AccountAlias = "DEMO",
          EmailAddress = "ann@demo.example", FirstName = "Ann", LastName = "Lee", Roles = { 2 } })
        expect_code(1706, c:create_user { UserName = "bob@demo.example", AccountAlias = "DEMO",
          EmailAddress = "bob@demo.example", FirstName = "Bob", LastName = "B", Roles = { 7 } })
        expect_code(1707, c:create_user { UserName = "bob@demo.example", AccountAlias = "DEMO",
          EmailAddress = "not-an-email", FirstName = "Bob", LastName = "B", Roles = { 2 } })
        local det = assert(c:get_user_details { AccountAlias = "DEMO", UserName = "ann@demo.example" }).UserDetails
        assert.equal("Lee", det.LastName)
        local upd = assert(c:update_user { UserName = "ann@demo.example", EmailAddress = "ann@demo.example",
          FirstName = "Ann", LastName = "Smith", Title = "CTO", Roles = { 8 } }).UserDetails
        assert.equal("Smith", upd.LastName)
        assert.equal("CTO", upd.Title)
        assert(c:suspend_user { UserName = "ann@demo.example" })
        assert(c:unsuspend_user { UserName = "ann@demo.example" })
        assert.equal(2, #assert(c:get_users { AccountAlias = "DEMO" }).Users)
        assert(c:delete_user { UserName = "ann@demo.example" })
        expect_code(1705, c:get_user_details { AccountAlias = "DEMO", UserName = "ann@demo.example" })
        expect_code(1705, c:suspend_user { UserName = "nobody@demo.example" })
      end)

      it("SMTP relay aliases, up to the alias limit", function()
        local a = assert(c:create_alias())
        assert.truthy(a.RelayAlias:match("@t3mx%.com$"))
        assert.truthy(a.Password and #a.Password > 0)
        local list = assert(c:list_aliases()).SMTPRelayAliases
        assert.equal(1, #list)
        assert.equal("Active", list[1].Status)
        assert(c:disable_alias { RelayAlias = a.RelayAlias })
        expect_code(403, c:disable_alias { RelayAlias = a.RelayAlias })
        assert(c:remove_alias { RelayAlias = a.RelayAlias })
        expect_code(402, c:remove_alias { RelayAlias = a.RelayAlias })
        expect_code(5, c:disable_alias { RelayAlias = "nope@t3mx.com" })
        local bad = assert(c:get_invalid_addresses { DomainAlias = "demo.example", StartDate = os.date("!%Y-%m-%d", os.time() - 30 * 86400),
          EndDate = os.date("!%Y-%m-%d", os.time() + 86400) })
        assert.equal(2, #bad.BadAddresses)
        sim.admin("POST", "/_sim/seed?provider=centurylink&kind=alias_limit&n=1")
        local ok, err = pcall(function()
          assert(c:create_alias())
          expect_code(400, c:create_alias())
        end)
        sim.admin("POST", "/_sim/seed?provider=centurylink&kind=alias_limit&n=400")
        assert(ok, err)
      end)

      it("maintenance and rate limit faults come back as HTTP errors; safe calls are retried", function()
        local nr = client(fmt, { retries = 0 })
        assert(nr:get_locations()) -- logged on
        local r, st = sim.admin("POST", "/_sim/fault", { provider = "centurylink", kind = "maintenance", count = 1 })
        assert.equal(200, st, core.json_encode(r))
        local _, err = nr:get_locations()
        assert.is_table(err)
        assert.equal(503, err.status)
        assert.is_true(err.retryable)
        assert.equal(30, err.retry_after)
        -- a safe call is retried after Retry-After (2 s) with the client's default retries
        sim.admin("POST", "/_sim/fault", { provider = "centurylink", kind = "rate_limit", count = 1 })
        local t0 = core.now()
        assert.equal(4, #assert(c:get_locations()).Locations)
        local dt = core.now() - t0
        assert.is_true(dt >= 1.5 and dt < 10, "retried after " .. dt .. " s")
        sim.admin("DELETE", "/_sim/fault")
      end)
    end)
  end

  it("every operation of the catalog was exercised over HTTP, in JSON and in XML", function()
    local all = {}
    for id in pairs(catalog.operations) do all[#all + 1] = id end
    table.sort(all)
    for _, fmt in ipairs(FORMATS) do
      local missing, extra = {}, {}
      for _, id in ipairs(all) do if not exercised[fmt][id] then missing[#missing + 1] = id end end
      for id in pairs(exercised[fmt]) do if not catalog.operations[id] then extra[#extra + 1] = id end end
      assert.same({}, missing, fmt .. ": operations without an HTTP test")
      assert.same({}, extra, fmt .. ": op ids that are not in the catalog")
    end
    assert.is_true(core.now() - t_start < 90, "the HTTP specs took " .. (core.now() - t_start) .. " s")
  end)
end)
