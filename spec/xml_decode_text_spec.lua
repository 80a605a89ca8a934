-- Element text as the decoder gives it, on each way text reaches an element's end: one piece
-- right before the end tag (taken straight from the event tape), several pieces (entities,
-- CDATA), text around children, and text cut by the 64 KB chunk boundary (kept in the text
-- buffer until the end tag arrives in the next chunk).
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
local core = require "luacloud.core"

local function decode(s, opts)
  local v, err = core.xml_decode(s, opts)
  assert(v, err)
  return v
end

describe("xml_decode: element text", function()
  it("trims one piece of text before the end tag, and keeps inner blanks", function()
    assert.are.same({ name = "web 1", state = "" }, decode("<r><name>\n  web 1 \t</name><state>  </state></r>"))
  end)

  it("joins the pieces an entity, a character reference or CDATA splits a text into", function()
    assert.are.same({ a = "x & y", b = "<z>", c = "1 A 2" },
      decode("<r><a> x &amp; y </a><b><![CDATA[<z>]]></b><c>1 &#65; 2</c></r>"))
  end)

  it("keeps text beside attributes and children as _text, blank text as nothing", function()
    assert.are.same({ a = { id = "7", _text = "seven" }, b = { id = "8" }, c = { d = "in", _text = "out" } },
      decode('<r><a id="7"> seven </a><b id="8">  </b><c>out<d>in</d></c></r>'))
  end)

  it("gives text cut by a chunk boundary whole, and sibling leaves stay apart", function()
    local pad = ("p"):rep(70000) -- longer than a chunk: its end tag comes in a later chunk
    local v = decode("<r><x>" .. pad .. "</x><y> after </y><x>again</x></r>", { lists = { x = true } })
    assert.are.equal(2, #v.x)
    assert.are.equal(70000, #v.x[1])
    assert.are.equal("again", v.x[2])
    assert.are.equal("after", v.y)
    -- "</t>" starts at byte `cut` (0-based): the chunk boundary 65536 falls before, inside and
    -- after the text's end and the end tag
    for cut = 65530, 65542 do
      local doc = "<r>" .. ("<e>v</e>"):rep(8000) .. "<t>" .. ("q"):rep(cut - 64006) .. "</t><u> w </u></r>"
      local d = decode(doc, { lists = { e = true } })
      assert.are.equal(8000, #d.e)
      assert.are.equal("v", d.e[8000])
      assert.are.equal("w", d.u)
      assert.are.equal(cut - 64006, #d.t)
    end
  end)

  it("keeps the text of the root and of a listed leaf", function()
    assert.are.equal("just text", decode("<r> just text </r>"))
    local v = decode("<r><n> 1 </n><n>2</n></r>", { lists = { n = true } })
    assert.are.same({ "1", "2" }, { v.n[1], v.n[2] })
  end)
end)
