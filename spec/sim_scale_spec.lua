-- The simulators at the size of a big account (in-process, through the client): a call that
-- does not list the account does the same work at 20,000 objects as at 100, and CenturyLink
-- can hold more servers than one VLAN and one name prefix allow. Work is counted (Lua
-- instructions, bytes allocated: spec/support/cost.lua), not timed, so a loaded machine cannot
-- fail it; the wall-clock figures are in `make bench` (simscale).
local luacloud = require("luacloud")
local simhost = require("luacloud.sim")
local cost = require("spec.support.cost")

local function client(provider)
  -- a clock with sub-second steps, as nginx's: time passes between any two requests
  local t0 = os.time()
  local h = simhost.new({ base_url = "http://127.0.0.1:8080", providers = { provider },
    now = function() return t0 + os.clock() end })
  local function transport(req)
    local status, rh, body = h:handle(req.method, req.url:gsub("^https?://[^/]+", ""), req.headers or {}, req.body or "")
    local lh = {}
    for k, v in pairs(rh or {}) do lh[k:lower()] = v end
    return { status = status, headers = lh, body = body }
  end
  local base = "http://127.0.0.1:8080/" .. provider
  local opts = {
    reliacloud = { endpoint = base .. "/client/api", api_key = "demo-api-key", secret_key = "demo-secret-key" },
    centurylink = { endpoint = base, api_key = "demo-api-key", password = "demo-password", account_alias = "DEMO" },
    clodo = { endpoint = base, user = "demo", key = "demo-key" },
  }
  local o = opts[provider]
  o.transport = transport
  return assert(luacloud.new(provider, o)), assert(h:sim(provider))
end

-- the work of one call, after a first call (logins, caches built once)
local function per_call(c, op, params)
  assert(c:call(op, params))
  return (cost.measure(function() assert(c:call(op, params)) end))
end

local CASES = {
  { "reliacloud", "virtualmachine", "list_zones", {} },          -- zones in use
  { "reliacloud", "virtualmachine", "list_templates", {} },
  { "clodo", "servers", "get_balance", {} },
  { "centurylink", "servers", "get_locations", {} },
}

describe("simulators at 20,000 objects", function()
  for _, case in ipairs(CASES) do
    local provider, kind, op, params = case[1], case[2], case[3], case[4]
    it(provider .. " " .. op .. " does not walk the account", function()
      local function at(n)
        local c, sim = client(provider)
        sim:seed(kind, n)
        return per_call(c, op, params)
      end
      local ok, msg = cost.flat(at(100), at(20000), 19900)
      assert.truthy(ok, op .. ": " .. msg)
    end)
  end

  it("centurylink seeds 1,000 servers (more than a VLAN's 239 addresses and 99 names a prefix)", function()
    local c, sim = client("centurylink")
    sim:seed("servers", 1000)
    local res = assert(c:get_all_servers({ Location = "WA1" }))
    local names = {}
    for _, s in ipairs(res.Servers) do
      assert.is_nil(names[s.Name], "duplicate name " .. s.Name)
      names[s.Name] = true
      assert.matches("^WA1DEMO%w+%d%d$", s.Name)
    end
    assert.is_true(#res.Servers >= 1000)
  end)
end)
