#!/usr/bin/env lua5.4
-- ReliaCloud quickstart: deploy a VM, open port 22 with an ip forwarding rule, list what
-- exists, then tear everything down.
--
-- Against the simulator (default):   bin/luacloud-sim start
--                                     lua5.4 examples/reliacloud_quickstart.lua
-- Against a real endpoint:            LUACLOUD_RELIACLOUD_ENDPOINT=http://host:8080/client/api \
--                                     LUACLOUD_RELIACLOUD_API_KEY=... LUACLOUD_RELIACLOUD_SECRET_KEY=... \
--                                     lua5.4 examples/reliacloud_quickstart.lua
-- Session login instead of API keys:  LUACLOUD_RELIACLOUD_USERNAME=... LUACLOUD_RELIACLOUD_PASSWORD=...
-- Run from the repository root (or set LUA_PATH/LUA_CPATH for an installed luacloud).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath

local luacloud = require "luacloud"

local env = os.getenv
local opts = {
  endpoint = env("LUACLOUD_RELIACLOUD_ENDPOINT") or "http://127.0.0.1:8080/reliacloud/client/api",
  format = env("LUACLOUD_RELIACLOUD_FORMAT") or "xml",
  timeout = 600, -- deploy, start, stop and reboot answer synchronously and can take minutes
}
if env("LUACLOUD_RELIACLOUD_USERNAME") then
  opts.username = env("LUACLOUD_RELIACLOUD_USERNAME")
  opts.password = env("LUACLOUD_RELIACLOUD_PASSWORD")
else
  opts.api_key = env("LUACLOUD_RELIACLOUD_API_KEY") or "demo-api-key"
  opts.secret_key = env("LUACLOUD_RELIACLOUD_SECRET_KEY") or "demo-secret-key"
end

local c = assert(luacloud.new("reliacloud", opts))

-- Stops the example on an error (the error object prints provider, operation, status, message).
local function must(res, err)
  if res == nil then error(tostring(err), 2) end
  return res
end

-- 1. Pick a zone (a new account must ask for available=true), a ready template, the smallest offering.
local zone = must(c:list_zones { available = true }).zone[1]
local template = must(c:list_templates { isReady = true }).template[1]
local offering = must(c:list_service_offerings {}).offering[1]
print(("zone %s (%s), template %s (%s), offering %s (%s)"):format(zone.id, zone.name,
  template.id, template.name, offering.id, offering.name))

-- 2. Deploy. The answer is synchronous and carries the only copy of the initial password.
local vm = must(c:deploy_virtual_machine { zoneId = zone.id, serviceOfferingId = offering.id,
  templateId = template.id, networkDomain = "quickstart.example" })
-- (keep vm.password somewhere safe: it is never printed)
print(("deployed vm %s %s: %s, private ip %s, initial password %s"):format(vm.id, vm.name, vm.state,
  vm.ipaddress, vm.password and ("received (" .. #vm.password .. " characters)") or "not returned"))

-- 3. A public address for the VM, and port 22 forwarded to it.
local ip = must(c:associate_ip_address { zoneid = zone.id })
print("associated public ip " .. ip.ipaddress)
local rule = must(c:create_or_update_ip_forwarding_rule { publicip = ip.ipaddress, publicPort = 22,
  privateip = vm.ipaddress, privatePort = 22, Protocol = "TCP" })
print(("forwarding rule %s: %s:%s -> %s:%s %s"):format(rule.id, rule.publicip, rule.publicport,
  rule.privateip, rule.privateport, rule.protocol))

-- 4. List what the account has now.
for v in c:each("list_virtual_machine", {}) do
  print(("  vm %s %-14s %-8s zone %s"):format(v.id, v.name, v.state, v.zonename))
end
for a in c:each("list_ip_address", {}) do
  print(("  ip %-15s source nat %s"):format(a.ipaddress, a.issourcenat))
end
for r in c:each("list_ip_forwarding_rules", { publicip = ip.ipaddress }) do
  print(("  rule %s %s:%s -> %s:%s %s"):format(r.id, r.publicip, r.publicport, r.privateip, r.privateport, r.protocol))
end

-- 5. Tear down in reverse order.
must(c:delete_ip_forwarding_rule { id = rule.id })
print("deleted forwarding rule " .. rule.id)
must(c:disassociate_ip_address { ipAddress = ip.ipaddress })
print("released " .. ip.ipaddress)
must(c:destroy_virtual_machine { id = vm.id })
print("destroyed vm " .. vm.id)

local left = must(c:list_virtual_machine {}).virtualmachine
print(("%d virtual machine(s) left"):format(#left))
if opts.username then c:logout {} end
c:close()
