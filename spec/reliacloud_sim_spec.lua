-- Unit specs of the ReliaCloud simulator, in-process (sim:handle called directly).
-- Requests are signed here, independently of the simulator, with the C core's primitives.
local core = require("luacloud.core")
local simmod = require("luacloud.sim.reliacloud")

local API_KEY, SECRET = "demo-api-key", "demo-secret-key"

-- Builds the query string of a signed request. args: array of {name, value} in wire order.
-- opts.secret, opts.key, opts.sign_sort ("server": names as sent, byte-wise; "lower": lower-cased
-- names), opts.space ("%20" default, or "+": the wrong encoding for the signed string).
local function signed_query(args, opts)
  opts = opts or {}
  local list = {}
  for i, kv in ipairs(args) do list[i] = kv end
  list[#list + 1] = { "apiKey", opts.key or API_KEY }
  local sorted = {}
  for i, kv in ipairs(list) do sorted[i] = kv end
  if opts.sign_sort == "lower" then
    table.sort(sorted, function(a, b) return a[1]:lower() < b[1]:lower() end)
  else
    table.sort(sorted, function(a, b) return a[1] < b[1] end)
  end
  local parts = {}
  for i, kv in ipairs(sorted) do
    local v = core.pct(kv[2])
    if opts.space == "+" then v = v:gsub("%%20", "+") end
    parts[i] = kv[1] .. "=" .. v
  end
  local sig = core.b64encode(core.hmac_sha1(opts.secret or SECRET, table.concat(parts, "&"):lower()))
  local q = {}
  for i, kv in ipairs(list) do q[i] = kv[1] .. "=" .. core.pct(kv[2]) end
  q[#q + 1] = "signature=" .. core.pct(sig)
  return table.concat(q, "&")
end

local function new_sim()
  local clock = { t = 1260000000 }
  local sim = simmod.new({ now = function() return clock.t end })
  return sim, clock
end

-- call(sim, "listZones", {available = "true"} or {{"available","true"}}, opts) -> status, headers, body
local function call(sim, command, params, opts)
  opts = opts or {}
  local args = { { "command", command } }
  if params then
    if params[1] then
      for _, kv in ipairs(params) do args[#args + 1] = kv end
    else
      local names = {}
      for k in pairs(params) do names[#names + 1] = k end
      table.sort(names)
      for _, k in ipairs(names) do args[#args + 1] = { k, params[k] } end
    end
  end
  if opts.json then args[#args + 1] = { "response", "json" } end
  local q = signed_query(args, opts)
  return sim:handle({ method = "GET", path = "/client/api?" .. q, headers = opts.headers or {} })
end

local LISTS = { zone = true, virtualmachine = true, template = true, offering = true,
  allocatedipaddress = true, ipforwardingrule = true, loadbalancerrule = true, event = true,
  accountstat = true }

-- Decodes a body in the format asked for; returns the content below the root and the root name.
local function decode(body, json)
  if json then
    local v = assert(core.json_decode(body))
    local root, inner = next(v)
    return inner, root
  end
  local t, root = core.xml_decode(body, { lists = LISTS })
  assert(t, root)
  return t, root
end

local function ok_call(sim, command, params, opts)
  local status, headers, body = call(sim, command, params, opts)
  assert.are.equal(200, status, body)
  local t, root = decode(body, opts and opts.json)
  return t, root, headers, body
end

local function deploy(sim, zone)
  local vm = ok_call(sim, "deployVirtualMachine",
    { zoneId = zone or "4", serviceOfferingId = "1", templateId = "3", networkDomain = "example.test" })
  return vm
end

local function err_code(body, json)
  local t = decode(body, json)
  return tonumber(t.errorcode), t.description
end

describe("reliacloud simulator", function()
  local sim, clock
  before_each(function() sim, clock = new_sim() end)

  describe("API key signature", function()
    it("accepts a correctly signed request", function()
      local t, root = ok_call(sim, "listZones", { available = "true" })
      assert.are.equal("listzonesresponse", root)
      assert.are.equal(3, #t.zone)
    end)

    it("refuses a wrong secret, an unknown key, a tampered request and no credentials with 401", function()
      assert.are.equal(401, (call(sim, "listZones", { available = "true" }, { secret = "nope" })))
      assert.are.equal(401, (call(sim, "listZones", { available = "true" }, { key = "other-key" })))
      local q = signed_query({ { "command", "listZones" }, { "available", "true" } })
      local status = sim:handle({ method = "GET", path = "/client/api?" .. q:gsub("available=true", "available=false"),
        headers = {} })
      assert.are.equal(401, status)
      local s2, _, body = sim:handle({ method = "GET", path = "/client/api?command=listZones", headers = {} })
      assert.are.equal(401, s2)
      assert.are.equal(401, (err_code(body)))
    end)

    it("matches the documented test vectors (notes §4.4)", function()
      local p0 = { command = "listZones", apiKey = "testkey", response = "json" }
      assert.are.equal("of3U5g67BqXUZMJ4xE1TogZUt54=",
        (simmod.signature("testsecret", p0, { "command", "apiKey", "response" })))
      local pa = { command = "createOrUpdateIpForwardingRule", publicip = "192.168.10.141", publicPort = "22",
        privateip = "10.1.1.2", privatePort = "22", Protocol = "TCP", apiKey = "testkey" }
      assert.are.equal("sYN7N//W4zc0RZCql2BRbuZrqok=", (simmod.signature("testsecret", pa,
        { "command", "publicip", "publicPort", "privateip", "privatePort", "Protocol", "apiKey" })))
      local pl = {}
      for k, v in pairs(pa) do pl[k:lower()] = v end
      assert.are.equal("yhAA/dEHlWVnUSb8xNHqLcXR4m0=", (simmod.signature("testsecret", pl,
        { "command", "publicip", "publicport", "privateip", "privateport", "protocol", "apikey" })))
      local pb = { command = "listTemplates", name = "Windows XP SP3", apiKey = "testkey" }
      assert.are.equal("rl+JR1Tw4ozSnkLGJlj/Flek0JA=", (simmod.signature("testsecret", pb,
        { "command", "name", "apiKey" })))
    end)

    it("sorts mixed-case names as sent, like the server (not lower-cased first)", function()
      local vm = deploy(sim)
      local ip = ok_call(sim, "listIPAddresses").allocatedipaddress[1].ipaddress
      local args = { { "publicip", ip }, { "publicPort", "22" }, { "privateip", vm.ipaddress },
        { "privatePort", "22" }, { "Protocol", "TCP" } }
      assert.are.equal(401, (call(sim, "createOrUpdateIpForwardingRule", args, { sign_sort = "lower" })))
      assert.are.equal(200, (call(sim, "createOrUpdateIpForwardingRule", args, { sign_sort = "server" })))
    end)

    it("signs a space as %20 and accepts it on the wire as %20 or +", function()
      local t = ok_call(sim, "listTemplates", { name = "Windows XP SP3" })
      assert.are.equal("6", t.template[1].id)
      assert.are.equal(401, (call(sim, "listTemplates", { name = "Windows XP SP3" }, { space = "+" })))
      local q = signed_query({ { "command", "listTemplates" }, { "name", "Windows XP SP3" } })
      local status, _, body = sim:handle({ method = "GET", path = "/client/api?" .. q:gsub("%%20", "+"), headers = {} })
      assert.are.equal(200, status)
      assert.are.equal("Windows XP SP3", decode(body).template[1].name)
    end)

    it("accepts a form-encoded POST body", function()
      local q = signed_query({ { "command", "listZones" }, { "available", "true" } })
      local status, _, body = sim:handle({ method = "POST", path = "/client/api",
        headers = { ["content-type"] = "application/x-www-form-urlencoded" }, body = q })
      assert.are.equal(200, status)
      assert.are.equal(3, #decode(body).zone)
    end)
  end)

  describe("requests", function()
    it("are served at /client/api only, by GET or POST", function()
      local q = signed_query({ { "command", "listZones" }, { "available", "true" } })
      assert.are.equal(404, (sim:handle({ method = "GET", path = "/other/api?" .. q, headers = {} })))
      local st, h = sim:handle({ method = "DELETE", path = "/client/api?" .. q, headers = {} })
      assert.are.equal(405, st)
      assert.are.equal("GET, POST", h.allow)
      assert.are.equal(430, (sim:handle({ method = "GET", path = "/client/api?available=true", headers = {} })))
    end)
  end)

  describe("commands", function()
    it("are looked up case-sensitively, accepting the document's and the real spelling", function()
      local vm = deploy(sim)
      assert.are.equal(200, (call(sim, "stopVirtualMachine", { id = vm.id })))
      assert.are.equal(200, (call(sim, "StopVirtualMachine", { id = vm.id })))
      assert.are.equal(1, #ok_call(sim, "listVirtualMachine").virtualmachine)
      assert.are.equal(1, #ok_call(sim, "listVirtualMachines").virtualmachine)
      assert.are.equal(401, (call(sim, "ListZones", { available = "true" })))
      assert.are.equal(401, (call(sim, "stopvirtualmachine", { id = vm.id })))
    end)

    it("take parameter names case-insensitively", function()
      local a = ok_call(sim, "deployVirtualMachine",
        { ZONEID = "5", serviceofferingid = "1", TemplateId = "3", networkdomain = "x.test" })
      assert.are.equal("5", a.zoneid)
      assert.are.equal("EC", a.zonename)
    end)
  end)

  describe("session login", function()
    local function login(password, method)
      local q = "command=login&username=demo&password=" .. core.pct(password)
      if method == "POST" then
        return sim:handle({ method = "POST", path = "/client/api",
          headers = { ["content-type"] = "application/x-www-form-urlencoded" }, body = q })
      end
      return sim:handle({ method = "GET", path = "/client/api?" .. q, headers = {} })
    end
    local function with_cookie(cookie, query)
      return sim:handle({ method = "GET", path = "/client/api?" .. query, headers = { cookie = cookie } })
    end

    it("refuses a wrong password with 401", function()
      assert.are.equal(401, (login("wrong")))
    end)

    it("sets a JSESSIONID cookie that authenticates unsigned calls until it expires", function()
      local status, headers, body = login("demo-password", "POST")
      assert.are.equal(200, status)
      local t, root = decode(body)
      assert.are.equal("login", root)
      assert.are.equal("success", t.description)
      assert.are.equal("1800", t.timeout)
      local id = headers["set-cookie"]:match("^JSESSIONID=([^;]+)")
      assert.is_truthy(id)
      local cookie = "JSESSIONID=" .. id
      assert.are.equal(200, (with_cookie(cookie, "command=listZones&available=true")))
      assert.are.equal(401, (with_cookie("JSESSIONID=bogus", "command=listZones&available=true")))
      -- inactivity renews the 1800 s time to live
      clock.t = clock.t + 1700
      assert.are.equal(200, (with_cookie(cookie, "command=listZones")))
      clock.t = clock.t + 1700
      assert.are.equal(200, (with_cookie(cookie, "command=listZones")))
      clock.t = clock.t + 1801
      assert.are.equal(401, (with_cookie(cookie, "command=listZones")))
    end)

    it("accepts the MD5 digest of the password and records USER.LOGIN", function()
      assert.are.equal(200, (login(core.md5_hex("demo-password"))))
      local ev = ok_call(sim, "listEvents", { type = "USER.LOGIN" }).event
      assert.are.equal(1, #ev)
      assert.are.equal("USER.LOGIN", ev[1].type)
    end)

    it("finds the session cookie among other cookies", function()
      local _, headers = login("demo-password")
      local cookie = headers["set-cookie"]:match("^(JSESSIONID=[^;]+)")
      assert.are.equal(200, (with_cookie("a=1; " .. cookie .. "; b=2", "command=listZones")))
    end)

    it("logout invalidates the cookie", function()
      local _, headers = login("demo-password")
      local cookie = headers["set-cookie"]:match("^(JSESSIONID=[^;]+)")
      local status, _, body = with_cookie(cookie, "command=logout")
      assert.are.equal(200, status)
      local t, root = decode(body)
      assert.are.equal("logout", root)
      assert.are.equal("success", t.description)
      assert.are.equal(401, (with_cookie(cookie, "command=listZones")))
    end)
  end)

  describe("parameter validation", function()
    it("answers 430 for a missing required parameter", function()
      local status, _, body = call(sim, "deployVirtualMachine", { zoneId = "4", serviceOfferingId = "1" })
      assert.are.equal(430, status)
      local code, msg = err_code(body)
      assert.are.equal(430, code)
      assert.matches("templateid", msg)
      assert.are.equal(430, (call(sim, "associateIPAddress", {})))
      assert.are.equal(430, (call(sim, "startVirtualMachine", {})))
      assert.are.equal(430, (call(sim, "listIpForwardingRules", {})))
    end)

    it("answers 430 for malformed values", function()
      assert.are.equal(430, (call(sim, "startVirtualMachine", { id = "abc" })))
      assert.are.equal(430, (call(sim, "listZones", { available = "maybe" })))
      assert.are.equal(430, (call(sim, "listEvents", { startDate = "yesterday" })))
    end)

    it("answers 431 for unknown ids", function()
      assert.are.equal(431, (call(sim, "startVirtualMachine", { id = "999" })))
      assert.are.equal(431, (call(sim, "destroyVirtualMachine", { id = "999" })))
      assert.are.equal(431, (call(sim, "deleteIpForwardingRule", { id = "999" })))
      assert.are.equal(431, (call(sim, "deleteLoadBalancerRule", { id = "999" })))
      assert.are.equal(431, (call(sim, "deployVirtualMachine",
        { zoneId = "99", serviceOfferingId = "1", templateId = "3", networkDomain = "x" })))
      assert.are.equal(431, (call(sim, "deployVirtualMachine",
        { zoneId = "4", serviceOfferingId = "1", templateId = "999", networkDomain = "x" })))
      assert.are.equal(431, (call(sim, "associateIPAddress", { zoneid = "99" })))
      assert.are.equal(431, (call(sim, "disassociateIPAddress", { ipAddress = "10.9.9.9" })))
      assert.are.equal(431, (call(sim, "listLoadBalancerRules", { publicip = "10.9.9.9" })))
    end)
  end)

  describe("virtual machine lifecycle", function()
    it("deploys Running with a generated password and lists it", function()
      local vm = deploy(sim)
      assert.are.equal("Running", vm.state)
      assert.matches("^%w%w%w%w%w%w%w%w$", vm.password)
      assert.are.equal("4", vm.zoneid)
      local l = ok_call(sim, "listVirtualMachine").virtualmachine
      assert.are.equal(1, #l)
      assert.are.equal(vm.id, l[1].id)
      assert.are.equal(vm.name, l[1].name)
      assert.is_nil(l[1].password)
      local vm2 = deploy(sim, "-1")
      assert.are_not.equal(vm.id, vm2.id)
      assert.are.equal("4", vm2.zoneid)            -- -1 is the default zone
    end)

    it("stops, changes service only when Stopped, starts, reboots only when Running", function()
      local vm = deploy(sim)
      local st, _, body = call(sim, "changeServiceForVirtualMachine", { id = vm.id, serviceOfferingId = "2" })
      assert.are.equal(431, st)
      assert.are.equal(431, (err_code(body)))
      assert.are.equal("true", ok_call(sim, "stopVirtualMachine", { id = vm.id }).success)
      assert.are.equal("true", ok_call(sim, "stopVirtualMachine", { id = vm.id }).success)  -- idempotent
      local l = ok_call(sim, "listVirtualMachines", { state = "Stopped" }).virtualmachine
      assert.are.equal(1, #l)
      assert.is_nil(l[1].consolehost)
      assert.are.equal(431, (call(sim, "rebootVirtualMachine", { id = vm.id })))
      ok_call(sim, "changeServiceForVirtualMachine", { id = vm.id, serviceOfferingId = "2" })
      assert.are.equal("2", ok_call(sim, "listVirtualMachines").virtualmachine[1].serviceofferingid)
      -- the changeable offerings no longer include the current one
      local offers = ok_call(sim, "listServiceOfferings", { virtualMachineId = vm.id }).offering
      assert.are.equal(2, #offers)
      for _, o in ipairs(offers) do assert.are_not.equal("2", o.id) end
      local started = ok_call(sim, "startVirtualMachine", { id = vm.id })
      assert.are.equal("Running", started.state)
      assert.are.equal(0, #(ok_call(sim, "listVirtualMachines", { state = "Stopped" }).virtualmachine or {}))
      assert.are.equal("true", ok_call(sim, "rebootVirtualMachine", { id = vm.id }).success)
    end)

    it("enables HA, resets the password and destroys", function()
      local vm = deploy(sim)
      ok_call(sim, "enableHAForVirtualMachine", { id = vm.id, haEnable = "true" })
      assert.are.equal("true", ok_call(sim, "listVirtualMachines").virtualmachine[1].haenable)
      ok_call(sim, "enableHAForVirtualMachine", { id = vm.id, haEnable = "false" })
      assert.are.equal("false", ok_call(sim, "listVirtualMachines").virtualmachine[1].haenable)
      assert.are.equal(430, (call(sim, "enableHAForVirtualMachine", { id = vm.id, haEnable = "yes" })))
      local r = ok_call(sim, "resetPasswordForVirtualMachine", { id = vm.id })
      assert.are.equal(vm.id, r.id)
      assert.matches("^%w+$", r.password)
      assert.are_not.equal(vm.password, r.password)
      ok_call(sim, "destroyVirtualMachine", { id = vm.id })
      assert.is_nil(ok_call(sim, "listVirtualMachines").virtualmachine)
      assert.are.equal(431, (call(sim, "startVirtualMachine", { id = vm.id })))
    end)

    it("lists only zones with a VM unless available=true", function()
      assert.is_nil(ok_call(sim, "listZones").zone)
      assert.are.equal(3, #ok_call(sim, "listZones", { available = "true" }).zone)
      deploy(sim, "5")
      local z = ok_call(sim, "listZones").zone
      assert.are.equal(1, #z)
      assert.are.equal("5", z[1].id)
      assert.are.equal("EC", z[1].name)
    end)

    it("filters templates by readiness and name", function()
      local ready = ok_call(sim, "listTemplates").template
      local all = ok_call(sim, "listTemplates", { isReady = "false" }).template
      assert.is_true(#all > #ready)
      for _, t in ipairs(ready) do assert.are.equal("true", t.isready) end
      assert.are.equal(431, (call(sim, "deployVirtualMachine", { zoneId = "4", serviceOfferingId = "1",
        templateId = all[#all].id, networkDomain = "x" })))
    end)
  end)

  describe("public ip addresses", function()
    it("gives one source-NAT address per zone once a VM exists, which cannot be released", function()
      assert.is_nil(ok_call(sim, "listIPAddresses").allocatedipaddress)
      deploy(sim)
      deploy(sim)
      local ips = ok_call(sim, "listIPAddress").allocatedipaddress
      assert.are.equal(1, #ips)
      assert.are.equal("true", ips[1].issourcenat)
      assert.are.equal(431, (call(sim, "disassociateIPAddress", { ipAddress = ips[1].ipaddress })))
    end)

    it("associates and disassociates addresses, recording events", function()
      local a = ok_call(sim, "associateIPAddress", { zoneid = "4" })
      assert.are.equal("false", a.issourcenat)
      assert.are.equal("4", a.zoneid)
      assert.matches("^%d+%.%d+%.%d+%.%d+$", a.ipaddress)
      local b = ok_call(sim, "associateIPAddress", { zoneid = "4" })
      assert.are_not.equal(a.ipaddress, b.ipaddress)
      assert.are.equal(2, #ok_call(sim, "listIPAddresses").allocatedipaddress)
      ok_call(sim, "disassociateIPAddress", { ipAddress = a.ipaddress })
      local left = ok_call(sim, "listIPAddresses").allocatedipaddress
      assert.are.equal(1, #left)
      assert.are.equal(b.ipaddress, left[1].ipaddress)
      local ev = ok_call(sim, "listEvents", { type = "NET.IPASSIGN" }).event
      assert.are.equal(2, #ev)
      assert.are.equal("assigned a public ip: " .. a.ipaddress, ev[1].description)
    end)
  end)

  describe("forwarding and load balancer rules", function()
    local vm, ip
    before_each(function()
      vm = deploy(sim)
      ip = ok_call(sim, "associateIPAddress", { zoneid = "4" }).ipaddress
    end)
    local function fw(port, proto, private)
      return call(sim, "createOrUpdateIpForwardingRule", { { "publicip", ip }, { "publicport", tostring(port) },
        { "privateip", private or vm.ipaddress }, { "privateport", tostring(port) }, { "protocol", proto or "TCP" } })
    end
    local function lb(port, alg, privport)
      return call(sim, "createOrUpdateLoadBalancerRule", { { "publicip", ip }, { "publicport", tostring(port) },
        { "privateip", vm.ipaddress }, { "privateport", tostring(privport or port) }, { "algorithm", alg } })
    end

    it("creates, updates, lists and deletes ip forwarding rules", function()
      local st, _, body = fw(22, "tcp")
      assert.are.equal(200, st)
      local r, root = decode(body)
      assert.are.equal("createrrupdateipforwardingruleresponse", root)
      assert.are.equal("TCP", r.protocol)
      assert.are.equal("22", r.publicport)
      assert.are.equal("true", r.isenabled)
      local _, _, body2 = fw(22, "TCP")
      assert.are.equal(r.id, decode(body2).id)       -- same ip/port/protocol: an update
      assert.are.equal(200, (fw(22, "UDP")))
      local list = ok_call(sim, "listIpForwardingRules", { publicip = ip }).ipforwardingrule
      assert.are.equal(2, #list)
      ok_call(sim, "deleteIpForwardingRule", { id = r.id })
      list = ok_call(sim, "listIpForwardingRules", { publicip = ip }).ipforwardingrule
      assert.are.equal(1, #list)
      assert.are.equal("UDP", list[1].protocol)
      assert.are.equal(431, (call(sim, "deleteIpForwardingRule", { id = r.id })))
    end)

    it("refuses an ip forwarding rule on a load-balanced port with 564", function()
      assert.are.equal(200, (lb(8080, "roundrobin")))
      local st, _, body = fw(8080)
      assert.are.equal(564, st)
      assert.are.equal(564, (err_code(body)))
      assert.are.equal(200, (fw(8081)))
    end)

    it("refuses a load balancer rule on a forwarded port, or with the same algorithm, with 568", function()
      assert.are.equal(200, (fw(80)))
      assert.are.equal(568, (lb(80, "roundrobin")))
      local st, _, body = lb(90, "roundrobin")
      assert.are.equal(200, st)
      local first = decode(body)
      assert.are.equal("createrrupdateloadbalancerruleresponse", select(2, decode(body)))
      assert.are.equal(568, (lb(90, "roundrobin", 91)))          -- same algorithm, other target
      assert.are.equal(200, (lb(90, "leastconn", 92)))           -- other algorithm
      local _, _, b2 = lb(90, "source")                          -- same target: update
      assert.are.equal(first.id, decode(b2).id)
      assert.are.equal("source", decode(b2).algorithm)
      local list = ok_call(sim, "listLoadBalancerRules", { publicip = ip }).loadbalancerrule
      assert.are.equal(2, #list)
      local st3, _, b3 = call(sim, "deleteLoadBalancerRule", { id = first.id })
      assert.are.equal(200, st3)
      assert.are.equal("deleteloadbalancerrulereponse", select(2, decode(b3)))
      assert.are.equal(1, #ok_call(sim, "listLoadBalancerRules", { publicip = ip }).loadbalancerrule)
    end)

    it("answers 432 for invalid rule parameters", function()
      assert.are.equal(432, (fw(70000)))
      assert.are.equal(432, (fw(22, "ICMP")))
      assert.are.equal(432, (fw(22, "TCP", "10.99.99.99")))
      assert.are.equal(432, (lb(22, "random")))
      assert.are.equal(430, (fw("twenty")))
    end)

    it("removes the rules of a released address and of a destroyed VM", function()
      assert.are.equal(200, (fw(22)))
      ok_call(sim, "disassociateIPAddress", { ipAddress = ip })
      assert.are.equal(431, (call(sim, "listIpForwardingRules", { publicip = ip })))
      ip = ok_call(sim, "associateIPAddress", { zoneid = "4" }).ipaddress
      assert.are.equal(200, (fw(22)))
      ok_call(sim, "destroyVirtualMachine", { id = vm.id })
      assert.is_nil(ok_call(sim, "listIpForwardingRules", { publicip = ip }).ipforwardingrule)
    end)
  end)

  describe("formats", function()
    it("answers the same data in XML by default and in JSON with response=json", function()
      deploy(sim)
      local st, h, body = call(sim, "listIPAddresses", {})
      assert.are.equal(200, st)
      assert.matches("xml", h["content-type"])
      assert.matches("^<%?xml", body)
      local st2, h2, jbody = call(sim, "listIPAddresses", {}, { json = true })
      assert.are.equal(200, st2)
      assert.matches("javascript", h2["content-type"])
      local x = decode(body)
      local j, root = decode(jbody, true)
      assert.are.equal("listipaddressesresponse", root)
      -- one item is still an array in JSON, and every scalar is a string
      assert.are.equal(1, #j.allocatedipaddress)
      for k, v in pairs(x.allocatedipaddress[1]) do
        assert.are.equal(v, j.allocatedipaddress[1][k])
        assert.are.equal("string", type(j.allocatedipaddress[1][k]))
      end
    end)

    it("answers errors in the requested format", function()
      local st, _, body = call(sim, "startVirtualMachine", { id = "999" }, { json = true })
      assert.are.equal(431, st)
      local t, root = decode(body, true)
      assert.are.equal("errorresponse", root)
      assert.are.equal("431", t.errorcode)
      local _, _, xbody = call(sim, "startVirtualMachine", { id = "999" })
      assert.are.equal("errorresponse", select(2, decode(xbody)))
    end)

    it("uses the document's root names", function()
      local vm = deploy(sim)
      local _, _, b = call(sim, "startVirtualMachine", { id = vm.id })
      local t, root = decode(b)
      assert.are.equal("startvirtualmachineresponse", root)
      assert.are.equal("WC", t.zonenumber)
      local _, _, s = call(sim, "listAccountStatistics", {})
      assert.matches("<zoneId>4</zoneId>", s, 1, true)
    end)
  end)

  describe("events and statistics", function()
    it("records VM actions and filters by type and date", function()
      local vm = deploy(sim)
      ok_call(sim, "stopVirtualMachine", { id = vm.id })
      local all = ok_call(sim, "listEvents").event
      local types = {}
      for _, e in ipairs(all) do types[e.type] = true end
      assert.is_true(types["VM.CREATE"])
      assert.is_true(types["VM.STOP"])
      assert.is_true(types["NET.IPASSIGN"])
      local day = os.date("!%Y-%m-%d", clock.t)
      assert.are.equal(#all, #ok_call(sim, "listEvents", { startDate = day, endDate = day }).event)
      assert.is_nil(ok_call(sim, "listEvents", { startDate = "2030-01-01" }).event)
      assert.is_nil(ok_call(sim, "listEvents", { endDate = "2009-01-01" }).event)
    end)

    it("counts traffic of running VMs per zone", function()
      deploy(sim)
      local s1 = ok_call(sim, "listAccountStatistics").accountstat[1]
      clock.t = clock.t + 100
      local s2 = ok_call(sim, "listAccountStatistics").accountstat[1]
      assert.are.equal("WC", s2.zonename)
      assert.is_true(tonumber(s2.receivedbytes) > tonumber(s1.receivedbytes))
      assert.is_true(tonumber(s2.sentbytes) > tonumber(s1.sentbytes))
    end)
  end)

  describe("admin hooks", function()
    it("seeds virtual machines", function()
      local ids = sim:seed("virtualmachine", 7)
      assert.are.equal(7, #ids)
      assert.are.equal(7, #ok_call(sim, "listVirtualMachines").virtualmachine)
      assert.are.equal(3, #ok_call(sim, "listZones").zone)
      sim:reset()
      assert.is_nil(ok_call(sim, "listVirtualMachines").virtualmachine)
    end)

    it("answers faults with 530", function()
      local st, _, body = sim:fault("maintenance")
      assert.are.equal(530, st)
      assert.are.equal(530, (err_code(body)))
      assert.are.equal(530, (sim:fault("rate_limit")))
    end)

    it("exposes the demo credentials", function()
      assert.are.equal(API_KEY, sim.credentials.api_key)
      assert.are.equal(SECRET, sim.credentials.secret_key)
    end)
  end)
end)
