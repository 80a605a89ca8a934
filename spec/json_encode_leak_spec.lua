-- json_encode when pushing its text raises (a memory error): the text cJSON printed is owned by
-- a box that __gc frees, so it cannot leak (src/json.c, commit 960acef; before it, the text was
-- a bare pointer that lua_pushstring's error skipped: 20 calls leaked 20.97 MB, measured with
-- the old json.c). Run in a Lua 5.4 host whose allocator is limited (spec/support/memlimit_host.c),
-- counting what malloc holds outside the Lua heap. LUACLOUD_LEAK_CORE=<dir with luacloud/core.so>
-- runs it against another build (an old json.c: it fails).
local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$")) or "."

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  local ok = p:close()
  return out, ok
end

local SCRIPT = [[
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local core = require "luacloud.core"
local v = { string.rep("a", 1024 * 1024) } -- 1 MB of text: more than the 256 KB Lua may take
local function once()
  memlimit(256 * 1024)
  local ok, e = pcall(core.json_encode, v)
  memlimit(nil)
  assert(not ok, "json_encode did not fail under the limit")
  assert(tostring(e):find("memory"), tostring(e))
end
once() collectgarbage() collectgarbage()
local h0 = c_heap()
for _ = 1, 20 do once() end
collectgarbage() collectgarbage()
print(c_heap() - h0)
]]

describe("json_encode under a Lua allocation failure", function()
  local dir
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "'"))
  end)
  teardown(function() if dir then os.execute("rm -rf '" .. dir .. "'") end end)

  it("leaks nothing outside the Lua heap (20 failed calls with 1 MB of text each)", function()
    local cflags, ok = sh("pkg-config --cflags --libs lua5.4")
    if not ok then return pending("pkg-config lua5.4 is missing: " .. cflags) end
    local out
    out, ok = sh(("cc -O1 -o '%s/host' '%s/spec/support/memlimit_host.c' %s"):format(dir, root, cflags:gsub("\n", " ")))
    if not ok then return pending("cannot build the test host: " .. out) end
    local f = assert(io.open(dir .. "/leak.lua", "w"))
    f:write(SCRIPT)
    f:close()
    out, ok = sh(("'%s/host' '%s/leak.lua' '%s'"):format(dir, dir, os.getenv("LUACLOUD_LEAK_CORE") or (root .. "/build")))
    assert.is_true(ok, out)
    local grew = tonumber(out:match("(-?%d+)%s*$"))
    assert.is_number(grew, out)
    assert.is_true(grew < 1024 * 1024, ("malloc holds %d more bytes after 20 failed calls"):format(grew))
  end)
end)
