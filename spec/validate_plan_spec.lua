-- validate.check through its per-entry plan (built once, reused on every call): the same checks
-- on the second and later calls as on the first, enums matched without case, path placeholders
-- required, parameter rules still applied, nothing sent when a check fails.
local luacloud = require "luacloud"

local function client(provider, opts)
  local sent = {}
  local o = { endpoint = "http://127.0.0.1:9", retries = 0,
    transport = function(req) sent[#sent + 1] = req return nil, { kind = "connect", message = "no" } end }
  for k, v in pairs(opts) do o[k] = v end
  return assert(luacloud.new(provider, o)), sent
end

local function dry(provider, opts)
  local o = { endpoint = "http://127.0.0.1:9", dry_run = true }
  for k, v in pairs(opts) do o[k] = v end
  return assert(luacloud.new(provider, o))
end

local CL = { api_key = "k", password = "p", account_alias = "A" }
local ACCOUNT = { ParentAlias = "P", Location = "WA1", BusinessName = "B", Address1 = "a", City = "c",
  StateProvince = "WA", PostalCode = "1", Country = "US", Telephone = "1", ShareParentNetworks = true }

describe("validate plan", function()
  it("an enum is matched without case, on every call (CenturyLink format, BillingResponsibilityID)", function()
    local c = dry("centurylink", CL)
    for _ = 1, 3 do
      local p = {}
      for k, v in pairs(ACCOUNT) do p[k] = v end
      p.BillingResponsibilityID = 2
      p.format = "xml" -- the enum lists "XML"
      local r = assert(c:call("create_account", p))
      assert.truthy(r.request.url:find("/CreateAccount/XML$"), r.request.url)
    end
  end)

  it("a value outside the enum is refused before sending, on the first and the later calls", function()
    local c, sent = client("centurylink", CL)
    for _ = 1, 3 do
      local p = {}
      for k, v in pairs(ACCOUNT) do p[k] = v end
      p.BillingResponsibilityID = 3
      local r, err = c:call("create_account", p)
      assert.is_nil(r)
      assert.equal("validation", err.kind)
      assert.equal("BillingResponsibilityID", err.param)
      assert.truthy(err.message:find("must be one of 1, 2", 1, true), err.message)
    end
    assert.equal(0, #sent)
  end)

  it("a path parameter is required, and fills its placeholder (URL-encoded) on every call", function()
    local c, sent = client("dimensiondata", { username = "u", password = "p", org_id = "o" })
    for _ = 1, 2 do
      local r, err = c:call("get_server_details", {})
      assert.is_nil(r)
      assert.equal("validation", err.kind)
      assert.truthy(err.message:find("server", 1, true), err.message)
    end
    assert.equal(0, #sent)
    local d = dry("dimensiondata", { username = "u", password = "p", org_id = "o" })
    assert.equal("http://127.0.0.1:9/oec/0.9/o/server/s%2F1",
      assert(d:call("get_server_details", { server_id = "s/1" })).request.url)
    assert.equal("http://127.0.0.1:9/oec/0.9/o/server/s2", -- the second call, through the cached plan
      assert(d:call("get_server_details", { server_id = "s2" })).request.url)
  end)

  it("a rule between parameters (Clodo create_server: exactly one of) is still applied after the first call", function()
    local c, sent = client("clodo", { user = "u", key = "k" })
    for _ = 1, 2 do
      local r, err = c:call("create_server", { vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5,
        vps_admin = 1, vps_os = 541 }) -- neither name nor vps_title
      assert.is_nil(r)
      assert.equal("validation", err.kind)
      assert.truthy(err.message:find("exactly one of", 1, true), err.message)
    end
    assert.equal(0, #sent)
  end)

  it("an unknown parameter names the documented ones; a parameter given twice is refused", function()
    local c, sent = client("reliacloud", { api_key = "k", secret_key = "s" })
    local r, err = c:call("list_zones", { nope = 1 })
    assert.is_nil(r)
    assert.truthy(err.message:find("documented: available", 1, true), err.message)
    assert.equal(0, #sent)
    local cl, clsent = client("centurylink", CL)
    r, err = cl:call("get_servers", { HardwareGroupUUID = "g", hardware_group_uuid = "g" })
    assert.is_nil(r)
    assert.truthy(err.message:find("given twice", 1, true), err.message)
    assert.equal(0, #clsent)
  end)
end)
