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
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
-- Stops the example on an error (the error object prints provider, operation, status, message).
local must = example.must

-- deploy, start, stop and reboot answer synchronously and can take minutes
local c = example.client("reliacloud", { format = "xml", timeout = 600 })

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
if not c.opts.api_key then c:logout {} end -- a session login (LUACLOUD_RELIACLOUD_USERNAME) ends
c:close()
