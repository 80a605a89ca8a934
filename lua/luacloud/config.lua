--- Client options from the environment and from named profiles.
--
-- One naming scheme everywhere: the option `org_id` of provider `dimensiondata`
-- is read from `LUACLOUD_DIMENSIONDATA_ORG_ID` (`LUACLOUD_<PROVIDER>_<OPTION>`).
--
--     local luacloud = require "luacloud"
--     local c = assert(luacloud.new("clodo", luacloud.from_env("clodo")))
--
-- Profiles live in `$XDG_CONFIG_HOME/luacloud/config.lua` (default
-- `~/.config/luacloud/config.lua`, or the file named by `LUACLOUD_CONFIG`), a
-- Lua file of data only:
--
--     return {
--       default = "lab",                       -- used when no profile is named
--       profiles = {
--         lab = { dimensiondata = { username = "demo", password = "...", endpoint = "http://127.0.0.1:8080/dimensiondata" },
--                 output = "json" },
--       },
--     }
--
-- A file holding secrets must not be readable by group or others (chmod 600).
-- @module luacloud.config
local M = {}

--- The options a client may take from the environment, in the order they are documented.
M.OPTIONS = { "endpoint", "api_key", "secret_key", "username", "password", "user", "key", "org_id",
              "region", "vendor", "datacenter", "account_alias", "ca_file", "timeout", "retries", "format" }

local NUMERIC = { timeout = true, retries = true }

--- Options whose values are secrets (never printed, and a config file holding them must be private).
M.SECRETS = { password = true, secret_key = true, key = true, api_key = true, token = true }

--- The environment variable of a provider's option: env_name("dimensiondata", "org_id") -> "LUACLOUD_DIMENSIONDATA_ORG_ID".
function M.env_name(provider, option)
  return "LUACLOUD_" .. tostring(provider):upper() .. "_" .. tostring(option):upper()
end

--- Client options of `provider` from the environment (unset and empty variables are left out).
-- @param provider provider name
-- @param getenv optional lookup (default os.getenv), for tests
-- @return table of options, possibly empty
function M.from_env(provider, getenv)
  getenv = getenv or os.getenv
  local o = {}
  for _, k in ipairs(M.OPTIONS) do
    local v = getenv(M.env_name(provider, k))
    if v ~= nil and v ~= "" then o[k] = NUMERIC[k] and tonumber(v) or v end
  end
  return o
end

--- The path of the config file: LUACLOUD_CONFIG, else $XDG_CONFIG_HOME/luacloud/config.lua,
-- else ~/.config/luacloud/config.lua.
function M.path(getenv)
  getenv = getenv or os.getenv
  local explicit = getenv("LUACLOUD_CONFIG")
  if explicit and explicit ~= "" then return explicit end
  local base = getenv("XDG_CONFIG_HOME")
  if not base or base == "" then base = (getenv("HOME") or ".") .. "/.config" end
  return base .. "/luacloud/config.lua"
end

local function has_secret(t, depth)
  if type(t) ~= "table" or depth > 4 then return false end
  for k, v in pairs(t) do
    if (M.SECRETS[k] and v ~= nil and v ~= "") or has_secret(v, depth + 1) then return true end
  end
  return false
end

-- the permission bits of a file, octal string ("600"), or nil when stat is not available
local function mode_of(path)
  local q = "'" .. path:gsub("'", "'\\''") .. "'"
  local p = io.popen("stat -L -c %a " .. q .. " 2>/dev/null")
  if not p then return nil end
  local m = p:read("l")
  p:close()
  return m and m:match("^%d+$") and m or nil
end

local function fail(message)
  return nil, require("luacloud.error").new { kind = "validation", op = "config", message = message }
end

--- Read the config file. Returns the table (empty when the file does not exist) | nil, err
-- (malformed file, or secrets in a file readable by group or others).
function M.load(path)
  path = path or M.path()
  local f = io.open(path, "rb")
  if not f then return {}, nil end
  local src = f:read("a")
  f:close()
  -- data only: no globals, no library, text chunks
  local chunk, err = load(src, "@" .. path, "t", {})
  if not chunk then return fail("malformed config file " .. path .. ": " .. tostring(err)) end
  local ok, cfg = pcall(chunk)
  if not ok then return fail("config file " .. path .. " failed: " .. tostring(cfg)) end
  if type(cfg) ~= "table" then return fail("config file " .. path .. " must return a table") end
  if has_secret(cfg, 0) then
    local m = mode_of(path)
    if m and tonumber(m:sub(-2)) ~= 0 then -- any group/other bit
      return fail("config file " .. path .. " holds secrets but is readable by others (mode " .. m
        .. "): chmod 600 " .. path)
    end
  end
  return cfg
end

--- The options of profile `name` for `provider`: the profile's top-level options,
-- overridden by its per-provider table. Returns options (and the profile's name) | nil, err.
-- With name nil: LUACLOUD_PROFILE, else the file's `default`, else no profile ({}).
function M.profile(name, provider, cfg, getenv)
  getenv = getenv or os.getenv
  local err
  if not cfg then
    cfg, err = M.load(M.path(getenv))
    if not cfg then return nil, err end
  end
  local explicit = name ~= nil
  if not name then
    name = getenv("LUACLOUD_PROFILE")
    if name == "" then name = nil end
    explicit = name ~= nil
  end
  name = name or cfg.default
  if not name then return {}, nil end
  local p = type(cfg.profiles) == "table" and cfg.profiles[name]
  if type(p) ~= "table" then
    if not explicit then return {}, nil end
    return fail("no profile '" .. tostring(name) .. "' in " .. M.path(getenv))
  end
  local o = {}
  for k, v in pairs(p) do
    if type(v) ~= "table" then o[k] = v end
  end
  for k, v in pairs(type(p[provider]) == "table" and p[provider] or {}) do o[k] = v end
  return o, name
end

return M
