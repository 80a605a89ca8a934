-- The libcurl transport against the real nginx-hosted simulator host.
local core = require "luacloud.core"
local support = require "spec.support.sim"

describe("transport (libcurl) over HTTP", function()
  local sim, s
  setup(function()
    sim = support.start()
    s = core.session { timeout = 10 }
  end)
  teardown(function()
    if s then s:close() end
    if sim then sim.stop() end
  end)
  before_each(function() sim.admin("DELETE", "/_sim/fault") end)

  local function echo(q) return sim.base .. "/echo" .. (q or "") end

  it("returns any 3-digit status, standard or not", function()
    for _, st in ipairs({ 200, 431, 530, 570, 299 }) do
      local r = assert(s:request { url = echo("?status=" .. st) })
      assert.are.equal(st, r.status)
    end
  end)

  it("reuses kept-alive connections", function()
    assert(s:request { url = echo() })
    local r = assert(s:request { url = echo() })
    assert.are.equal(0, r.new_connections)
  end)

  it("sends method, headers and body, and accepts gzip", function()
    local r = assert(s:request { method = "PUT", url = echo(), headers = { ["X-Test"] = "1" }, body = "a=b" })
    local e = core.json_decode(r.body)
    assert.are.equal("PUT", e.method)
    assert.are.equal("a=b", e.body)
    assert.are.equal("1", e.headers["x-test"])
    assert.matches("gzip", e.headers["accept-encoding"])
    assert.is_nil(e.headers.expect)
  end)

  it("lower-cases response header names", function()
    local r = assert(s:request { url = echo() })
    assert.matches("json", r.headers["content-type"])
  end)

  it("times out a slow response within the total timeout", function()
    -- the answer would take 6 s: a bound of 4 s leaves a loaded machine 3.5 s beyond the timeout
    sim.admin("POST", "/_sim/fault", { provider = "echo", kind = "delay", ms = 6000, count = 1 })
    local t0 = core.now()
    local r, err = s:request { url = echo(), timeout = 0.5 }
    assert.is_nil(r)
    assert.are.equal("timeout", err.kind)
    assert.is_true(core.now() - t0 < 4)
  end)

  it("reports a refused connection as kind 'connect'", function()
    local r, err = s:request { url = "http://127.0.0.1:9/" }
    assert.is_nil(r)
    assert.are.equal("connect", err.kind)
  end)

  it("refuses responses larger than max_response", function()
    local small = core.session { max_response = 10000 }
    local r, err = small:request { method = "POST", url = echo(), body = string.rep("x", 50000) }
    assert.is_nil(r)
    assert.are.equal("too_large", err.kind)
    small:close()
  end)

  it("reports dropped and truncated responses", function()
    sim.admin("POST", "/_sim/fault", { provider = "echo", kind = "drop", count = 1 })
    local r, err = s:request { url = echo() }
    assert.is_nil(r)
    assert.are.equal("transport", err.kind)
    sim.admin("POST", "/_sim/fault", { provider = "echo", kind = "truncate", count = 1 })
    r, err = s:request { url = echo() }
    assert.is_nil(r)
    assert.are.equal("transport", err.kind)
  end)

  it("runs a batch concurrently with a limit and keeps input order", function()
    sim.admin("POST", "/_sim/fault", { provider = "echo", kind = "delay", ms = 1000, count = 6 })
    local reqs = {}
    for i = 1, 6 do reqs[i] = { url = echo("?i=" .. i) } end
    local t0 = core.now()
    local res = s:batch(reqs, 3)
    local elapsed = core.now() - t0
    for i = 1, 6 do
      assert.are.equal("/?i=" .. i, core.json_decode(res[i].body).path) -- the host strips /echo
    end
    -- 6 delayed requests, 3 at a time: two rounds (2 s), not six (6 s) nor one (1 s); the upper
    -- bound leaves a loaded machine 2.5 s
    assert.is_true(elapsed < 4.5, "batch took " .. elapsed)
    assert.is_true(elapsed >= 1.95, "batch took " .. elapsed)
  end)

  it("puts failures of a batch in their slot", function()
    local res = s:batch({ { url = echo() }, { url = "http://127.0.0.1:9/" }, { url = echo() } }, 2)
    assert.are.equal(200, res[1].status)
    assert.are.equal("connect", res[2].err.kind)
    assert.are.equal(200, res[3].status)
  end)

  it("goes through the configured proxy", function()
    local p = core.session { proxy = sim.base }
    local r = assert(p:request { url = "http://luacloud-proxy-test.invalid/echo?via=proxy" })
    assert.are.equal("/?via=proxy", core.json_decode(r.body).path)
    p:close()
  end)

  it("does not follow redirects by itself", function()
    local r = assert(s:request { url = echo("?status=302") })
    assert.are.equal(302, r.status)
  end)

  it("refuses header injection", function()
    assert.has_error(function() s:request { url = echo(), headers = { ["X"] = "a\r\nEvil: 1" } } end)
  end)

  it("keeps sessions of two clients apart", function()
    local a, b = core.session { cookie_jar = true }, core.session { cookie_jar = true }
    assert.are.same({}, a:cookies())
    assert.are.same({}, b:cookies())
    a:close(); b:close()
    assert.has_error(function() a:request { url = echo() } end)
  end)
end)

describe("transport over TLS", function()
  local sim
  setup(function() sim = support.start { tls = true } end)
  teardown(function() if sim then sim.stop() end end)

  it("refuses the simulator's certificate unless its CA is trusted", function()
    local plain = core.session {}
    local r, err = plain:request { url = sim.base .. "/echo" }
    assert.is_nil(r)
    assert.are.equal("tls", err.kind)
    local trusted = core.session { ca_file = sim.ca_file }
    r = assert(trusted:request { url = sim.base .. "/echo" })
    assert.are.equal(200, r.status)
    local unverified = core.session { verify_tls = false }
    r = assert(unverified:request { url = sim.base .. "/echo" })
    assert.are.equal(200, r.status)
  end)

  it("a call through the engine fails with kind 'tls', not retried", function()
    local luacloud = require "luacloud"
    local n = 0
    local c = assert(luacloud.new("reliacloud", { endpoint = sim.endpoints.reliacloud, api_key = "demo-api-key",
      secret_key = "demo-secret-key", log = function(e) if e.event == "transport_error" then n = n + 1 end end }))
    local res, err = c:list_zones {}
    assert.is_nil(res)
    assert.are.equal("tls", err.kind)
    assert.is_false(err.retryable)
    assert.are.equal(1, n)
    assert.matches("luacloud reliacloud list_zones: tls", tostring(err))
    c:close()
  end)

  it("verify_tls = false warns once on stderr, or through the log hook", function()
    local cmd = "cd " .. support.root .. " && lua5.4 -e 'package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path; "
      .. "package.cpath=\"build/?.so;\"..package.cpath; local t = require \"luacloud.transport.curl\"; "
      .. "t.new { verify_tls = false }; t.new { verify_tls = false }; t.new {}' 2>&1"
    local out = support.sh(cmd)
    local _, lines = out:gsub("verify_tls = false", "")
    assert.are.equal(1, lines, out)
    local events = {}
    local luacloud = require "luacloud"
    for _ = 1, 2 do
      local c = assert(luacloud.new("reliacloud", { endpoint = sim.endpoints.reliacloud, api_key = "k", secret_key = "s",
        verify_tls = false, log = function(e) events[#events + 1] = e end }))
      c:close()
    end
    assert.are.equal(2, #events)
    assert.are.equal("warning", events[1].event)
    assert.matches("not checked", events[1].message)
  end)
end)

describe("c:batch over HTTP", function()
  local luacloud = require "luacloud"
  local sim
  setup(function() sim = support.start { latency = 1000 } end)
  teardown(function() if sim then sim.stop() end end)

  it("runs calls concurrently with a limit and keeps input order", function()
    local c = assert(luacloud.new("reliacloud", { endpoint = sim.endpoints.reliacloud, api_key = "demo-api-key",
                                                  secret_key = "demo-secret-key" }))
    local calls = {}
    for i = 1, 6 do calls[i] = { "list_zones", { available = true } } end
    calls[7] = { "start_virtual_machine", { id = "424242" } }  -- an API error in its slot
    calls[8] = { "list_zone", {} }                              -- a typo: validation error in its slot
    local t0 = core.now()
    local res = c:batch(calls, 4)
    local elapsed = core.now() - t0
    for i = 1, 6 do assert.is_table(res[i].result.zone, tostring(res[i].err)) end
    assert.are.equal(431, res[7].err.status)
    assert.are.equal("validation", res[8].err.kind)
    -- 7 requests at 1 s each, 4 at a time: two rounds (2 s), not seven (7 s) nor one (1 s); the
    -- upper bound leaves a loaded machine 2.5 s
    assert.is_true(elapsed < 4.5, ("batch took %.2f s"):format(elapsed))
    assert.is_true(elapsed >= 1.95, ("batch took %.2f s"):format(elapsed))
  end)
end)

describe("transports speak only http and https", function()
  local fake = require "spec.support.fake_server"
  local luacloud = require "luacloud"
  local srv
  setup(function() srv = fake.start() end)
  teardown(function() if srv then srv.stop() end end)

  it("libcurl refuses file:// and dict:// before anything is sent", function()
    local s = core.session { timeout = 5 }
    for _, url in ipairs({ "file:///etc/passwd", "FILE:///etc/passwd", "dict://127.0.0.1:" .. srv.port .. "/info",
                           "gopher://127.0.0.1:" .. srv.port .. "/", "/etc/passwd" }) do
      local r, err = s:request { url = url }
      assert.is_nil(r, url)
      assert.are.equal("protocol", err.kind, url)
      assert.matches("only http and https", err.message)
    end
    local res = s:batch({ { url = "file:///etc/passwd" }, { url = srv.base .. "/ok" } })
    assert.are.equal("protocol", res[1].err.kind)
    assert.are.equal(200, res[2].status)
    assert.are.equal(1, srv.counts().total) -- the dict:// and gopher:// requests never reached the port
    s:close()
  end)

  it("a proxy or CA file libcurl refuses fails the request instead of being dropped", function()
    srv.reset()
    local huge = string.rep("a", 9000000) -- over libcurl's CURL_MAX_INPUT_LENGTH: setopt refuses it
    for _, opt in ipairs({ "proxy", "ca_file" }) do
      local s = core.session { timeout = 5, [opt] = huge }
      local r, err = s:request { url = srv.base .. "/ok" }
      assert.is_nil(r, opt)
      assert.are.equal("transport", err.kind)
      assert.matches(opt == "proxy" and "CURLOPT_PROXY" or "CURLOPT_CAINFO", err.message)
      s:close()
    end
    assert.are.equal(0, srv.counts().total) -- nothing went out directly, without the proxy
  end)

  it("a URL or headers past libcurl's 1 MiB request limit fail clearly, not as 'Out of memory'", function()
    srv.reset()
    local s = core.session { timeout = 5 }
    local r, err = s:request { url = srv.base .. "/x?v=" .. string.rep("a", 1100000) }
    assert.is_nil(r)
    assert.matches("exceed libcurl's 1 MiB limit", err.message)
    r, err = s:request { url = srv.base .. "/x", headers = { ["X-Big"] = string.rep("b", 1100000) } }
    assert.is_nil(r)
    assert.matches("1 MiB limit", err.message)
    assert.are.equal(0, srv.counts().total)
    -- under the limit it is sent (nginx answers 414: its own limit is far lower)
    assert.are.equal(414, assert(s:request { url = srv.base .. "/x?v=" .. string.rep("a", 900000) }).status)
    s:close()
  end)

  it("a negative or NaN max_response keeps the 64 MiB default instead of no limit", function()
    for _, m in ipairs({ -1, 0 / 0 }) do
      local s = core.session { timeout = 20, max_response = m }
      local r, err = s:request { url = srv.base .. "/big?n=" .. (65 * 1024 * 1024) }
      assert.is_nil(r, tostring(m))
      assert.are.equal("too_large", err.kind)
      s:close()
    end
  end)

  it("the cosocket transport refuses them too", function()
    for _, url in ipairs({ "file:///etc/passwd", "dict://127.0.0.1:" .. srv.port .. "/info" }) do
      local out = srv.admin("ngx_url?url=" .. core.urlencode(url))
      assert.are.equal("protocol", out.kind, url)
      assert.matches("only http and https", out.message)
    end
    assert.are.equal(200, srv.admin("ngx_url?url=" .. core.urlencode("HTTP://127.0.0.1:" .. srv.port .. "/ok")).status)
  end)

  it("a management URL from a hostile auth server cannot read a local file (Clodo)", function()
    srv.reset()
    srv.answer("", "text/plain", 204, "X-Auth-Token: t0k\nX-Server-Management-Url: file:///etc/passwd#")
    local c = assert(luacloud.new("clodo", { endpoint = srv.base, user = "u", key = "k", timeout = 5, format = "json" }))
    local res, err = c:list_servers {}
    assert.is_nil(res)
    assert.are.equal("transport", err.kind)
    assert.are.equal("protocol", err.details.transport)
    assert.is_nil(tostring(err):find("root:", 1, true))
    c:close()
  end)
end)
