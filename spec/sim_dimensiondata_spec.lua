-- The Dimension Data simulator driven with raw requests, as real clients send them: the forms
-- of Apache Libcloud, the document's date limits, and paging that stays correct (and cheap)
-- while the account changes.
local simmod = require("luacloud.sim.dimensiondata")
local core = require("luacloud.core")
local cost = require("spec.support.cost")

local function new()
  local clock = { t = 1704067200 } -- 2024-01-01
  local sim = simmod.new({ now = function() return clock.t end, deploy_seconds = 30, action_seconds = 5 })
  local org = sim.credentials.org_id
  local auth = "Basic " .. core.b64encode("demo:demo-password")
  local function req(method, path, body, ctype)
    local h = { authorization = auth }
    if body then h["content-type"] = ctype or "application/xml" end
    local status, _, rb = sim:handle({ method = method, path = "/oec/0.9/" .. org .. path, headers = h, body = body })
    return status, rb
  end
  return sim, req, clock
end

local function code(body) return body:match("<[%w:]*resultCode>([^<]+)<") end
local function attr(body, name) return body:match(name .. '="([^"]*)"') end

describe("dimensiondata simulator, forms real clients send", function()
  local function backed_up_server()
    local sim, req = new()
    local id = sim:seed("servers", 1).servers[1]
    local st, b = req("POST", "/server/" .. id .. "/backup",
      '<NewBackup xmlns="http://oec.api.opsource.net/schemas/backup" servicePlan="Enterprise"/>')
    assert.equal(200, st, b)
    return sim, req, id
  end

  local function add_client(req, id, alerting)
    return req("POST", "/server/" .. id .. "/backup/client",
      '<NewBackupClient xmlns="http://oec.api.opsource.net/schemas/backup"><type>FA.Linux</type>'
      .. "<storagePolicyName>14 Day Storage Policy</storagePolicyName>"
      .. "<schedulePolicyName>12AM - 6AM</schedulePolicyName>" .. alerting .. "</NewBackupClient>")
  end

  it("adds a backup client with the alerting trigger as an attribute (Apache Libcloud's form)", function()
    local _, req, id = backed_up_server()
    local st, b = add_client(req, id,
      '<alerting trigger="ON_FAILURE"><emailAddress>ops@example.com</emailAddress></alerting>')
    assert.equal(200, st, b)
    local _, details = req("GET", "/server/" .. id .. "/backup")
    assert.equal("ON_FAILURE", attr(details, "trigger"))
    assert.truthy(details:find("ops@example.com", 1, true))
  end)

  it("still takes the document's element form and refuses a missing or unknown trigger", function()
    local _, req, id = backed_up_server()
    local st, b = add_client(req, id, "<alerting><emailAddress>ops@example.com</emailAddress></alerting>")
    assert.equal(400, st)
    assert.equal("REASON_320", code(b))
    _, b = add_client(req, id, '<alerting trigger="SOMETIMES"><emailAddress>a@example.com</emailAddress></alerting>')
    assert.equal("REASON_320", code(b))
    st, b = add_client(req, id, "<alerting><trigger>ON_SUCCESS</trigger><emailAddress>a@example.com</emailAddress></alerting>")
    assert.equal(200, st, b)
  end)

  it("gives the audit log up to 30 days after the start date (section 10.5), not one more", function()
    local _, req = new()
    local st, b = req("GET", "/auditlog?startDate=2024-01-01&endDate=2024-01-31")
    assert.equal(200, st, b)
    st, b = req("GET", "/auditlog?startDate=2024-01-01&endDate=2024-02-01")
    assert.equal(400, st)
    assert.equal("REASON_520", code(b))
  end)
end)

describe("dimensiondata simulator paging over a changing account", function()
  local function names(body)
    local out = {}
    for n in body:gmatch("<[%w:]*name>(seed%-[^<]+)<") do out[#out + 1] = n end
    return out
  end

  it("pages in creation order, with filters and orderBy, and sees writes at once", function()
    local sim, req, clock = new()
    sim:seed("servers", 30)
    local _, b = req("GET", "/serverWithState?pageSize=10&pageNumber=2")
    assert.equal("30", attr(b, "totalCount"))
    assert.same({ "seed-0011", "seed-0012" }, { names(b)[1], names(b)[2] })
    _, b = req("GET", "/serverWithState?pageSize=5&orderBy=name.DESCENDING")
    assert.equal("seed-0030", names(b)[1])
    -- seeded servers alternate started/stopped: a filter of the API narrows through its index
    _, b = req("GET", "/serverWithState?pageSize=250&name=seed-0004&name=seed-0002")
    assert.equal("2", attr(b, "totalCount"))
    assert.same({ "seed-0002", "seed-0004" }, names(b)) -- list order, not the order of the values
    -- a deployment between two pages shows up in the next page's count
    local net = b:match("<[%w:]*networkId>([^<]+)<")
    local img = sim.images[1].id
    local st = req("POST", "/server", "<Server xmlns=\"http://oec.api.opsource.net/schemas/server\"><name>late</name>"
      .. "<description>d</description><vlanResourcePath>/oec/" .. sim.credentials.org_id .. "/network/" .. net
      .. "</vlanResourcePath><imageResourcePath>/oec/base/image/" .. img .. "</imageResourcePath>"
      .. "<administratorPassword>Secret-123</administratorPassword><isStarted>true</isStarted></Server>")
    assert.equal(200, st)
    _, b = req("GET", "/serverWithState?pageSize=10&pageNumber=2")
    assert.equal("31", attr(b, "totalCount"))
    _, b = req("GET", "/serverWithState?pageSize=250&deployed=false")
    assert.equal("1", attr(b, "totalCount"))
    -- the deployment finishes by the clock alone (no write request): the filter sees it
    clock.t = clock.t + 31
    _, b = req("GET", "/serverWithState?pageSize=250&deployed=false")
    assert.equal("0", attr(b, "totalCount"))
    _, b = req("GET", "/serverWithState?pageSize=250&deployed=true")
    assert.equal("31", attr(b, "totalCount"))
  end)

  it("does the same work per page at 100 and at 20,000 servers", function()
    -- counted (Lua instructions, bytes allocated), not timed: a loaded machine cannot fail it;
    -- the first page builds the ordered view, the next five must each cost O(page size)
    local function per_page(n)
      local sim, req = new()
      sim:seed("servers", n)
      req("GET", "/serverWithState?pageSize=50&pageNumber=1")
      return (cost.measure(function()
        for i = 1, 5 do assert.equal(200, (req("GET", "/serverWithState?pageSize=50&pageNumber=" .. (i + 1)))) end
      end))
    end
    local ok, msg = cost.flat(per_page(100), per_page(20000), 19900)
    assert.truthy(ok, "5 pages of 50: " .. msg)
  end)
end)
