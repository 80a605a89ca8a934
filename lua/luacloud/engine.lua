--- The generic engine: catalog entry + params -> request -> transport -> result.
-- Provider specifics live in providers/<provider>.lua hooks (see docs/DESIGN.md).
-- @module luacloud.engine
local core = require "luacloud.core"
local Error = require "luacloud.error"
local Jar = require "luacloud.cookies"
local validate = require "luacloud.validate"
local protocol = require "luacloud.protocol"
local retry = require "luacloud.retry"
local filter = require "luacloud.filter"
local pager = require "luacloud.pager"
local providers = require "luacloud.providers"
local util = require "luacloud.util"

local M = {}
local Client = {}
-- one metatable for every client (its __index is set below): c.op() instead of c:op() is detected by it
local CLIENT_MT = { __name = "luacloud.client" }

local function misuse(what)
  return Error.new { kind = "validation", op = what,
    message = "call it with a colon: c:" .. what .. "(...), not c." .. what .. "(...)" }
end

local SECRET_PARAMS = { password = true, secret_key = true, key = true, apikey = true, signature = true,
                        ["x-auth-key"] = true, ["x-auth-token"] = true, authorization = true, cookie = true }
M.SECRET_PARAMS = SECRET_PARAMS

local snake = validate.snake
M.snake = snake

-- name -> op id index of a catalog, built once per catalog table
local indexes = setmetatable({}, { __mode = "k" })
local function index_of(catalog)
  local idx = indexes[catalog]
  if idx then return idx end
  idx = {}
  for id, e in pairs(catalog.operations) do
    idx[id] = id
    if e.name then idx[e.name] = idx[e.name] or id end
    if e.command then idx[e.command] = idx[e.command] or id end
    for _, a in ipairs(e.aliases or {}) do idx[a] = idx[a] or id end
  end
  local lower = {}
  for name, id in pairs(idx) do lower[name:lower()] = lower[name:lower()] or id end
  for name, id in pairs(lower) do idx[name] = idx[name] or id end
  indexes[catalog] = idx
  return idx
end

local function distance(a, b)
  if math.abs(#a - #b) > 4 then return math.huge end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function suggest(catalog, name)
  local best, bd = nil, 4
  for id in pairs(catalog.operations) do
    local d = distance(name:lower(), id)
    if d < bd then best, bd = id, d end
  end
  return best
end

--- Resolve an op id, documented name or alias to (id, entry).
function Client:resolve(name)
  local id = type(name) == "string" and (index_of(self.catalog)[name] or index_of(self.catalog)[name:lower()]
             or index_of(self.catalog)[snake(name)])
  if id then return id, self.catalog.operations[id] end
  local hint = type(name) == "string" and suggest(self.catalog, name)
  return nil, self:error { kind = "validation", op = tostring(name),
    message = "unknown operation '" .. tostring(name) .. "'" .. (hint and (" (did you mean '" .. hint .. "'?)") or "") }
end

-- Per-call state lives in a context per client and coroutine (nginx light threads share a
-- client): the op being called, its deadline, what hooks keep between prepare and decode.
local MAIN = {}
local running = coroutine.running -- a local: co_key runs three times a call
local function co_key() return running() or MAIN end

--- The context of the call running on this coroutine, or nil outside a call.
function Client:context()
  local calls = rawget(self, "_calls")
  return calls and calls[running() or MAIN] -- co_key() inline: this runs twice a call
end

local function enter(self, op, f)
  local calls = rawget(self, "_calls")
  if not calls then calls = setmetatable({}, { __mode = "k" }); rawset(self, "_calls", calls) end
  local key = running() or MAIN
  local outer = calls[key]
  -- retry.deadline(opts), inline (no tonumber calls for options left out)
  local opts = self.opts
  local limit, d = nil, opts.deadline
  if d ~= nil then limit = tonumber(d) end
  if not limit then
    local t = opts.timeout
    limit = 2 * (t ~= nil and tonumber(t) or 60)
  end
  local deadline = self.clock() + limit
  -- a call made inside another (a login, a waiter's poll) never outlives the outer one
  if outer and outer.deadline < deadline then deadline = outer.deadline end
  -- filter in the constructor: the table is sized once for what a call keeps in it
  local ctx = { op = op, deadline = deadline, limit = limit, outer = outer, key = key, filter = f }
  calls[key] = ctx
  return ctx
end

local function leave(self, ctx, ...)
  self._calls[ctx.key] = ctx.outer
  return ...
end

-- a call started earlier (c:call_async) continues, maybe on another coroutine
local function resume(self, ctx)
  local calls = self._calls
  ctx.key = co_key()
  ctx.outer = calls[ctx.key]
  calls[ctx.key] = ctx
end

function Client:error(fields)
  fields.provider = self.provider
  if not fields.op then
    local ctx = self:context()
    fields.op = ctx and ctx.op
  end
  return Error.new(fields)
end

--- Redacted copy of a URL/headers for logs and errors: secrets never leave.
local function redact_url(url)
  return (url:gsub("([%?&])([^=&]+)=([^&]*)", function(sep, k, v)
    if SECRET_PARAMS[k:lower()] then return sep .. k .. "=REDACTED" end
    return sep .. k .. "=" .. v
  end))
end
M.redact_url = redact_url

function Client:log(event)
  local log = self.opts.log
  if not log then return end
  if event.url then event.url = redact_url(event.url) end
  event.provider = self.provider
  pcall(log, event)
end

local function outgoing(self, req)
  req.headers = req.headers or {}
  local cookie = self.cookies:header(req.url)
  if cookie and not req.headers.Cookie then req.headers.Cookie = cookie end
  req.timeout = req.timeout or self.opts.timeout
  -- no request of a call (logins included) may outlive the call's deadline
  local calls = rawget(self, "_calls") -- self:context(), inline
  local ctx = calls and calls[running() or MAIN]
  if ctx then
    local left = ctx.deadline - self.clock()
    if left < 0.001 or left ~= left then left = 0.001 end -- math.max(0.001, left), NaN included
    if not req.timeout or req.timeout > left then req.timeout = left end
  end
  return self.opts.log ~= nil and core.now() or nil
end

local function incoming(self, req, t0, resp, err)
  local ms = t0 and (core.now() - t0) * 1000
  if not resp then
    self:log { event = "transport_error", method = req.method, url = req.url, ms = ms, message = err and err.message }
    return nil, err
  end
  local set = resp.headers and resp.headers["set-cookie"]
  if set then self.cookies:store(set, req.url) end -- Jar:store of no header does nothing
  if t0 then self:log { event = "response", method = req.method, url = req.url, status = resp.status, ms = ms } end
  return resp
end

--- Send a raw request through the transport (with the cookie jar), no decoding.
function Client:send(req)
  -- a dry run sends nothing at all, not even a login: the hooks put placeholders in its place
  if self.opts.dry_run then
    return nil, { kind = "dry_run", message = "dry run: " .. tostring(req.method) .. " " .. redact_url(tostring(req.url)) .. " not sent" }
  end
  local t0 = outgoing(self, req)
  return incoming(self, req, t0, self.transport(req))
end

--- Start a request without waiting (when the transport can): returns a
-- function that completes it like Client:send, or nil.
function Client:send_async(req)
  local start = self.transport.start
  if not start then return nil end
  local t0 = outgoing(self, req)
  local pending = start(req)
  if not pending then return nil end
  return function() return incoming(self, req, t0, pending:finish()) end
end

-- The call's wire format: a param marked selects_format (CenturyLink's {format} URL segment) may
-- ask for another of the catalog's formats per call; otherwise the client's format applies.
local function call_format(self, entry, values)
  local key = protocol.format_key(entry, snake)
  local v = key and values[key]
  if v ~= nil then
    v = tostring(v):lower()
    for _, f in ipairs(self.catalog.formats or {}) do if f == v then return v end end
  end
  return self.format
end

-- An entry's path template split once: literal parts around each {placeholder} (the same
-- pattern the path was filled with by gsub), what each placeholder is (the org id, the format
-- segment, a parameter) and its snake_case key. Per entry, weak: entries are catalog tables.
local path_plans = setmetatable({}, { __mode = "k" })
local function path_plan(entry, path)
  local t = path_plans[entry]
  if t and t.path == path then return t end
  t = { path = path, n = 0, lits = {}, phs = {}, keys = {}, kinds = {} }
  local fkey = protocol.format_key(entry, snake)
  local at = 1
  while true do
    local i, j, ph = path:find("{([^}]+)}", at)
    if not i then break end
    local n = t.n + 1
    t.n, t.lits[n], t.phs[n], t.keys[n] = n, path:sub(at, i - 1), ph, snake(ph)
    t.kinds[n] = (ph == "org-id" or ph == "orgId") and "org" or (fkey and snake(ph) == fkey) and "format" or "value"
    at = j + 1
  end
  t.lits[t.n + 1] = path:sub(at)
  path_plans[entry] = t
  return t
end

-- the org id as a path segment, encoded once per client (while it stays the same id)
local function org_segment(self)
  local org = tostring(self.org_id or "")
  if org == "{org-id}" then return org end -- a dry run's placeholder stays readable
  local memo = rawget(self, "_org_segment")
  if memo and memo[1] == org then return memo[2] end
  local enc = core.urlencode(org)
  rawset(self, "_org_segment", { org, enc })
  return enc
end

local function fill_path(self, entry, path, values, wire)
  if not path:find("{", 1, true) then return path end -- nothing to fill (ReliaCloud's ?command=...)
  local t = path_plan(entry, path)
  local n, lits, missing = t.n, t.lits, nil
  if n == 0 then return path end
  local parts = n > 2 and {} or nil
  local s1, s2
  for i = 1, n do
    local kind, s = t.kinds[i]
    if kind == "org" then
      s = org_segment(self)
    elseif kind == "format" then
      s = core.urlencode((self.catalog.format_segments or {})[wire] or wire)
    else
      local v = values[t.keys[i]]
      if v == nil then v = values[t.phs[i]] end
      if v == nil then missing = missing or t.phs[i]; s = "" else s = core.urlencode(tostring(v)) end
    end
    if parts then parts[2 * i - 1], parts[2 * i] = lits[i], s elseif i == 1 then s1 = s else s2 = s end
  end
  if missing then return nil, missing end
  if n == 1 then return lits[1] .. s1 .. lits[2] end
  if n == 2 then return lits[1] .. s1 .. lits[2] .. s2 .. lits[3] end
  parts[2 * n + 1] = lits[n + 1]
  return table.concat(parts)
end
M.fill_path = fill_path

-- Where an entry's path goes: the base URL a hook learned at login (c.base_url: Clodo's management
-- URL), else the endpoint; entry.endpoint = "auth" (the login itself) always goes to the endpoint.
local function base_of(self, entry)
  if entry.endpoint == "auth" then return self.endpoint end
  return rawget(self, "base_url") or self.endpoint -- rawget: a miss would run client_index every call
end

-- protocol.encode's options, per client and entry (a client's namespace is a function of the
-- entry): one table per call before, with the namespace string built each time
local NO_NS = { snake = snake }
local function encode_opts(self, entry)
  local nsf = rawget(self, "namespace")
  if not nsf then return NO_NS end
  local cache = rawget(self, "_encode_opts")
  if not cache or cache.fn ~= nsf then -- a namespace function set anew: the old options go
    cache = { fn = nsf, by = setmetatable({}, { __mode = "k" }) }
    rawset(self, "_encode_opts", cache)
  end
  local o = cache.by[entry]
  if not o then o = { snake = snake, ns = nsf(entry) }; cache.by[entry] = o end
  return o
end

--- Build the request of an entry from validated params. The call's wire format travels on the
-- request (req.format), never on the client: light threads may share one client.
-- req.path is the filled path, req.base the base URL it was put after (see Client:ready).
-- What build reads of an entry on every call, read once (entries are immutable data): the key of
-- the param that picks the format, the method, whether the path has placeholders (else it and
-- whether it is a full URL are fixed), the body style unless it is the call's format, and
-- whether protocol.encode would only add the body params to the query (protocol.plain).
local build_plans = setmetatable({}, { __mode = "k" })
local function build_plan(entry)
  local b = build_plans[entry]
  if b then return b end
  local path, body = entry.path, entry.body or "none"
  local fixed = not path:find("{", 1, true)
  b = { fkey = protocol.format_key(entry, snake), method = entry.send_method or entry.method or "GET", fixed = fixed,
        absolute = fixed and path:byte(1) ~= 47 and path:match("^https?://") ~= nil,
        style = body ~= "json|xml" and body ~= "xml|json" and body or nil, plain = protocol.plain(entry, snake) }
  build_plans[entry] = b
  return b
end

local add_query = protocol.add_query

-- a param's {name, value} pairs on a query list (protocol.add_query; a plain param inline)
local function to_query(query, list)
  for i = 1, #list do -- validate's arrays: numeric loops, no ipairs calls
    local p = list[i]
    if p.multi then add_query(query, p) else query[#query + 1] = { p.name, p.value } end
  end
end

function Client:build(entry, values, placement)
  local b = build_plans[entry] or build_plan(entry)
  local wire = b.fkey and call_format(self, entry, values) or self.format
  local path, base = entry.path, nil
  if b.fixed then
    if not b.absolute then base = base_of(self, entry) end
  else
    local missing
    path, missing = fill_path(self, entry, path, values, wire)
    if not path then
      return nil, self:error { kind = "validation", message = "missing required path parameter '" .. snake(missing) .. "'" }
    end
    -- a catalog path starts with "/" (no pattern match for those; Clodo's may be a full URL)
    base = not (path:byte(1) ~= 47 and path:match("^https?://")) and base_of(self, entry) or nil
  end
  local headers, query = {}, {}
  local accept = self.catalog.accept
  if accept then headers.Accept = accept[wire] end
  -- a GET that changes state: no cache on the way may answer it
  if entry.state_changing then headers["Cache-Control"] = "no-cache" end
  local ph = placement.header
  for i = 1, #ph do headers[ph[i].name] = tostring(ph[i].value) end
  to_query(query, placement.query)
  -- send_method (b.method): what is sent where the document allows two methods (a body on a GET is fragile)
  -- params and op (Client:template) sized in: set afterwards, they rehashed the table every call
  local req = { method = b.method, url = (base or "") .. path, path = path, base = base,
                headers = headers, query = query, timeout = self.opts.timeout or entry.timeout, format = wire,
                params = nil, op = nil }
  local style = b.style or wire
  if b.plain and (style == "query" or style == "none") then
    -- what protocol.encode does for these: the body params go to the query, and an operation
    -- without body params may still send a body in this format (CenturyLink: "{}")
    to_query(query, placement.body)
    local empty = style == "none" and self.catalog.empty_body
    empty = empty and empty[wire]
    if empty then
      req.body = empty
      headers["Content-Type"] = protocol.content_type(self.catalog, wire)
    end
    return req
  end
  local ok, err, param = protocol.encode(self.catalog, entry, style, wire, placement.body, req, encode_opts(self, entry))
  if not ok then return nil, self:error { kind = "validation", message = err, param = param } end
  return req
end

-- what req.query is once it is in the URL: one shared table (nothing adds to a sent request's
-- query; an attempt that tried would be a bug, so it is refused loudly rather than leaking
-- pairs into every later request)
local SENT_QUERY = setmetatable({}, { __newindex = function() error("req.query is already in req.url", 2) end })

local function finish_url(req)
  if #req.query == 0 then return end
  req.url = req.url .. (req.url:find("?", 1, true) and "&" or "?") .. core.query_encode(req.query)
  req.query = SENT_QUERY
end
M.finish_url = finish_url

-- dotted paths split once (bounded: M.get_path is public, so paths may come from callers)
local split_path = util.memo(util.split, 1024)

local list_cache = setmetatable({}, { __mode = "k" })
local function list_names(entry)
  local set = list_cache[entry]
  if set then return set end
  set = {}
  list_cache[entry] = set
  local r = entry.response or {}
  for _, l in ipairs(r.lists or {}) do set[l:match("([^%.]+)$")] = true end
  if r.items then set[r.items:match("([^%.]+)$")] = true end
  return set
end

--- Decode a response body into a table with the entry's lists as arrays.
function Client:decode_body(entry, resp, fmt)
  local body = resp.body or ""
  fmt = fmt or self.format
  local value, root
  -- decoder options built once per client and entry (hot path)
  local cache = self._decode_opts
  if not cache then cache = setmetatable({}, { __mode = "k" }); self._decode_opts = cache end
  local o = cache[entry]
  if not o then
    o = { lists = list_names(entry), lower = self.catalog.lower_names, max_size = self.opts.max_response }
    cache[entry] = o
  end
  local calls = rawget(self, "_calls") -- self:context(), inline
  local ctx = calls and calls[running() or MAIN]
  local filtered = false
  if ctx and ctx.filter and entry.response and entry.response.items then -- where/fields: applied while decoding
    local items = entry.response.items
    if fmt ~= "xml" and self.hooks.json_wrapped then items = "*." .. items end
    o = { lists = o.lists, lower = o.lower, max_size = o.max_size, filter = ctx.filter, items = items }
    filtered = true
  end
  if fmt == "xml" then
    value, root = core.xml_decode(body, o)
  else
    value, root = core.json_decode(body, o)
  end
  if value == nil then
    -- an answer of blanks alone is an empty table: both decoders refuse it, so it is looked for
    -- only after a refusal (a pattern match per call before)
    if body:match("^%s*$") then return {}, nil end
    return nil, self:error { kind = "decode", status = resp.status, message = "malformed response: " .. tostring(root) }
  end
  if filtered then ctx.filtered = true end
  return value, root
end

--- The lists, aliases and booleans an entry's answer promises: the one normaliser, protocol.normalize.
function Client:normalize(entry, value)
  return protocol.normalize(entry, value)
end

M.safe_to_repeat = retry.safe_to_repeat

-- an attempt needs at least this long to be worth starting before the deadline
local MIN_ATTEMPT = 0.05

--- Sleep before the next attempt unless the wait would end past the call's deadline.
-- The caller sees why through the log hook (event "retry") and opts.on_wait.
local function pause(self, ctx, attempt, err)
  local seconds, reason = retry.delay(self.opts, attempt, err)
  local left = ctx.deadline - self.clock()
  if seconds + MIN_ATTEMPT >= left then
    err.gave_up = "deadline"
    err.message = string.format("%s (not retried: %s of %gs, %gs left of the %gs deadline)", tostring(err.message),
      reason == "retry_after" and "the server asks for a wait" or "a backoff", seconds, math.max(0, left), ctx.limit)
    return false
  end
  local info = { event = "retry", op = ctx.op, attempt = attempt, reason = reason, seconds = seconds,
                 status = err.status, kind = err.kind, message = err.message }
  self:log(info)
  if type(self.opts.on_wait) == "function" then pcall(self.opts.on_wait, info) end
  self.sleep(seconds)
  return true
end

-- the longest URL sent (servers refuse far shorter ones; nginx's default is 8 KiB)
local MAX_URL = 256 * 1024

local function copy_request(t)
  -- the constructor sizes the table for a template's usual fields at once: filled one by one from
  -- {}, it was rehashed five times on every attempt
  -- a template has exactly the fields Client:build and Client:template give it (no pairs walk)
  -- headers: the request's own (outgoing adds a Cookie, prepare its auth headers); query: the
  -- template's list itself, read-only by contract: prepare replaces req.query (ReliaCloud) and never
  -- appends to it, finish_url replaces it (spec/percall_lua_spec.lua checks every provider's prepare)
  local th, headers = t.headers, {}
  if next(th) ~= nil then for k, v in pairs(th) do headers[k] = v end end
  return { method = t.method, url = t.url, path = t.path, base = t.base, timeout = t.timeout, format = t.format,
           body = t.body, params = t.params, op = t.op, headers = headers, query = t.query, idempotent = nil }
end

--- A request ready for the wire: hooks.prepare (signing, tokens) then the URL.
function Client:ready(entry, req_template)
  local req = copy_request(req_template)
  if self.hooks.prepare then
    local ok, err = self.hooks.prepare(self, entry, req, req_template.params)
    if not ok then return nil, err end
  end
  -- the base URL may be learned (a first login) or renewed by prepare: the URL follows it
  local base = req.base and base_of(self, entry)
  if base and base ~= req.base then req.url = base .. req.url:sub(#req.base + 1) end
  if #req.query > 0 then finish_url(req) end
  if #req.url > MAX_URL then -- libcurl answers "Out of memory" for a URL of a megabyte
    return nil, self:error { kind = "validation",
      message = string.format("the request URL would be %d bytes (at most %d): shorten the parameters", #req.url, MAX_URL) }
  end
  -- the transport never resends it otherwise (no reused connection); a catalog's `safe` inline
  local safe = entry.safe
  if safe == nil then req.idempotent = M.safe_to_repeat(entry, req) else req.idempotent = safe and true or false end
  return req
end

--- One attempt: build is done; prepare, send, decode.
function Client:attempt(entry, req_template)
  local req, err = self:ready(entry, req_template)
  if not req then return nil, err end
  if self.opts.dry_run then return { request = req, dry_run = true } end
  return self:receive(entry, self:send(req))
end

--- Decode what came back for an entry (or turn a transport failure into an err).
function Client:receive(entry, resp, terr)
  if not resp then return nil, retry.transport_error(self, terr) end
  local res, err
  if self.hooks.decode then
    res, err = self.hooks.decode(self, entry, resp)
  else
    res, err = M.default_decode(self, entry, resp)
  end
  if res == nil and type(err) == "table" and err.retry_after == nil then
    -- delta-seconds or an HTTP-date (RFC 9110 10.2.3); the hooks read only seconds
    local h = resp.headers
    err.retry_after = h and retry.retry_after(h["retry-after"], h["date"]) or nil
  end
  return res, err
end

--- Validate, build, prepare and start a call without waiting; returns a
-- function giving (result | nil, err), or nil when the transport cannot.
function Client:call_async(id, entry, params, f)
  if self.opts.dry_run or not self.transport.start then return nil end
  local ctx = enter(self, id, f)
  local template = self:template(id, entry, params)
  local req = template and self:ready(entry, template)
  local finish = req and self:send_async(req)
  leave(self, ctx)
  if not finish then return nil end
  return function()
    resume(self, ctx) -- the same context: what prepare kept there is there for decode
    local res, err = self:receive(entry, finish())
    if res == nil then retry.classify(self, entry, req, err) end
    if res ~= nil and f and not ctx.filtered then res = filter.apply(f, entry, res) end
    return leave(self, ctx, res, err)
  end
end

function M.default_decode(self, entry, resp)
  if resp.status >= 400 then
    return nil, self:error { kind = resp.status == 401 and "auth" or "http", status = resp.status, code = resp.status,
      message = (entry.errors and entry.errors[resp.status]) or ("HTTP " .. resp.status) }
  end
  local v, err = self:decode_body(entry, resp)
  if not v then return nil, err end
  return self:normalize(entry, v)
end

-- values that end up in the URL or a header: servers refuse lines much longer than this
local MAX_URL_VALUE = 65536

local function too_long(list, limit) -- not a closure in oversized: it runs on every call
  for i = 1, #list do -- numeric: ipairs is a C call per element, three lists a call
    local p = list[i]
    if type(p.value) == "string" and #p.value > limit then return p.name end
  end
end

local NO_PARAMS = validate.NO_PARAMS -- validate's shared empty list: nothing to look at
local function oversized(self, entry, placement)
  local limit = self.opts.max_param or MAX_URL_VALUE
  local q, h, b = placement.query, placement.header, placement.body
  local name = q ~= NO_PARAMS and too_long(q, limit) or h ~= NO_PARAMS and too_long(h, limit) or nil
  if not name and b ~= NO_PARAMS then
    local body = entry.body
    if body == nil or body == "none" or body == "query" then name = too_long(b, limit) end
  end
  local values = placement.values
  if not name and values ~= NO_PARAMS then
    for k, v in pairs(values) do
      if type(v) == "string" and #v > limit then name = k break end
    end
  end
  if name then
    return self:error { kind = "validation", param = name,
      message = string.format("parameter '%s' is longer than %d bytes (it travels in the URL or a header)", name, limit) }
  end
end

--- Validate the params of a call and build its request template (not yet prepared).
function Client:template(id, entry, params)
  local placement, verr = validate.check(self, id, entry, params)
  if not placement then return nil, verr end
  local big = oversized(self, entry, placement)
  if big then return nil, big end
  -- what the URL needs (an org id, a login) is known before it is built, so a retry resends the same request
  if self.hooks.before_build then
    local ok, herr = self.hooks.before_build(self, entry, params)
    if not ok then return nil, herr end
  end
  local req, berr = self:build(entry, placement.values, placement)
  if not req then return nil, berr end
  req.params = params or {} -- the caller's params, for hooks.prepare
  req.op = id
  return req
end

--- One attempt of an operation, in a context of its own, never repeated: a hook's login inside
-- another call goes the call's path (validate, build, prepare, send, decode) while the outer call
-- alone classifies and retries what fails, so each of its attempts sends one login.
function Client:once(id, params)
  local entry = self.catalog.operations[id]
  local ctx = enter(self, id)
  local req, err = self:template(id, entry, params)
  if not req then return leave(self, ctx, nil, err) end
  return leave(self, ctx, self:attempt(entry, req))
end

-- An auth error from a login (the catalog's entry marked login = true: the call itself, or the
-- login a hook sent inside it) means wrong credentials, not an expired session: logging in again
-- would send them once more for nothing, so no provider re-authenticates on it.
local function login_refused(self, entry, err)
  if entry.login then return true end
  local from = type(err.op) == "string" and self.catalog.operations[err.op]
  return from and from.login or false
end

local function call_in(self, ctx, id, entry, params)
  local req, terr = self:template(id, entry, params)
  if not req then
    if type(terr) == "table" then retry.classify(self, entry, { method = entry.method }, terr) end
    return nil, terr
  end
  local retries = self.opts.retries
  retries = retries ~= nil and tonumber(retries) or 2
  local reauthed = false
  local attempt = 0
  while true do
    attempt = attempt + 1
    local res, err = self:attempt(entry, req)
    if res ~= nil then return res end
    retry.classify(self, entry, req, err)
    if err.kind == "auth" and not reauthed and self.hooks.reauth and not login_refused(self, entry, err) then
      reauthed = true
      local ok, rerr = self.hooks.reauth(self, entry, err)
      if not ok then return nil, rerr or err end
      attempt = attempt - 1
    elseif not (err.retryable and attempt <= retries and pause(self, ctx, attempt, err)) then
      return nil, err
    end
  end
end

local function call_with(self, id, entry, params, f)
  local ctx = enter(self, id, f)
  local res, err = call_in(self, ctx, id, entry, params)
  if res ~= nil and f and not ctx.filtered then res = filter.apply(f, entry, res) end -- hooks that decode alone
  self._calls[ctx.key] = ctx.outer -- leave(), inline: its varargs cost about 1k a call
  return res, err
end

--- Call an operation by op id or documented name.
-- One deadline (opts.deadline, default twice opts.timeout) bounds every attempt, backoff and
-- Retry-After wait of the call.
-- opts: { where = predicate, fields = {paths} } keep only the matching items of a list, with only
-- those fields (docs/FILTERING.md); what the API filters itself is also sent (filter.push_down).
function Client:call(name, params, opts)
  if getmetatable(self) ~= CLIENT_MT then return nil, misuse("call") end
  -- an op id is its own index entry (index_of puts every id first): no index walk for those
  local id, entry = name, self.operations[name]
  if entry == nil then
    id, entry = self:resolve(name)
    if not id then return nil, entry end
  end
  if opts == nil then return call_with(self, id, entry, params) end
  local f, ferr = filter.compile(opts)
  if f == nil then return nil, self:error { kind = "validation", op = id, message = ferr } end
  if not f then return call_with(self, id, entry, params) end
  local pushed = opts.compiled and params or filter.push_down(self, entry, params, opts.where)
  local res, err = call_with(self, id, entry, pushed, f)
  if res == nil and pushed ~= params and filter.refused(err) then res, err = call_with(self, id, entry, params, f) end
  return res, err
end

local function get_path(t, path)
  for _, k in ipairs(split_path(path)) do
    if type(t) ~= "table" then return nil end
    t = t[k]
  end
  return t
end
M.get_path = get_path

--- Iterate over the items of a list operation across all pages.
-- Errors end the iteration and are raised as the error object (for loops
-- cannot return nil, err); use c:pages() to handle errors without raising.
function Client:each(name, params, opts)
  local pages = self:pages(name, params, opts)
  local items, i = nil, 0
  return function()
    while true do
      if items and i < #items then i = i + 1; return items[i] end
      local page, err = pages()
      if page == nil then
        if err then error(err, 2) end
        return nil
      end
      items, i = page.items, 0
    end
  end
end

--- Iterate over pages: each call returns { result = r, items = {...}, number = n } or nil[, err]
-- (err.page: the page that failed). The loop is luacloud.pager (core.pager in C under libcurl):
-- page n+1 is requested before page n is handed out, so the server works on it while the caller
-- consumes this one, and at most that page is held besides the one handed out. A failed
-- prefetch is sent again as a normal call (list operations are safe to repeat), so the retry
-- policy and re-authentication still apply.
function Client:pages(name, params, opts)
  if getmetatable(self) ~= CLIENT_MT then
    local err = misuse("pages")
    return function() return nil, err end
  end
  local id, entry = self:resolve(name)
  if not id then return function() return nil, entry end end
  local p = {}
  for k, v in pairs(params or {}) do p[k] = v end
  local f, ferr = false, nil
  if opts ~= nil then f, ferr = filter.compile(opts) end
  if f == nil then return function() return nil, self:error { kind = "validation", op = id, message = ferr } end end
  local d = pager.description(self.catalog, entry) or {}
  local bad = pager.bad_order(d, p)
  if bad then
    return function() return nil, self:error { kind = "validation", op = id, param = d.order_param,
      message = string.format("%s: '%s' is not one of %s (each may end in .DESCENDING)", d.order_param, bad,
        table.concat(d.order_by, ", ")) } end
  end
  local copts = f and { compiled = f } or nil -- compiled once for every page
  local unpushed = p
  if f then p = filter.push_down(self, entry, p, opts.where) end
  local number_key = d.number_param and d.number_param:lower()
  local first = 1
  for k, v in pairs(p) do
    if number_key and type(k) == "string" and k:lower():gsub("_", "") == number_key then first = tonumber(v) or 1 end
  end
  local function params_for(n)
    if n == first then return p end
    local q = {}
    for k, v in pairs(p) do
      if type(k) ~= "string" or k:lower():gsub("_", "") ~= number_key then q[k] = v end
    end
    q[d.number_param] = n
    return q
  end
  local t = self.transport
  return pager.new({ first = first, number = d.number, size = d.size, total = d.total, count = d.count,
    default_size = d.default_size, items = entry.response and entry.response.items,
    prefetch = self.opts.prefetch ~= false and t.start ~= nil and not self.opts.dry_run,
    start = function(n) return self:call_async(id, entry, params_for(n), f or nil) end,
    fetch = function(n)
      local res, err = self:call(id, params_for(n), copts)
      if res == nil and n == first and unpushed ~= p and filter.refused(err) then
        p = unpushed
        res, err = self:call(id, p, copts)
      end
      return res, err
    end,
  }, t.session == nil and rawget(_G, "ngx") ~= nil)
end

--- Several calls at once: c:batch({ {op, params}, ... }, concurrency) ->
-- { {result = r} | {err = e}, ... } in input order. Up to `concurrency`
-- (default 8) requests are on the wire together when the transport can start
-- requests early (libcurl multi, nginx light threads); a call that needs a
-- retry or a fresh login, or a transport that cannot, falls back to c:call.
function Client:batch(calls, concurrency)
  if getmetatable(self) ~= CLIENT_MT then return nil, misuse("batch") end
  if type(calls) ~= "table" then
    return nil, self:error { kind = "validation", op = "batch", message = "c:batch expects a list of {op, params}, got " .. type(calls) }
  end
  for i, c in ipairs(calls) do
    if type(c) ~= "table" or (c[2] ~= nil and type(c[2]) ~= "table") then
      return nil, self:error { kind = "validation", op = "batch",
        message = string.format("c:batch: call %d must be {op, params}, got %s", i, type(c) == "table" and "{op, " .. type(c[2]) .. "}" or type(c)) }
    end
  end
  if concurrency ~= nil and (type(concurrency) ~= "number" or concurrency ~= concurrency) then
    return nil, self:error { kind = "validation", op = "batch", message = "c:batch: concurrency must be a number, got " .. type(concurrency) }
  end
  local limit = math.max(1, concurrency or 8)
  local results, pending, entries = {}, {}, {}
  -- after a failed early send, the full path may send again only what is safe
  -- to repeat: refused logins, refused connections, or what the API did not apply
  local function may_repeat(_, e)
    if not e or e.kind == "validation" then return false end
    if e.kind == "auth" then return true end
    return e.retryable -- classified by the retry policy: safe to repeat, or not applied
  end
  local function settle(i)
    local finish = pending[i]
    pending[i] = nil
    local c = calls[i]
    local r, e
    if finish then r, e = finish() end
    if r == nil and (not finish or may_repeat(entries[i], e)) then
      r, e = self:call(c[1], c[2]) -- the full path: retries, re-login, validation errors
    end
    results[i] = r ~= nil and { result = r } or { err = e }
  end
  local first = 1
  for i, c in ipairs(calls) do
    local id, entry = self:resolve(c[1])
    entries[i] = id and entry or nil
    pending[i] = id and self:call_async(id, entry, c[2]) or false
    if i - first + 1 >= limit then
      settle(first)
      first = first + 1
    end
  end
  for i = first, #calls do settle(i) end
  return results
end

function Client:wait(target, opts)
  if getmetatable(self) ~= CLIENT_MT then return nil, misuse("wait") end
  if opts ~= nil and type(opts) ~= "table" then
    return nil, self:error { kind = "validation", op = "wait", message = "c:wait options must be a table, got " .. type(opts) }
  end
  return require("luacloud.wait").wait(self, target, opts)
end

function Client:close()
  if self.transport and self.transport.close then self.transport.close() end
end

local function client_index(self, k)
  local v = Client[k]
  if v ~= nil then return v end
  local ops = rawget(self, "operations")
  if type(k) == "string" and ops and ops[k] then
    local f = function(c, params, opts)
      if c ~= self then return nil, misuse(k) end
      return c:call(k, params, opts)
    end
    rawset(self, k, f)
    return f
  end
end

-- Under nginx, light threads of one worker share a client: when a session or
-- token has to be obtained, the first caller does it and the others wait for
-- its result instead of logging in again (one login per worker, not per request).
local AUTH_HOOKS = { "login", "logon", "discover_org" }
local unpack_ = table.unpack or unpack
local function pack(...) return { n = select("#", ...), ... } end

local function single_flight(name, fn)
  return function(c, ...)
    if not (ngx and ngx.sleep and ngx.get_phase) then return fn(c, ...) end
    c._flights = c._flights or {}
    local flight = c._flights[name]
    if flight then
      -- no longer than the waiting call's own deadline
      local ctx = c:context()
      local deadline = core.now() + (ctx and math.max(0, ctx.deadline - c.clock()) or (c.opts.timeout or 60) + 5)
      while not flight.res and core.now() < deadline do ngx.sleep(0.002) end
      if flight.res then return unpack_(flight.res, 1, flight.res.n) end
      return nil, c:error { kind = "timeout", op = name, message = "waited too long for another request's " .. name }
    end
    flight = {}
    c._flights[name] = flight
    local res = pack(pcall(fn, c, ...))
    c._flights[name] = nil
    if not res[1] then
      flight.res = pack(nil, c:error { kind = "transport", op = name, message = tostring(res[2]) })
      error(res[2], 0)
    end
    flight.res = pack(unpack_(res, 2, res.n))
    return unpack_(flight.res, 1, flight.res.n)
  end
end

local function guard_auth_hooks(hooks)
  if rawget(hooks, "_single_flight") then return end
  for _, name in ipairs(AUTH_HOOKS) do
    if type(hooks[name]) == "function" then hooks[name] = single_flight(name, hooks[name]) end
  end
  hooks._single_flight = true
end

CLIENT_MT.__index = client_index

-- option -> check of its value (a message part) for luacloud.new: wrong types are refused,
-- never coerced, so `timeout = "abc"` or `endpoint = 123` is an error naming the option
local function positive(v) return type(v) == "number" and v > 0 and v < math.huge, "a number of seconds > 0" end
local function nonneg_int(v) return math.type and math.type(v) == "integer" and v >= 0 or (type(v) == "number" and v >= 0 and v == math.floor(v) and v < math.huge), "an integer >= 0" end
local function str(v) return type(v) == "string" and v ~= "", "a non-empty string" end
local function bool(v) return type(v) == "boolean", "true or false" end
local function fn(v) return type(v) == "function", "a function" end
local function count_or_huge(v) return type(v) == "number" and v >= 0 and v == v, "a number >= 0" end
local OPTION_CHECKS = {
  timeout = positive, connect_timeout = positive, deadline = positive,
  retry_delay = function(v) return type(v) == "number" and v >= 0 and v < math.huge, "a number of seconds >= 0" end,
  retries = nonneg_int, max_response = function(v) return type(v) == "number" and v > 0 and v == math.floor(v), "an integer number of bytes > 0" end,
  max_param = nonneg_int, max_rate_wait = count_or_huge,
  endpoint = str, format = str, ca_file = str, proxy = str, user_agent = str,
  verify_tls = bool, dry_run = bool, follow_redirects = bool, prefetch = bool, use_curl = bool,
  log = fn, on_wait = fn, sleep = fn, clock = fn,
  transport = function(v) return type(v) == "function" or type(v) == "table", "a function or a transport table" end,
}

local function check_options(provider, opts)
  if type(opts) ~= "table" then
    return Error.new { kind = "validation", provider = provider, op = "new",
      message = "options must be a table, got " .. type(opts) .. " (luacloud.new(provider, { ... }))" }
  end
  for name, check in pairs(OPTION_CHECKS) do
    local v = opts[name]
    if v ~= nil then
      local ok, what = check(v)
      if not ok then
        if type(v) == "string" and #v > 40 then v = v:sub(1, 40) .. "..." end
        return Error.new { kind = "validation", provider = provider, op = "new", param = name,
          message = string.format("option '%s' must be %s, got %s", name, what,
            type(v) == "string" and string.format("%q", v) or tostring(v)) }
      end
    end
  end
end

--- luacloud.new(provider, opts) -> client | nil, err
function M.new(provider, opts)
  if opts == nil then opts = {} end
  if not providers.is(provider) then
    return nil, Error.new { kind = "validation", provider = tostring(provider),
      message = "unknown provider '" .. tostring(provider) .. "' (" .. providers.list() .. ")" }
  end
  local bad = check_options(provider, opts)
  if bad then return nil, bad end
  local mods = providers.modules(provider)
  local catalog = require(mods.catalog)
  local hooks = require(mods.hooks)
  guard_auth_hooks(hooks)
  local self = setmetatable({
    provider = provider, opts = opts, catalog = catalog, hooks = hooks,
    operations = catalog.operations,
    format = opts.format or catalog.default_format or "json",
  }, CLIENT_MT)
  -- the engine's own methods are looked up on every call: keep them on the client
  for k, v in pairs(Client) do self[k] = v end
  local fmts = catalog.formats or { self.format }
  local okfmt = false
  for _, f in ipairs(fmts) do okfmt = okfmt or f == self.format end
  if not okfmt then
    return nil, Error.new { kind = "validation", provider = provider,
      message = "format '" .. tostring(self.format) .. "' is not offered (" .. table.concat(fmts, ", ") .. ")" }
  end
  if opts.transport then
    self.transport = type(opts.transport) == "function" and setmetatable({}, { __call = function(_, req) return opts.transport(req) end })
                     or opts.transport
  elseif ngx and ngx.socket and opts.use_curl ~= true then
    self.transport = require("luacloud.transport.ngx").new(opts)
  else
    self.transport = require("luacloud.transport.curl").new(opts)
  end
  self.sleep = opts.sleep or self.transport.sleep or core.sleep
  self.clock = opts.clock or core.now
  self.cookies = Jar.new(self.clock)
  local ok, err = hooks.init(self)
  if not ok then return nil, err end
  if opts.dry_run and not self.org_id and hooks.discover_org then self.org_id = "{org-id}" end
  if self.endpoint then self.endpoint = self.endpoint:gsub("/+$", "") end
  return self
end

M.Client = Client
return M
