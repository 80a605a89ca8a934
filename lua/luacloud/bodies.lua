--- Request bodies whose shape is catalog data (`entry.request`), put on the one body layer
-- (luacloud.protocol, the core's encoders). The shapes (ClodoAPI, notes section 3; see the
-- catalog/clodo.lua header):
--   wrapped  XML <root><p>v</p>..</root>   JSON {"root":{"p":v}}
--   flat     XML <root><p>v</p>..</root>   JSON {"p":v}
--   single   XML <p>v</p>                  JSON {"p":v}        (exactly one body param)
--   action   XML <name a="v"/>             JSON {"name":{"a":v}} (name = the value of the param
--                                                              with location "root")
-- Each shape is the protocol layer's body_root / xml_root data for the entry; only the XML of
-- "single" (a root element holding text) is written here.
local core = require "luacloud.core"
local protocol = require "luacloud.protocol"
local validate = require "luacloud.validate"

local M = {}

-- the entry as the protocol layer sees it for one shape (built once per entry and root)
local views = setmetatable({}, { __mode = "k" })
local function view(entry, key, fields)
  local per = views[entry]
  if not per then per = {}; views[entry] = per end
  local v = per[key]
  if not v then
    v = setmetatable(fields, { __index = entry })
    per[key] = v
  end
  return v
end

local function single_xml(catalog, params, req)
  local name, v = params[1].name, params[1].value
  local ok, s = pcall(core.xml_encode, name, type(v) == "table" and v or { _text = v },
    { decl = catalog.xml_declaration ~= false })
  if not ok then return nil, "cannot encode the XML body: " .. tostring(s) end
  req.body = s
  req.headers["Content-Type"] = protocol.content_type(catalog, "xml")
  return true
end

--- The wire format of an entry's body: XML when only XML is documented.
function M.format(entry, fmt)
  return entry.request and entry.request.xml_only and "xml" or fmt
end

--- apply(catalog, entry, fmt, params, req[, root]) -> true | nil, message
-- params: the body params as the validator places them ({ name, value, attribute }), in the
-- catalog's order; root: the root element of an "action" body. Without `entry.request`, or with
-- `omit_empty` and no params, no body is written.
function M.apply(catalog, entry, fmt, params, req, root)
  local rq = entry.request
  if not rq or (rq.omit_empty and #params == 0) then return true end
  fmt = M.format(entry, fmt)
  local style = rq.style or "flat"
  local shaped
  if style == "action" then
    if not root then return nil, "missing the body's root element (the 'root' parameter)" end
    shaped = view(entry, "action:" .. root, { body_root = root })
  elseif style == "single" then
    if #params ~= 1 then return nil, "this call takes exactly one body parameter" end
    if fmt == "xml" then return single_xml(catalog, params, req) end
    shaped = view(entry, "single", { body_root = false })
  elseif style == "wrapped" then
    shaped = view(entry, "wrapped", { body_root = rq.root })
  elseif style == "flat" then
    shaped = view(entry, "flat", { body_root = false, xml_root = rq.root })
  else
    return nil, "unknown body style '" .. tostring(style) .. "'"
  end
  return protocol.encode(catalog, shaped, fmt, fmt, params, req, { snake = validate.snake })
end

return M
