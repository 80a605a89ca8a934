-- core.query_encode and core.canonical_query (src/encode.c) against a Lua model of the same
-- rules, across the small-call size (16 pairs) where the C side changes strategy, and what one
-- call of them allocates (issue 17: a call's pairs are strings already; nothing is copied).
local core = require "luacloud.core"
local cost = require "spec.support.cost"

local function pct(s) -- Java URLEncoder, '+' -> %20 and '~' -> %7E (notes section 4.3)
  return (s:gsub("[^%w%.%-%*_]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function text(v)
  if type(v) == "boolean" then return v and "true" or "false" end
  if math.type and math.type(v) == "integer" then return string.format("%d", v) end
  if type(v) == "number" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
  return tostring(v)
end

local function model_query(pairs_)
  local out = {}
  for i, kv in ipairs(pairs_) do out[i] = tostring(kv[1]) .. "=" .. pct(text(kv[2])) end
  return table.concat(out, "&")
end

local function model_canonical(pairs_)
  local idx = {}
  for i = 1, #pairs_ do idx[i] = i end
  table.sort(idx, function(a, b) -- byte-wise by name, repeated names in their order
    local na, nb = tostring(pairs_[a][1]), tostring(pairs_[b][1])
    if na ~= nb then return na < nb end
    return a < b
  end)
  local out = {}
  for i, j in ipairs(idx) do out[i] = tostring(pairs_[j][1]) .. "=" .. pct(text(pairs_[j][2])) end
  return table.concat(out, "&"):lower()
end

local function random_value(rnd)
  local k = rnd(6)
  if k == 1 then return rnd(0, 1) == 1 end
  if k == 2 then return rnd(-1000, 100000) end
  if k == 3 then return rnd(1, 99) + 0.5 end
  local t = {}
  for i = 1, rnd(0, 12) do t[i] = string.char(rnd(1, 255)) end
  return table.concat(t)
end

describe("core.query_encode and core.canonical_query", function()
  it("equal the model for 0 to 40 pairs of strings, numbers and booleans, names repeated", function()
    math.randomseed(17)
    local rnd = math.random
    local names = { "command", "apiKey", "zoneId", "Name", "name", "a", "B", "page", "pagesize", "id" }
    for _ = 1, 300 do
      local q = {}
      for i = 1, rnd(0, 40) do
        local name = rnd(8) == 1 and rnd(0, 99) or names[rnd(#names)] -- a number as a name too
        q[i] = { name, random_value(rnd) }
      end
      assert.are.equal(model_query(q), core.query_encode(q))
      assert.are.equal(model_canonical(q), core.canonical_query(q))
    end
  end)

  it("keeps the order of repeated names in a sort of more than 16 pairs", function()
    local q = {}
    for i = 1, 40 do q[i] = { i % 2 == 0 and "b" or "a", tostring(i) } end
    local odd, even = {}, {}
    for i = 1, 40, 2 do odd[#odd + 1] = "a=" .. i end
    for i = 2, 40, 2 do even[#even + 1] = "b=" .. i end
    assert.are.equal(table.concat(odd, "&") .. "&" .. table.concat(even, "&"), core.canonical_query(q))
  end)

  it("reads 5,000 pairs of numbers (each one converted and kept alive)", function()
    local q = {}
    for i = 1, 5000 do q[i] = { "n" .. (5001 - i), i } end
    collectgarbage()
    local s = core.canonical_query(q)
    assert.are.equal(model_canonical(q), s)
    assert.are.equal(model_query(q), core.query_encode(q))
  end)

  it("refuses what is not a pair of scalars", function()
    assert.has_error(function() core.query_encode({ "x" }) end, "pair 1 is not a {name, value} table")
    assert.has_error(function() core.canonical_query({ { "a", "1" }, { "b", {} } }) end,
      "pair 2: value must be a string, number or boolean")
  end)

  it("allocate only their answer when the pairs are strings (no anchor table, no arrays)", function()
    local q = { { "command", "listZones" }, { "available", "true" }, { "response", "json" }, { "apiKey", "demo-api-key" } }
    local function least(fn) -- the first runs also grow the string table: the least of three
      local m = math.huge
      for _ = 1, 3 do m = math.min(m, cost.measure(fn).bytes) end
      return m
    end
    local canonical, query = core.canonical_query(q), core.query_encode(q)
    local plain = least(function() return ("x"):rep(#canonical) end) -- one string of that length
    local c1 = least(function() return core.canonical_query(q) end)
    local plain_q = least(function() return ("x"):rep(#query) end)
    local c2 = least(function() return core.query_encode(q) end)
    -- an anchor table and three userdata cost about 600 bytes more
    assert.is_true(c1 <= plain + 32, "canonical_query allocated " .. c1 .. " bytes, one string " .. plain)
    assert.is_true(c2 <= plain_q + 32, "query_encode allocated " .. c2 .. " bytes, one string " .. plain_q)
  end)
end)
