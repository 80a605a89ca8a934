-- Client:ready hands each attempt the template's own query list, not a copy (issue 17, the Lua
-- per-call pass): that is only right while no provider's prepare writes into it. Every
-- operation of every provider that builds without parameters is readied three times against
-- the simulators (logins happen for real): the template must be left as it was, and the
-- attempts after the login must be the same request.
local support = require("spec.support.sim")
local luacloud = require("luacloud")

local why = support.missing()
if why then
  return describe("Client:ready and the template's query", function()
    it("needs nginx", function() pending(why) end)
  end)
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

local function shape(req) -- what goes on the wire
  return { method = req.method, url = req.url, body = req.body, headers = copy(req.headers) }
end

describe("Client:ready and the template's query", function()
  local sim
  setup(function() sim = support.start() end)
  teardown(function() if sim then sim.stop() end end)

  for _, provider in ipairs { "reliacloud", "dimensiondata", "centurylink", "clodo" } do
    it(provider .. ": every prepare leaves the template alone, and a repeat is the same request", function()
      local o = { endpoint = sim.endpoints[provider], retries = 0 }
      for k, v in pairs(sim.credentials[provider]) do if type(v) == "string" then o[k] = v end end
      local c = assert(luacloud.new(provider, o))
      local ids = {}
      for id in pairs(c.catalog.operations) do ids[#ids + 1] = id end
      table.sort(ids)
      local checked, with_query = 0, 0
      for _, id in ipairs(ids) do
        local entry = c.catalog.operations[id]
        -- with the optional parameters that go in the query: a page size (Dimension Data), a
        -- boolean (ReliaCloud's available, listall...)
        local params = {}
        for _, p in ipairs(entry.params or {}) do
          if p.name == "pageSize" then params.page_size = 7 end
          if not p.required and p.type == "boolean" and provider == "reliacloud" then params[p.name] = true end
        end
        local tmpl = entry.endpoint ~= "auth" and c:template(id, entry, params)
        if tmpl then
          local before = copy(tmpl)
          if #tmpl.query > 0 then with_query = with_query + 1 end
          assert(c:ready(entry, tmpl)) -- a first login may happen here
          local a = shape(assert(c:ready(entry, tmpl)))
          local b = shape(assert(c:ready(entry, tmpl)))
          assert.are.same(before, copy(tmpl), id .. ": the template changed")
          assert.are.same(a, b, id .. ": a repeat differs")
          checked = checked + 1
        end
      end
      assert.is_true(checked >= 5, provider .. ": only " .. checked .. " operations built without parameters")
      if provider == "reliacloud" or provider == "dimensiondata" then
        assert.is_true(with_query > 0, provider .. ": no template had a query")
      end
    end)
  end
end)
