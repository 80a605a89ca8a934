-- luacloud.sim.nginx: the nginx (lua-nginx-module) adapter of the simulator host.
--
--   init_by_lua_block    { require("luacloud.sim.nginx").configure{ base_url = ..., latency_ms = ..., ca_file = ... } }
--   content_by_lua_block { require("luacloud.sim.nginx").handle() }
--
-- One host per worker process (the generated nginx.conf runs worker_processes 1), so the
-- simulators keep their state across requests.  This file does the ngx-specific parts only:
-- reading the request, sleeping (latency and delay faults), dropping or truncating the
-- connection and writing the response.  Lua 5.1 (LuaJIT) code.

local sim = require("luacloud.sim")

local M = {}

local config = {}
local host

--- Stores the host options (called once from init_by_lua_block).
function M.configure(opts)
  config = opts or {}
  host = nil
end

local function now()
  ngx.update_time()
  return ngx.now()
end

--- The worker's host, created on first use.
function M.host()
  if not host then
    host = sim.new{
      providers = config.providers,
      base_url = config.base_url,
      latency_ms = config.latency_ms,
      ca_file = config.ca_file,
      now = config.now or now,
    }
    -- Load every simulator now, so the log shows each one's first load error.
    for _, name in ipairs(host:providers()) do
      local loaded, err = host:sim(name)
      if not loaded then ngx.log(ngx.ERR, "luacloud-sim: ", err) end
    end
  end
  return host
end

local function read_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local file = ngx.req.get_body_file()
  if file then
    local f = io.open(file, "rb")
    if f then
      data = f:read("*a")
      f:close()
      return data
    end
  end
  return ""
end

--- The content handler.
function M.handle()
  local h = M.host()
  local ok, status, headers, body, action = pcall(h.handle, h, ngx.req.get_method(),
    ngx.var.request_uri, ngx.req.get_headers(200), read_body())
  if not ok then
    ngx.log(ngx.ERR, "luacloud-sim: host failed: ", tostring(status))
    ngx.status = 500
    ngx.header["Content-Type"] = "application/json"
    ngx.print(sim.json_encode({ error = "simulator host failed: " .. tostring(status), status = 500 }))
    return ngx.exit(ngx.HTTP_OK)
  end
  action = action or {}
  if action.error then ngx.log(ngx.ERR, "luacloud-sim: ", action.error) end
  if action.fault then ngx.log(ngx.NOTICE, "luacloud-sim: fault ", action.fault) end

  if action.delay_ms and action.delay_ms > 0 then
    ngx.sleep(action.delay_ms / 1000)
  end
  if action.drop then
    return ngx.exit(444) -- close the connection without an answer
  end

  ngx.status = status
  for name, value in pairs(headers or {}) do
    ngx.header[name] = value
  end
  if action.truncate then
    -- Content-Length announces the full body; send half of it, then close the connection.
    ngx.print(body)
    ngx.flush(true)
    return ngx.exit(444)
  end
  ngx.print(body)
  return ngx.exit(ngx.HTTP_OK)
end

return M
