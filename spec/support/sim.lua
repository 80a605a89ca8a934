-- Start/stop the nginx-hosted simulators for integration specs (one instance
-- per spec file, on a random free port, own state dir).
local M = {}

local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/support/[^/]*$")) or "."
M.root = root

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return out:gsub("__rc=%d+%s*$", ""), rc
end
M.sh = sh

--- The bytes of a file, or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- Why the nginx simulators cannot run here, or nil when they can. The rule is bin/luacloud-sim
-- start's own (LUACLOUD_SIM_NGINX, LUACLOUD_SIM_MODULES, both modules), so a spec pends where the
-- script would refuse to start. missing{ luajit = true }: the spec also needs build-luajit;
-- opts.getenv replaces os.getenv (for the spec of this function).
function M.missing(opts)
  opts = opts or {}
  local getenv = opts.getenv or os.getenv
  local bin = getenv("LUACLOUD_SIM_NGINX")
  local _, rc = sh(bin and ("test -x '" .. bin .. "'") or "command -v nginx || test -x /usr/sbin/nginx")
  if rc ~= 0 then return "nginx is not installed" end
  local found
  for _, dir in ipairs { getenv("LUACLOUD_SIM_MODULES") or "", "/usr/lib/nginx/modules",
                         "/usr/share/nginx/modules", "/usr/lib64/nginx/modules" } do
    if dir ~= "" and exists(dir .. "/ngx_http_lua_module.so") and exists(dir .. "/ndk_http_module.so") then
      found = true
      break
    end
  end
  if not found then return "the nginx lua module (libnginx-mod-http-lua) is not installed" end
  if opts.luajit and not exists(root .. "/build-luajit/luacloud/core.so") then
    return "build-luajit is missing (make LUA=luajit)"
  end
  return nil
end

--- start{ tls = bool, latency = ms } -> sim { base, endpoints, credentials, ca_file, port, stop = fn, admin = fn }
function M.start(opts)
  opts = opts or {}
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  local port, dir, out, rc
  for _ = 1, 5 do -- another process may hold the random port: try another
    port = 20000 + math.random(0, 12000) -- below the ephemeral range (32768+)
    dir = os.tmpname()
    os.remove(dir)
    local args = " --port " .. port .. " --state-dir " .. dir .. (opts.tls and " --tls" or "")
               .. (opts.latency and (" --latency " .. opts.latency) or "")
    -- env -u LD_PRELOAD: under the sanitizer CI step only the Lua process is instrumented
    out, rc = sh("env -u LD_PRELOAD " .. root .. "/bin/luacloud-sim start" .. args .. " --json")
    if rc == 0 then break end
    sh("rm -rf '" .. dir .. "'")
  end
  if rc ~= 0 then error("cannot start the simulator: " .. out) end
  local core = require "luacloud.core"
  local json = out:match("(%b{})")
  local info = assert(core.json_decode(json), "bad --json output: " .. out)
  local sim = { port = port, dir = dir, info = info, base = info.base_url, endpoints = info.endpoints,
                credentials = info.credentials, ca_file = info.ca_file }
  function sim.stop()
    sh("env -u LD_PRELOAD " .. root .. "/bin/luacloud-sim stop --port " .. port .. " --state-dir " .. dir)
    sh("rm -rf '" .. dir .. "'")
  end
  local admin_session = core.session { timeout = 10, verify_tls = opts.tls and true or nil, ca_file = info.ca_file }
  --- admin(method, path, body_table) -> decoded JSON
  function sim.admin(method, path, body)
    local resp = assert(admin_session:request { method = method, url = sim.base .. path,
      headers = { ["Content-Type"] = "application/json" }, body = body and core.json_encode(body) or nil })
    return core.json_decode(resp.body), resp.status
  end
  return sim
end

return M
