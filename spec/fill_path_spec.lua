-- engine.fill_path: every catalog path with {placeholders}, filled from a template split once
-- per entry, equals filling it with gsub as the engine did (the model below is that code), and
-- the org id encoded once per client follows a changed org id.
local core = require "luacloud.core"
local engine = require "luacloud.engine"
local luacloud = require "luacloud"
local providers = require "luacloud.providers"

local snake = engine.snake

local function model(self, entry, path, values, wire)
  if not path:find("{", 1, true) then return path end
  local missing
  local fkey = require("luacloud.protocol").format_key(entry, snake)
  local filled = path:gsub("{([^}]+)}", function(ph)
    if ph == "org-id" or ph == "orgId" then
      local org = tostring(self.org_id or "")
      return org == "{org-id}" and org or core.urlencode(org)
    end
    if fkey and snake(ph) == fkey then
      return core.urlencode((self.catalog.format_segments or {})[wire] or wire)
    end
    local v = values[snake(ph)]
    if v == nil then v = values[ph] end
    if v == nil then missing = missing or ph return "" end
    return core.urlencode(tostring(v))
  end)
  if missing then return nil, missing end
  return filled
end

local CREDS = {
  reliacloud = { api_key = "k", secret_key = "s" },
  dimensiondata = { username = "u", password = "p", org_id = "8a8f6abc-2745 4d8a/9cbc" },
  centurylink = { api_key = "k", password = "p" },
  clodo = { user = "u", key = "k" },
}

describe("engine.fill_path", function()
  it("fills every catalog path as gsub did: placeholders, org id, format segment, a missing value", function()
    math.randomseed(3)
    local checked = 0
    for _, name in ipairs(providers.names) do
      local opts = { endpoint = "http://127.0.0.1:9/x", transport = function() return nil end }
      for k, v in pairs(CREDS[name]) do opts[k] = v end
      local c = assert(luacloud.new(name, opts))
      for _, entry in pairs(c.catalog.operations) do
        local path = entry.path
        if type(path) == "string" and path:find("{", 1, true) then
          local values = {}
          for ph in path:gmatch("{([^}]+)}") do
            local v = ({ "a b/c", "x%y", 42, "ünï", "~ok-._" })[math.random(5)]
            if math.random(2) == 1 then values[snake(ph)] = v else values[ph] = v end
          end
          for _, wire in ipairs(c.catalog.formats or { c.format }) do
            local a1, a2 = engine.fill_path(c, entry, path, values, wire)
            local b1, b2 = model(c, entry, path, values, wire)
            assert.are.same({ b1, b2 }, { a1, a2 }, path)
            checked = checked + 1
          end
          local ph1 = path:match("{([^}]+)}")
          if ph1 ~= "org-id" and ph1 ~= "orgId" then
            local fewer = {}
            for k, v in pairs(values) do if k ~= ph1 and k ~= snake(ph1) then fewer[k] = v end end
            assert.are.same({ model(c, entry, path, fewer, c.format) }, { engine.fill_path(c, entry, path, fewer, c.format) })
          end
        end
      end
    end
    assert.is_true(checked > 50, "paths with placeholders checked: " .. checked)
  end)

  it("the same template with three placeholders, braces that are not placeholders", function()
    local c = assert(luacloud.new("clodo", { endpoint = "http://127.0.0.1:9/x", user = "u", key = "k",
      transport = function() return nil end }))
    local entry = { path = "/a/{one}/b{}/{two}/{three}{x/c" }
    local values = { one = "1 1", two = "2", three = "3/3" }
    assert.are.same({ model(c, entry, entry.path, values, "json") }, { engine.fill_path(c, entry, entry.path, values, "json") })
    entry.path = "/other/{one}" -- a path changed under the same entry is split again
    assert.are.equal("/other/1%201", engine.fill_path(c, entry, entry.path, values, "json"))
  end)

  it("encodes the org id once per client and follows a new one", function()
    local c = assert(luacloud.new("dimensiondata", { username = "u", password = "p", org_id = "org 1",
      transport = function() return nil end }))
    local entry = { path = "/oec/0.9/{org-id}/network" }
    assert.are.equal("/oec/0.9/org%201/network", engine.fill_path(c, entry, entry.path, {}, "xml"))
    c.org_id = "org/2"
    assert.are.equal("/oec/0.9/org%2F2/network", engine.fill_path(c, entry, entry.path, {}, "xml"))
    c.org_id = "{org-id}" -- a dry run's placeholder
    assert.are.equal("/oec/0.9/{org-id}/network", engine.fill_path(c, entry, entry.path, {}, "xml"))
  end)
end)
