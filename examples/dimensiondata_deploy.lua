#!/usr/bin/env lua5.4
-- Dimension Data: create a network in a data center, deploy a server on it from an OS image, and wait
-- until the server is deployed and running. The API returns no ids for either: both are found by name.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/dimensiondata_deploy.lua [location]
-- Against the real API:             LUACLOUD_DIMENSIONDATA_ENDPOINT=https://api-na.dimensiondata.com \
--                                    LUACLOUD_DIMENSIONDATA_USERNAME=... LUACLOUD_DIMENSIONDATA_PASSWORD=... \
--                                    lua5.4 examples/dimensiondata_deploy.lua NA1
-- LUACLOUD_DIMENSIONDATA_CLEANUP=1 powers the server off and deletes it and the network at the end.
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local env = os.getenv

local c = example.client("dimensiondata")

local location = arg[1] or "NA1"
local suffix = os.date("!%Y%m%d%H%M%S")
local net_name, server_name = "luacloud-net-" .. suffix, "luacloud-web-" .. suffix

-- 1. The account: learns the organization id used in every other URL.
local me = must(c:get_my_account())
print(("account %s, organization %s"):format(me.userName, me.orgId))

-- 2. A network in the chosen data center (Create Network with Location returns no id).
must(c:create_network_with_location { name = net_name, location = location, description = "made by luacloud" })
local net
for _, n in ipairs(must(c:list_networks_in_location { location_id = location }).network) do
  if n.name == net_name then net = n end
end
assert(net, "the new network is not listed")
print(("network %s (%s) in %s, private net %s"):format(net.name, net.id, net.location, net.privateNet))

-- 3. An OS image of that data center.
local images = must(c:list_os_server_images_with_software_labels { location_id = location })
local image = images.DeployedImageWithSoftwareLabels[1]
print(("image %s: %s"):format(image.id, image.name))

-- 4. Deploy, then wait (the reply says only: Server "Deploy" issued).
local st = must(c:deploy_server {
  name = server_name, description = "deployed by examples/dimensiondata_deploy.lua",
  vlanResourcePath = "/oec/" .. c.org_id .. "/network/" .. net.id,
  imageResourcePath = "/oec/base/image/" .. image.id,
  administratorPassword = env("LUACLOUD_DIMENSIONDATA_ADMIN_PASSWORD") or "P4ssw0rd-" .. suffix,
  isStarted = true,
})
print(st.resultDetail)
local server = must(c:wait({ name = server_name, network_id = net.id, started = true }, {
  timeout = 1800, interval = 2, max_interval = 15,
  progress = function(pct) io.write(("\r  deploying... %s%%   "):format(pct or "?")) io.flush() end,
}))
print()
print(("server %s (%s): %s, running=%s, %s CPU, %s MB, private IP %s"):format(server.name, server.id,
  server.state, server.isStarted, server.cpuCount, server.memoryMb, server.privateIp))
for _, d in ipairs(server.disk) do
  print(("  disk scsi %s: %s GB %s"):format(d.scsiId, d.sizeGb, d.speed))
end

-- 5. Optional cleanup, in the order the API requires (stopped server, empty network).
if env("LUACLOUD_DIMENSIONDATA_CLEANUP") == "1" then
  must(c:power_off_server { server_id = server.id })
  must(c:wait({ server_id = server.id, started = false }, { timeout = 600, interval = 2 }))
  must(c:delete_server { server_id = server.id })
  must(c:wait({ server_id = server.id, deleted = true }, { timeout = 600, interval = 2 }))
  print(must(c:delete_network { network_id = net.id }).resultDetail)
end
