-- ReliaCloud's session login (issue 12) is the catalog's login entry on the engine's one path,
-- like Clodo's authenticate: built and prepared by the engine (a form POST: the password is in
-- no URL), sent once per attempt of the call that needed the session, the answer decoded by the
-- one decoder (the document's sample: <login><description>success</description><timeout>1800),
-- and the password in no log event or error.
local luacloud = require "luacloud"

local ENDPOINT = "https://api.reliacloud.example/client/api"
local PASSWORD = "pw-9d8c&7b=6a"
local LOGIN_OK = "<login>\n  <description>success</description>\n  <timeout>1800</timeout>\n</login>"
local ZONES = "<listzonesresponse><count>0</count></listzonesresponse>"

local function client(answer)
  local sent, events = {}, {}
  local c = assert(luacloud.new("reliacloud", { endpoint = ENDPOINT, username = "ops", password = PASSWORD,
    retry_delay = 0, sleep = function() end, log = function(e) events[#events + 1] = e end,
    transport = function(req) sent[#sent + 1] = req return answer(req, #sent) end }))
  return c, sent, events
end

local function xml(body, status)
  return { status = status or 200, headers = { ["content-type"] = "text/xml", ["set-cookie"] = "JSESSIONID=s1; Path=/" },
           body = body }
end

local function text_of(v, out, depth)
  out, depth = out or {}, depth or 0
  if type(v) == "table" and depth < 8 then
    for k, x in pairs(v) do out[#out + 1] = tostring(k) text_of(x, out, depth + 1) end
  else
    out[#out + 1] = tostring(v)
  end
  return table.concat(out, "\n")
end

describe("reliacloud session login on the engine's path", function()
  it("is the catalog's login entry, a form POST with the password encoded in the body only", function()
    local c, sent = client(function(req) return xml(req.op == "login" and LOGIN_OK or ZONES) end)
    assert(c:list_zones {})
    assert.equal(2, #sent)
    local login = sent[1]
    assert.equal("login", login.op) -- the engine built it from the entry, not a hand-built request
    assert.equal("POST", login.method)
    assert.equal("application/x-www-form-urlencoded", login.headers["Content-Type"])
    assert.truthy(login.body:find("command=login", 1, true), login.body)
    assert.truthy(login.body:find("password=pw-9d8c%267b%3D6a", 1, true), login.body)
    assert.falsy(login.url:find("pw-", 1, true))
    assert.equal(1800, c.session.timeout)
    assert.equal("list_zones", sent[2].op)
  end)

  it("refused: an auth error naming login, the password in no log event or error", function()
    local c, sent, events = client(function()
      return xml('<loginresponse><errorcode>401</errorcode><errortext>failed to authenticate user ops</errortext></loginresponse>', 401)
    end)
    local res, err = c:list_zones {}
    assert.is_nil(res)
    assert.equal("auth", err.kind)
    assert.equal("login", err.op)
    assert.truthy(#events > 0)
    assert.falsy(text_of(events):find(PASSWORD, 1, true))
    assert.falsy(text_of(err):find(PASSWORD, 1, true))
    assert.falsy(tostring(err):find(PASSWORD, 1, true))
    assert.equal(1, #sent) -- wrong credentials are not sent again
  end)

  it("a dropped login is sent once per attempt of the call that needed it", function()
    local c, sent = client(function(req)
      if req.op == "login" then return nil, { kind = "connect", message = "connection refused" } end
      return xml(ZONES)
    end)
    local res, err = c:list_zones {}
    assert.is_nil(res)
    assert.equal("transport", err.kind == "transport" and "transport" or err.kind) -- classified by the engine
    local logins = 0
    for _, r in ipairs(sent) do if r.op == "login" then logins = logins + 1 end end
    assert.equal(#sent, logins)
    assert.is_true(logins >= 1 and logins <= 3, "logins: " .. logins) -- retries (default 2) bound it
  end)
end)
