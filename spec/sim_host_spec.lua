-- In-process specs of the simulator host (lua/luacloud/sim/init.lua): routing, the admin
-- interface (/_sim/...) and the faults, with small fake provider simulators.

local simhost = require("luacloud.sim")
local json_encode, json_decode = simhost.json_encode, simhost.json_decode

-- A fake provider module: records requests, keeps "things" (seedable), knows its own
-- maintenance / rate-limit answers when `with_fault` is set.
local function fake_module(label, with_fault)
  local mod = { started = 0 }
  function mod.new(opts)
    mod.started = mod.started + 1
    local sim = {
      opts = opts,
      credentials = { user = label .. "-user", key = label .. "-secret" },
      requests = {},
      things = {},
    }
    function sim.handle(self, req)
      self.requests[#self.requests + 1] = req
      if req.path:find("^/boom") then error("simulated bug") end
      return 200, { ["Content-Type"] = "application/json", ["X-Sim"] = label },
        json_encode({ provider = label, path = req.path, things = #self.things })
    end
    function sim.reset(self)
      self.things = {}
      self.requests = {}
    end
    function sim.seed(self, kind, n)
      if kind ~= "thing" then error("unknown kind " .. tostring(kind)) end
      for _ = 1, n do self.things[#self.things + 1] = { id = #self.things + 1 } end
      return { created = n }
    end
    if with_fault then
      function sim.fault(_, kind)
        if kind == "maintenance" then
          return 503, { ["Content-Type"] = "text/xml" }, "<error>" .. label .. " maintenance</error>"
        end
        return 429, { ["Content-Type"] = "text/xml" }, "<error>" .. label .. " throttled</error>"
      end
    end
    return sim
  end
  return mod
end

local function admin(host, method, path, body)
  local status, headers, raw = host:handle(method, path, { ["Content-Type"] = "application/json" },
    body and json_encode(body) or nil)
  return status, json_decode(raw), headers
end

local function get(host, path, headers, body, method)
  local status, h, b, action = host:handle(method or "GET", path, headers or {}, body)
  return status, h, b, action
end

describe("luacloud.sim host", function()
  local fake, other, host

  before_each(function()
    fake = fake_module("fake", true)
    other = fake_module("other", false)
    host = simhost.new{
      providers = { fake = fake, other = other },
      base_url = "http://127.0.0.1:9999/",
      now = function() return 1234.5 end,
    }
  end)

  describe("routing", function()
    it("strips the provider prefix and passes method, query, lower-case headers and body", function()
      local status, h, body = get(host, "/fake/a/b?x=1&y=%20", { ["X-Auth-Token"] = "t" }, "payload",
        "POST")
      assert.are.equal(200, status)
      assert.are.equal("fake", h["X-Sim"])
      assert.are.equal("/a/b?x=1&y=%20", json_decode(body).path)
      local sim = host:sim("fake")
      local req = sim.requests[1]
      assert.are.equal("POST", req.method)
      assert.are.equal("/a/b?x=1&y=%20", req.path)
      assert.are.equal("t", req.headers["x-auth-token"])
      assert.is_nil(req.headers["X-Auth-Token"])
      assert.are.equal("payload", req.body)
    end)

    it("gives the provider root as '/' and keeps a query on it", function()
      get(host, "/fake")
      get(host, "/fake?q=1")
      get(host, "/fake/")
      local reqs = host:sim("fake").requests
      assert.are.equal("/", reqs[1].path)
      assert.are.equal("/?q=1", reqs[2].path)
      assert.are.equal("/", reqs[3].path)
    end)

    it("accepts a full URL as the path", function()
      local status, _, body = get(host, "https://127.0.0.1:8443/other/x?z=2")
      assert.are.equal(200, status)
      assert.are.equal("other", json_decode(body).provider)
      assert.are.equal("/x?z=2", json_decode(body).path)
    end)

    it("joins repeated request headers, cookies with '; '", function()
      get(host, "/fake/", { Cookie = { "a=1", "b=2" }, Accept = { "text/xml", "application/json" } })
      local req = host:sim("fake").requests[1]
      assert.are.equal("a=1; b=2", req.headers.cookie)
      assert.are.equal("text/xml, application/json", req.headers.accept)
    end)

    it("answers 404 for an unknown provider and does not match on a prefix of the name", function()
      local status, _, body = get(host, "/fakeX/a")
      assert.are.equal(404, status)
      assert.matches("unknown provider 'fakeX'", json_decode(body).error, 1, true)
      assert.are.equal(0, #host:sim("fake").requests)
    end)

    it("loads each simulator lazily, once, with now and its base_url", function()
      assert.are.equal(0, fake.started)
      get(host, "/fake/1")
      get(host, "/fake/2")
      assert.are.equal(1, fake.started)
      assert.are.equal(0, other.started)
      local opts = host:sim("fake").opts
      assert.are.equal("http://127.0.0.1:9999/fake", opts.base_url)
      assert.are.equal(1234.5, opts.now())
    end)

    it("answers 404, not an error, for a provider whose module does not exist", function()
      local h = simhost.new{ providers = { "no_such_provider_xyz" } }
      local status, _, body
      assert.has_no.errors(function() status, _, body = get(h, "/no_such_provider_xyz/x") end)
      assert.are.equal(404, status)
      assert.matches("not available", json_decode(body).error, 1, true)
    end)

    it("answers 500 when a simulator raises, and the next request still works", function()
      local status, _, body, action = get(host, "/fake/boom")
      assert.are.equal(500, status)
      assert.matches("simulated bug", json_decode(body).error, 1, true)
      assert.matches("simulated bug", action.error, 1, true)
      assert.are.equal(200, (get(host, "/fake/fine")))
    end)

    it("sets Content-Length to the length of the body", function()
      local _, h, body = get(host, "/fake/x")
      assert.are.equal(tostring(#body), h["Content-Length"])
    end)

    it("uses the four cloud providers by default, plus the echo diagnostic", function()
      local h = simhost.new()
      assert.are.same({ "reliacloud", "dimensiondata", "centurylink", "clodo", "echo" }, h:providers())
    end)

    it("has an echo provider answering the request it got", function()
      local status, _, body = get(host, "/echo/p?status=432", { ["X-A"] = "b" }, "data", "PUT")
      assert.are.equal(432, status)
      local e = json_decode(body)
      assert.are.equal("PUT", e.method)
      assert.are.equal("/p?status=432", e.path)
      assert.are.equal("b", e.headers["x-a"])
      assert.are.equal("data", e.body)
    end)

    it("adds the latency option to every provider request, not to admin requests", function()
      local h = simhost.new{ providers = { fake = fake }, latency_ms = 150 }
      local _, _, _, action = get(h, "/fake/x")
      assert.are.equal(150, action.delay_ms)
      _, _, _, action = get(h, "/_sim/info")
      assert.is_nil(action.delay_ms)
    end)
  end)

  describe("admin", function()
    it("GET /_sim/info lists endpoints and the credentials of every simulator", function()
      local status, info = admin(host, "GET", "/_sim/info")
      assert.are.equal(200, status)
      assert.are.equal("http://127.0.0.1:9999/fake", info.endpoints.fake)
      assert.are.equal("http://127.0.0.1:9999/other", info.endpoints.other)
      assert.are.same({ user = "fake-user", key = "fake-secret" }, info.credentials.fake)
      assert.are.equal("http://127.0.0.1:9999/echo", info.diagnostics.echo)
      assert.is_nil(info.endpoints.echo)
    end)

    it("GET /_sim/info documents the endpoint path of each cloud provider", function()
      local h = simhost.new{ base_url = "https://127.0.0.1:8443", ca_file = "/tmp/ca.pem" }
      local status, info = admin(h, "GET", "/_sim/info")
      assert.are.equal(200, status)
      local p = info.providers
      assert.are.equal("https://127.0.0.1:8443/reliacloud/client/api", p.reliacloud.endpoint)
      assert.are.equal("https://127.0.0.1:8443/dimensiondata", p.dimensiondata.endpoint)
      assert.are.equal("https://127.0.0.1:8443/centurylink", p.centurylink.endpoint)
      assert.are.equal("https://127.0.0.1:8443/clodo/", p.clodo.auth_url)
      assert.are.equal("https://127.0.0.1:8443/clodo/v1", p.clodo.management_url)
      assert.are.equal("/tmp/ca.pem", info.ca_file)
      for _, name in ipairs(simhost.KNOWN) do
        -- a provider whose simulator is missing is reported, not fatal
        assert.is_boolean(p[name].available)
        if not p[name].available then assert.is_string(p[name].error) end
      end
    end)

    it("GET / answers the same information", function()
      local status, info = admin(host, "GET", "/")
      assert.are.equal(200, status)
      assert.are.equal("http://127.0.0.1:9999/fake", info.endpoints.fake)
    end)

    it("POST /_sim/seed creates objects in the simulator", function()
      local status, res = admin(host, "POST", "/_sim/seed?provider=fake&kind=thing&n=3")
      assert.are.equal(200, status)
      assert.are.same({ created = 3 }, res.result)
      assert.are.equal(3, #host:sim("fake").things)
      local _, _, body = get(host, "/fake/x")
      assert.are.equal(3, json_decode(body).things)
    end)

    it("POST /_sim/seed takes its arguments from a JSON body too, n defaulting to 1", function()
      local status = admin(host, "POST", "/_sim/seed", { provider = "fake", kind = "thing" })
      assert.are.equal(200, status)
      assert.are.equal(1, #host:sim("fake").things)
    end)

    it("POST /_sim/seed rejects unknown kinds, bad n and unknown providers", function()
      local status, res = admin(host, "POST", "/_sim/seed?provider=fake&kind=nope&n=2")
      assert.are.equal(400, status)
      assert.matches("unknown kind nope", res.error, 1, true)
      assert.are.equal(400, (admin(host, "POST", "/_sim/seed?provider=fake&kind=thing&n=-1")))
      assert.are.equal(400, (admin(host, "POST", "/_sim/seed?kind=thing")))
      assert.are.equal(404, (admin(host, "POST", "/_sim/seed?provider=zzz&kind=thing")))
      assert.are.equal(0, #host:sim("fake").things)
    end)

    it("POST /_sim/reset?provider=x resets only that simulator", function()
      admin(host, "POST", "/_sim/seed?provider=fake&kind=thing&n=2")
      admin(host, "POST", "/_sim/seed?provider=other&kind=thing&n=2")
      local status = admin(host, "POST", "/_sim/reset?provider=fake")
      assert.are.equal(200, status)
      assert.are.equal(0, #host:sim("fake").things)
      assert.are.equal(2, #host:sim("other").things)
    end)

    it("POST /_sim/reset resets every simulator and clears the faults", function()
      admin(host, "POST", "/_sim/seed?provider=fake&kind=thing&n=2")
      admin(host, "POST", "/_sim/seed?provider=other&kind=thing&n=2")
      admin(host, "POST", "/_sim/fault", { kind = "http503", count = 0 })
      assert.are.equal(200, (admin(host, "POST", "/_sim/reset")))
      assert.are.equal(0, #host:sim("fake").things)
      assert.are.equal(0, #host:sim("other").things)
      assert.are.equal(200, (get(host, "/fake/x")))
    end)

    it("answers 404 for unknown admin paths and 405 for wrong methods", function()
      assert.are.equal(404, (admin(host, "GET", "/_sim/nothing")))
      local status, _, h = admin(host, "GET", "/_sim/reset")
      assert.are.equal(405, status)
      assert.are.equal("POST", h.Allow)
    end)

    it("answers 400 for a body that is not a JSON object", function()
      local status = host:handle("POST", "/_sim/fault", {}, "{kind:")
      assert.are.equal(400, status)
    end)
  end)

  describe("faults", function()
    it("http503 answers 503 for the next `count` requests without reaching the simulator", function()
      local status, res = admin(host, "POST", "/_sim/fault", { provider = "fake", kind = "http503", count = 2 })
      assert.are.equal(200, status)
      assert.are.equal("http503", res.fault.kind)
      assert.are.equal(503, (get(host, "/fake/1")))
      assert.are.equal(503, (get(host, "/fake/2")))
      assert.are.equal(200, (get(host, "/fake/3")))
      assert.are.equal(1, #host:sim("fake").requests)
    end)

    it("applies a provider's fault to that provider only", function()
      admin(host, "POST", "/_sim/fault", { provider = "other", kind = "http503" })
      assert.are.equal(200, (get(host, "/fake/x")))
      assert.are.equal(503, (get(host, "/other/x")))
    end)

    it("applies a fault without provider to any provider, never to the admin interface", function()
      admin(host, "POST", "/_sim/fault", { kind = "http503", count = 2 })
      assert.are.equal(200, (admin(host, "GET", "/_sim/info")))
      assert.are.equal(503, (get(host, "/other/x")))
      assert.are.equal(503, (get(host, "/fake/x")))
      assert.are.equal(200, (get(host, "/fake/x")))
    end)

    it("applies a fault with method and path only to matching requests", function()
      admin(host, "POST", "/_sim/fault",
        { provider = "fake", kind = "http503", method = "post", path = "/servers" })
      assert.are.equal(200, (get(host, "/fake/servers")))        -- GET: not matched
      assert.are.equal(200, (get(host, "/fake/images", {}, "", "POST")))
      assert.are.equal(503, (get(host, "/fake/v1/servers?x=1", {}, "", "POST")))
      assert.are.equal(200, (get(host, "/fake/v1/servers", {}, "", "POST")))
    end)

    it("count 0 lasts until DELETE /_sim/fault", function()
      admin(host, "POST", "/_sim/fault", { provider = "fake", kind = "http503", count = 0 })
      for _ = 1, 5 do assert.are.equal(503, (get(host, "/fake/x"))) end
      local _, listed = admin(host, "GET", "/_sim/fault")
      assert.are.equal(1, #listed.faults)
      local status, res = admin(host, "DELETE", "/_sim/fault")
      assert.are.equal(200, status)
      assert.are.equal(1, res.cleared)
      assert.are.equal(200, (get(host, "/fake/x")))
    end)

    it("DELETE /_sim/fault?provider=x clears only the faults of x", function()
      admin(host, "POST", "/_sim/fault", { provider = "fake", kind = "http503", count = 0 })
      admin(host, "POST", "/_sim/fault", { provider = "other", kind = "http503", count = 0 })
      admin(host, "DELETE", "/_sim/fault?provider=fake")
      assert.are.equal(200, (get(host, "/fake/x")))
      assert.are.equal(503, (get(host, "/other/x")))
    end)

    it("drop asks the adapter to close the connection and does not reach the simulator", function()
      admin(host, "POST", "/_sim/fault", { provider = "fake", kind = "drop" })
      local _, _, body, action = get(host, "/fake/x")
      assert.is_true(action.drop)
      assert.are.equal("", body)
      assert.are.equal(0, #host:sim("fake").requests)
      local _, _, _, after = get(host, "/fake/x")
      assert.is_nil(after.drop)
    end)

    it("truncate sends half the body while Content-Length announces all of it", function()
      local _, _, full = get(host, "/fake/x")
      admin(host, "POST", "/_sim/fault", { provider = "fake", kind = "truncate" })
      local status, h, body, action = get(host, "/fake/x")
      assert.are.equal(200, status)
      assert.is_true(action.truncate)
      assert.are.equal(tostring(#full), h["Content-Length"])
      assert.are.equal(math.floor(#full / 2), #body)
      assert.are.equal(full:sub(1, #body), body)
    end)

    it("malformed corrupts the body so that it no longer parses", function()
      local _, _, good = get(host, "/fake/x")
      assert.is_table(json_decode(good))
      admin(host, "POST", "/_sim/fault", { provider = "fake", kind = "malformed" })
      local status, h, body = get(host, "/fake/x")
      assert.are.equal(200, status)
      assert.are_not.equal(good, body)
      assert.is_nil(json_decode(body))
      assert.are.equal(tostring(#body), h["Content-Length"])
    end)

    it("delay asks the adapter to wait `ms` on top of the latency", function()
      local h = simhost.new{ providers = { fake = fake }, latency_ms = 100 }
      admin(h, "POST", "/_sim/fault", { kind = "delay", ms = 250 })
      local status, _, _, action = get(h, "/fake/x")
      assert.are.equal(200, status)
      assert.are.equal(350, action.delay_ms)
      assert.are.equal("delay", action.fault)
    end)

    it("maintenance and rate_limit answer with the simulator's own error response", function()
      admin(host, "POST", "/_sim/fault", { provider = "fake", kind = "maintenance" })
      admin(host, "POST", "/_sim/fault", { provider = "fake", kind = "rate_limit" })
      local status, _, body = get(host, "/fake/x")
      assert.are.equal(503, status)
      assert.are.equal("<error>fake maintenance</error>", body)
      status, _, body = get(host, "/fake/x")
      assert.are.equal(429, status)
      assert.are.equal("<error>fake throttled</error>", body)
      assert.are.equal(0, #host:sim("fake").requests)
    end)

    it("maintenance and rate_limit fall back to generic answers for simulators without fault()", function()
      admin(host, "POST", "/_sim/fault", { provider = "other", kind = "rate_limit" })
      local status, h = get(host, "/other/x")
      assert.are.equal(429, status)
      assert.is_truthy(h["Retry-After"])
      admin(host, "POST", "/_sim/fault", { provider = "other", kind = "maintenance" })
      assert.are.equal(503, (get(host, "/other/x")))
    end)

    it("rejects unknown kinds, unknown providers, bad counts and delays without ms", function()
      assert.are.equal(400, (admin(host, "POST", "/_sim/fault", { kind = "explode" })))
      assert.are.equal(400, (admin(host, "POST", "/_sim/fault", { kind = "drop", provider = "zzz" })))
      assert.are.equal(400, (admin(host, "POST", "/_sim/fault", { kind = "drop", count = 1.5 })))
      assert.are.equal(400, (admin(host, "POST", "/_sim/fault", { kind = "delay" })))
      local _, listed = admin(host, "GET", "/_sim/fault")
      assert.are.equal(0, #listed.faults)
    end)
  end)

  describe("json helpers", function()
    it("round-trip strings with escapes and unicode", function()
      local v = { s = "a\"b\\c\n\1é", list = { 1, 2.5, true }, empty = simhost.array() }
      local back = json_decode(json_encode(v))
      assert.are.same(v.s, back.s)
      assert.are.same(v.list, { back.list[1], back.list[2], back.list[3] })
      assert.are.equal("[]", json_encode(simhost.array()))
      assert.are.equal("\240\159\152\128", json_decode('"\\ud83d\\ude00"'))
    end)

    it("encode luacloud.core's null and decoded empty arrays as null and []", function()
      local ok, core = pcall(require, "luacloud.core")
      if not ok then
        pending("luacloud.core is not built: " .. tostring(core))
        return
      end
      local v = { a = core.null, b = core.json_decode("[]"), c = core.json_decode('[1,{"x":null}]') }
      assert.are.equal('{"a":null,"b":[],"c":[1,{"x":null}]}', json_encode(v))
    end)

    it("reject invalid documents with a message", function()
      for _, bad in ipairs({ "", "{", "[1,]", '{"a" 1}', "nul", '"abc', "1 2" }) do
        local v, err = json_decode(bad)
        assert.is_nil(v, bad)
        assert.is_string(err, bad)
      end
    end)
  end)
end)
