-- core.xml_decode reads opts.lists into C once when it is small (src/xml.c) and presizes tables
-- from the shapes of earlier answers: neither may change a result.
local core = require "luacloud.core"

describe("core.xml_decode lists and table sizes", function()
  local doc = "<r><a><x>1</x></a><b><x>2</x></b><c>3</c><c>4</c><d/></r>"

  it("opts.lists: small or large, string keys only, false values ignored", function()
    local v = assert(core.xml_decode(doc, { lists = { a = true, b = false, d = true } }))
    assert.are.equal("1", v.a[1].x)
    assert.are.equal("2", v.b.x)
    assert.are.same({ "3", "4" }, { v.c[1], v.c[2] })
    assert.are.equal(1, #v.d)
    local many = { a = true }
    for i = 1, 20 do many["n" .. i] = true end
    v = assert(core.xml_decode(doc, { lists = many }))
    assert.are.equal("1", v.a[1].x)
    assert.are.equal("2", v.b.x)
    v = assert(core.xml_decode(doc, { lists = { "a", [2] = "b" } })) -- an array names nothing
    assert.are.equal("1", v.a.x)
    v = assert(core.xml_decode("<R><A><X>1</X></A></R>", { lists = { a = true }, lower = true }))
    assert.are.equal("1", v.a[1].x)
  end)

  it("answers of other shapes after each other decode whole", function()
    local wide = { "<r><s>" }
    for i = 1, 40 do wide[#wide + 1] = ("<k%d>%d</k%d>"):format(i, i, i) end
    wide[#wide + 1] = '</s><s a="1"><k1>x</k1></s></r>'
    wide = table.concat(wide)
    for _ = 1, 3 do
      local v = assert(core.xml_decode(wide))
      assert.are.equal("40", v.s[1].k40)
      assert.are.equal("1", v.s[2].a)
      assert.are.equal("x", v.s[2].k1)
      v = assert(core.xml_decode(doc))
      assert.are.equal("1", v.a.x)
      assert.is_nil(v.a.k1)
    end
  end)
end)
