-- Soak: many calls against the nginx simulators, the four providers mixed, with
-- the process's RSS (/proc/self/status) and open fds (/proc/<pid>/fd) sampled
-- every SAMPLE calls. Fails when RSS grows more than RSS_BOUND_KB after the
-- warm-up or the fd count ends above its post-warm-up value: a leak in the C
-- core (handles, libxml2 docs, buffers) or in the engine (caches, contexts,
-- cookie jars) grows one of them steadily, while a bounded cache flattens out.
--   lua5.4 bench/soak.lua            (SOAK_CALLS=100000 SOAK_SAMPLE=2000 by default)
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
if not package.cpath:find("build/?.so", 1, true) then
  package.cpath = (jit and "build-luajit/?.so;" or "build/?.so;") .. package.cpath
end
local core = require "luacloud.core"
local luacloud = require "luacloud"
local support = require "support.sim"

local M = {}

local CALLS = tonumber(os.getenv("SOAK_CALLS")) or 100000
local SAMPLE = tonumber(os.getenv("SOAK_SAMPLE")) or 2000
local WARMUP = math.floor(CALLS * 0.1)
-- after warm-up the caches (snake memo, path keys, decoder options, curl's connection and DNS
-- caches) are full; what is left is malloc and GC jitter, which stays well under this
local RSS_BOUND_KB = tonumber(os.getenv("SOAK_RSS_BOUND_KB")) or 2048

-- per provider: calls that succeed, one that the server refuses (the error path: error objects,
-- server error decoding) and one that the validator refuses without sending
local MIX = {
  reliacloud = {
    { "list_zones", { available = true } },
    { "list_virtual_machine", {} },
    { "list_service_offerings", {} },
    { "list_virtual_machine", { id = "no-such-vm" }, fails = true },
    { "list_zones", { no_such_param = 1 }, fails = true },
  },
  dimensiondata = {
    { "list_networks_with_location", {} },
    { "list_data_centers", {} },
    { "list_servers", {} },
    { "get_server_details", { server_id = "no-such-server" }, fails = true },
    { "list_servers", { no_such_param = 1 }, fails = true },
  },
  centurylink = {
    { "get_locations", {} },
    { "get_all_servers", {} },
    { "get_server_templates", {} },
    { "get_server", { Name = "NOSUCHSRV01" }, fails = true },
    { "get_locations", { no_such_param = 1 }, fails = true },
  },
  -- the simulator keeps the document's 60 GET/min: past it a read is answered 413 OverLimit (an
  -- error path too, never waited for: retries = 0); GET /limits is not counted
  clodo = {
    { "list_images", {}, either = true },
    { "list_servers", {}, either = true },
    { "get_limits", {} },
    { "get_server", { id = 999999 }, fails = true },
    { "list_images", { no_such_param = 1 }, fails = true },
  },
}
local ORDER = { "reliacloud", "dimensiondata", "centurylink", "clodo" }

local function pid()
  local f = assert(io.open("/proc/self/stat"))
  local s = f:read("l")
  f:close()
  return s:match("^(%d+)")
end

local PID = pid()

local function rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

-- counted from outside the process (a shell reading /proc/<pid>/fd): our popen pipe is one of them,
-- the same one every time
local function fds()
  local p = assert(io.popen("ls /proc/" .. PID .. "/fd | wc -l"))
  local n = tonumber(p:read("a"))
  p:close()
  return n
end

-- least squares slope of y over x
local function slope(xs, ys)
  local n, sx, sy, sxx, sxy = #xs, 0, 0, 0, 0
  for i = 1, n do sx, sy = sx + xs[i], sy + ys[i]; sxx, sxy = sxx + xs[i] ^ 2, sxy + xs[i] * ys[i] end
  local d = n * sxx - sx * sx
  return d ~= 0 and (n * sxy - sx * sy) / d or 0
end

local function clients(sim)
  local cs = {}
  for _, name in ipairs(ORDER) do
    local o = { endpoint = sim.endpoints[name], timeout = 10, retries = name == "clodo" and 0 or nil }
    for k, v in pairs(sim.credentials[name]) do if o[k] == nil and type(v) == "string" then o[k] = v end end
    cs[name] = assert(luacloud.new(name, o))
  end
  return cs
end

-- every call once before counting: a catalog entry that no longer exists or a mix entry that does
-- not behave as written is a broken bench, not a leak
local function check_mix(cs)
  for _, name in ipairs(ORDER) do
    for _, m in ipairs(MIX[name]) do
      local r, err = cs[name]:call(m[1], m[2])
      if m.either then
        assert(r ~= nil or (err and err.status == 413), name .. " " .. m[1] .. ": " .. tostring(err))
      elseif m.fails then
        assert(r == nil and err, name .. " " .. m[1] .. " was expected to fail")
      else
        assert(r ~= nil, name .. " " .. m[1] .. ": " .. tostring(err))
      end
    end
  end
end

function M.run()
  local sim = support.start()
  local ok, res = pcall(function()
    local cs = clients(sim)
    check_mix(cs)
    local calls = {}
    for _, name in ipairs(ORDER) do
      for _, m in ipairs(MIX[name]) do calls[#calls + 1] = { cs[name], m[1], m[2], m.fails, m.either } end
    end
    print(("== soak: %d calls, %d kinds over the four providers (nginx simulators), sampled every %d"):format(
      CALLS, #calls, SAMPLE))
    local xs, rss, fd = {}, {}, {}
    local failed_unexpectedly = 0
    local t0 = core.now()
    local start_rss, start_fd = rss_kb(), fds()
    local warm_rss, warm_fd
    for i = 1, CALLS do
      local c = calls[(i - 1) % #calls + 1]
      local r, err = c[1]:call(c[2], c[3])
      local as_expected
      if c[5] then as_expected = r ~= nil or err.status == 413 else as_expected = (r == nil) == (c[4] == true) end
      if not as_expected then
        failed_unexpectedly = failed_unexpectedly + 1
        if failed_unexpectedly <= 3 then print("unexpected outcome: " .. c[2] .. ": " .. tostring(err)) end
      end
      if i % SAMPLE == 0 then
        collectgarbage()
        local r_kb, n_fd = rss_kb(), fds()
        if i >= WARMUP then
          warm_rss, warm_fd = warm_rss or r_kb, warm_fd or n_fd
          xs[#xs + 1], rss[#rss + 1], fd[#fd + 1] = i, r_kb, n_fd
        end
      end
    end
    local wall = core.now() - t0
    local max_rss, max_fd = 0, 0
    for i = 1, #rss do max_rss, max_fd = math.max(max_rss, rss[i]), math.max(max_fd, fd[i]) end
    local end_rss, end_fd = rss[#rss], fd[#fd]
    local growth = end_rss - warm_rss
    local kb_per_10k = slope(xs, rss) * 10000
    print(("calls %d in %.1f s (%.0f calls/s), unexpected outcomes %d"):format(CALLS, wall, CALLS / wall,
      failed_unexpectedly))
    print(("RSS KB   start %d  after warm-up (%d calls) %d  end %d  max %d  slope %+.1f KB/10k calls"):format(
      start_rss, WARMUP, warm_rss, end_rss, max_rss, kb_per_10k))
    print(("open fds start %d  after warm-up %d  end %d  max %d  slope %+.3f/10k calls"):format(
      start_fd, warm_fd, end_fd, max_fd, slope(xs, fd) * 10000))
    local rss_ok = growth <= RSS_BOUND_KB
    -- a sample may catch a connection the server just closed next to its successor (one more fd
    -- for a moment); a leaked fd never goes away, so the fewest fds seen late must not exceed
    -- the most seen early
    local k = math.max(1, math.min(5, math.floor(#fd / 4)))
    local early, late = 0, math.huge
    for i = 1, k do early, late = math.max(early, fd[i]), math.min(late, fd[#fd - i + 1]) end
    local fd_ok = late <= early
    print(("RSS growth after warm-up %+d KB   bound <= %d KB   %s"):format(growth, RSS_BOUND_KB, rss_ok and "MET" or "MISSED"))
    print(("fds: fewest of the last %d samples %d, most of the first %d after warm-up %d   bound: not more   %s"):format(
      k, late, k, early, fd_ok and "MET" or "MISSED"))
    for _, c in pairs(cs) do c:close() end
    return rss_ok and fd_ok and failed_unexpectedly == 0
  end)
  sim.stop()
  if not ok then print("soak failed: " .. tostring(res)) return false end
  return res
end

if arg and arg[0] and arg[0]:match("soak%.lua$") then
  os.exit(M.run() and 0 or 1)
end
return M
