-- bin/luacloud (the catalog-driven CLI) and bin/luacloud-docs (the generated operation reference).
-- Runs the scripts as separate processes from the repository root, like a user would.
local core = require "luacloud.core"

local PROVIDERS = { "reliacloud", "dimensiondata", "centurylink", "clodo" }

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local read_file = require("spec.support.sim").read

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p
end

-- run(args, env) -> stdout, stderr, exit code. Credentials of the caller's environment are cleared
-- so that only what a test passes is used.
local CLEAR = {}
for _, p in ipairs(PROVIDERS) do
  for _, k in ipairs { "API_KEY", "SECRET_KEY", "USERNAME", "PASSWORD", "USER", "KEY", "ENDPOINT", "ORG_ID" } do
    CLEAR[#CLEAR + 1] = "LUACLOUD_" .. p:upper() .. "_" .. k
  end
end

local function run(args, env)
  local out, err = tmpname(), tmpname()
  local parts = { "env" }
  for _, name in ipairs(CLEAR) do parts[#parts + 1] = "-u " .. name end
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. sh_quote(v) end
  parts[#parts + 1] = "lua5.4 bin/luacloud"
  for _, a in ipairs(args) do parts[#parts + 1] = sh_quote(a) end
  local cmd = table.concat(parts, " ") .. " >" .. out .. " 2>" .. err
  local _, _, code = os.execute(cmd)
  local so, se = read_file(out) or "", read_file(err) or ""
  os.remove(out)
  os.remove(err)
  return so, se, code
end

local function count_lines(s)
  local n = 0
  for line in s:gmatch("[^\n]+") do if line:match("%S") then n = n + 1 end end
  return n
end

describe("bin/luacloud", function()
  it("--list prints one line per catalog operation, for every provider", function()
    for _, p in ipairs(PROVIDERS) do
      local catalog = require("luacloud.catalog." .. p)
      local n = 0
      for _ in pairs(catalog.operations) do n = n + 1 end
      local so, se, code = run { p, "--list" }
      assert.are.equal(0, code, se)
      assert.are.equal(n, count_lines(so), p)
      for id in pairs(catalog.operations) do
        assert.truthy(so:find("\n" .. id .. " ", 1, true) or so:sub(1, #id + 1) == id .. " ", p .. ": " .. id)
      end
    end
  end)

  it("--list marks deprecated operations with their replacement", function()
    local so = run { "dimensiondata", "--list" }
    assert.truthy(so:match("list_servers%s+GET%s+/oec/0%.9/{org%-id}/server%s+"
      .. "%[deprecated: replaced by list_servers_with_backup%]"))
  end)

  it("resolves an operation name as a client does (one snake_case rule: spaces too)", function()
    local c = require("luacloud").new("reliacloud", { endpoint = "http://127.0.0.1:9/", api_key = "k", secret_key = "s" })
    assert.are.equal("list_zones", select(1, c:resolve("list zones")))
    local so, se, code = run { "reliacloud", "list zones", "--help" }
    assert.are.equal(0, code, se)
    assert.truthy(so:find("reliacloud list_zones", 1, true))
  end)

  it("--help shows the doc section, the required params with their types and the errors", function()
    local so, se, code = run { "reliacloud", "deployVirtualMachine", "--help" }
    assert.are.equal(0, code, se)
    assert.truthy(so:find("section: Commands > deployVirtualMachine", 1, true))
    for _, name in ipairs { "zoneId", "serviceOfferingId", "templateId" } do
      assert.truthy(so:match("\n%s+" .. name .. "%s+required, string"), name)
    end
    assert.truthy(so:find("Unauthorized user.", 1, true))
    -- an optional parameter
    local so2 = run { "dimensiondata", "add_sub_administrator_account", "--help" }
    assert.truthy(so2:match("\n%s+department%s+optional, string"))
    -- enums, for the first parameter with one in each catalog
    for _, p in ipairs(PROVIDERS) do
      local catalog = require("luacloud.catalog." .. p)
      local ids = {}
      for id in pairs(catalog.operations) do ids[#ids + 1] = id end
      table.sort(ids)
      local found
      for _, id in ipairs(ids) do
        for _, spec in ipairs(catalog.operations[id].params or {}) do
          if spec.enum and not spec.internal and not found then found = { id, spec } end
        end
      end
      if found then
        local text = run { p, found[1], "--help" }
        local vals = {}
        for i, v in ipairs(found[2].enum) do vals[i] = tostring(v) end
        assert.truthy(text:find("one of: " .. table.concat(vals, ", "), 1, true), p .. " " .. found[1])
      end
    end
  end)

  it("a missing required parameter fails with exit 2 (validation, nothing sent) and names the parameter", function()
    local so, se, code = run({ "reliacloud", "deploy_virtual_machine", "zoneId=1", "templateId=2", "networkDomain=x" },
      { LUACLOUD_RELIACLOUD_API_KEY = "k", LUACLOUD_RELIACLOUD_SECRET_KEY = "s",
        LUACLOUD_RELIACLOUD_ENDPOINT = "http://127.0.0.1:9/client/api" })
    assert.are.equal(2, code)
    assert.are.equal("", so)
    assert.truthy(se:find("serviceOfferingId", 1, true), se)
    assert.truthy(se:find("missing required parameter", 1, true), se)
  end)

  it("usage errors exit 2", function()
    local _, se, code = run { "nosuchcloud", "--list" }
    assert.are.equal(2, code)
    assert.truthy(se:find("unknown provider", 1, true))
    _, se, code = run { "reliacloud", "noSuchOperation" }
    assert.are.equal(2, code)
    assert.truthy(se:find("unknown reliacloud operation", 1, true))
    _, _, code = run { "reliacloud", "list_zones", "--bogus" }
    assert.are.equal(2, code)
    _, se, code = run { "reliacloud", "list_zones" } -- no credentials
    assert.are.equal(2, code)
    assert.truthy(se:find("LUACLOUD_RELIACLOUD_", 1, true))
  end)

  it("--dry-run against reliacloud prints the signed URL with the secrets redacted", function()
    local so, se, code = run({ "reliacloud", "listZones", "available=true", "--dry-run",
      "--endpoint", "http://127.0.0.1:9/client/api" },
      { LUACLOUD_RELIACLOUD_API_KEY = "my-api-key-123", LUACLOUD_RELIACLOUD_SECRET_KEY = "my-secret-456" })
    assert.are.equal(0, code, se)
    local req = assert(core.json_decode(so), so)
    assert.are.equal("GET", req.method)
    assert.truthy(req.url:find("^http://127%.0%.0%.1:9/client/api%?command=listZones"), req.url)
    assert.truthy(req.url:find("available=true", 1, true))
    assert.truthy(req.url:find("apiKey=REDACTED", 1, true), req.url)
    assert.truthy(req.url:find("signature=REDACTED", 1, true), req.url)
    assert.falsy(so:find("my-api-key-123", 1, true))
    assert.falsy(so:find("my-secret-456", 1, true))
    assert.falsy(se:find("my-secret-456", 1, true))
  end)

  it("--dry-run redacts passwords in bodies and the Authorization header", function()
    local so, se, code = run({ "dimensiondata", "add_sub_administrator_account", "--dry-run",
      "--endpoint", "http://127.0.0.1:9", "--org-id", "org1",
      "userName=bob", "password=hunter2hunter2", "fullName=B", "firstName=B", "lastName=C",
      "emailAddress=a@b.c", "orgId=org1", "roles.role.1.name=server", "roles.role.2.name=network" },
      { LUACLOUD_DIMENSIONDATA_USERNAME = "demo", LUACLOUD_DIMENSIONDATA_PASSWORD = "very-secret-pw" })
    assert.are.equal(0, code, se)
    local req = assert(core.json_decode(so), so)
    assert.are.equal("REDACTED", req.headers.Authorization)
    assert.falsy(so:find("hunter2hunter2", 1, true))
    assert.falsy(so:find("very-secret-pw", 1, true))
    assert.truthy(req.body:find("<password>REDACTED</password>", 1, true))
    -- nested name.sub=value parameters
    local roles = "<roles><role><name>server</name></role><role><name>network</name></role></roles>"
    assert.truthy(req.body:find(roles, 1, true),
      req.body)
  end)

  describe("against the nginx simulator", function()
    local port, state, endpoints, creds
    local have_nginx = os.execute("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx")
      and io.open("build-luajit/luacloud/core.so", "rb") ~= nil

    setup(function()
      if not have_nginx then return end
      math.randomseed(os.time() + math.floor(os.clock() * 1e6))
      port = 20000 + math.random(0, 20000)
      state = tmpname()
      local p = io.popen("bin/luacloud-sim start --port " .. port .. " --state-dir " .. sh_quote(state)
        .. " --json 2>&1")
      local s = p:read("a")
      p:close()
      local info = core.json_decode(s:match("{.*}") or "")
      if type(info) == "table" then
        endpoints, creds = info.endpoints, info.credentials
      end
    end)

    teardown(function()
      if port then
        os.execute("bin/luacloud-sim stop --port " .. port .. " --state-dir " .. sh_quote(state) .. " >/dev/null 2>&1")
        os.execute("rm -rf " .. sh_quote(state))
      end
    end)

    local function check_started()
      if not have_nginx then pending("nginx (with the lua module) or build-luajit is missing") return false end
      assert.is_table(endpoints, "the simulator did not start")
      return true
    end

    it("a real call returns the result as JSON", function()
      if not check_started() then return end
      local rc = creds.reliacloud
      local so, se, code = run({ "reliacloud", "listZones", "available=true" },
        { LUACLOUD_RELIACLOUD_ENDPOINT = endpoints.reliacloud, LUACLOUD_RELIACLOUD_API_KEY = rc.api_key,
          LUACLOUD_RELIACLOUD_SECRET_KEY = rc.secret_key })
      assert.are.equal(0, code, se)
      local res = assert(core.json_decode(so), so)
      assert.is_table(res.zone)
      assert.is_true(#res.zone > 0)
      assert.is_string(res.zone[1].name)
    end)

    it("--each prints every item as one JSON document per line; flags work as well as the environment", function()
      if not check_started() then return end
      local rc = creds.reliacloud
      local so, se, code = run { "reliacloud", "list_zones", "available=true", "--each",
        "--endpoint", endpoints.reliacloud, "--api-key", rc.api_key, "--secret-key", rc.secret_key }
      assert.are.equal(0, code, se)
      local n = 0
      for line in so:gmatch("[^\n]+") do
        n = n + 1
        local item = assert(core.json_decode(line), line)
        assert.is_string(item.id)
      end
      assert.is_true(n > 0)
    end)

    it("an API error goes to stderr with exit 4 when the object does not exist", function()
      if not check_started() then return end
      local so, se, code = run({ "clodo", "get_server", "id=987654" },
        { LUACLOUD_CLODO_ENDPOINT = endpoints.clodo, LUACLOUD_CLODO_USER = creds.clodo.user,
          LUACLOUD_CLODO_KEY = creds.clodo.key })
      assert.are.equal(4, code)
      assert.are.equal("", so)
      assert.truthy(se:find("luacloud clodo get_server", 1, true), se)
      assert.falsy(se:find(creds.clodo.key, 1, true))
    end)

    it("--format xml and --output lua", function()
      if not check_started() then return end
      local so, se, code = run({ "clodo", "list_servers", "--format", "xml", "--output", "lua" },
        { LUACLOUD_CLODO_ENDPOINT = endpoints.clodo, LUACLOUD_CLODO_USER = creds.clodo.user,
          LUACLOUD_CLODO_KEY = creds.clodo.key })
      assert.are.equal(0, code, se)
      local v = assert(load("local luacloud = { null = {} } return " .. so))()
      assert.is_table(v.server)
    end)
  end)
end)

describe("bin/luacloud-docs", function()
  it("docs/operations is up to date with the catalogs", function()
    local dir = tmpname()
    local ok = os.execute("lua5.4 bin/luacloud-docs --out " .. sh_quote(dir))
    assert.truthy(ok)
    for _, name in ipairs { "README.md", "reliacloud.md", "dimensiondata.md", "centurylink.md", "clodo.md" } do
      local fresh = read_file(dir .. "/" .. name)
      local committed = read_file("docs/operations/" .. name)
      assert.is_string(fresh, name)
      assert.is_string(committed, "docs/operations/" .. name .. " is missing: run bin/luacloud-docs")
      assert.truthy(fresh == committed, "docs/operations/" .. name .. " is stale: run bin/luacloud-docs")
    end
    local p = io.popen("diff -r " .. sh_quote(dir) .. " docs/operations")
    local diff = p:read("a")
    p:close()
    assert.are.equal("", diff)
    os.execute("rm -rf " .. sh_quote(dir))
  end)

  it("has one section per operation and says it is generated", function()
    for _, p in ipairs(PROVIDERS) do
      local text = read_file("docs/operations/" .. p .. ".md")
      assert.truthy(text:find("Generated by bin/luacloud-docs", 1, true))
      local n, sections = 0, 0
      for _ in pairs(require("luacloud.catalog." .. p).operations) do n = n + 1 end
      for _ in text:gmatch("\n## [%w_]+\n") do sections = sections + 1 end
      assert.are.equal(n, sections, p)
    end
  end)
end)
