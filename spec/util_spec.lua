-- lua/luacloud/util.lua: the helpers the engine, the protocol layer and the hooks share.
local util = require "luacloud.util"
local core = require "luacloud.core"

describe("luacloud.util", function()
  it("is_array: marked lists and true sequences only", function()
    assert.is_true(util.is_array(util.array()))
    assert.is_true(util.is_array({ "a", "b" }))
    assert.is_false(util.is_array({}))
    assert.is_false(util.is_array({ a = 1 }))
    -- `#` may call these lists; they are maps of ids (Clodo's update_dns_zone records)
    assert.is_false(util.is_array({ [1] = "a", [3] = "b" }))
    assert.is_false(util.is_array({ [1] = "a", x = "b" }))
    assert.is_false(util.is_array("ab"))
  end)

  it("header: any case of the name", function()
    local resp = { headers = { ["x-auth-token"] = "t", ["Retry-After"] = "5" } }
    assert.are.equal("t", util.header(resp, "X-Auth-Token"))
    assert.are.equal("5", util.header(resp, "retry-after"))
    assert.is_nil(util.header(resp, "Content-Type"))
    assert.is_nil(util.header({}, "Content-Type"))
  end)

  it("integer: exact integers only, long ids stay text", function()
    assert.are.equal(12, util.integer("12"))
    assert.are.equal(math.type and "integer" or "number", math.type and math.type(util.integer("12")) or type(util.integer("12")))
    assert.are.equal("1.5", util.integer("1.5"))
    assert.are.equal("123456789012345678901234", util.integer("123456789012345678901234"))
    assert.are.equal("x", util.integer("x"))
  end)

  it("trim, split, set, is_empty", function()
    assert.are.equal("a b", util.trim("  a b \n"))
    assert.are.equal("5", util.trim(5))
    assert.are.same({ "a", "b", "c" }, util.split("a.b.c"))
    assert.are.same({ x = true, y = true }, util.set({ "x", "y" }))
    assert.is_true(util.is_empty(nil) and util.is_empty("") and util.is_empty(core.null))
    assert.is_false(util.is_empty(0))
  end)
end)

describe("luacloud.util.memo", function()
  it("computes once per key and keeps at most `limit` results", function()
    local calls = 0
    local f = util.memo(function(k) calls = calls + 1; return k .. "!" end, 3)
    assert.are.equal("a!", f("a"))
    assert.are.equal("a!", f("a"))
    assert.are.equal(1, calls)
    for _, k in ipairs { "b", "c", "d" } do f(k) end -- the 4th key empties the memo
    calls = 0
    f("a")
    assert.are.equal(1, calls) -- "a" was dropped with the rest
    f("d")
    assert.are.equal(1, calls) -- "d" stayed (kept after the drop)
  end)
end)
