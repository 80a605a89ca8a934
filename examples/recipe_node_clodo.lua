#!/usr/bin/env lua5.4
-- A node recipe for Clodo on luacloud.compute: the steps are examples/lib/recipe_node.lua
-- (the same on every cloud), this file holds the values of this cloud. Against the simulator (bin/luacloud-sim start):
--   lua5.4 examples/recipe_node_clodo.lua        (LUACLOUD_KEEP=1 keeps the node)
-- Clodo chooses the root password (node.password); size is "<memory MB>x<disk GB>".
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path

require("recipe_node").run {
  provider = "clodo",
  options = { format = "json" },
  node = { name = "web-1", image = "CentOS", size = "512x5" },
}
