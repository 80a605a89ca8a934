#!/usr/bin/env lua5.4
-- A node recipe for Clodo written against luacloud.compute (the same steps run on the other
-- clouds: examples/recipe_node_*.lua). Against the simulator (bin/luacloud-sim start):
--   lua5.4 examples/recipe_node_clodo.lua        (LUACLOUD_KEEP=1 keeps the node)
-- Clodo chooses the root password (node.password); size is "<memory MB>x<disk GB>".
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local luacloud = require "luacloud"
local env = os.getenv

local function must(res, err)
  if res == nil then error(tostring(err), 2) end
  return res
end

local cx = must(luacloud.compute("clodo", {
  endpoint = env("LUACLOUD_CLODO_ENDPOINT") or "http://127.0.0.1:8080/clodo",
  user = env("LUACLOUD_CLODO_USER") or "demo",
  key = env("LUACLOUD_CLODO_KEY") or "demo-key",
  format = "json",
  state = nil,
  wait = { interval = 1, max_interval = 10, timeout = 1800 },
}))
for _, m in ipairs({ "list_images", "list_sizes", "list_locations", "list_networks" }) do
  local list, err = cx[m](cx)
  print(("%-15s %s"):format(m, list and (#list .. " items") or tostring(err)))
end

local node = must(cx:create_node { name = "web-1", image = "CentOS", size = "512x5" })
print(("created %s (%s): %s"):format(node.id, node.label, node.state))
node = must(cx:wait_until(node, "running", { timeout = 1800, progress = function(pct, info)
  io.write(("\r  %s, poll %d, %s%%   "):format(tostring(info.state), info.polls, tostring(pct or "?")))
  io.flush()
end }))
print()
print(("node %s is %s (%s); public %s, private %s"):format(node.name, node.state, node.provider_state,
  table.concat(node.public_ips, " "), table.concat(node.private_ips, " ")))
if env("LUACLOUD_KEEP") ~= "1" then
  must(cx:destroy_node(node))
  must(cx:wait_until(node, "terminated", { timeout = 1800 }))
  print("destroyed " .. node.id)
end
