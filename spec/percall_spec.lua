-- The per-call path reuses what a client or an operation repeats on every call (issue 17,
-- bench/PROFILE.md): those caches must never let one call's request differ from what a fresh
-- client would send.
local luacloud = require "luacloud"

local ZONES = '<?xml version="1.0"?><listzonesresponse><zone><id>4</id><name>WC</name></zone></listzonesresponse>'

local function rc(opts, seen)
  local o = { endpoint = "http://127.0.0.1:9/reliacloud", api_key = "k-1", secret_key = "s-1" }
  for k, v in pairs(opts or {}) do o[k] = v end
  o.transport = function(req)
    seen[#seen + 1] = req.url
    return { status = 200, headers = { ["content-type"] = "text/xml" }, body = ZONES }
  end
  return assert(luacloud.new("reliacloud", o))
end

-- the URL a client that never called before sends for (op, params) with opts
local function fresh_url(opts, op, params)
  local seen = {}
  assert(rc(opts, seen):call(op, params))
  return seen[1]
end

describe("ReliaCloud signing with per-client pairs", function()
  it("a reused client sends what a fresh one sends, when options change between calls", function()
    local seen = {}
    local opts = {}
    local c = rc(opts, seen)
    local steps = {
      { "list_zones", { available = true } },
      { "list_zones", { available = false } },
      { "list_zones", {}, function() c.opts.api_key = "k-2"; opts.api_key = "k-2" end },
      { "list_zones", { available = true }, function() c.opts.commands = { list_zones = "listZonesV2" }
                                                        opts.commands = c.opts.commands end },
      { "list_zones", { available = true }, function() c.opts.commands = nil; opts.commands = nil end },
    }
    for i, s in ipairs(steps) do
      if s[3] then s[3]() end
      assert(c:call(s[1], s[2]))
      assert.are.equal(fresh_url(opts, s[1], s[2]), seen[i])
    end
    assert.matches("apiKey=k%-2", seen[3])
    assert.matches("command=listZonesV2", seen[4])
    assert.matches("command=listZones&", seen[5])
  end)

  it("builds the command and apiKey pairs once per client, and leaves the template's pairs alone", function()
    local prepare = require("luacloud.providers.reliacloud").prepare
    local c = rc({}, {})
    local id, entry = c:resolve("list_zones")
    local t = assert(c:template(id, entry, { available = true }))
    local before = { t.query[1][1], t.query[1][2] }
    local qs = {}
    for i = 1, 2 do
      local req = { headers = {}, query = { t.query[1] }, op = t.op }
      assert(prepare(c, entry, req, t.params))
      qs[i] = req.query
    end
    assert.are.equal(4, #qs[1])
    assert.are.equal("command", qs[1][1][1])
    assert.are.equal(qs[1][1], qs[2][1])          -- command
    assert.are.equal("apiKey", qs[1][3][1])
    assert.are.equal(qs[1][3], qs[2][3])          -- apiKey
    assert.are_not.equal(qs[1][4], qs[2][4])      -- the signature pair is the call's own
    assert.are.same(before, { t.query[1][1], t.query[1][2] })
  end)

  it("lower-cases a mixed-case parameter name in a new pair, never in the caller's", function()
    local prepare = require("luacloud.providers.reliacloud").prepare
    local c = rc({}, {})
    local _, entry = c:resolve("list_zones")
    local mixed = { "ZoneId", "7" }
    local req = { headers = {}, query = { mixed }, op = "list_zones" }
    assert(prepare(c, entry, req, {}))
    assert.are.same({ "zoneid", "7" }, req.query[2])
    assert.are.same({ "ZoneId", "7" }, mixed)
  end)
end)

describe("Client:ready", function()
  it("leaves the template as it was and hands every request the one empty, read-only sent query", function()
    local c = rc({}, {})
    local id, entry = c:resolve("list_zones")
    local t = assert(c:template(id, entry, { available = true }))
    local nq, url = #t.query, t.url
    local r1 = assert(c:ready(entry, t))
    local r2 = assert(c:ready(entry, t))
    assert.are.equal(nq, #t.query)
    assert.are.equal(url, t.url)
    assert.are.equal(r1.url, r2.url) -- the signature has no time in it
    assert.matches("available=true", r1.url)
    assert.are.equal(0, #r1.query)
    assert.are.equal(r1.query, r2.query)
    -- a pair added after the URL is built would be lost, or leak into every later request
    assert.has_error(function() r1.query[1] = { "x", "y" } end)
    assert.is_nil(rawget(r2.query, 1))
  end)
end)
