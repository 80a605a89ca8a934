-- The request line libcurl sends (src/transport.c set_url): a URL whose path and query libcurl
-- would send unchanged goes out as the origin plus a request target, which skips libcurl's
-- byte-by-byte copies of the URL. Whatever libcurl would have changed (dot segments, a fragment,
-- non-ASCII bytes) or needs the whole URL for (a proxy, from the options or the environment)
-- must still reach the server exactly as before.
local core = require "luacloud.core"
local support = require "spec.support.sim"

describe("transport (libcurl): the request target", function()
  local sim, s
  setup(function()
    sim = support.start()
    s = core.session { timeout = 10 }
  end)
  teardown(function()
    if s then s:close() end
    if sim then sim.stop() end
  end)

  -- the simulator's /echo answers the request-target as received (nginx's $request_uri)
  local function sent(path)
    local r = assert(s:request { url = sim.base .. "/echo" .. path })
    assert.are.equal(200, r.status)
    return core.json_decode(r.body)
  end

  it("sends path and query byte for byte, reserved characters and escapes included", function()
    local q = "/a/b.json?x=%2F%20%7E&y=!$'()*+,;=:@/?&z=a.b/../c&e="
    local e = sent(q)
    assert.are.equal(q, e.path)
    assert.are.equal("127.0.0.1:" .. sim.base:match(":(%d+)$"), e.headers.host)
    assert.are.equal("/?", sent("/?").path)
    assert.are.equal("/", sent("/").path)
  end)

  it("removes dot segments of the path as libcurl does, not those of the query", function()
    assert.are.equal("/b?x=/./y/../z", sent("/a/../b?x=/./y/../z").path)
    assert.are.equal("/a/c", sent("/a/./c").path)
    assert.are.equal("/a/", sent("/a/b/..").path)
  end)

  it("never sends a fragment", function()
    assert.are.equal("/p?q=1", sent("/p?q=1#frag").path)
    assert.are.equal("/p", sent("/p#x?y").path)
  end)

  it("percent-encodes non-ASCII path bytes as libcurl does", function()
    assert.are.equal("/caf%c3%a9", sent("/caf\195\169").path)
  end)

  it("still refuses a URL with a space or a control byte", function()
    for _, bad in ipairs({ "/a b", "/a?b c", "/a\tb" }) do
      local r, err = s:request { url = sim.base .. "/echo" .. bad }
      assert.is_nil(r)
      assert.are.equal("transport", err.kind)
    end
  end)
end)

describe("transport (libcurl): what reads the whole URL", function()
  -- an HTTP server of a few connections that answers each request head it receives (with a
  -- cookie for a path containing /set): nginx would take a path-only request line from a proxy
  -- client too, so it cannot tell the difference
  local dir, port
  local SCRIPT = [[
    use IO::Socket::INET;
    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 8, ReuseAddr => 1) or die;
    open(my $f, ">", $ARGV[0]) or die; print $f $s->sockport, "\n"; close $f;
    alarm 60;
    while (my $c = $s->accept) {
      my $h = "";
      while (<$c>) { $h .= $_; last if $_ eq "\r\n"; }
      my $cookie = $h =~ m{^\S+ \S*/set} ? "Set-Cookie: c=1\r\n" : "";
      print $c "HTTP/1.1 200 OK\r\n${cookie}Content-Length: " . length($h) . "\r\nConnection: close\r\n\r\n" . $h;
      close $c;
    }]]
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
    local f = assert(io.open(dir .. "/srv.pl", "w"))
    f:write(SCRIPT)
    f:close()
    os.execute("perl '" .. dir .. "/srv.pl' '" .. dir .. "/port' >/dev/null 2>&1 & echo $! > '" .. dir .. "/pid'")
    for _ = 1, 100 do
      port = tonumber(support.read(dir .. "/port") or "")
      if port then break end
      core.sleep(0.05)
    end
    assert(port, "the listener did not start")
  end)
  teardown(function()
    if dir then os.execute("kill $(cat '" .. dir .. "/pid') 2>/dev/null; rm -rf '" .. dir .. "'") end
  end)
  local function listener() return "http://127.0.0.1:" .. port end

  it("sends the absolute URL to a proxy given in the options", function()
    local p = core.session { proxy = listener(), timeout = 10 }
    local r = assert(p:request { url = "http://luacloud-proxy-test.invalid/x/y?a=1" })
    p:close()
    assert.matches("^GET http://luacloud%-proxy%-test%.invalid/x/y%?a=1 HTTP/1%.1\r\n", r.body)
  end)

  it("sends the absolute URL to a proxy from the environment (http_proxy)", function()
    -- a child process: Lua cannot set its own environment; it loads this same core
    local lua = "package.cpath = " .. string.format("%q", package.cpath) .. " "
      .. "local s = require('luacloud.core').session { timeout = 10 } "
      .. "local r, e = s:request { url = 'http://luacloud-proxy-test.invalid/x/y?a=1' } "
      .. "io.write(r and r.body or ('error: ' .. e.message))"
    local f = assert(io.open(dir .. "/child.lua", "w"))
    f:write(lua)
    f:close()
    local out = support.sh("cd '" .. support.root .. "' && env http_proxy=" .. listener() .. " lua5.4 '" .. dir .. "/child.lua'")
    assert.matches("^GET http://luacloud%-proxy%-test%.invalid/x/y%?a=1 HTTP/1%.1\r\n", out)
    assert.matches("\r\nHost: luacloud%-proxy%-test%.invalid\r\n", out)
  end)

  it("libcurl's cookie jar defaults a cookie's path to the request's directory", function()
    local c = core.session { cookie_jar = true, timeout = 10 }
    assert(c:request { url = listener() .. "/a/b/set" })
    local other = assert(c:request { url = listener() .. "/a/other" }).body
    local inside = assert(c:request { url = listener() .. "/a/b/x?q=1" }).body
    c:close()
    assert.is_nil(other:find("Cookie:", 1, true))
    assert.matches("\r\nCookie: c=1\r\n", inside)
    assert.matches("^GET /a/b/x%?q=1 HTTP/1%.1\r\n", inside)
  end)
end)
