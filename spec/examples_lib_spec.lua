-- examples/lib/example.lua: what every example shares. An example must run from any directory
-- (it finds this checkout's library, not whatever is installed), take the account the
-- environment names without mixing in the demo one, and keep no copy of the setup block.
package.path = "examples/lib/?.lua;" .. package.path
local example = require "example"
local function support_root() return (io.popen("pwd"):read("l")) end

local function env_of(t) return function(k) return t[k] end end

local function examples()
  local p = assert(io.popen("ls examples/*.lua"))
  local list = {}
  for f in p:lines() do list[#list + 1] = f end
  p:close()
  return list
end

describe("examples/lib/example.lua", function()
  it("gives the simulators' demo account when the environment names none", function()
    local o = example.options("reliacloud", { format = "xml" }, env_of {})
    assert.equal("demo-api-key", o.api_key)
    assert.equal("xml", o.format)
    assert.truthy(o.endpoint:find("/reliacloud/client/api", 1, true))
  end)

  it("mixes no demo credential into an account from the environment", function()
    local o = example.options("reliacloud", {}, env_of {
      LUACLOUD_RELIACLOUD_USERNAME = "ops", LUACLOUD_RELIACLOUD_PASSWORD = "pw" })
    assert.equal("ops", o.username)
    assert.is_nil(o.api_key) -- with it the hook would sign with the demo key and ignore "ops"
    assert.is_nil(o.secret_key)
  end)

  it("lets the environment override an example's default", function()
    local o = example.options("clodo", { format = "json" }, env_of { LUACLOUD_CLODO_FORMAT = "xml" })
    assert.equal("xml", o.format)
    assert.equal("demo", o.user)
  end)

  it("loads this checkout's library whatever the working directory", function()
    local p = assert(io.popen("cd /tmp && lua5.4 -e 'package.path = \"" .. support_root()
      .. "/examples/lib/?.lua;\" .. package.path; local e = require \"example\"; "
      .. "print(package.searchpath(\"luacloud\", package.path))' 2>&1"))
    local out = p:read("a")
    p:close()
    assert.equal(support_root() .. "/examples/lib/../../lua/luacloud/init.lua", out:gsub("%s+$", ""))
  end)

  it("is the only setup block: no example builds its client options or must() itself", function()
    for _, f in ipairs(examples()) do
      local s = assert(io.open(f)):read("a")
      if not s:find("^%-%-[^\n]*\n%s*return {") and not f:find("recipe_web") then
        assert.falsy(s:find("function must", 1, true), f .. " keeps its own must()")
        assert.falsy(s:find('package.path = "lua/', 1, true), f .. " only runs from the repository root")
        assert.truthy(s:find('require "example"', 1, true) or s:find('require("recipe_node")', 1, true), f)
      end
    end
  end)
end)
