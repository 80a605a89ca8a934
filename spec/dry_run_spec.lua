-- dry_run = true sends nothing at all, for every provider: not the call, not a login, not the
-- organization discovery. What the server would hand out shows as a placeholder.
local luacloud = require "luacloud"

local function dry_client(provider, creds)
  local sent = {}
  local o = { dry_run = true, endpoint = "http://127.0.0.1:9/" .. provider,
              transport = function(req) sent[#sent + 1] = req return nil, { kind = "connect", message = "refused" } end }
  for k, v in pairs(creds) do o[k] = v end
  return assert(luacloud.new(provider, o)), sent
end

describe("dry_run", function()
  it("dimensiondata: no Get My Account Details; the org id is {org-id}", function()
    local c, sent = dry_client("dimensiondata", { username = "u", password = "p" })
    local r = assert(c:list_servers_with_backup {})
    assert.is_true(r.dry_run)
    assert.are.equal("http://127.0.0.1:9/dimensiondata/oec/0.9/{org-id}/serverWithBackup", r.request.url)
    assert.are.equal(0, #sent)
    -- a given org id is used as is
    local c2, sent2 = dry_client("dimensiondata", { username = "u", password = "p", org_id = "o-1" })
    assert.truthy(assert(c2:list_servers_with_backup {}).request.url:find("/oec/0.9/o-1/", 1, true))
    assert.are.equal(0, #sent2)
  end)

  it("centurylink: no Logon; the session cookie is {session}", function()
    local c, sent = dry_client("centurylink", { api_key = "k", password = "p" })
    local r = assert(c:get_servers { HardwareGroupUUID = "g" })
    assert.truthy(r.request.headers.Cookie:find("{session}", 1, true))
    assert.are.equal(0, #sent)
  end)

  it("clodo: no authentication; token and management URL are {token} and {management-url}", function()
    local c, sent = dry_client("clodo", { user = "u", key = "k" })
    local r = assert(c:get_server { id = 3 })
    assert.are.equal("{token}", r.request.headers["X-Auth-Token"])
    assert.are.equal("{management-url}/servers/3", r.request.url)
    assert.are.equal(0, #sent)
  end)

  it("reliacloud: the signed request, nothing sent", function()
    local c, sent = dry_client("reliacloud", { api_key = "k", secret_key = "s" })
    local r = assert(c:list_zones {})
    assert.truthy(r.request.url:find("signature=", 1, true))
    assert.are.equal(0, #sent)
  end)

  it("reliacloud with username/password: no login; the session key is {session}", function()
    local c, sent = dry_client("reliacloud", { username = "u", password = "p" })
    local r = assert(c:list_zones {})
    assert.truthy(r.request.url:find("sessionkey=%7Bsession%7D", 1, true), r.request.url)
    assert.are.equal(0, #sent)
  end)

  it("a hook that sends anyway is refused by the engine", function()
    local c, sent = dry_client("clodo", { user = "u", key = "k" })
    local resp, err = c:send { method = "GET", url = "http://127.0.0.1:9/x?password=hunter2" }
    assert.is_nil(resp)
    assert.are.equal("dry_run", err.kind)
    assert.falsy(err.message:find("hunter2", 1, true))
    assert.are.equal(0, #sent)
  end)
end)
