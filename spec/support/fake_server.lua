-- A socket-level fake HTTP server for fault specs: Debian's nginx with its Lua
-- module (already a test dependency), on a random port. It counts every request
-- it receives, answers a canned body, and can "kill" requests matching a
-- substring: read the request fully, then close the connection without a byte
-- of answer (nginx's status 444). The same nginx also runs the cosocket
-- transport (transport/ngx.lua) against itself: GET /_fake/ngx?...
local M = {}

local support = require "spec.support.sim"
local sh, root = support.sh, support.root

local CONF = [[
@USER@
daemon on;
master_process on;
worker_processes 1;
pid "@DIR@/nginx.pid";
error_log "@DIR@/error.log" warn;
load_module "@MODULES@/ndk_http_module.so";
load_module "@MODULES@/ngx_http_lua_module.so";
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path "@DIR@/tmp/body";
  proxy_temp_path "@DIR@/tmp/proxy";
  fastcgi_temp_path "@DIR@/tmp/fastcgi";
  uwsgi_temp_path "@DIR@/tmp/uwsgi";
  scgi_temp_path "@DIR@/tmp/scgi";
  client_body_buffer_size 1m;
  keepalive_timeout 60s;
  keepalive_requests 100000;
  lua_shared_dict fake 1m;
  lua_socket_log_errors off;
  lua_package_path "@ROOT@/lua/?.lua;@ROOT@/lua/?/init.lua;@ROOT@/spec/?.lua;;";
  lua_package_cpath "@ROOT@/build-luajit/?.so;;";
  server {
    listen 127.0.0.1:@PORT@;
    location /_fake/ { content_by_lua_block { require("support.fake_server_handler").admin() } }
    location / { content_by_lua_block { require("support.fake_server_handler").serve() } }
  }
}
]]

local function modules_dir()
  for _, d in ipairs({ os.getenv("LUACLOUD_SIM_MODULES") or "", "/usr/lib/nginx/modules", "/usr/share/nginx/modules" }) do
    local f = d ~= "" and io.open(d .. "/ngx_http_lua_module.so")
    if f then f:close() return d end
  end
  error("the nginx lua module is not installed (Debian: libnginx-mod-http-lua)")
end

--- start() -> server { base, port, admin(path, body) -> decoded JSON, counts() -> {total, killed}, stop() }
function M.start()
  local core = require "luacloud.core"
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  local mods = modules_dir()
  for _ = 1, 5 do
    local port = 20000 + math.random(0, 12000)
    local dir = os.tmpname()
    os.remove(dir)
    sh("mkdir -p '" .. dir .. "/tmp'")
    -- as root, nginx workers would run as nobody: keep the caller's user (as bin/luacloud-sim does)
    local user = ""
    if sh("id -u"):match("^0%s") then user = ("user %s %s;"):format(sh("id -un"):match("%S+"), sh("id -gn"):match("%S+")) end
    local conf = CONF:gsub("@(%u+)@", { DIR = dir, MODULES = mods, ROOT = root, PORT = tostring(port), USER = user })
    local f = assert(io.open(dir .. "/nginx.conf", "w"))
    f:write(conf)
    f:close()
    local out, rc = sh("env -u LD_PRELOAD nginx -p '" .. dir .. "/' -c '" .. dir .. "/nginx.conf' -e '" .. dir .. "/error.log'")
    if rc == 0 then
      local srv = { port = port, dir = dir, base = "http://127.0.0.1:" .. port }
      local admin = core.session { timeout = 20 }
      function srv.admin(path, body)
        local r, err
        for _ = 1, 50 do -- nginx may still be binding its port
          r, err = admin:request { method = body and "POST" or "GET", url = srv.base .. "/_fake/" .. path, body = body }
          if r then break end
          core.sleep(0.05)
        end
        assert(r, err and err.message)
        assert(r.status == 200, r.body)
        return core.json_decode(r.body)
      end
      --- kill(pattern [, times]): requests whose line or body contain pattern are read and dropped
      function srv.kill(pattern, times)
        return srv.admin("set?kill=" .. core.urlencode(pattern) .. (times and ("&times=" .. times) or ""))
      end
      --- answer(body, ctype, status, header_lines): what every request that is not killed gets
      function srv.answer(body, ctype, status, header)
        return srv.admin("answer?ctype=" .. core.urlencode(ctype or "application/json") .. "&status=" .. (status or 200)
                         .. (header and ("&header=" .. core.urlencode(header)) or ""), body or "")
      end
      function srv.reset() return srv.admin("reset") end
      function srv.counts() return srv.admin("count") end
      function srv.stop()
        admin:close()
        sh("kill $(cat '" .. dir .. "/nginx.pid') 2>/dev/null; sleep 0.2; rm -rf '" .. dir .. "'")
      end
      local ok, err = pcall(srv.admin, "reset")
      if not ok then srv.stop() error("the fake server does not answer: " .. tostring(err)) end
      return srv
    end
    sh("rm -rf '" .. dir .. "'")
    if not out:find("bind", 1, true) and not out:find("in use", 1, true) then error("nginx did not start: " .. out) end
  end
  error("no free port for the fake server")
end

return M
