-- Simulator scale (bench/run.lua section "simscale"), over HTTP against the nginx simulator,
-- at 1,000 and at 100,000 objects of a provider's biggest listing:
--   * Dimension Data pages its server listing: the median of PAGES pages fetched one by one
--     (different page numbers); target: a page at 100,000 within 3x of a page at 1,000; and the
--     walk of every item with c:each, target under 30 s wall;
--   * ReliaCloud, CenturyLink and Clodo list everything in one answer (their APIs do not page):
--     a small call (median of PAGES) at 100,000 within 3x of the same at 1,000, so the account's
--     size costs only the calls that list it; and the whole listing at 100,000 under 30 s.
-- BENCH_SIM_N overrides 100,000 (quick runs); BENCH_SIM_PROVIDERS=a,b runs only those.
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

-- the unpaged providers: { name, kind (seed), small = {op, params}, list = {op, params, items} }
local UNPAGED = {
  { name = "reliacloud", kind = "virtualmachine", small = { "list_zones", { available = true } },
    list = { "list_virtual_machine", {}, "virtualmachine" },
    client = function(sim) return assert(luacloud.new("reliacloud", { endpoint = sim.endpoints.reliacloud,
      api_key = "demo-api-key", secret_key = "demo-secret-key", max_response = 2 ^ 30 })) end },
  { name = "centurylink", kind = "servers", small = { "get_locations", {} },
    list = { "get_all_servers", { Location = "WA1" }, "Servers" },
    client = function(sim)
      local cr = sim.credentials.centurylink
      return assert(luacloud.new("centurylink", { endpoint = sim.endpoints.centurylink, api_key = cr.api_key,
        password = cr.password, account_alias = cr.account_alias, max_response = 2 ^ 30, timeout = 120 }))
    end },
  { name = "clodo", kind = "servers", small = { "get_balance", {} }, list = { "list_servers", {}, "server" },
    client = function(sim)
      local cr = sim.credentials.clodo
      return assert(luacloud.new("clodo", { endpoint = sim.endpoints.clodo, user = cr.user, key = cr.key,
        max_response = 2 ^ 30, timeout = 120 }))
    end },
}

local function small_time(c, op, params)
  local times = {}
  for _ = 1, PAGES do
    local t0 = core.now()
    assert(c:call(op, params))
    times[#times + 1] = core.now() - t0
  end
  return median(times)
end

local function bench_unpaged(sim, p)
  print(("== simulator scale: %s (no paging in the API): %s, and %s at %d"):format(p.name, p.small[1], p.list[1], BIG))
  seed(sim, p.name, p.kind, SMALL)
  local c = p.client(sim)
  assert(c:call(p.small[1], p.small[2]))
  local small = small_time(c, p.small[1], p.small[2])
  local seconds = seed(sim, p.name, p.kind, BIG)
  c = p.client(sim) -- a reset forgets sessions
  local big = small_time(c, p.small[1], p.small[2])
  print(("seeding %d objects            %8.1f s"):format(BIG, seconds))
  print(("small call at %6d (baseline)%8.2f ms   1.00x"):format(SMALL, small * 1e3))
  print(("small call at %6d          %8.2f ms   %.2fx   target <= 3x   %s"):format(BIG, big * 1e3, big / small,
    big / small <= 3 and "MET" or "MISSED"))
  local t0 = core.now()
  local res, err = c:call(p.list[1], p.list[2])
  local wall = core.now() - t0
  local n = 0
  if res then
    local items = res
    for part in p.list[3]:gmatch("[^.]+") do items = items and items[part] end
    n = items and #items or 0
  end
  print(("whole listing of %d items     %8.1f s    target < 30 s  %s%s"):format(n, wall,
    (res and wall < 30 and n >= BIG) and "MET" or "MISSED", res and "" or ("  (" .. tostring(err) .. ")")))
end

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
    local only = os.getenv("BENCH_SIM_PROVIDERS") -- e.g. "dimensiondata,clodo"
    local function wanted(p) return not only or ("," .. only .. ","):find("," .. p.name .. ",", 1, true) end
    for _, p in ipairs(PROVIDERS) do if wanted(p) then bench_provider(sim, p) end end
    for _, p in ipairs(UNPAGED) do
      local ok, err = true, nil
      if wanted(p) then ok, err = pcall(bench_unpaged, sim, p) end
      if not ok then print(p.name .. " failed: " .. tostring(err)) end
      sim.admin("POST", "/_sim/reset?provider=" .. p.name) -- free the worker's memory
    end
  end)
  sim.stop()
  if not ok then print("simscale bench failed: " .. tostring(err)) end
end

return M
