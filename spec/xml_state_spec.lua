-- xml_decode keeps its parser context and buffers per Lua state between calls (src/xml.c
-- xstate): a decode started while they are in use, or after one that failed, gets the same answer.
local core = require "luacloud.core"

describe("xml_decode's per-state parser and buffers", function()
  it("a decode run by a finalizer during another decode gets its own", function()
    local big = { "<r>" }
    for i = 1, 3000 do big[#big + 1] = "<item><id>" .. i .. "</id><name>n" .. i .. "</name></item>" end
    big[#big + 1] = "</r>"
    big = table.concat(big)
    local inner, bad = 0, 0
    for _ = 1, 5 do
      for _ = 1, 200 do
        setmetatable({}, { __gc = function()
          local v = core.xml_decode("<z><a>1</a><a>2</a></z>", { lists = { a = true } })
          if v and v.a[2] == "2" then inner = inner + 1 else bad = bad + 1 end
        end })
      end
      local v = assert(core.xml_decode(big, { lists = { item = true } }))
      assert.are.equal(3000, #v.item)
      assert.are.same({ id = "3000", name = "n3000" }, v.item[3000])
    end
    collectgarbage()
    assert.are.equal(0, bad)
    assert.is_true(inner > 0)
  end)

  it("a failed parse, a document larger than what is kept, then a small one", function()
    assert.is_nil(core.xml_decode("<a><b></a>"))
    local long = string.rep("x", 300 * 1024)
    assert.are.equal(long, core.xml_decode("<a>" .. long .. "</a>"))
    assert.are.same({ b = "1" }, core.xml_decode("<a><b>1</b></a>"))
  end)

  it("blanks before an element's text are trimmed, blanks inside it kept", function()
    assert.are.same({ _text = "x  y", b = "", c = "" }, core.xml_decode("<a> <b/> x <c/> y</a>"))
    assert.are.same({ _text = "& &", b = "" }, core.xml_decode("<a>\n &amp; &amp;\n<b> </b></a>"))
    assert.are.equal(" ", core.xml_decode("<a><![CDATA[ ]]></a>"):sub(1, 0) .. " ")
    assert.are.equal("z", core.xml_decode("<a> <![CDATA[ ]]>z </a>"))
  end)
end)
