-- luacloud.sim: the simulator host.
--
-- One host serves every provider simulator under its own path prefix and offers an admin
-- interface under /_sim/.  It is independent of nginx: `host:handle(...)` returns the
-- response and an `action` table that tells the transport adapter (lua/luacloud/sim/nginx.lua,
-- or an in-process transport) what to do at the connection level:
--
--   action.delay_ms   sleep this long before answering (latency option + "delay" faults)
--   action.drop       close the connection without answering (nginx: ngx.exit(444))
--   action.truncate   the body is cut in half while Content-Length announces the full
--                     length: send it, then close the connection
--   action.fault      the kind of fault applied to this request, if any
--   action.error      an error raised by a simulator (the host answered 500), for logging
--
-- Admin interface (JSON in and out; arguments from the query string or a JSON object body):
--   GET    /_sim/info                      endpoints, credentials, availability of every provider
--   POST   /_sim/reset[?provider=x]        reset the simulator(s) and clear their faults
--   POST   /_sim/seed?provider=x&kind=k&n=N  sim:seed(kind, n)
--   POST   /_sim/fault  {provider, kind, count, ms, method, path}   queue a fault
--   GET    /_sim/fault                     list the queued faults
--   DELETE /_sim/fault[?provider=x]        clear faults
-- Fault kinds: delay (ms), drop, truncate, malformed, http503 (a proxy's 503 page),
-- maintenance and rate_limit (the API's own answer from sim:fault(kind)).  count: how many
-- of the next matching requests (default 1, 0 = until cleared).  drop, http503, maintenance
-- and rate_limit do not reach the simulator; the others alter its answer.
-- expired_session: the simulator's sessions/tokens expire (sim:expire_sessions()) before the
-- request reaches it, so its own auth check answers; a simulator without sessions (Basic auth)
-- answers sim:fault("expired_session"), its refusal of the credentials.
--
-- Lua 5.1-compatible (runs under nginx's LuaJIT and under Lua 5.4).


local M = {}

-- The cloud APIs this project simulates, in a fixed order (the provider registry).
local registry = require("luacloud.providers")
M.KNOWN = registry.names

-- Where each API lives below the host's base URL (the registry's sim paths, plus the echo provider).
M.ENDPOINTS = {
  echo = {
    path = "/echo",
    note = "diagnostic: answers a JSON echo of the request; ?status=N sets the status",
  },
}
for _, name in ipairs(registry.names) do M.ENDPOINTS[name] = registry.info[name].sim end

M.FAULT_KINDS = {
  delay = true, drop = true, truncate = true, malformed = true,
  http503 = true, maintenance = true, rate_limit = true, expired_session = true,
}

---------------------------------------------------------------------------------------------
-- Minimal JSON (the admin interface must work without the C core)
---------------------------------------------------------------------------------------------

local util = require("luacloud.sim.util")
M.array_mt = util.array_mt
local array = util.array
M.array = array

local is_array = util.is_array

local encode_value

local function encode_number(v)
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  if v == math.floor(v) and v > -1e15 and v < 1e15 then
    return string.format("%.0f", v)
  end
  return string.format("%.17g", v)
end

function encode_value(v, out, depth)
  local t = type(v)
  if t == "nil" then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif t == "number" then
    out[#out + 1] = encode_number(v)
  elseif t == "string" then
    out[#out + 1] = util.json_string(v)
  elseif t == "table" then
    if depth > 64 then error("json: nesting too deep", 0) end
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_value(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        local tk = type(k)
        if tk ~= "string" and tk ~= "number" then
          error("json: cannot encode a key of type " .. tk, 0)
        end
        keys[#keys + 1] = tostring(k)
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        encode_value(k, out, depth + 1)
        out[#out + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        encode_value(val, out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  elseif t == "userdata" and type(package.loaded["luacloud.core"]) == "table"
    and v == package.loaded["luacloud.core"].null then
    out[#out + 1] = "null"
  else
    error("json: cannot encode a " .. t, 0)
  end
end

--- Encodes a Lua value as JSON (object keys sorted). Raises on unencodable values.
function M.json_encode(v)
  local out = {}
  encode_value(v, out, 0)
  return table.concat(out)
end

local function utf8_char(cp)
  if cp < 0x80 then
    return string.char(cp)
  elseif cp < 0x800 then
    return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40)
  elseif cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40,
      0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

--- Decodes JSON. Returns the value, or nil and a message. JSON null becomes nil
--- (inside arrays and objects the entry is left out).
function M.json_decode(s)
  if type(s) ~= "string" then return nil, "json: expected a string" end
  local pos = 1
  local function fail(msg)
    error({ json = "json: " .. msg .. " at byte " .. pos }, 0)
  end
  local function skip()
    pos = s:find("[^ \t\r\n]", pos) or (#s + 1)
  end
  local value
  local function str()
    pos = pos + 1
    local parts = {}
    while true do
      local a = s:find('["\\%c]', pos)
      if not a then fail("unterminated string") end
      parts[#parts + 1] = s:sub(pos, a - 1)
      local c = s:sub(a, a)
      if c == '"' then
        pos = a + 1
        return table.concat(parts)
      elseif c == "\\" then
        local e = s:sub(a + 1, a + 1)
        local simple = ({ ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
          n = "\n", r = "\r", t = "\t" })[e]
        if simple then
          parts[#parts + 1] = simple
          pos = a + 2
        elseif e == "u" then
          local hex = s:match("^%x%x%x%x", a + 2)
          if not hex then pos = a; fail("bad \\u escape") end
          local cp = tonumber(hex, 16)
          pos = a + 6
          if cp >= 0xD800 and cp <= 0xDBFF then
            local lo = s:match("^\\u(%x%x%x%x)", pos)
            lo = lo and tonumber(lo, 16)
            if lo and lo >= 0xDC00 and lo <= 0xDFFF then
              cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
              pos = pos + 6
            end
          end
          parts[#parts + 1] = utf8_char(cp)
        else
          pos = a
          fail("bad escape")
        end
      elseif c == "\127" then
        parts[#parts + 1] = c -- DEL is allowed raw in JSON strings
        pos = a + 1
      else
        pos = a
        fail("control character in string")
      end
    end
  end
  function value(depth)
    if depth > 64 then fail("nesting too deep") end
    skip()
    local c = s:sub(pos, pos)
    if c == "{" then
      pos = pos + 1
      local obj = {}
      skip()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return obj end
      while true do
        skip()
        if s:sub(pos, pos) ~= '"' then fail("expected a string key") end
        local k = str()
        skip()
        if s:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        obj[k] = value(depth + 1)
        skip()
        c = s:sub(pos, pos)
        pos = pos + 1
        if c == "}" then return obj end
        if c ~= "," then pos = pos - 1; fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      pos = pos + 1
      local arr = array()
      skip()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return arr end
      local n = 0
      while true do
        n = n + 1
        arr[n] = value(depth + 1)
        skip()
        c = s:sub(pos, pos)
        pos = pos + 1
        if c == "]" then return arr end
        if c ~= "," then pos = pos - 1; fail("expected ',' or ']'") end
      end
    elseif c == '"' then
      return str()
    elseif s:find("^true", pos) then
      pos = pos + 4; return true
    elseif s:find("^false", pos) then
      pos = pos + 5; return false
    elseif s:find("^null", pos) then
      pos = pos + 4; return nil
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      local v = num and tonumber(num)
      if not v then fail("unexpected character") end
      pos = pos + #num
      return v
    end
  end
  local ok, res = pcall(function()
    local v = value(0)
    skip()
    if pos <= #s then fail("trailing garbage") end
    return v
  end)
  if ok then return res end
  if type(res) == "table" and res.json then return nil, res.json end
  return nil, "json: " .. tostring(res)
end

---------------------------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------------------------

local function parse_query(q)
  local t = {}
  for _, kv in ipairs(util.query_pairs((q:gsub("^%?", "")))) do
    t[kv[1]] = kv[2] == true and "" or kv[2]
  end
  return t
end
M.parse_query = parse_query

local function json_response(status, tbl, extra_headers)
  local body = M.json_encode(tbl) .. "\n"
  local h = { ["Content-Type"] = "application/json" }
  if extra_headers then
    for k, v in pairs(extra_headers) do h[k] = v end
  end
  return status, h, body
end

local function json_error(status, msg, extra_headers)
  return json_response(status, { error = msg, status = status }, extra_headers)
end

-- Removes every spelling of a header name from a response header table.
local function remove_header(h, name)
  local lname = name:lower()
  for k in pairs(h) do
    if type(k) == "string" and k:lower() == lname then h[k] = nil end
  end
end

local function copy_headers(h)
  local out = {}
  if type(h) == "table" then
    for k, v in pairs(h) do out[k] = v end
  end
  return out
end

local normalize_headers = util.lower_headers

local function to_count(v, default)
  if v == nil or v == "" then return default end
  local n = tonumber(v)
  if not n or n < 0 or n ~= math.floor(n) then return nil end
  return n
end

---------------------------------------------------------------------------------------------
-- The built-in diagnostic "echo" provider
---------------------------------------------------------------------------------------------

local echo = {}

function echo.new()
  local sim = { credentials = {}, requests = 0 }
  function sim.handle(self, req)
    self.requests = self.requests + 1
    local q = req.path:match("%?(.*)$") or ""
    local params = parse_query(q)
    local status = tonumber(params.status) or 200
    return json_response(status, {
      method = req.method,
      path = req.path,
      headers = req.headers,
      body = req.body,
      count = self.requests,
    })
  end
  function sim.reset(self) self.requests = 0 end
  function sim.seed() error("the echo provider has nothing to seed", 0) end
  return sim
end

M.echo = echo

---------------------------------------------------------------------------------------------
-- The host
---------------------------------------------------------------------------------------------

local Host = {}
Host.__index = Host

--- Creates a host.
-- opts.providers: nil (every known provider) or a table. Array items are provider names
--   (loaded from luacloud.sim.<name>); keyed items map a name to `true` (load by name), a
--   module name string, a module table (with `new`) or a ready simulator (with `handle`).
-- opts.echo: false disables the built-in /echo diagnostic provider.
-- opts.now: function returning seconds (float), handed to the simulators (default os.time).
-- opts.base_url: the server root as clients see it ("http://127.0.0.1:8080"), for /_sim/info
--   and the simulators' own base_url (base_url .. "/" .. provider).
-- opts.latency_ms: added delay of every provider request (action.delay_ms).
-- opts.ca_file: reported by /_sim/info (the CA that signed the TLS certificate).
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({
    now = opts.now or os.time,
    base_url = opts.base_url and tostring(opts.base_url):gsub("/+$", "") or nil,
    latency_ms = tonumber(opts.latency_ms) or 0,
    ca_file = opts.ca_file,
    order = {},
    entries = {},
    faults = {},
    fault_seq = 0,
  }, Host)

  local function add(name, spec)
    if type(name) ~= "string" or not name:match("^[%w_%-]+$") or name == "_sim" then
      error("luacloud.sim: bad provider name " .. tostring(name), 3)
    end
    local entry = { name = name, modname = "luacloud.sim." .. name }
    if type(spec) == "string" then
      entry.modname = spec
    elseif type(spec) == "table" then
      if type(spec.handle) == "function" then
        entry.sim = spec
      elseif type(spec.new) == "function" then
        entry.module = spec
      else
        error("luacloud.sim: provider " .. name .. " needs a module with new() or a simulator with handle()", 3)
      end
    end
    if not self.entries[name] then self.order[#self.order + 1] = name end
    self.entries[name] = entry
  end

  local providers = opts.providers
  if providers == nil then
    for _, name in ipairs(M.KNOWN) do add(name, true) end
  else
    for _, name in ipairs(providers) do add(name, true) end
    local named = {}
    for k in pairs(providers) do
      if type(k) == "string" then named[#named + 1] = k end
    end
    table.sort(named)
    for _, k in ipairs(named) do add(k, providers[k]) end
  end
  if opts.echo ~= false and not self.entries.echo then
    add("echo", echo)
    self.entries.echo.diagnostic = true
  end
  return self
end

--- Names of the configured providers, in order.
function Host:providers()
  local out = {}
  for i, n in ipairs(self.order) do out[i] = n end
  return out
end

--- The simulator of a provider, loaded on first use.
-- Returns sim, or nil, message, http_status (404: unknown or missing module, 500: broken).
function Host:sim(name)
  local entry = self.entries[name]
  if not entry then return nil, "unknown provider '" .. tostring(name) .. "'", 404 end
  if entry.sim then return entry.sim end
  -- A failed require leaves a sentinel behind (Lua 5.1/LuaJIT): every later require then
  -- says "loop or previous error", so the first error is kept and repeated instead.
  if entry.load_error then return nil, entry.load_error, entry.load_status end
  local mod = entry.module
  if not mod then
    local ok, res = pcall(require, entry.modname)
    if not ok then
      res = tostring(res)
      if type(package.loaded[entry.modname]) ~= "table" then package.loaded[entry.modname] = nil end
      if res:find("module '" .. entry.modname .. "' not found", 1, true) then
        entry.load_error = "the simulator of provider '" .. name .. "' is not available (no module "
          .. entry.modname .. ")"
        entry.load_status = 404
      else
        entry.load_error = "the simulator of provider '" .. name .. "' failed to load: " .. res
        entry.load_status = 500
      end
      return nil, entry.load_error, entry.load_status
    end
    if type(res) ~= "table" or type(res.new) ~= "function" then
      return nil, "module " .. entry.modname .. " does not return { new = function }", 500
    end
    mod = res
  end
  local ok, sim = pcall(mod.new, {
    now = self.now,
    base_url = self.base_url and (self.base_url .. "/" .. name) or nil,
  })
  if not ok or type(sim) ~= "table" or type(sim.handle) ~= "function" then
    return nil, "the simulator of provider '" .. name .. "' failed to start: "
      .. tostring(ok and "new() did not return a simulator" or sim), 500
  end
  entry.sim = sim
  return sim
end

-- Faults ----------------------------------------------------------------------------------

local function fault_view(f)
  return { id = f.id, provider = f.provider, kind = f.kind, count = f.count,
    remaining = f.count > 0 and f.remaining or nil, ms = f.ms, method = f.method, path = f.path }
end

--- Adds a fault. spec = { provider = name|nil (all), kind = ..., count = N (0: until
--- cleared, default 1), ms = N (delay), method = "POST" (only requests with this method),
--- path = "text" (only requests whose path below the provider prefix, query included,
--- contains this text) }. Returns the fault view or nil, message.
function Host:add_fault(spec)
  if type(spec) ~= "table" then return nil, "fault: expected an object" end
  local kind = spec.kind
  if not M.FAULT_KINDS[kind] then
    return nil, "fault: unknown kind " .. tostring(kind)
      .. " (delay, drop, truncate, malformed, http503, maintenance, rate_limit, expired_session)"
  end
  local provider = spec.provider
  if provider == "" or provider == "*" then provider = nil end
  if provider ~= nil and not self.entries[provider] then
    return nil, "fault: unknown provider " .. tostring(provider)
  end
  local count = to_count(spec.count, 1)
  if not count then return nil, "fault: count must be an integer >= 0" end
  local ms
  if kind == "delay" then
    ms = tonumber(spec.ms)
    if not ms or ms < 0 then return nil, "fault: a delay needs ms >= 0" end
  end
  local method, path = spec.method, spec.path
  if method == "" then method = nil end
  if path == "" then path = nil end
  if method ~= nil and type(method) ~= "string" then return nil, "fault: method must be a string" end
  if path ~= nil and type(path) ~= "string" then return nil, "fault: path must be a string" end
  self.fault_seq = self.fault_seq + 1
  local f = { id = self.fault_seq, provider = provider, kind = kind, count = count,
    remaining = count, ms = ms, method = method and method:upper(), path = path }
  self.faults[#self.faults + 1] = f
  return fault_view(f)
end

--- Removes the faults of one provider (those scoped to it) or all. Returns how many.
function Host:clear_faults(provider)
  local kept, n = {}, 0
  for _, f in ipairs(self.faults) do
    if provider == nil or f.provider == provider then
      n = n + 1
    else
      kept[#kept + 1] = f
    end
  end
  self.faults = kept
  return n
end

function Host:list_faults()
  local out = array()
  for i, f in ipairs(self.faults) do out[i] = fault_view(f) end
  return out
end

-- Takes (consumes one use of) the first fault that applies to a request.
function Host:take_fault(provider, method, path)
  for i, f in ipairs(self.faults) do
    if (f.provider == nil or f.provider == provider)
      and (f.method == nil or f.method == method)
      and (f.path == nil or (path and path:find(f.path, 1, true))) then
      if f.count > 0 then
        f.remaining = f.remaining - 1
        if f.remaining <= 0 then table.remove(self.faults, i) end
      end
      return f
    end
  end
  return nil
end

-- Admin -------------------------------------------------------------------------------------

--- What /_sim/info answers.
function Host:info()
  local base = self.base_url or ""
  local info = {
    base_url = self.base_url,
    ca_file = self.ca_file,
    latency_ms = self.latency_ms,
    endpoints = {},
    credentials = {},
    diagnostics = {},
    providers = {},
    faults = self:list_faults(),
  }
  for _, name in ipairs(self.order) do
    local doc = M.ENDPOINTS[name] or { path = "/" .. name }
    local p = { path = doc.path, endpoint = base .. doc.path, note = doc.note }
    if doc.management_path then
      p.auth_url = base .. doc.auth_path
      p.management_url = base .. doc.management_path
    end
    local sim, err = self:sim(name)
    p.available = sim ~= nil
    p.error = err
    if sim then
      p.credentials = type(sim.credentials) == "table" and sim.credentials or {}
      if self.entries[name].diagnostic then
        info.diagnostics[name] = p.endpoint
      else
        info.endpoints[name] = p.endpoint
        info.credentials[name] = p.credentials
      end
    end
    info.providers[name] = p
  end
  return info
end

local ADMIN = {}

ADMIN.info = { GET = function(self)
  local ok, body = pcall(M.json_encode, self:info())
  if not ok then return json_error(500, "info: " .. tostring(body)) end
  return 200, { ["Content-Type"] = "application/json" }, body .. "\n"
end }

ADMIN.reset = { POST = function(self, args)
  local name = args.provider
  local names = {}
  if name and name ~= "" then
    if not self.entries[name] then return json_error(404, "unknown provider " .. name) end
    names[1] = name
  else
    name = nil
    names = self:providers()
  end
  local done = array()
  for _, n in ipairs(names) do
    local entry = self.entries[n]
    if entry.sim and type(entry.sim.reset) == "function" then
      local ok, err = pcall(entry.sim.reset, entry.sim)
      if not ok then return json_error(500, "reset " .. n .. ": " .. tostring(err)) end
    end
    done[#done + 1] = n
  end
  local cleared = self:clear_faults(name)
  return json_response(200, { ok = true, reset = done, faults_cleared = cleared })
end }

ADMIN.seed = { POST = function(self, args)
  local name, kind = args.provider, args.kind
  if not name or name == "" then return json_error(400, "seed: provider is required") end
  if not kind or kind == "" then return json_error(400, "seed: kind is required") end
  local n = to_count(args.n, 1)
  if not n then return json_error(400, "seed: n must be an integer >= 0") end
  local sim, err, status = self:sim(name)
  if not sim then return json_error(status, err) end
  if type(sim.seed) ~= "function" then
    return json_error(501, "seed: provider " .. name .. " cannot be seeded")
  end
  local ok, res = pcall(sim.seed, sim, kind, n)
  if not ok then return json_error(400, "seed " .. name .. " " .. kind .. ": " .. tostring(res)) end
  local out = { ok = true, provider = name, kind = kind, n = n }
  if res ~= nil and pcall(M.json_encode, res) then out.result = res end
  return json_response(200, out)
end }

ADMIN.fault = {
  POST = function(self, args)
    local f, err = self:add_fault(args)
    if not f then return json_error(400, err) end
    return json_response(200, { ok = true, fault = f, faults = self:list_faults() })
  end,
  GET = function(self)
    return json_response(200, { faults = self:list_faults() })
  end,
  DELETE = function(self, args)
    local name = args.provider
    if name == "" then name = nil end
    if name and not self.entries[name] then return json_error(404, "unknown provider " .. name) end
    local n = self:clear_faults(name)
    return json_response(200, { ok = true, cleared = n, faults = self:list_faults() })
  end,
}

function Host:admin(method, rest, query, body)
  local what = rest:match("^/([%w_]+)/?$")
  local route = what and ADMIN[what]
  if not route then return json_error(404, "unknown admin path /_sim" .. rest) end
  local fn = route[method]
  if method == "HEAD" and route.GET then fn = route.GET end
  if not fn then
    local allow = {}
    for m in pairs(route) do allow[#allow + 1] = m end
    table.sort(allow)
    return json_error(405, "method " .. method .. " not allowed on /_sim/" .. what,
      { Allow = table.concat(allow, ", ") })
  end
  -- Arguments: the query string, overridden by a JSON object body.
  local args = parse_query(query)
  if body and body:find("%S") then
    local obj, err = M.json_decode(body)
    if type(obj) ~= "table" then
      return json_error(400, "expected a JSON object body: " .. tostring(err or "not an object"))
    end
    for k, v in pairs(obj) do args[k] = v end
  end
  return fn(self, args)
end

-- Provider requests -----------------------------------------------------------------------

local HTTP503_BODY = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
  .. "<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n"

-- The API's own maintenance / rate-limit answer, or a generic one if the sim has none.
local function sim_fault(sim, kind)
  if type(sim.fault) == "function" then
    local ok, status, h, body = pcall(sim.fault, sim, kind)
    if ok and status then return status, h or {}, body or "" end
  end
  if kind == "rate_limit" then
    return 429, { ["Content-Type"] = "text/plain", ["Retry-After"] = "1" },
      "Too many requests\n"
  end
  return 503, { ["Content-Type"] = "text/plain", ["Retry-After"] = "60" },
    "Service unavailable: scheduled maintenance\n"
end

local GARBAGE = "\0\255<<]]}}\"\\\1garbage"

-- Cuts a body and appends bytes that no XML or JSON parser accepts.
function M.corrupt(body)
  local keep = math.floor(#body * 2 / 3)
  return body:sub(1, keep) .. GARBAGE
end

--- Handles one request.
-- method, path ("/provider/...?query"; a full URL is accepted too), headers (any case),
-- body (string or nil).  Returns status, headers, body, action (see the top of this file).
function Host:handle(method, path, headers, body)
  method = tostring(method or "GET"):upper()
  path = tostring(path or "/")
  path = path:gsub("^[%a][%w+.-]*://[^/?]*", "")
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  body = body and tostring(body) or ""
  local action = {}

  local p, q = path:match("^([^?]*)(.*)$")
  local seg, rest = p:match("^/([^/]*)(.*)$")

  local status, rh, rb
  if seg == "_sim" then
    status, rh, rb = self:admin(method, rest, q, body)
  elseif seg == "" then
    status, rh, rb = ADMIN.info.GET(self)
  elseif not self.entries[seg] then
    status, rh, rb = json_error(404, "unknown provider '" .. seg .. "' (providers: "
      .. table.concat(self.order, ", ") .. ")")
  else
    status, rh, rb = self:provider_request(seg, method, (rest == "" and "/" or rest) .. q,
      normalize_headers(headers), body, action)
  end

  rh = copy_headers(rh)
  rb = rb == nil and "" or tostring(rb)
  if not action.truncate then
    remove_header(rh, "Content-Length")
    rh["Content-Length"] = tostring(#rb)
  end
  return status, rh, rb, action
end

function Host:provider_request(name, method, path, headers, body, action)
  if self.latency_ms > 0 then action.delay_ms = self.latency_ms end

  local f = self:take_fault(name, method, path)
  local kind = f and f.kind
  action.fault = kind

  if kind == "drop" then
    action.drop = true
    return 444, {}, ""
  elseif kind == "http503" then
    return 503, { ["Content-Type"] = "text/html" }, HTTP503_BODY
  end

  local sim, err, st = self:sim(name)
  if not sim then return json_error(st, err) end

  if kind == "maintenance" or kind == "rate_limit" then
    return sim_fault(sim, kind)
  end
  if kind == "expired_session" then
    if type(sim.expire_sessions) ~= "function" then return sim_fault(sim, kind) end
    sim:expire_sessions()
  end

  local ok, status, rh, rb = pcall(sim.handle, sim,
    { method = method, path = path, headers = headers, body = body })
  if not ok then
    action.error = tostring(status)
    return json_error(500, "simulator " .. name .. " failed: " .. tostring(status))
  end
  if type(status) ~= "number" then
    action.error = "simulator " .. name .. " returned no status"
    return json_error(500, action.error)
  end
  rh = copy_headers(rh)
  rb = rb == nil and "" or tostring(rb)

  if kind == "delay" then
    action.delay_ms = (action.delay_ms or 0) + f.ms
  elseif kind == "truncate" then
    action.truncate = true
    remove_header(rh, "Content-Length")
    rh["Content-Length"] = tostring(#rb)
    rb = rb:sub(1, math.floor(#rb / 2))
  elseif kind == "malformed" then
    rb = M.corrupt(rb)
  end
  return status, rh, rb
end

M.Host = Host

return M
