--- Parameter validation from catalog entries: nothing is sent when a
-- required parameter is missing, unknown or of the wrong type.
local core = require "luacloud.core"
local util = require "luacloud.util"

local M = {}

-- callers' keys land here too: the memo is emptied when it grows past a catalog's worth of names
local snake = util.memo(function(name)
  return (name:gsub("[%-%.%s]", "_"):gsub("%[%]", ""):gsub("(%l)(%u)", "%1_%2"):lower())
end, 4096)

local function is_integer(v)
  if type(v) == "number" then return v == math.floor(v) end
  return type(v) == "string" and v:match("^%-?%d+$") ~= nil
end

local CHECKS = {
  string = function(v) return type(v) == "string" or type(v) == "number", "a string" end,
  integer = function(v) return is_integer(v), "an integer" end,
  number = function(v) return type(v) == "number" or (type(v) == "string" and tonumber(v) ~= nil), "a number" end,
  boolean = function(v)
    return type(v) == "boolean" or v == "true" or v == "false", "a boolean (true/false)"
  end,
  table = function(v) return type(v) == "table", "a table" end,
  array = function(v) return type(v) == "table", "an array" end,
}

--- Convert a checked value to its wire form.
local function wire(spec, v)
  local t = spec.type or "string"
  if t == "boolean" then return (v == true or v == "true") and "true" or "false" end
  if t == "integer" and type(v) == "number" then return string.format("%d", v) end
  if t == "array" and type(v) == "table" and spec.location ~= "body" then return v end
  return v
end

local function fail(client, fields)
  fields.kind = "validation"
  return nil, client:error(fields)
end

-- a spec's enum as a set of lower-cased text, built once per spec (catalog data is immutable)
local enum_sets = setmetatable({}, { __mode = "k" })
local function enum_set(spec)
  local set = enum_sets[spec]
  if not set then
    set = {}
    for _, e in ipairs(spec.enum) do set[tostring(e):lower()] = true end
    enum_sets[spec] = set
  end
  return set
end

local function check_value(client, spec, v)
  local t = spec.type or "string"
  local check = CHECKS[t] or CHECKS.string
  local ok, what = check(v)
  if not ok then
    return fail(client, { param = spec.name, message = "parameter '" .. spec.name .. "' must be " .. what .. ", got " .. type(v) })
  end
  if spec.enum and not enum_set(spec)[tostring(v):lower()] then
    return fail(client, { param = spec.name, message = "parameter '" .. spec.name .. "' must be one of " .. table.concat(spec.enum, ", ") })
  end
  if spec.min or spec.max then
    local n = tonumber(v)
    if (spec.min and (not n or n < spec.min)) or (spec.max and (not n or n > spec.max)) then
      return fail(client, { param = spec.name, message = string.format("parameter '%s' must be between %s and %s",
        spec.name, tostring(spec.min or "-inf"), tostring(spec.max or "inf")) })
    end
  end
  if spec.max_len and type(v) == "string" and #v > spec.max_len then
    return fail(client, { param = spec.name, message = string.format("parameter '%s' is longer than %d characters", spec.name, spec.max_len) })
  end
  return true
end

local lookup
local function placeholders(path)
  local set = {}
  for ph in path:gmatch("{([^}]+)}") do
    if ph ~= "org-id" then set[snake(ph)] = ph end
  end
  return set
end

-- per-entry lookup tables, built once (catalog entries are immutable data)
local lookups = setmetatable({}, { __mode = "k" })
lookup = function(entry)
  local l = lookups[entry]
  if l then return l[1], l[2], l[3] end
  local by_key = {}
  for _, spec in ipairs(entry.params or {}) do
    by_key[spec.name] = spec
    by_key[snake(spec.name)] = by_key[snake(spec.name)] or spec
    by_key[spec.name:lower()] = by_key[spec.name:lower()] or spec
    for _, a in ipairs(spec.aliases or {}) do by_key[a] = by_key[a] or spec; by_key[snake(a)] = by_key[snake(a)] or spec end
  end
  local phs = placeholders(entry.path or "")
  -- per spec, in order: its snake key, where its value goes ("values" or a placement list) and its
  -- wire name; whether any rule between parameters applies (else constraints() is skipped)
  local plan = { keys = {}, lists = {}, wires = {}, has_phs = next(phs) ~= nil, ruled = entry.one_of ~= nil }
  for i, spec in ipairs(entry.params or {}) do
    local key, loc = snake(spec.name), spec.location
    plan.keys[i] = key
    plan.lists[i] = (phs[key] or loc == "path") and "values"
      or loc == "header" and "header" or loc == "query" and "query" or "body"
    plan.wires[i] = spec.wire_name or spec.name
    if spec.exclusive or spec.only_with then plan.ruled = true end
  end
  l = { by_key, phs, plan }
  lookups[entry] = l
  return l[1], l[2], l[3]
end
local NO_SPECS = {}
-- a placement list no parameter went to: one shared table (most calls fill one list of three, or
-- none); it is never written: a list is made when its first parameter comes
local NO_PARAMS = setmetatable({}, { __newindex = function() error("validate: a shared empty placement list", 2) end })
local function add_to(placement, where, p)
  local list = placement[where]
  if list == NO_PARAMS then placement[where] = { p } else list[#list + 1] = p end
end

-- Rules between parameters, as catalog data (checked on the body params, defaults included):
-- entry.one_of = { {a, b}, ... }: exactly one of each group; spec.exclusive: the only body param of
-- its request; spec.only_with = { other = {values} }: allowed only when `other` has one of the values.
local function constraints(client, entry, placement)
  local present, n = {}, 0
  for _, p in ipairs(placement.body) do present[p.name] = p.value; n = n + 1 end
  for _, group in ipairs(entry.one_of or {}) do
    local k = 0
    for _, name in ipairs(group) do if present[name] ~= nil then k = k + 1 end end
    if k ~= 1 then return fail(client, { param = group[1], message = "give exactly one of " .. table.concat(group, ", ") }) end
  end
  for _, spec in ipairs(entry.params or {}) do
    if present[spec.name] ~= nil then
      if spec.exclusive and n > 1 then
        return fail(client, { param = spec.name, message = "parameter '" .. spec.name .. "' must be the only one of its request" })
      end
      for other, allowed in pairs(spec.only_with or {}) do
        local ok = false
        for _, a in ipairs(allowed) do ok = ok or tostring(a) == tostring(present[other]) end
        if not ok then
          return fail(client, { param = spec.name, message = "parameter '" .. spec.name .. "' goes only with "
            .. other .. " = " .. table.concat(allowed, " | ") })
        end
      end
    end
  end
  return placement
end

-- A list's size against the catalog's min_items/max_items, before anything is sent: the server
-- refuses more (Dimension Data REASON_72, more than 10 values for a filter parameter) or fewer
-- (an anti-affinity rule names exactly two servers).
local function check_count(client, spec, v)
  if type(v) ~= "table" or not (spec.max_items or spec.min_items) then return true end
  local n, lo, hi = #v, spec.min_items or 0, spec.max_items or math.huge
  if n >= lo and n <= hi then return true end
  local takes = lo == hi and tostring(lo) or hi == math.huge and ("at least " .. lo)
    or lo == 0 and ("at most " .. hi) or (lo .. " to " .. hi)
  return fail(client, { param = spec.name, message = string.format("parameter '%s' takes %s values, got %d",
    spec.name, takes, n) })
end

--- check(client, id, entry, params) -> placement | nil, err
-- placement = { values = {snake -> value}, header = {}, query = {}, body = {} }
-- where header/query/body are arrays of { name = documented name, value = wire value }.
function M.check(client, id, entry, params)
  if params ~= nil and type(params) ~= "table" then
    return fail(client, { message = "parameters must be a table, got " .. type(params) })
  end
  params = params or NO_SPECS
  local specs = entry.params or NO_SPECS
  local by_key, phs, plan = lookup(entry)
  -- both made on first need: a call without parameters (a listing) makes neither
  local given, values = nil, NO_PARAMS
  for k, v in pairs(params) do
    if k ~= "_raw" then
      local spec = type(k) == "string" and by_key[k]
      if spec then
        given = given or {}
        if given[spec.name] ~= nil then
          return fail(client, { param = spec.name, message = "parameter '" .. spec.name .. "' given twice (as '" .. k .. "')" })
        end
        given[spec.name] = v
      elseif type(k) == "string" and (phs[k] or phs[snake(k)]) then
        if values == NO_PARAMS then values = {} end
        values[snake(k)] = v
      else
        local names = {}
        for _, s in ipairs(specs) do names[#names + 1] = s.name end
        for ph in pairs(phs) do names[#names + 1] = ph end
        return fail(client, { param = tostring(k), message = "unknown parameter '" .. tostring(k) .. "'" ..
          (#names > 0 and (" (documented: " .. table.concat(names, ", ") .. ")") or " (this operation takes none)") })
      end
    end
  end
  local placement = { values = values, header = NO_PARAMS, query = NO_PARAMS, body = NO_PARAMS }
  local spec_keys, lists, wires = plan.keys, plan.lists, plan.wires
  for i = 1, #specs do -- numeric: ipairs is a C call per spec
    local spec = specs[i]
    local v = given and given[spec.name]
    if v == nil and spec.option then v = client.opts[spec.option] end -- e.g. clodo's X-Auth-User <- opts.user
    if v == nil and spec.default ~= nil then v = spec.default end
    if v == nil or v == core.null then
      if spec.required then
        return fail(client, { param = spec.name, message = "missing required parameter '" .. spec.name .. "'" })
      end
    else
      if type(v) == "table" then
        local ok_count, count_err = check_count(client, spec, v)
        if not ok_count then return nil, count_err end
      end
      if spec.multi and type(v) == "table" then
        -- a repeated parameter (Dimension Data IN filters): check every value
        for _, each in ipairs(v) do
          local ok, err = check_value(client, spec, each)
          if not ok then return nil, err end
        end
      else
        local ok, err = check_value(client, spec, v)
        if not ok then return nil, err end
      end
      local where = lists[i]
      if where == "values" then
        if values == NO_PARAMS then values = {}; placement.values = values end
        values[spec_keys[i]] = v
      else
        local value
        if spec.multi and type(v) == "table" then
          value = {}
          for j, each in ipairs(v) do value[j] = wire(spec, each) end
        else
          value = wire(spec, v)
        end
        add_to(placement, where, { name = wires[i], value = value, attribute = spec.attribute, multi = spec.multi })
      end
    end
  end
  if plan.has_phs then
    for key, ph in pairs(phs) do
      if values[key] == nil then
        return fail(client, { param = key, message = "missing required path parameter '" .. key .. "' ({" .. ph .. "})" })
      end
    end
  end
  if type(params._raw) == "table" then
    local keys = {}
    for k in pairs(params._raw) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do -- a list repeats the parameter (Dimension Data IN filters)
      add_to(placement, "body", { name = k, value = params._raw[k], multi = type(params._raw[k]) == "table" or nil })
    end
  end
  if not plan.ruled then return placement end
  return constraints(client, entry, placement)
end

M.snake = snake
M.NO_PARAMS = NO_PARAMS -- the engine skips what is this list: nothing went there
return M
