-- spec/support/sim.lua's missing(): one rule for "can the nginx simulators run here", the one
-- bin/luacloud-sim start applies, instead of a copy of it at the top of every HTTP spec.
local support = require "spec.support.sim"

local function env_of(t) return function(k) return t[k] end end

describe("spec.support.sim.missing", function()
  it("names the missing nginx where bin/luacloud-sim start refuses for the same reason", function()
    local why = support.missing { getenv = env_of { LUACLOUD_SIM_NGINX = "/nonexistent/nginx" } }
    assert.equal("nginx is not installed", why)
    local dir = os.tmpname()
    os.remove(dir)
    local out, rc = support.sh("env LUACLOUD_SIM_NGINX=/nonexistent/nginx " .. support.root
      .. "/bin/luacloud-sim start --port 9 --state-dir '" .. dir .. "'")
    support.sh("rm -rf '" .. dir .. "'")
    assert.are_not.equal(0, rc)
    assert.truthy(out:find("nginx is not installed", 1, true), out)
  end)

  it("is the only such check: no spec file keeps its own have_nginx", function()
    local p = assert(io.popen("grep -l 'function have_[n]ginx' " .. support.root .. "/spec/*.lua 2>/dev/null"))
    local copies = p:read("a")
    p:close()
    assert.equal("", copies)
  end)
end)
