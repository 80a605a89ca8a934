-- The generic engine: names, validation, errors, retries, logging, waiting.
-- Uses the ReliaCloud catalog and an in-process simulator through the
-- transport option (the integration specs do the same over HTTP).
local luacloud = require "luacloud"
local core = require "luacloud.core"

local function sim_transport(sim, calls)
  return function(req)
    calls[#calls + 1] = req
    local path = req.url:match("^https?://[^/]+(.*)$")
    local h = {}
    for k, v in pairs(req.headers or {}) do h[k:lower()] = v end
    local st, hh, body = sim:handle { method = req.method, path = path, headers = h, body = req.body }
    local rh = {}
    for k, v in pairs(hh or {}) do rh[k:lower()] = v end
    return { status = st, headers = rh, body = body }
  end
end

local function client(extra)
  local sim = require("luacloud.sim.reliacloud").new {}
  local calls = {}
  local opts = { endpoint = "http://sim.test/client/api", api_key = "demo-api-key", secret_key = "demo-secret-key",
                 transport = sim_transport(sim, calls), sleep = function() end }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(luacloud.new("reliacloud", opts)), calls, sim
end

describe("luacloud.new", function()
  it("refuses unknown providers and missing credentials with an error object", function()
    local c, err = luacloud.new("nimbus", {})
    assert.is_nil(c)
    assert.matches("unknown provider", tostring(err))
    c, err = luacloud.new("reliacloud", { api_key = "k" })
    assert.is_nil(c)
    assert.are.equal("validation", err.kind)
    assert.matches("secret_key", err.message)
  end)

  it("refuses a format the API does not offer", function()
    local c, err = luacloud.new("reliacloud", { api_key = "k", secret_key = "s", format = "yaml" })
    assert.is_nil(c)
    assert.matches("yaml", err.message)
  end)
end)

describe("operations", function()
  it("are methods by op id and callable by documented name and alias", function()
    local c = client()
    assert.is_function(c.list_zones)
    assert.is_table((c:call("listZones", { available = "true" })))
    assert.is_table((c:call("list_zones", {})))
    assert.is_table((c:call("StopVirtualMachine", { id = "1" }) or {}))
  end)

  it("are introspectable", function()
    local c = client()
    local info = c.operations.list_zones
    assert.are.equal("listZones", info.name)
    assert.are.equal("GET", info.method)
    assert.is_string(info.section)
    assert.are.equal("available", info.params[1].name)
  end)

  it("suggest the right name for a typo", function()
    local c, calls = client()
    local r, err = c:call("list_zone", {})
    assert.is_nil(r)
    assert.are.equal("validation", err.kind)
    assert.matches("did you mean 'list_zones'", err.message)
    assert.are.equal(0, #calls)
  end)
end)

describe("validation before sending", function()
  it("names the operation and the missing parameter", function()
    local c, calls = client()
    local r, err = c:deploy_virtual_machine { zoneId = "1" }
    assert.is_nil(r)
    assert.are.equal("deploy_virtual_machine", err.op)
    assert.are.equal("serviceOfferingId", err.param)
    assert.matches("deploy_virtual_machine", tostring(err))
    assert.matches("serviceOfferingId", tostring(err))
    assert.are.equal(0, #calls)
  end)

  it("rejects unknown parameters and wrong types", function()
    local c, calls = client()
    local _, err = c:list_zones { avaliable = true }
    assert.matches("unknown parameter 'avaliable'", err.message)
    _, err = c:list_zones { available = "maybe" }
    assert.matches("boolean", err.message)
    _, err = c:create_or_update_ip_forwarding_rule { publicip = "1.2.3.4", publicPort = 70000, privateip = "10.0.0.1",
                                                     privatePort = 22, Protocol = "TCP" }
    assert.matches("publicPort", err.message)
    _, err = c:list_zones("zones")
    assert.matches("must be a table", err.message)
    assert.are.equal(0, #calls)
  end)

  it("accepts snake_case spellings of documented names", function()
    local c = client()
    local zones = assert(c:list_zones { available = true })
    local tpl = assert(c:list_templates {}).template[1]
    local off = assert(c:list_service_offerings {}).offering[1]
    local vm = assert(c:deploy_virtual_machine { zone_id = zones.zone[1].id, service_offering_id = off.id,
                                                 template_id = tpl.id, network_domain = "example.com" })
    assert.are.equal("Running", vm.state)
  end)
end)

describe("errors", function()
  it("carry provider, op, status, code, message and retryable, and read well", function()
    local c = client()
    local r, err = c:start_virtual_machine { id = "424242" }
    assert.is_nil(r)
    assert.is_true(luacloud.error.is(err))
    assert.are.equal("reliacloud", err.provider)
    assert.are.equal("start_virtual_machine", err.op)
    assert.are.equal(431, err.status)
    assert.are.equal(431, err.code)
    assert.is_false(err.retryable)
    assert.matches("^luacloud reliacloud start_virtual_machine: api %(HTTP 431%)", tostring(err))
  end)

  it("report wrong credentials as kind auth without leaking the secret", function()
    local c = client { secret_key = "wrong-secret-key" }
    local _, err = c:list_zones {}
    assert.are.equal(401, err.status)
    assert.are.equal("auth", err.kind)
    assert.is_nil(tostring(err):find("wrong-secret-key", 1, true))
  end)

  it("turn a malformed body into a decode error, not a crash", function()
    local c = client { transport = function() return { status = 200, headers = {}, body = "<listzonesresponse><zone>" } end }
    local _, err = c:list_zones {}
    assert.are.equal("decode", err.kind)
    assert.matches("truncated", err.message)
  end)
end)

describe("retries", function()
  local function flaky(status, n)
    local calls = 0
    return function(req)
      calls = calls + 1
      if calls <= n then return { status = status, headers = {}, body = "" } end
      return { status = 200, headers = {}, body = "<listzonesresponse><zone><id>1</id><name>A</name></zone></listzonesresponse>" }
    end, function() return calls end
  end

  it("repeat a safe call on a retryable failure, with backoff", function()
    local t, count = flaky(530, 2)
    local slept = {}
    local c = assert(luacloud.new("reliacloud", { api_key = "k", secret_key = "s", transport = t, retries = 2,
                                                  sleep = function(s) slept[#slept + 1] = s end }))
    local r = assert(c:list_zones {})
    assert.are.equal(3, count())
    assert.are.equal("A", r.zone[1].name)
    assert.are.equal(2, #slept)
    assert.is_true(slept[2] > slept[1])
  end)

  it("give up after `retries`", function()
    local t, count = flaky(530, 10)
    local c = assert(luacloud.new("reliacloud", { api_key = "k", secret_key = "s", transport = t, retries = 1, sleep = function() end }))
    local _, err = c:list_zones {}
    assert.are.equal(530, err.status)
    assert.are.equal(2, count())
  end)

  it("never send a non-idempotent request twice after it may have arrived", function()
    local calls = 0
    local c = assert(luacloud.new("reliacloud", { api_key = "k", secret_key = "s", retries = 3, sleep = function() end,
      transport = function() calls = calls + 1 return nil, { kind = "timeout", message = "timed out" } end }))
    c.operations = setmetatable({}, { __index = c.catalog.operations })
    local entry = {}
    for k, v in pairs(c.catalog.operations.deploy_virtual_machine) do entry[k] = v end
    entry.method = "POST"
    rawset(c.operations, "deploy_post", entry)
    c.catalog = setmetatable({ operations = c.operations }, { __index = c.catalog })
    local _, err = c:call("deploy_post", { zoneId = "1", serviceOfferingId = "1", templateId = "1", networkDomain = "d" })
    assert.are.equal("timeout", err.kind)
    assert.are.equal(1, calls)
  end)
end)

describe("retry safety", function()
  it("never repeat a ReliaCloud deploy (a GET) after a server error", function()
    local calls = 0
    local c = assert(luacloud.new("reliacloud", { api_key = "k", secret_key = "s", retries = 3, sleep = function() end,
      transport = function() calls = calls + 1 return { status = 530, headers = {}, body = "" } end }))
    local _, err = c:deploy_virtual_machine { zoneId = "1", serviceOfferingId = "1", templateId = "1", networkDomain = "d" }
    assert.are.equal(530, err.status)
    assert.are.equal(1, calls)
    calls = 0
    c:list_zones {}
    assert.are.equal(4, calls)
  end)
end)

describe("c:batch", function()
  it("never sends a failed non-idempotent call a second time", function()
    local sent = 0
    local t = setmetatable({
      start = function() sent = sent + 1 return { finish = function() return { status = 530, headers = {}, body = "" } end } end,
    }, { __call = function() sent = sent + 1 return { status = 530, headers = {}, body = "" } end })
    local c = assert(luacloud.new("reliacloud", { api_key = "k", secret_key = "s", transport = t, retries = 2, sleep = function() end }))
    local res = c:batch({ { "deploy_virtual_machine", { zoneId = "1", serviceOfferingId = "1", templateId = "1", networkDomain = "d" } } })
    assert.are.equal(530, res[1].err.status)
    assert.are.equal(1, sent)
    sent = 0
    res = c:batch({ { "list_zones", {} } })
    assert.are.equal(530, res[1].err.status)
    assert.are.equal(4, sent) -- the early send, then the full path with its 2 retries
  end)
end)

describe("command override", function()
  it("puts the caller's wire name on the wire", function()
    local c = client { dry_run = true, commands = { list_ip_address = "listIpAddresses" } }
    assert.matches("command=listIpAddresses&", c:list_ip_address {}.request.url)
  end)
end)

describe("logging", function()
  it("never hands secrets to the log hook", function()
    local events = {}
    local c = client { log = function(e) events[#events + 1] = e end }
    assert(c:list_zones {})
    assert.is_true(#events > 0)
    for _, e in ipairs(events) do
      local s = e.url or ""
      assert.is_nil(s:find("demo-api-key", 1, true))
      assert.matches("apiKey=REDACTED", s)
      assert.matches("signature=REDACTED", s)
    end
  end)

  it("session logins keep the password out of URLs", function()
    local c, calls = client { api_key = false, secret_key = false, username = "demo", password = "demo-password" }
    assert(c:list_zones {})
    for _, req in ipairs(calls) do assert.is_nil(req.url:find("demo-password", 1, true)) end
    assert.are.equal("POST", calls[1].method)
  end)
end)

describe("sessions", function()
  it("keep cookies per client", function()
    local a = client { api_key = false, secret_key = false, username = "demo", password = "demo-password" }
    local b = client { api_key = false, secret_key = false, username = "demo", password = "demo-password" }
    assert(a:list_zones {})
    assert.is_string(a.cookies:header())
    assert.is_nil(b.cookies:header())
  end)

  it("log in again once when the session has expired", function()
    local c, calls = client { api_key = false, secret_key = false, username = "demo", password = "demo-password" }
    assert(c:list_zones {})
    c.cookies.items.JSESSIONID.value = "expired"
    local n = #calls
    assert(c:list_zones {})
    assert.are.equal(n + 3, #calls) -- refused call, login, retried call
  end)
end)

describe("c:wait", function()
  it("polls with backoff until done, reporting progress", function()
    local c = client()
    local sleeps, progress, n = {}, {}, 0
    c.sleep = function(s) sleeps[#sleeps + 1] = s end
    local r = assert(c:wait(function() n = n + 1 return n >= 4 and "ready", n * 25 end,
      { interval = 1, backoff = 2, progress = function(p) progress[#progress + 1] = p end }))
    assert.are.equal("ready", r)
    assert.are.same({ 1, 2, 4 }, sleeps)
    assert.are.same({ 25, 50, 75, 100 }, progress)
  end)

  it("times out with a retryable timeout error", function()
    local c = client()
    local now = 0
    c.clock = function() return now end
    c.sleep = function(s) now = now + s end
    local r, err = c:wait(function() return false, 10 end, { timeout = 5, interval = 1 })
    assert.is_nil(r)
    assert.are.equal("timeout", err.kind)
    assert.matches("5s", err.message)
  end)
end)

describe("dry run", function()
  it("returns the signed request instead of sending it", function()
    local c, calls = client { dry_run = true }
    local r = c:list_zones { available = true }
    assert.is_true(r.dry_run)
    assert.matches("command=listZones&available=true&apiKey=demo%-api%-key&signature=", r.request.url)
    assert.are.equal(0, #calls)
  end)
end)

describe("array marker", function()
  it("is shared between decoders so lists re-encode as JSON arrays", function()
    local c = client { format = "json" }
    local zones = assert(c:list_zones { available = true })
    assert.are.equal(core.array_mt, getmetatable(zones.zone))
    assert.matches("^%[", core.json_encode(zones.zone))
  end)
end)
