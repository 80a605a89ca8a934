--- Dimension Data / OpSource Cloud REST API 0.9 hooks.
-- Pre-emptive HTTP Basic auth on every request (section 1.3.1), the organization id learned once
-- from Get My Account Details unless `org_id` is given, hosts by vendor/region (section 1.2),
-- request namespaces from a configurable base, Status documents turned into results or errors
-- (section 1.3.2), paging attributes kept (section 1.8); waiters are catalog data (catalog.waiters).
--
-- Client options: username, password (required); org_id; endpoint, or vendor (default
-- "dimensiondata") + region (default "na"); namespace (base URI of request bodies, default the
-- catalog's namespace_base "http://oec.api.opsource.net/schemas/").
local core = require "luacloud.core"
local util = require "luacloud.util"

local M = {}

local trim, header = util.trim, util.header

function M.init(c)
  local o = c.opts
  if type(o.username) ~= "string" or o.username == "" or type(o.password) ~= "string" then
    return nil, c:error { kind = "validation", op = "new",
      message = "dimensiondata needs username and password (HTTP Basic credentials)" }
  end
  local endpoint = o.endpoint
  if not endpoint then
    local vendor = o.vendor or c.catalog.default_vendor or "dimensiondata"
    local region = o.region or c.catalog.default_region or "na"
    local hosts = c.catalog.hosts[vendor]
    if not hosts then
      local names = {}
      for k in pairs(c.catalog.hosts) do names[#names + 1] = k end
      table.sort(names)
      return nil, c:error { kind = "validation", op = "new",
        message = "unknown vendor '" .. tostring(vendor) .. "' (" .. table.concat(names, ", ") .. ")" }
    end
    endpoint = hosts[tostring(region):lower()]
    if not endpoint then
      local names = {}
      for k in pairs(hosts) do names[#names + 1] = k end
      table.sort(names)
      return nil, c:error { kind = "validation", op = "new",
        message = "vendor '" .. vendor .. "' has no region '" .. tostring(region) .. "' (" .. table.concat(names, ", ") .. ")" }
    end
  end
  -- a cloudApiUrl from List Multi-Geography Data Centers already ends in /oec/0.9
  endpoint = tostring(endpoint):gsub("/+$", ""):gsub("/oec/0%.9$", "")
  c.endpoint = endpoint
  c.org_id = o.org_id
  c.auth_header = core.basic_auth(o.username, o.password)
  local base = o.namespace or c.catalog.namespace_base
  if base:sub(-1) ~= "/" then base = base .. "/" end
  c.namespace_base = base
  c.namespace = function(entry) return base .. (entry.body_ns or "general") end
  return true
end

local function decode_status(v)
  local st = {
    operation = v.operation, result = v.result, resultDetail = v.resultDetail, resultCode = v.resultCode,
    additionalInformation = v.additionalInformation or setmetatable({}, core.array_mt), info = {},
  }
  for _, ai in ipairs(st.additionalInformation) do
    if type(ai) == "table" and ai.name then st.info[ai.name] = ai.value end
  end
  local code = type(st.resultCode) == "string" and st.resultCode or nil
  st.code_number = code and tonumber(code:match("_(%d+)$")) or nil
  -- Real server, probe, farm, profile and VIP creates return the new id only inside resultDetail,
  -- "(id:...)"; the live service's Add Network says "(Network ID: ...)"
  if type(st.resultDetail) == "string" then
    st.id = st.resultDetail:match("%(id:%s*([^)%s]+)%s*%)") or st.resultDetail:match("%(%a+ ID:%s*([^)%s]+)%s*%)")
  end
  return st
end
M.decode_status = decode_status

--- Learn the organization id once (Get My Account Details), through the whole call path:
-- a read, so a busy system or a dropped connection is retried like any other.
function M.discover_org(c)
  if c.org_id then return c.org_id end
  local res, err = c:call("get_my_account")
  if not res then return nil, err end
  if type(res.orgId) ~= "string" or res.orgId == "" then
    return nil, c:error { op = "get_my_account", kind = "api", message = "Get My Account Details returned no orgId" }
  end
  c.org_id = res.orgId
  c.account = res
  return c.org_id
end

--- Learn the org id before the URL is built: every attempt of the call (retries, prefetched
-- pages, waiter polls) then sends the same URL, and no URL is ever built with an empty org id.
function M.before_build(c, entry)
  if c.org_id or not entry.path:find("{org-id}", 1, true) then return true end
  return M.discover_org(c)
end

function M.prepare(c, entry, req)
  req.headers.Authorization = c.auth_header
  req.headers.Accept = req.headers.Accept or "application/xml"
  return true
end

-- an operation runs on the object (server, image/network/VIP object, a server's disk, a backup
-- client's job; CloudControl's RESOURCE_BUSY): it lasts minutes, so the call is not repeated;
-- the caller waits (c:wait) and calls again
local IN_PROGRESS = { REASON_392 = true, REASON_601 = true, REASON_379 = true, REASON_547 = true, RESOURCE_BUSY = true }
-- refusals after which the work may still be done: a server-side timeout ("open a Support
-- Case"), an ACL rule deletion left pending under load
local MAYBE_DONE = { REASON_20 = true, REASON_292 = true }

local function csv_result(c, resp)
  local body = resp.body or ""
  -- Software Units and Backup reports separate with ", ": undo before parsing
  local rows, err = core.csv_decode(body)
  if not rows then
    return nil, c:error { kind = "decode", status = resp.status, message = "malformed CSV report: " .. tostring(err) }
  end
  local clean = {}
  for i, r in ipairs(rows) do
    local t = {}
    for k, v in pairs(r) do
      if type(k) == "string" then t[trim(k)] = type(v) == "string" and trim(v) or v else t[k] = v end
    end
    clean[i] = t
  end
  local header_line = body:match("^([^\r\n]*)") or ""
  local columns = {}
  for f in (header_line .. ","):gmatch("([^,]*),") do columns[#columns + 1] = trim(f) end
  return { csv = body, columns = columns, rows = clean }
end

local function api_error(c, entry, resp, code, message, details)
  local known = (entry.errors and entry.errors[code]) or (c.catalog.common_errors[code] or {}).text
    or (c.catalog.paging_errors and c.catalog.paging_errors[code])
  details.documented = known
  details.in_progress = IN_PROGRESS[code] or nil
  -- an error document is the server refusing the request: nothing was done, so even a
  -- state-changing call may be sent again when the code is retryable (maintenance, busy system)
  details.not_applied = not MAYBE_DONE[code] or nil
  return nil, c:error { kind = "api", status = resp.status, code = code, applied = MAYBE_DONE[code] and "maybe" or nil,
    message = (type(message) == "string" and message ~= "" and message) or known or ("HTTP " .. resp.status),
    retry_after = tonumber(header(resp, "retry-after") or ""), -- retryable: catalog.retry.codes
    details = details }
end

local function status_result(c, entry, resp, v)
  if type(v) ~= "table" then v = {} end
  if type(v.additionalInformation) == "table" and getmetatable(v.additionalInformation) ~= core.array_mt
      and v.additionalInformation.name then
    v.additionalInformation = setmetatable({ v.additionalInformation }, core.array_mt)
  end
  local st = decode_status(v)
  if resp.status == 200 and st.result == "SUCCESS" then return st end
  return api_error(c, entry, resp, st.resultCode or resp.status, st.resultDetail,
    { operation = st.operation, result = st.result, resultDetail = st.resultDetail,
      info = st.info, code_number = st.code_number })
end

-- Any other XML answered with an error status: the CloudControl <response> document
-- (operation, responseCode, message; same hosts) or a Status-like one under another root
local function error_document(c, entry, resp, v, root)
  if type(v) ~= "table" then v = { message = v ~= "" and v or nil } end
  local code = v.responseCode or v.resultCode or v.errorCode or v.code
  if type(code) ~= "string" or code == "" then
    return nil, c:error { kind = "http", status = resp.status, code = resp.status,
      message = type(v.message) == "string" and v.message ~= "" and v.message or ("HTTP " .. resp.status),
      details = { root = root } }
  end
  local message = v.message or v.resultDetail or v.errorMessage or v.detail
  return api_error(c, entry, resp, code, message,
    { operation = v.operation, root = root, requestId = v.requestId, resultDetail = message })
end

function M.decode(c, entry, resp)
  local status = resp.status
  local body = resp.body or ""
  local ctype = tostring(header(resp, "content-type") or "")
  if status == 401 then
    return nil, c:error { kind = "auth", status = 401, code = 401, message = "Invalid request credentials." }
  end
  local is_xml = body:match("^%s*<") ~= nil and not ctype:find("html", 1, true)
  if status == 200 and entry.response and entry.response.format == "csv" and not is_xml then
    return csv_result(c, resp)
  end
  if not is_xml then
    if status >= 400 then
      return nil, c:error { kind = "http", status = status, code = status, message = "HTTP " .. status,
        retry_after = tonumber(header(resp, "retry-after") or "") }
    end
    if body:match("^%s*$") then return {} end
    return nil, c:error { kind = "decode", status = status, message = "unexpected non-XML response" }
  end
  local v, root = c:decode_body(entry, resp, "xml")
  if v == nil then
    local err = root
    if status >= 400 then
      return nil, c:error { kind = "http", status = status, code = status, message = "HTTP " .. status .. " (" .. tostring(err and err.message) .. ")" }
    end
    return nil, err
  end
  if root == "Status" then return status_result(c, entry, resp, v) end
  if status >= 400 then return error_document(c, entry, resp, v, root) end
  local r = entry.response or {}
  if r.text == "boolean" then -- <Exists>true</Exists>: the document's name, the promised type
    local s = type(v) == "table" and v._text or v
    return { [root] = s == "true" }
  end
  if type(v) ~= "table" then v = v == "" and {} or { _text = v } end -- an empty root is an empty result
  v = c:normalize(entry, v)
  if entry == c.operations.get_my_account and not c.org_id and type(v.orgId) == "string" then
    c.org_id = v.orgId -- saves the discovery request later
  end
  if v.totalCount ~= nil or v.pageNumber ~= nil then
    v.paging = { totalCount = tonumber(v.totalCount), pageCount = tonumber(v.pageCount),
      pageNumber = tonumber(v.pageNumber), pageSize = tonumber(v.pageSize) }
  end
  return v
end

return M
