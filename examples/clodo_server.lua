#!/usr/bin/env lua5.4
-- Clodo: create a virtual server and wait until it runs.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/clodo_server.lua
-- Against the real API:             LUACLOUD_CLODO_ENDPOINT=https://api.clodo.ru (or a datacenter host,
--                                    https://api.kh.clodo.ru ...) LUACLOUD_CLODO_USER=... LUACLOUD_CLODO_KEY=...
-- Options (env): LUACLOUD_CLODO_FORMAT=json|xml, LUACLOUD_CLODO_KEEP=1 keeps the server (default: deleted
-- at the end), LUACLOUD_CLODO_NAME=name.
-- Run from the repository root (or set LUA_PATH/LUA_CPATH for an installed luacloud).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local luacloud = require "luacloud"
local env = os.getenv

local c = assert(luacloud.new("clodo", {
  endpoint = env("LUACLOUD_CLODO_ENDPOINT") or "http://127.0.0.1:8080/clodo",
  user = env("LUACLOUD_CLODO_USER") or "demo",
  key = env("LUACLOUD_CLODO_KEY") or "demo-key",
  format = env("LUACLOUD_CLODO_FORMAT") or "json",
  timeout = 120,
}))

local function must(res, err)
  if res == nil then error(tostring(err), 2) end
  return res
end

-- 1. An OS image for a VirtualServer (ids differ per server type), Debian if there is one.
local image
for _, im in ipairs(must(c:list_images_detail()).image) do
  if im.vps_type == "VirtualServer" and im.status == "ACTIVE" then
    if not image or (im.os_type == "debian" and image.os_type ~= "debian") then image = im end
  end
end
assert(image, "no VirtualServer image offered")
print(("image %s: %s"):format(image.id, image.name))

-- 2. Create. The answer carries the root password once: keep it somewhere safe, never in logs.
local name = env("LUACLOUD_CLODO_NAME") or ("example-" .. os.time())
local created = must(c:create_server { vps_title = name, vps_type = "VirtualServer", vps_memory = 512,
  vps_hdd = 5, vps_admin = 1, vps_os = image.id, vps_pay_period = "h", vps_abonement = 1 })
print(("created server %s (%s); root password received (%d characters)"):format(created.id, created.name,
  #tostring(created.adminPass or "")))

-- 3. Wait until the status says it runs (the API gives no request id for this: poll GET /servers/<id>).
local server = must(c:wait(created, { timeout = 900, interval = 2, max_interval = 10,
  progress = function(_, info) io.write(("\rwaiting for is_running ... poll %d"):format(info.polls)); io.flush() end }))
print()
local addr = server.addresses.public.ip[1]
print(("server %s is %s: %s, %s MB RAM, %s GB disk, address %s, VNC %s"):format(server.id, server.status,
  server.vps_os_title or "?", server.vps_memory, server.vps_hdd_max, addr and addr.addr or "-", server.vps_vnc or "-"))

-- 4. Clean up unless asked to keep it.
if env("LUACLOUD_CLODO_KEEP") == "1" then
  print("kept server " .. server.id)
else
  must(c:delete_server { id = server.id })
  print("deleted server " .. server.id)
end
