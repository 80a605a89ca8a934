#!/usr/bin/env lua5.4
-- Clodo: make a DNS zone hold exactly the records described here (create the zone if needed, add
-- missing records, fix changed ones, delete the others except SOA/NS). Running it twice changes nothing.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/clodo_dns_sync.lua [zone name]
-- Against the real API:             LUACLOUD_CLODO_ENDPOINT=https://api.clodo.ru LUACLOUD_CLODO_USER=... \
--                                    LUACLOUD_CLODO_KEY=... lua5.4 examples/clodo_dns_sync.lua example.com
-- LUACLOUD_CLODO_DRY_RUN=1 prints the plan only.
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local env = os.getenv

local zone_name = arg[1] or "luacloud-example.ru"
-- The wanted records (name relative to the zone, "@" = the zone itself).
local WANTED = {
  { name = "@", type = "A", content = "188.127.237.202", ttl = 3600 },
  { name = "www", type = "CNAME", content = zone_name, ttl = 3600 },
  { name = "@", type = "MX", content = "mail." .. zone_name, ttl = 3600, prio = 10 },
  { name = "mail", type = "A", content = "188.127.237.203", ttl = 3600 },
  { name = "@", type = "TXT", content = "v=spf1 mx -all", ttl = 3600 },
}
local KEEP_TYPES = { SOA = true, NS = true }

local c = example.client("clodo", { format = "json" })
local dry = env("LUACLOUD_CLODO_DRY_RUN") == "1"

local function fqdn(name)
  if name == "@" or name == "" then return zone_name end
  return name .. "." .. zone_name
end

-- 1. The zone (created as MASTER when missing).
local zone_id
for _, d in ipairs(must(c:list_dns_zones()).domains.domain) do
  if d.name == zone_name then zone_id = d.id end
end
if not zone_id then
  if dry then print("would create zone " .. zone_name) os.exit(0) end
  zone_id = must(c:create_dns_zone { newdomain = zone_name, newdomain_type = "MASTER" }).id
  print("created zone " .. zone_name .. " (" .. zone_id .. ")")
end

-- 2. Compare: records are matched by name + type (+ content for types that may repeat).
local MULTI = { A = true, AAAA = true, MX = true, TXT = true, NS = true }
local function key(name, typ, content)
  return name .. "|" .. typ .. (MULTI[typ] and ("|" .. content) or "")
end
local current = {}
for _, r in ipairs(must(c:get_dns_zone { id = zone_id }).records.record) do
  current[key(r.name, r.type, r.content)] = r
end
local add, change, seen = {}, {}, {}
for _, w in ipairs(WANTED) do
  local k = key(fqdn(w.name), w.type, w.content)
  seen[k] = true
  local r = current[k]
  if not r then
    add[#add + 1] = w
  elseif r.content ~= w.content or tostring(r.ttl) ~= tostring(w.ttl) or tostring(r.prio or 0) ~= tostring(w.prio
    or 0) then
    change[#change + 1] = { id = r.id, content = w.content, ttl = w.ttl, prio = w.prio or 0 }
  end
end
local remove = {}
for k, r in pairs(current) do
  if not seen[k] and not KEEP_TYPES[r.type] then remove[#remove + 1] = r end
end

print(("zone %s: %d to add, %d to change, %d to delete"):format(zone_name, #add, #change, #remove))
if dry then os.exit(0) end

-- 3. Apply. The API adds one new record per call (record id 0); changes to existing records go together.
for _, w in ipairs(add) do
  must(c:update_dns_zone { id = zone_id, records = { { name = fqdn(w.name), type = w.type, content = w.content,
    ttl = w.ttl, prio = w.prio or 0 } } })
  print(("  + %s %s %s"):format(fqdn(w.name), w.type, w.content))
end
if #change > 0 then
  must(c:update_dns_zone { id = zone_id, records = change })
  for _, ch in ipairs(change) do print(("  ~ record %s -> %s"):format(ch.id, ch.content)) end
end
for _, r in ipairs(remove) do
  local res = must(c:delete_dns_record { id = zone_id, delete_record = r.id })
  print(("  - %s %s %s (SOA serial now %s)"):format(r.name, r.type, r.content, tostring(res.new_soa)))
end
