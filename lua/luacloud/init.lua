--- luacloud: drive the ReliaCloud, Dimension Data, CenturyLink and Clodo APIs from Lua.
-- local c = luacloud.new("reliacloud", { endpoint = ..., api_key = ..., secret_key = ... })
-- local res, err = c:list_zones{ available = "true" }
-- @module luacloud
local core = require "luacloud.core"
local engine = require "luacloud.engine"
local registry = require "luacloud.providers"

local M = {
  _VERSION = "luacloud 0.1.0",
  null = core.null,
  array_mt = core.array_mt,
  error = require "luacloud.error",
  from_env = require("luacloud.config").from_env, -- options from LUACLOUD_<PROVIDER>_<OPTION>
  providers = registry.names,
}

--- Create a client. Returns client or nil, err (bad provider, missing credentials).
function M.new(provider, opts)
  return engine.new(provider, opts)
end

--- The catalog (operations as data) of a provider.
function M.catalog(provider)
  if not registry.is(provider) then return nil, "unknown provider '" .. tostring(provider) .. "' (" .. registry.list() .. ")" end
  return require(registry.modules(provider).catalog)
end

for k, m in pairs { compute = "compute", plan = "plan", apply = "plan" } do M[k] = function(...) return require("luacloud." .. m)[k](...) end end -- luacloud.compute / plan / apply (docs/COMPUTE.md), loaded on first use

return M
