-- luacloud inside nginx (examples/openresty): the cosocket transport does not
-- block the worker, the four-cloud listing runs concurrently, and the same
-- behaviour scenarios give the same results through cosockets and libcurl.
local core = require "luacloud.core"
local support = require "spec.support.sim"

local root = support.root
local sh = support.sh

local function start_app(latency)
  for _ = 1, 5 do
    local port, sim_port = 20000 + math.random(0, 5999), 26000 + math.random(0, 5999)
    local state = os.tmpname()
    os.remove(state)
    local out, rc = sh(("env -u LD_PRELOAD LUACLOUD_APP_STATE=%s %s/examples/openresty/run start --port %d --sim-port %d --latency %d")
      :format(state, root, port, sim_port, latency))
    if rc == 0 then
      local app = { base = "http://127.0.0.1:" .. port, state = state, port = port, sim_port = sim_port,
                    ca = state .. "/sim/tls/ca.pem" }
      function app.stop()
        sh(("LUACLOUD_APP_STATE=%s %s/examples/openresty/run stop --port %d --sim-port %d"):format(state, root, port, sim_port))
        sh("rm -rf '" .. state .. "'")
      end
      return app
    end
    sh("rm -rf '" .. state .. "'")
    if not out:find("bind", 1, true) then error("cannot start the example app: " .. out) end
  end
  error("no free port for the example app")
end

local function get(s, url, opts)
  local r = assert(s:request { url = url, method = opts and opts.method, body = opts and opts.body, timeout = 60 })
  return r, core.json_decode(r.body)
end

local function percentile(list, p)
  table.sort(list)
  return list[math.max(1, math.ceil(#list * p))]
end

describe("OpenResty example under load (simulators slowed by 500 ms)", function()
  local app
  local s = core.session { timeout = 60 }
  setup(function() math.randomseed(os.time()) app = start_app(500) end)
  teardown(function() if app then app.stop() end end)

  -- The simulator's answers to the 20 slow calls are held SLOW_S more: a worker that waited on
  -- one would answer nothing else for seconds, while a free one answers 200 small requests
  -- well within SLOW_S even on a loaded machine. No latency figure is asserted: the nginx
  -- transport's speed is measured side by side in `make bench` (ngx).
  local SLOW_S = 3

  it("answers other requests while 20 requests wait on slow cloud calls", function()
    get(s, app.base .. "/servers?cloud=reliacloud") -- warm: the worker's client has its session
    local admin = core.session { ca_file = app.ca }
    local fault = ("https://localhost:%d/_sim/fault"):format(app.sim_port)
    assert.are.equal(200, assert(admin:request { method = "POST", url = fault, body = core.json_encode {
      provider = "reliacloud", kind = "delay", ms = (SLOW_S - 0.5) * 1000, count = 20 } }).status)
    finally(function() admin:request { method = "DELETE", url = fault } admin:close() end)
    local t0 = core.now()
    local slow = {}
    for i = 1, 20 do slow[i] = s:start { url = app.base .. "/servers?cloud=reliacloud", timeout = 60 } end
    local reqs = {}
    for i = 1, 200 do reqs[i] = { url = app.base .. "/health" } end
    local res = s:batch(reqs, 20)
    local health_done = core.now() - t0
    local fast = {}
    for _, r in ipairs(res) do
      assert.is_nil(r.err, r.err and r.err.message)
      assert.are.equal(200, r.status)
      fast[#fast + 1] = r.time
    end
    local first_slow = math.huge
    for i = 1, 20 do
      local r = assert(slow[i]:finish())
      assert.are.equal(200, r.status)
      first_slow = math.min(first_slow, r.time) -- from its start, which was after t0
    end
    -- the 200 were all answered before any of the 20 had its answer: none waited on them
    assert.is_true(first_slow >= SLOW_S - 0.5, ("the first slow call took %.2f s"):format(first_slow))
    assert.is_true(health_done < first_slow, ("the other requests took %.2f s in all, the first slow call %.2f s (p99 %.0f ms)")
      :format(health_done, first_slow, percentile(fast, 0.99) * 1000))
  end)

  it("lists the four clouds in about the time of the slowest one, not the sum", function()
    local single, sum = {}, 0
    for _, p in ipairs({ "reliacloud", "dimensiondata", "centurylink", "clodo" }) do
      get(s, app.base .. "/servers?cloud=" .. p) -- warm: logins and org discovery happen once per worker
      local t0 = core.now()
      local _, body = get(s, app.base .. "/servers?cloud=" .. p)
      single[p] = core.now() - t0
      sum = sum + single[p]
      assert.is_nil(body.clouds[p].error, body.clouds[p].error)
    end
    local slowest = math.max(single.reliacloud, single.dimensiondata, single.centurylink, single.clodo)
    local t0 = core.now()
    local _, body = get(s, app.base .. "/servers")
    local all = core.now() - t0
    for _, p in ipairs({ "reliacloud", "dimensiondata", "centurylink", "clodo" }) do
      assert.is_table(body.clouds[p].servers, p .. ": " .. tostring(body.clouds[p].error))
    end
    -- nearer the slowest than the sum (one after the other takes the sum): the margin is
    -- (sum - slowest) / 2, a latency and a half, not the half of one a loaded machine could eat
    assert.is_true(all < (slowest + sum) / 2, ("all four: %.0f ms, slowest alone: %.0f ms, sum: %.0f ms")
      :format(all * 1000, slowest * 1000, sum * 1000))
  end)

  -- make bench's fan-out figure comes from /fanout: its calls must really overlap, in both
  -- transports, and every one of them must succeed (the handler asserts each result)
  it("/fanout runs its batch concurrently through cosockets and through libcurl", function()
    local n, conc = 10, 10
    local r, v = get(s, ("%s/fanout?n=%d&c=%d"):format(app.base, n, conc))
    assert.are.equal(200, r.status, r.body)
    for _, mode in ipairs({ "ngx", "curl" }) do
      assert.is_number(v[mode], mode)
      assert.are.equal(3, select(2, v[mode .. "_rounds"]:gsub("%S+", "")), mode .. " rounds: " .. tostring(v[mode .. "_rounds"]))
      -- one after the other takes n latencies (5 s); at most half of that, and never less than
      -- one latency (the calls did reach the slowed simulator)
      assert.is_true(v[mode] >= 0.5 and v[mode] < n * 0.5 / 2, ("%s: best of 3 rounds %.2f s"):format(mode, v[mode]))
    end
  end)
end)

describe("OpenResty example", function()
  local app
  local s = core.session { timeout = 60 }
  setup(function() app = start_app(0) end)
  teardown(function() if app then app.stop() end end)

  it("deploys a server with a POST", function()
    local r, body = get(s, app.base .. "/deploy", { method = "POST", body = "" })
    assert.are.equal(201, r.status)
    assert.are.equal("Running", body.state)
    local _, list = get(s, app.base .. "/servers?cloud=reliacloud")
    local found = false
    for _, vm in ipairs(list.clouds.reliacloud.servers) do found = found or vm.id == body.id end
    assert.is_true(found)
  end)

  it("gives the same behaviour through cosockets as through libcurl", function()
    local admin = core.session { ca_file = app.ca }
    assert(admin:request { method = "POST", url = ("https://localhost:%d/_sim/seed?provider=dimensiondata&kind=servers&n=30"):format(app.sim_port) })
    local r, body = get(s, app.base .. "/selftest")
    assert.are.equal(200, r.status, r.body)
    assert.are.same(body.curl, body.ngx)
    local ngx = body.ngx
    assert.are.same({ kind = "api", status = 431, code = 431, param = false, retryable = false, has_retry_after = false }, ngx.errors.api)
    assert.are.equal("serviceOfferingId", ngx.errors.validation.param)
    assert.are.equal(ngx.paging.total, ngx.paging.walked)
    assert.are.equal(ngx.paging.total, ngx.paging.distinct)
    assert.is_true(ngx.paging.pages >= 5)
    assert.are.same({ result = "done", polls = 3, slept = true }, ngx.waiting)
    assert.are.same({ first = true, renewed = true, logins = 2 }, ngx.session)
    assert.are.equal("OverLimit", ngx.rate_limit.code)
  end)

  it("refuses clearly where nginx allows no cosockets, without crashing the worker", function()
    local r = assert(s:request { url = app.base .. "/wrong-phase" })
    assert.are.equal(200, r.status)
    assert.matches("cannot run in the 'set' phase", r.body)
    assert.are.equal(200, assert(s:request { url = app.base .. "/health" }).status)
  end)
end)
