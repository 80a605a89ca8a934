-- The library and the `luacloud` command. Build with the Lua it is for:
--   luarocks --lua-version=5.4 make luacloud-0.1.0-1.rockspec
-- (a LuaRocks set up for another Lua refuses with "Could not satisfy dependency lua >= 5.4").
-- The simulators are a separate rock: luacloud-sim-0.1.0-1.rockspec.
rockspec_format = "3.0"
package = "luacloud"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/luacloud/luacloud.git",
  tag = "v0.1.0",
}
description = {
  summary = "Drive the ReliaCloud, Dimension Data, CenturyLink and Clodo APIs from Lua",
  detailed = [[
    A C core (libcurl transport, libxml2 and cJSON codecs, OpenSSL signing) and
    thin Lua bindings generated from per-provider operation catalogs, a
    catalog-driven command line client (luacloud), and the OpenResty transport.]],
  homepage = "https://github.com/luacloud/luacloud",
  issues_url = "https://github.com/luacloud/luacloud/issues",
  license = "MIT",
  labels = { "cloud", "rest", "sdk", "openresty" },
}
dependencies = { "lua >= 5.4, < 5.5", "argparse >= 0.7" }
external_dependencies = {
  -- libcurl's headers sit in Debian's multiarch include dir, which LuaRocks does
  -- not search; the Makefile finds them (and the others) with pkg-config.
  LIBXML2 = { header = "libxml2/libxml/parser.h" },
  CJSON = { header = "cjson/cJSON.h" },
  OPENSSL = { header = "openssl/hmac.h" },
}
build = {
  type = "make",
  build_target = "rock",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LUA = "$(LUA)",
  },
  install_target = "install",
  install_variables = {
    LUADIR = "$(LUADIR)",
    LIBDIR = "$(LIBDIR)",
    BINDIR = "$(BINDIR)",
  },
}
