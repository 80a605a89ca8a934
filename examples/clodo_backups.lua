#!/usr/bin/env lua5.4
-- Clodo: back up a server, wait for the backup, give it a refresh calendar and a description.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/clodo_backups.lua [server id]
-- Against the real API:             LUACLOUD_CLODO_ENDPOINT=https://api.clodo.ru LUACLOUD_CLODO_USER=... \
--                                    LUACLOUD_CLODO_KEY=... lua5.4 examples/clodo_backups.lua 1234
-- Options (env): LUACLOUD_CLODO_FORMAT=json|xml, LUACLOUD_CLODO_DAYS (default "1,3,5"),
-- LUACLOUD_CLODO_TIME (default "03:30"), LUACLOUD_CLODO_CLEANUP=1 deletes the new backup at the end.
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local env = os.getenv

local c = example.client("clodo", { format = "json" })

local function show(server_id)
  for _, b in ipairs(must(c:list_backups { id = server_id }).backup) do
    print(("  backup %-3s %s  %s GB  %s RUB/h  days [%s] at %s  %s"):format(b.file, b.date, b.size, b.price,
      b.days, b.time, b.desc ~= "" and ("\"" .. b.desc .. "\"") or ""))
  end
end

-- 1. The server: from the command line, or the first one of the account.
local server_id = arg[1] or must(c:list_servers()).server[1].id
print("backups of server " .. server_id .. " before:")
show(server_id)
local before = {}
for _, b in ipairs(must(c:list_backups { id = server_id }).backup) do before[tostring(b.file)] = true end

-- 2. Create a backup: the API answers a request number; /requests/<req> says when it is done.
local r = must(c:create_backup { id = server_id })
print("backup requested, request " .. r.req)
must(c:wait(r, { timeout = 3600, interval = 5, max_interval = 30,
  progress = function(_, info) io.write(("\rwaiting for request %s ... poll %d"):format(r.req,
    info.polls)); io.flush() end }))
print()

-- 3. Find the new copy and set its calendar and description.
local new
for _, b in ipairs(must(c:list_backups { id = server_id }).backup) do
  if not before[tostring(b.file)] then new = b end
end
assert(new, "the new backup is not listed")
must(c:set_backup_schedule { id = server_id, file = tostring(new.file),
  backups_days = env("LUACLOUD_CLODO_DAYS") or "1,3,5", backups_time = env("LUACLOUD_CLODO_TIME") or "03:30" })
must(c:set_backup_description { id = server_id, file = tostring(new.file), desc = "luacloud example "
  .. os.date("%Y-%m-%d") })
print("backups of server " .. server_id .. " after:")
show(server_id)

-- 4. Optionally remove it again (a request too).
if env("LUACLOUD_CLODO_CLEANUP") == "1" then
  local d = must(c:delete_backup { id = server_id, file = tostring(new.file) })
  must(c:wait(d, { timeout = 3600, interval = 5 }))
  print("deleted backup " .. new.file)
end
