-- The retry policy (lua/luacloud/retry.lua) as the engine applies it: what is repeated, what an
-- error says about the request it ends (applied, retryable), the one deadline of a call, misuse
-- that must come back as nil, err, and per-call state that light threads sharing a client keep apart.
local luacloud = require "luacloud"
local retry = require "luacloud.retry"

local OK_ACCOUNT = [[<?xml version="1.0"?><ns3:Account xmlns:ns3="http://oec.api.opsource.net/schemas/directory">
<ns3:userName>demo</ns3:userName><ns3:orgId>org1</ns3:orgId></ns3:Account>]]

-- a transport answering from a script: { {status=, headers=, body=} | {err = {kind=, message=}} ... }
local function scripted(script)
  local sent = {}
  return function(req)
    sent[#sent + 1] = req
    local step = script[math.min(#sent, #script)]
    if step.err then return nil, step.err end
    return { status = step.status, headers = step.headers or {}, body = step.body or "" }
  end, sent
end

local function dd(script, extra)
  local t, sent = scripted(script)
  local slept = {}
  local opts = { username = "demo", password = "pw", org_id = "org1", endpoint = "http://dd.test", transport = t,
                 sleep = function(s) slept[#slept + 1] = s end }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(luacloud.new("dimensiondata", opts)), sent, slept
end

describe("retry policy", function()
  it("retries a Dimension Data GET that timed out or whose connection dropped (safe_to_repeat, not only `safe`)", function()
    for _, kind in ipairs { "timeout", "transport" } do
      local c, sent = dd { { err = { kind = kind, message = "boom" } }, { status = 200, body = OK_ACCOUNT } }
      local r = assert(c:get_my_account())
      assert.are.equal("org1", r.orgId)
      assert.are.equal(2, #sent, kind)
    end
  end)

  it("never repeats a create that may have arrived, and says it may have been applied", function()
    local c, sent = dd({ { err = { kind = "timeout", message = "timed out" } } }, { retries = 3 })
    local _, err = c:create_server_anti_affinity_rule { serverId = { "s1", "s2" } }
    assert.are.equal(1, #sent)
    assert.are.equal("timeout", err.kind)
    assert.are.equal("maybe", err.applied)
    assert.is_false(err.retryable)
  end)

  it("a 503 on a create is not retryable: it may have been applied", function()
    local c, sent = dd({ { status = 503, headers = { ["retry-after"] = "1" }, body = "busy" } }, { retries = 3 })
    local _, err = c:create_server_anti_affinity_rule { serverId = { "s1", "s2" } }
    assert.are.equal(1, #sent)
    assert.are.equal(503, err.status)
    assert.are.equal("maybe", err.applied)
    assert.is_false(err.retryable)
    -- the same answer to a read is retryable
    c = dd({ { status = 503, body = "busy" } }, { retries = 0 })
    _, err = c:get_my_account()
    assert.is_true(err.retryable)
  end)

  it("repeats even a create when the connection was refused (nothing arrived)", function()
    local c, sent = dd { { err = { kind = "connect", message = "refused" } },
                         { status = 200, body = [[<Status><operation>x</operation><result>SUCCESS</result></Status>]] } }
    assert(c:create_server_anti_affinity_rule { serverId = { "s1", "s2" } })
    assert.are.equal(2, #sent)
    c, sent = dd({ { err = { kind = "connect", message = "refused" } } }, { retries = 1 })
    local _, err = c:create_server_anti_affinity_rule { serverId = { "s1", "s2" } }
    assert.are.equal("no", err.applied)
    assert.are.equal(2, #sent)
  end)

  it("takes retryable statuses and API codes from the catalog", function()
    assert.is_table(luacloud.catalog("dimensiondata").retry)
    local busy = [[<Status><operation>Deploy</operation><result>ERROR</result><resultDetail>busy</resultDetail>
<resultCode>REASON_11</resultCode></Status>]]
    -- REASON_11 (system busy: the API refused, nothing done) is retried even for a create
    local c, sent = dd { { status = 400, body = busy },
                         { status = 200, body = [[<Status><operation>x</operation><result>SUCCESS</result></Status>]] } }
    assert(c:create_server_anti_affinity_rule { serverId = { "s1", "s2" } })
    assert.are.equal(2, #sent)
    local bad = busy:gsub("REASON_11", "REASON_100")
    c, sent = dd { { status = 400, body = bad } }
    local _, err = c:get_my_account()
    assert.are.equal("REASON_100", err.code)
    assert.is_false(err.retryable)
    assert.are.equal("no", err.applied)
    assert.are.equal(1, #sent)
  end)

  it("backs off exponentially with jitter", function()
    local lo = { retry.delay({ retry_delay = 1 }, 1, nil, function() return 0 end),
                 retry.delay({ retry_delay = 1 }, 3, nil, function() return 0 end) }
    local hi = { retry.delay({ retry_delay = 1 }, 1, nil, function() return 0.999 end),
                 retry.delay({ retry_delay = 1 }, 3, nil, function() return 0.999 end) }
    assert.are.equal(0.5, lo[1])
    assert.are.equal(2, lo[2])
    assert.is_true(hi[1] > 0.99 and hi[1] < 1)
    assert.is_true(hi[2] > 3.99 and hi[2] < 4)
    assert.are.equal(30, (retry.delay({ retry_delay = 1 }, 20, { retry_after = 30 })))
  end)
end)

describe("the deadline of a call", function()
  it("does not sleep through a Retry-After of a day: returns at once and says why", function()
    local c, sent, slept = dd({ { status = 503, headers = { ["retry-after"] = "86400" }, body = "maintenance" } },
      { timeout = 3 })
    local t0 = os.time()
    local _, err = c:get_my_account()
    assert.is_true(os.time() - t0 <= 1)
    assert.are.equal(0, #slept)
    assert.are.equal(1, #sent)
    assert.are.equal(86400, err.retry_after)
    assert.are.equal("deadline", err.gave_up)
    assert.is_true(err.retryable)
    assert.matches("not retried", err.message)
  end)

  it("bounds every attempt's timeout and the total wait (fake clock)", function()
    local now = 0
    local c, sent, slept = dd({ { err = { kind = "timeout", message = "timed out" } } },
      { timeout = 4, deadline = 10, retries = 10, clock = function() return now end })
    local t = c.transport
    c.transport = setmetatable({}, { __call = function(_, req) now = now + req.timeout return t(req) end })
    c.sleep = function(s) slept[#slept + 1] = s now = now + s end
    local _, err = c:get_my_account()
    assert.are.equal("timeout", err.kind)
    assert.is_true(now <= 10, "took " .. now .. " s of a 10 s deadline")
    assert.are.equal(4, sent[1].timeout)
    assert.is_true(sent[#sent].timeout < 4) -- the last attempt only got what was left
    assert.are.equal("deadline", err.gave_up)
  end)

  it("tells the caller why it waits (log event and on_wait)", function()
    local events, waits = {}, {}
    local c = dd({ { status = 503, headers = { ["retry-after"] = "2" }, body = "x" }, { status = 200, body = OK_ACCOUNT } },
      { log = function(e) events[#events + 1] = e end, on_wait = function(w) waits[#waits + 1] = w end })
    assert(c:get_my_account())
    assert.are.equal(1, #waits)
    assert.are.equal("retry_after", waits[1].reason)
    assert.are.equal(2, waits[1].seconds)
    local found
    for _, e in ipairs(events) do if e.event == "retry" then found = e end end
    assert.are.equal("get_my_account", found.op)
    assert.are.equal(2, found.seconds)
  end)

  it("retries a Clodo 413 OverLimit read after the Retry-After it gives", function()
    local calls = {}
    local over = [[{"overLimit":{"code":413,"message":"Over Limit"}}]]
    local function t(req)
      calls[#calls + 1] = req.method .. " " .. req.url
      if req.url:match("/$") and req.headers["X-Auth-User"] then
        return { status = 204, headers = { ["x-auth-token"] = "tok", ["x-server-management-url"] = "http://clodo.test/v1" }, body = "" }
      end
      if req.url:match("/limits$") then return { status = 200, headers = {}, body = [[{"limits":{"rate":[]}}]] } end
      if #calls == 2 then return { status = 413, headers = { ["retry-after"] = "3" }, body = over } end
      return { status = 200, headers = {}, body = [[{"images":[]}]] }
    end
    local slept = {}
    local c = assert(luacloud.new("clodo", { user = "u", key = "k", endpoint = "http://clodo.test", transport = t,
      sleep = function(s) slept[#slept + 1] = s end }))
    assert(c:list_images())
    assert.are.same({ 3 }, slept)
  end)
end)

describe("misuse returns nil, err (kind validation) naming what is wrong", function()
  local base = { api_key = "k", secret_key = "s", endpoint = "http://r.test/client/api" }
  local function with(k, v)
    local o = {}
    for a, b in pairs(base) do o[a] = b end
    o[k] = v
    return o
  end

  for _, case in ipairs {
    { "timeout", 0 }, { "timeout", -1 }, { "timeout", "abc" }, { "max_response", -5 }, { "endpoint", 123 },
    { "retries", "two" }, { "deadline", 0 }, { "on_wait", "x" },
  } do
    it("option " .. case[1] .. " = " .. tostring(case[2]), function()
      local ok, c, err = pcall(luacloud.new, "reliacloud", with(case[1], case[2]))
      assert.is_true(ok)
      assert.is_nil(c)
      assert.are.equal("validation", err.kind)
      assert.matches("option '" .. case[1] .. "'", err.message)
    end)
  end

  it("options given as a string", function()
    local c, err = luacloud.new("reliacloud", "json")
    assert.is_nil(c)
    assert.matches("options must be a table, got string", err.message)
  end)

  it("c:batch('x'), c.list_zones({}) and a 1 MB parameter", function()
    local sent = 0
    local c = assert(luacloud.new("reliacloud", with("transport", function() sent = sent + 1 end)))
    local r, err = c:batch("x")
    assert.is_nil(r)
    assert.are.equal("validation", err.kind)
    r, err = c.list_zones({})
    assert.is_nil(r)
    assert.matches("c:list_zones", err.message)
    for _, m in ipairs { "call", "wait", "batch" } do
      local ok, r2, e2 = pcall(c[m], "list_zones", {})
      assert.is_true(ok, m)
      assert.is_nil(r2, m)
      assert.matches("c:" .. m, e2.message)
    end
    local ok, r3, e3 = pcall(c.pages("list_zones", {}))
    assert.is_true(ok)
    assert.is_nil(r3)
    assert.matches("c:pages", e3.message)
    r, err = c:wait(function() return true end, "soon")
    assert.is_nil(r)
    assert.matches("options must be a table", err.message)
    r, err = c:wait(function() return true end, { timeout = "abc" })
    assert.is_nil(r)
    assert.are.equal("timeout", err.param)
    r, err = c:stop_virtual_machine { id = string.rep("1", 1024 * 1024) }
    assert.is_nil(r)
    assert.are.equal("validation", err.kind)
    assert.are.equal("id", err.param)
    -- many values, each short enough: the whole URL is still bounded
    local many = {}
    for i = 1, 8 do many[i] = string.rep("v", 60000) end
    local ddc = assert(luacloud.new("dimensiondata", { username = "u", password = "p", org_id = "o", endpoint = "http://d.test",
      transport = function() sent = sent + 1 end }))
    r, err = ddc:list_servers { _raw = { id = many } }
    assert.is_nil(r)
    assert.are.equal("validation", err.kind)
    assert.matches("request URL would be", err.message)
    assert.are.equal(0, sent)
  end)
end)

describe("per-call state", function()
  it("two coroutines sharing a client keep their own op in errors", function()
    local waiting
    local t = function(req)
      if req.url:find("command=listZones", 1, true) then
        waiting = true
        coroutine.yield()
      end
      return { status = 431, headers = {}, body = "" }
    end
    local c = assert(luacloud.new("reliacloud", { api_key = "k", secret_key = "s", endpoint = "http://r.test/client/api",
      transport = t }))
    local a = coroutine.create(function() return c:list_zones {} end)
    assert(coroutine.resume(a)) -- A is on the wire
    assert.is_true(waiting)
    local _, eb = c:stop_virtual_machine { id = "1" } -- B runs meanwhile
    assert.are.equal("stop_virtual_machine", eb.op)
    local _, _, ea = coroutine.resume(a)
    assert.are.equal("list_zones", ea.op)
  end)

  it("Clodo reads the rate limit of its own request, not of another coroutine's (per-call _clodo_last)", function()
    local limits = [[{"limits":{"rate":[
      {"verb":"GET","URI":"*","regex":".*","value":60,"remaining":0,"unit":"MINUTE","resetTime":1010},
      {"verb":"POST","URI":"*","regex":".*","value":10,"remaining":0,"unit":"MINUTE","resetTime":1040}]}}]]
    local over = [[{"overLimit":{"code":413,"message":"Over Limit"}}]]
    local function t(req)
      if req.headers["X-Auth-User"] then
        return { status = 204, headers = { ["x-auth-token"] = "tok", ["x-server-management-url"] = "http://clodo.test/v1" } }
      end
      if req.url:match("/limits$") then return { status = 200, headers = {}, body = limits } end
      if req.method == "POST" then
        coroutine.yield()
        return { status = 413, headers = {}, body = over }
      end
      return { status = 200, headers = {}, body = [[{"images":[]}]] }
    end
    local c = assert(luacloud.new("clodo", { user = "u", key = "k", endpoint = "http://clodo.test", transport = t,
      clock = function() return 1000 end, sleep = function() end }))
    local a = coroutine.create(function()
      return c:create_server { name = "a", vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5, vps_admin = 1, vps_os = 541 }
    end)
    assert(coroutine.resume(a)) -- the POST is on the wire
    assert(c:list_images())     -- another light thread's GET meanwhile
    local _, _, err = coroutine.resume(a)
    assert.are.equal(413, err.status)
    assert.are.equal(40, err.retry_after) -- the POST limit, not the GET one (10)
    assert.are.equal("create_server", err.op)
  end)
end)
