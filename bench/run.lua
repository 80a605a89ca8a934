-- luacloud benchmarks: every figure is measured side by side in this one run
-- and printed as a ratio against its baseline.
--   1. decoding a 10,000-server listing: XML (libxml2 -> tables) and JSON (cJSON -> tables)
--      against lua-cjson decoding the same data as JSON; libxml2 parse-only time beside them.
--   2. small calls per second over keep-alive: the full client (validate, sign, send, decode)
--      against a raw libcurl loop on the same URL of the same simulator.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local core = require "luacloud.core"
local ok_cjson, cjson = pcall(require, "cjson")

local N = tonumber(os.getenv("BENCH_SERVERS")) or 10000
local REPS = tonumber(os.getenv("BENCH_REPS")) or 5

local function best(f)
  local t = math.huge
  for _ = 1, REPS do
    collectgarbage()
    collectgarbage("stop")
    local t0 = core.now()
    f()
    t = math.min(t, core.now() - t0)
    collectgarbage("restart")
  end
  return t
end

-- a Dimension Data-like listing, namespaced, with attributes and nesting
local function make_data(n)
  local xml = { '<?xml version="1.0" encoding="UTF-8"?><ns4:ServersWithBackup xmlns:ns4="http://oec.api.opsource.net/schemas/server" pageNumber="1" pageCount="1" totalCount="', n, '" pageSize="', n, '">' }
  local list = {}
  for i = 1, n do
    local s = { id = ("e75ead52-692f-4314-8725-%012d"):format(i), location = "NA1", name = "server-" .. i,
      description = "web tier node " .. i, operatingSystem = { id = "REDHAT564", displayName = "REDHAT5/64", type = "UNIX" },
      cpuCount = tostring(1 + i % 8), memoryMb = tostring(1024 * (1 + i % 4)), osStorageGb = "10",
      additionalDisk = { { id = "d" .. i, scsiId = "1", diskSizeGb = "50", state = "NORMAL" } },
      machineName = "10-157-" .. i, privateIp = ("10.157.%d.%d"):format(i // 250, i % 250), networkId = "a4dee6a4",
      state = "NORMAL", isDeployed = "true", isStarted = tostring(i % 3 ~= 0), created = "2012-05-25T20:48:23.000Z" }
    list[i] = s
    xml[#xml + 1] = ('<ns4:serverWithBackup id="%s" location="%s"><ns4:name>%s</ns4:name><ns4:description>%s</ns4:description>'
      .. '<ns4:operatingSystem id="%s" displayName="%s" type="%s"/><ns4:cpuCount>%s</ns4:cpuCount><ns4:memoryMb>%s</ns4:memoryMb>'
      .. '<ns4:osStorageGb>%s</ns4:osStorageGb><ns4:additionalDisk id="%s" scsiId="%s" diskSizeGb="%s" state="%s"/>'
      .. '<ns4:machineName>%s</ns4:machineName><ns4:privateIp>%s</ns4:privateIp><ns4:networkId>%s</ns4:networkId>'
      .. '<ns4:state>%s</ns4:state><ns4:isDeployed>%s</ns4:isDeployed><ns4:isStarted>%s</ns4:isStarted><ns4:created>%s</ns4:created></ns4:serverWithBackup>')
      :format(s.id, s.location, s.name, s.description, s.operatingSystem.id, s.operatingSystem.displayName, s.operatingSystem.type,
        s.cpuCount, s.memoryMb, s.osStorageGb, s.additionalDisk[1].id, s.additionalDisk[1].scsiId, s.additionalDisk[1].diskSizeGb,
        s.additionalDisk[1].state, s.machineName, s.privateIp, s.networkId, s.state, s.isDeployed, s.isStarted, s.created)
  end
  xml[#xml + 1] = "</ns4:ServersWithBackup>"
  local json = core.json_encode({ pageNumber = 1, pageCount = 1, totalCount = n, pageSize = n,
                                  serverWithBackup = setmetatable(list, core.array_mt) })
  return table.concat(xml), json
end

-- targets are issue 17's: JSON <= 1.1x and XML <= 1.5x lua-cjson on the same data
local function decode_bench()
  local xml, json = make_data(N)
  print(("== decode %d servers: XML %.1f MB, JSON %.1f MB (best of %d)"):format(N, #xml / 1e6, #json / 1e6, REPS))
  local lists = { serverWithBackup = true, additionalDisk = true }
  local check = assert(core.xml_decode(xml, { lists = lists }))
  assert(#check.serverWithBackup == N and check.serverWithBackup[N].name == "server-" .. N)
  assert(#assert(core.json_decode(json, { lists = lists })).serverWithBackup == N)
  local t_xml = best(function() core.xml_decode(xml, { lists = lists }) end)
  local t_parse = best(function() core.xml_decode(xml, { parse_only = true }) end)
  local t_json = best(function() core.json_decode(json, { lists = lists }) end)
  if not ok_cjson then
    print("lua-cjson is not installed (apt-get install lua-cjson): no baseline")
    print(("xml_decode %.1f ms, json_decode %.1f ms, libxml2 parse only %.1f ms"):format(t_xml * 1e3, t_json * 1e3, t_parse * 1e3))
    return
  end
  local t_cjson = best(function() cjson.decode(json) end)
  local t_tree = best(function() core._json_decode_cjson(json, { lists = lists }) end)
  print(("lua-cjson decode (baseline)   %8.1f ms   1.00x"):format(t_cjson * 1e3))
  print(("luacloud json_decode (direct) %8.1f ms   %.2fx   target <= 1.1x  %s"):format(t_json * 1e3, t_json / t_cjson,
    t_json / t_cjson <= 1.1 and "MET" or "MISSED"))
  print(("cJSON tree + conversion       %8.1f ms   %.2fx   (why json_decode parses directly)"):format(t_tree * 1e3, t_tree / t_cjson))
  print(("luacloud xml_decode (libxml2) %8.1f ms   %.2fx   target <= 1.5x  %s"):format(t_xml * 1e3, t_xml / t_cjson,
    t_xml / t_cjson <= 1.5 and "MET" or "MISSED"))
  print(("libxml2 parse only (no tables)%8.1f ms   %.2fx"):format(t_parse * 1e3, t_parse / t_cjson))
end

local function calls_bench()
  local support = require "support.sim"
  local sh = support.sh
  local out, rc = sh("cc -O2 -o /tmp/luacloud_raw_curl bench/raw_curl.c $(pkg-config --cflags --libs libcurl)")
  if rc ~= 0 then print("cannot build bench/raw_curl.c: " .. out) return end
  local sim = support.start()
  local ok, err = pcall(function()
    local luacloud = require "luacloud"
    local c = assert(luacloud.new("reliacloud", { endpoint = sim.endpoints.reliacloud, api_key = "demo-api-key",
                                                  secret_key = "demo-secret-key" }))
    local calls = tonumber(os.getenv("BENCH_CALLS")) or 2000
    assert(c:list_zones { available = true })
    local signed = assert(c:call("list_zones", { available = true }) and
      luacloud.new("reliacloud", { endpoint = sim.endpoints.reliacloud, api_key = "demo-api-key",
                                   secret_key = "demo-secret-key", dry_run = true }):list_zones { available = true }).request.url
    print(("== small calls over keep-alive: %d x listZones against the nginx simulator"):format(calls))
    local rounds = {}
    for round = 1, 3 do
      local raw = tonumber((sh("/tmp/luacloud_raw_curl '" .. signed .. "' " .. calls)))
      local t0 = core.now()
      for _ = 1, calls do assert(c:list_zones { available = true }) end
      local ours = calls / (core.now() - t0)
      rounds[round] = { raw = raw, ours = ours }
    end
    table.sort(rounds, function(a, b) return a.ours / a.raw > b.ours / b.raw end)
    local r = rounds[2] -- the median round
    print(("raw libcurl loop (baseline)   %8.0f calls/s   1.00x"):format(r.raw))
    print(("luacloud client               %8.0f calls/s   %.2fx   target >= 0.9x   %s"):format(r.ours, r.ours / r.raw,
      r.ours / r.raw >= 0.9 and "MET" or "MISSED"))
  end)
  sim.stop()
  if not ok then print("calls bench failed: " .. tostring(err)) end
end

-- 2b. small calls against their floor: one reused libcurl handle (core.session) GETting the
-- signed URL and lua-cjson decoding the answer, nothing else - what any client must at least do
local function floor_bench()
  if not ok_cjson then print("lua-cjson is not installed (apt-get install lua-cjson): no floor") return end
  local support = require "support.sim"
  local sim = support.start()
  local ok, err = pcall(function()
    local luacloud = require "luacloud"
    local o = { endpoint = sim.endpoints.reliacloud, api_key = "demo-api-key", secret_key = "demo-secret-key",
                format = "json" }
    local c = assert(luacloud.new("reliacloud", o))
    local dry = { dry_run = true } -- a copy: the client keeps its options table
    for k, v in pairs(o) do dry[k] = v end
    local url = assert(luacloud.new("reliacloud", dry)):list_zones { available = true }.request.url
    local s = core.session { timeout = 10 }
    local calls = tonumber(os.getenv("BENCH_CALLS")) or 2000
    local function floor()
      for _ = 1, calls do
        local r = assert(s:request { url = url })
        assert(r.status == 200 and cjson.decode(r.body).listzonesresponse)
      end
    end
    local function ours()
      for _ = 1, calls do assert(c:list_zones { available = true }) end
    end
    floor() ours() -- connections up, caches warm
    local rounds = {}
    for round = 1, 5 do
      local t0 = core.now()
      floor()
      local t1 = core.now()
      ours()
      rounds[round] = { floor = t1 - t0, ours = core.now() - t1 }
    end
    table.sort(rounds, function(a, b) return a.ours / a.floor < b.ours / b.floor end)
    local r = rounds[3] -- the median round
    print(("== small calls against the floor: %d x listZones (JSON), median of 5 rounds"):format(calls))
    print(("reused handle + lua-cjson     %8.0f calls/s   1.00x (time per call)"):format(calls / r.floor))
    print(("luacloud client               %8.0f calls/s   %.2fx   target <= 1.1x   %s"):format(calls / r.ours,
      r.ours / r.floor, r.ours / r.floor <= 1.1 and "MET" or "MISSED"))
    s:close()
  end)
  sim.stop()
  if not ok then print("floor bench failed: " .. tostring(err)) end
end

-- 3. inside nginx: the cosocket transport beside libcurl, same worker, same simulator (TLS)
local function ngx_bench()
  local support = require "support.sim"
  local sh = support.sh
  local port, sim_port = 20000 + math.random(0, 5999), 26000 + math.random(0, 5999)
  local state = os.tmpname()
  os.remove(state)
  local env = "LUACLOUD_APP_STATE=" .. state .. " "
  local out, rc = sh(env .. "examples/openresty/run start --port " .. port .. " --sim-port " .. sim_port)
  if rc ~= 0 then print("cannot start the OpenResty example: " .. out) return end
  local s = core.session { timeout = 120 }
  local r = s:request { url = ("http://127.0.0.1:%d/bench?n=%d"):format(port, tonumber(os.getenv("BENCH_NGX_CALLS")) or 1000) }
  sh(env .. "examples/openresty/run stop --port " .. port .. " --sim-port " .. sim_port)
  sh("rm -rf '" .. state .. "'")
  local v = r and r.status == 200 and core.json_decode(r.body)
  if not v then print("ngx bench failed: " .. tostring(r and r.body)) return end
  print(("== inside nginx: %d x listZones over TLS, best of 2 rounds each"):format(v.calls))
  print(("libcurl transport (blocking)  %8.0f calls/s   1.00x"):format(v.curl))
  print(("cosocket transport            %8.0f calls/s   %.2fx"):format(v.ngx, v.ratio))
end

-- each section runs in a process of its own, so that one section's heap
-- (the 10,000-server tables) does not slow the next one down
-- 4. simulator scale: pages at 1,000 and 100,000 objects, the whole walk (bench/sim_scale.lua)
local function simscale_bench() dofile("bench/sim_scale.lua").run() end

-- 5. soak: 100,000 calls over the four providers, RSS and open fds sampled (bench/soak.lua);
-- a leak fails the bench
local function soak_bench() if not dofile("bench/soak.lua").run() then os.exit(1) end end

-- 6. filtered walk: where/fields in C against decode-all + filter in Lua (bench/filter_walk.lua)
local function filter_bench()
  local walk = dofile("bench/filter_walk.lua")
  walk.run()
  walk.run_json()
  walk.run_http()
end

local sections = { decode = decode_bench, calls = calls_bench, floor = floor_bench, ngx = ngx_bench,
                   simscale = simscale_bench, soak = soak_bench, filter = filter_bench }
if arg[1] then
  assert(sections[arg[1]], "unknown section " .. arg[1])()
else
  local failed = false
  for _, name in ipairs({ "decode", "calls", "floor", "ngx", "simscale", "soak", "filter" }) do
    local ok = os.execute(("%s %s %s"):format(arg[-1] or "lua5.4", arg[0], name))
    if not ok then print("section " .. name .. " failed"); failed = true end
  end
  if failed then os.exit(1) end -- make bench fails (the soak's leak bound, a broken section)
end
