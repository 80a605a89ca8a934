/* luacloud.core: registers the codecs, signers and the transport. */
#include <time.h>
#include <errno.h>
#include "lc.h"

/* Wall clock in seconds (float): waiters and token lifetimes. */
static int l_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* Blocking sleep for the libcurl world (under nginx, ngx.sleep is used). */
static int l_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  struct timespec ts;
  if (!(s > 0)) return 0;          /* also NaN */
  if (s > 86400 * 365) s = 86400 * 365;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
  return 0;
}

static int array_mt_tostring(lua_State *L) {
  lua_pushfstring(L, "array: %p", lua_topointer(L, 1));
  return 1;
}

int luaopen_luacloud_core(lua_State *L) {
  lua_newtable(L);
  /* the array metatable: shared by every decoder of this Lua state */
  lua_newtable(L);
  lua_pushliteral(L, "array");
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, array_mt_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushvalue(L, -1);
  LC_RAWSETP(L, LUA_REGISTRYINDEX, &lc_array_mt_key);
  lua_setfield(L, -2, "array_mt");
  lua_pushcfunction(L, l_now);
  lua_setfield(L, -2, "now");
  lua_pushcfunction(L, l_sleep);
  lua_setfield(L, -2, "sleep");
  lc_open_encode(L);
  lc_open_sign(L);
  lc_open_xml(L);
  lc_open_json(L);
  lc_open_transport(L);
  lc_open_gzip(L);
  lc_open_filter(L);
  lc_open_pager(L);
  lua_pushliteral(L, "0.1.0");
  lua_setfield(L, -2, "version");
  return 1;
}
