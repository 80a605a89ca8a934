-- Body shapes and rules between parameters are catalog data handled by the generic modules
-- (luacloud.bodies, luacloud.validate), not by a provider hook: a made-up entry gets them too.
local bodies = require "luacloud.bodies"
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

describe("luacloud.bodies", function()
  local fields = { { "b", 2 }, { "a", "x&y" } }

  it("wrapped / flat: children in the fields' order, JSON wrapped or not", function()
    for _, style in ipairs({ "wrapped", "flat" }) do
      same_xml("<thing><b>2</b><a>x&amp;y</a></thing>", assert(bodies.encode(entry(style), "xml", fields)))
      -- order is the fields', not alphabetical
      assert.is_not_nil(xml_tree.diff(assert(xml_tree.parse("<thing><a>x&amp;y</a><b>2</b></thing>")),
        assert(xml_tree.parse(assert(bodies.encode(entry(style), "xml", fields))))))
    end
    assert.are.same({ thing = { b = 2, a = "x&y" } }, core.json_decode(bodies.encode(entry("wrapped"), "json", fields)))
    assert.are.same({ b = 2, a = "x&y" }, core.json_decode(bodies.encode(entry("flat"), "json", fields)))
  end)

  it("action: the root is the action's value, fields are attributes, self-closing", function()
    local x = assert(bodies.encode(entry("action"), "xml", { { "imageId", 27 } }, "rebuild"))
    same_xml('<rebuild imageId="27"/>', x)
    assert.truthy(x:find('<rebuild imageId="27"/>', 1, true))
    assert.truthy(assert(bodies.encode(entry("action"), "xml", {}, "reboot")):find("<reboot/>", 1, true))
    assert.are.same({ rebuild = { imageId = 27 } }, core.json_decode(bodies.encode(entry("action"), "json",
      { { "imageId", 27 } }, "rebuild")))
    local _, err = bodies.encode(entry("action"), "xml", {})
    assert.is_string(err)
  end)

  it("single: the only field is the root; more than one is refused", function()
    same_xml("<ip>1.2.3.4</ip>", assert(bodies.encode(entry("single"), "xml", { { "ip", "1.2.3.4" } })))
    assert.are.same({ ip = "1.2.3.4" }, core.json_decode(bodies.encode(entry("single"), "json", { { "ip", "1.2.3.4" } })))
    local _, err = bodies.encode(entry("single"), "xml", fields)
    assert.is_string(err)
  end)

  it("omit_empty: no body; xml_only: XML whatever the client's format", function()
    local e = entry("wrapped")
    e.request.omit_empty = true
    assert.are.same({}, { bodies.encode(e, "json", {}) })
    e.request.xml_only = true
    assert.are.equal("xml", bodies.format(e, "json"))
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
