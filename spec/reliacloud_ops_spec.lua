-- Every ReliaCloud operation through the client, in-process against the simulator
-- (transport = function(req) ... sim:handle ... end), with API keys and with a login
-- session, in XML and in JSON. At the end, the same over HTTP against the simulator in nginx
-- (LuaJIT), with the libcurl transport, and the quickstart example.
local luacloud = require "luacloud"
local catalog = require "luacloud.catalog.reliacloud"
local simmod = require "luacloud.sim.reliacloud"

local ENDPOINT = "http://sim.test/client/api"

local function sim_transport(sim, log)
  return function(req)
    local path = req.url:match("^https?://[^/]+(.*)$")
    local h = {}
    for k, v in pairs(req.headers or {}) do h[k:lower()] = v end
    local st, hh, body = sim:handle { method = req.method, path = path, headers = h, body = req.body }
    local rh = {}
    for k, v in pairs(hh or {}) do rh[k:lower()] = v end
    if log then log[#log + 1] = { req = req, status = st } end
    return { status = st, headers = rh, body = body }
  end
end

local covered = {}

-- opts.auth: "key" (default) or "session"; opts.format.
local function make_client(opts)
  opts = opts or {}
  local clock = { t = 1260000000 }
  local sim = simmod.new { now = function() return clock.t end }
  local log = {}
  local o = { endpoint = ENDPOINT, transport = sim_transport(sim, log), sleep = function() end,
    format = opts.format, retries = 0 }
  if opts.auth == "session" then
    o.username, o.password = sim.credentials.username, sim.credentials.password
  else
    o.api_key, o.secret_key = sim.credentials.api_key, sim.credentials.secret_key
  end
  local c = assert(luacloud.new("reliacloud", o))
  -- run(id, params): call through the client, record coverage, fail on error
  local function run(id, params)
    covered[id] = true
    local res, err = c:call(id, params or {})
    assert(res, id .. ": " .. tostring(err))
    return res
  end
  local function try(id, params)
    covered[id] = true
    return c:call(id, params or {})
  end
  return c, run, try, sim, clock, log
end

-- The whole API in one scenario; returns what was created, for further checks.
local function scenario(run, try)
  local zones = run("list_zones", { available = true }).zone
  assert.are.equal(3, #zones)
  assert.are.equal(0, #run("list_zones", {}).zone)
  local templates = run("list_templates", {}).template
  local offerings = run("list_service_offerings", {}).offering
  assert.is_true(#templates >= 2)
  assert.are.equal(3, #offerings)

  local vm = run("deploy_virtual_machine", { zoneId = zones[1].id, serviceOfferingId = offerings[1].id,
    templateId = templates[1].id, networkDomain = "example.test" })
  assert.are.equal("Running", vm.state)
  assert.is_string(vm.password)
  local vms = run("list_virtual_machine", {}).virtualmachine
  assert.are.equal(1, #vms)
  assert.are.equal(vm.id, vms[1].id)
  assert.are.equal(1, #run("list_zones", {}).zone)

  -- source-NAT address + one more
  local ips = run("list_ip_address", {}).allocatedipaddress
  assert.are.equal(1, #ips)
  assert.are.equal("true", ips[1].issourcenat)
  local ip = run("associate_ip_address", { zoneid = zones[1].id })
  assert.are.equal("false", ip.issourcenat)
  assert.are.equal(2, #run("list_ip_address", {}).allocatedipaddress)

  -- rules
  local fw = run("create_or_update_ip_forwarding_rule", { publicip = ip.ipaddress, publicPort = 22,
    privateip = vm.ipaddress, privatePort = 22, Protocol = "tcp" })
  assert.are.equal("TCP", fw.protocol)
  assert.are.equal("22", fw.publicport)
  local fws = run("list_ip_forwarding_rules", { publicip = ip.ipaddress }).ipforwardingrule
  assert.are.equal(1, #fws)
  assert.are.equal(fw.id, fws[1].id)
  local lb = run("create_or_update_load_balancer_rule", { publicip = ip.ipaddress, publicPort = 80,
    privateip = vm.ipaddress, privatePort = 8080, Algorithm = "roundrobin" })
  assert.are.equal("roundrobin", lb.algorithm)
  assert.are.equal("8080", lb.privateport)
  local lbs = run("list_load_balancer_rules", { publicip = ip.ipaddress }).loadbalancerrule
  assert.are.equal(1, #lbs)
  local _, e564 = try("create_or_update_ip_forwarding_rule", { publicip = ip.ipaddress, publicPort = 80,
    privateip = vm.ipaddress, privatePort = 80, Protocol = "TCP" })
  assert.are.equal(564, e564.status)
  local _, e568 = try("create_or_update_load_balancer_rule", { publicip = ip.ipaddress, publicPort = 22,
    privateip = vm.ipaddress, privatePort = 22, Algorithm = "leastconn" })
  assert.are.equal(568, e568.status)
  assert.are.equal("true", run("delete_ip_forwarding_rule", { id = fw.id }).success)
  assert.are.equal(0, #run("list_ip_forwarding_rules", { publicip = ip.ipaddress }).ipforwardingrule)
  assert.are.equal("true", run("delete_load_balancer_rule", { id = lb.id }).success)
  assert.are.equal(0, #run("list_load_balancer_rules", { publicip = ip.ipaddress }).loadbalancerrule)

  -- VM lifecycle
  local _, e431 = try("change_service_for_virtual_machine", { id = vm.id, serviceOfferingId = offerings[2].id })
  assert.are.equal(431, e431.status)
  assert.are.equal("true", run("stop_virtual_machine", { id = vm.id }).success)
  assert.are.equal("Stopped", run("list_virtual_machine", { state = "Stopped" }).virtualmachine[1].state)
  local changeable = run("list_service_offerings", { virtualMachineId = vm.id }).offering
  assert.are.equal(2, #changeable)
  assert.are.equal("true", run("change_service_for_virtual_machine",
    { id = vm.id, serviceOfferingId = offerings[2].id }).success)
  local started = run("start_virtual_machine", { id = vm.id })
  assert.are.equal("Running", started.state)
  assert.are.equal(offerings[2].id, started.serviceofferingid)
  assert.are.equal("true", run("reboot_virtual_machine", { id = vm.id }).success)
  assert.are.equal("true", run("enable_ha_for_virtual_machine", { id = vm.id, haEnable = true }).success)
  assert.are.equal("true", run("list_virtual_machine", { name = vm.name }).virtualmachine[1].haenable)
  local pw = run("reset_password_for_virtual_machine", { id = vm.id })
  assert.are.equal(vm.id, pw.id)
  assert.are_not.equal(vm.password, pw.password)

  -- history and statistics
  local events = run("list_events", {}).event
  local types = {}
  for _, e in ipairs(events) do types[e.type] = true end
  for _, t in ipairs({ "VM.CREATE", "VM.STOP", "VM.START", "VM.REBOOT", "NET.IPASSIGN" }) do
    assert.is_true(types[t], "no event " .. t)
  end
  assert.are.equal(1, #run("list_events", { type = "VM.UPGRADE" }).event)
  local stats = run("list_account_statistics", {}).accountstat
  assert.are.equal(1, #stats)
  assert.are.equal(zones[1].name, stats[1].zonename)

  -- teardown
  assert.are.equal("true", run("disassociate_ip_address", { ipAddress = ip.ipaddress }).success)
  assert.are.equal("true", run("destroy_virtual_machine", { id = vm.id }).success)
  assert.are.equal(0, #run("list_virtual_machine", {}).virtualmachine)
  assert.are.equal(0, #run("list_ip_address", {}).allocatedipaddress)
  local _, gone = try("start_virtual_machine", { id = vm.id })
  assert.are.equal(431, gone.status)
  return vm
end

describe("reliacloud operations against the simulator", function()
  for _, fmt in ipairs({ "xml", "json" }) do
    it("run the whole API with API keys in " .. fmt, function()
      local _, run, try, _, _, log = make_client { format = fmt }
      scenario(run, try)
      for _, l in ipairs(log) do
        assert.matches("[?&]signature=", l.req.url)
        if fmt == "json" then assert.matches("[?&]response=json", l.req.url) end
      end
    end)

    it("run the whole API with a login session in " .. fmt, function()
      local _, run, try, _, _, log = make_client { auth = "session", format = fmt }
      scenario(run, try)
      -- one login (a form POST that keeps the password out of the URL), then unsigned calls
      assert.are.equal("POST", log[1].req.method)
      assert.matches("command=login", log[1].req.body)
      assert.is_nil(log[1].req.url:find("password", 1, true))
      local logins = 0
      for i, l in ipairs(log) do
        if l.req.body and l.req.body:find("command=login", 1, true) then logins = logins + 1 end
        if i > 1 then
          assert.is_nil(l.req.url:find("signature=", 1, true))
          assert.matches("JSESSIONID=", l.req.headers.Cookie or l.req.headers.cookie or "")
        end
      end
      assert.are.equal(1, logins)
    end)
  end

  it("log in explicitly, log out, and log in again when the session is gone", function()
    local c, run, try, sim, clock, log = make_client { auth = "session" }
    local l = run("login", { username = "demo", password = "demo-password" })
    assert.are.equal("success", l.description)
    assert.are.equal("1800", l.timeout)
    assert.are.equal(3, #run("list_zones", { available = true }).zone)
    assert.are.equal("success", run("logout", {}).description)
    -- the server forgot the session: the next call gets 401, logs in again and succeeds
    local before = #log
    assert.are.equal(3, #run("list_zones", { available = true }).zone)
    local statuses = {}
    for i = before + 1, #log do statuses[#statuses + 1] = log[i].status end
    assert.are.same({ 401, 200, 200 }, statuses)
    -- an expired session (1800 s of inactivity) is renewed the same way
    clock.t = clock.t + 1801
    assert.are.equal(3, #run("list_zones", { available = true }).zone)
    assert.is_truthy(c)
    assert.is_truthy(sim)
    assert.is_truthy(try)
  end)

  it("refuse a wrong password and a wrong secret as auth errors", function()
    local sim = simmod.new {}
    local c = assert(luacloud.new("reliacloud", { endpoint = ENDPOINT, username = "demo", password = "nope",
      transport = sim_transport(sim), sleep = function() end }))
    local _, err = c:list_zones {}
    assert.are.equal(401, err.status)
    assert.are.equal("auth", err.kind)
    local k = assert(luacloud.new("reliacloud", { endpoint = ENDPOINT, api_key = "demo-api-key",
      secret_key = "nope", transport = sim_transport(sim), sleep = function() end }))
    local _, kerr = k:list_zones {}
    assert.are.equal(401, kerr.status)
  end)

  it("report API errors with the status, the documented text and the operation", function()
    local _, _, try = make_client()
    local _, err = try("start_virtual_machine", { id = "4242" })
    assert.are.equal(431, err.status)
    assert.are.equal(431, err.code)
    assert.are.equal("start_virtual_machine", err.op)
    assert.are.equal("api", err.kind)
    assert.matches("4242", err.message)
    assert.is_false(err.retryable)
    local _, e432 = try("create_or_update_load_balancer_rule", { publicip = "10.9.9.9", publicPort = 80,
      privateip = "10.1.1.2", privatePort = 80, Algorithm = "source" })
    assert.are.equal(432, e432.status)
  end)

  it("accept the document's spellings of operation and parameter names", function()
    local c = make_client()
    local zones = assert(c:call("listZones", { available = true })).zone
    local vm = assert(c:call("deployVirtualMachine", { zoneId = zones[2].id, serviceOfferingId = "1",
      templateId = "3", networkDomain = "x.test" }))
    assert.are.equal("true", assert(c:call("StopVirtualMachine", { id = vm.id })).success)
    assert.are.equal(1, #assert(c:call("listVirtualMachine", {})).virtualmachine)
    assert.are.equal(2, #assert(c:call("listServiceOfferings", { virtualMachineld = vm.id })).offering)
    assert.are.equal(1, #assert(c:call("listIPAddress", {})).allocatedipaddress)
    assert.are.equal("true", assert(c:call("EnableHAForVirtualMachine", { id = vm.id, haEnable = false })).success)
  end)

  it("iterate list items with each()", function()
    local c, _, _, sim = make_client()
    sim:seed("virtualmachine", 12)
    local n, names = 0, {}
    for vm in c:each("list_virtual_machine", {}) do
      n = n + 1
      names[vm.name] = true
    end
    assert.are.equal(12, n)
    local distinct = 0
    for _ in pairs(names) do distinct = distinct + 1 end
    assert.are.equal(12, distinct)
  end)

  it("covered every operation of the catalog", function()
    for id in pairs(catalog.operations) do
      assert.is_true(covered[id] == true, "operation not exercised: " .. id)
    end
  end)
end)

describe("reliacloud over HTTP (simulator in nginx)", function()
  local support = require "spec.support.sim"
  local nginx
  setup(function()
    local ok, res = pcall(support.start)
    if ok then nginx = res end
  end)
  teardown(function() if nginx then nginx.stop() end end)

  local function endpoint()
    if not nginx then pending("nginx simulator not available") return nil end
    -- a fresh simulator state for each test
    local res, status = nginx.admin("POST", "/_sim/reset", { provider = "reliacloud" })
    assert(status == 200, "reset: " .. tostring(status))
    assert.is_table(res)
    return nginx.base .. "/reliacloud/client/api"
  end

  it("runs the whole API with the libcurl transport, keys and session", function()
    local ep = endpoint()
    if not ep then return end
    for i, auth in ipairs({ "key", "session" }) do
      if i > 1 then endpoint() end
      local o = { endpoint = ep, timeout = 20, format = auth == "key" and "xml" or "json", retries = 0 }
      if auth == "key" then o.api_key, o.secret_key = "demo-api-key", "demo-secret-key"
      else o.username, o.password = "demo", "demo-password" end
      local c = assert(luacloud.new("reliacloud", o))
      local function run(id, params)
        local res, err = c:call(id, params or {})
        assert(res, auth .. " " .. id .. ": " .. tostring(err))
        return res
      end
      local function try(id, params) return c:call(id, params or {}) end
      scenario(run, try)
      c:close()
    end
  end)

  it("runs the quickstart example", function()
    local ep = endpoint()
    if not ep then return end
    local p = assert(io.popen("LUACLOUD_RELIACLOUD_ENDPOINT='" .. ep
      .. "' lua5.4 examples/reliacloud_quickstart.lua 2>&1; echo __rc=$?"))
    local out = p:read("*a")
    p:close()
    assert.matches("__rc=0", out, 1, true)
    local vm = out:match("deployed vm (%d+) ")
    assert.is_string(vm, out)
    assert.matches("forwarding rule %d+: [%d%.]+:22 %-> [%d%.]+:22 TCP", out)
    assert.matches("destroyed vm " .. vm, out, 1, true)
    assert.matches("0 virtual machine%(s%) left", out)
  end)
end)
