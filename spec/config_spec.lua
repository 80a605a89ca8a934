-- luacloud.config / luacloud.from_env: LUACLOUD_<PROVIDER>_<OPTION>, named profiles, permissions.
local luacloud = require "luacloud"
local config = require "luacloud.config"

local function env_of(t) return function(name) return t[name] end end

local function write(path, text, mode)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  os.execute("chmod " .. mode .. " '" .. path .. "'")
end

describe("luacloud.from_env", function()
  it("reads LUACLOUD_<PROVIDER>_<OPTION> for every documented option, skipping empty ones", function()
    local o = luacloud.from_env("dimensiondata", env_of {
      LUACLOUD_DIMENSIONDATA_USERNAME = "u", LUACLOUD_DIMENSIONDATA_PASSWORD = "p",
      LUACLOUD_DIMENSIONDATA_ORG_ID = "org", LUACLOUD_DIMENSIONDATA_ENDPOINT = "",
      LUACLOUD_DIMENSIONDATA_TIMEOUT = "7", LUACLOUD_DIMENSIONDATA_USER = "not-this-one-either",
      LUACLOUD_CLODO_USERNAME = "other provider" })
    assert.are.equal("u", o.username)
    assert.are.equal("p", o.password)
    assert.are.equal("org", o.org_id)
    assert.are.equal(7, o.timeout)
    assert.is_nil(o.endpoint)
    assert.are.equal("LUACLOUD_CENTURYLINK_ACCOUNT_ALIAS", config.env_name("centurylink", "account_alias"))
  end)

  it("gives options luacloud.new accepts", function()
    local c = assert(luacloud.new("clodo", luacloud.from_env("clodo", env_of {
      LUACLOUD_CLODO_USER = "u", LUACLOUD_CLODO_KEY = "k", LUACLOUD_CLODO_ENDPOINT = "http://127.0.0.1:9" })))
    assert.are.equal("http://127.0.0.1:9", c.endpoint)
  end)

  it("the examples and the CLI read the same names", function()
    for _, f in ipairs { "examples/dimensiondata_deploy.lua", "examples/dimensiondata_vip.lua",
                         "examples/dimensiondata_paging.lua", "bin/luacloud" } do
      local s = assert(io.open(f)):read("a")
      assert.falsy(s:find("LUACLOUD_DIMENSIONDATA_USER\"", 1, true), f)
    end
  end)
end)

describe("luacloud.config profiles", function()
  local dir, path
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p '" .. dir .. "/luacloud'")
    path = dir .. "/luacloud/config.lua"
  end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  local CFG = [[return { default = "a", profiles = {
    a = { timeout = 5, clodo = { user = "ua", key = "ka" } },
    b = { clodo = { user = "ub", key = "kb" }, dimensiondata = { username = "db" } } } }]]

  it("finds the file under XDG_CONFIG_HOME, else ~/.config, else LUACLOUD_CONFIG", function()
    assert.are.equal("/x/luacloud/config.lua", config.path(env_of { XDG_CONFIG_HOME = "/x", HOME = "/h" }))
    assert.are.equal("/h/.config/luacloud/config.lua", config.path(env_of { HOME = "/h" }))
    assert.are.equal("/c.lua", config.path(env_of { LUACLOUD_CONFIG = "/c.lua", XDG_CONFIG_HOME = "/x" }))
  end)

  it("picks the named profile, else LUACLOUD_PROFILE, else the default; provider options over shared ones", function()
    write(path, CFG, "600")
    local cfg = assert(config.load(path))
    local o, name = config.profile(nil, "clodo", cfg, env_of {})
    assert.are.equal("a", name)
    assert.are.same({ timeout = 5, user = "ua", key = "ka" }, o)
    o = config.profile(nil, "clodo", cfg, env_of { LUACLOUD_PROFILE = "b" })
    assert.are.equal("ub", o.user)
    o = config.profile("b", "dimensiondata", cfg, env_of { LUACLOUD_PROFILE = "a" })
    assert.are.same({ username = "db" }, o)
    local none, err = config.profile("zz", "clodo", cfg, env_of {})
    assert.is_nil(none)
    assert.truthy(err.message:find("no profile 'zz'", 1, true))
  end)

  it("refuses a file with secrets that group or others can read, and code that is not data", function()
    write(path, CFG, "640")
    local cfg, err = config.load(path)
    assert.is_nil(cfg)
    assert.are.equal("validation", err.kind)
    assert.truthy(err.message:find("chmod 600", 1, true))
    assert.falsy(err.message:find("ka", 1, true))
    write(path, [[return { profiles = { p = { output = "json" } } }]], "644") -- no secrets: fine
    assert.is_table(config.load(path))
    write(path, [[os.execute("true") return {}]], "600")
    cfg, err = config.load(path)
    assert.is_nil(cfg)
    assert.truthy(err.message:find("failed", 1, true))
    assert.are.same({}, config.load(dir .. "/missing.lua"))
  end)
end)
