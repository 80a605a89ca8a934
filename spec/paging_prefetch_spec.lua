-- c:each walks every page lazily and asks for page k+1 while page k is being
-- consumed (Dimension Data paging, against the nginx-hosted simulator).
local luacloud = require "luacloud"
local support = require "spec.support.sim"

describe("c:each over HTTP", function()
  local sim
  setup(function()
    sim = support.start()
    sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=servers&n=120")
  end)
  teardown(function() if sim then sim.stop() end end)

  local function client(extra)
    local events = {}
    local opts = { endpoint = sim.endpoints.dimensiondata or (sim.base .. "/dimensiondata"),
                   username = sim.credentials.dimensiondata.username, password = sim.credentials.dimensiondata.password,
                   log = function(e) events[#events + 1] = e end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return assert(luacloud.new("dimensiondata", opts)), events
  end

  local function list_op(c)
    for _, id in ipairs({ "list_servers_with_backup", "list_deployed_servers_paginated", "list_servers" }) do
      if c.operations[id] and c.operations[id].paging then return id end
    end
    for id, e in pairs(c.operations) do
      if e.paging and e.method == "GET" and id:match("server") then return id end
    end
  end

  it("yields every item once, across pages", function()
    local c = client()
    local op = assert(list_op(c), "no paged server listing in the catalog")
    local seen, n = {}, 0
    for item in c:each(op, { pageSize = 25 }) do
      local id = item.id or (item.server and item.server.id)
      assert.is_nil(seen[id])
      seen[id] = true
      n = n + 1
    end
    assert.is_true(n >= 120, "got " .. n)
  end)

  -- a transport that counts requests sent ahead (start) and plain calls
  local function counting_transport()
    local curl = require("luacloud.transport.curl").new {}
    local n = { start = 0, call = 0 }
    local t = setmetatable({
      start = function(req) n.start = n.start + 1 return curl.start(req) end,
      sleep = curl.sleep,
    }, { __call = function(_, req) n.call = n.call + 1 return curl(req) end })
    return t, n
  end

  it("has page k+1 on the wire before page k's items are consumed", function()
    local t, n = counting_transport()
    local c = client { transport = t }
    local pages = c:pages(list_op(c), { pageSize = 50 })
    local first = assert(pages())
    assert.is_true(#first.items > 0)
    assert.are.equal(1, n.start) -- page 2 already requested
    local calls = n.call
    local second = assert(pages())
    assert.are_not.equal(first.items[1].id, second.items[1].id)
    assert.are.equal(calls, n.call) -- page 2 came from the prefetched request
    assert.are.equal(2, n.start)    -- and page 3 is on its way
  end)

  it("sends nothing ahead when prefetch is off", function()
    local t, n = counting_transport()
    local c = client { transport = t, prefetch = false }
    local count = 0
    for _ in c:each(list_op(c), { pageSize = 40 }) do count = count + 1 end
    assert.is_true(count >= 120)
    assert.are.equal(0, n.start)
  end)

  it("falls back to a normal call when prefetch is off", function()
    local c = client { prefetch = false }
    local n = 0
    for _ in c:each(list_op(c), { pageSize = 40 }) do n = n + 1 end
    assert.is_true(n >= 120)
  end)
end)
