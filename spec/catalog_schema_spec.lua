-- Every catalog entry against a schema of known keys: a key the schema does not know (a typo, or
-- a spelling no code reads, like Dimension Data's former `in` for `location`) fails, and so does
-- a known key that no code of the library reads any more.
local providers = require "luacloud.providers"

-- keys the engine, validate.lua, the CLI and the docs generator read (docs/DESIGN.md)
local COMMON = {
  entry = { "name", "aliases", "section", "method", "path", "body", "params", "response", "paging", "async",
            "deprecated", "errors", "safe", "idempotent", "timeout", "xml_root", "body_root", "body_order", "command", "login" },
  param = { "name", "required", "type", "doc", "location", "option", "multi", "attribute", "aliases", "wire_name",
            "enum", "min", "max", "max_len", "default", "secret" },
  response = { "root", "lists", "items" },
}

-- provider-specific keys, read by that provider's hook module
local EXTRA = {
  reliacloud = { entry = { "auth" } },
  dimensiondata = {
    entry = { "body_ns" },
    param = { "fields", "filter", "items", "max_items", "min_items", "min_len" },
    response = { "format", "status", "text" },
  },
  centurylink = {
    param = { "internal", "selects_format", "fields", "items", "items_enum", "xml" },
    response = { "xml_items", "xml_rename", "xml_repeated" },
  },
  clodo = {
    entry = { "empty_on", "endpoint", "methods", "one_of", "request", "send_method",
              "state_changing" },
    param = { "doc_name", "exclusive", "expand", "fields", "one_of", "only_with", "pattern" },
    response = { "booleans", "field_alias", "headers", "list_paths", "raw_xml", "value" },
    locations = { "root", "dynamic" }, -- read by luacloud.protocol
  },
}


-- entry.async (luacloud.waitfor) and catalog.waiters (luacloud.wait; spec/waiters_spec.lua checks
-- their paths against the samples)
local ASYNC = { "waiter", "target", "kind", "doc" }
local WAITER = { "match", "when", "scalar", "op", "params", "object", "find", "gone", "state", "percent", "labels",
                 "done", "absent", "failed", "failure", "progress" }
local WAITER_PARTS = { find = { "list", "key" }, failure = { "message", "text", "id" },
                       labels = { "done", "waiting" }, progress = { "op", "params", "percent", "when" } }

local function set(...)
  local s = {}
  for _, list in ipairs { ... } do for _, k in ipairs(list or {}) do s[k] = true end end
  return s
end

local source
local function library_source()
  if source then return source end
  local parts = {}
  local p = io.popen("ls lua/luacloud/*.lua lua/luacloud/providers/*.lua lua/luacloud/transport/*.lua bin/luacloud bin/luacloud-docs 2>/dev/null")
  for f in p:lines() do
    local h = io.open(f)
    if h then parts[#parts + 1] = h:read("a") h:close() end
  end
  p:close()
  source = table.concat(parts, "\n")
  return source
end

local function has_reader(key)
  local src = library_source()
  return src:find("%." .. key .. "[^%w_]") ~= nil or src:find('%["' .. key .. '"%]') ~= nil
end

-- fn(level "entry"|"param"|"response", key, where) for every key of every operation
local function each_key(cat, fn)
  for id, e in pairs(cat.operations) do
    for k in pairs(e) do fn("entry", k, id) end
    for _, p in ipairs(e.params or {}) do
      for k in pairs(p) do fn("param", k, id .. ".params." .. tostring(p.name)) end
    end
    if type(e.response) == "table" then
      for k in pairs(e.response) do fn("response", k, id .. ".response") end
    end
  end
end

describe("catalog schema", function()
  for _, prov in ipairs(providers.names) do
    describe(prov, function()
      local cat = require("luacloud.catalog." .. prov)
      local extra = EXTRA[prov]
      local known = {
        entry = set(COMMON.entry, extra.entry), param = set(COMMON.param, extra.param),
        response = set(COMMON.response, extra.response),
      }

      it("uses only known keys in entries, params and responses", function()
        local bad = {}
        each_key(cat, function(level, key, where)
          if not known[level][key] then bad[#bad + 1] = where .. "." .. tostring(key) end
        end)
        table.sort(bad)
        assert.are.same({}, bad)
      end)

      it("has a reader in the library for every key it uses", function()
        local unread, seen = {}, {}
        each_key(cat, function(level, key)
          local name = prov .. " " .. level .. "." .. tostring(key)
          if not seen[name] and not has_reader(key) then unread[#unread + 1] = name end
          seen[name] = true
        end)
        table.sort(unread)
        assert.are.same({}, unread)
      end)

      it("places path parameters with `location` and only where the path has the placeholder", function()
        local bad = {}
        for id, e in pairs(cat.operations) do
          local phs = {}
          for ph in (e.path or ""):gmatch("{([^}]+)}") do phs[ph:lower():gsub("[%-_]", "")] = true end
          for _, p in ipairs(e.params or {}) do
            local key = p.name:lower():gsub("[%-_]", "")
            if p.location == "path" and not phs[key] then bad[#bad + 1] = id .. "." .. p.name end
            if p.location and not set({ "path", "query", "header", "body" }, extra.locations)[p.location] then
              bad[#bad + 1] = id .. "." .. p.name .. " location=" .. tostring(p.location)
            end
          end
        end
        table.sort(bad)
        assert.are.same({}, bad)
      end)

      it("uses only known keys in async entries and waiters", function()
        local bad, async, waiter = {}, set(ASYNC), set(WAITER)
        for id, e in pairs(cat.operations) do
          for k in pairs(type(e.async) == "table" and e.async or {}) do
            if not async[k] then bad[#bad + 1] = id .. ".async." .. tostring(k) end
          end
        end
        for name, w in pairs(cat.waiters or {}) do
          for k, v in pairs(w) do
            if not waiter[k] then bad[#bad + 1] = "waiters." .. name .. "." .. tostring(k) end
            local parts = WAITER_PARTS[k] and set(WAITER_PARTS[k])
            for sub in pairs(parts and v or {}) do
              if not parts[sub] then bad[#bad + 1] = "waiters." .. name .. "." .. k .. "." .. tostring(sub) end
            end
          end
        end
        table.sort(bad)
        assert.are.same({}, bad)
      end)

      it("carries its transient statuses and codes as data (catalog.retry)", function()
        assert.is_table(cat.retry)
        assert.is_table(cat.retry.statuses)
        for _, s in ipairs(cat.retry.statuses) do assert.is_number(s) end
        for _, c in ipairs(cat.retry.codes or {}) do assert.is_string(c) end
      end)
    end)
  end
end)
