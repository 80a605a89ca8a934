-- The page loop (core.pager in C, luacloud.pager's Lua loop under cosockets): the next-page rule
-- from the catalog's paging data, page n+1 on the wire before page n is consumed (proved from the
-- simulator's access log), errors mid-walk with the page number, and pages held.
local luacloud = require "luacloud"
local core = require "luacloud.core"
local pager = require "luacloud.pager"
local support = require "spec.support.sim"

local DATA = { number = "pageNumber", size = "pageSize", total = "totalCount", count = "pageCount", items = "item" }

-- answers of a fake listing: `total` items, `size` per page, attributes as text (as XML gives them)
local function fake(total, size, opts)
  opts = opts or {}
  local log = {}
  local function answer(n)
    if opts.fail == n then return nil, { kind = "http", status = 503, message = "injected" } end
    if opts.raise == n then error("callback raised") end
    local items = {}
    for i = (n - 1) * size + 1, math.min(n * size, total) do items[#items + 1] = { id = i } end
    local pages = math.ceil(total / size)
    local res = { pageNumber = tostring(n), pageSize = tostring(size),
                  totalCount = tostring(total), pageCount = tostring(opts.zero_count and 0 or pages), item = items }
    if opts.no_size then res.pageSize = nil end
    return res
  end
  local o = { first = 1, prefetch = opts.prefetch }
  for k, v in pairs(DATA) do o[k] = v end
  o.default_size = opts.default_size
  o.stop_on_empty = opts.stop_on_empty
  o.fetch = function(n) log[#log + 1] = "fetch " .. n; return answer(n) end
  o.start = function(n)
    log[#log + 1] = "start " .. n
    return function() log[#log + 1] = "finish " .. n; return answer(n) end
  end
  return o, log
end

local function walk(make, o)
  local pg, ids, numbers = make(o), {}, {}
  while true do
    local page, err = pg()
    if page == nil then return ids, numbers, err, pg end
    numbers[#numbers + 1] = page.number
    for _, it in ipairs(page.items) do ids[#ids + 1] = it.id end
  end
end

for _, impl in ipairs { { "C", core.pager }, { "Lua", pager.lua_pager } } do
  local name, make = impl[1], impl[2]
  describe(name .. " pager, next-page rule", function()
    it("walks every page once, starting page n+1 before handing out page n", function()
      local o, log = fake(10, 3)
      local pg = make(o)
      local first = assert(pg())
      assert.are.same({ "fetch 1", "start 2" }, log) -- page 2 was on its way when page 1 came out
      assert.are.equal(2, pg:stats().in_flight)
      assert.are.equal(3, #first.items)
      local ids, numbers, err = walk(function() return pg end)
      assert.is_nil(err)
      assert.are.same({ 2, 3, 4 }, numbers)
      assert.are.equal(7, #ids)
      -- page n+2 is asked for before page n+1 is finished and decoded; none past the last page
      assert.are.same({ "fetch 1", "start 2", "start 3", "finish 2", "start 4", "finish 3", "finish 4" }, log)
    end)

    it("has at most the next page and the one after it out", function()
      local o = fake(10, 3)
      local pg, during = nil, {}
      local inner = o.start
      o.start = function(n)
        local finish = inner(n)
        return function() during[n] = pg:stats(); return finish() end
      end
      pg = make(o)
      assert(pg())
      assert.are.same({ pages = 1, in_flight = 2, done = false }, pg:stats())
      while pg() do end
      -- while page 2 was finished and decoded, page 3 was out; while page 4 was, nothing more
      assert.are.equal(3, during[2].ahead)
      assert.are.equal(4, during[3].ahead)
      assert.is_nil(during[4].ahead)
      assert.are.same({ pages = 4, done = true }, pg:stats())
    end)

    it("uses the default page size when an answer states none, and stops on a zero page count", function()
      local ids = walk(make, (fake(10, 3, { no_size = true, default_size = 3 })))
      assert.are.equal(10, #ids)
      local _, numbers = walk(make, (fake(10, 3, { no_size = true }))) -- no size known: one page
      assert.are.same({ 1 }, numbers)
      _, numbers = walk(make, (fake(10, 3, { zero_count = true })))
      assert.are.same({ 1 }, numbers)
    end)

    it("ends on an empty page when the data says so", function()
      local o = fake(0, 3, { stop_on_empty = true })
      local _, numbers = walk(make, o)
      assert.are.same({ 1 }, numbers)
    end)

    it("sends nothing ahead with prefetch off", function()
      local o, log = fake(7, 3, { prefetch = false })
      local ids = walk(make, o)
      assert.are.equal(7, #ids)
      assert.are.same({ "fetch 1", "fetch 2", "fetch 3" }, log)
    end)

    it("resends a failed prefetched page once through fetch, then ends with nil, err and the page", function()
      local o, log = fake(10, 3, { fail = 3 })
      local ids, numbers, err, pg = walk(make, o)
      assert.are.same({ 1, 2 }, numbers)
      assert.are.equal(6, #ids)
      assert.are.equal(3, err.page)
      assert.are.equal(503, err.status)
      -- page 4, started ahead, is dropped with the walk
      assert.are.same({ "fetch 1", "start 2", "start 3", "finish 2", "start 4", "finish 3", "fetch 3" }, log)
      assert.is_nil(pg:stats().ahead)
      assert.is_nil(pg()) -- stays ended
    end)

    it("turns a callback that raises into nil, err", function()
      local o = fake(10, 3, { raise = 2, prefetch = false })
      local _, numbers, err = walk(make, o)
      assert.are.same({ 1 }, numbers)
      assert.matches("callback raised", tostring(err))
    end)
  end)
end

describe("C pager under LuaJIT", function()
  it("follows the same rule", function()
    local root = support.root
    local probe = io.popen("command -v luajit")
    local lj = probe:read("l")
    probe:close()
    if not lj or lj == "" then pending("no luajit") return end
    local script = [[
      package.cpath = "]] .. root .. [[/build-luajit/?.so;" .. package.cpath
      local core = require "luacloud.core"
      local function ans(n) return { pageNumber = n, pageSize = 2, totalCount = 5, pageCount = 3, item = { n } } end
      local pg = core.pager { number = "pageNumber", size = "pageSize", total = "totalCount", count = "pageCount",
        items = "item", fetch = ans, start = function(n) return function() return ans(n) end end }
      local out = {}
      for page in pg do out[#out + 1] = page.number end
      io.write(table.concat(out, ","))
    ]]
    local f = assert(io.popen(lj .. " -e '" .. script:gsub("'", "'\\''") .. "' 2>&1"))
    local out = f:read("a")
    f:close()
    assert.are.equal("1,2,3", out)
  end)
end)

-- cosockets: ngx.thread.wait yields the request's coroutine, which a C function cannot let pass
describe("the loop under a transport that yields", function()
  local function yielding_client()
    local sim = require("luacloud.sim.dimensiondata").new {}
    sim:seed("servers", 45)
    local function answer(req)
      local path = req.url:gsub("^https?://[^/]+", ""):gsub("^/dimensiondata", "")
      local st, rh, body = sim:handle { method = req.method, path = path, headers = req.headers, body = req.body }
      local lh = {}
      for k, v in pairs(rh or {}) do lh[k:lower()] = v end
      return { status = st, headers = lh, body = body }
    end
    local started = 0
    local t = setmetatable({
      start = function(req)
        started = started + 1
        return { finish = function() coroutine.yield("wait") return answer(req) end }
      end,
      sleep = function() end,
    }, { __call = function(_, req) coroutine.yield("wait") return answer(req) end })
    local c = assert(luacloud.new("dimensiondata", { username = "demo", password = "demo-password",
      endpoint = "http://sim.test/dimensiondata", transport = t }))
    return c, function() return started end
  end

  -- run f in a coroutine, resuming it at each yield (what nginx does when a cosocket is ready)
  local function drive(f)
    local co = coroutine.create(f)
    local ok, a, b = coroutine.resume(co)
    while ok and coroutine.status(co) == "suspended" do ok, a, b = coroutine.resume(co) end
    return ok, a, b
  end

  local function walk_ids(c)
    local ids, err = {}, nil
    for page, e in c:pages("list_servers_with_backup", { pageSize = 10 }) do
      err = e
      for _, it in ipairs(page.items) do ids[#ids + 1] = it.id end
    end
    return ids, err
  end

  it("is luacloud.pager's Lua loop where ngx is and the transport has no libcurl session", function()
    local c, started = yielding_client()
    rawset(_G, "ngx", {})
    local ok, ids = drive(function() return walk_ids(c) end)
    rawset(_G, "ngx", nil)
    assert.is_true(ok, tostring(ids))
    assert.are.equal(45, #ids)
    assert.are.equal(4, started()) -- pages 2..5 each started while the page before was handed out
  end)

  it("could not be the C loop there: a yield cannot cross it", function()
    local c = yielding_client()
    local ok, _, err = drive(function()
      local page, e = c:pages("list_servers_with_backup", { pageSize = 10 })()
      return page, e
    end)
    assert.is_true(ok)
    assert.matches("yield", tostring(err and err.message or err))
  end)
end)

describe("c:pages over HTTP", function()
  local sim
  setup(function()
    sim = support.start { latency = 150 }
    sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=servers&n=120")
  end)
  teardown(function() if sim then sim.stop() end end)

  local function client(extra)
    local opts = { endpoint = sim.endpoints.dimensiondata or (sim.base .. "/dimensiondata"),
                   username = sim.credentials.dimensiondata.username, password = sim.credentials.dimensiondata.password }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return assert(luacloud.new("dimensiondata", opts))
  end
  local OP = "list_servers_with_backup"

  local function logged(pattern)
    local f = assert(io.open(sim.dir .. "/access.log"))
    local n = 0
    for line in f:lines() do if line:find(pattern) then n = n + 1 end end
    f:close()
    return n
  end

  local function ids_of(c, params, opts)
    local ids = {}
    for item in c:each(OP, params, opts) do ids[#ids + 1] = item.id end
    return ids
  end

  it("gives the items of the Lua loop and of a walk without prefetch", function()
    local c = client()
    local in_c = ids_of(c, { pageSize = 25 })
    assert.are.equal(120, #in_c)
    local saved = core.pager
    core.pager = nil -- luacloud.pager's Lua loop (the one cosockets use)
    local ok, in_lua = pcall(ids_of, c, { pageSize = 25 })
    core.pager = saved
    assert.is_true(ok, tostring(in_lua))
    assert.are.same(in_c, in_lua)
    assert.are.same(in_c, ids_of(client { prefetch = false }, { pageSize = 25 }))
    local where = { where = { name = { glob = "*1*" } }, fields = { "id", "name" } }
    local f_c = ids_of(c, { pageSize = 25 }, where)
    core.pager = nil
    ok, in_lua = pcall(ids_of, c, { pageSize = 25 }, where)
    core.pager = saved
    assert.is_true(ok, tostring(in_lua))
    assert.is_true(#f_c > 0 and #f_c < 120)
    assert.are.same(f_c, in_lua)
  end)

  -- the access log has a line when nginx has answered: page 2 is there before the caller asks for it
  it("has page n+1 answered by the server while page n is consumed", function()
    local c = client()
    local pages = c:pages(OP, { pageSize = 30, orderBy = "name" })
    local before = logged("pageNumber=2")
    local first = assert(pages())
    assert.are.equal(30, #first.items)
    core.sleep(0.6) -- the caller consuming page 1 (4x the simulator's latency)
    assert.are.equal(before + 1, logged("pageNumber=2"))
    assert(pages())
    assert.are.equal(before + 1, logged("pageNumber=2")) -- page 2 was not asked for again

    local c2 = client { prefetch = false }
    local p2 = c2:pages(OP, { pageSize = 30, orderBy = "created" })
    local before2 = logged("orderBy=created&pageNumber=2")
    assert(p2())
    core.sleep(0.6)
    assert.are.equal(before2, logged("orderBy=created&pageNumber=2")) -- not sent ahead: still unknown to the server
  end)

  it("ends a walk that fails mid-way with nil, err and the page number", function()
    sim.admin("POST", "/_sim/fault", { provider = "dimensiondata", kind = "http503", count = 0, path = "pageNumber=3" })
    local c = client { retries = 0 }
    local pages = c:pages(OP, { pageSize = 25 })
    local got = 0
    local err
    while true do
      local page, e = pages()
      if not page then err = e break end
      got = got + #page.items
    end
    sim.admin("DELETE", "/_sim/fault?provider=dimensiondata")
    assert.are.equal(50, got)
    assert.are.equal(3, err.page)
    assert.are.equal(503, err.status)
    assert.is_nil(pages())
    -- one failed page with retries: sent again through the retry policy, and the walk completes
    sim.admin("POST", "/_sim/fault", { provider = "dimensiondata", kind = "http503", count = 1, path = "pageNumber=3" })
    local ids = ids_of(client { retries = 2, retry_delay = 0.01 }, { pageSize = 25 })
    sim.admin("DELETE", "/_sim/fault?provider=dimensiondata")
    assert.are.equal(120, #ids)
  end)

  it("holds at most two pages however long the walk", function()
    local c = client()
    local alive = setmetatable({}, { __mode = "k" })
    local most, n = 0, 0
    for page in c:pages(OP, { pageSize = 10 }) do
      alive[page] = true
      page = nil -- luacheck: ignore
      collectgarbage()
      collectgarbage()
      local k = 0
      for _ in pairs(alive) do k = k + 1 end
      most = math.max(most, k)
      n = n + 1
    end
    assert.are.equal(12, n)
    assert.is_true(most <= 2, "pages alive: " .. most)
  end)

  it("refuses an orderBy field the operation does not order by, sending nothing", function()
    local before = logged("orderBy=colour")
    local pages = client():pages(OP, { orderBy = "name,colour.DESCENDING" })
    local page, err = pages()
    assert.is_nil(page)
    assert.are.equal("validation", err.kind)
    assert.matches("colour", err.message)
    assert.are.equal(before, logged("orderBy=colour"))
    assert(client():pages(OP, { orderBy = "location.DESCENDING,name", pageSize = 200 })())
  end)
end)
