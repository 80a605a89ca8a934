--- Filtering and projection of list items (docs/FILTERING.md).
-- c:call(op, params, { where = ..., fields = {...} }), c:each and c:pages take the same options.
-- The predicate is compiled once in C (core.filter); the decoders apply it to every item of the
-- operation's items list while they decode; what the API can filter itself is also sent as query
-- parameters (push-down), and the C evaluation still runs on what comes back.
-- Lua 5.1-compatible.
local core = require "luacloud.core"

local M = {}

-- what a call takes as options; `compiled` is the pager's own (one compiled filter for every
-- page). Anything else is refused so that a misplaced client option (c:call(op, p, { timeout = 0 }))
-- is not silently ignored.
local CALL_OPTIONS = { where = true, fields = true, compiled = true }

--- The compiled filter of call options, false when they ask for nothing, or nil, message.
function M.compile(opts)
  if type(opts) ~= "table" then return nil, "call options must be a table, got " .. type(opts) end
  for k in pairs(opts) do
    if not CALL_OPTIONS[k] then
      return nil, "unknown call option '" .. tostring(k) .. "' (a call takes where and fields; "
        .. "timeout, retries and the like are client options: luacloud.new(provider, opts))"
    end
  end
  if opts.compiled then return opts.compiled end
  if opts.where == nil and opts.fields == nil then return false end
  return core.filter(opts.where, opts.fields)
end

local function split(path)
  local keys = {}
  for k in path:gmatch("[^%.]+") do keys[#keys + 1] = k end
  return keys
end

--- Filter the items list of a result in Lua-held tables (for hooks that decode on their own).
function M.apply(f, entry, res)
  local path = entry.response and entry.response.items
  if not path or type(res) ~= "table" then return res end
  local keys, node = split(path), res
  for i = 1, #keys - 1 do
    node = node[keys[i]]
    if type(node) ~= "table" then return res end
  end
  local last = keys[#keys]
  local list = node[last]
  if type(list) == "table" then
    node[last] = f:apply(getmetatable(list) == core.array_mt and list or { list })
  end
  return res
end

-- Item fields whose query parameter filters the same way on the server, per provider and op.
-- Dimension Data (section 1.8): EQUALS and IN (at most max_items values) on the paging.filters of
-- each op; the parameter is the field's name except `deployed` (the item's isDeployed). Dates
-- (created, startDate) and MIN/MAX are left to the C filter: the server compares dates, the filter
-- compares the text. ReliaCloud: listVirtualMachine's name, state and zoneId.
local DD_FIELD = { deployed = "isDeployed" }
local DD_DATES = { created = true, startDate = true }
local RELIACLOUD = { list_virtual_machine = { name = "name", state = "state", zoneid = "zoneId" } }

local function param_spec(entry, name)
  for _, p in ipairs(entry.params or {}) do
    if p.name == name then return p end
  end
end

--- field -> { param = spec } for what the server of this op filters, or nil.
function M.server_filters(c, entry)
  local out
  local paging = entry.paging
  if type(paging) == "table" and paging.style == "dimensiondata" then
    for _, name in ipairs(paging.filters or {}) do
      local spec = param_spec(entry, name)
      if spec and not DD_DATES[name] then
        out = out or {}
        out[DD_FIELD[name] or name] = spec
      end
    end
  elseif c.provider == "reliacloud" then
    local id = c:resolve(entry.name)
    for field, name in pairs(id and RELIACLOUD[id] or {}) do
      local spec = param_spec(entry, name)
      if spec then out = out or {}; out[field] = spec end
    end
  end
  return out
end

-- the values an equality or IN condition accepts, when the parameter can carry them
local function values_of(cond, spec)
  local vals
  if type(cond) ~= "table" then
    vals = { cond }
  elseif #cond > 0 then
    vals = cond
  elseif next(cond) ~= nil and next(cond, next(cond)) == nil and (cond.eq ~= nil or type(cond["in"]) == "table") then
    vals = cond.eq ~= nil and { cond.eq } or cond["in"]
  else
    return nil
  end
  if #vals == 0 or #vals > (spec.multi and (spec.max_items or 10) or 1) then return nil end
  local out = {}
  for i, v in ipairs(vals) do
    if spec.type == "boolean" then
      if v == "true" or v == "false" then v = v == "true" end
      if type(v) ~= "boolean" then return nil end
    elseif type(v) ~= "string" then
      return nil -- numbers compare as numbers here, as text on the server
    end
    if spec.enum then
      local ok = false
      for _, e in ipairs(spec.enum) do ok = ok or e == v end
      if not ok then return nil end
    end
    out[i] = v
  end
  return out
end

local function has_param(params, name)
  for k in pairs(params) do
    if type(k) == "string" and k:lower() == name:lower() then return true end
  end
  return false
end

--- params with the server-side filters of `where` added (the same table when there are none).
function M.push_down(c, entry, params, where)
  if type(where) ~= "table" then return params end
  local map = M.server_filters(c, entry)
  if not map then return params end
  params = params or {}
  local out
  for field, cond in pairs(where) do
    local spec = type(field) == "string" and map[field]
    local vals = spec and not has_param(params, spec.name) and values_of(cond, spec)
    if vals then
      if not out then
        out = {}
        for k, v in pairs(params) do out[k] = v end
      end
      out[spec.name] = #vals == 1 and vals[1] or vals
    end
  end
  return out or params
end

--- Whether a call with pushed-down filters was refused for a filter value (an unknown location
-- or network, a malformed id): the same call without them is then made, filtered here only.
function M.refused(err)
  if type(err) ~= "table" then return false end
  local code = err.code
  return err.kind == "validation" or code == "REASON_320" or code == "REASON_250" or code == "REASON_770"
    or code == "REASON_72" or code == "REASON_70"
end

return M
