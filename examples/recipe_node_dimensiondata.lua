#!/usr/bin/env lua5.4
-- A node recipe for Dimension Data written against luacloud.compute (the same steps run on the other
-- clouds: examples/recipe_node_*.lua). Against the simulator (bin/luacloud-sim start):
--   lua5.4 examples/recipe_node_dimensiondata.lua        (LUACLOUD_KEEP=1 keeps the node)
-- Servers live on a network; Delete Server needs a stopped server (destroy_node force = true).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local luacloud = require "luacloud"
local env = os.getenv

local function must(res, err)
  if res == nil then error(tostring(err), 2) end
  return res
end

local cx = must(luacloud.compute("dimensiondata", {
  endpoint = env("LUACLOUD_DIMENSIONDATA_ENDPOINT") or "http://127.0.0.1:8080/dimensiondata",
  username = env("LUACLOUD_DIMENSIONDATA_USERNAME") or "demo",
  password = env("LUACLOUD_DIMENSIONDATA_PASSWORD") or "demo-password",
  state = nil,
  wait = { interval = 1, max_interval = 10, timeout = 1800 },
}))
for _, m in ipairs({ "list_images", "list_sizes", "list_locations", "list_networks" }) do
  local list, err = cx[m](cx)
  print(("%-15s %s"):format(m, list and (#list .. " items") or tostring(err)))
end
local net = must(cx:create_network { name = "web-net-" .. os.time(), location = "NA1" })
print("network " .. net.name .. " " .. net.id)
local node = must(cx:create_node { name = "web-1", image = "CentOS", network = net.name,
  password = env("LUACLOUD_NODE_PASSWORD") or "Web-P4ssw0rd" })
print(("created %s (%s): %s"):format(node.id, node.label, node.state))
node = must(cx:wait_until(node, "running", { timeout = 1800, progress = function(pct, info)
  io.write(("\r  %s, poll %d, %s%%   "):format(tostring(info.state), info.polls, tostring(pct or "?")))
  io.flush()
end }))
print()
print(("node %s is %s (%s); public %s, private %s"):format(node.name, node.state, node.provider_state,
  table.concat(node.public_ips, " "), table.concat(node.private_ips, " ")))
if env("LUACLOUD_KEEP") ~= "1" then
  must(cx:destroy_node(node, { force = true }))
  must(cx:wait_until(node, "terminated", { timeout = 1800 }))
  print("destroyed " .. node.id)
end
