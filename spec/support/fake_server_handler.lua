-- Request handlers of spec/support/fake_server.lua (runs inside nginx, LuaJIT).
local core = require "luacloud.core"

local M = {}
local d = ngx.shared.fake

local function reply(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.print(core.json_encode(t))
end

--- Every request not under /_fake/: counted; killed when it matches, else answered.
function M.serve()
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  local line = ngx.var.request_method .. " " .. ngx.var.request_uri
  d:incr("total", 1, 0)
  local kill = d:get("kill")
  if kill and (line:find(kill, 1, true) or body:find(kill, 1, true)) then
    local left = d:get("times")
    if not left or left > 0 then
      if left then d:incr("times", -1) end
      d:incr("killed", 1, 0)
      return ngx.exit(444) -- close the connection without answering
    end
    d:incr("matched_answered", 1, 0)
  end
  if ngx.var.uri == "/big" then -- n bytes of body, made here: too big for the shared dict
    ngx.header["Content-Type"] = "text/plain"
    local chunk = string.rep("x", 1024 * 1024)
    local n = tonumber(ngx.req.get_uri_args().n) or 0
    for _ = 1, math.floor(n / #chunk) do ngx.print(chunk) end
    ngx.print(string.rep("x", n % #chunk))
    return
  end
  ngx.status = d:get("status") or 200
  ngx.header["Content-Type"] = d:get("ctype") or "application/json"
  local extra = d:get("header")
  if extra then
    local hs = {}
    for h in extra:gmatch("[^\n]+") do
      local k, v = h:match("^([^:]+):%s*(.*)$")
      hs[k] = hs[k] or {}
      table.insert(hs[k], v)
    end
    for k, v in pairs(hs) do ngx.header[k] = #v == 1 and v[1] or v end
  end
  ngx.print(d:get("answer") or "{}")
end

-- The cosocket transport against this same server: warm `warm` pooled
-- connections with concurrent reads, then send `n` requests (batch when n > 1).
local function run_ngx(args)
  local t = require("luacloud.transport.ngx").new { timeout = 5, keepalive_timeout = 60000 }
  local base = "http://127.0.0.1:" .. ngx.var.server_port
  local warm = {}
  for i = 1, tonumber(args.warm) or 1 do warm[i] = { url = base .. "/warm?i=" .. i } end
  for _, r in ipairs(t.batch(warm, #warm)) do
    if r.err then return { error = "warm-up failed: " .. tostring(r.err.message) } end
  end
  local reqs = {}
  local idem
  if args.idempotent == "true" then idem = true elseif args.idempotent == "false" then idem = false end
  for i = 1, tonumber(args.n) or 1 do
    reqs[i] = { method = args.method or "POST", url = base .. (args.path or "/create") .. "?k=" .. i,
                body = args.method ~= "GET" and "name=x" or nil, idempotent = idem }
  end
  local out = {}
  if #reqs == 1 then
    local r, err = t(reqs[1])
    out[1] = r and { status = r.status } or { err = err.kind }
  else
    for i, r in ipairs(t.batch(reqs, #reqs)) do out[i] = r.err and { err = r.err.kind } or { status = r.status } end
  end
  return { results = out }
end

function M.admin()
  local what = ngx.var.uri:match("^/_fake/(.*)$")
  local args = ngx.req.get_uri_args()
  if what == "reset" then
    d:flush_all()
  elseif what == "set" then
    d:set("kill", args.kill)
    d:set("times", tonumber(args.times))
  elseif what == "answer" then
    ngx.req.read_body()
    d:set("answer", ngx.req.get_body_data() or "")
    d:set("ctype", args.ctype)
    d:set("status", tonumber(args.status))
    d:set("header", args.header)
  elseif what == "count" then
    return reply { total = d:get("total") or 0, killed = d:get("killed") or 0,
                   matched_answered = d:get("matched_answered") or 0 }
  elseif what == "ngx_url" then
    local r, err = require("luacloud.transport.ngx").new { timeout = 5 } { url = args.url }
    return reply(r and { status = r.status } or { kind = err.kind, message = err.message })
  elseif what == "ngx" then
    return reply(run_ngx(args))
  else
    ngx.status = 404
  end
  reply { ok = true }
end

return M
