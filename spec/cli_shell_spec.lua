-- bin/luacloud through a real shell against the nginx simulators (spec/support/sim.lua):
-- --wait for the object just created, the progress line on a terminal only (script -qc gives a
-- TTY), dry runs that send nothing, the exit-code contract, JSON errors, profiles, completion.
local core = require "luacloud.core"
local simsup = require "spec.support.sim"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local CLEAR = "env -u LUACLOUD_PROFILE -u LUACLOUD_CONFIG"
for _, p in ipairs { "RELIACLOUD", "DIMENSIONDATA", "CENTURYLINK", "CLODO" } do
  for _, k in ipairs { "API_KEY", "SECRET_KEY", "USERNAME", "PASSWORD", "USER", "KEY", "ENDPOINT", "ORG_ID" } do
    CLEAR = CLEAR .. " -u LUACLOUD_" .. p .. "_" .. k
  end
end

-- sh(args, env, opts) -> stdout, stderr, exit code; opts.tty runs it under script(1) (stderr a TTY)
local function sh(args, env, opts)
  opts = opts or {}
  local o, e = os.tmpname(), os.tmpname()
  local parts = { CLEAR, "XDG_CONFIG_HOME=" .. q(opts.xdg or "/nonexistent") }
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. q(v) end
  parts[#parts + 1] = "lua5.4 bin/luacloud"
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  local cmd = table.concat(parts, " ")
  local full
  if opts.tty then
    -- script gives the command a terminal on stdin/stdout/stderr; stdout is sent to a file,
    -- so what the terminal shows is stderr only
    full = "script -qec " .. q(cmd .. " >" .. o) .. " /dev/null >" .. e .. " 2>&1 </dev/null"
  else
    full = cmd .. " >" .. o .. " 2>" .. e
  end
  local _, _, code = os.execute(full)
  local so, se = slurp(o), slurp(e)
  os.remove(o)
  os.remove(e)
  return so, se, code
end

local have_nginx = os.execute("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx")
  and io.open("build-luajit/luacloud/core.so", "rb") ~= nil

describe("luacloud through a shell", function()
  local sim, env

  setup(function()
    if not have_nginx then return end
    sim = simsup.start()
    env = {}
    local c = sim.credentials
    for p, cred in pairs { dimensiondata = { USERNAME = c.dimensiondata.username, PASSWORD = c.dimensiondata.password },
                           centurylink = { API_KEY = c.centurylink.api_key, PASSWORD = c.centurylink.password },
                           clodo = { USER = c.clodo.user, KEY = c.clodo.key },
                           reliacloud = { API_KEY = c.reliacloud.api_key, SECRET_KEY = c.reliacloud.secret_key } } do
      env[p] = { ["LUACLOUD_" .. p:upper() .. "_ENDPOINT"] = sim.endpoints[p] }
      for k, v in pairs(cred) do env[p]["LUACLOUD_" .. p:upper() .. "_" .. k] = v end
    end
  end)
  teardown(function() if sim then sim.stop() end end)

  local function need_sim()
    if not have_nginx then pending("nginx (with the lua module) or build-luajit is missing") return false end
    return true
  end

  local function json(s) return assert(core.json_decode(s), "not JSON: " .. s) end

  local dd = {}
  local function dd_setup()
    if dd.net then return dd end
    local _, se, code = sh({ "dimensiondata", "create_network_with_location", "name=cli-net", "location=NA1" }, env.dimensiondata)
    assert.are.equal(0, code, se)
    for _, n in ipairs(json((sh({ "dimensiondata", "list_networks_with_location" }, env.dimensiondata))).network) do
      if n.name == "cli-net" then dd.net = n.id end
    end
    dd.img = json((sh({ "dimensiondata", "list_os_server_images_with_software_labels", "location_id=NA1" },
      env.dimensiondata))).DeployedImageWithSoftwareLabels[1].id
    dd.org = sim.credentials.dimensiondata.org_id
    return dd
  end
  local function deploy_args(name, extra)
    local d = dd_setup()
    local a = { "dimensiondata", "deploy_server", "name=" .. name, "description=cli",
      "vlanResourcePath=/oec/" .. d.org .. "/network/" .. d.net, "imageResourcePath=/oec/base/image/" .. d.img,
      "administratorPassword=Secret-123", "isStarted=true" }
    for _, x in ipairs(extra or {}) do a[#a + 1] = x end
    return a
  end

  it("--wait timing out exits 6 and still prints what was accepted", function()
    if not need_sim() then return end
    -- the documented deploy time (12 s here) is far beyond this timeout
    local so, se, code = sh(deploy_args("slow-web", { "--wait", "--wait-timeout", "0.3" }), env.dimensiondata)
    assert.are.equal(6, code, se)
    assert.are.equal("SUCCESS", json(so).result)
    assert.truthy(se:find("still not done", 1, true), se)
  end)

  it("dimensiondata deploy_server --wait prints the server just deployed (not an older one of that name)", function()
    if not need_sim() then return end
    sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=speed&n=100")
    local so1, se1, code1 = sh(deploy_args("web", { "--wait" }), env.dimensiondata)
    assert.are.equal(0, code1, se1)
    local s1 = json(so1)
    assert.are.equal("web", s1.name)
    assert.are.equal("NORMAL", s1.state)
    assert.are.equal("true", s1.isDeployed)
    assert.are.equal("", se1) -- stderr is not a terminal: no progress line
    local so2, se2, code2 = sh(deploy_args("web", { "--wait" }), env.dimensiondata)
    assert.are.equal(0, code2, se2)
    local s2 = json(so2)
    assert.are.equal("web", s2.name)
    assert.are_not.equal(s1.id, s2.id)
  end)

  it("--wait on a terminal shows a progress line on stderr, updated in place; stdout unchanged", function()
    if not need_sim() then return end
    if not os.execute("command -v script >/dev/null 2>&1") then pending("script(1) (util-linux) is missing") return end
    sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=speed&n=10")
    local so, se, code = sh(deploy_args("tty-web", { "--wait" }), env.dimensiondata, { tty = true })
    sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=speed&n=100")
    assert.are.equal(0, code, se)
    assert.are.equal("tty-web", json(so).name)
    assert.truthy(se:find("\r\27[K", 1, true), se)
    assert.truthy(se:find("waiting for deploy_server: %d+%% %u[%u_]* %d+s"), se)
    assert.truthy(se:find("NORMAL", 1, true), se)
  end)

  it("--wait for a server action and a delete (dimensiondata), a queued request (centurylink), clodo servers and backups", function()
    if not need_sim() then return end
    sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=speed&n=100")
    sim.admin("POST", "/_sim/seed?provider=centurylink&kind=speed&n=100")
    sim.admin("POST", "/_sim/seed?provider=clodo&kind=speed&n=100")
    local s = json((sh(deploy_args("act", { "--wait" }), env.dimensiondata)))
    local _, so, se, code
    so, se, code = sh({ "dimensiondata", "power_off_server", "server_id=" .. s.id, "--wait" }, env.dimensiondata)
    assert.are.equal(0, code, se)
    assert.are.equal("false", json(so).isStarted)
    _, se, code = sh({ "dimensiondata", "delete_server", "server_id=" .. s.id, "--wait" }, env.dimensiondata)
    assert.are.equal(0, code, se)
    -- done means gone
    assert.are.equal(0, #json((sh({ "dimensiondata", "list_servers_with_backup", "id=" .. s.id }, env.dimensiondata))).server)

    local groups = json((sh({ "centurylink", "get_groups", "Location=WA1" }, env.centurylink))).HardwareGroups
    local uuid
    for _, g in ipairs(groups) do if g.Name == "Default Group" then uuid = g.UUID end end
    local netname = json((sh({ "centurylink", "get_deployable_networks" }, env.centurylink))).Networks[1].Name
    so, se, code = sh({ "centurylink", "create_server", "Template=UBUNTU-14-64-TEMPLATE", "Alias=CLI",
      "HardwareGroupUUID=" .. uuid, "ServerType=1", "ServiceLevel=2", "Cpu=1", "MemoryGB=2", "ExtraDriveGB=0",
      "Network=" .. netname, "Password=Secret!234", "--wait" }, env.centurylink)
    assert.are.equal(0, code, se)
    assert.are.equal("Succeeded", json(so).CurrentStatus)

    so, se, code = sh({ "clodo", "create_server", "name=cli1", "vps_type=VirtualServer", "vps_memory=512",
      "vps_hdd=10", "vps_admin=1", "vps_os=1", "--wait" }, env.clodo)
    assert.are.equal(0, code, se)
    local cs = json(so)
    assert.are.equal("is_running", cs.status)
    so, se, code = sh({ "clodo", "server_action", "id=" .. cs.id, "action=stop", "--wait" }, env.clodo)
    assert.are.equal(0, code, se)
    assert.are.equal("is_stopped", json(so).status)
    so, se, code = sh({ "clodo", "create_backup", "id=" .. cs.id, "--wait" }, env.clodo)
    assert.are.equal(0, code, se)
    assert.are.equal("1", tostring(json(so).req_complete))
  end)

  it("exit codes: validation 2, auth 3, not found 4, API error 1, transport 5", function()
    if not need_sim() then return end
    local _, se, code = sh({ "clodo", "get_server" }, env.clodo)
    assert.are.equal(2, code, se)
    local bad = {}
    for k, v in pairs(env.clodo) do bad[k] = v end
    bad.LUACLOUD_CLODO_KEY = "wrong-key"
    _, se, code = sh({ "clodo", "list_servers" }, bad)
    assert.are.equal(3, code, se)
    assert.falsy(se:find("wrong-key", 1, true))
    _, se, code = sh({ "clodo", "get_server", "id=987654" }, env.clodo)
    assert.are.equal(4, code, se)
    _, se, code = sh({ "dimensiondata", "create_network_with_location", "name=dup-net", "location=NA1" }, env.dimensiondata)
    assert.are.equal(0, code, se)
    _, se, code = sh({ "dimensiondata", "create_network_with_location", "name=dup-net", "location=NA1" }, env.dimensiondata)
    assert.are.equal(1, code, se)
    assert.truthy(se:find("REASON_", 1, true), se)
    _, se, code = sh({ "clodo", "list_servers", "--endpoint", "http://127.0.0.1:9", "--retries", "0" }, env.clodo)
    assert.are.equal(5, code, se)
  end)

  it("with --output json the error is one JSON object on stderr", function()
    if not need_sim() then return end
    local so, se, code = sh({ "clodo", "get_server", "id=987654", "--output", "json" }, env.clodo)
    assert.are.equal(4, code)
    assert.are.equal("", so)
    local lines = {}
    for l in se:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(1, #lines, se)
    local e = json(lines[1])
    assert.are.equal("clodo", e.provider)
    assert.are.equal("get_server", e.op)
    assert.are.equal(404, e.status)
    assert.is_string(e.kind)
    assert.is_string(e.message)
    assert.truthy(lines[1]:find('"code":', 1, true))
    -- usage errors too
    local _
    _, se, code = sh({ "clodo", "get_server", "--bogus", "--output", "json" })
    assert.are.equal(2, code)
    assert.are.equal("usage", json(se).kind)
  end)

  it("a deprecated operation names its replacement on stderr; empty lists are JSON arrays", function()
    if not need_sim() then return end
    local _, se, code = sh({ "dimensiondata", "list_servers" }, env.dimensiondata)
    assert.are.equal(0, code, se)
    assert.truthy(se:find("^luacloud: dimensiondata list_servers is deprecated; use list_servers_with_backup"), se)
    assert.are.equal(1, select(2, se:gsub("\n", "")))
    local so = sh({ "dimensiondata", "list_servers_with_backup", "name=no-such-server" }, env.dimensiondata)
    assert.truthy(so:find('"server":[]', 1, true), so)
    so = sh({ "dimensiondata", "create_network_with_location", "name=empty-info", "location=NA1" }, env.dimensiondata)
    assert.truthy(so:find('"additionalInformation":[]', 1, true), so)
  end)

  it("plan FILE reads the live state through luacloud.plan and lists the changes", function()
    if not need_sim() then return end
    local state = os.tmpname()
    local so, se, code = sh({ "plan", "examples/recipe_web.lua", "--provider", "dimensiondata", "--state", state },
      env.dimensiondata)
    os.remove(state)
    assert.are.equal(0, code, se)
    assert.truthy(so:find("create network webdemo-net", 1, true), so)
    local _
    _, se, code = sh({ "plan" })
    assert.are_not.equal(0, code)
    assert.truthy(se:find("usage: luacloud plan|apply FILE", 1, true), se)
  end)

  it("--wait on a synchronous operation says there is nothing to wait for", function()
    if not need_sim() then return end
    local so, se, code = sh({ "clodo", "list_servers", "--wait" }, env.clodo)
    assert.are.equal(0, code, se)
    assert.is_table(json(so).server)
    assert.truthy(se:find("list_servers is not asynchronous", 1, true), se)
  end)

  it("profiles from the config file; flags and environment win; readable secrets refused", function()
    if not need_sim() then return end
    local xdg = os.tmpname()
    os.remove(xdg)
    os.execute("mkdir -p " .. q(xdg .. "/luacloud"))
    local path = xdg .. "/luacloud/config.lua"
    local f = assert(io.open(path, "w"))
    f:write(string.format([[return { default = "lab", profiles = {
      lab = { clodo = { endpoint = %q, user = %q, key = %q } },
      broken = { output = "json", clodo = { endpoint = %q, user = %q, key = "wrong" } } } }]],
      sim.endpoints.clodo, sim.credentials.clodo.user, sim.credentials.clodo.key,
      sim.endpoints.clodo, sim.credentials.clodo.user))
    f:close()
    os.execute("chmod 644 " .. q(path))
    local _, se, code = sh({ "clodo", "list_servers" }, nil, { xdg = xdg })
    assert.are.equal(2, code, se)
    assert.truthy(se:find("chmod 600", 1, true), se)
    assert.falsy(se:find(sim.credentials.clodo.key, 1, true))
    os.execute("chmod 600 " .. q(path))
    local so
    so, se, code = sh({ "clodo", "list_servers" }, nil, { xdg = xdg })
    assert.are.equal(0, code, se)
    assert.is_table(json(so).server)
    _, se, code = sh({ "clodo", "list_servers", "--profile", "broken" }, nil, { xdg = xdg })
    assert.are.equal(3, code, se)
    assert.are.equal("auth", json(se).kind) -- the profile's output = "json" applies to errors too
    _, se, code = sh({ "clodo", "list_servers" }, { LUACLOUD_PROFILE = "broken" }, { xdg = xdg })
    assert.are.equal(3, code, se)
    _, se, code = sh({ "clodo", "list_servers", "--profile", "broken", "--key", sim.credentials.clodo.key }, nil, { xdg = xdg })
    assert.are.equal(0, code, se)
    _, se, code = sh({ "clodo", "list_servers", "--profile", "nosuch" }, nil, { xdg = xdg })
    assert.are.equal(2, code, se)
    assert.truthy(se:find("no profile 'nosuch'", 1, true), se)
    os.execute("rm -rf " .. q(xdg))
  end)
end)

describe("luacloud --dry-run through a shell", function()
  -- nothing listens on port 9: a dry run that sent anything would fail with a transport error
  local ENV = {
    dimensiondata = { LUACLOUD_DIMENSIONDATA_USERNAME = "u", LUACLOUD_DIMENSIONDATA_PASSWORD = "pw-secret-1",
                      LUACLOUD_DIMENSIONDATA_ENDPOINT = "http://127.0.0.1:9/dimensiondata" },
    centurylink = { LUACLOUD_CENTURYLINK_API_KEY = "key-secret-2", LUACLOUD_CENTURYLINK_PASSWORD = "pw-secret-3",
                    LUACLOUD_CENTURYLINK_ENDPOINT = "http://127.0.0.1:9/centurylink" },
    clodo = { LUACLOUD_CLODO_USER = "u", LUACLOUD_CLODO_KEY = "key-secret-4", LUACLOUD_CLODO_ENDPOINT = "http://127.0.0.1:9/clodo" },
  }
  local function dry(provider, args)
    local a = { provider }
    for _, x in ipairs(args) do a[#a + 1] = x end
    a[#a + 1] = "--dry-run"
    local so, se, code = sh(a, ENV[provider])
    assert.are.equal(0, code, se)
    for _, v in pairs(ENV[provider]) do
      if v:find("secret", 1, true) then assert.falsy((so .. se):find(v, 1, true), v) end
    end
    return assert(core.json_decode(so), so)
  end

  it("dimensiondata: no Get My Account Details, the org id is {org-id}", function()
    local r = dry("dimensiondata", { "list_servers_with_backup" })
    assert.are.equal("http://127.0.0.1:9/dimensiondata/oec/0.9/{org-id}/serverWithBackup", r.url)
    assert.are.equal("REDACTED", r.headers.Authorization)
    -- --wait with --dry-run sends nothing either
    r = dry("dimensiondata", { "start_server", "server_id=abc", "--wait" })
    assert.truthy(r.url:find("/oec/0.9/{org-id}/server/abc?start", 1, true), r.url)
  end)

  it("centurylink: no Logon, the session cookie is {session}", function()
    local r = dry("centurylink", { "get_servers", "HardwareGroupUUID=g1" })
    assert.are.equal("POST", r.method)
    assert.are.equal("http://127.0.0.1:9/centurylink/REST/Server/GetServers/JSON", r.url)
    assert.truthy(r.headers.Cookie:find("{session}", 1, true), r.headers.Cookie)
  end)

  it("reliacloud with username/password: no login, the session key is {session}", function()
    local so, se, code = sh({ "reliacloud", "list_zones", "--dry-run", "--username", "u", "--password", "pw-secret-5",
      "--endpoint", "http://127.0.0.1:9/client/api" })
    assert.are.equal(0, code, se)
    assert.are.equal("http://127.0.0.1:9/client/api?command=listZones&sessionkey={session}", core.json_decode(so).url)
    assert.falsy((so .. se):find("pw-secret-5", 1, true))
  end)

  it("clodo: no authentication, the token is {token}", function()
    local r = dry("clodo", { "get_server", "id=5" })
    assert.are.equal("{token}", r.headers["X-Auth-Token"])
    assert.are.equal("{management-url}/servers/5", r.url)
  end)
end)

describe("luacloud --completion bash", function()
  local function complete(line)
    local script = sh({ "--completion", "bash" })
    local words = {}
    for w in line:gmatch("%S+") do words[#words + 1] = w end
    if line:sub(-1) == " " then words[#words + 1] = "" end
    local arr = {}
    for _, w in ipairs(words) do arr[#arr + 1] = q(w) end
    local prog = script .. "\nluacloud() { lua5.4 bin/luacloud \"$@\"; }\nCOMP_WORDS=(" .. table.concat(arr, " ")
      .. ")\nCOMP_CWORD=" .. (#words - 1) .. "\n_luacloud\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    local p = io.popen("bash -c " .. q(prog) .. " 2>&1")
    local s = p:read("a")
    p:close()
    local r = {}
    for l in s:gmatch("[^\n]+") do r[l] = true end
    return r
  end

  it("completes providers, operations and parameters", function()
    local r = complete("luacloud ")
    for _, p in ipairs { "reliacloud", "dimensiondata", "centurylink", "clodo" } do assert.truthy(r[p], p) end
    r = complete("luacloud dimensiondata deploy_s")
    assert.truthy(r.deploy_server)
    r = complete("luacloud dimensiondata deploy_server ")
    assert.truthy(r["vlanResourcePath="])
    assert.truthy(r["administratorPassword="])
    r = complete("luacloud clodo list_servers --dr")
    assert.truthy(r["--dry-run"])
  end)
end)
