rockspec_format = "3.0"
package = "luacloud"
version = "scm-1"
source = { url = "git+https://example.invalid/luacloud.git" }
description = {
  summary = "Drive the ReliaCloud, Dimension Data, CenturyLink and Clodo APIs from Lua",
  detailed = [[
    A C core (libcurl transport, libxml2 and cJSON codecs, OpenSSL signing) and
    thin Lua bindings generated from per-provider operation catalogs, with
    stateful simulators of the four APIs for offline tests.]],
  license = "MIT",
}
dependencies = { "lua >= 5.1" }
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
  },
  install_target = "install",
  install_variables = {
    LUADIR = "$(LUADIR)",
    LIBDIR = "$(LIBDIR)",
    BINDIR = "$(BINDIR)",
  },
}
