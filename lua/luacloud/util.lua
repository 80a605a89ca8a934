--- The small helpers the engine, the protocol layer and the provider hooks share: one copy each,
-- so that a fix (a list test that `#` fooled, a header name in another case) reaches every
-- provider. Codecs are the core's (luacloud.core); this module holds no state.
local core = require "luacloud.core"

local M = {}

local ARRAY = core.array_mt

--- t (or a new table) marked as a list: it encodes as a JSON array even when empty.
function M.array(t) return setmetatable(t or {}, ARRAY) end

--- A list: marked by the decoders, or a non-empty sequence 1..n and nothing else
-- ({ [1] = a, [3] = b } is a map, although `#` may call it a list of one or of three).
function M.is_array(v)
  if type(v) ~= "table" then return false end
  if getmetatable(v) == ARRAY then return true end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n > 0 and n == #v and v[n] ~= nil
end

--- What a decoder gives for a value the server left out or sent empty.
function M.is_empty(v) return v == nil or v == "" or v == core.null end

--- The value of a response header, whatever the case of its name.
function M.header(resp, name)
  local h = resp.headers or {}
  local v = h[name] or h[name:lower()]
  if v ~= nil then return v end
  local lname = name:lower()
  for k, x in pairs(h) do
    if type(k) == "string" and k:lower() == lname then return x end
  end
end

--- s without white space around it (s turned to a string first).
function M.trim(s)
  return (tostring(s):gsub("^%s+", ""):gsub("%s+$", ""))
end

--- The keys of a dotted path ("a.b.c" -> { "a", "b", "c" }).
function M.split(path)
  local keys = {}
  for k in path:gmatch("[^%.]+") do keys[#keys + 1] = k end
  return keys
end

--- A set of the values of a list.
function M.set(list)
  local s = {}
  for _, v in ipairs(list or {}) do s[v] = true end
  return s
end

--- v as an integer when it is one that a double holds exactly (|v| < 2^53), else v unchanged:
-- an id of 24 digits stays its text.
function M.integer(v)
  local n = tonumber(v)
  if n and n == math.floor(n) and math.abs(n) < 2 ^ 53 then return math.tointeger and math.tointeger(n) or n end
  return v
end

--- fn (a function of one string) with its results kept: at most `limit` of them, all dropped
-- when full, since callers' keys land there too (a memo keyed by caller input must not grow
-- without bound).
function M.memo(fn, limit)
  local kept, n = {}, 0
  return function(key)
    local v = kept[key]
    if v == nil then
      v = fn(key)
      if n >= limit then kept, n = {}, 0 end
      kept[key] = v
      n = n + 1
    end
    return v
  end
end

return M
