-- ReliaCloud's documented error statuses over real HTTP (nginx simulator):
-- 401 for a bad signature, 430 for a request missing a required parameter
-- (the client refuses to send one, so it is signed by hand here), 431 for an
-- unknown id; the client reports each as an err with the API's code.
local luacloud = require "luacloud"
local core = require "luacloud.core"
local sign = require("luacloud.providers.reliacloud").signature
local support = require "spec.support.sim"

describe("reliacloud errors over HTTP", function()
  local sim, ep
  setup(function()
    sim = support.start()
    ep = sim.endpoints.reliacloud
  end)
  teardown(function() if sim then sim.stop() end end)

  local function signed_url(query, secret)
    local q = {}
    for i, kv in ipairs(query) do q[i] = kv end
    q[#q + 1] = { "apikey", "demo-api-key" }
    q[#q + 1] = { "signature", sign(secret or "demo-secret-key", q) }
    return ep .. "?" .. core.query_encode(q)
  end

  it("answers 401 to a bad signature, and the client says auth without leaking the key", function()
    local s = core.session {}
    local r = assert(s:request { url = signed_url({ { "command", "listZones" } }, "wrong-secret") })
    assert.are.equal(401, r.status)
    local c = assert(luacloud.new("reliacloud", { endpoint = ep, api_key = "demo-api-key", secret_key = "wrong-secret" }))
    local res, err = c:list_zones {}
    assert.is_nil(res)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.code)
    assert.is_nil(tostring(err):find("wrong-secret", 1, true))
  end)

  it("answers 430 to a request missing a required parameter", function()
    local s = core.session {}
    local r = assert(s:request { url = signed_url({ { "command", "deployVirtualMachine" }, { "serviceofferingid", "1" } }) })
    assert.are.equal(430, r.status)
    -- the client does not even send it
    local c = assert(luacloud.new("reliacloud", { endpoint = ep, api_key = "demo-api-key", secret_key = "demo-secret-key" }))
    local _, err = c:deploy_virtual_machine { serviceOfferingId = "1" }
    assert.are.equal("validation", err.kind)
  end)

  it("answers 431 to an unknown id, reported with the documented text", function()
    local c = assert(luacloud.new("reliacloud", { endpoint = ep, api_key = "demo-api-key", secret_key = "demo-secret-key" }))
    local _, err = c:stop_virtual_machine { id = "987654" }
    assert.are.equal(431, err.status)
    assert.are.equal("api", err.kind)
    assert.is_false(err.retryable)
  end)
end)
