-- A CenturyLink Logon is a success only when the API says so: the document's answer carries
-- Success, Message and StatusCode (LogonResponse Success="true" Message="Login Successful"
-- StatusCode="0"). A 200 with another body (a portal or proxy page) used to count as a login.
local luacloud = require "luacloud"
local fake = require "spec.support.fake_server"

describe("centurylink Logon answered by a 200 that is not an API answer", function()
  local srv
  setup(function() srv = fake.start() end)
  teardown(function() if srv then srv.stop() end end)

  local function first_call()
    local c = assert(luacloud.new("centurylink", { api_key = "k", password = "p", endpoint = srv.base, retries = 0 }))
    local res, err = c:call("get_locations", {})
    c:close()
    return res, err
  end

  for _, case in ipairs {
    { "an HTML page", "<html><body>Welcome to the portal</body></html>", "text/html" },
    { "JSON of something else", '{"hello":"world"}', "application/json" },
  } do
    it("is refused: " .. case[1], function()
      srv.reset()
      srv.answer(case[2], case[3], 200)
      local res, err = first_call()
      assert.is_nil(res)
      assert.are.equal("decode", err.kind)
      assert.are.equal("logon", err.op)
      assert.are.equal(1, srv.counts().total) -- the call itself was never sent
    end)
  end

  it("a documented Logon answer still logs on", function()
    srv.reset()
    srv.answer('{"Success":true,"Message":"Login Successful","StatusCode":0}', "application/json", 200)
    local res = first_call()
    assert.is_table(res)
    assert.are.equal(2, srv.counts().total) -- Logon, then the call
  end)
end)
