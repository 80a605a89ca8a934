-- The C core's codecs on the seeds' own samples and on hostile input.
local core = require "luacloud.core"

local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$")) or "."
local function read(path)
  local f = assert(io.open(root .. "/" .. path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("xml_decode", function()
  it("drops namespace prefixes, whatever they are", function()
    for _, prefix in ipairs({ "ns3", "ns9", "a" }) do
      local doc = ('<%s:Account xmlns:%s="http://oec.api.opsource.net/schemas/directory"><%s:userName>bob</%s:userName>'
        .. '<%s:orgId>8a8f6abc</%s:orgId></%s:Account>'):gsub("%%s", prefix)
      local t, rootname = core.xml_decode(doc)
      assert.are.equal("Account", rootname)
      assert.are.same({ userName = "bob", orgId = "8a8f6abc" }, t)
    end
  end)

  it("turns attributes into fields and keeps text beside them", function()
    local t = core.xml_decode('<r><limit verb="POST" value="10">x</limit></r>')
    assert.are.same({ verb = "POST", value = "10", _text = "x" }, t.limit)
  end)

  it("trims text and makes empty elements empty strings", function()
    local t = core.xml_decode("<r><a>\n    https://x/y\n  </a><b/><c></c></r>")
    assert.are.same({ a = "https://x/y", b = "", c = "" }, t)
  end)

  it("makes declared lists arrays: one item is an array of one", function()
    local one = core.xml_decode("<r><zone><id>1</id></zone></r>", { lists = { zone = true } })
    assert.are.same({ { id = "1" } }, one.zone)
    assert.are.equal(core.array_mt, getmetatable(one.zone))
    local two = core.xml_decode("<r><zone><id>1</id></zone><zone><id>2</id></zone></r>")
    assert.are.same({ { id = "1" }, { id = "2" } }, two.zone)
    assert.are.equal(core.array_mt, getmetatable(two.zone))
  end)

  it("lower-cases names when asked (ReliaCloud's <zoneId>)", function()
    local t = core.xml_decode("<R><zoneId>4</zoneId></R>", { lower = true })
    assert.are.same({ zoneid = "4" }, t)
  end)

  it("decodes every ReliaCloud sample fixture without error", function()
    local p = io.popen("ls " .. root .. "/spec/fixtures/reliacloud/*.xml")
    local n = 0
    for file in p:lines() do
      if file:match("%.repaired%.xml$") or not io.open((file:gsub("%.xml$", ".repaired.xml"))) then
        local s = read(file:sub(#root + 2))
        local t, name = core.xml_decode(s)
        assert.is_table(t, file .. ": " .. tostring(name))
        n = n + 1
      end
    end
    p:close()
    assert.is_true(n >= 20)
  end)

  it("reports the document's own mismatched closing tag as an error", function()
    local v, err = core.xml_decode("<createrrupdateloadbalancerruleresponse><id>1</id></createrrupdateloadbalancerrulereponse>")
    assert.is_nil(v)
    assert.matches("mismatch", err)
  end)

  it("refuses DOCTYPEs: no entity expansion (billion laughs) and no external entities", function()
    local laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>'
    local v, err = core.xml_decode(laughs)
    assert.is_nil(v)
    assert.matches("DOCTYPE", err)
    local xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    v, err = core.xml_decode(xxe)
    assert.is_nil(v)
    assert.matches("DOCTYPE", err)
    v, err = core.xml_decode("<r>&undefined;</r>")
    assert.is_nil(v)
    assert.matches("undefined", err)
  end)

  it("limits depth and size, and reports truncation", function()
    local deep = string.rep("<a>", 200) .. string.rep("</a>", 200)
    local v, err = core.xml_decode(deep)
    assert.is_nil(v)
    assert.matches("nested too deeply", err)
    assert.is_table(core.xml_decode(deep, { max_depth = 250 }))
    v, err = core.xml_decode("<a>" .. string.rep("x", 2000) .. "</a>", { max_size = 1000 })
    assert.is_nil(v)
    assert.matches("limit", err)
    v, err = core.xml_decode("<r><zone><id>1</id></zo")
    assert.is_nil(v)
    assert.matches("truncated", err)
    v, err = core.xml_decode("")
    assert.is_nil(v)
    assert.matches("empty", err)
  end)

  it("never crashes on random garbage", function()
    math.randomseed(42)
    for _ = 1, 300 do
      local bytes = {}
      for i = 1, math.random(0, 200) do bytes[i] = string.char(math.random(0, 255)) end
      local s = "<r>" .. table.concat(bytes)
      local ok = pcall(core.xml_decode, s)
      assert.is_true(ok)
    end
  end)

  it("honours each document's declared encoding, also when parsers are reused", function()
    for _ = 1, 3 do
      assert.are.equal("\195\169", core.xml_decode('<?xml version="1.0" encoding="ISO-8859-1"?><r>\233</r>'))
      assert.are.equal("\195\169", core.xml_decode('<?xml version="1.0" encoding="UTF-8"?><r>\195\169</r>'))
      assert.is_nil((core.xml_decode("<r><x></r>")))
      assert.are.same({ x = "1" }, core.xml_decode("<r><x>1</x></r>"))
    end
  end)

  it("decodes across chunk boundaries (large documents)", function()
    local parts = { "<list>" }
    for i = 1, 20000 do parts[#parts + 1] = ("<server><id>%d</id><name>s%d</name></server>"):format(i, i) end
    parts[#parts + 1] = "</list>"
    local t = assert(core.xml_decode(table.concat(parts)))
    assert.are.equal(20000, #t.server)
    assert.are.same({ id = "19999", name = "s19999" }, t.server[19999])
  end)
end)

describe("fuzz findings (libFuzzer, fuzz/)", function()
  it("xml_encode writes only names its own decoder reads (QName: one colon, not first or last)", function()
    for _, n in ipairs({ "a:b:c", ":a", "a:", "a:1", "i.opscaal:.le.ne" }) do
      assert.has_error(function() core.xml_encode(n, "v") end, "xml_encode: '" .. n .. "' is not a valid element or attribute name")
    end
    assert.matches("<ns:Server>v</ns:Server>", core.xml_encode("ns:Server", "v"))
    -- XML 1.0 name characters, UTF-8 decoded: a private-use character (U+F156) is not one
    assert.has_error(function() core.xml_encode("l\239\133\150o", "v") end)
    assert.has_error(function() core.xml_encode("a\255", "v") end)
    for _, n in ipairs({ "é", "a·b", "日本", "a-b.c_d" }) do assert(core.xml_decode(core.xml_encode(n, "v")), n) end
  end)

  it("form_encode refuses a NUL in a name instead of sending another field's value", function()
    assert.has_error(function() core.form_encode({ ["a\0b"] = "1" }) end, "form_encode: a name contains a NUL byte")
    assert.are.equal("a=1&b=2", core.form_encode({ a = "1", b = "2" }))
  end)

  it("xml_decode of an empty self-closed root with an attribute (UB under clang: NULL + 0)", function()
    assert.are.same({ servicePlan = "Advanced" }, core.xml_decode('<NewBackup servicePlan="Advanced"/>\n'))
  end)
end)

describe("xml_decode internals", function()
  it("builds its decoder metatable once per Lua state, not per call", function()
    assert(core.xml_decode("<a/>"))
    local mt = debug.getregistry()["luacloud.xml_decoder"]
    assert.is_table(mt)
    assert(core.xml_decode("<b>1</b>"))
    assert.are.equal(mt, debug.getregistry()["luacloud.xml_decoder"])
  end)
end)

describe("xml_encode", function()
  it("writes the default namespace, documented order and escapes", function()
    local s = core.xml_encode("Account", { userName = "a<b&c", password = "p", roles = { role = { { name = "server" }, { name = "network" } } } },
      { ns = "http://oec.api.opsource.net/schemas/directory", order = { Account = { "userName", "password", "roles" } } })
    assert.are.equal('<?xml version="1.0" encoding="UTF-8"?>\n<Account xmlns="http://oec.api.opsource.net/schemas/directory">'
      .. "<userName>a&lt;b&amp;c</userName><password>p</password><roles><role><name>server</name></role>"
      .. "<role><name>network</name></role></roles></Account>", s)
  end)

  it("round-trips through xml_decode", function()
    local t = { a = "1", b = { c = { "x", "y" } }, d = { _attr = { k = 'v"q' }, _text = "t" } }
    local back = core.xml_decode(core.xml_encode("r", t))
    assert.are.same({ a = "1", b = { c = { "x", "y" } }, d = { k = 'v"q', _text = "t" } }, back)
  end)

  it("refuses values it cannot write", function()
    assert.has_error(function() core.xml_encode("r", { f = print }) end)
  end)
end)

describe("json", function()
  it("decodes the ReliaCloud JSON sample with arrays marked and strings kept", function()
    local t = assert(core.json_decode(read("spec/fixtures/reliacloud/list_ip_address.json")))
    local inner = t.listipaddressesresponse
    assert.is_table(inner)
    local _, list = next(inner)
    assert.are.equal(core.array_mt, getmetatable(list))
  end)

  it("keeps null distinct from a missing key", function()
    local t = core.json_decode('{"a":null}')
    assert.are.equal(core.null, t.a)
    assert.is_nil(t.b)
    assert.are.equal('{"a":null}', core.json_encode(t))
  end)

  it("forces declared lists to arrays", function()
    local t = core.json_decode('{"Servers":{"Name":"a"},"Other":null,"Empty":""}', { lists = { Servers = true, Other = true, Empty = true } })
    assert.are.same({ { Name = "a" } }, t.Servers)
    assert.are.same({}, t.Other)
    assert.are.equal(core.array_mt, getmetatable(t.Other))
    assert.are.same({}, t.Empty)
  end)

  it("decodes escapes, surrogate pairs and numbers exactly", function()
    local t = assert(core.json_decode('{"s":"a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00","i":-42,"f":1.5e3,"z":0,"b":[true,false]}'))
    assert.are.equal('a"b\\c\n\195\169\240\159\152\128', t.s)
    assert.are.equal(-42, t.i)
    assert.are.equal(1500, t.f)
    assert.are.equal(0, t.z)
    assert.are.same({ true, false }, t.b)
    if math.type then assert.are.equal("integer", math.type(t.i)) end
    assert.is_nil((core.json_decode('"\\ud83d"')))
    assert.is_nil((core.json_decode('"bad \\q"')))
    assert.is_nil((core.json_decode('01')))
    assert.is_nil((core.json_decode('[1,]')))
    assert.is_nil((core.json_decode('{"a" 1}')))
    assert.is_nil((core.json_decode("")))
  end)

  it("agrees with lua-cjson on a document with every kind of value", function()
    local ok, cjson = pcall(require, "cjson")
    if not ok then pending("lua-cjson is not installed") return end
    local doc = '{"a":[1,2.25,-3e-2,"x\\u0041",{"b":null}],"c":{"d":true,"e":"","f":[]},"g":123456789012}'
    local ours, theirs = core.json_decode(doc), cjson.decode(doc)
    theirs.a[5].b = core.null
    assert.are.same(theirs, ours)
  end)

  it("refuses invalid UTF-8 (raw bytes or escapes), \\u0000 and duplicate keys", function()
    for _, doc in ipairs({ '["a\255b"]', '["\192\175"]', '["\237\160\128"]', '["\244\144\128\128"]',
                           '["\195"]', '{"k\255":1}', '["x\\n\255"]', '["a\\u0000b"]', '{"a\\u0000":1}',
                           '{"a":1,"a":2}', '{"s":{"x":1},"s":{"y":2}}' }) do
      local v, err = core.json_decode(doc)
      assert.is_nil(v, doc)
      assert.is_string(err)
    end
    assert.matches("UTF%-8", select(2, core.json_decode('["a\255"]')))
    assert.matches("NUL", select(2, core.json_decode('["\\u0000"]')))
    assert.matches("duplicate key", select(2, core.json_decode('{"a":1,"a":2}')))
    -- well-formed multi-byte text, in the fast path and among escapes
    assert.are.same({ "\195\169\226\130\172\240\159\152\128", "\n\195\169" }, core.json_decode('["é€😀","\\né"]'))
    assert.are.same({ a = { b = 1 }, b = { a = 2 } }, core.json_decode('{"a":{"b":1},"b":{"a":2}}'))
  end)

  it("keeps the exact text of numbers no Lua number holds, never inf or a rounded value", function()
    local t = assert(core.json_decode('[1e400,-1e400,1e-400,123456789012345678901234567890,0e-999,1.5]'))
    assert.are.same({ "1e400", "-1e400", "1e-400", "123456789012345678901234567890" }, { t[1], t[2], t[3], t[4] })
    assert.are.equal(0, t[5])
    assert.are.equal(1.5, t[6])
    if math.type then -- Lua 5.4: every 64-bit integer exactly, then text
      local big = assert(core.json_decode('[9223372036854775807,-9223372036854775808,9223372036854775808,9007199254740993]'))
      assert.are.equal(math.maxinteger, big[1])
      assert.are.equal(math.mininteger, big[2])
      assert.are.equal("9223372036854775808", big[3])
      assert.are.equal(9007199254740993, big[4])
      assert.are.equal("integer", math.type(big[4]))
    end
  end)

  it("keeps the cJSON reference decoder off the public API", function()
    assert.is_nil(core.json_decode_cjson)
    assert.is_function(core._json_decode_cjson)
  end)

  it("encodes arrays vs objects by marker, not by guess", function()
    assert.are.equal("[]", core.json_encode(setmetatable({}, core.array_mt)))
    assert.are.equal("{}", core.json_encode({}))
    assert.are.equal('{"a":[1,2],"b":"x"}', core.json_encode({ b = "x", a = { 1, 2 } }))
  end)

  it("reports malformed and truncated documents, and deep nesting", function()
    assert.is_nil((core.json_decode('{"a":')))
    assert.is_nil((core.json_decode('{"a":1} x')))
    assert.is_nil((core.json_decode(string.rep("[", 300) .. string.rep("]", 300))))
    assert.has_error(function() core.json_encode({ f = print }) end)
    local cyc = {}
    cyc.self = cyc
    assert.has_error(function() core.json_encode(cyc) end)
  end)
end)

describe("encoders", function()
  it("percent-encodes like the CloudStack server", function()
    assert.are.equal("Windows%20XP%20SP3", core.pct("Windows XP SP3"))
    assert.are.equal("a.b-c*d_e%7E%2B%2F%3D", core.pct("a.b-c*d_e~+/="))
    assert.are.equal("%C3%A9", core.pct("\195\169"))
  end)

  it("form-encodes sorted, with repeated keys for arrays", function()
    assert.are.equal("a=1&role=create+image&role=server&z=x%26y",
      core.form_encode({ z = "x&y", role = { "create image", "server" }, a = 1 }))
  end)

  it("decodes queries", function()
    assert.are.same({ a = { "1", "A" }, b = "x y", c = "" }, core.query_decode("a=1&b=x+y&a=%41&c="))
  end)

  it("decodes CSV reports into rows keyed by header", function()
    local rows = assert(core.csv_decode('Date,Server Name,Cost\r\n2010-01-01,"web, 1",1.5\r\n2010-01-02,"say ""hi""",2\r\n'))
    assert.are.same({ { Date = "2010-01-01", ["Server Name"] = "web, 1", Cost = "1.5" },
                      { Date = "2010-01-02", ["Server Name"] = 'say "hi"', Cost = "2" } }, rows)
    assert.is_nil((core.csv_decode('a\n"unterminated')))
  end)
end)
