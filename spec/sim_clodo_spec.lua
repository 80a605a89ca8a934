-- The Clodo simulator with raw requests: bodies in the forms the client sends.
local simmod = require("luacloud.sim.clodo")
local luacloud = require("luacloud")

local function session()
  local sim = simmod.new({})
  local _, h = sim:handle({ method = "GET", path = "/", headers = { ["x-auth-user"] = "demo", ["x-auth-key"] = "demo-key" } })
  local token = h["X-Auth-Token"]
  return function(method, path, body)
    return sim:handle({ method = method, path = "/v1" .. path, body = body, headers = { ["x-auth-token"] = token,
      accept = "application/xml", ["content-type"] = "application/xml; charset=UTF-8" } })
  end
end

describe("clodo simulator, update_dns_zone (Изменение зоны) in XML", function()
  local n = 0
  local function zone(req)
    n = n + 1
    local st, _, b = req("PUT", "/dns/", '<?xml version="1.0" encoding="UTF-8"?><dns><newdomain>samples' .. n
      .. '.ru</newdomain>'
      .. "<newdomain_type>MASTER</newdomain_type></dns>")
    assert.equal(200, st, b)
    return b:match("<id>(%d+)</id>")
  end

  it("takes the client's wrapper with no fields (every parameter is optional): 204", function()
    local c = assert(luacloud.new("clodo", { user = "demo", key = "demo-key", endpoint = "http://127.0.0.1:1/clodo",
      format = "xml", dry_run = true }))
    local body = assert(c:update_dns_zone({ id = 5 })).request.body
    assert.matches("<dns/>", body, 1, true)
    local req = session()
    local id = zone(req)
    for _, b in ipairs({ body, '<?xml version="1.0" encoding="UTF-8"?><dns></dns>' }) do
      local st, _, rb = req("POST", "/dns/" .. id, b)
      assert.equal(204, st, rb)
    end
  end)

  it("adds a record sent as <field>_0 children of the same root", function()
    local req = session()
    local id = zone(req)
    local st = req("POST", "/dns/" .. id, "<dns><name_0>www.example.ru</name_0><type_0>A</type_0>"
      .. "<content_0>10.0.0.5</content_0></dns>")
    assert.equal(204, st)
    local _, _, b = req("GET", "/dns/" .. id)
    assert.matches("<content>10.0.0.5</content>", b, 1, true)
  end)

  it("still reads a single-parameter root with text, and refuses an unknown field", function()
    local req = session()
    local id = zone(req)
    local st = req("POST", "/dns/" .. id, "<dns><colour_12>red</colour_12></dns>")
    assert.equal(400, st)
    st = req("POST", "/servers/60/backup/delete", "<file>2</file>")
    assert.truthy(st == 200 or st == 204, tostring(st))
  end)
end)
