-- luacloud.sim.util: the one copy of the helpers the simulators share.
local util = require("luacloud.sim.util")

describe("luacloud.sim.util", function()
  it("escapes the four characters XML text and double-quoted attributes need, nothing else", function()
    assert.equal("a&amp;b &lt;c&gt; &quot;d&quot; 'e'", util.xml_escape([[a&b <c> "d" 'e']]))
    assert.equal("12", util.xml_escape(12))
  end)

  it("reads XML keeping element order and namespaces (what core.xml_decode drops)", function()
    local root = assert(util.xml_parse('<?xml version="1.0"?><p:Server xmlns:p="http://x/schemas/server" '
      .. 'a="&amp;1"><p:b>1</p:b><c/><p:b> 2 </p:b><!-- n --><d><![CDATA[<z>]]></d></p:Server>'))
    assert.equal("Server", root.name)
    assert.equal("http://x/schemas/server", root.ns)
    assert.equal("&1", root.attrs.a)
    local names = {}
    for i, k in ipairs(root.kids) do names[i] = k.name end
    assert.same({ "b", "c", "b", "d" }, names)
    assert.equal(" 2 ", root.kids[3].text)
    assert.equal("<z>", root.kids[4].text)
  end)

  it("refuses DTDs, a second root and mismatched tags", function()
    assert.is_nil(util.xml_parse('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'))
    assert.is_nil(util.xml_parse("<a/><b/>"))
    local v, err = util.xml_parse("<a><b></a>")
    assert.is_nil(v)
    assert.matches("mismatched", err)
  end)

  it("gives plain values: trimmed text, attributes and children in one table, repeats as a list", function()
    local v, root = util.xml_values('<server name="n1"><ip> 10.0.0.1 </ip><ip>10.0.0.2</ip><empty/>'
      .. "<one>x</one></server>")
    assert.equal("server", root)
    assert.equal("n1", v.name)
    assert.is_true(v.ip.__list)
    assert.same({ "10.0.0.1", "10.0.0.2" }, { v.ip[1], v.ip[2] })
    assert.equal("", v.empty)
    assert.equal("x", v.one)
    local t = util.xml_values('<file id="2">text</file>')
    assert.same({ id = "2", _text = "text" }, t)
    assert.equal("2", (util.xml_values("<file> 2 </file>")))
    local bad, err = util.xml_values("<a>")
    assert.is_nil(bad)
    assert.matches("^xml: ", err)
  end)

  it("lower-cases request header names and joins repeated values (cookies with '; ')", function()
    local h = util.lower_headers({ ["Content-Type"] = "text/xml", Cookie = { "a=1", "b=2" },
      ["X-Many"] = { "1", "2" } })
    assert.same({ ["content-type"] = "text/xml", cookie = "a=1; b=2", ["x-many"] = "1, 2" }, h)
    assert.same({}, util.lower_headers(nil))
  end)

  it("counts civil days without os.time and decodes form components", function()
    assert.equal(0, util.days_from_civil(1970, 1, 1))
    assert.equal(11017, util.days_from_civil(2000, 3, 1))
    assert.equal(-1, util.days_from_civil(1969, 12, 31))
    assert.equal("a b&c", util.urldecode("a+b%26c"))
  end)

  it("splits a query into ordered, decoded pairs: repeats kept, a bare name a flag, '=' inside a value", function()
    assert.same({ { "a b", "1" }, { "flag", true }, { "a b", "x=y" }, { "", "v" }, { "e", "" } },
      util.query_pairs("a+b=1&flag&a%20b=x%3Dy&=v&e="))
    assert.same({}, util.query_pairs(nil))
  end)

  it("tells arrays from objects as the host's JSON writes them", function()
    assert.is_true(util.is_array(util.array()))
    assert.is_true(util.is_array({ 1, 2 }))
    assert.is_false(util.is_array({}))
    assert.is_false(util.is_array({ 1, x = 2 }))
  end)
  it("writes JSON string literals with quotes, backslashes and control characters (DEL too) escaped", function()
    assert.equal('"plain"', util.json_string("plain"))
    assert.equal([["a\"b\\c\n\t\u0001\u007f"]], util.json_string('a"b\\c\n\t\1\127'))
  end)

  it("draws from the simulator's own generators (Park-Miller's minimal standard sequence)", function()
    local s = { rng = 1 }
    assert.equal(16807, util.park_miller(s, 2147483647))
    assert.equal(282475249, util.park_miller(s, 2147483647))
    assert.equal(1622650073, util.park_miller(s, 2147483647))
    local l = { rng = 12345 }
    assert.equal("c45", util.pick(l, util.lcg, util.HEX, 3))
    assert.equal(1449466924, l.rng)
  end)
end)
