/* Baseline for bench/run.lua: GETs of one URL over a kept-alive libcurl easy handle, the body
 * discarded.
 *   program:    raw_curl URL [N]            prints calls per second
 *   Lua module: (built with -DRAW_CURL_LUA -shared)
 *               local h = require("raw_curl").new(url); local seconds = h:run(n)
 * The module lets bench/run.lua alternate short batches of this loop and of the client in one
 * process, so a busy moment of the shared machine falls on both alike. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <curl/curl.h>

static size_t sink(char *p, size_t s, size_t n, void *u) { (void)p; (void)u; return s * n; }

static CURL *raw_open(const char *url) {
  CURL *e = curl_easy_init();
  if (!e) return NULL;
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  return e;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* n GETs; seconds taken, or a negative number when one failed (-status or -1) */
static double raw_run(CURL *e, int n) {
  double t0 = now();
  int i;
  for (i = 0; i < n; i++) {
    long st = 0;
    if (curl_easy_perform(e) != CURLE_OK) return -1;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
    if (st != 200) return -(double)st;
  }
  return now() - t0;
}

#ifdef RAW_CURL_LUA
#include <lua.h>
#include <lauxlib.h>
#if LUA_VERSION_NUM < 504 /* LuaJIT (make bench LUA=luajit) */
#define lua_newuserdatauv(L, n, u) lua_newuserdata(L, n)
#endif

static int h_run(lua_State *L) {
  CURL **e = luaL_checkudata(L, 1, "raw_curl");
  int n = (int)luaL_checkinteger(L, 2);
  double s = *e ? raw_run(*e, n) : -1;
  if (s < 0) return luaL_error(L, "raw_curl: request failed (%f)", s);
  lua_pushnumber(L, s);
  return 1;
}

static int h_gc(lua_State *L) {
  CURL **e = luaL_checkudata(L, 1, "raw_curl");
  if (*e) curl_easy_cleanup(*e);
  *e = NULL;
  return 0;
}

static int l_new(lua_State *L) {
  const char *url = luaL_checkstring(L, 1);
  CURL **e = lua_newuserdatauv(L, sizeof *e, 0);
  *e = NULL;
  luaL_setmetatable(L, "raw_curl");
  if (!(*e = raw_open(url))) return luaL_error(L, "raw_curl: curl_easy_init failed");
  return 1;
}

int luaopen_raw_curl(lua_State *L) {
  static const luaL_Reg h[] = { {"run", h_run}, {"__gc", h_gc}, {NULL, NULL} };
  static const luaL_Reg f[] = { {"new", l_new}, {NULL, NULL} };
  curl_global_init(CURL_GLOBAL_DEFAULT);
  luaL_newmetatable(L, "raw_curl");
  luaL_setfuncs(L, h, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_newtable(L);
  luaL_setfuncs(L, f, 0);
  return 1;
}
#else
int main(int argc, char **argv) {
  int n = argc > 2 ? atoi(argv[2]) : 2000;
  double s;
  CURL *e;
  if (argc < 2) { fprintf(stderr, "usage: raw_curl URL [N]\n"); return 2; }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (!(e = raw_open(argv[1]))) { fprintf(stderr, "curl_easy_init failed\n"); return 1; }
  s = raw_run(e, n);
  if (s < 0) { fprintf(stderr, "request failed (%f)\n", s); return 1; }
  printf("%.1f\n", n / s);
  curl_easy_cleanup(e);
  return 0;
}
#endif
