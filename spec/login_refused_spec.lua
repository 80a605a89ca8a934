-- One rule for every provider with a login (the engine's, from the catalog's `login = true`
-- entries): a refused login means wrong credentials, so it is not re-authenticated and sent again;
-- an auth error on any other call (an expired session or token) logs in again once.
local luacloud = require "luacloud"

local REFUSE = {
  reliacloud = function() return { status = 401, headers = { ["content-type"] = "text/xml" },
    body = "<loginresponse><errorcode>401</errorcode><errortext>failed to authenticate</errortext></loginresponse>" } end,
  centurylink = function() return { status = 200, headers = { ["content-type"] = "application/json" },
    body = '{"Success":false,"StatusCode":100,"Message":"Invalid credentials"}' } end,
  clodo = function() return { status = 401, headers = {}, body = "" } end,
}
local LOGIN = { reliacloud = "login", centurylink = "logon", clodo = "authenticate" }
local OPTS = {
  reliacloud = { endpoint = "http://rc.example/client/api", username = "u", password = "p" },
  centurylink = { endpoint = "https://cl.example", api_key = "k", password = "p" },
  clodo = { endpoint = "https://clodo.example", user = "u", key = "k" },
}
local CALL = { reliacloud = "list_zones", centurylink = "get_groups", clodo = "list_servers" }
local PARAMS = { centurylink = { Location = "WA1" } }

for provider, refuse in pairs(REFUSE) do
  describe(provider .. " login refused", function()
    it("is sent once, and the call's error names the login", function()
      local sent = {}
      local o = { retry_delay = 0, sleep = function() end,
                  transport = function(req) sent[#sent + 1] = req.op return refuse(req) end }
      for k, v in pairs(OPTS[provider]) do o[k] = v end
      local c = assert(luacloud.new(provider, o))
      local res, err = c:call(CALL[provider], PARAMS[provider] or {})
      assert.is_nil(res)
      assert.equal("auth", err.kind)
      assert.equal(LOGIN[provider], err.op)
      assert.same({ LOGIN[provider] }, sent)
      assert.is_true(c.catalog.operations[LOGIN[provider]].login)
    end)
  end)
end
