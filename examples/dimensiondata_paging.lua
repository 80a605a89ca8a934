#!/usr/bin/env lua5.4
-- Dimension Data: page through List Servers (With Parameters) - Backup (section 1.8): page by page with the
-- paging attributes, all items with c:each, and with filters (EQUALS, IN by repetition, created.MIN) and orderBy.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/dimensiondata_paging.lua [page size]
--   (with the simulator, 120 servers are seeded first through its admin interface, /_sim/seed;
--    LUACLOUD_DIMENSIONDATA_SEED=0 skips that)
-- Against the real API:             LUACLOUD_DIMENSIONDATA_ENDPOINT=https://api-na.dimensiondata.com \
--                                    LUACLOUD_DIMENSIONDATA_USERNAME=... LUACLOUD_DIMENSIONDATA_PASSWORD=... \
--                                    lua5.4 examples/dimensiondata_paging.lua 50
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local core = require "luacloud.core"
local env = os.getenv

local c = example.client("dimensiondata")
local endpoint = c.endpoint

local page_size = tonumber(arg[1]) or 25

-- Seed the simulator (served under /dimensiondata) so that there is something to page through.
if endpoint:match("/dimensiondata/?$") and env("LUACLOUD_DIMENSIONDATA_SEED") ~= "0" then
  local root = endpoint:gsub("/dimensiondata$", "")
  local s = core.session {}
  local r = s:request { method = "POST", url = root .. "/_sim/seed?provider=dimensiondata&kind=servers&n=120" }
  print("simulator seed: HTTP " .. tostring(r and r.status))
end

-- 1. Page by page: the list element carries totalCount, pageCount (records on the page), pageNumber, pageSize.
local n = 0
for page in c:pages("list_servers_with_backup", { pageSize = page_size, orderBy = "name" }) do
  local p = page.result.paging
  n = n + 1
  print(("page %d: %d of %d servers (page size %d), first %s"):format(p.pageNumber, p.pageCount, p.totalCount,
    p.pageSize, page.items[1] and page.items[1].name or "-"))
  if n >= 5 and p.pageNumber * p.pageSize < p.totalCount then print("  ... (stopping after 5 pages)") break end
end

-- 2. Every item, whatever the number of pages.
local total, running = 0, 0
for server in c:each("list_servers_with_backup", { pageSize = page_size }) do
  total = total + 1
  if server.isStarted == "true" then running = running + 1 end
end
print(("%d servers, %d running"):format(total, running))

-- 3. Filters: EQUALS, IN (a list repeats the parameter), MIN on created, and a descending order.
local na1 = must(c:list_servers_with_backup { location = "NA1", pageSize = 1 })
print("in NA1: " .. na1.paging.totalCount)
local in_two = must(c:list_servers_with_backup { _raw = { location = { "NA1", "NA3" } }, pageSize = 1 })
print("in NA1 or NA3: " .. in_two.paging.totalCount)
local recent = must(c:list_servers_with_backup { ["created.MIN"] = os.date("!%Y%m%d", os.time() - 86400), pageSize = 1 })
print("created since yesterday: " .. recent.paging.totalCount)
local last = must(c:list_servers_with_backup { orderBy = "created.DESCENDING", pageSize = 3 })
for _, s in ipairs(last.server) do print(("  newest: %s created %s"):format(s.name, s.created)) end

-- 4. The API's own checks (section 1.8.2): an unknown filter is REASON_70.
local _, err = c:list_servers_with_backup { _raw = { colour = "blue" } }
print(("unknown filter -> %s: %s"):format(err.code, err.message))
