-- bin/luacloud-sim start through a real shell: it builds the LuaJIT core it needs or refuses
-- with the cause and the command that fixes it; a simulator that fails to load reports its
-- first error, never Lua 5.1's "loop or previous error loading module".

local support = require("spec.support.sim")
local sh, root = support.sh, support.root

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(sh("mkdir -p '" .. d .. "'"))
  return d
end

local function port()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  return 20000 + math.random(0, 12000)
end

local function start(script, env, state)
  local p = port()
  local out, rc = sh("env -u LD_PRELOAD " .. env .. " " .. script .. " start --port " .. p
    .. " --state-dir " .. state .. " --json")
  return out, rc, p
end

local function stop(script, p, state)
  sh("env -u LD_PRELOAD " .. script .. " stop --port " .. p .. " --state-dir " .. state)
end

describe("luacloud-sim start", function()
  local dirs = {}
  local function dir()
    local d = tmpdir()
    dirs[#dirs + 1] = d
    return d
  end
  teardown(function()
    for _, d in ipairs(dirs) do sh("rm -rf '" .. d .. "'") end
  end)

  it("refuses without the LuaJIT core, naming the file and the command that builds it", function()
    local empty, state = dir(), dir()
    local out, rc = start(root .. "/bin/luacloud-sim", "LUACLOUD_SIM_CPATH=" .. empty, state .. "/s")
    assert.are_not.equal(0, rc)
    assert.matches(empty .. "/luacloud/core.so is missing", out, 1, true)
    assert.matches("build it with: make -C", out, 1, true)
    assert.matches(" LUA=luajit OUT=" .. empty, out, 1, true)
    assert.is_nil(out:find("running at", 1, true))
  end)

  it("refuses a core that does not load under LuaJIT and prints the loader's first error", function()
    local bad, state = dir(), dir()
    -- the Lua 5.4 build: the usual mistake (`make` without LUA=luajit, copied over)
    assert(sh("mkdir -p " .. bad .. "/luacloud && cp " .. root .. "/build/luacloud/core.so " .. bad .. "/luacloud/"))
    local out, rc = start(root .. "/bin/luacloud-sim", "LUACLOUD_SIM_CPATH=" .. bad, state .. "/s")
    assert.are_not.equal(0, rc)
    assert.matches("reliacloud' failed to load: error loading module 'luacloud.core'", out, 1, true)
    assert.matches("undefined symbol", out, 1, true)
    assert.is_nil(out:find("loop or previous error", 1, true))
    assert.matches("LUA=luajit", out, 1, true)
  end)

  it("builds build-luajit/ when only `make` was run, then every simulator is available", function()
    local copy, state = dir(), dir()
    assert(sh("cp -R " .. root .. "/Makefile " .. root .. "/src " .. root .. "/lua " .. root .. "/bin " .. copy))
    local script = copy .. "/bin/luacloud-sim"
    local out, rc, p = start(script, "", state .. "/s")
    finally(function() stop(script, p, state .. "/s") end)
    assert.are.equal(0, rc, out)
    assert.matches("building it", out, 1, true)
    local f = io.open(copy .. "/build-luajit/luacloud/core.so", "rb")
    assert.truthy(f, "build-luajit/luacloud/core.so was not built")
    f:close()
    local info = require("luacloud.sim").json_decode(out:match("(%b{})"))
    for _, name in ipairs({ "reliacloud", "dimensiondata", "centurylink", "clodo" }) do
      assert.is_true(info.providers[name].available, name .. ": " .. tostring(info.providers[name].error))
    end
  end)
end)

describe("the simulator host under LuaJIT", function()
  it("repeats a provider's first load error on every later use", function()
    local bad = tmpdir()
    finally(function() sh("rm -rf '" .. bad .. "'") end)
    assert(sh("mkdir -p " .. bad .. "/luacloud && cp " .. root .. "/build/luacloud/core.so " .. bad .. "/luacloud/"))
    local script = [[
      package.path = "]] .. root .. [[/lua/?.lua;]] .. root .. [[/lua/?/init.lua;" .. package.path
      package.cpath = "]] .. bad .. [[/?.so;" .. package.cpath
      local h = require("luacloud.sim").new{ providers = { "reliacloud" } }
      local _, first = h:sim("reliacloud")
      local _, second = h:sim("reliacloud")
      print("FIRST=" .. first)
      print("SECOND=" .. second)
      print("INFO=" .. tostring(h:info().providers.reliacloud.error))
      local st = h:handle("GET", "/reliacloud/client/api?command=listZones", {}, "")
      print("STATUS=" .. st)
    ]]
    local f = assert(io.open(bad .. "/t.lua", "w"))
    f:write(script)
    f:close()
    local out, rc = sh("luajit " .. bad .. "/t.lua")
    assert.are.equal(0, rc, out)
    local first = out:match("FIRST=([^\n]*)")
    assert.matches("undefined symbol", out, 1, true)
    assert.are.equal(first, out:match("SECOND=([^\n]*)"))
    assert.matches(first, out:match("INFO=([^\n]*)"), 1, true)
    assert.are.equal("500", out:match("STATUS=(%d+)"))
    assert.is_nil(out:find("loop or previous error", 1, true))
  end)
end)
