-- Filtered walk (issue 17): c:each over a big Dimension Data listing selecting 1% of the servers
-- with 3 fields, where/fields applied in C while decoding, against decoding every item and
-- filtering in Lua. The simulator's pages are recorded once and served from memory, so only
-- the client's work is timed. Also the decoder alone on one document of N servers.
-- BENCH_FILTER_SERVERS (default 10,000), BENCH_REPS.
local core = require "luacloud.core"
local luacloud = require "luacloud"

local M = {}

local N = tonumber(os.getenv("BENCH_FILTER_SERVERS")) or 10000
local REPS = tonumber(os.getenv("BENCH_REPS")) or 5
local OP = "list_servers_with_backup"
-- names are seed-0001 .. seed-N: "*00" keeps 1 in 100. glob is not a Dimension Data filter,
-- so both walks get the same pages from the server.
local WHERE = { name = { glob = "*00" } }
local FIELDS = { "id", "name", "cpuCount" }

-- best CPU time of each function, run in turns so that both see the same machine (it is shared),
-- with the collector running as in a real walk (its work is part of the cost of allocating), and
-- the bytes one run of each allocates (counted with the collector stopped)
local function measure(...)
  local fs, best, bytes = { ... }, {}, {}
  for i = 1, #fs do best[i] = math.huge end
  for _ = 1, REPS do
    for i, f in ipairs(fs) do
      collectgarbage()
      local t0 = os.clock()
      f()
      best[i] = math.min(best[i], os.clock() - t0)
    end
  end
  for i, f in ipairs(fs) do
    collectgarbage()
    collectgarbage("stop")
    local k0 = collectgarbage("count")
    f()
    bytes[i] = (collectgarbage("count") - k0) * 1024
    collectgarbage("restart")
  end
  return best, bytes
end

local function recorded_client()
  local sim = require("luacloud.sim.dimensiondata").new {}
  sim:seed("servers", N)
  local tape = {}
  local function live(req)
    local path = req.url:gsub("^https?://[^/]+", ""):gsub("^/dimensiondata", "")
    local st, rh, body = sim:handle { method = req.method, path = path, headers = req.headers, body = req.body }
    local lh = {}
    for k, v in pairs(rh or {}) do lh[k:lower()] = v end
    tape[req.method .. " " .. req.url] = { status = st, headers = lh, body = body }
    return tape[req.method .. " " .. req.url]
  end
  local opts = { username = "demo", password = "demo-password", endpoint = "http://sim.test/dimensiondata", transport = live }
  local c = assert(luacloud.new("dimensiondata", opts))
  local n = 0
  for _ in c:each(OP, { pageSize = 1000 }) do n = n + 1 end
  assert(n >= N, "the simulator listed " .. n)
  local page
  for key, resp in pairs(tape) do
    if key:find("pageSize=1000", 1, true) and not key:find("pageNumber", 1, true) then page = resp.body end
  end
  opts.transport = function(req) return assert(tape[req.method .. " " .. req.url], req.url) end
  return assert(luacloud.new("dimensiondata", opts)), n, assert(page, "no first page recorded")
end

local function lua_keep(s)
  if type(s.name) == "string" and s.name:find("00$") then
    return { id = s.id, name = s.name, cpuCount = s.cpuCount }
  end
end

function M.run()
  local c, n, doc = recorded_client()
  print(("== filtered walk: c:each over %d Dimension Data servers (simulator pages replayed from memory), "
    .. "1%% kept with 3 fields, best of %d"):format(n, REPS))
  local kept_lua, kept_c = {}, {}
  local t, b = measure(function()
    kept_lua = {}
    for s in c:each(OP, { pageSize = 1000 }) do kept_lua[#kept_lua + 1] = lua_keep(s) end
  end, function()
    kept_c = {}
    for s in c:each(OP, { pageSize = 1000 }, { where = WHERE, fields = FIELDS }) do kept_c[#kept_c + 1] = s end
  end)
  local t_all, t_c, b_all, b_c = t[1], t[2], b[1], b[2]
  assert(#kept_c == #kept_lua and #kept_c > 0, ("kept %d in C, %d in Lua"):format(#kept_c, #kept_lua))
  for i = 1, #kept_c do assert(kept_c[i].name == kept_lua[i].name and kept_c[i].cpuCount == kept_lua[i].cpuCount) end
  print(("decode all, filter in Lua     %8.1f ms  %7.1f MB allocated   1.00x"):format(t_all * 1e3, b_all / 1e6))
  print(("where+fields in C             %8.1f ms  %7.1f MB allocated   %.2fx less CPU, %.1fx less allocation   target >= 3x  %s")
    :format(t_c * 1e3, b_c / 1e6, t_all / t_c, b_all / math.max(b_c, 1), t_all / t_c >= 3 and "MET" or "MISSED"))

  -- the decoder alone: one document of n servers
  local f = assert(core.filter(WHERE, FIELDS))
  local lists = { server = true, disk = true, softwareLabel = true, machineStatus = true, step = true }
  local d = measure(function()
    local v = core.xml_decode(doc, { lists = lists })
    local out = {}
    for _, s in ipairs(v.server) do out[#out + 1] = lua_keep(s) end
  end, function() core.xml_decode(doc, { lists = lists, filter = f, items = "server" }) end,
  function() core.xml_decode(doc, { parse_only = true }) end)
  local d_all, d_c, d_parse = d[1], d[2], d[3]
  print(("one page of 1,000 (%.0f KB): xml_decode + Lua filter %.2f ms, with filter %.2f ms (%.2fx), libxml2 parse only %.2f ms")
    :format(#doc / 1024, d_all * 1e3, d_c * 1e3, d_all / d_c, d_parse * 1e3))
  return { n = n, all = t_all, c = t_c }
end

-- JSON: the same 1% / 3 fields over one ReliaCloud-like document of 10,000 machines
function M.run_json()
  local vms = {}
  for i = 1, 10000 do
    vms[i] = { id = i, name = ("vm-%05d"):format(i), displayname = "web tier " .. i, state = i % 3 == 0 and "Stopped" or "Running",
      zoneid = 1 + i % 4, cpunumber = 1 + i % 8, memory = 1024 * (1 + i % 4), created = "2012-05-25T20:48:23-0700",
      nic = setmetatable({ { id = i, ipaddress = ("10.1.%d.%d"):format(math.floor(i / 250), i % 250), netmask = "255.255.255.0" } }, core.array_mt) }
  end
  local doc = core.json_encode({ listvirtualmachinesresponse = { count = #vms, virtualmachine = setmetatable(vms, core.array_mt) } })
  local lists = { virtualmachine = true, nic = true }
  local f = assert(core.filter({ name = { glob = "*00" } }, { "id", "name", "cpunumber" }))
  local t, b = measure(function()
    local v = core.json_decode(doc, { lists = lists })
    local out = {}
    for _, m in ipairs(v.listvirtualmachinesresponse.virtualmachine) do
      if m.name:find("00$") then out[#out + 1] = { id = m.id, name = m.name, cpunumber = m.cpunumber } end
    end
    return out
  end, function() core.json_decode(doc, { lists = lists, filter = f, items = "*.virtualmachine" }) end)
  print(("JSON, 10,000 machines (%.1f MB): json_decode + Lua filter %.1f ms %.1f MB, with filter %.1f ms %.2f MB (%.2fx less CPU)")
    :format(#doc / 1e6, t[1] * 1e3, b[1] / 1e6, t[2] * 1e3, b[2] / 1e6, t[1] / t[2]))
  return { all = t[1], c = t[2] }
end

-- Over HTTP against the nginx simulator, each walk in its own process so that its peak RSS
-- (VmHWM) is its own: BENCH_FILTER_HTTP servers (default 100,000; 0 skips), target RSS <= 32 MB.
local function peak_rss_kb()
  local f = io.open("/proc/self/status")
  local s = f and f:read("a") or ""
  if f then f:close() end
  return tonumber(s:match("VmHWM:%s*(%d+)")) or 0
end

function M.child(mode, endpoint, user, pass)
  local c = assert(luacloud.new("dimensiondata", { endpoint = endpoint, username = user, password = pass, timeout = 120 }))
  local opts = mode == "c" and { where = WHERE, fields = FIELDS } or nil
  local kept, seen = 0, 0
  local t0, w0 = os.clock(), core.now()
  for s in c:each(OP, { pageSize = 1000 }, opts) do
    seen = seen + 1
    if mode == "c" or lua_keep(s) then kept = kept + 1 end
  end
  print(("%s %d %d %.3f %.3f %d"):format(mode, seen, kept, os.clock() - t0, core.now() - w0, peak_rss_kb()))
end

-- ref: a tree of an older commit (lua/ and build/): its unfiltered walk is the "before" of
-- the same simulator. Each walk runs BENCH_FILTER_ROUNDS times (default 2) in turns, best CPU kept.
function M.run_http(ref)
  local n = tonumber(os.getenv("BENCH_FILTER_HTTP")) or 100000
  if n <= 0 then return end
  local rounds = tonumber(os.getenv("BENCH_FILTER_ROUNDS")) or 2
  local support = require "support.sim"
  local sim = support.start()
  local ok, res = pcall(function()
    sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=servers&n=" .. n)
    local cr = sim.credentials.dimensiondata
    local ep = sim.endpoints.dimensiondata or (sim.base .. "/dimensiondata")
    local function walk(mode, tree)
      local out = support.sh(("%s -e 'package.path=\"%s/lua/?.lua;%s/lua/?/init.lua;spec/?.lua;\"..package.path; "
        .. "package.cpath=\"%s/%s/?.so;\"..package.cpath; dofile(\"bench/filter_walk.lua\").child(\"%s\", \"%s\", \"%s\", \"%s\")'")
        :format(arg and arg[-1] or "lua5.4", tree or ".", tree or ".", tree or ".", jit and "build-luajit" or "build", mode, ep,
          cr.username, cr.password))
      local m, seen, kept, cpu, wall, rss = out:match("(%a) (%d+) (%d+) ([%d.]+) ([%d.]+) (%d+)")
      assert(m, out)
      return { seen = tonumber(seen), kept = tonumber(kept), cpu = tonumber(cpu), wall = tonumber(wall), rss = tonumber(rss) }
    end
    local best = {}
    local function keep(name, w)
      local b = best[name]
      if not b then best[name] = w return end
      b.cpu, b.wall, b.rss = math.min(b.cpu, w.cpu), math.min(b.wall, w.wall), math.max(b.rss, w.rss)
    end
    for _ = 1, rounds do
      keep("all", walk("lua"))
      keep("c", walk("c"))
      if ref then keep("ref", walk("lua", ref)) end
    end
    local all, c, old = best.all, best.c, best.ref
    assert(c.kept == all.kept and c.kept > 0, ("kept %d in C, %d in Lua"):format(c.kept, all.kept))
    print(("== filtered walk over HTTP: %d servers from the nginx simulator, pageSize 1000, one process each, best of %d")
      :format(all.seen, rounds))
    print(("decode all, filter in Lua     CPU %6.2f s  wall %6.2f s  peak RSS %5.1f MB   1.00x"):format(all.cpu, all.wall, all.rss / 1024))
    print(("where+fields in C             CPU %6.2f s  wall %6.2f s  peak RSS %5.1f MB   %.2fx less CPU  target >= 3x %s, RSS <= 32 MB %s")
      :format(c.cpu, c.wall, c.rss / 1024, all.cpu / c.cpu, all.cpu / c.cpu >= 3 and "MET" or "MISSED",
        c.rss <= 32 * 1024 and "MET" or "MISSED"))
    if old then
      assert(old.seen == all.seen, ("the reference walk saw %d servers, this one %d"):format(old.seen, all.seen))
      print(("unfiltered walk, reference    CPU %6.2f s  wall %6.2f s  peak RSS %5.1f MB   (%s)"):format(old.cpu, old.wall,
        old.rss / 1024, ref))
      print(("unfiltered walk, this build   CPU %.2fx  wall %.2fx the reference"):format(all.cpu / old.cpu, all.wall / old.wall))
    end
    return { all = all, c = c, ref = old }
  end)
  sim.stop()
  if not ok then print("filtered walk over HTTP failed: " .. tostring(res)) return nil, res end
  return res
end

return M
