#!/usr/bin/env lua5.4
-- CenturyLink Cloud (API v1): snapshot a server, list its snapshots, optionally revert, then delete
-- the new snapshot (snapshots block disk changes, so they should not be kept around).
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/centurylink_snapshot.lua [server name]
-- Against the real API:             LUACLOUD_CENTURYLINK_ENDPOINT=https://api.ctl.io \
--                                    LUACLOUD_CENTURYLINK_API_KEY=... LUACLOUD_CENTURYLINK_PASSWORD=... \
--                                    lua5.4 examples/centurylink_snapshot.lua WA1ACCTWEB01
-- Options (env): LUACLOUD_CENTURYLINK_FORMAT=json|xml, LUACLOUD_CENTURYLINK_REVERT=1 reverts the server to
-- the new snapshot before deleting it, LUACLOUD_CENTURYLINK_KEEP=1 keeps the snapshot.
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local env = os.getenv

local c = example.client("centurylink", { format = "json" })

-- 1. The server: from the command line, or the first active one of the account's data center.
local name = arg[1]
if not name then
  for _, s in ipairs(must(c:get_all_servers {}).Servers) do
    if not name and s.Status == "Active" then name = s.Name end
  end
end
assert(name, "no active server found; pass a server name")

local function snapshots()
  return must(c:get_snapshots { Name = name }).Snapshots
end
print(("server %s has %d snapshot(s)"):format(name, #snapshots()))

-- 2. Snapshot (queued), wait for it.
local req = must(c:snapshot_server { Name = name })
must(c:wait(req, { timeout = 900, progress = function(pct)
  io.write(("\r  snapshot request %s: %3s%%"):format(req.RequestID, tostring(pct or "?")))
  io.flush()
end }))
print()

-- 3. The newest snapshot is ours.
local list = snapshots()
local new
for _, s in ipairs(list) do
  print(("  %-22s %s"):format(s.Name, s.Description))
  if not new or s.Name > new.Name then new = s end
end
assert(new, "the snapshot did not appear")

-- 4. Disks cannot be changed while a snapshot exists (StatusCode 6).
local disks = must(c:list_disks { Name = name })
print(("disks: %d, HasSnapshot=%s"):format(#disks.Disks, tostring(disks.HasSnapshot)))

if env("LUACLOUD_CENTURYLINK_REVERT") == "1" then
  must(c:revert_to_snapshot { Name = name, SnapshotName = new.Name })
  print("reverted to " .. new.Name)
end

if env("LUACLOUD_CENTURYLINK_KEEP") ~= "1" then
  must(c:delete_snapshot { Name = name, SnapshotName = new.Name })
  print(("deleted %s; %d snapshot(s) left"):format(new.Name, #snapshots()))
end
c:logout()
