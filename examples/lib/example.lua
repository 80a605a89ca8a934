-- What every example shares: the library of this checkout (lua/ and build/, ahead of an installed
-- one), client options from the environment (LUACLOUD_<PROVIDER>_<OPTION>, the CLI's names, see
-- luacloud.config) over the built-in simulators' demo account, and must().
-- An example finds this file with: package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local root = ((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or ".") .. "/../.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/?.so;" .. package.cpath

local luacloud = require "luacloud"

local M = { luacloud = luacloud }

-- bin/luacloud-sim start's default port and account
local SIM = "http://127.0.0.1:8080/"
local DEMO = {
  reliacloud = { endpoint = SIM .. "reliacloud/client/api", api_key = "demo-api-key", secret_key = "demo-secret-key" },
  dimensiondata = { endpoint = SIM .. "dimensiondata", username = "demo", password = "demo-password" },
  centurylink = { endpoint = SIM .. "centurylink", api_key = "demo-api-key", password = "demo-password" },
  clodo = { endpoint = SIM .. "clodo", user = "demo", key = "demo-key" },
}

--- res, or an error with err's text: an example stops at its first failure.
function M.must(res, err)
  if res == nil then error(tostring(err), 2) end
  return res
end

-- credential option names: one of them in the environment means "my account", so none of the
-- demo account's is mixed in (ReliaCloud would sign with the demo key over a given username)
local CREDENTIALS = { api_key = true, secret_key = true, username = true, password = true, user = true, key = true }

local function demo_of(provider, env)
  local demo = {}
  for k, v in pairs(DEMO[provider] or {}) do demo[k] = v end
  for k in pairs(env) do
    if CREDENTIALS[k] then
      for c in pairs(CREDENTIALS) do demo[c] = nil end
      break
    end
  end
  return demo
end

--- Client options of `provider`: the simulators' demo account (unless the environment names
-- credentials), then the example's `defaults`, then what the environment sets (getenv: os.getenv).
function M.options(provider, defaults, getenv)
  local env = luacloud.from_env(provider, getenv)
  local o = {}
  for _, t in ipairs { demo_of(provider, env), defaults or {}, env } do
    for k, v in pairs(t) do o[k] = v end
  end
  return o
end

--- A client (luacloud.new) with M.options.
function M.client(provider, defaults)
  return M.must(luacloud.new(provider, M.options(provider, defaults)))
end

--- A compute view (luacloud.compute) with M.options.
function M.compute(provider, defaults)
  return M.must(luacloud.compute(provider, M.options(provider, defaults)))
end

return M
