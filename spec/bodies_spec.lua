-- Body shapes, names built from data and rules between parameters are catalog data handled by
-- the generic modules (luacloud.protocol, luacloud.validate), not by a provider hook: a made-up
-- entry gets them too.
local protocol = require "luacloud.protocol"
local validate = require "luacloud.validate"
local core = require "luacloud.core"
local xml_tree = require "spec.support.xml_tree"
local Error = require "luacloud.error"

local client = { opts = {}, error = function(_, f) return Error.new(f) end }

local function entry(style, extra)
  local e = { path = "/x", request = { style = style, root = "thing" }, params = {
    { name = "act", location = "root", required = false },
    { name = "b", type = "integer" }, { name = "a", type = "string" },
  } }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function same_xml(expected, got)
  local d = xml_tree.diff(assert(xml_tree.parse(expected)), assert(xml_tree.parse(got)))
  assert.is_nil(d, got)
end

local CATALOG = { content_types = { xml = "application/xml; charset=UTF-8", json = "application/json; charset=UTF-8" } }

-- the body of entry in fmt for params given as { name, value[, attribute] }; root: the value of
-- the param with location "root" (the action's element name)
local function encode(e, fmt, params, root)
  local req = { headers = {}, query = {} }
  local list = {}
  for i, p in ipairs(params) do list[i] = { name = p[1], value = p[2], attribute = p[3] } end
  if root then table.insert(list, 1, { name = "act", value = root }) end
  local ok, err, param = protocol.encode(CATALOG, e, fmt, fmt, list, req, { snake = validate.snake })
  if not ok then return nil, err, param end
  return req.body, req.headers["Content-Type"]
end

describe("protocol: request shapes (entry.request)", function()
  local fields = { { "b", 2 }, { "a", "x&y" } }

  it("wrapped / flat: children in the catalog's order, JSON typed, wrapped or not", function()
    for _, style in ipairs({ "wrapped", "flat" }) do
      local x, ct = encode(entry(style), "xml", fields)
      same_xml("<thing><b>2</b><a>x&amp;y</a></thing>", x)
      assert.are.equal("application/xml; charset=UTF-8", ct)
      -- the order is the catalog's, not alphabetical, whatever order the params come in
      same_xml("<thing><b>2</b><a>x&amp;y</a></thing>", encode(entry(style), "xml", { fields[2], fields[1] }))
    end
    assert.are.same({ thing = { b = 2, a = "5" } }, core.json_decode((encode(entry("wrapped"), "json",
      { { "b", "2" }, { "a", 5 } }))))
    assert.are.same({ b = 2, a = "x&y" }, core.json_decode((encode(entry("flat"), "json", fields))))
  end)

  it("action: the root is the action's value, fields are attributes, self-closing", function()
    local x = assert(encode(entry("action"), "xml", { { "b", 27, true } }, "rebuild"))
    same_xml('<rebuild b="27"/>', x)
    assert.truthy(x:find('<rebuild b="27"/>', 1, true))
    assert.truthy(assert(encode(entry("action"), "xml", {}, "reboot")):find("<reboot/>", 1, true))
    assert.are.same({ rebuild = { b = 27 } }, core.json_decode((encode(entry("action"), "json",
      { { "b", "27", true } }, "rebuild"))))
    local _, err = encode(entry("action"), "xml", {})
    assert.is_string(err)
  end)

  it("single: the only field is the root; more than one is refused", function()
    same_xml("<ip>1.2.3.4</ip>", assert(encode(entry("single"), "xml", { { "ip", "1.2.3.4" } })))
    assert.are.same({ ip = "1.2.3.4" }, core.json_decode((encode(entry("single"), "json", { { "ip", "1.2.3.4" } }))))
    local _, err = encode(entry("single"), "xml", fields)
    assert.is_string(err)
  end)

  it("omit_empty: no body; xml_only: XML whatever the client's format", function()
    local e = entry("wrapped")
    e.request.omit_empty = true
    assert.is_nil((encode(e, "json", {})))
    e.request.xml_only = true
    same_xml("<thing><b>2</b></thing>", assert(encode(e, "json", { { "b", 2 } })))
  end)
end)

describe("protocol: names built from data (location dynamic)", function()
  local dns = { path = "/dns/{id}", request = { style = "flat", root = "dns" }, params = {
    { name = "domain_master" },
    { name = "<field>_<id>", location = "dynamic", pattern = "^(%l+)_(%d+)$", fields = { "name", "ttl" } },
    { name = "records", location = "dynamic", type = "table", expand = "{field}_{id}", fields = { "name", "ttl" } },
  } }
  local function json(params)
    local body, err, param = encode(dns, "json", params)
    return body and core.json_decode(body), err, param
  end

  it("expands records given by id, or as a list with ids (none or 0: the one new record)", function()
    assert.are.same({ name_12 = "www", ttl_12 = "60", name_0 = "mail" },
      json { { "records", { [12] = { name = "www", ttl = 60 }, [0] = { name = "mail" } } } })
    assert.are.same({ name_0 = "a", ttl_5 = "9", domain_master = "m" },
      json { { "domain_master", "m" }, { "records", { { name = "a" }, { id = 5, ttl = 9 } } } })
    -- a map whose ids happen to include 1 is still a map of ids, not a list of new records
    assert.are.same({ name_3 = "a", ttl_1 = "5" }, json { { "records", { [3] = { name = "a" }, [1] = { ttl = 5 } } } })
    same_xml("<dns><name_7>x</name_7></dns>", assert(encode(dns, "xml", { { "records", { [7] = { name = "x" } } } })))
  end)

  it("refuses what the names cannot say, naming the param", function()
    for _, bad in ipairs {
      { { name = "a" }, { ttl = 1 } },     -- two new records: name_0 twice
      { x = { name = "a" } },              -- an id that is not a number
      { [5] = { owner = "a" } },           -- a field the document does not list
      { [5] = {} },                        -- nothing to set
      { 5 },                               -- not a record
    } do
      local _, err, param = json { { "records", bad } }
      assert.is_string(err)
      assert.are.equal("records", param)
    end
  end)

  it("admits raw names of a family and refuses others", function()
    assert.are.same({ ttl_4 = "1" }, json { { "ttl_4", "1" } })
    local _, err, param = json { { "owner_4", "x" } }
    assert.truthy(err:find("<field>_<id>", 1, true))
    assert.are.equal("owner_4", param)
  end)
end)

describe("luacloud.validate rules between parameters", function()
  local e = {
    path = "/x",
    one_of = { { "name", "title" } },
    params = {
      { name = "name" }, { name = "title" },
      { name = "mode", exclusive = true },
      { name = "action", enum = { "reboot", "rebuild" } },
      { name = "image", type = "integer", only_with = { action = { "rebuild" } } },
    },
  }

  it("one_of: exactly one of each group", function()
    assert.is_table(validate.check(client, "x", e, { name = "a" }))
    local _, err = validate.check(client, "x", e, {})
    assert.are.equal("validation", err.kind)
    _, err = validate.check(client, "x", e, { name = "a", title = "b" })
    assert.are.equal("validation", err.kind)
    assert.are.equal("name", err.param)
  end)

  it("exclusive: alone in its request", function()
    local _, err = validate.check(client, "x", e, { name = "a", mode = "p" })
    assert.are.equal("validation", err.kind)
    assert.are.equal("mode", err.param)
  end)

  it("only_with: allowed only with the listed values", function()
    assert.is_table(validate.check(client, "x", e, { name = "a", action = "rebuild", image = 27 }))
    local _, err = validate.check(client, "x", e, { name = "a", action = "reboot", image = 27 })
    assert.are.equal("validation", err.kind)
    assert.are.equal("image", err.param)
  end)
end)
