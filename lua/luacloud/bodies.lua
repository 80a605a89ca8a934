--- Request bodies whose shape is catalog data (`entry.request`), written by the core's encoders.
-- The shapes (ClodoAPI, notes section 3; see the catalog/clodo.lua header):
--   wrapped  XML <root><p>v</p>..</root>   JSON {"root":{"p":v}}
--   flat     XML <root><p>v</p>..</root>   JSON {"p":v}
--   single   XML <p>v</p>                  JSON {"p":v}        (exactly one body param)
--   action   XML <name a="v"/>             JSON {"name":{"a":v}} (name = the value of the param
--                                                              with location "root")
-- XML children keep the order of the fields (the catalog's params order, i.e. the document's).
local core = require "luacloud.core"

local M = {}

--- Wire value of one parameter: numbers stay numbers for integer/number params (JSON types),
-- numbers given for a string param are written as their decimal text.
function M.typed(spec, v)
  local t = spec and spec.type or "string"
  if (t == "integer" or t == "number") and tonumber(v) then return tonumber(v) end
  if t == "string" and type(v) == "number" then
    return v == math.floor(v) and string.format("%d", v) or tostring(v)
  end
  return v
end

local function object(fields)
  local t = {}
  for _, f in ipairs(fields) do t[f[1]] = f[2] end
  return t
end

local function names(fields)
  local n = {}
  for i, f in ipairs(fields) do n[i] = f[1] end
  return n
end

local function xml(root, t, order)
  local ok, s = pcall(core.xml_encode, root, t, { order = order })
  if not ok then return nil, "cannot encode the XML body: " .. tostring(s) end
  -- an element without content is written self-closing, as the documents print it (<reboot/>)
  local r = root:gsub("%W", "%%%0")
  return (s:gsub("(<" .. r .. "[^<>]-)></" .. r .. ">$", "%1/>"))
end

local function json(t)
  local ok, s = pcall(core.json_encode, t)
  if not ok or not s then return nil, "cannot encode the JSON body: " .. tostring(s) end
  return s
end

local ENCODE = {}

function ENCODE.action(fmt, fields, rq, root)
  if not root then return nil, "missing the body's root element (the 'root' parameter)" end
  if fmt == "xml" then return xml(root, { _attr = object(fields) }) end
  return json({ [root] = object(fields) })
end

function ENCODE.single(fmt, fields)
  if #fields ~= 1 then return nil, "this call takes exactly one body parameter" end
  local name, v = fields[1][1], fields[1][2]
  if fmt == "xml" then return xml(name, type(v) == "table" and v or { _text = v }) end
  return json(object(fields))
end

function ENCODE.wrapped(fmt, fields, rq)
  if fmt == "xml" then return xml(rq.root, object(fields), { [rq.root] = names(fields) }) end
  return json({ [rq.root] = object(fields) })
end

function ENCODE.flat(fmt, fields, rq)
  if fmt == "xml" then return xml(rq.root, object(fields), { [rq.root] = names(fields) }) end
  return json(object(fields))
end

--- encode(entry, fmt, fields, root) -> body | nil (no body) | nil, message
-- fields: ordered array of { wire name, wire value }; root: the root element of an "action" body.
function M.encode(entry, fmt, fields, root)
  local rq = entry.request
  if not rq then return nil end
  if rq.omit_empty and #fields == 0 then return nil end
  local f = ENCODE[rq.style or "flat"]
  if not f then return nil, "unknown body style '" .. tostring(rq.style) .. "'" end
  return f(rq.xml_only and "xml" or fmt, fields, rq, root)
end

--- The wire format of an entry's body: XML when only XML is documented.
function M.format(entry, fmt)
  return entry.request and entry.request.xml_only and "xml" or fmt
end

return M
