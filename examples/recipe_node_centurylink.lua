#!/usr/bin/env lua5.4
-- A node recipe for CenturyLink on luacloud.compute: the steps are examples/lib/recipe_node.lua
-- (the same on every cloud), this file holds the values of this cloud. Against the simulator (bin/luacloud-sim start):
--   lua5.4 examples/recipe_node_centurylink.lua        (LUACLOUD_KEEP=1 keeps the node)
-- The API names servers (e.g. WA1DEMOWEB101); the label is the server's Description.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path

require("recipe_node").run {
  provider = "centurylink",
  options = { account_alias = "DEMO", format = "json" },
  node = { name = "web-1", image = "CENTOS", size = "1x2", location = "WA1",
           password = os.getenv("LUACLOUD_NODE_PASSWORD") or "Web-P4ssw0rd!" },
}
