-- The engine's cookie jar honours Domain, Path, Secure and Expires/Max-Age (RFC 6265).
local Jar = require "luacloud.cookies"

local function jar(t)
  local now = { t = t or 1000000000 }
  return Jar.new(function() return now.t end), now
end

describe("cookie jar", function()
  it("never sends a Secure cookie of host A to host B, nor over plain http", function()
    local j = jar()
    j:store("auth=s3cret; Secure; Path=/authonly", "https://a.example.com/authonly/login")
    assert.are.equal("auth=s3cret", j:header("https://a.example.com/authonly/x"))
    assert.is_nil(j:header("http://a.example.com/authonly/x"))   -- plain http
    assert.is_nil(j:header("https://b.example.com/authonly/x"))  -- another host
    assert.is_nil(j:header("https://a.example.com/other"))       -- outside the path
    assert.is_nil(j:header("https://a.example.com/authonlyx"))   -- a prefix is not a path match
  end)

  it("ignores a Secure cookie set over plain http", function()
    local j = jar()
    j:store("auth=x; Secure", "http://a.example.com/")
    assert.is_nil(j:header("https://a.example.com/"))
  end)

  it("host-only without Domain; Domain covers subdomains; a foreign Domain is refused", function()
    local j = jar()
    j:store("h=1", "https://api.example.com/v1/login")
    j:store("d=2; Domain=.example.com; Path=/", "https://api.example.com/")
    j:store("evil=3; Domain=other.org", "https://api.example.com/")
    j:store("tld=4; Domain=com", "https://api.example.com/")
    assert.are.equal("h=1; d=2", j:header("https://api.example.com/v1/x")) -- longer path first
    assert.are.equal("d=2", j:header("https://www.example.com/v1/x"))
    assert.is_nil(j:header("https://other.org/"))
    assert.is_nil(j:header("https://notexample.com/"))
    assert.is_nil(j:header("https://com/"))
  end)

  it("defaults the path to the directory of the request path", function()
    local j = jar()
    j:store("p=1", "https://h/a/b/login?x=1")
    assert.are.equal("p=1", j:header("https://h/a/b/c"))
    assert.are.equal("p=1", j:header("https://h/a/b"))
    assert.is_nil(j:header("https://h/a/other"))
  end)

  it("IP hosts match only exactly", function()
    local j = jar()
    j:store("s=1", "http://127.0.0.1:8080/")
    assert.are.equal("s=1", j:header("http://127.0.0.1:9090/x"))
    assert.is_nil(j:header("http://10.127.0.0.1/"))
  end)

  it("expires by Max-Age (which wins over Expires) and by Expires dates", function()
    local j, now = jar(784111777 - 60) -- one minute before Sun, 06 Nov 1994 08:49:37 GMT
    j:store("e=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT", "https://h/")
    j:store("m=2; Max-Age=3600; Expires=Sun, 06 Nov 1994 08:49:37 GMT", "https://h/")
    assert.are.equal("e=1; m=2", j:header("https://h/"))
    now.t = 784111777 + 1
    assert.are.equal("m=2", j:header("https://h/"))
    now.t = now.t + 3600
    assert.is_nil(j:header("https://h/"))
  end)

  it("deletes a cookie set again with a date in the past or Max-Age=0", function()
    local j = jar()
    j:store("a=1\nb=2", "https://h/")
    j:store("a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "https://h/")
    j:store("b=; Max-Age=0", "https://h/")
    assert.is_nil(j:header("https://h/"))
  end)

  it("parses the three date forms of HTTP", function()
    assert.are.equal(784111777, Jar.parse_date("Sun, 06 Nov 1994 08:49:37 GMT"))
    assert.are.equal(784111777, Jar.parse_date("Sunday, 06-Nov-94 08:49:37 GMT"))
    assert.are.equal(784111777, Jar.parse_date("Sun Nov  6 08:49:37 1994"))
    assert.is_nil(Jar.parse_date("yesterday"))
  end)

  it("keeps same-named cookies of different paths apart, longer path first", function()
    local j = jar()
    j:store("s=root; Path=/", "https://h/")
    j:store("s=deep; Path=/a", "https://h/")
    assert.are.equal("s=deep; s=root", j:header("https://h/a/x"))
    assert.are.equal("s=root", j:header("https://h/b"))
    assert.is_table(j.items.s) -- found by name (specs expire a session this way)
  end)

  it("without a URL keeps the old behaviour: every live cookie", function()
    local j = jar()
    j:store("Tier3.API.Cookie={session}")
    assert.are.equal("Tier3.API.Cookie={session}", j:header())
    assert.are.equal("{session}", j:get("Tier3.API.Cookie"))
  end)
end)

describe("the engine's jar over HTTP", function()
  local luacloud = require "luacloud"
  local fake = require "spec.support.fake_server"
  local srv
  setup(function() srv = fake.start() end)
  teardown(function() if srv then srv.stop() end end)

  it("stores with the request URL and sends a host's cookie only back to it", function()
    local c = assert(luacloud.new("reliacloud", { endpoint = srv.base .. "/client/api", api_key = "k", secret_key = "s",
                                                  format = "json", timeout = 5 }))
    srv.answer('{"listzonesresponse":{}}', "application/json", 200,
               "Set-Cookie: sid=abc; Path=/client\nSet-Cookie: sec=1; Secure")
    assert(c:list_zones {})
    assert.are.equal("sid=abc", c.cookies:header(srv.base .. "/client/api"))
    assert.is_nil(c.cookies:header("http://localhost:" .. srv.port .. "/client/api")) -- another host name
    local seen
    c.transport = setmetatable({}, { __call = function(_, req) seen = req.headers.Cookie return nil, { kind = "connect", message = "x" } end })
    c:send { method = "GET", url = srv.base .. "/client/api?x=1" }
    assert.are.equal("sid=abc", seen)
    c:send { method = "GET", url = "http://other.invalid/client/api" }
    assert.is_nil(seen)
    c:close()
  end)
end)
