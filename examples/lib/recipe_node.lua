-- The node recipe every examples/recipe_node_<provider>.lua runs against luacloud.compute: list
-- what the cloud offers, create a node, wait until it runs, print its addresses, destroy it and
-- wait until it is gone (LUACLOUD_KEEP=1 keeps it). Only the per-cloud values differ.
local example = require "example"
local must = example.must

local WAIT = { interval = 1, max_interval = 10, timeout = 1800 }

local function progress(pct, info)
  io.write(("\r  %s, poll %d, %s%%   "):format(tostring(info.state), info.polls, tostring(pct or "?")))
  io.flush()
end

local function list_offers(cx)
  for _, m in ipairs({ "list_images", "list_sizes", "list_locations", "list_networks" }) do
    local list, err = cx[m](cx)
    print(("%-15s %s"):format(m, list and (#list .. " items") or tostring(err)))
  end
end

local M = {}

--- run{ provider, options = client defaults, node = create_node params or function(cx) -> params,
--- destroy = destroy_node options }
function M.run(r)
  local opts = { wait = WAIT }
  for k, v in pairs(r.options or {}) do opts[k] = v end
  local cx = example.compute(r.provider, opts)
  list_offers(cx)
  local params = type(r.node) == "function" and r.node(cx) or r.node
  local node = must(cx:create_node(params))
  print(("created %s (%s): %s"):format(node.id, node.label, node.state))
  node = must(cx:wait_until(node, "running", { timeout = WAIT.timeout, progress = progress }))
  print()
  print(("node %s is %s (%s); public %s, private %s"):format(node.name, node.state, node.provider_state,
    table.concat(node.public_ips, " "), table.concat(node.private_ips, " ")))
  if os.getenv("LUACLOUD_KEEP") ~= "1" then
    must(cx:destroy_node(node, r.destroy))
    must(cx:wait_until(node, "terminated", { timeout = WAIT.timeout }))
    print("destroyed " .. node.id)
  end
end

return M
