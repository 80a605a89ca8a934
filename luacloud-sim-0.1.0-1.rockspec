-- The stateful simulators of the four APIs (about 400 KB of Lua), for tests and
-- offline recipes; kept out of the library rock so production trees do not carry them.
--   luarocks --lua-version=5.4 make luacloud-sim-0.1.0-1.rockspec
-- In-process: require("luacloud.sim.dimensiondata").new{...}:handle(req) (docs/DESIGN.md);
-- served by nginx: bin/luacloud-sim from a source checkout.
rockspec_format = "3.0"
package = "luacloud-sim"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/luacloud/luacloud.git",
  tag = "v0.1.0",
}
description = {
  summary = "Stateful simulators of the ReliaCloud, Dimension Data, CenturyLink and Clodo APIs",
  homepage = "https://github.com/luacloud/luacloud",
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5", "luacloud = 0.1.0" }
build = {
  type = "builtin",
  modules = {
    ["luacloud.sim.init"] = "lua/luacloud/sim/init.lua",
    ["luacloud.sim.util"] = "lua/luacloud/sim/util.lua",
    ["luacloud.sim.nginx"] = "lua/luacloud/sim/nginx.lua",
    ["luacloud.sim.reliacloud"] = "lua/luacloud/sim/reliacloud.lua",
    ["luacloud.sim.dimensiondata"] = "lua/luacloud/sim/dimensiondata.lua",
    ["luacloud.sim.centurylink"] = "lua/luacloud/sim/centurylink.lua",
    ["luacloud.sim.clodo"] = "lua/luacloud/sim/clodo.lua",
  },
}
