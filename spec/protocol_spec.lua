-- lua/luacloud/protocol.lua: request bodies from catalog entries alone (docs/DESIGN.md "Catalog keys").
local core = require "luacloud.core"
local protocol = require "luacloud.protocol"
local validate = require "luacloud.validate"

local snake = validate.snake

-- placement.body as the validator hands it over: wire text for booleans and integers
local function P(name, value, extra)
  local p = { name = name, value = value }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function encode(catalog, entry, style, wire, params, ns)
  local req = { headers = {}, query = {} }
  local ok, err = protocol.encode(catalog, entry, style, wire, params, req, { snake = snake, ns = ns })
  return req, ok, err
end

describe("protocol: JSON", function()
  local entry = { name = "X", params = {
    { name = "Flag", type = "boolean" }, { name = "Count", type = "integer" }, { name = "Rate", type = "number" },
    { name = "Alias", type = "string" }, { name = "Ids", type = "array", items = "integer" },
    { name = "Pairs", type = "array", fields = { { name = "K", type = "string" }, { name = "N", type = "integer" } } } } }

  it("writes each value in its param's type", function()
    local req, ok = encode({}, entry, "json", "json", {
      P("Flag", "false"), P("Count", "12"), P("Rate", "0.5"), P("Alias", 1000), P("Ids", { "7", 20 }),
      P("Pairs", { { K = "a", N = "3" } }) })
    assert.is_true(ok)
    assert.equal("application/json", req.headers["Content-Type"])
    local v = core.json_decode(req.body)
    assert.is_false(v.Flag)
    assert.equal(12, v.Count)
    assert.equal(0.5, v.Rate)
    assert.equal("1000", v.Alias)
    assert.same({ 7, 20 }, v.Ids)
    assert.same({ { K = "a", N = 3 } }, v.Pairs)
    assert.truthy(req.body:find('"Flag":false', 1, true))
    assert.truthy(req.body:find('"Count":12', 1, true))
  end)

  it("keeps integers too long for a double exact as text, wraps under body_root, writes {} when empty", function()
    local req = encode({}, entry, "json", "json", { P("Count", "123456789012345678901234") })
    assert.equal("123456789012345678901234", core.json_decode(req.body).Count)
    local wrapped = encode({}, { name = "W", body_root = "server", params = entry.params }, "json", "json", { P("Count", "1") })
    assert.same({ server = { Count = 1 } }, core.json_decode(wrapped.body))
    assert.equal("{}", (encode({}, entry, "json", "json", {})).body)
  end)
end)

describe("protocol: XML", function()
  it("follows the params' order without body_order, and body_order where given", function()
    local entry = { name = "E", xml_root = "ERequest", params = { { name = "Zeta" }, { name = "Alpha" }, { name = "Mid" } } }
    local req = encode({ xml_declaration = false }, entry, "xml", "xml", { P("Alpha", "a"), P("Mid", "m"), P("Zeta", "z") })
    assert.equal("<ERequest><Zeta>z</Zeta><Alpha>a</Alpha><Mid>m</Mid></ERequest>", req.body)
    local ordered = { name = "E", xml_root = "ERequest", params = entry.params,
      body_order = { ERequest = { "Mid", "Zeta", "Alpha" } } }
    req = encode({ xml_declaration = false }, ordered, "xml", "xml", { P("Alpha", "a"), P("Mid", "m"), P("Zeta", "z") })
    assert.equal("<ERequest><Mid>m</Mid><Zeta>z</Zeta><Alpha>a</Alpha></ERequest>", req.body)
  end)

  it("writes lists as wrapper + items, repeated elements, attribute records, field-ordered records", function()
    local entry = { name = "L", xml_root = "L", params = {
      { name = "OperatingSystems", type = "array", items = "integer", xml = { item = "OS" } },
      { name = "Parameters", type = "array", fields = { "Name", "Value" }, xml = { item = "Parameter", attrs = true } },
      { name = "CustomFields", type = "array", fields = { "ID", "Value" }, xml = { ["repeat"] = true, attrs = true } },
      { name = "realServer", type = "array", fields = { { name = "id" }, { name = "port" } } } } }
    local req = encode({ xml_declaration = false }, entry, "xml", "xml", {
      P("OperatingSystems", { 7, 20 }), P("Parameters", { { Value = "v", Name = "n" } }),
      P("CustomFields", { { Value = "1", ID = "a" }, { ID = "b" } }), P("realServer", { port = "80", id = "s1" }) })
    -- attributes in the fields' order, as the document prints them (Name before Value)
    assert.equal("<L><OperatingSystems><OS>7</OS><OS>20</OS></OperatingSystems>"
      .. '<Parameters><Parameter Name="n" Value="v"/></Parameters>'
      .. '<CustomFields ID="a" Value="1"/><CustomFields ID="b"/>'
      .. "<realServer><id>s1</id><port>80</port></realServer></L>", req.body)
    -- an empty list keeps its wrapper and has no items
    req = encode({ xml_declaration = false }, entry, "xml", "xml", { P("OperatingSystems", {}) })
    assert.equal("<L><OperatingSystems/></L>", req.body)
  end)

  it("puts attribute params on the root and writes an element without children self-closing", function()
    local entry = { name = "B", body_root = "NewBackup", params = { { name = "servicePlan", attribute = true } } }
    local req = encode({}, entry, "xml", "xml", { P("servicePlan", "Essentials", { attribute = true }) },
      "http://oec.api.opsource.net/schemas/backup")
    assert.equal('<?xml version="1.0" encoding="UTF-8"?>\n'
      .. '<NewBackup xmlns="http://oec.api.opsource.net/schemas/backup" servicePlan="Essentials"/>', req.body)
    assert.equal("application/xml", req.headers["Content-Type"])
  end)

  it("reports what cannot be encoded instead of raising", function()
    local req, ok, err = encode({}, { name = "bad name" }, "xml", "xml", {})
    assert.is_nil(ok)
    assert.matches("cannot encode the XML body", err)
    assert.is_nil(req.body)
  end)
end)

describe("protocol: query, form, none", function()
  it("appends query params (multi repeats the name) and sends the catalog's empty_body", function()
    local req = encode({}, { name = "Q" }, "query", "json", { P("a", "1"), P("id", { "x", "y" }, { multi = true }) })
    assert.same({ { "a", "1" }, { "id", "x" }, { "id", "y" } }, req.query)
    assert.is_nil(req.body)
    local cat = { empty_body = { json = "{}", xml = "" }, content_types = { json = "application/json; charset=utf-8", xml = "text/xml" } }
    req = encode(cat, { name = "N" }, "none", "json", {})
    assert.equal("{}", req.body)
    assert.equal("application/json; charset=utf-8", req.headers["Content-Type"])
    req = encode(cat, { name = "N" }, "none", "xml", {})
    assert.equal("", req.body)
    assert.equal("text/xml", req.headers["Content-Type"])
  end)

  it("form-encodes with sorted keys", function()
    local req = encode({}, { name = "F" }, "form", "xml", { P("b", "2"), P("a", "x y") })
    assert.equal("a=x+y&b=2", req.body)
    assert.equal("application/x-www-form-urlencoded", req.headers["Content-Type"])
  end)

  it("finds the param that selects the call's format", function()
    assert.equal("format", protocol.format_key({ name = "S", params = { { name = "format", selects_format = true } } }, snake))
    assert.is_nil(protocol.format_key({ name = "T", params = { { name = "x" } } }, snake))
  end)
end)

describe("protocol: XML answers in the JSON shape", function()
  local catalog = { xml_types = { integer = { "int", "Cpu" }, boolean = { "IsActive" } } }
  local r = { xml_items = { Roles = "int", Servers = "Server" }, xml_repeated = { Option = "Options" },
              xml_rename = { HourlyCharge = "HourlyCharges" } }
  local function shape(xml)
    local v = assert(core.xml_decode(xml, { lists = protocol.xml_lists(r) }))
    local conv = protocol.xml_converters(catalog)
    v = protocol.xml_shape(v, r, conv)
    protocol.xml_convert(v, conv)
    return v
  end

  it("turns wrappers into arrays of their items, primitive items typed, one item and none too", function()
    local v = shape('<R><Servers><Server Cpu="2" IsActive="true"><Roles><int>8</int><int>9</int></Roles></Server></Servers></R>')
    assert.equal(core.array_mt, getmetatable(v.Servers))
    assert.same({ { Cpu = 2, IsActive = true, Roles = { 8, 9 } } }, v.Servers)
    assert.same({ 8 }, shape("<R><Roles><int>8</int></Roles></R>").Roles)
    local none = shape("<R><Roles/></R>").Roles
    assert.same({}, none)
    assert.equal(core.array_mt, getmetatable(none))
  end)

  it("gathers unwrapped repeats under their JSON name and renames elements", function()
    local v = shape('<R><Option Name="a"/><Option Name="b"/><HourlyCharge><Cpu>1</Cpu></HourlyCharge></R>')
    assert.same({ { Name = "a" }, { Name = "b" } }, v.Options)
    assert.is_nil(v.Option)
    assert.same({ Cpu = 1 }, v.HourlyCharges)
  end)
end)

describe("core.xml_encode attributes and empty elements", function()
  it("writes an element with neither children nor text self-closing; an empty string stays an element pair", function()
    assert.equal('<r><a x="1"/><b/><c></c></r>', core.xml_encode("r", { a = { _attr = { x = 1 } }, b = {}, c = "" }, { decl = false }))
    assert.equal("<r/>", core.xml_encode("r", {}, { decl = false }))
  end)

  it("writes them in the order map's order, then sorted: the same table gives the same bytes", function()
    local attrs = { zeta = "1", alpha = "2", mid = "3", Name = "n", Value = "v" }
    assert.equal('<r Name="n" Value="v" alpha="2" mid="3" zeta="1"/>', core.xml_encode("r", { _attr = attrs }, { decl = false }))
    assert.equal('<r mid="3" zeta="1" Name="n" Value="v" alpha="2"/>',
      core.xml_encode("r", { _attr = attrs }, { decl = false, order = { r = { "mid", "zeta" } } }))
    assert.has_error(function() core.xml_encode("r", { _attr = { [1] = "x" } }) end)
  end)
end)

describe("protocol.normalize: the JSON shape from response keys alone", function()
  local entry = { response = { root = "nets", lists = { "net", "ip" }, items = "net",
    list_paths = { "net", "net.ips.ip" }, field_alias = { ["net.ips.ip"] = { ip = "addr" } }, booleans = { "primary" } } }

  it("makes promised lists lists: missing, empty, single, and a list standing for a dropped level", function()
    local v = protocol.normalize(entry, { net = { name = "a", ips = { ip = { ip = "1.1.1.1", primary = "1" } } } })
    assert.equal(core.array_mt, getmetatable(v.net))
    assert.same({ { addr = "1.1.1.1", ip = "1.1.1.1", primary = true } }, v.net[1].ips.ip)
    -- JSON {"nets":[..]} without the <net> level of the XML
    local dropped = protocol.normalize(entry, setmetatable({ { name = "b", ips = {} } }, core.array_mt))
    assert.equal("b", dropped.net[1].name)
    assert.same({}, dropped.net[1].ips.ip)
    assert.same({ net = {} }, protocol.normalize(entry, ""))
    -- booleans of every promised list's items; 0 / "" are false
    local off = protocol.normalize(entry, { net = { { ips = { ip = { { ip = "x", primary = "0" } } } } } })
    assert.is_false(off.net[1].ips.ip[1].primary)
  end)

  it("returns a root that holds the value under the root's name", function()
    assert.same({ balance = "12" }, protocol.normalize({ response = { root = "balance", value = true } }, "12"))
  end)
end)
