#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include "lc.h"

void lc_buf_init(lc_buf *b) { b->data = NULL; b->len = b->cap = 0; b->oom = 0; }

void lc_buf_free(lc_buf *b) { free(b->data); lc_buf_init(b); }

int lc_buf_reserve(lc_buf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (b->oom) return 0;
  if (extra > (size_t)-1 - b->len) { b->oom = 1; return 0; }
  need = b->len + extra;
  if (need <= b->cap) return 1;
  cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
  p = realloc(b->data, cap);
  if (!p) { b->oom = 1; return 0; }
  b->data = p;
  b->cap = cap;
  return 1;
}

int lc_buf_add(lc_buf *b, const void *p, size_t n) {
  if (!lc_buf_reserve(b, n)) return 0;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  return 1;
}

const char lc_null_key = 0;
const char lc_array_mt_key = 0;

void lc_push_array_mt(lua_State *L) {
  LC_RAWGETP(L, LUA_REGISTRYINDEX, &lc_array_mt_key);
}

int lc_is_array(lua_State *L, int idx) {
  int r;
  if (!lua_getmetatable(L, idx)) return 0;
  lc_push_array_mt(L);
  r = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return r;
}

/* The `nil, message` convention of luaL_fileresult. */
int lc_pushfail(lua_State *L, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return 2;
}

static int box_gc(lua_State *L) {
  lc_buf *b = (lc_buf *)lua_touserdata(L, 1);
  if (b) lc_buf_free(b);
  return 0;
}

lc_buf *lc_newbox(lua_State *L) {
  lc_buf *b = (lc_buf *)lua_newuserdata(L, sizeof(lc_buf));
  lc_buf_init(b);
  if (luaL_newmetatable(L, "luacloud.buf")) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return b;
}

int lc_format_number(lua_State *L, int idx, char *buf, size_t size) {
  lua_Number d;
  int p, n = 0;
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, idx))
    return snprintf(buf, size, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
#endif
  d = lua_tonumber(L, idx);
  if (d == floor(d) && fabs(d) < 9.2e18) return snprintf(buf, size, "%lld", (long long)d);
  for (p = 15; p <= 17; p++) {
    n = snprintf(buf, size, "%.*g", p, (double)d);
    if (strtod(buf, NULL) == d) break;
  }
  return n;
}

int lc_push_scalar_text(lua_State *L, int idx) {
  char nb[64];
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: lua_pushvalue(L, idx); return 1;
    case LUA_TNUMBER: lua_pushlstring(L, nb, (size_t)lc_format_number(L, idx, nb, sizeof nb)); return 1;
    case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false"); return 1;
    default: return 0;
  }
}

int lc_opt_clamped(lua_State *L, int t, const char *k, int dflt, int lo, int hi) {
  lua_Number d;
  int v = dflt;
  lua_getfield(L, t, k);
  if (lua_isnumber(L, -1)) {
    d = lua_tonumber(L, -1);
    v = d != d ? dflt : d < lo ? lo : d > hi ? hi : (int)d;
  }
  lua_pop(L, 1);
  return v;
}
