-- CenturyLink's prepare logs on before the first call and adds the new cookie itself (the
-- request was built before the jar had it): the jar must be asked with the request's URL, or a
-- cookie set with Secure, Path or for another host goes where RFC 6265 5.4 says it must not.
local luacloud = require "luacloud"
local hooks = require "luacloud.providers.centurylink"

describe("centurylink prepare after a logon", function()
  local saved
  before_each(function() saved = hooks.logon end)
  after_each(function() hooks.logon = saved end)

  -- a logon whose answer set `set_cookie` from `from`; the call then goes to `url`
  local function cookie_sent(set_cookie, from, url)
    local c = assert(luacloud.new("centurylink", { endpoint = "http://127.0.0.1:9", api_key = "k", password = "p" }))
    hooks.logon = function(cl)
      cl.cookies:store(set_cookie, from)
      cl.session = { since = cl.clock() }
      return {}
    end
    local req = { url = url, headers = {} }
    assert.is_true(hooks.prepare(c, { name = "Server/GetServer" }, req))
    c:close()
    return req.headers.Cookie
  end

  it("sends the cookie to the host and path it was set for", function()
    assert.are.equal("Tier3.API.Cookie=abc", cookie_sent("Tier3.API.Cookie=abc; path=/; HttpOnly",
      "https://api.example.com/REST/Auth/Logon/", "https://api.example.com/REST/Server/GetServer/JSON"))
  end)
  it("keeps a Secure cookie off plain http", function()
    assert.is_nil(cookie_sent("Tier3.API.Cookie=abc; Secure; path=/",
      "https://api.example.com/REST/Auth/Logon/", "http://api.example.com/REST/Server/GetServer/JSON"))
  end)
  it("keeps a cookie off another path and another host", function()
    assert.is_nil(cookie_sent("Tier3.API.Cookie=abc; path=/authonly",
      "https://api.example.com/authonly/Logon/", "https://api.example.com/REST/Server/GetServer/JSON"))
    assert.is_nil(cookie_sent("Tier3.API.Cookie=abc; path=/",
      "https://a.example.com/REST/Auth/Logon/", "https://b.example.com/REST/Server/GetServer/JSON"))
  end)
end)
