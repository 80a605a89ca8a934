--- ClodoAPI 1.0 hooks (notes: shared/notes/clodo.md).
-- * authentication: GET <endpoint>/ with X-Auth-User / X-Auth-Key (options `user`, `key`) -> 204 with
--   X-Auth-Token and X-Server-Management-Url; every other call goes to management URL .. path (string
--   concatenation, documented trailing slashes kept) with X-Auth-Token.
-- * the token lives 20 minutes from issue: renewed before it runs out (option `token_margin`, default
--   60 s) and once more when a call answers 401 (reauth hook).
-- * JSON by default, XML with the option format = "xml" (Accept / Content-Type headers).
-- * requests are the engine's: the URL goes after c.base_url (the management URL), bodies follow
--   the documented shapes (catalog `request`, `send_method`, "dynamic" params: luacloud.protocol).
-- * errors: <Name code="N"><message/><details/></Name> or {"Name":{"code","message","details"}} -> err:
--   err.code = the error name ("NotFound"), err.details.code = the API's numeric code (404; also when
--   the attribute is namespaced or a child element repeats it), err.details.error = the name,
--   err.details.message / .details as sent, err.message = "message: details".
-- * rate limits: a 413/429 (or an OverLimit error) reads GET /limits and sets err.retry_after from the
--   resetTime of the exhausted limit (err.rate_limited); luacloud.retry retries what is safe to repeat.
-- * waiting (/requests/<id>, a server's status) is catalog data (catalog.waiters).
local core = require "luacloud.core"
local util = require "luacloud.util"

local M = {}

local is_array, header, set_of = util.is_array, util.header, util.set

---------------------------------------------------------------------------------------------
-- init
---------------------------------------------------------------------------------------------

-- the token and the management URL arrive together: the engine puts paths after c.base_url
local function keep_token(c, t)
  c.clodo_token = t
  c.base_url = t.url
end

function M.init(c)
  local o = c.opts
  local user, key = o.user or o.username, o.key or o.api_key
  if type(user) ~= "string" or user == "" or type(key) ~= "string" or key == "" then
    return nil, c:error { kind = "validation", op = "new",
      message = "clodo needs the options user and key (X-Auth-User / X-Auth-Key)" }
  end
  c.clodo_user, c.clodo_key = user, key
  local endpoint = o.endpoint
  if not endpoint and o.datacenter then
    for _, dc in ipairs(c.catalog.datacenters or {}) do
      local dcname = tostring(o.datacenter):lower()
      local host = dc.host:lower()
      if host == dcname or dc.title:lower() == dcname or host:match("^api%.(%w+)%.") == dcname then
        endpoint = "https://" .. dc.host
      end
    end
    if not endpoint then
      return nil, c:error { kind = "validation", op = "new",
        message = "unknown clodo datacenter '" .. tostring(o.datacenter) .. "'" }
    end
  end
  c.endpoint = endpoint or c.catalog.default_endpoint
  c.token_lifetime = tonumber(o.token_lifetime) or c.catalog.token_lifetime or 1200
  c.token_margin = tonumber(o.token_margin) or 60
  if o.token and o.management_url then -- a token obtained elsewhere
    keep_token(c, { token = o.token, url = tostring(o.management_url):gsub("/$", ""), issued = c.clock() })
  end
  return true
end

---------------------------------------------------------------------------------------------
-- Authentication
---------------------------------------------------------------------------------------------

local function token_valid(c)
  local t = c.clodo_token
  return t and c.clock() < t.issued + (t.lifetime or c.token_lifetime) - c.token_margin
end

-- result of a 2xx authentication answer
local function read_auth(c, resp)
  local token, url = header(resp, "X-Auth-Token"), header(resp, "X-Server-Management-Url")
  if not token or token == "" or not url or url == "" then
    return nil, c:error { op = "authenticate", kind = "api", status = resp.status,
      message = "authentication answered without X-Auth-Token / X-Server-Management-Url" }
  end
  local issued = c.clock()
  local lifetime = c.token_lifetime
  -- X-Auth-Token-Expired / -Issued (not in the 1.0 document, sent by later versions): use when present
  local exp = tonumber(header(resp, "X-Auth-Token-Expired") or "")
  local iss = tonumber(header(resp, "X-Auth-Token-Issued") or "")
  if exp and iss and exp > iss then lifetime = math.min(lifetime, exp - iss) end
  keep_token(c, { token = token, url = url:gsub("/$", ""), issued = issued, lifetime = lifetime })
  return { token = token, management_url = c.clodo_token.url, issued = issued, expires = issued + lifetime }
end

function M.login(c)
  if c.opts.dry_run then -- nothing is sent: token and management URL are visible placeholders
    keep_token(c, { token = "{token}", url = "{management-url}", issued = c.clock(), lifetime = math.huge })
    return { token = "{token}", management_url = "{management-url}" }
  end
  -- the catalog's authenticate entry (GET <endpoint>/ with the credentials as its header params),
  -- sent once by the engine; the call that needed the token retries what may be retried
  return c:once("authenticate", { ["X-Auth-User"] = c.clodo_user, ["X-Auth-Key"] = c.clodo_key })
end

-- the request of the call in progress, kept per call (light threads share a client)
local function per_call(c) return c.context and c:context() or c end

--- The token on every request but the login itself (an explicit c:authenticate{} sends the
-- documented headers only); a missing or expiring token is renewed first, which also gives the
-- engine the base URL (c.base_url) the request's path goes after.
function M.prepare(c, entry, req)
  per_call(c)._clodo_last = req
  if entry.endpoint == "auth" then return true end
  if not token_valid(c) then
    local ok, err = M.login(c)
    if not ok then return nil, err end
  end
  req.headers["X-Auth-Token"] = c.clodo_token.token
  return true
end

function M.reauth(c)
  c.clodo_token = nil -- prepare authenticates again (once: the engine replays a call only once)
  return true
end

---------------------------------------------------------------------------------------------
-- Decoding
---------------------------------------------------------------------------------------------

local function body_format(c, resp)
  local ct = header(resp, "Content-Type") or ""
  if ct:find("xml", 1, true) then return "xml" end
  if ct:find("json", 1, true) then return "json" end
  local b = resp.body or ""
  if b:match("^%s*<") then return "xml" end
  if b:match("^%s*[%[{]") then return "json" end
  return c.format
end

-- raw (unescaped) HTML inside an element: keep its markup as text
local function cdata_wrap(body, names)
  for _, n in ipairs(names or {}) do
    body = body:gsub("(<" .. n .. ">)(.-)(</" .. n .. ">)", function(a, inner, b)
      if inner:find("<", 1, true) and not inner:find("<![CDATA[", 1, true) then
        return a .. "<![CDATA[" .. inner:gsub("%]%]>", "]]]]><![CDATA[>") .. "]]>" .. b
      end
      return a .. inner .. b
    end)
  end
  return body
end

local function decode_raw(c, entry, resp)
  local body = resp.body or ""
  if body:match("^%s*$") then return nil, nil, nil end
  local fmt = body_format(c, resp)
  local r = entry and entry.response or {}
  if fmt == "xml" then
    local v, root = core.xml_decode(cdata_wrap(body, r.raw_xml),
      { lists = set_of(r.lists), max_size = c.opts.max_response })
    if v == nil then return nil, nil, root end
    return v, root
  end
  local v, err = core.json_decode(body)
  if v == nil then return nil, nil, err end
  return v, nil
end

-- error body -> { name, code, message, details }
local function parse_error(c, resp)
  local v, root = decode_raw(c, nil, resp)
  if type(v) ~= "table" then return nil end
  local name, inner = root, v
  if not root then
    local k, x = next(v)
    if type(k) ~= "string" or next(v, k) ~= nil or type(x) ~= "table" then
      if v.code or v.message then return { code = v.code, message = v.message, details = v.details } end
      return nil
    end
    name, inner = k, x
  end
  local function s(x) return (type(x) == "string" or type(x) == "number") and x or nil end
  local code = inner.code
  if type(code) == "table" then -- the code attribute and a <code> child both present: the number wins
    for _, x in ipairs(code) do if tonumber(s(x)) then code = x break end end
  end
  return { name = name, code = tonumber(s(code)) or s(code), message = s(inner.message),
           details = s(inner.details) }
end

local function rule_matches(rule, method, path)
  if rule.verb and tostring(rule.verb):upper() ~= method then return false end
  local re = util.trim(rule.regex or ".*")
  if re == ".*" or re == "" or re == "*" then return true end
  local anchored = re:sub(1, 1) == "^"
  local lit = anchored and re:sub(2) or re
  if lit:find("[%.%*%+%?%[%(%$\\]") then
    -- a real regex we cannot evaluate: treat as matching
    return true
  end
  if anchored then return path:sub(1, #lit) == lit end
  return path:find(lit, 1, true) ~= nil
end

--- Reads /limits and returns seconds to wait for a request (method, path), and the limit.
function M.retry_after(c, method, path)
  if not token_valid(c) then return nil end
  -- the catalog's get_limits entry, sent once by the engine (its own 413 reads no limits again)
  local v = c:once("get_limits", {})
  if type(v) ~= "table" then return nil end
  local best
  for _, l in ipairs(v.rate and v.rate.limit or {}) do
    if rule_matches(l, method, path) and tonumber(l.remaining) and tonumber(l.remaining) <= 0 then
      local reset = tonumber(l.resetTime)
      if reset and (not best or reset > tonumber(best.resetTime)) then best = l end
    end
  end
  if not best then return nil end
  local now = c.opts.server_clock and c.opts.server_clock() or c.clock()
  return math.max(0, tonumber(best.resetTime) - now), best
end

function M.error_from(c, entry, resp)
  local status = resp.status
  local e = parse_error(c, resp)
  local doc = entry and entry.errors and entry.errors[status]
  local msg
  if e and (e.message or e.details) then
    msg = (e.message or doc or ("HTTP " .. status)) .. (e.details and e.details ~= "" and (": " .. e.details) or "")
  else
    msg = doc or ("HTTP " .. status)
  end
  local last = per_call(c)._clodo_last
  local method = last and last.method or (entry and entry.method) or "GET"
  local fields = {
    status = status, code = e and (e.name or e.code) or status, message = msg,
    kind = status == 401 and "auth" or "api",
    details = e and { error = e.name, code = e.code, message = e.message, details = e.details, doc = doc }
              or (doc and { doc = doc }) or nil,
  }
  local limited = false
  for _, s in ipairs(c.catalog.rate_limit_status or { 413, 429 }) do limited = limited or s == status end
  if e and type(e.name) == "string" and e.name:lower():find("overlimit", 1, true) then limited = true end
  if limited and entry and entry.endpoint ~= "auth" then
    fields.kind = "api"
    fields.rate_limited = true
    local path = last and last.path or (entry and entry.path) or "/"
    local wait, limit
    if entry.path ~= "/limits" then wait, limit = M.retry_after(c, method, path) end
    if not wait then
      local ra = tonumber(header(resp, "Retry-After") or "")
      wait = ra
    end
    fields.retry_after = wait
    if limit then
      fields.details = fields.details or {}
      fields.details.limit = limit
    end
  end
  return c:error(fields)
end

function M.decode(c, entry, resp)
  local status = resp.status or 0
  if status < 200 or status > 299 then
    if (status == 401 or status == 403) and entry.endpoint == "auth" then
      return nil, c:error { kind = "auth", status = status, code = status,
        message = "authentication failed: wrong user or key (ошибка авторизации)" }
    end
    if entry.empty_on and status == entry.empty_on then
      return c:normalize(entry, {}) -- "no servers found" / "not found" of a list: an empty list
    end
    return nil, M.error_from(c, entry, resp)
  end
  if entry.endpoint == "auth" then return read_auth(c, resp) end
  local v, root, err = decode_raw(c, entry, resp)
  if err then
    return nil, c:error { kind = "decode", status = status, message = "malformed response: " .. tostring(err) }
  end
  local r = entry.response or {}
  if v == nil then return {} end -- 204 (or an empty 200)
  if not root and type(v) == "table" and not is_array(v) and r.root then
    local k, inner = next(v)
    if k == r.root and next(v, k) == nil then v = inner end
  end
  return c:normalize(entry, v)
end

return M
