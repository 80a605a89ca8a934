-- where/fields: the predicate language compiled in C (core.filter), applied by the XML and JSON
-- decoders per item of the items list, and through c:call / c:each / c:pages (docs/FILTERING.md).
local core = require "luacloud.core"
local luacloud = require "luacloud"

local XML = [[<R total="3">
<server id="a" location="NA1"><name>web-1</name><cpuCount>2</cpuCount><isStarted>true</isStarted>
  <disk id="d1" speed="FAST"/><disk id="d2" speed="SLOW"/><os id="X" type="UNIX"><v>10</v></os></server>
<server id="b" location="NA3"><name>db-1</name><cpuCount>10</cpuCount><isStarted>false</isStarted><disk id="d3" speed="SLOW"/></server>
<server id="c" location="NA1"><name>web-2</name><cpuCount>4</cpuCount><isStarted>false</isStarted></server>
</R>]]
local LISTS = { server = true, disk = true }

local function ids_of(list)
  local ids = {}
  for i, s in ipairs(list) do ids[i] = s.id or s.ID or "?" end
  return table.concat(ids, ",")
end

local function xml_ids(where, fields)
  local f = assert(core.filter(where, fields))
  local v = assert(core.xml_decode(XML, { lists = LISTS, filter = f, items = "server" }))
  return ids_of(v.server), v
end

describe("core.filter", function()
  it("refuses a bad predicate with nil, message (never raises)", function()
    for _, bad in ipairs({ { x = { foo = 1 } }, { x = { glob = 5 } }, { "xor", {} }, { x = { ["in"] = "a" } },
                           { [""] = 1 }, { ["a..b"] = 1 }, { x = function() end }, { x = {} },
                           { x = { ne = { gt = 1 } } }, { "not", {}, {} } }) do
      local f, err = core.filter(bad)
      assert.is_nil(f)
      assert.matches("^filter: ", err)
    end
    assert.is_nil((core.filter(7)))
    assert.is_nil((core.filter(nil, {})))
    assert.is_nil((core.filter(nil, { 3 })))
  end)

  it("keeps the matching items while decoding XML: equals, booleans and numbers on text", function()
    assert.equal("a,c", xml_ids { location = "NA1" })
    assert.equal("a", xml_ids { location = "NA1", isStarted = true })
    assert.equal("b,c", xml_ids { isStarted = "false" })
    assert.equal("b", xml_ids { cpuCount = 10 })
    -- numeric-looking text compares as a number with a number, as text with a string
    assert.equal("b,c", xml_ids { cpuCount = { gt = 3 } })
    assert.equal("c", xml_ids { cpuCount = { gt = "3" } })
    assert.equal("a,c", xml_ids { cpuCount = { ge = 2, le = 4 } })
  end)

  it("in, ne, not, glob, prefix, exists, nested paths over lists, and/or", function()
    assert.equal("b", xml_ids { location = { "NA3", "NA9" } })
    assert.equal("b,c", xml_ids { id = { "b", "c" } })
    assert.equal("b", xml_ids { location = { ["in"] = { "NA3", "NA9" } } })
    assert.equal("b", xml_ids { location = { ne = "NA1" } })
    assert.equal("b", xml_ids { location = { ["not"] = { prefix = "NA1" } } })
    assert.equal("a,c", xml_ids { name = { glob = "web-?" } })
    assert.equal("b", xml_ids { name = { glob = "d?-*" } })
    assert.equal("a,b", xml_ids { disk = { exists = true } })
    assert.equal("c", xml_ids { disk = { exists = false } })
    assert.equal("a", xml_ids { ["disk.speed"] = "FAST" }) -- any disk
    assert.equal("a,b", xml_ids { ["disk.speed"] = "SLOW" })
    assert.equal("a", xml_ids { ["os.v"] = { ge = 10 } })
    assert.equal("a", xml_ids { ["os.type"] = "UNIX" })
    assert.equal("b,c", xml_ids { "or", { location = "NA3" }, { cpuCount = 4 } })
    assert.equal("c", xml_ids { "and", { location = "NA1" }, { "not", { isStarted = true } } })
    assert.equal("a,b,c", xml_ids {})
  end)

  it("copies only the projected fields; a subtree is kept whole, lists stay lists", function()
    local ids, v = xml_ids({ location = "NA1" }, { "name", "disk.speed", "os", "missing.x" })
    assert.equal("?,?", ids)
    assert.same({ name = "web-1", disk = { { speed = "FAST" }, { speed = "SLOW" } },
                  os = { id = "X", type = "UNIX", v = "10" } }, v.server[1])
    assert.equal(core.array_mt, getmetatable(v.server[1].disk))
    assert.same({ name = "web-2" }, v.server[2])
    assert.equal("3", v.total) -- outside the items: untouched
  end)

  it("a listing whose every item is dropped still has its (empty) list", function()
    local _, v = xml_ids { location = "XX" }
    assert.same({}, v.server)
    assert.equal(core.array_mt, getmetatable(v.server))
  end)

  it("compares lowered names under the decoder's lower option", function()
    local f = assert(core.filter({ state = "Running" }, { "name" }))
    local v = assert(core.xml_decode("<ListResponse><VirtualMachine><Name>a</Name><State>Running</State></VirtualMachine>"
      .. "<VirtualMachine><Name>b</Name><State>Stopped</State></VirtualMachine></ListResponse>",
      { lower = true, lists = { virtualmachine = true }, filter = f, items = "virtualmachine" }))
    assert.same({ { name = "a" } }, v.virtualmachine)
  end)

  it("filters JSON items as they are parsed, with typed values, behind a wrapper key (*)", function()
    local doc = core.json_encode({ listvirtualmachinesresponse = { count = 3, virtualmachine = setmetatable({
      { id = 1, name = "a", state = "Running", cpunumber = 2, nic = { { ipaddress = "10.0.0.1" } } },
      { id = 2, name = "b", state = "Stopped", cpunumber = 4, ha = true },
      { id = 3, name = "c", state = "Running", cpunumber = 8, ha = false, nic = { { ipaddress = "10.0.1.9" } } },
    }, core.array_mt) } })
    local function ids(where, fields)
      local f = assert(core.filter(where, fields))
      local v = assert(core.json_decode(doc, { lists = { virtualmachine = true }, filter = f, items = "*.virtualmachine" }))
      return ids_of(v.listvirtualmachinesresponse.virtualmachine), v.listvirtualmachinesresponse
    end
    assert.equal("1,3", ids { state = "Running" })
    assert.equal("2,3", ids { cpunumber = { gt = 2 } })
    assert.equal("2", ids { id = "2" }) -- a number equals its text
    assert.equal("3", ids { ha = "false" })
    assert.equal("3", ids { ["nic.ipaddress"] = { prefix = "10.0.1." } })
    local _, r = ids({ cpunumber = 8 }, { "name", "nic" })
    assert.same({ { name = "c", nic = { { ipaddress = "10.0.1.9" } } } }, r.virtualmachine)
    assert.equal(3, r.count)
    _, r = ids { name = "none" }
    assert.same({}, r.virtualmachine)
  end)

  it("items that span the decoder's 64 KB chunks are kept or dropped whole", function()
    local parts = { "<R>" }
    for i = 1, 3000 do
      parts[#parts + 1] = ('<server id="s%d"><name>n%d</name><note>%s</note><disk speed="%s"/><cpuCount>%d</cpuCount></server>')
        :format(i, i, string.rep("x", (i * 37) % 200), i % 3 == 0 and "FAST" or "SLOW", i % 16)
    end
    parts[#parts + 1] = "</R>"
    local doc = table.concat(parts)
    assert.is_true(#doc > 4 * 65536)
    local f = assert(core.filter({ ["disk.speed"] = "FAST", cpuCount = { ge = 8 } }, { "id", "note", "disk" }))
    local full = assert(core.xml_decode(doc, { lists = LISTS }))
    local v = assert(core.xml_decode(doc, { lists = LISTS, filter = f, items = "server" }))
    local want = f:apply(full.server)
    assert.is_true(#want > 400)
    assert.same(want, v.server)
  end)

  it("an element with children is a table even when only its text is asked for (skipped children still count)", function()
    local doc = '<R><server id="1"><name>a<x>y</x></name><tag k="v">t</tag></server><server id="2"><name>a</name><tag>t</tag></server></R>'
    local full = assert(core.xml_decode(doc, { lists = LISTS }))
    for _, case in ipairs({ { { name = "a" }, "2" }, { { ["name._text"] = "a" }, "1" }, { { tag = "t" }, "2" },
                            { { ["tag._text"] = "t", ["tag.k"] = "v" }, "1" } }) do
      local f = assert(core.filter(case[1], { "id", "tag._text" }))
      local v = assert(core.xml_decode(doc, { lists = LISTS, filter = f, items = "server" }))
      assert.equal(case[2], ids_of(v.server))
      assert.same(f:apply(full.server), v.server)
    end
  end)

  it("decides a JSON item from its text as the parser would decode it, and drops it unbuilt", function()
    local doc = '{"r":{"vm":[' ..
      '{"id":1,"name":"a\\u00e9","nic":null,"tags":"","big":123456789012345678901,"n":"7"},' ..
      '{"id":2,"name":"b","nic":[{"ip":"10.0.0.1"}],"tags":["x"],"big":5,"n":7.0},' ..
      '{"id":3,"name":"c\\"q","nic":{"ip":"10.0.0.2"},"tags":null,"n":"x"},' ..
      '{"id":4,"name":"d\xc3\xa9","nic":[],"deep":{"a":{"b":[{"c":true}]}}}]}}'
    local lists = { vm = true, nic = true, tags = true }
    local full = assert(core.json_decode(doc, { lists = lists }))
    for _, where in ipairs({ { nic = { exists = false } }, { tags = { exists = true } }, { name = "a\u{e9}" },
                             { name = 'c"q' }, { big = { gt = 10 } }, { big = "123456789012345678901" }, { n = 7 },
                             { ["nic.ip"] = { prefix = "10." } }, { ["deep.a.b.c"] = true }, { name = { glob = "d*" } },
                             { "not", { id = { ge = 3 } } } }) do
      local f = assert(core.filter(where, { "id" }))
      local v = assert(core.json_decode(doc, { lists = lists, filter = f, items = "r.vm" }))
      assert.same(f:apply(full.r.vm), v.r.vm)
    end
    -- what the parser refuses is refused in a dropped item too
    local f = assert(core.filter({ id = 99 }))
    for _, bad in ipairs({ '{"r":{"vm":[{"id":1,"id":2}]}}', '{"r":{"vm":[{"id":1,"s":"\xff"}]}}',
                           '{"r":{"vm":[{"id":1,"s":"a\\u0000"}]}}', '{"r":{"vm":[{"id":01}]}}', '{"r":{"vm":[{"id":1]}}' }) do
      local v, err = core.json_decode(bad, { lists = lists, filter = f, items = "r.vm" })
      assert.is_nil(v)
      assert.matches("^json: ", err)
    end
    -- 2,000 items of which none matches: next to nothing is allocated
    local items = {}
    for i = 1, 2000 do items[i] = ('{"id":%d,"name":"n%d","disk":[{"size":%d}],"state":"Running"}'):format(i, i, i) end
    local big = '{"r":{"vm":[' .. table.concat(items, ",") .. ']}}'
    local function allocated(o)
      collectgarbage()
      collectgarbage("stop")
      local k0 = collectgarbage("count")
      assert(core.json_decode(big, o))
      local kb = collectgarbage("count") - k0
      collectgarbage("restart")
      return kb
    end
    local none = assert(core.filter({ state = "Stopped" }))
    assert.is_true(allocated({ lists = lists, filter = none, items = "r.vm" }) * 20 < allocated({ lists = lists }))
  end)

  it("f:match, f:project and f:apply work on decoded tables the same way", function()
    local f = assert(core.filter({ location = "NA1" }, { "name" }))
    local full = assert(core.xml_decode(XML, { lists = LISTS }))
    assert.is_true(f:match(full.server[1]))
    assert.is_false(f:match(full.server[2]))
    assert.same({ name = "db-1" }, f:project(full.server[2]))
    assert.same({ { name = "web-1" }, { name = "web-2" } }, f:apply(full.server))
  end)
end)

-- the Dimension Data simulator in-process; every request path is recorded
local function dd(n, rewrite)
  local sim = require("luacloud.sim.dimensiondata").new({})
  sim:seed("servers", n)
  local sent = {}
  local c = assert(luacloud.new("dimensiondata", { username = "demo", password = "demo-password",
    endpoint = "http://sim.test/dimensiondata", transport = function(req)
      local path = req.url:gsub("^https?://[^/]+", ""):gsub("^/dimensiondata", "")
      sent[#sent + 1] = path
      local status, rh, body = sim:handle({ method = req.method, path = path, headers = req.headers, body = req.body })
      if rewrite then body = rewrite(body) end
      local lh = {}
      for k, v in pairs(rh or {}) do lh[k:lower()] = v end
      return { status = status, headers = lh, body = body }
    end }))
  return c, sent, sim
end

describe("c:each / c:pages / c:call with where and fields", function()
  it("walks every page and keeps what matches, as filtering the full walk in Lua would", function()
    local c, sent = dd(600)
    local all, got = {}, {}
    for s in c:each("list_servers_with_backup", {}) do
      if s.location == "NA1" and s.isStarted == "true" then all[#all + 1] = { name = s.name, cpuCount = s.cpuCount } end
    end
    local before = #sent
    for s in c:each("list_servers_with_backup", {}, { where = { location = "NA1", isStarted = true },
                                                      fields = { "name", "cpuCount" } }) do
      got[#got + 1] = s
    end
    assert.is_true(#all > 0)
    assert.same(all, got)
    -- location went to the server (section 1.8 EQUALS); isStarted is no filter parameter there
    for i = before + 1, #sent do assert.matches("[?&]location=NA1", sent[i]) end
    assert.is_nil(sent[#sent]:find("isStarted", 1, true))
  end)

  it("sends IN as repeated parameters and deployed for isDeployed", function()
    local c, sent = dd(5)
    local r = assert(c:call("list_servers_with_backup", {}, { where = { isDeployed = true, name = { "seed-0001", "seed-0003" } } }))
    assert.equal(2, #r.server)
    assert.matches("deployed=true", sent[#sent])
    assert.matches("name=seed%-0001&name=seed%-0003", sent[#sent])
  end)

  it("a filter value the server refuses (unknown location) gives no items, not an error", function()
    local c, sent = dd(5)
    local r = assert(c:call("list_servers_with_backup", {}, { where = { location = "XX9" } }))
    assert.same({}, r.server)
    assert.is_nil(sent[#sent]:find("XX9", 1, true)) -- asked again without it
  end)

  it("pages and list methods take the same options; a bad predicate is a validation error", function()
    local c = dd(3)
    local page = assert(c:pages("list_servers_with_backup", {}, { fields = { "id" } })())
    assert.equal(3, #page.items)
    for _, s in ipairs(page.items) do assert.same({ "id" }, (function() local k = {} for x in pairs(s) do k[#k + 1] = x end return k end)()) end
    local r = assert(c:list_servers_with_backup({}, { where = { name = "seed-0002" } }))
    assert.equal(1, #r.server)
    local res, err = c:call("list_servers_with_backup", {}, { where = { name = { bad = 1 } } })
    assert.is_nil(res)
    assert.equal("validation", err.kind)
    local p, perr = c:pages("list_servers_with_backup", {}, { where = 5 })()
    assert.is_nil(p)
    assert.equal("validation", perr.kind)
  end)

  it("a page that does not state its pageSize pages on with the documented default", function()
    local c = dd(600, function(body) return (body:gsub(' pageSize="%d+"', "")) end)
    local n = 0
    for _ in c:each("list_servers_with_backup", {}) do n = n + 1 end
    assert.equal(600, n) -- 3 pages of paging.default_page_size (250)
  end)

  it("providers that decode on their own (Clodo) get the same filter on their tables", function()
    local simmod = require "luacloud.sim.clodo"
    local BASE = "http://sim.test/clodo"
    local sim = simmod.new({ base_url = BASE })
    local c = assert(luacloud.new("clodo", { endpoint = BASE, user = sim.credentials.user, key = sim.credentials.key,
      transport = function(req)
        local st, h, b = sim:handle({ method = req.method, path = req.url:sub(#BASE + 1), headers = req.headers, body = req.body })
        local lh = {}
        for k, v in pairs(h) do lh[k:lower()] = v end
        return { status = st, headers = lh, body = b }
      end }))
    local all = assert(c:call("list_servers", {}))
    assert.is_true(#all.server > 1)
    local first = all.server[1]
    local r = assert(c:call("list_servers", {}, { where = { id = first.id }, fields = { "id" } }))
    assert.same({ { id = first.id } }, r.server)
  end)
end)

describe("call options", function()
  local function client()
    local sent = {}
    local c = assert(luacloud.new("reliacloud", { api_key = "k", secret_key = "s", endpoint = "http://127.0.0.1:9/client/api",
      transport = function(req)
        sent[#sent + 1] = req
        return { status = 200, headers = {}, body = "<listzonesresponse><count>0</count></listzonesresponse>" }
      end }))
    return c, sent
  end

  it("refuses an unknown option by name before sending (a client option given to a call)", function()
    local c, sent = client()
    for _, how in ipairs { "call", "pages" } do
      local r, err
      if how == "call" then r, err = c:call("list_zones", {}, { timeout = 0 })
      else r, err = c:pages("list_zones", {}, { timeout = 0 })() end
      assert.is_nil(r)
      assert.equal("validation", err.kind, how)
      assert.equal("list_zones", err.op)
      assert.truthy(err.message:find("unknown call option 'timeout'", 1, true), err.message)
    end
    assert.error(function() for _ in c:each("list_zones", {}, { retries = 1 }) do end end)
    assert.equal(0, #sent)
  end)

  it("still takes where and fields", function()
    local c, sent = client()
    assert.truthy(c:call("list_zones", {}, { where = { name = "x" }, fields = { "id" } }))
    assert.equal(1, #sent)
  end)
end)

describe("core.json_decode with a filter", function()
  -- found by fuzz/targets.lua json_filter: a string or number at the items path was kept whatever
  -- the predicate said (only objects were decided), so c:call's answer differed from f:apply's
  it("decides an item that is not an object as f:apply does", function()
    local lists = { server = true }
    for _, doc in ipairs { '{"r":{"server":"x"}}', '{"r":{"server":[5,{"name":"a"},"b",[1],null]}}' } do
      for _, where in ipairs { { name = "a" }, {}, { name = { exists = false } } } do
        local f = assert(core.filter(where))
        local full = assert(core.json_decode(doc, { lists = lists }))
        local v = assert(core.json_decode(doc, { lists = lists, filter = f, items = "*.server" }))
        assert.same(f:apply(full.r.server), v.r.server)
      end
    end
    local v = assert(core.json_decode('{"r":{"server":["x",{"name":"a"}]}}',
      { lists = lists, filter = assert(core.filter { name = "a" }), items = "*.server" }))
    assert.same({ { name = "a" } }, v.r.server)
  end)
end)
