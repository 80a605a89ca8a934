--- ReliaCloud hooks: API-key signing (notes §4.3) or a login session; XML or JSON.
-- Errors: err.status = the HTTP status; err.code = the server's `errorcode` (else the status);
-- err.message = the server's text (`errortext`, `description`, an HTML page's message, X-Description),
-- else the document's text for the status; err.details = { errorcode, cserrorcode, errortext, wrapper, doc }.
local core = require "luacloud.core"
local util = require "luacloud.util"

local M = {}

function M.init(c)
  local o = c.opts
  c.endpoint = o.endpoint or c.catalog.default_endpoint
  if o.api_key and o.secret_key then
    c.auth_mode = "key"
  elseif o.username and o.password then
    c.auth_mode = "session"
  else
    return nil, c:error { kind = "validation", op = "new",
      message = "reliacloud needs api_key + secret_key, or username + password" }
  end
  return true
end

--- Canonical string and signature (notes §4.3 / CloudStack server):
-- values encoded (keep A-Za-z0-9.-*_, space -> %20), pairs sorted by wire name
-- byte-wise, joined with '&', the whole string lower-cased, HMAC-SHA1, Base64.
function M.signature(secret, query)
  local canonical = core.canonical_query(query)
  return core.b64encode(core.hmac_sha1(secret, canonical)), canonical
end

function M.login(c)
  if c.opts.dry_run then -- nothing is sent: the session key is a visible placeholder
    c.session = { key = "{session}" }
    return { sessionkey = "{session}" }
  end
  -- the catalog's login entry on the engine's path, sent once (prepare makes it a form POST, so
  -- the password is in no URL or log); the call that needed the session retries what may be
  local res, err = c:once("login", { username = c.opts.username, password = c.opts.password })
  if not res then return nil, err end
  c.session = { key = type(res) == "table" and res.sessionkey or nil, timeout = tonumber(type(res) == "table" and res.timeout) }
  return res
end

-- The pairs every call of a client repeats are built once and shared by its requests: pairs are
-- never changed once made (the signer and the URL encoder only read them).
local JSON_PAIR = { "response", "json" }

-- wire name -> lower-cased (names come from the catalog and the caller: bounded)
local lower_name = util.memo(string.lower, 4096)

local function command_pair(c, entry, req)
  -- opts.commands overrides a wire name (notes section 5: listIPAddress(es), IP/Ip casing)
  local override = c.opts.commands and c.opts.commands[req.op]
  local name = override or entry.command or entry.name
  local cache = rawget(c, "_rc_commands") -- rawget: a miss would run the client's __index
  if not cache then cache = setmetatable({}, { __mode = "k" }); rawset(c, "_rc_commands", cache) end
  local pair = cache[entry]
  if not pair or pair[2] ~= name then pair = { "command", name }; cache[entry] = pair end
  return pair
end

local function key_pair(c)
  local key = c.opts.api_key
  local pair = rawget(c, "_rc_key_pair")
  if not pair or pair[2] ~= key then pair = { "apiKey", key }; rawset(c, "_rc_key_pair", pair) end
  return pair
end

function M.prepare(c, entry, req)
  -- the catalog path carries "?command=<doc name>": the wire command comes from entry.command
  req.url = c.endpoint  -- every command goes to the one API URL; the query says what to do
  local lower = c.catalog.param_case == "lower"
  local query = req.query
  -- sized at once for the usual few params + response + apiKey + signature (no regrowth)
  local q = { command_pair(c, entry, req), nil, nil, nil, nil, nil, nil, nil }
  local n = 1
  for i = 1, #query do
    local kv = query[i]
    local name = kv[1]
    if lower then
      local l = lower_name(name)
      if l ~= name then kv = { l, kv[2] } end -- a name already in lower case keeps its pair
    end
    n = n + 1
    q[n] = kv
  end
  if c.format == "json" then n = n + 1; q[n] = JSON_PAIR end
  if entry.command == "login" then
    -- an explicit c:login{...}: send it as a form POST, never in the URL
    req.method = "POST"
    local body = {}
    for _, kv in ipairs(q) do body[#body + 1] = kv[1] .. "=" .. core.pct(tostring(kv[2])) end
    req.body = table.concat(body, "&")
    req.headers["Content-Type"] = "application/x-www-form-urlencoded"
    req.query = {}
    return true
  end
  if c.auth_mode == "key" then
    q[n + 1] = key_pair(c)
    q[n + 2] = { "signature", (M.signature(c.opts.secret_key, q)) }
  else
    if not c.session and entry.command ~= "logout" then
      local ok, err = M.login(c)
      if not ok then return nil, err end
    end
    if c.session and c.session.key then q[#q + 1] = { "sessionkey", c.session.key } end
  end
  req.query = q
  return true
end

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }
local function unescape(s)
  return (s:gsub("&(%a+);", function(n) return ENTITIES[n] end):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function text_of(v)
  if type(v) == "number" then return v end
  if type(v) == "string" and v:match("%S") then return util.trim(v) end
  if type(v) == "table" and type(v._text) == "string" then return text_of(v._text) end
  return nil
end

-- A servlet container's HTML error page (Cloud.com 2010: sendError(code, description)):
-- the description is the page's "message" paragraph, or the "HTTP Status N - text" heading.
local function html_text(body)
  local m = body:match("<[bB]>%s*message%s*</[bB]>%s*<[uU]>(.-)</[uU]>")
         or body:match("<[hH]1>%s*HTTP Status %d+%s*%-%s*(.-)</[hH]1>")
  if m and m:match("%S") then return unescape(m) end
  return nil
end

--- The server's own error, whatever the wrapper element or key is called:
-- CloudStack's {"<command>response":{"errorcode":431,"cserrorcode":4350,"errortext":".."}} and its XML
-- form <x><errorcode/><cserrorcode/><errortext/></x>, <errorresponse><description/>, an HTML error page,
-- or the X-Description header newer servers add. Returns { errorcode, cserrorcode, text, wrapper } or nil.
local function server_error(resp)
  local body = resp.body or ""
  local v, root
  if body:match("^%s*[{%[]") then
    local j = core.json_decode(body)
    if type(j) == "table" then root, v = next(j) end
    if type(v) ~= "table" then v = j end
  elseif body:match("^%s*<") then
    v, root = core.xml_decode(body, { lower = true })
  end
  local e = {}
  if type(v) == "table" then
    e.errorcode = tonumber(text_of(v.errorcode))
    e.cserrorcode = tonumber(text_of(v.cserrorcode))
    e.text = text_of(v.errortext) or text_of(v.description)
    e.text = e.text and tostring(e.text)
    e.wrapper = type(root) == "string" and root or nil
  end
  if not e.text and body:find("<", 1, true) and type(v) ~= "table" then e.text = html_text(body) end
  local h = resp.headers or {}
  local xd = h["x-description"] or h["X-Description"]
  if not e.text and type(xd) == "string" and xd:match("%S") then e.text = xd end
  if e.text or e.errorcode then return e end
end

-- JSON answers wrap the result in {"<command>response": ...}: where the decoder finds the items
M.json_wrapped = true

function M.decode(c, entry, resp, op)
  if resp.status ~= 200 then
    local doc = entry and entry.errors and entry.errors[resp.status]
    local e = server_error(resp)
    return nil, c:error { op = op, status = resp.status, code = e and e.errorcode or resp.status,
      kind = resp.status == 401 and "auth" or "api",
      message = e and e.text or doc or ("HTTP " .. resp.status),
      details = e and { errorcode = e.errorcode, cserrorcode = e.cserrorcode, errortext = e.text,
                        wrapper = e.wrapper, doc = doc } or (doc and { doc = doc }) or nil }
  end
  local v, err = c:decode_body(entry, resp)
  if v == nil then return nil, err end
  if c.format == "json" and type(v) == "table" then
    local _, inner = next(v)   -- { "<root>": { ... } }
    v = inner == nil and {} or inner
  end
  if v == "" then v = {} end
  return c:normalize(entry, v)
end

function M.reauth(c, entry, err)
  if c.auth_mode ~= "session" then return false end
  c.session = nil
  c.cookies:clear()
  return true -- prepare logs in again on the retry
end

return M
