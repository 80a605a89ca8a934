-- Page walk over HTTP (issue 17, paging): c:each over N Dimension Data servers from the nginx
-- simulator, page size BENCH_PAGE (BENCH_PREFETCH=0: no page ahead), client CPU (os.clock) and wall per walk, best and median of REPS.
-- Run from a tree's root: lua5.4 bench/page_walk.lua BASE_URL USER PASSWORD [where]
-- (the simulator is started and seeded by the caller, so two trees can walk the same one).
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local luacloud = require "luacloud"
local core = require "luacloud.core"

local base, user, pass, filtered = arg[1], arg[2], arg[3], arg[4] == "where"
local REPS = tonumber(os.getenv("BENCH_REPS")) or 5
local PAGE = tonumber(os.getenv("BENCH_PAGE")) or 250
local c = assert(luacloud.new("dimensiondata", { endpoint = base, username = user, password = pass,
  prefetch = os.getenv("BENCH_PREFETCH") ~= "0" }))
local opts = filtered and { where = { name = { glob = "*00" } }, fields = { "id", "name" } } or nil
local cpu, wall = {}, {}
local n
for r = 1, REPS do
  collectgarbage()
  local c0, w0 = os.clock(), core.now()
  n = 0
  for _ in c:each("list_servers_with_backup", { pageSize = PAGE }, opts) do n = n + 1 end
  cpu[r], wall[r] = os.clock() - c0, core.now() - w0
end
table.sort(cpu) table.sort(wall)
local mid = math.ceil(REPS / 2)
print(string.format("items=%d cpu best=%.3f median=%.3f wall best=%.3f median=%.3f", n, cpu[1], cpu[mid], wall[1], wall[mid]))
