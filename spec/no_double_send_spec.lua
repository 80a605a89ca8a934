-- "A request that is not idempotent is never sent twice unless the connection
-- was refused" (README), checked by counting what a socket-level fake server
-- received. The server keeps warm connections open, then reads a create fully
-- and closes without answering: libcurl used to resend it on another
-- connection (its retry of a request that died on a reused connection).
local core = require "luacloud.core"
local luacloud = require "luacloud"
local fake = require "spec.support.fake_server"

local srv
setup(function() srv = fake.start() end)
teardown(function() if srv then srv.stop() end end)
before_each(function() srv.reset() end)

-- n pooled connections: n concurrent reads, each answered, kept alive
local function warm(s, n)
  local reqs = {}
  for i = 1, n do reqs[i] = { url = srv.base .. "/warm?i=" .. i } end
  for _, r in ipairs(s:batch(reqs, n)) do assert(r.status == 200, r.err and r.err.message) end
  local again = assert(s:request { url = srv.base .. "/warm" })
  assert.are.equal(0, again.new_connections) -- the pool is really in use
end

local function create(i) return { method = "POST", url = srv.base .. "/create?i=" .. (i or 1), body = "name=web", idempotent = false } end

describe("libcurl transport: a request that must not be repeated", function()
  for _, pooled in ipairs({ 1, 4, 8 }) do
    it("is sent once when the server drops it, with " .. pooled .. " pooled connection(s)", function()
      local s = core.session { timeout = 5 }
      warm(s, pooled)
      srv.kill("/create")
      local r, err = s:request(create())
      assert.is_nil(r)
      assert.are.equal("transport", err.kind)
      assert.are.equal(1, srv.counts().killed)
      s:close()
    end)
  end

  it("is sent once per call in a batch of 4 over 8 pooled connections", function()
    local s = core.session { timeout = 5 }
    warm(s, 8)
    srv.kill("/create")
    local res = s:batch({ create(1), create(2), create(3), create(4) }, 4)
    for i = 1, 4 do assert.is_table(res[i].err, "call " .. i) end
    assert.are.equal(4, srv.counts().killed)
    s:close()
  end)

  it("a POST without the engine's flag is not repeated either", function()
    local s = core.session { timeout = 5 }
    warm(s, 4)
    srv.kill("/create")
    assert.is_nil(s:request { method = "POST", url = srv.base .. "/create", body = "x" })
    assert.are.equal(1, srv.counts().killed)
    s:close()
  end)

  it("fails instead of succeeding silently after a resend (server drops only the first)", function()
    local s = core.session { timeout = 5 }
    warm(s, 1)
    srv.kill("/create", 1)
    assert.is_nil(s:request(create()))
    local n = srv.counts()
    assert.are.equal(1, n.killed)
    assert.are.equal(0, n.matched_answered)
    s:close()
  end)
end)

describe("libcurl transport: an idempotent GET", function()
  it("may still be resent when its reused connection died", function()
    local s = core.session { timeout = 5 }
    warm(s, 1)
    srv.kill("/read", 1)
    local r = assert(s:request { url = srv.base .. "/read" })
    assert.are.equal(200, r.status)
    local n = srv.counts()
    assert.are.equal(1, n.killed)
    assert.are.equal(1, n.matched_answered)
    s:close()
  end)
end)

describe("through the engine", function()
  it("ReliaCloud deployVirtualMachine (a GET the catalog marks unsafe) reaches the server once", function()
    local c = assert(luacloud.new("reliacloud", { endpoint = srv.base .. "/client/api", api_key = "k", secret_key = "s", format = "json",
                                                  timeout = 5 }))
    srv.answer('{"listzonesresponse":{"count":0,"zone":[]}}')
    assert(c:list_zones {})
    srv.kill("deployVirtualMachine")
    local res, err = c:deploy_virtual_machine { zoneId = "1", serviceOfferingId = "2", templateId = "3", networkDomain = "n1" }
    assert.is_nil(res)
    assert.are.equal("transport", err.kind)
    assert.is_false(err.retryable)
    assert.are.equal(1, srv.counts().killed)
    c:close()
  end)

  it("Dimension Data deploy_server (POST) in a batch of 4 puts 4 creates on the wire", function()
    local c = assert(luacloud.new("dimensiondata", { endpoint = srv.base, username = "u", password = "p", org_id = "org1",
                                                     timeout = 5 }))
    srv.answer('<?xml version="1.0"?><ns:ServersWithState xmlns:ns="http://oec.api.opsource.net/schemas/server"/>',
               "application/xml")
    c:list_servers {} -- warm: one pooled connection, whatever the decoded answer
    srv.kill("<name>web")
    local calls = {}
    for i = 1, 4 do
      calls[i] = { "deploy_server", { name = "web" .. i, description = "d", vlanResourcePath = "/oec/org1/network/n1",
                                      imageResourcePath = "/oec/base/image/i1", administratorPassword = "Secret123!",
                                      isStarted = true } }
    end
    local res = c:batch(calls, 4)
    for i = 1, 4 do assert.is_table(res[i].err, "call " .. i .. ": " .. tostring(res[i].result)) end
    assert.are.equal(4, srv.counts().killed)
    c:close()
  end)
end)

describe("cosocket transport (nginx): a request that must not be repeated", function()
  local function run(q) return srv.admin("ngx?" .. q) end
  for _, pooled in ipairs({ 1, 4, 8 }) do
    it("is sent once when the server drops it, with " .. pooled .. " pooled connection(s)", function()
      srv.kill("/create")
      local out = run("warm=" .. pooled .. "&n=1&idempotent=false")
      assert.are.same({ { err = "transport" } }, out.results)
      assert.are.equal(1, srv.counts().killed)
    end)
  end

  it("is sent once per call in a batch of 4", function()
    srv.kill("/create")
    local out = run("warm=8&n=4&idempotent=false")
    for i = 1, 4 do assert.are.equal("transport", out.results[i].err) end
    assert.are.equal(4, srv.counts().killed)
  end)

  it("an idempotent GET is resent once when its reused connection died", function()
    srv.kill("/read", 1)
    local out = run("warm=1&n=1&method=GET&path=/read")
    assert.are.same({ { status = 200 } }, out.results)
    local n = srv.counts()
    assert.are.equal(1, n.killed)
    assert.are.equal(1, n.matched_answered)
  end)
end)
