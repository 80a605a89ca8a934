#!/usr/bin/env lua5.4
-- Clodo: create a virtual server and wait until it runs.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/clodo_server.lua
-- Against the real API:             LUACLOUD_CLODO_ENDPOINT=https://api.clodo.ru (or a datacenter host,
--                                    https://api.kh.clodo.ru ...) LUACLOUD_CLODO_USER=... LUACLOUD_CLODO_KEY=...
-- Options (env): LUACLOUD_CLODO_FORMAT=json|xml, LUACLOUD_CLODO_KEEP=1 keeps the server (default: deleted
-- at the end), LUACLOUD_CLODO_NAME=name.
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local env = os.getenv

local c = example.client("clodo", { format = "json", timeout = 120 })

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
