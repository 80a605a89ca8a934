-- The package: one version everywhere, real metadata, the simulators in their own rock,
-- busted under Lua 5.4, and a README that names what exists.
local function read(path)
  local f = assert(io.open(path, "rb"), path)
  local s = f:read("a")
  f:close()
  return s
end

local function rockspec(path)
  local env = {}
  assert(load(read(path), "@" .. path, "t", env))()
  return env
end

local VERSION = require("luacloud")._VERSION:match("^luacloud (%S+)$")

describe("release", function()
  it("has one version: the library, both rockspecs, the CLI, the changelog, the Makefile", function()
    assert.is_string(VERSION)
    local lib = rockspec("luacloud-" .. VERSION .. "-1.rockspec")
    local sim = rockspec("luacloud-sim-" .. VERSION .. "-1.rockspec")
    assert.are.equal(VERSION .. "-1", lib.version)
    assert.are.equal(VERSION .. "-1", sim.version)
    assert.truthy(read("CHANGELOG.md"):find("\n## " .. VERSION:gsub("%.", "%%.") .. "[ \n]"))
    assert.truthy(read("Makefile"):find("\nVERSION = " .. VERSION .. "\n", 1, true))
    local p = io.popen("lua5.4 bin/luacloud --version")
    assert.are.equal("luacloud " .. VERSION, p:read("l"))
    p:close()
    local ls = io.popen("ls *.rockspec")
    local n = 0
    for _ in ls:lines() do n = n + 1 end
    ls:close()
    assert.are.equal(2, n)
  end)

  it("rockspecs: a real source URL and homepage, MIT with a LICENSE file, Lua 5.4", function()
    for _, f in ipairs { "luacloud-" .. VERSION .. "-1.rockspec", "luacloud-sim-" .. VERSION .. "-1.rockspec" } do
      local r = rockspec(f)
      assert.truthy(r.source.url:match("^git%+https://github%.com/[%w%-]+/[%w%-]+%.git$"), f)
      assert.are.equal("v" .. VERSION, r.source.tag)
      assert.falsy(r.source.url:find("invalid", 1, true))
      assert.truthy(r.description.homepage:match("^https://github%.com/"), f)
      assert.are.equal("MIT", r.description.license)
      assert.are.equal("lua >= 5.4, < 5.5", r.dependencies[1])
    end
    assert.truthy(read("LICENSE"):find("^MIT License"))
  end)

  it("the simulator rock ships every simulator module; the library rock installs none", function()
    local sim = rockspec("luacloud-sim-" .. VERSION .. "-1.rockspec")
    local shipped = {}
    for _, path in pairs(sim.build.modules) do shipped[path] = true end
    local p = io.popen("ls lua/luacloud/sim/*.lua")
    local n = 0
    for f in p:lines() do
      n = n + 1
      assert.truthy(shipped[f], f .. " is not in the luacloud-sim rock")
    end
    p:close()
    assert.is_true(n >= 6)
    assert.truthy(read("Makefile"):find("-not -path './sim/*'", 1, true))
  end)

  it(".busted runs the specs under Lua 5.4 whatever interpreter starts busted", function()
    local cfg = assert(load(read(".busted"), ".busted", "t", {}))()
    assert.are.equal("lua5.4", cfg._all.lua)
  end)

  it("the README shows the rock commands, the exit codes and profiles", function()
    local readme = read("README.md")
    assert.truthy(readme:find("luarocks --lua-version=5.4 make", 1, true))
    assert.truthy(readme:find("luacloud-" .. VERSION .. "-1.rockspec", 1, true))
    assert.truthy(readme:find("luacloud-sim-" .. VERSION .. "-1.rockspec", 1, true))
    assert.falsy(readme:find("scm-1", 1, true))
    assert.truthy(readme:find("--profile", 1, true))
    assert.truthy(readme:find("LUACLOUD_PROFILE", 1, true))
    -- every exit code of the CLI's contract is in the README
    local help = io.popen("lua5.4 bin/luacloud --help"):read("a")
    local codes = help:match("exit codes:\n(.-)\n\n") or help:match("exit codes:\n(.*)$")
    local n = 0
    for code in codes:gmatch("%f[%d](%d+)  ") do
      n = n + 1
      assert.truthy(readme:find("| " .. code .. " |", 1, true), "exit code " .. code .. " is not in the README")
    end
    assert.is_true(n >= 7)
  end)
end)
