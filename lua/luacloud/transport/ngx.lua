--- The transport inside nginx: non-blocking HTTP/1.1 over cosockets
-- (ngx.socket.tcp), TLS through sslhandshake (verification against
-- lua_ssl_trusted_certificate), chunked and gzip bodies, keep-alive pools.
-- Same interface as transport/curl.lua: t(req) -> resp | nil, err; t.batch;
-- t.start(req):finish(); t.sleep. The C core still signs, builds and decodes.
local core = require "luacloud.core"

local M = {}

-- phases where cosockets (and ngx.sleep) may run
local YIELDABLE = { rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
                    ssl_session_fetch = true, ssl_client_hello = true, preread = true, balancer = false }

local function phase_error()
  local phase = ngx.get_phase()
  if YIELDABLE[phase] then return nil end
  return { kind = "phase", message = "nginx cosockets cannot run in the '" .. tostring(phase)
    .. "' phase: call luacloud from rewrite/access/content or an ngx.timer, or create the client with use_curl = true (blocks the worker)" }
end
M.phase_error = phase_error

local function parse_url(url)
  local scheme, host, port, path = url:match("^([Hh][Tt][Tt][Pp][Ss]?)://([^/:?#]+):?(%d*)([^#]*)$")
  if not scheme then return nil end
  if host:sub(1, 1) == "[" then return nil end
  scheme = scheme:lower()
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if path == "" then path = "/" elseif path:sub(1, 1) == "?" then path = "/" .. path end
  return scheme, host, port, path
end

local function read_headers(sock)
  local status_line, err, partial = sock:receive("*l")
  if not status_line then return nil, err, partial or "" end
  local status = tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then return nil, "bad status line" end
  local headers = {}
  while true do
    local line, lerr = sock:receive("*l")
    if not line then return nil, lerr end
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then
      k = k:lower()
      if headers[k] then
        headers[k] = headers[k] .. (k == "set-cookie" and "\n" or ", ") .. v
      else
        headers[k] = v
      end
    end
  end
  return status, headers
end

local function read_chunked(sock, max)
  local parts, total = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "bad chunk size" end
    if size == 0 then
      repeat line, err = sock:receive("*l") until not line or line == ""
      if not line then return nil, err end
      break
    end
    total = total + size
    if total > max then return nil, "too_large" end
    local data, derr = sock:receive(size)
    if not data then return nil, derr end
    parts[#parts + 1] = data
    local crlf, cerr = sock:receive(2)
    if not crlf then return nil, cerr end
  end
  return table.concat(parts)
end

local function read_body(sock, status, headers, method, max)
  if method == "HEAD" or status == 204 or status == 304 or (status >= 100 and status < 200) then return "", true end
  local te = headers["transfer-encoding"]
  if te and te:lower():find("chunked", 1, true) then
    local body, err = read_chunked(sock, max)
    return body, body ~= nil, err
  end
  local len = tonumber(headers["content-length"])
  if len then
    if len > max then return nil, false, "too_large" end
    if len == 0 then return "", true end
    local body, err, partial = sock:receive(len)
    if not body then return nil, false, err == "closed" and ("connection closed after " .. #(partial or "") .. " of " .. len .. " bytes") or err end
    return body, true
  end
  -- no length: read until the server closes
  local body, err = sock:receive("*a")
  if not body then return nil, false, err end
  if #body > max then return nil, false, "too_large" end
  return body, false
end

local function classify(err)
  err = tostring(err)
  if err == "timeout" then return "timeout" end
  if err == "too_large" then return "too_large" end
  if err:find("refused", 1, true) or err:find("no resolver", 1, true) or err:find("could not be resolved", 1, true) then return "connect" end
  if err:find("handshake", 1, true) or err:find("certificate", 1, true) or err:find("ssl", 1, true) then return "tls" end
  return "transport"
end

local function fail(kind_or_err, message)
  local kind = classify(kind_or_err)
  return nil, { kind = kind, message = message or (kind == "too_large" and "response exceeds max_response" or tostring(kind_or_err)) }
end

-- The engine says in req.idempotent whether the request may be sent again
-- once it may have reached the server; without it, the HTTP method decides.
local function idempotent(req)
  if req.idempotent ~= nil then return req.idempotent and true or false end
  local m = req.method or "GET"
  return m ~= "POST" and m ~= "PATCH"
end

local function request_text(host, port, scheme, path, opts, req)
  local lines = { (req.method or "GET") .. " " .. path .. " HTTP/1.1",
                  "Host: " .. host .. ((port == 80 and scheme == "http") and "" or (port == 443 and scheme == "https") and "" or (":" .. port)),
                  "Accept-Encoding: gzip", "User-Agent: " .. (opts.user_agent or ("luacloud/" .. core.version .. " ngx")) }
  local body = req.body
  for k, v in pairs(req.headers or {}) do
    if tostring(k):find("[\r\n:]") or tostring(v):find("[\r\n]") then
      return nil, "header '" .. tostring(k) .. "' contains a line break or colon"
    end
    lines[#lines + 1] = k .. ": " .. v
  end
  if body or (req.method and req.method ~= "GET" and req.method ~= "HEAD") then
    lines[#lines + 1] = "Content-Length: " .. #(body or "")
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = body or ""
  return table.concat(lines, "\r\n")
end

-- One exchange on one connection. `fresh`: a new connection that goes back to
-- no pool, so it can never be a kept-alive one the server has closed. Returns
-- resp | nil, err, silent (true when a reused connection failed before a
-- single byte of answer: the server closed it while it was idle in the pool).
local function exchange(opts, req, fresh)
  local scheme, host, port, path = parse_url(req.url)
  local timeout_ms = math.floor(((req.timeout or opts.timeout or 60)) * 1000)
  local connect_ms = math.floor((req.connect_timeout or opts.connect_timeout or 10) * 1000)
  local max = opts.max_response or 64 * 1024 * 1024
  local verify = opts.verify_tls ~= false
  local text, herr = request_text(host, port, scheme, path, opts, req)
  if not text then return nil, { kind = "transport", message = herr } end
  local sock = ngx.socket.tcp()
  sock:settimeouts(connect_ms, timeout_ms, timeout_ms)
  -- the pool key separates TLS verification settings so a connection made
  -- without verification is never reused by a verifying client
  local pool = table.concat({ scheme, host, port, verify and "v" or "nv", fresh and "fresh" or nil }, ":")
  local ok, err = sock:connect(host, port, { pool = pool })
  if not ok then return fail(err == "timeout" and "timeout" or ("connect: " .. tostring(err)), "connect to " .. host .. ":" .. port .. " failed: " .. tostring(err)) end
  local reused = sock:getreusedtimes() > 0
  if scheme == "https" and not reused then
    -- nginx checks certificate names, not IP SANs: tls_server_name gives the
    -- name to verify (and send as SNI) when the endpoint is an IP address
    local name = opts.tls_server_name or host
    local sess, serr = sock:sslhandshake(nil, name, verify)
    if not sess then
      sock:close()
      local hint = (not opts.tls_server_name and host:match("^[%d%.]+$")) and
        " (nginx verifies certificate names only: set the tls_server_name option for an IP endpoint)" or ""
      return nil, { kind = "tls", message = "TLS handshake with " .. host .. " failed: " .. tostring(serr) .. hint }
    end
  end
  local sent, serr = sock:send(text)
  if not sent then sock:close() return nil, select(2, fail(serr)), reused and serr ~= "timeout" end
  local status, headers, partial = read_headers(sock)
  if not status then
    sock:close()
    local silent = reused and headers ~= "timeout" and partial == ""
    return nil, select(2, fail(headers, "reading the response failed: " .. tostring(headers))), silent
  end
  local data, complete, rerr = read_body(sock, status, headers, req.method, max)
  if not data then sock:close() return fail(rerr, rerr ~= "too_large" and ("reading the body failed: " .. tostring(rerr)) or nil) end
  local conn = (headers.connection or ""):lower()
  if complete and not fresh and not conn:find("close", 1, true) then
    sock:setkeepalive(opts.keepalive_timeout or 30000, opts.pool_size or 32)
  else
    sock:close()
  end
  local enc = headers["content-encoding"]
  if enc and (enc:lower() == "gzip" or enc:lower() == "deflate") then
    local plain, gerr = core.gunzip(data, max)
    if not plain then return nil, { kind = gerr:find("exceeds", 1, true) and "too_large" or "transport", message = gerr } end
    data = plain
  end
  return { status = status, headers = headers, body = data }
end

local function request(opts, req)
  local perr = phase_error()
  if perr then return nil, perr end
  if not parse_url(tostring(req.url)) then
    -- only http and https: an endpoint handed over by a server (Clodo's
    -- management URL) must not reach local files or other protocols
    return nil, { kind = "protocol", message = "only http and https URLs are allowed (host name or IPv4 address): " .. tostring(req.url):sub(1, 200) }
  end
  -- A request that must not be repeated goes on a new connection: sent once,
  -- never resent. Another may be resent once, on a new connection, when a
  -- kept-alive one turns out to be dead before any answer (as libcurl does).
  local once = not idempotent(req)
  local resp, err, silent = exchange(opts, req, once)
  if not resp and silent and not once then resp, err = exchange(opts, req, true) end
  return resp, err
end

function M.new(opts)
  opts = opts or {}
  require("luacloud.transport.curl").warn_insecure(opts, function(msg) ngx.log(ngx.WARN, msg) end)
  local t = setmetatable({}, { __call = function(_, req) return request(opts, req) end })

  --- Several requests on light threads, at most `concurrency` at a time, results in input order.
  function t.batch(reqs, concurrency)
    local results, next_i, n = {}, 1, #reqs
    local limit = math.max(1, concurrency or 8)
    local function worker()
      while next_i <= n do
        local i = next_i
        next_i = i + 1
        local resp, err = request(opts, reqs[i])
        results[i] = resp or { err = err }
      end
    end
    local threads = {}
    for k = 1, math.min(limit, n) do threads[k] = ngx.thread.spawn(worker) end
    for _, th in ipairs(threads) do ngx.thread.wait(th) end
    return results
  end

  --- Send on a light thread now; :finish() waits for it.
  function t.start(req)
    if phase_error() then return nil end
    local th = ngx.thread.spawn(request, opts, req)
    return {
      finish = function()
        local ok, resp, err = ngx.thread.wait(th)
        if not ok then return nil, { kind = "transport", message = tostring(resp) } end
        return resp, err
      end,
    }
  end

  t.sleep = function(s) ngx.sleep(s) end
  t.kind = "ngx"
  return t
end

return M
