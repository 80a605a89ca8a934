-- The one list normaliser (issue 12): protocol.normalize, which the engine's Client:normalize is,
-- reads every promise from the entry's response keys; no hook keeps list code of its own.
local luacloud = require "luacloud"
local core = require "luacloud.core"
local protocol = require "luacloud.protocol"

local LOGON_OK = '{"Success":true,"Message":"Login Successful","StatusCode":0}'

local function centurylink(fmt, body)
  return assert(luacloud.new("centurylink", {
    api_key = "key", password = "pw", endpoint = "https://api.ctl.io", format = fmt,
    transport = function(req)
      if req.url:find("/REST/Auth/Logon/", 1, true) then
        return { status = 200, headers = { ["set-cookie"] = "Tier3.API.Cookie=abc; path=/" }, body = LOGON_OK }
      end
      return { status = 200, headers = {}, body = body }
    end,
  }))
end

local function is_list(v) return type(v) == "table" and getmetatable(v) == core.array_mt end

describe("the one list normaliser", function()
  it("is what the engine runs: Client:normalize calls protocol.normalize", function()
    local c = centurylink("json", "{}")
    local seen, real = {}, protocol.normalize
    protocol.normalize = function(entry, value) seen[#seen + 1] = entry return real(entry, value) end
    local ok, res = pcall(c.normalize, c, c.operations.get_servers, {})
    protocol.normalize = real
    assert.is_true(ok, tostring(res))
    assert.are.equal(1, #seen)
    assert.are.equal(c.operations.get_servers, seen[1])
  end)

  it("gives a client what the response keys promise, list_paths included (Clodo's JSON without item levels)", function()
    local c = centurylink("json", "{}")
    local entry = { response = { root = "nets", lists = { "net" }, items = "net", list_paths = { "net", "net.ips.ip" } } }
    local v = c:normalize(entry, setmetatable({ { name = "b" } }, core.array_mt))
    assert.is_true(is_list(v.net))
    assert.are.equal("b", v.net[1].name)
    assert.is_true(is_list(v.net[1].ips.ip))
  end)

  it("dotted lists and items: missing or single becomes a list, a list of containers on the way is left as is", function()
    local entry = { response = { root = "r", lists = { "a.b" }, items = "x.y" } }
    local v = protocol.normalize(entry, { a = { b = "one" } })
    assert.is_true(is_list(v.a.b))
    assert.same({ "one" }, v.a.b)
    assert.is_true(is_list(v.x.y))
    assert.are.equal(0, #v.x.y)
    -- without list_paths nothing stands for a dropped level: [..] at `a` stays what it is
    local kept = setmetatable({ { b = 1 } }, core.array_mt)
    v = protocol.normalize(entry, { a = kept })
    assert.are.equal(kept, v.a)
    assert.is_nil(v.a.b)
  end)

  it("an empty answer is an empty table with its promised lists", function()
    local v = protocol.normalize({ response = { items = "Servers", lists = { "Servers" } } }, core.null)
    assert.is_true(is_list(v.Servers))
  end)

  it("a plain name of response.lists held empty at the root is an empty list (CenturyLink's <Capabilities/>)", function()
    local cat = require "luacloud.catalog.centurylink"
    local v = protocol.normalize(cat.operations.get_blueprint_details, { Capabilities = "", Other = "" })
    assert.is_true(is_list(v.Capabilities))
    assert.are.equal("", v.Other) -- only what the catalog promises
    assert.is_nil(protocol.normalize(cat.operations.get_blueprint_details, {}).Capabilities) -- not invented
  end)

  for _, fmt in ipairs { "xml", "json" } do
    it("a CenturyLink answer in " .. fmt .. " with an empty promised list decodes it as an empty list", function()
      local body = fmt == "xml"
        and '<GetBlueprintDetailsResponse><Success>true</Success><StatusCode>0</StatusCode><Message/><Capabilities/></GetBlueprintDetailsResponse>'
        or '{"Success":true,"StatusCode":0,"Message":"","Capabilities":null}'
      local res = assert(centurylink(fmt, body):get_blueprint_details { ID = 7 })
      assert.is_true(is_list(res.Capabilities), fmt)
      assert.are.equal(0, #res.Capabilities)
    end)
  end
end)
