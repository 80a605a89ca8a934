#!/usr/bin/env lua5.4
-- A node recipe for CenturyLink written against luacloud.compute (the same steps run on the other
-- clouds: examples/recipe_node_*.lua). Against the simulator (bin/luacloud-sim start):
--   lua5.4 examples/recipe_node_centurylink.lua        (LUACLOUD_KEEP=1 keeps the node)
-- The API names servers (e.g. WA1DEMOWEB101); the label is the server's Description.
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local luacloud = require "luacloud"
local env = os.getenv

local function must(res, err)
  if res == nil then error(tostring(err), 2) end
  return res
end

local cx = must(luacloud.compute("centurylink", {
  endpoint = env("LUACLOUD_CENTURYLINK_ENDPOINT") or "http://127.0.0.1:8080/centurylink",
  api_key = env("LUACLOUD_CENTURYLINK_API_KEY") or "demo-api-key",
  password = env("LUACLOUD_CENTURYLINK_PASSWORD") or "demo-password",
  account_alias = env("LUACLOUD_CENTURYLINK_ACCOUNT_ALIAS") or "DEMO",
  format = "json",
  state = nil,
  wait = { interval = 1, max_interval = 10, timeout = 1800 },
}))
for _, m in ipairs({ "list_images", "list_sizes", "list_locations", "list_networks" }) do
  local list, err = cx[m](cx)
  print(("%-15s %s"):format(m, list and (#list .. " items") or tostring(err)))
end

local node = must(cx:create_node { name = "web-1", image = "CENTOS", size = "1x2", location = "WA1",
  password = env("LUACLOUD_NODE_PASSWORD") or "Web-P4ssw0rd!" })
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
