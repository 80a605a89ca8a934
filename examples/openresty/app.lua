-- A small OpenResty app on luacloud: lists the servers of the four clouds as
-- one JSON document (fetched concurrently on light threads) and deploys a
-- server with a POST. The same engine, catalogs, paging and waiting as under
-- Lua 5.4; only the transport (cosockets) and the sleep (ngx.sleep) differ.
local luacloud = require "luacloud"
local core = require "luacloud.core"

local M = {}
local config          -- endpoints and credentials of the clouds (from the simulators' --json)
local clients = {}    -- per worker: provider -> client (cosocket transport)

function M.configure(path)
  local f = assert(io.open(path, "rb"))
  config = assert(core.json_decode(f:read("*a")))
  f:close()
end

local function options(provider, extra)
  -- the simulators' certificate names "localhost"; the endpoints use 127.0.0.1
  -- (no resolver needed), so the name to verify is given explicitly
  local o = { endpoint = config.endpoints[provider], timeout = 30, tls_server_name = "localhost",
              ca_file = config.ca_file }
  for k, v in pairs(config.credentials[provider] or {}) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
M.options = options

function M.init_worker()
  for _, p in ipairs(luacloud.providers) do
    clients[p] = assert(luacloud.new(p, options(p)))
  end
end

-- what "list the servers" means for each API
local LIST = {
  reliacloud = { op = "list_virtual_machine", items = "virtualmachine" },
  dimensiondata = { op = "list_servers_with_backup", each = true },
  centurylink = { op = "get_all_servers", items = "Servers" },
  clodo = { op = "list_servers", items = "server" },
}

local function list_servers(provider)
  local c, spec = clients[provider], LIST[provider]
  if spec.each then
    local out = {}
    local ok, err = pcall(function() for s in c:each(spec.op, {}) do out[#out + 1] = s end end)
    if not ok then return nil, err end
    return setmetatable(out, core.array_mt)
  end
  local res, err = c:call(spec.op, {})
  if not res then return nil, err end
  local items = res
  for k in spec.items:gmatch("[^%.]+") do items = type(items) == "table" and items[k] or nil end
  return setmetatable(items or {}, core.array_mt)
end

local function send_json(status, v)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.print(core.json_encode(v))
end

function M.servers()
  local only = ngx.var.arg_cloud
  local t0 = core.now()
  local threads, out = {}, { clouds = {} }
  for _, p in ipairs(luacloud.providers) do
    if not only or only == p then
      threads[#threads + 1] = { p, ngx.thread.spawn(list_servers, p) }
    end
  end
  for _, t in ipairs(threads) do
    local ok, items, err = ngx.thread.wait(t[2])
    if ok and items then
      out.clouds[t[1]] = { servers = items, count = #items }
    else
      out.clouds[t[1]] = { error = tostring(ok and err or items) }
    end
  end
  out.ms = (core.now() - t0) * 1000
  send_json(200, out)
end

function M.deploy()
  if ngx.req.get_method() ~= "POST" then return send_json(405, { error = "POST only" }) end
  local c = clients.reliacloud
  local zones, err = c:list_zones { available = true }
  if not zones then return send_json(502, { error = tostring(err) }) end
  local tpl = c:list_templates {}
  local off = c:list_service_offerings {}
  if not tpl or not off then return send_json(502, { error = "cannot read templates or offerings" }) end
  local vm, derr = c:deploy_virtual_machine { zoneId = zones.zone[1].id, templateId = tpl.template[1].id,
                                              serviceOfferingId = off.offering[1].id, networkDomain = "portal.example" }
  if not vm then return send_json(502, { error = tostring(derr) }) end
  send_json(201, { id = vm.id, name = vm.name, state = vm.state })
end

function M.wrong_phase()
  local _, err = clients.reliacloud:list_zones {}
  return tostring(err)
end

-- calls per second through the cosocket transport and through libcurl, side by side
function M.bench()
  local n = tonumber(ngx.var.arg_n) or 300
  local result = {}
  for _, mode in ipairs({ "ngx", "curl", "ngx", "curl" }) do
    local c = assert(luacloud.new("reliacloud", options("reliacloud", { use_curl = mode == "curl" })))
    assert(c:list_zones { available = true })
    local t0 = core.now()
    for _ = 1, n do assert(c:list_zones { available = true }) end
    local rate = n / (core.now() - t0)
    result[mode] = math.max(result[mode] or 0, rate)
    c:close()
  end
  result.ratio = result.ngx / result.curl
  result.calls = n
  send_json(200, result)
end

-- fan-out: ?n calls at ?c concurrency through c:batch (light threads under cosockets)
function M.fanout()
  local n, conc = tonumber(ngx.var.arg_n) or 200, tonumber(ngx.var.arg_c) or 20
  local out = {}
  for _, mode in ipairs({ "ngx", "curl" }) do
    local c = assert(luacloud.new("reliacloud", options("reliacloud", { use_curl = mode == "curl" })))
    assert(c:list_zones { available = true })
    local calls = {}
    for i = 1, n do calls[i] = { "list_zones", { available = true } } end
    local best = math.huge
    for _ = 1, 3 do
      local t0 = core.now()
      local res = assert(c:batch(calls, conc))
      local w = core.now() - t0
      for _, r in ipairs(res) do assert(r.result, r.err and r.err.message) end
      best = math.min(best, w)
      out[mode .. "_rounds"] = (out[mode .. "_rounds"] or "") .. string.format("%.1f ", w * 1e3)
    end
    out[mode] = best
    c:close()
  end
  send_json(200, out)
end

M.scenarios = require "scenarios"

function M.selftest()
  local out = {}
  for _, mode in ipairs({ "ngx", "curl" }) do
    out[mode] = M.scenarios.run(function(provider, extra)
      extra = extra or {}
      extra.use_curl = mode == "curl"
      return assert(luacloud.new(provider, options(provider, extra)))
    end, config)
    out[mode .. "_transport"] = mode
  end
  send_json(200, out)
end

return M
