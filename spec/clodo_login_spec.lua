-- Clodo's login (issue 12) is the catalog's authenticate entry on the engine's one path: built
-- from its header params, prepared and sent by the engine in a context of its own, sent once per
-- attempt of the call that needed the token (the call's retry policy decides about repeats), and
-- its credentials never reach a log event or an error.
local luacloud = require "luacloud"

local USER, KEY = "login-user-7f3a", "key-5e1b9c0d2a"
local ENDPOINT = "https://api.clodo.example"
local MGMT = "https://mgmt.clodo.example/v1/7"

local function client(answer, extra)
  local sent, events = {}, {}
  local o = { user = USER, key = KEY, endpoint = ENDPOINT, retry_delay = 0, sleep = function() end,
              log = function(e) events[#events + 1] = e end,
              transport = function(req) sent[#sent + 1] = req return answer(req, #sent) end }
  for k, v in pairs(extra or {}) do o[k] = v end
  return assert(luacloud.new("clodo", o)), sent, events
end

local function token_answer(req)
  if req.url == ENDPOINT .. "/" then
    return { status = 204, headers = { ["x-auth-token"] = "tok", ["x-server-management-url"] = MGMT }, body = "" }
  end
  return { status = 200, headers = { ["content-type"] = "application/json" }, body = '{"images":[]}' }
end

-- everything a caller can see of a call: its log events and its error, as text
local function seen(events, err)
  local parts = {}
  local function dump(v, depth)
    if depth > 6 then return end
    if type(v) == "table" then
      for k, x in pairs(v) do parts[#parts + 1] = tostring(k) dump(x, depth + 1) end
    else
      parts[#parts + 1] = tostring(v)
    end
  end
  dump(events, 0)
  if err then dump(err, 0) parts[#parts + 1] = tostring(err) end
  return table.concat(parts, "\n")
end

describe("clodo login on the engine's path", function()
  it("is the authenticate entry built, prepared and sent by the engine", function()
    local c, sent = client(token_answer)
    assert(c:list_images())
    assert.are.equal(2, #sent)
    local login = sent[1]
    assert.are.equal("authenticate", login.op) -- the catalog entry's request, not a hand-built one
    assert.are.equal("GET", login.method)
    assert.are.equal(ENDPOINT .. "/", login.url)
    assert.is_true(login.idempotent) -- the engine's retry policy marked it (a plain GET)
    assert.are.equal(USER, login.headers["X-Auth-User"])
    assert.are.equal(KEY, login.headers["X-Auth-Key"])
    assert.are.equal("application/json", login.headers.Accept)
    assert.are.equal("tok", sent[2].headers["X-Auth-Token"])
    assert.are.equal(MGMT .. "/images", sent[2].url)
  end)

  it("takes the credentials from the username / api_key spellings too", function()
    local sent = {}
    local c = assert(luacloud.new("clodo", { username = "other-user", api_key = "other-key", endpoint = ENDPOINT,
      transport = function(req) sent[#sent + 1] = req return token_answer(req) end }))
    assert(c:list_images())
    assert.are.equal("other-user", sent[1].headers["X-Auth-User"])
    assert.are.equal("other-key", sent[1].headers["X-Auth-Key"])
  end)

  it("is sent once per attempt of the call: a refused connection gives 1 + retries logins", function()
    local c, sent = client(function() return nil, { kind = "connect", message = "connection refused" } end)
    local res, err = c:list_images()
    assert.is_nil(res)
    assert.are.equal(3, #sent) -- retries = 2: three attempts, one login each, no retry inside the login
    for _, r in ipairs(sent) do assert.are.equal(ENDPOINT .. "/", r.url) end
    assert.are.equal("transport", err.kind)
    assert.are.equal("authenticate", err.op)
    assert.are.equal("no", err.applied)
  end)

  for _, status in ipairs { 401, 403 } do
    it("a refused login (" .. status .. ") is one auth error of op authenticate, never repeated", function()
      local c, sent, events = client(function() return { status = status, headers = {}, body = "" } end)
      local res, err = c:list_images()
      assert.is_nil(res)
      assert.are.equal(1, #sent)
      assert.are.equal("auth", err.kind)
      assert.are.equal(status, err.status)
      assert.are.equal("authenticate", err.op)
      assert.is_false(err.retryable)
      local text = seen(events, err)
      assert.is_nil(text:find(KEY, 1, true))
      assert.is_nil(text:find(USER, 1, true))
    end)
  end

  it("keeps X-Auth-User / X-Auth-Key out of log events and errors (a timeout, then a 5xx)", function()
    local c, _, events = client(function(_, n)
      if n == 1 then return nil, { kind = "timeout", message = "timed out" } end
      return { status = 500, headers = {}, body = "<internalServerError code=\"500\"><message>m</message></internalServerError>" }
    end)
    local _, err = c:list_images()
    assert.is_table(err)
    local text = seen(events, err)
    assert.is_nil(text:find(KEY, 1, true), text)
    assert.is_nil(text:find(USER, 1, true), text)
  end)

  it("under a dry run sends nothing and puts placeholders in the token's place", function()
    local c, sent = client(token_answer, { dry_run = true })
    local r = assert(c:list_images())
    assert.are.equal(0, #sent)
    assert.are.equal("{token}", r.request.headers["X-Auth-Token"])
  end)

  it("keeps the token's lifetime from the answer and renews it before it runs out", function()
    local now = 1000
    local c, sent = client(token_answer, { clock = function() return now end })
    assert(c:list_images())
    now = now + 1200 - 30 -- inside the 60 s margin of the 20-minute token
    assert(c:list_images())
    local logins = 0
    for _, r in ipairs(sent) do if r.op == "authenticate" then logins = logins + 1 end end
    assert.are.equal(2, logins)
  end)
end)

describe("clodo's rate-limit lookup on the engine's path", function()
  it("reads GET /limits as the catalog's get_limits entry, with the token, once per refusal", function()
    local reset = os.time() + 7
    local c, sent = client(function(req)
      if req.url == ENDPOINT .. "/" then return token_answer(req) end
      if req.url == MGMT .. "/limits" then
        return { status = 200, headers = { ["content-type"] = "application/json" }, body =
          '{"limits":{"rate":[{"verb":"GET","URI":"*","regex":".*","value":60,"remaining":0,"unit":"MINUTE","resetTime":'
          .. reset .. '}],"absolute":{}}}' }
      end
      return { status = 413, headers = { ["content-type"] = "application/json" },
               body = '{"overLimit":{"code":413,"message":"Over Limit","details":"wait"}}' }
    end, { retries = 0 })
    local res, err = c:list_images()
    assert.is_nil(res)
    assert.is_true(err.rate_limited)
    assert.is_true(err.retry_after > 0 and err.retry_after <= 7)
    assert.are.equal(reset, err.details.limit.resetTime)
    local limits = {}
    for _, r in ipairs(sent) do if r.url == MGMT .. "/limits" then limits[#limits + 1] = r end end
    assert.are.equal(1, #limits)
    assert.are.equal("get_limits", limits[1].op) -- the entry's request, not a hand-built one
    assert.are.equal("tok", limits[1].headers["X-Auth-Token"])
    assert.are.equal("list_images", err.op)
  end)
end)
