#!/usr/bin/env lua5.4
-- Dimension Data: load-balance two servers behind a VIP (section 8): real servers, an HTTP probe, a server
-- farm, a cookie persistence profile and the VIP, then list what was built. Build order follows the
-- document; LUACLOUD_DIMENSIONDATA_CLEANUP=1 tears it down in reverse order.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/dimensiondata_vip.lua [network id]
--   (without a network id, a network and two servers are created first; that takes a minute)
-- Against the real API:             LUACLOUD_DIMENSIONDATA_ENDPOINT=https://api-na.dimensiondata.com \
--                                    LUACLOUD_DIMENSIONDATA_USERNAME=... LUACLOUD_DIMENSIONDATA_PASSWORD=... \
--                                    lua5.4 examples/dimensiondata_vip.lua <network id with 2 deployed servers>
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local env = os.getenv

local c = example.client("dimensiondata")

local suffix = os.date("!%H%M%S")
local net_id = arg[1]

-- 0. Without a network id: a network with two deployed servers.
if not net_id then
  local name = "luacloud-lb-" .. suffix
  must(c:create_network_with_location { name = name, location = "NA1" })
  for _, n in ipairs(must(c:list_networks_with_location()).network) do
    if n.name == name then net_id = n.id end
  end
  local image = must(c:list_os_server_images_with_software_labels { location_id = "NA1" }).DeployedImageWithSoftwareLabels[1]
  for i = 1, 2 do
    must(c:deploy_server { name = "lb" .. i .. "-" .. suffix, description = "web " .. i,
      vlanResourcePath = "/oec/" .. c.org_id .. "/network/" .. net_id,
      imageResourcePath = "/oec/base/image/" .. image.id, administratorPassword = "P4ssw0rd-" .. suffix, isStarted = true })
  end
  for i = 1, 2 do
    must(c:wait({ name = "lb" .. i .. "-" .. suffix, network_id = net_id }, { timeout = 1800, interval = 2 }))
  end
  print("network " .. net_id .. " with two servers")
end

local servers = must(c:list_servers_with_backup { networkId = net_id, deployed = true }).server
assert(#servers >= 2, "the network needs two deployed servers")

-- 1. Real servers: the load balancer's view of each VM (their ids come back only inside resultDetail).
local reals = {}
for i = 1, 2 do
  local st = must(c:create_real_server { network_id = net_id, name = "real" .. i .. suffix, serverId = servers[i].id,
    inService = true })
  reals[i] = st.id
  print(st.resultDetail)
end

-- 2. A custom HTTP probe (statusCodeRange and requestMethod are mandatory for HTTP).
local probe = must(c:create_probe { network_id = net_id, name = "http" .. suffix, type = "HTTP",
  probeIntervalSeconds = 15, errorCountBeforeServerFail = 3, successCountBeforeServerEnable = 1,
  failedProbeIntervalSeconds = 30, maxReplyWaitSeconds = 5, statusCodeRange = { lowerBound = 200, upperBound = 299 },
  requestMethod = "GET", requestUrl = "/health" })
print(probe.resultDetail)

-- 3. The server farm of both real servers on port 80.
local farm = must(c:create_server_farm { network_id = net_id, name = "farm" .. suffix, probeId = probe.id,
  predictor = "LEAST_CONNECTIONS", realServer = { { id = reals[1], port = 80 }, { id = reals[2], port = 80 } } })
print(farm.resultDetail)

-- 4. Cookie persistence on the farm (needs at least two real servers).
local profile = must(c:create_persistence_profile { network_id = net_id, name = "sticky" .. suffix,
  serverFarmId = farm.id, timeoutMinutes = 30, type = "HTTP_COOKIE", cookieName = "LBSESSION",
  cookieType = "COOKIE_INSERT" })
print(profile.resultDetail)

-- 5. The VIP: a public address (allocated when ipAddress is left out) on port 80.
local vip = must(c:create_vip { network_id = net_id, name = "web" .. suffix, port = 80, protocol = "TCP",
  vipTargetType = "PERSISTENCE_PROFILE", vipTargetId = profile.id, replyToIcmp = true, inService = true })
print(vip.resultDetail)

for _, v in ipairs(must(c:list_vips { network_id = net_id }).vip) do
  print(("VIP %s %s:%s/%s -> %s %s"):format(v.name, v.ipAddress, v.port, v.protocol, v.vipTargetType, v.vipTargetName))
end
local details = must(c:get_server_farm_details { network_id = net_id, server_farm_id = farm.id })
for _, r in ipairs(details.realServer) do
  print(("  member %s %s:%s in service=%s"):format(r.name, r.ipAddress, r.port or "any", r.inService))
end

-- 6. Optional teardown, reverse order (a farm in use by a VIP or profile cannot be deleted).
if env("LUACLOUD_DIMENSIONDATA_CLEANUP") == "1" then
  must(c:delete_vip { network_id = net_id, vip_id = vip.id })
  must(c:delete_persistence_profile { network_id = net_id, persistence_profile_id = profile.id })
  must(c:delete_server_farm { network_id = net_id, server_farm_id = farm.id })
  must(c:delete_probe { network_id = net_id, probe_id = probe.id })
  for _, id in ipairs(reals) do must(c:delete_real_server { network_id = net_id, rserver_id = id }) end
  print("load balancer removed")
end
