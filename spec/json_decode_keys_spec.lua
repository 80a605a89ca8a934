-- core.json_decode's key handling (src/jsondec.c): the first keys of each object are checked
-- for duplicates in C and later ones by lookup, opts.lists is read once into C when small, and
-- an array's objects are presized from the previous one. None of it may change a result.
local core = require "luacloud.core"

local function object(n, prefix)
  local parts = {}
  for i = 1, n do parts[i] = ('"%s%d":%d'):format(prefix or "k", i, i) end
  return parts
end

describe("core.json_decode keys", function()
  it("refuses a duplicate key wherever it is in an object, however wide", function()
    for _, n in ipairs({ 2, 15, 16, 17, 40, 300 }) do
      local parts = object(n)
      for _, dup in ipairs({ 1, math.floor(n / 2) + 1, n }) do
        local doc = "{" .. table.concat(parts, ",") .. ',"k' .. dup .. '":0}'
        local v, err = core.json_decode(doc)
        assert.is_nil(v)
        assert.matches("duplicate key", err)
      end
      local v = assert(core.json_decode("{" .. table.concat(parts, ",") .. "}"))
      assert.are.equal(n, v["k" .. n])
    end
  end)

  it("keeps nested objects' keys apart from their parent's", function()
    local doc = '{"a":1,"b":{"a":2,"b":{"a":3,"c":[{"a":4},{"a":5,"b":6}]},"c":7},"c":8}'
    local v = assert(core.json_decode(doc))
    assert.are.equal(1, v.a)
    assert.are.equal(2, v.b.a)
    assert.are.equal(5, v.b.b.c[2].a)
    assert.are.equal(8, v.c)
    local v2, err = core.json_decode('{"a":1,"b":{"x":{"y":1},"z":2},"a":3}')
    assert.is_nil(v2)
    assert.matches("duplicate key", err)
    v2, err = core.json_decode('{"a":{"p":1,"q":{"r":1},"p":2}}')
    assert.is_nil(v2)
    assert.matches("duplicate key", err)
  end)

  it("a duplicate of a long key (beyond Lua's short strings) and of keys with escapes", function()
    local long = string.rep("x", 60)
    assert.is_nil(core.json_decode(('{"%s":1,"%s":2}'):format(long, long)))
    assert.is_nil(core.json_decode('{"a\\u0062":1,"ab":2}'))
    assert(core.json_decode(('{"%s":1,"%sy":2}'):format(long, long)))
  end)

  it("objects of an array of different sizes keep all their keys", function()
    local doc = '[{"a":1,"b":2,"c":3},{"a":1},{},{"a":1,"b":2,"c":3,"d":4,"e":5},"s",{"z":1}]'
    local v = assert(core.json_decode(doc))
    assert.are.equal(3, v[1].c)
    assert.are.equal(1, v[2].a)
    assert.is_nil(next(v[3]))
    assert.are.equal(5, v[4].e)
    assert.are.equal(1, v[6].z)
  end)

  it("opts.lists: small or large, string keys only, false values ignored", function()
    local doc = '{"a":{"x":1},"b":{"x":2},"c":[1],"d":null}'
    local v = assert(core.json_decode(doc, { lists = { a = true, b = false, d = true } }))
    assert.are.equal(1, v.a[1].x)
    assert.are.equal(2, v.b.x)
    assert.are.equal(1, v.c[1])
    assert.are.same({}, v.d)
    local many = { a = true }
    for i = 1, 20 do many["n" .. i] = true end
    v = assert(core.json_decode(doc, { lists = many }))
    assert.are.equal(1, v.a[1].x)
    assert.are.equal(2, v.b.x)
    v = assert(core.json_decode(doc, { lists = { "a", [2] = "b", c = 1 } })) -- an array names nothing
    assert.are.equal(1, v.a.x)
    assert.are.equal(1, v.c[1])
  end)
end)
