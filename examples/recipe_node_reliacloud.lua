#!/usr/bin/env lua5.4
-- A node recipe for ReliaCloud on luacloud.compute: the steps are examples/lib/recipe_node.lua
-- (the same on every cloud), this file holds the values of this cloud. Against the simulator (bin/luacloud-sim start):
--   lua5.4 examples/recipe_node_reliacloud.lua        (LUACLOUD_KEEP=1 keeps the node)
-- ReliaCloud names servers itself: the label "web-1" is kept in a state file (state option).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path

require("recipe_node").run {
  provider = "reliacloud",
  options = { state = os.tmpname() },
  node = { name = "web-1", image = "CentOS", size = "Small", location = "WC", network = "web.example" },
}
