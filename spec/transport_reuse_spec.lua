-- One libcurl session sending requests of every kind in turn (src/transport.c): a reused easy
-- handle whose last request was a plain GET keeps its options when the next one is a plain GET
-- too, so what varies per request (method, body, headers, fresh connection, timeout) must never
-- leak from one request into the next, whatever the order.
local core = require "luacloud.core"
local support = require "spec.support.sim"

describe("transport (libcurl): a reused handle carries nothing from the last request", function()
  local sim, s
  setup(function()
    sim = support.start()
    s = core.session { timeout = 10 }
  end)
  teardown(function()
    if s then s:close() end
    if sim then sim.stop() end
  end)

  local function send(req)
    req.url = sim.base .. "/echo" .. (req.q or "")
    local r = assert(s:request(req))
    return r, (req.method ~= "HEAD" and core.json_decode(r.body) or nil)
  end

  it("methods, bodies and headers in every order", function()
    local kinds = {
      { method = "GET", headers = { ["X-A"] = "1" } },
      { method = "POST", body = "p=1", headers = { ["Content-Type"] = "application/x-www-form-urlencoded" } },
      { method = "GET" },
      { method = "DELETE" },
      { method = "PUT", body = "u=2" },
      { method = "HEAD" },
      { method = "GET", headers = { ["X-B"] = "2" } },
      { method = "PATCH", body = "" },
    }
    math.randomseed(7)
    for _ = 1, 60 do
      local k = kinds[math.random(#kinds)]
      local req = { method = k.method, body = k.body, headers = k.headers }
      local r, e = send(req)
      assert.are.equal(200, r.status)
      if e then
        assert.are.equal(k.method, e.method)
        assert.are.equal(k.body or "", e.body or "")
        assert.are.equal(k.headers and k.headers["X-A"], e.headers["x-a"])
        assert.are.equal(k.headers and k.headers["X-B"], e.headers["x-b"])
        assert.is_nil(e.headers.expect)
        if k.method == "GET" then assert.is_nil(e.headers["content-type"]) end
      end
    end
  end)

  it("a GET that must not be resent opens a new connection, the next GET reuses one", function()
    send { method = "GET" }
    local r1 = send { method = "GET" }
    assert.are.equal(0, r1.new_connections)
    local r2 = send { method = "GET", idempotent = false }
    assert.are.equal(1, r2.new_connections)
    local r3 = send { method = "GET" }
    assert.are.equal(0, r3.new_connections)
  end)

  it("a per-request timeout applies to that request only", function()
    send { method = "GET" }
    sim.admin("POST", "/_sim/fault", { provider = "echo", kind = "delay", ms = 1500, count = 1 })
    local r, err = s:request { url = sim.base .. "/echo", timeout = 0.3 }
    assert.is_nil(r)
    assert.are.equal("timeout", err.kind)
    sim.admin("POST", "/_sim/fault", { provider = "echo", kind = "delay", ms = 600, count = 1 })
    assert.are.equal(200, assert(s:request { url = sim.base .. "/echo" }).status) -- the session's 10 s
  end)

  it("a refused URL leaves the handle usable for the next GET", function()
    local r, err = s:request { url = "file:///etc/passwd" }
    assert.is_nil(r)
    assert.are.equal("protocol", err.kind)
    local ok, e = send { method = "GET" }
    assert.are.equal(200, ok.status)
    assert.are.equal("GET", e.method)
  end)
end)
