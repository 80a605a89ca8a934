-- The per-call path in a loop, for callgrind (bench/PROFILE.md): validate, build, sign,
-- decode, normalize, with a transport that answers a canned response (no socket, so the count
-- is the client's own work) or the nginx simulator (`nginx`).
--   lua5.4 bench/percall.lua CASE N [nginx [floor]]
-- `nginx floor`: the floor of make bench instead (a reused handle GETting the case's signed URL,
-- lua-cjson decoding the answer): use it with rc_zones_json
-- CASE: rc_zones (ReliaCloud list_zones, XML), rc_zones_json (the same in JSON),
--       dd_networks (Dimension Data GET list_networks_with_location, XML)
-- Per-call instructions: the difference of two runs (N = 100 and 1100) over 1000, which takes
-- the start-up (require, catalog loading, simulator start) out.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = (jit and "build-luajit/?.so;" or "build/?.so;") .. package.cpath
local luacloud = require "luacloud"

local RC_XML = [[<?xml version="1.0" encoding="UTF-8"?>
<listzonesresponse>
  <zone>
    <id>4</id>
    <name>WC</name>
  </zone>
  <zone>
    <id>5</id>
    <name>EC</name>
  </zone>
  <zone>
    <id>6</id>
    <name>MN</name>
  </zone>
</listzonesresponse>
]]
local RC_JSON = [[{"listzonesresponse":{"count":3,"zone":[{"id":"4","name":"WC"},{"id":"5","name":"EC"},{"id":"6","name":"MN"}]}}]]
local DD_XML = [[<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns4:NetworkWithLocations xmlns:ns2="http://oec.api.opsource.net/schemas/organization" xmlns:ns4="http://oec.api.opsource.net/schemas/network">
<ns4:network><ns4:id>4bba37be-506f-11e3-b29c-001517c4643e</ns4:id><ns4:name>Test1</ns4:name>
<ns4:description>Test Network</ns4:description><ns4:location>NA5</ns4:location><ns4:privateNet>10.162.1.0</ns4:privateNet>
<ns4:multicast>false</ns4:multicast></ns4:network>
<ns4:network><ns4:id>208e3a8e-9d2f-11e2-b29c-001517c4643e</ns4:id><ns4:name>Test2</ns4:name>
<ns4:description>Test Network 2</ns4:description><ns4:location>NA5</ns4:location><ns4:privateNet>10.162.2.0</ns4:privateNet>
<ns4:multicast>false</ns4:multicast></ns4:network>
</ns4:NetworkWithLocations>]]

local CASES = {
  rc_zones = { provider = "reliacloud", op = "list_zones", params = { available = true }, body = RC_XML,
               opts = { api_key = "demo-api-key", secret_key = "demo-secret-key" } },
  rc_zones_json = { provider = "reliacloud", op = "list_zones", params = { available = true }, body = RC_JSON,
                    opts = { api_key = "demo-api-key", secret_key = "demo-secret-key", format = "json" } },
  dd_networks = { provider = "dimensiondata", op = "list_networks_with_location", params = {}, body = DD_XML,
                  opts = { username = "demo", password = "demo-password", org_id = "8a8f6abc-2745-4d8a-9cbc-8dabe5a7d0e4" } },
}

local M = { CASES = CASES }

--- a client of the case against a canned transport (endpoint nil) or an endpoint
function M.client(case, endpoint, credentials)
  local o = { endpoint = endpoint or "http://127.0.0.1:9/" .. case.provider }
  for k, v in pairs(case.opts) do o[k] = v end
  for k, v in pairs(credentials or {}) do if type(v) == "string" then o[k] = v end end
  if not endpoint then
    local resp = { status = 200, headers = { ["content-type"] = "application/xml; charset=UTF-8" }, body = case.body }
    o.transport = function() return resp end
  end
  return assert(luacloud.new(case.provider, o))
end

--- the signed URL of one call of the case (a dry run of the same client options)
function M.dry_url(case, endpoint)
  local o = { endpoint = endpoint, dry_run = true }
  for k, v in pairs(case.opts) do o[k] = v end
  return assert(luacloud.new(case.provider, o)):call(case.op, case.params).request.url
end

function M.loop(c, case, n)
  local op, params = case.op, case.params
  for _ = 1, n do assert(c:call(op, params)) end
end

if arg and arg[0] and arg[0]:match("percall%.lua$") then
  local case = assert(CASES[arg[1]], "unknown case " .. tostring(arg[1]))
  local n = tonumber(arg[2]) or 1000
  if arg[3] == "nginx" then
    local support = require "support.sim"
    local sim = support.start()
    local c = M.client(case, sim.endpoints[case.provider], sim.credentials[case.provider])
    if case.provider == "dimensiondata" then c.org_id = nil end -- the simulator's own org id
    local ok, err
    if arg[4] == "floor" then -- make bench's floor: the signed URL GET on a reused handle + lua-cjson
      local cjson = require "cjson"
      local core = require "luacloud.core"
      local url = assert(c:call(case.op, case.params) and M.dry_url(case, sim.endpoints[case.provider]))
      local s = core.session { timeout = 10 }
      ok, err = pcall(function()
        for _ = 1, n do
          local r = assert(s:request { url = url })
          assert(r.status == 200 and cjson.decode(r.body))
        end
      end)
      s:close()
    else
      ok, err = pcall(M.loop, c, case, n)
    end
    sim.stop()
    assert(ok, err)
  else
    M.loop(M.client(case), case, n)
  end
end
return M
