-- CenturyLink operations in-process against the simulator (transport option), in JSON and XML:
-- the Logon cookie session, queued requests, the lifecycle of groups and servers, and the
-- documented StatusCodes of the error cases.
local luacloud = require "luacloud"
local core = require "luacloud.core"
local Sim = require "luacloud.sim.centurylink"

local T0 = 1354000000 -- 2012-11-27T07:06:40Z

-- A simulator with a controlled clock, and clients whose transport calls it in-process.
local function world()
  local w = { t = T0, requests = {} }
  w.sim = Sim.new { now = function() return w.t end }
  function w.transport(req)
    w.requests[#w.requests + 1] = req
    local h = {}
    for k, v in pairs(req.headers or {}) do h[k:lower()] = v end
    local status, rh, body = w.sim:handle { method = req.method, path = req.url:gsub("^https?://[^/]+", ""),
      headers = h, body = req.body }
    local out = {}
    for k, v in pairs(rh) do out[k:lower()] = v end
    return { status = status, headers = out, body = body }
  end
  function w.client(fmt, extra)
    local o = { api_key = "demo-api-key", password = "demo-password", endpoint = "http://sim.test", format = fmt,
      transport = w.transport, clock = function() return w.t end, sleep = function(s) w.t = w.t + s end, retries = 0 }
    for k, v in pairs(extra or {}) do o[k] = v end
    return assert(luacloud.new("centurylink", o))
  end
  function w.count(pattern)
    local n = 0
    for _, r in ipairs(w.requests) do if r.url:find(pattern, 1, true) then n = n + 1 end end
    return n
  end
  return w
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

local function expect_code(code, res, err)
  assert.is_nil(res)
  assert.is_table(err)
  assert.equal(code, err.code)
  return err
end

describe("centurylink auth", function()
  it("logs on once with the JSON body {APIKey, Password} and sends the session cookie afterwards", function()
    local w = world()
    local c = w.client("json")
    assert(c:get_accounts())
    assert(c:get_locations())
    assert.equal(1, w.count("/REST/Auth/Logon/"))
    local logon = w.requests[1]
    assert.same({ APIKey = "demo-api-key", Password = "demo-password" }, core.json_decode(logon.body))
    assert.is_nil(logon.headers.Cookie)
    local cookie = w.requests[2].headers.Cookie
    assert.truthy(cookie and cookie:match("^Tier3%.API%.Cookie=Seed=%x+$"))
    assert.equal(cookie, w.requests[3].headers.Cookie)
  end)

  it("rejects wrong credentials with StatusCode 100 and does not retry", function()
    local w = world()
    local c = w.client("json", { password = "wrong" })
    local err = expect_code(100, c:get_accounts())
    assert.equal("auth", err.kind)
    assert.equal(1, w.count("/REST/Auth/Logon/"))
    assert.equal(0, w.count("/REST/Account/GetAccounts/"))
  end)

  it("logs on again once when a call answers StatusCode 100, and the call succeeds", function()
    for _, fmt in ipairs { "json", "xml" } do
      local w = world()
      local c = w.client(fmt)
      assert(c:get_accounts())
      w.sim:expire_sessions()
      local r = assert(c:get_accounts())
      assert.equal("DEMO", r.Accounts[1].AccountAlias)
      assert.equal(2, w.count("/REST/Auth/Logon/"))
      assert.equal(3, w.count("/REST/Account/GetAccounts/"))
    end
  end)

  it("Logout ends the session: the next call logs on again", function()
    local w = world()
    local c = w.client("json")
    assert(c:get_locations())
    local r = assert(c:logout())
    assert.equal("Logout was successful", r.Message)
    assert.is_nil(c.cookies:header())
    assert(c:get_locations())
    assert.equal(2, w.count("/REST/Auth/Logon/"))
  end)

  it("needs api_key and password", function()
    local c, err = luacloud.new("centurylink", { api_key = "k" })
    assert.is_nil(c)
    assert.equal("validation", err.kind)
  end)
end)

for _, fmt in ipairs { "json", "xml" } do
  describe("centurylink ops (" .. fmt .. ")", function()
    local w, c
    before_each(function()
      w = world()
      c = w.client(fmt)
    end)

    it("uses the format segment and Content-Type of the format", function()
      assert(c:get_locations())
      local req = w.requests[#w.requests]
      assert.equal("http://sim.test/REST/Account/GetLocations/" .. fmt:upper(), req.url)
      assert.equal(fmt == "xml" and "text/xml" or "application/json; charset=utf-8", req.headers["Content-Type"])
      if fmt == "xml" then assert.truthy(req.body == "" or req.body:match("^<")) end
    end)

    it("walks the servers of a group with c:each, in both formats alike", function()
      local root = default_group(c)
      local names = {}
      for s in c:each("get_all_servers", { HardwareGroupUUID = root.UUID }) do names[#names + 1] = s.Name end
      assert.same({ "WA1DEMOWEB01" }, names)
      local s = assert(c:get_server { Name = "WA1DEMOWEB01" }).Servers[1]
      assert.equal(2, s.Cpu)
      assert.equal(4, s.MemoryGB)
      assert.is_false(s.IsTemplate)
    end)

    it("honours a per-call XML format segment", function()
      local r = assert(c:get_locations { format = "XML" })
      assert.equal(4, #r.Locations)
      local req = w.requests[#w.requests]
      assert.equal("http://sim.test/REST/Account/GetLocations/XML", req.url)
      assert.equal("text/xml", req.headers["Content-Type"])
    end)

    it("creates a group and two servers, waits for the queue and lists them", function()
      local root = default_group(c)
      local g = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = root.UUID, Name = "Web" }).Group
      assert.equal("Web", g.Name)
      assert.equal(root.UUID, g.ParentUUID)
      local jobs = {}
      for i = 1, 2 do
        local r = assert(new_server(c, g.UUID, { Alias = "WEB" }))
        assert.equal("number", type(r.RequestID))
        jobs[i] = r
      end
      assert.are_not.equal(jobs[1].RequestID, jobs[2].RequestID)
      -- under construction until the queue finishes
      local before = assert(c:get_servers { HardwareGroupUUID = g.UUID })
      assert.equal(2, #before.Servers)
      assert.equal("UnderConstruction", before.Servers[1].Status)
      local seen = {}
      for _, job in ipairs(jobs) do
        local details = assert(c:wait(job, { interval = 1, progress = function(p) seen[#seen + 1] = p end }))
        assert.equal("Succeeded", details.CurrentStatus)
        assert.equal(100, tonumber(details.PercentComplete))
      end
      for i = 2, #seen do assert.is_true((seen[i] or 0) >= (seen[i - 1] or 0)) end
      assert.equal(100, seen[#seen])
      local after = assert(c:get_servers { HardwareGroupUUID = g.UUID })
      local names = {}
      for _, s in ipairs(after.Servers) do
        assert.equal("Active", s.Status)
        assert.equal("Started", s.PowerState)
        assert.equal(1, #s.IPAddresses)
        names[s.Name] = true
      end
      assert.truthy(names.WA1DEMOWEB01 == nil and names.WA1DEMOWEB02 and names.WA1DEMOWEB03)
      -- GetAllServers is deep: the Default Group subtree holds them as well
      local all = assert(c:get_all_servers { HardwareGroupUUID = root.UUID })
      assert.equal(3, #all.Servers)
      -- the Blueprint status call reports the server a CreateServer request built
      local ds = assert(c:get_deployment_status { RequestID = jobs[1].RequestID, AccountAlias = "DEMO" })
      assert.equal("Succeeded", ds.CurrentStatus)
      assert.same({ "WA1DEMOWEB02" }, { ds.Servers[1] })
    end)

    it("group power operations apply to the servers of the group and its sub groups", function()
      local root = default_group(c)
      local g = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = root.UUID, Name = "Outer" }).Group
      local sub = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = g.UUID, Name = "Inner" }).Group
      assert(c:wait(assert(new_server(c, sub.UUID))))
      assert(c:wait(assert(c:power_off_hardware_group { UUID = g.UUID })))
      local s = assert(c:get_servers { HardwareGroupUUID = sub.UUID }).Servers[1]
      assert.equal("Stopped", s.PowerState)
      assert(c:wait(assert(c:power_on_hardware_group { UUID = g.UUID })))
      assert(c:wait(assert(c:pause_hardware_group { UUID = g.UUID })))
      assert.equal("Paused", assert(c:get_server { Name = s.Name }).Servers[1].PowerState)
      -- the server outside the group is untouched
      assert.equal("Started", assert(c:get_server { Name = "WA1DEMOWEB01" }).Servers[1].PowerState)
      assert(c:wait(assert(c:hardware_group_maintenance { UUID = g.UUID, Enable = true })))
      local m = assert(c:get_server { Name = s.Name }).Servers[1].InMaintenanceMode
      assert.is_true(m == true or m == "true")
    end)

    it("archives and restores a group; actions on an archived group answer StatusCode 6", function()
      local root = default_group(c)
      local g = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = root.UUID, Name = "Old" }).Group
      assert(c:wait(assert(new_server(c, g.UUID))))
      expect_code(6, c:restore_hardware_group { UUID = g.UUID, ParentUUID = root.UUID })
      assert(c:wait(assert(c:archive_hardware_group { UUID = g.UUID })))
      expect_code(6, c:reboot_hardware_group { UUID = g.UUID })
      local archived = assert(c:get_archive_servers {})
      assert.equal(1, #archived.Servers)
      assert(c:wait(assert(c:restore_hardware_group { UUID = g.UUID, ParentUUID = root.UUID })))
      assert.equal("Active", assert(c:get_servers { HardwareGroupUUID = g.UUID }).Servers[1].Status)
      assert(c:wait(assert(c:delete_hardware_group { UUID = g.UUID })))
      expect_code(5, c:get_servers { HardwareGroupUUID = g.UUID })
    end)

    it("snapshots a server, reverts and deletes the snapshot; disks cannot change while it exists", function()
      local name = "WA1DEMOWEB01"
      assert(c:wait(assert(c:snapshot_server { Name = name })))
      local snaps = assert(c:get_snapshots { Name = name }).Snapshots
      assert.equal(1, #snaps)
      assert.truthy(snaps[1].Name:match("^%d%d%d%d%-%d%d%-%d%d%-%d%d:%d%d:%d%d$"))
      assert.equal("Snapshot (" .. snaps[1].Name .. ")", snaps[1].Description)
      expect_code(6, c:resize_disk { Name = name, ScsiBusID = "0", ScsiDeviceID = "1", NewSizeGB = 100 })
      local disks = assert(c:list_disks { Name = name })
      assert.is_true(disks.HasSnapshot == true or disks.HasSnapshot == "true")
      -- configure after the snapshot, then revert to it
      assert(c:wait(assert(c:configure_server { Name = name, HardwareGroupUUID = default_group(c).UUID, Cpu = 4, MemoryGB = 8 })))
      assert.equal(4, tonumber(assert(c:get_server { Name = name }).Servers[1].Cpu))
      assert(c:revert_to_snapshot { Name = name, SnapshotName = snaps[1].Name })
      assert.equal(2, tonumber(assert(c:get_server { Name = name }).Servers[1].Cpu))
      expect_code(5, c:delete_snapshot { Name = name, SnapshotName = "1999-01-01-00:00:00" })
      assert(c:delete_snapshot { Name = name, SnapshotName = snaps[1].Name })
      assert.equal(0, #assert(c:get_snapshots { Name = name }).Snapshots)
      assert(c:wait(assert(c:resize_disk { Name = name, ScsiBusID = "0", ScsiDeviceID = "1", NewSizeGB = 100 })))
      local d = assert(c:list_disks { Name = name }).Disks
      assert.equal(100, tonumber(d[2].SizeGB))
      expect_code(6, c:delete_disk { Name = name, ScsiBusID = "0", ScsiDeviceID = "0" })
    end)

    it("server power, archive, restore and delete", function()
      local name = "WA1DEMOWEB01"
      assert(c:wait(assert(c:shutdown_server { Name = name })))
      assert.equal("Stopped", assert(c:get_server { Name = name }).Servers[1].PowerState)
      expect_code(6, c:restore_server { Name = name, HardwareGroupUUID = default_group(c).UUID })
      assert(c:wait(assert(c:archive_server { Name = name })))
      expect_code(6, c:power_on_server { Name = name })
      local listed = assert(c:list_archived_servers { Location = "WA1" }).Servers
      assert.equal(name, listed[1].Name)
      assert(c:wait(assert(c:restore_server { Name = name, HardwareGroupUUID = default_group(c).UUID })))
      assert(c:wait(assert(c:power_on_server { Name = name })))
      assert.equal("Started", assert(c:get_server { Name = name }).Servers[1].PowerState)
      local cred = assert(c:get_server_credentials { Name = name })
      assert.equal("root", cred.Username)
      assert(c:change_password { Name = name, CurrentPassword = cred.Password, NewPassword = "N3w!Passw0rd" })
      assert.equal("N3w!Passw0rd", assert(c:get_server_credentials { Name = name }).Password)
      assert(c:wait(assert(c:delete_server { Name = name })))
      expect_code(5, c:get_server { Name = name })
    end)

    it("CreateServer error StatusCodes", function()
      local g = default_group(c).UUID
      expect_code(503, new_server(c, g, { Alias = "TOOLONG" }))
      expect_code(501, new_server(c, g, { Cpu = 99 }))
      expect_code(500, new_server(c, g, { MemoryGB = 999 }))
      expect_code(5, new_server(c, "0123456789abcdef0123456789abcdef"))
      expect_code(1414, new_server(c, g, { Password = "weak" }))
      expect_code(1413, new_server(c, g, { ExtraDriveGB = 5000 }))
      expect_code(1510, new_server(c, g, { Network = "no-such-vlan" }))
      -- client-side validation: nothing is sent
      local before = #w.requests
      local _, err = c:create_server { Alias = "X" }
      assert.equal("validation", err.kind)
      local _, err2 = new_server(c, g, { ServerType = 7 })
      assert.equal("validation", err2.kind)
      assert.equal(before + 1, #w.requests) -- only the GetDeployableNetworks of new_server
    end)

    it("templates: convert a server to a template and back, delete a template", function()
      local name = "WA1DEMOWEB01"
      assert(c:wait(assert(c:convert_server_to_template { Name = name, Password = "Secret!234", TemplateAlias = "My template" })))
      local t = assert(c:get_server_templates {}).Templates
      local found
      for _, x in ipairs(t) do if x.Name == name then found = x end end
      assert.truthy(found)
      assert.equal("My template", found.Description)
      assert(c:wait(assert(c:convert_template_to_server { Name = name, Password = "Secret!234",
        HardwareGroupUUID = default_group(c).UUID, Network = network(c) })))
      assert.equal("false", tostring(assert(c:get_server { Name = name }).Servers[1].IsTemplate))
      assert(c:wait(assert(c:convert_server_to_template { Name = name, Password = "Secret!234", TemplateAlias = "T" })))
      assert(c:wait(assert(c:delete_template { Name = name })))
      expect_code(5, c:delete_template { Name = name })
      local avail = assert(c:list_available_server_templates { Location = "WA1" }).Templates
      assert.is_true(#avail >= 6)
    end)

    it("public IP addresses: add, update, unknown address", function()
      local name = "WA1DEMOWEB01"
      assert(c:wait(assert(c:add_public_ip_address { ServerName = name, AllowSSH = true, AllowHTTP = true })))
      local ips = assert(c:get_server { Name = name }).Servers[1].IPAddresses
      local public
      for _, ip in ipairs(ips) do if ip.AddressType == "MIP" then public = ip.Address end end
      assert.truthy(public)
      assert(c:wait(assert(c:update_public_ip_address { ServerName = name, PublicIPAddress = public, AllowRDP = true })))
      expect_code(1000, c:update_public_ip_address { ServerName = name, PublicIPAddress = "1.2.3.4" })
      expect_code(1000, c:add_public_ip_address { ServerName = name, IPAddress = "10.9.9.9" })
      expect_code(5, c:add_public_ip_address { ServerName = "NOSUCHSERVER" })
      local details = assert(c:get_network_details { Name = network(c) }).NetworkDetails
      local claimed = 0
      for _, ip in ipairs(details.IPAddresses) do if tostring(ip.IsClaimed) == "true" then claimed = claimed + 1 end end
      assert.equal(1, claimed)
      expect_code(5, c:get_network_details { Name = "vlan_nope" })
    end)

    it("billing figures follow the servers", function()
      local root = default_group(c)
      local g = assert(c:create_hardware_group { AccountAlias = "DEMO", ParentUUID = root.UUID, Name = "Billed" }).Group
      local empty = assert(c:get_group_estimate { HardwareGroupUUID = g.UUID })
      assert.equal(0, tonumber(empty.MonthlyEstimate))
      assert(c:wait(assert(new_server(c, g.UUID, { Cpu = 2, MemoryGB = 4 }))))
      local ge = assert(c:get_group_estimate { HardwareGroupUUID = g.UUID })
      local srv = assert(c:get_servers { HardwareGroupUUID = g.UUID }).Servers[1].Name
      local se = assert(c:get_server_estimate { ServerName = srv })
      assert.is_true(tonumber(ge.MonthlyEstimate) > 0)
      assert.equal(tonumber(se.MonthlyEstimate), tonumber(ge.MonthlyEstimate))
      local web = assert(c:get_server_estimate { ServerName = "WA1DEMOWEB01" })
      local sum = assert(c:get_account_summary { AccountAlias = "DEMO" })
      assert.is_true(math.abs(tonumber(sum.MonthlyEstimate) - (tonumber(se.MonthlyEstimate) + tonumber(web.MonthlyEstimate))) < 0.01)
      -- a bigger server costs more
      assert.is_true(tonumber(web.MonthlyEstimate) > 0)
      w.t = w.t + 7200
      local charges = assert(c:get_server_hourly_charges { ServerName = srv, StartDate = "2012-11-27" })
      assert.is_true(#charges.HourlyCharges >= 2)
      local summaries = assert(c:get_group_summaries {})
      assert.is_true(#summaries.GroupTotals >= 2)
      expect_code(1801, c:get_group_summaries { StartDate = "not a date" })
      expect_code(541, c:get_group_estimate { HardwareGroupUUID = "0123456789abcdef0123456789abcdef" })
      expect_code(1800, c:get_account_summary { AccountAlias = "NOPE" })
      local hist = assert(c:get_billing_history { AccountAlias = "DEMO" })
      assert.is_true(#hist.BillingHistory >= 2)
      local inv = assert(c:get_invoice_details { AccountAlias = "DEMO", InvoiceID = hist.BillingHistory[#hist.BillingHistory].InvoiceID })
      assert.is_true(#inv.Invoice.LineItems >= 1)
      expect_code(1805, c:get_invoice_details { AccountAlias = "DEMO", InvoiceID = "NOPE" })
    end)

    it("accounts: create, details, update, suspend; access to other accounts is denied", function()
      local r = assert(c:create_account { ParentAlias = "DEMO", AccountAlias = "NEW1", Location = "WA1",
        BusinessName = "New Co " .. fmt, Address1 = "1 Road", City = "Seattle", StateProvince = "WA", PostalCode = "98101",
        Country = "USA", Telephone = "206-555-0100", ShareParentNetworks = true, BillingResponsibilityID = 2,
        TimeZone = "Pacific Standard Time" })
      assert.equal("NEW1", r.AccountDetails.AccountAlias)
      assert.equal("DEMO", r.AccountDetails.ParentAlias)
      expect_code(1611, c:create_account { ParentAlias = "DEMO", AccountAlias = "NEW1", Location = "WA1",
        BusinessName = "Other", Address1 = "1 Road", City = "Seattle", StateProvince = "WA", PostalCode = "98101",
        Country = "USA", Telephone = "1", ShareParentNetworks = true, BillingResponsibilityID = 2 })
      local accts = assert(c:get_accounts()).Accounts
      assert.equal(3, #accts)
      local u = assert(c:update_account_details { AccountAlias = "NEW1", BusinessName = "Renamed", Address1 = "2 Road",
        City = "Seattle", StateProvince = "WA", PostalCode = "98101", Country = "USA", Telephone = "1",
        TimeZone = "UTC", ShareParentNetworks = false })
      assert.equal("Renamed", u.AccountDetails.BusinessName)
      assert(c:wait(assert(c:suspend_account { AccountAlias = "NEW1" })))
      assert.equal(2, tonumber(assert(c:get_account_details { AccountAlias = "NEW1" }).AccountDetails.Status))
      assert(c:wait(assert(c:enable_account { AccountAlias = "NEW1" })))
      assert.equal(1, tonumber(assert(c:get_account_details { AccountAlias = "NEW1" }).AccountDetails.Status))
      expect_code(101, c:get_account_details { AccountAlias = "XTRN" })
      expect_code(5, c:get_account_details { AccountAlias = "ZZZZ" })
      local cf = assert(c:get_custom_fields { AccountAlias = "DEMO" }).AccountCustomFields
      assert.equal(3, #cf)
      assert.equal(2, #cf[2].AccountCustomFieldOptions)
      assert.equal(4, #assert(c:get_locations()).Locations)
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

    it("SMTP relay aliases", function()
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
      local bad = assert(c:get_invalid_addresses { DomainAlias = "demo.example", StartDate = "2012-11-01", EndDate = "2012-11-30" })
      assert.equal(2, #bad.BadAddresses)
      w.sim.alias_limit = 1
      assert(c:create_alias())
      expect_code(400, c:create_alias())
    end)

    it("blueprints and packages", function()
      local bps = assert(c:get_blueprints { Visibility = 1 }).Blueprints
      assert.equal(2, #bps)
      assert.equal(1, #assert(c:get_blueprints { Visibility = 1, Search = "iis" }).Blueprints)
      local det = assert(c:get_blueprint_details { ID = 1 }).BlueprintDetails
      assert.equal("LAMP Web Server", det.Name)
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
      local st = assert(c:wait({ RequestID = dep.RequestID, via = "blueprint", AccountAlias = "DEMO" }))
      assert.equal("Succeeded", st.CurrentStatus)
      assert.equal(1, #st.Servers)
      assert.equal("Active", assert(c:get_server { Name = st.Servers[1] }).Servers[1].Status)
      local pub = assert(c:publish_package { Classification = 2, Name = "setup.zip", OperatingSystems = { 35, 41 }, Visibility = 2 })
      assert.equal(1, #assert(c:get_pending_packages()).Packages)
      assert(c:wait(pub))
      assert.equal(0, #assert(c:get_pending_packages()).Packages)
      local pk = assert(c:get_packages { Classification = 2, Visibility = 2 }).Packages
      local names = {}
      for _, p in ipairs(pk) do names[p.Name] = true end
      assert.truthy(names["setup.zip"])
    end)

    it("queue: status, listing by ItemStatusType, failed requests", function()
      local r = assert(c:reboot_server { Name = "WA1DEMOWEB01" })
      local st = assert(c:get_request_status { RequestID = r.RequestID }).RequestDetails
      assert.equal("Not Started", st.CurrentStatus)
      assert.equal(0, tonumber(st.PercentComplete))
      w.t = w.t + 2
      st = assert(c:get_request_status { RequestID = r.RequestID }).RequestDetails
      assert.equal("Executing", st.CurrentStatus)
      assert.is_true(tonumber(st.PercentComplete) > 0 and tonumber(st.PercentComplete) < 100)
      assert.equal(1, #assert(c:list_queue_requests { ItemStatusType = 2 }).Requests)
      w.t = w.t + 60
      assert.equal(0, #assert(c:list_queue_requests { ItemStatusType = 2 }).Requests)
      assert.equal(1, #assert(c:list_queue_requests { ItemStatusType = 3 }).Requests)
      w.sim:seed("failed_requests", 1)
      local failed = assert(c:list_queue_requests { ItemStatusType = 1 }).Requests[1]
      local _, err = c:wait(failed, { timeout = 120 })
      assert.equal("Failed", err.code)
      assert.equal(1, #assert(c:list_queue_requests { ItemStatusType = 4 }).Requests)
      expect_code(3, c:get_request_status { RequestID = 99999 })
      local _, verr = c:list_queue_requests { ItemStatusType = 9 }
      assert.equal("validation", verr.kind)
    end)
  end)
end

describe("centurylink simulator StatusCodes the client cannot send", function()
  local function raw(sim, cookie, path, body)
    local st, _, b = sim:handle { method = "POST", path = path, headers = { cookie = cookie,
      ["content-type"] = "application/json" }, body = body }
    return st, core.json_decode(b)
  end
  it("answers 100 without a session, 901 for a bad ItemStatusType, 1201 for a bad Visibility", function()
    local sim = Sim.new { now = function() return T0 end }
    local _, r = raw(sim, nil, "/REST/Queue/ListQueueRequests/JSON", '{"ItemStatusType":1}')
    assert.equal(100, r.StatusCode)
    assert.is_false(r.Success)
    local st, h = sim:handle { method = "POST", path = "/REST/Auth/Logon/", headers = { ["content-type"] = "application/json" },
      body = '{"APIKey":"demo-api-key","Password":"demo-password"}' }
    assert.equal(200, st)
    local cookie = h["Set-Cookie"]:match("^[^;]+")
    _, r = raw(sim, cookie, "/REST/Queue/ListQueueRequests/JSON", '{"ItemStatusType":9}')
    assert.equal(901, r.StatusCode)
    _, r = raw(sim, cookie, "/REST/Blueprint/GetBlueprints/JSON", '{"Visibility":"7"}')
    assert.equal(1201, r.StatusCode)
    _, r = raw(sim, cookie, "/REST/Server/GetServer/JSON", '{not json')
    assert.equal(3, r.StatusCode)
  end)

  it("maintenance and rate limit faults are retryable HTTP errors for the client", function()
    local sim = Sim.new { now = function() return T0 end }
    local c = assert(luacloud.new("centurylink", { api_key = "demo-api-key", password = "demo-password",
      endpoint = "http://sim.test", retries = 0, transport = function()
        local st, h, b = sim:fault("maintenance")
        return { status = st, headers = { ["retry-after"] = h["Retry-After"] }, body = b }
      end }))
    local _, err = c:get_locations()
    assert.equal(503, err.status)
    assert.is_true(err.retryable)
  end)
end)
