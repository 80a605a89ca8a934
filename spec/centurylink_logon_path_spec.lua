-- CenturyLink's automatic Logon (issue 12) is the catalog's logon entry on the engine's one path:
-- built from its params (api_key / password as options), prepared and sent by the engine once per
-- attempt of the call that needed the session.
local luacloud = require "luacloud"

local LOGON_OK = '{"Success":true,"Message":"Login Successful","StatusCode":0}'

local function client(answer)
  local sent = {}
  local c = assert(luacloud.new("centurylink", { api_key = "k-1", password = "p-2", endpoint = "https://api.ctl.io",
    retry_delay = 0, sleep = function() end,
    transport = function(req) sent[#sent + 1] = req return answer(req) end }))
  return c, sent
end

describe("centurylink logon on the engine's path", function()
  it("is the logon entry built, prepared and sent by the engine, then the cookie goes with the call", function()
    local c, sent = client(function(req)
      if req.url:find("/REST/Auth/Logon/", 1, true) then
        return { status = 200, headers = { ["set-cookie"] = "Tier3.API.Cookie=abc; path=/" }, body = LOGON_OK }
      end
      return { status = 200, headers = {}, body = '{"Success":true,"StatusCode":0,"Message":"","Locations":[]}' }
    end)
    assert(c:get_locations())
    assert.are.equal(2, #sent)
    assert.are.equal("logon", sent[1].op) -- the catalog entry's request, not a hand-built one
    assert.are.equal("POST", sent[1].method)
    local body = require("luacloud.core").json_decode(sent[1].body)
    assert.are.equal("k-1", body.APIKey)
    assert.are.equal("p-2", body.Password)
    assert.are.equal(sent[1].headers["Content-Type"], sent[1].headers.Accept)
    assert.is_false(sent[1].idempotent)
    assert.are.equal("Tier3.API.Cookie=abc", sent[2].headers.Cookie)
  end)

  it("a refused connection: one Logon per attempt of the call (1 + retries), op logon", function()
    local c, sent = client(function() return nil, { kind = "connect", message = "refused" } end)
    local _, err = c:get_locations()
    assert.are.equal(3, #sent)
    assert.are.equal("logon", err.op)
    assert.are.equal("transport", err.kind)
  end)

  it("wrong credentials (StatusCode 100): one Logon, an auth error of op logon, not retried", function()
    local c, sent = client(function()
      return { status = 200, headers = {}, body = '{"Success":false,"Message":"bad","StatusCode":100}' }
    end)
    local _, err = c:get_locations()
    assert.are.equal(1, #sent)
    assert.are.equal("auth", err.kind)
    assert.are.equal("logon", err.op)
    assert.is_false(err.retryable)
  end)
end)
