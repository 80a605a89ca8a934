#!/usr/bin/env lua5.4
-- CenturyLink Cloud (API v1): create a hardware group with two servers and wait for the queue.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/centurylink_group_servers.lua [group name]
-- Against the real API:             LUACLOUD_CENTURYLINK_ENDPOINT=https://api.ctl.io \
--                                    LUACLOUD_CENTURYLINK_API_KEY=... LUACLOUD_CENTURYLINK_PASSWORD=... \
--                                    lua5.4 examples/centurylink_group_servers.lua
-- Options (env): LUACLOUD_CENTURYLINK_FORMAT=json|xml, LUACLOUD_CENTURYLINK_LOCATION (default: the
-- account's own data center), LUACLOUD_CENTURYLINK_TEMPLATE (default: the first Ubuntu/CentOS template).
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local env = os.getenv

local c = example.client("centurylink", { format = "json" })

-- 1. Where: the API user's account and its data center (Logon happens on the first call).
local account = must(c:get_accounts()).Accounts[1]
local location = env("LUACLOUD_CENTURYLINK_LOCATION") or account.Location
print(("account %s (%s), data center %s"):format(account.AccountAlias, account.BusinessName, location))

-- 2. The parent group: the non-system "Default Group", else the data center's root group.
local parent
for _, g in ipairs(must(c:get_groups { AccountAlias = account.AccountAlias, Location = location }).HardwareGroups) do
  if g.Name == "Default Group" then parent = g end
  if not parent and tostring(g.IsSystemGroup) == "true" and g.ParentUUID == nil then parent = g end
end
assert(parent, "no group to create the new group in")

local group = must(c:create_hardware_group { AccountAlias = account.AccountAlias, ParentUUID = parent.UUID,
  Name = arg[1] or ("luacloud-" .. os.date("%H%M%S")), Description = "created by examples/centurylink_group_servers.lua" }).Group
print(("group %s (%s) under %s"):format(group.Name, group.UUID, parent.Name))

-- 3. A template and a network of that data center.
local template = env("LUACLOUD_CENTURYLINK_TEMPLATE")
if not template then
  for _, t in ipairs(must(c:list_available_server_templates { Location = location }).Templates) do
    if not template and (t.Name:find("UBUNTU") or t.Name:find("CENTOS")) then template = t.Name end
  end
end
local networks = must(c:get_deployable_networks { Location = location }).Networks
local network = networks[1] and networks[1].Name
print(("template %s, network %s"):format(tostring(template), tostring(network)))

-- 4. Two servers; each CreateServer only queues a request.
local requests = {}
for i = 1, 2 do
  local r = must(c:create_server { AccountAlias = account.AccountAlias, LocationAlias = location, Template = template,
    Alias = "WEB", Description = "web server " .. i, HardwareGroupUUID = group.UUID, ServerType = 1, ServiceLevel = 2,
    Cpu = 1, MemoryGB = 2, ExtraDriveGB = 0, Network = network })
  print(("server %d queued as request %s"):format(i, r.RequestID))
  requests[#requests + 1] = r
end

-- 5. Wait for both (Queue/GetRequestStatus, PercentComplete as progress).
for _, r in ipairs(requests) do
  must(c:wait(r, { timeout = 1800, interval = 2, max_interval = 20, progress = function(pct)
    io.write(("\r  request %s: %3s%%"):format(r.RequestID, tostring(pct or "?")))
    io.flush()
  end }))
  -- the Blueprint status call names the server the request built
  local st = c:get_deployment_status { RequestID = r.RequestID, AccountAlias = account.AccountAlias, LocationAlias = location }
  print(st and st.Servers and st.Servers[1] and ("  -> " .. st.Servers[1]) or "")
end

-- 6. The group now.
for _, s in ipairs(must(c:get_servers { AccountAlias = account.AccountAlias, HardwareGroupUUID = group.UUID }).Servers) do
  print(("  %-16s %-10s %-8s %s CPU %s GB  %s"):format(s.Name, s.Status, s.PowerState, s.Cpu, s.MemoryGB, s.IPAddress))
end
local est = must(c:get_group_estimate { AccountAlias = account.AccountAlias, HardwareGroupUUID = group.UUID })
print(("estimate for the group: %s per month"):format(est.MonthlyEstimate))
c:logout()
