--- The one retry policy: what may be sent again, after how long, and what an error says
-- about the request it ends (err.applied, err.retryable). The engine asks this module after
-- every failed attempt; hooks only describe what the server said (status, code, retry_after,
-- details.not_applied) and never decide retryable themselves.
--
-- err.applied: "no"    the server did not act (connection refused, nothing sent, the API
--                      refused the request: validation, auth, 4xx, a documented not_applied code)
--              "maybe" it may have acted (timeout, dropped connection, 5xx)
--              "yes"   it acted but the answer could not be used (a 2xx that did not decode)
-- err.retryable: the failure is transient (catalog.retry statuses/codes, rate limits, timeouts,
--              dropped connections) and sending again cannot do the work twice: the operation is
--              safe to repeat, or M.never_applied(err).
local core = require "luacloud.core"

local M = {}

local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }
M.IDEMPOTENT = IDEMPOTENT

-- transient HTTP statuses of a catalog without a `retry` table
local DEFAULT_POLICY = { statuses = { 429, 503 } }

--- May this request be sent again after it may have reached the server?
-- The catalog decides when it says so (`safe`; `state_changing` GETs; `idempotent`),
-- otherwise the HTTP method does. ReliaCloud sends every command as a GET and marks its reads safe.
function M.safe_to_repeat(entry, req)
  entry = entry or {}
  if entry.safe ~= nil then return entry.safe and true or false end
  if entry.state_changing then return false end
  if entry.idempotent ~= nil then return entry.idempotent and true or false end
  return IDEMPOTENT[(req and req.method) or entry.method or "GET"] or false
end

-- transport failure kind -> error kind, whether the server may have acted
local TRANSPORT = {
  connect = { "transport", "no" },   -- refused / unreachable: nothing arrived
  phase = { "transport", "no" },     -- nginx phase without cosockets: nothing was sent
  tls = { "tls", "no" },             -- the handshake failed before the request went out (its own kind: DESIGN.md)
  timeout = { "timeout", "maybe" },
  protocol = { "transport", "no" },  -- not http(s): refused before anything was sent, every time
  too_large = { "transport", "yes" }, -- the server answered (too much)
  transport = { "transport", "maybe" }, -- dropped / reset: it may have arrived
}

--- The one mapping of a transport failure to an error (engine, and hooks that log in).
-- fields: extra error fields (op, ...).
function M.transport_error(client, terr, fields)
  fields = fields or {}
  local tk = type(terr) == "table" and terr.kind or "transport"
  local m = TRANSPORT[tk] or TRANSPORT.transport
  fields.kind = m[1]
  fields.applied = m[2]
  fields.message = fields.message or (type(terr) == "table" and terr.message) or "transport failed"
  fields.details = fields.details or {}
  fields.details.transport = tk
  local err = client:error(fields)
  -- a refused connection is always worth another try; the call loop refines this
  err.retryable = tk == "connect"
  return err
end

-- catalog.retry as sets, built once per catalog
local policies = setmetatable({}, { __mode = "k" })
local function policy(catalog)
  local p = catalog and policies[catalog]
  if p then return p end
  local r = catalog and catalog.retry or DEFAULT_POLICY
  p = { statuses = {}, codes = {} }
  for _, s in ipairs(r.statuses or {}) do p.statuses[s] = true end
  for _, c in ipairs(r.codes or {}) do p.codes[c] = true end
  if catalog then policies[catalog] = p end
  return p
end
M.policy = policy

--- Whether the server may have acted on the request this error ends.
function M.applied(err)
  if err.applied then return err.applied end
  local d = err.details or {}
  if d.not_applied then return "no" end
  local k = err.kind
  if k == "validation" or k == "auth" then return "no" end
  if k == "timeout" then return "maybe" end
  local st = tonumber(err.status)
  if st then
    if st >= 500 then return "maybe" end
    if st >= 400 then return "no" end
    return "yes"
  end
  return "maybe"
end

--- Certain that nothing was done, so that even a create may be sent again: the connection was
-- refused or nothing was sent, or the API's answer is documented as a refusal that did nothing
-- (details.not_applied, set by the hook). A plain 4xx/429 is not enough: the engine then leaves
-- the decision to the caller (err.applied = "no", err.retryable = false).
function M.never_applied(err)
  local d = err.details or {}
  return d.not_applied == true or d.transport == "connect" or d.transport == "phase"
end

--- Whether the failure may go away by itself.
function M.transient(catalog, err)
  local k = err.kind
  if k == "validation" then return false end
  if k == "timeout" then return true end
  if k == "transport" then
    local t = err.details and err.details.transport
    return t ~= "phase" and t ~= "too_large" and t ~= "tls" and t ~= "protocol"
  end
  if err.rate_limited then return true end
  local p = policy(catalog)
  if err.status and p.statuses[err.status] then return true end
  return err.code ~= nil and p.codes[err.code] == true
end

--- Fill err.applied and err.retryable for a failed attempt of (entry, req).
function M.classify(client, entry, req, err)
  if type(err) ~= "table" then return err end
  err.applied = M.applied(err)
  local ok = M.transient(client.catalog, err) and (M.safe_to_repeat(entry, req) or M.never_applied(err))
  -- a rate limit that lifts later than the caller accepts to wait is not worth another try
  if ok and err.rate_limited and err.retry_after and err.retry_after > (client.opts.max_rate_wait or 60) then
    ok = false
  end
  err.retryable = ok and true or false
  return err
end

--- Seconds before attempt number `attempt` + 1: the server's Retry-After when it gave one,
-- else exponential backoff (retry_delay * 2^(attempt-1), at most 30 s) with full jitter in
-- its upper half so that clients that failed together do not come back together.
function M.delay(opts, attempt, err, random)
  if err and tonumber(err.retry_after) then return math.max(0, tonumber(err.retry_after)), "retry_after" end
  local base = math.min(30, (opts.retry_delay or 0.5) * 2 ^ (attempt - 1))
  random = random or math.random
  return base * (0.5 + 0.5 * random()), "backoff"
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10,
                 Nov = 11, Dec = 12 }

-- seconds since the epoch of a UTC civil time, by arithmetic: os.time reads the local time zone
local floor = math.floor
local function epoch(y, mo, d, h, mi, sec)
  if y <= 99 then y = y + (y < 70 and 2000 or 1900) end -- RFC 850's two-digit year (RFC 9110 5.6.7)
  if mo == nil or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then return nil end
  -- days from civil (H. Hinnant); floor division keeps it right under LuaJIT, which has no //
  y = mo <= 2 and y - 1 or y
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return ((era * 146097 + doe - 719468) * 24 + h) * 3600 + mi * 60 + sec
end

--- An HTTP-date (RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a
-- recipient must accept) as seconds since the epoch, or nil.
function M.http_date(s)
  if type(s) ~= "string" then return nil end
  local d, mo, y, h, mi, sec = s:match("^%s*%a%a%a, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT%s*$")
  if not d then d, mo, y, h, mi, sec = s:match("^%s*%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT%s*$") end
  if not d then
    mo, d, h, mi, sec, y = s:match("^%s*%a%a%a (%a%a%a) ([ %d]%d) (%d%d):(%d%d):(%d%d) (%d%d%d%d)%s*$")
  end
  if not d then return nil end
  return epoch(tonumber(y), MONTHS[mo], tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
end

--- Seconds a Retry-After header asks for: delay-seconds, or an HTTP-date counted from the
-- answer's own Date header when it has one (the server's clock, not ours), else from `now`
-- (seconds since the epoch, default os.time()). A date in the past is 0; anything else nil.
-- The wait is never longer than the call's deadline: the engine gives up instead (pause).
function M.retry_after(value, date, now)
  if type(value) ~= "string" and type(value) ~= "number" then return nil end
  local v = tostring(value)
  if v:match("^%s*%d+%s*$") then return tonumber(v) end
  local at = M.http_date(v)
  if not at then return nil end
  local base = M.http_date(date) or tonumber(now) or os.time()
  return math.max(0, at - base)
end

--- The overall deadline of a call, in seconds from its start (option `deadline`; default
-- twice the per-attempt timeout, which defaults to 60 s).
function M.deadline(opts)
  return tonumber(opts.deadline) or 2 * (tonumber(opts.timeout) or 60)
end

M.now = core.now
return M
