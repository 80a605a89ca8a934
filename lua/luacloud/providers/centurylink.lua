--- CenturyLink Cloud API v1 hooks: Logon cookie session, JSON (default) or XML, StatusCode errors,
-- (notes/centurylink.md sections 2-6); RequestID waiting is catalog data (catalog.waiters).
--
-- Client options: api_key, password (required), endpoint (default https://api.ctl.io),
-- format "json" | "xml", account_alias (used by the Blueprint status call when waiting with via="blueprint").
--
-- Request bodies, the /{format} URL segment and the Content-Type come from the engine and the
-- catalog (selects_format, format_segments, content_types, param.xml), and XML answers take the
-- JSON shape in luacloud.protocol (response.xml_items/xml_repeated/xml_rename, xml_types); this
-- module keeps the Logon session and the StatusCode envelope.
local core = require "luacloud.core"
local protocol = require "luacloud.protocol"
local util = require "luacloud.util"

local M = {}

local to_int = util.integer

function M.init(c)
  local o = c.opts
  if type(o.api_key) ~= "string" or o.api_key == "" or type(o.password) ~= "string" or o.password == "" then
    return nil, c:error { kind = "validation", op = "new", message = "centurylink needs api_key and password" }
  end
  c.endpoint = o.endpoint or c.catalog.default_endpoint
  c.session = nil
  return true
end

---------------------------------------------------------------------------------------------
-- Responses
---------------------------------------------------------------------------------------------

local function fix_envelope(v, fmt, catalog)
  if type(v) ~= "table" then return v end
  if fmt == "xml" then
    protocol.xml_convert(v, protocol.xml_converters(catalog or {}))
  elseif type(v.RequestID) == "string" and tonumber(v.RequestID) then
    v.RequestID = to_int(v.RequestID)
  end
  if type(v.StatusCode) == "string" and tonumber(v.StatusCode) then v.StatusCode = to_int(v.StatusCode) end
  if type(v.Success) == "string" then v.Success = v.Success:lower() == "true" end
  return v
end

--- Decode a body in a given format into the JSON-shaped table (both formats alike).
function M.decode_body(c, entry, body, fmt)
  local r = entry and entry.response or {}
  if body == nil or body:match("^%s*$") then return {} end
  local v, root
  if fmt == "xml" then
    v, root = core.xml_decode(body, { lists = protocol.xml_lists(r), max_size = c and c.opts and c.opts.max_response })
    if v == nil then return nil, root end
    if type(v) ~= "table" then v = {} end
    local catalog = c and c.catalog or require("luacloud.catalog.centurylink")
    v = protocol.xml_shape(v, r, protocol.xml_converters(catalog))
  else
    local lists = {}
    for _, l in ipairs(r.lists or {}) do lists[l] = true end
    v, root = core.json_decode(body, { lists = lists })
    if v == nil then return nil, root end
  end
  return fix_envelope(v, fmt, c and c.catalog or require("luacloud.catalog.centurylink")), root
end

---------------------------------------------------------------------------------------------
-- Session
---------------------------------------------------------------------------------------------

-- The format of an answer, from its first byte: a server may answer in another format than asked
-- (an error page, a proxy), and the call's format is not kept on the shared client.
local function answer_format(resp)
  return (resp.body or ""):match("^%s*<") and "xml" or "json"
end

--- Log on (Auth/Logon) with the client's api_key and password; the cookie lands in the client's jar.
function M.logon(c)
  if c.opts.dry_run then -- nothing is sent: the session cookie is a visible placeholder
    c.cookies:store("Tier3.API.Cookie={session}")
    c.session = { since = c.clock() }
    return {}
  end
  -- the catalog's logon entry (APIKey and Password default to the client's api_key and password,
  -- catalog `option`), sent once by the engine; the call that needed the session retries
  local res, err = c:once("logon", {})
  if not res then
    -- 100 on Logon means bad credentials: kind auth, never retried (luacloud.retry)
    return nil, err
  end
  c.session = { since = c.clock() }
  return res
end

function M.prepare(c, entry, req)
  local id = entry.name
  local is_logon, is_logout = id == "Auth/Logon", id == "Auth/Logout"
  -- answers come in the format asked for
  req.headers.Accept = req.headers["Content-Type"]
  if not is_logon and not is_logout and not c.session then
    local ok, err = M.logon(c)
    if not ok then return nil, err end
    -- the jar needs the request's URL for Domain, Path and Secure (RFC 6265 5.4)
    local cookie = c.cookies:header(req.url)
    if cookie then req.headers.Cookie = cookie end
  end
  return true
end

local function envelope_error(c, entry, res, resp, op)
  local code = res.StatusCode
  local msg = res.Message
  if (msg == nil or msg == "" or msg == core.null) and entry and entry.errors then msg = entry.errors[code] end
  return c:error { op = op, status = resp.status, code = code,
    kind = code == 100 and "auth" or "api",
    message = tostring(msg or ("StatusCode " .. tostring(code))),
    retry_after = tonumber(resp.headers and resp.headers["retry-after"]),
    details = { StatusCode = code, Message = res.Message, documented = entry and entry.errors and entry.errors[code] } }
end

function M.decode(c, entry, resp, op)
  local fmt = answer_format(resp)
  local res, derr = M.decode_body(c, entry, resp.body, fmt)
  if res == nil then
    -- the other format, in case the server ignored ours
    local other = fmt == "xml" and "json" or "xml"
    res = M.decode_body(c, entry, resp.body, other)
  end
  local has_envelope = type(res) == "table" and (res.StatusCode ~= nil or res.Success ~= nil)
  if resp.status >= 400 and not (has_envelope and res.Success == false) then
    return nil, c:error { op = op, status = resp.status, code = resp.status,
      kind = resp.status == 401 and "auth" or "http",
      message = (has_envelope and res.Message ~= nil and tostring(res.Message)) or ("HTTP " .. resp.status),
      retry_after = tonumber(resp.headers and resp.headers["retry-after"]) }
  end
  if res == nil then
    return nil, c:error { op = op, kind = "decode", status = resp.status, message = "malformed response: " .. tostring(derr) }
  end
  -- a Logon answers Success/Message/StatusCode (document: LogonResponse Success="true" ...
  -- StatusCode="0"); a 200 without them (a portal page, a proxy) is no login
  if not has_envelope and entry and entry.name == "Auth/Logon" then
    return nil, c:error { op = op, kind = "decode", status = resp.status,
      message = "the Logon answer is not an API answer (no Success/StatusCode)" }
  end
  if has_envelope and (res.Success == false or (tonumber(res.StatusCode) or 0) ~= 0) then
    return nil, envelope_error(c, entry, res, resp, op)
  end
  if entry and entry.name == "Auth/Logout" then
    c.session = nil
    c.cookies:clear()
  elseif entry and entry.name == "Auth/Logon" and op ~= "logon" then
    c.session = { since = c.clock() } -- an explicit c:logon{} is the client's session too
  end
  return c:normalize(entry, res)
end

function M.reauth(c, entry, err)
  if entry.name == "Auth/Logout" then return false end
  c.session = nil
  c.cookies:clear()
  local ok, lerr = M.logon(c)
  if not ok then return nil, lerr end
  return true
end

return M
