#!/usr/bin/env lua5.4
-- A node recipe for Dimension Data on luacloud.compute: the steps are examples/lib/recipe_node.lua
-- (the same on every cloud), this file holds the values of this cloud. Against the simulator (bin/luacloud-sim start):
--   lua5.4 examples/recipe_node_dimensiondata.lua        (LUACLOUD_KEEP=1 keeps the node)
-- Servers live on a network; Delete Server needs a stopped server (destroy_node force = true).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path

local function on_a_new_network(cx)
  local net = require("example").must(cx:create_network { name = "web-net-" .. os.time(), location = "NA1" })
  print("network " .. net.name .. " " .. net.id)
  return { name = "web-1", image = "CentOS", network = net.name,
           password = os.getenv("LUACLOUD_NODE_PASSWORD") or "Web-P4ssw0rd" }
end

require("recipe_node").run {
  provider = "dimensiondata",
  node = on_a_new_network,
  destroy = { force = true },
}
