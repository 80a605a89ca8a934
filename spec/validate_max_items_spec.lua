-- A parameter's max_items / min_items (catalog) is checked before sending: the Dimension Data
-- document refuses more than 10 values for a filter parameter (REASON_72), and an anti-affinity
-- rule names exactly two servers. The error names the operation and the parameter.
local luacloud = require "luacloud"

local function client()
  local sent = {}
  local c = assert(luacloud.new("dimensiondata", { username = "u", password = "p", org_id = "o", retries = 0,
    endpoint = "http://127.0.0.1:9",
    transport = function(req) sent[#sent + 1] = req return { status = 200, headers = {}, body = "<servers/>" } end }))
  return c, sent
end

local function values(n)
  local t = {}
  for i = 1, n do t[i] = "NA" .. i end
  return t
end

describe("max_items", function()
  it("refuses 11 values of an IN filter without sending", function()
    local c, sent = client()
    local r, err = c:call("list_servers_with_backup", { location = values(11) })
    assert.is_nil(r)
    assert.equal("validation", err.kind)
    assert.equal("location", err.param)
    assert.equal("list_servers_with_backup", err.op)
    assert.truthy(tostring(err):find("list_servers_with_backup", 1, true), tostring(err))
    assert.truthy(err.message:find("at most 10", 1, true))
    assert.equal(0, #sent)
  end)

  it("sends 10 values, one query pair each", function()
    local c, sent = client()
    c:call("list_servers_with_backup", { location = values(10) })
    assert.equal(1, #sent)
    local _, n = sent[1].url:gsub("location=", "")
    assert.equal(10, n)
  end)

  it("checks min_items too (an anti-affinity rule takes two servers)", function()
    local c, sent = client()
    local r, err = c:call("create_server_anti_affinity_rule", { serverId = { "a" } })
    assert.is_nil(r)
    assert.equal("serverId", err.param)
    assert.truthy(err.message:find("takes 2 values, got 1", 1, true))
    assert.equal(0, #sent)
  end)
end)
