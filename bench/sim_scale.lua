-- Simulator scale (bench/run.lua section "simscale"): the biggest paged listing of a provider
-- at 1,000 and at 100,000 objects, over HTTP against the nginx simulator.
--   * a page: the median of PAGES pages fetched one by one (different page numbers), at
--     1,000 and at 100,000 objects; target: the 100,000 page within 3x of the 1,000 page;
--   * the walk: every item of the 100,000 with c:each; target under 30 s wall.
-- BENCH_SIM_N overrides 100,000 (quick runs).
local core = require "luacloud.core"
local luacloud = require "luacloud"
local support = require "support.sim"

local M = {}

local BIG = tonumber(os.getenv("BENCH_SIM_N")) or 100000
local SMALL = 1000
local PAGES = 9

local function median(t)
  table.sort(t)
  return t[math.ceil(#t / 2)]
end

local function seed(sim, provider, kind, n)
  assert(sim.admin("POST", "/_sim/reset?provider=" .. provider))
  local t0 = core.now()
  local left = n
  while left > 0 do -- in slices: one admin request holds the worker
    local k = math.min(left, 20000)
    local r, st = sim.admin("POST", ("/_sim/seed?provider=%s&kind=%s&n=%d"):format(provider, kind, k))
    assert(st == 200, "seed failed: " .. tostring(r and r.error))
    left = left - k
  end
  return core.now() - t0
end

-- seconds per page: median of PAGES single pages spread over the listing
local function page_time(c, op, params, n, size)
  local pages = math.max(1, math.floor(n / size))
  local times = {}
  for i = 1, PAGES do
    local p = {}
    for k, v in pairs(params) do p[k] = v end
    p.page_number = math.max(1, math.floor(i * pages / (PAGES + 1)))
    local t0 = core.now()
    assert(c:call(op, p))
    times[#times + 1] = core.now() - t0
  end
  return median(times)
end

local PROVIDERS = {
  {
    name = "dimensiondata", op = "list_servers_with_parameters", kind = "servers", size = 250,
    params = { page_size = 250 },
    client = function(sim)
      local cr = sim.credentials.dimensiondata
      return assert(luacloud.new("dimensiondata", { endpoint = sim.endpoints.dimensiondata,
        username = cr.username, password = cr.password, format = "xml" }))
    end,
  },
}

local function bench_provider(sim, p)
  local c = p.client(sim)
  print(("== simulator scale: %s %s, pages of %d"):format(p.name, p.op, p.size))
  seed(sim, p.name, p.kind, SMALL)
  assert(c:call(p.op, p.params)) -- warm up (login, code paths)
  local small = page_time(c, p.op, p.params, SMALL, p.size)
  local seconds = seed(sim, p.name, p.kind, BIG)
  local big = page_time(c, p.op, p.params, BIG, p.size)
  print(("seeding %d objects            %8.1f s"):format(BIG, seconds))
  print(("page at %6d (baseline)     %8.1f ms   1.00x"):format(SMALL, small * 1e3))
  print(("page at %6d                %8.1f ms   %.2fx   target <= 3x   %s"):format(BIG, big * 1e3, big / small,
    big / small <= 3 and "MET" or "MISSED"))
  local t0, n = core.now(), 0
  local params = {}
  for k, v in pairs(p.params) do params[k] = v end
  for _ in c:each(p.op, params) do n = n + 1 end
  local walk = core.now() - t0
  print(("walk of %d items (c:each)    %8.1f s    target < 30 s  %s"):format(n, walk,
    (walk < 30 and n == BIG) and "MET" or "MISSED"))
end

function M.run()
  local sim = support.start()
  local ok, err = pcall(function()
    for _, p in ipairs(PROVIDERS) do bench_provider(sim, p) end
  end)
  sim.stop()
  if not ok then print("simscale bench failed: " .. tostring(err)) end
end

return M
