/* Shared declarations of the luacloud C core. */
#ifndef LUACLOUD_LC_H
#define LUACLOUD_LC_H

#include <stddef.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>

/* LuaJIT reports 501 but has some 5.2 functions: test for what is missing. */
#if LUA_VERSION_NUM < 502
#  ifndef luaL_newlib
#    define luaL_newlib(L, l) (lua_newtable(L), luaL_setfuncs(L, l, 0))
#  endif
#  define lua_rawlen(L, i) lua_objlen(L, (i))
#  define LC_RAWGETP(L, idx, p) (lua_pushlightuserdata(L, (void *)(p)), lua_rawget(L, (idx) < 0 ? (idx) - 1 : (idx)))
#  define LC_RAWSETP(L, idx, p) (lua_pushlightuserdata(L, (void *)(p)), lua_insert(L, -2), lua_rawset(L, (idx) < 0 ? (idx) - 1 : (idx)))
static inline const char *lc_tolstring51(lua_State *L, int idx, size_t *len) {
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lua_getglobal(L, "tostring");
  lua_pushvalue(L, idx);
  lua_call(L, 1, 1);
  return lua_tolstring(L, -1, len);
}
#  define luaL_tolstring lc_tolstring51
#else
#  define LC_RAWGETP(L, idx, p) lua_rawgetp(L, idx, p)
#  define LC_RAWSETP(L, idx, p) lua_rawsetp(L, idx, p)
#endif

/* Growable byte buffer. Allocation failure is sticky (oom=1), so callers that
 * run under libcurl/libxml2 never need to raise; they check once afterwards. */
typedef struct lc_buf {
  char *data;
  size_t len, cap;
  int oom;
} lc_buf;

void lc_buf_init(lc_buf *b);
void lc_buf_free(lc_buf *b);
int lc_buf_reserve(lc_buf *b, size_t extra);
int lc_buf_add(lc_buf *b, const void *p, size_t n);
static inline int lc_buf_addc(lc_buf *b, char c) {
  if (b->len < b->cap || lc_buf_reserve(b, 1)) { b->data[b->len++] = c; return 1; }
  return 0;
}

/* Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), 0 if ill-formed:
 * overlong forms, surrogates and code points past U+10FFFF too. One rule for the JSON decoder
 * and the filter's JSON scanner, so an item the filter passes is one the decoder accepts. */
static inline int lc_utf8_len(const char *s, const char *end) {
  const unsigned char *p = (const unsigned char *)s;
  size_t left = (size_t)(end - s);
  unsigned c = p[0];
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F)) return 0;
    return 4;
  }
  return 0;
}

#define lc_buf_adds(b, s) lc_buf_add((b), (s), sizeof(s) - 1)

/* A decoder's opts.lists (names -> true) read once into C: a name is compared with up to
 * LC_NAMES strings, which stay alive in the table; with more (n < 0) it is looked up in the
 * table (at the absolute index idx) instead. Non-string keys never match an element or key name. */
#define LC_NAMES 8
typedef struct { int n, idx; const char *p[LC_NAMES]; size_t l[LC_NAMES]; } lc_names;

static inline void lc_names_read(lua_State *L, int idx, lc_names *ns) {
  ns->n = 0;
  ns->idx = idx;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_toboolean(L, -1) && lua_type(L, -2) == LUA_TSTRING) {
      if (ns->n >= 0 && ns->n < LC_NAMES) {
        ns->p[ns->n] = lua_tolstring(L, -2, &ns->l[ns->n]);
        ns->n++;
      } else ns->n = -1;
    }
    lua_pop(L, 1);
  }
}

/* whether the name k (n bytes), also a string at stack index nidx, is one of ns */
static inline int lc_names_has(lua_State *L, const lc_names *ns, int nidx, const char *k, size_t n) {
  int i;
  if (ns->n < 0) {
    lua_pushvalue(L, nidx);
    lua_rawget(L, ns->idx);
    i = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return i;
  }
  for (i = 0; i < ns->n; i++) if (ns->l[i] == n && memcmp(ns->p[i], k, n) == 0) return 1;
  return 0;
}

/* Registry keys (addresses) of the sentinels shared by the codecs. */
extern const char lc_null_key;     /* JSON null lightuserdata lives at this address */
extern const char lc_array_mt_key; /* registry[&lc_array_mt_key] = array metatable */
#define LC_NULL ((void *)&lc_null_key)

void lc_push_array_mt(lua_State *L);
/* A buffer owned by a userdata pushed on the stack: freed by __gc even when a
 * Lua error unwinds the C function that was filling it. */
lc_buf *lc_newbox(lua_State *L);
int lc_is_array(lua_State *L, int idx);
int lc_pushfail(lua_State *L, const char *fmt, ...);
/* Text of a number for the wire: integers without exponent or ".0", other
 * values with the fewest digits that read back exactly. Returns the length. */
int lc_format_number(lua_State *L, int idx, char *buf, size_t size);
/* Push the wire text of a scalar (string, number, boolean); 0 if not a scalar. */
int lc_push_scalar_text(lua_State *L, int idx);
/* A numeric option clamped to [lo, hi] (NaN and out-of-range values included). */
int lc_opt_clamped(lua_State *L, int t, const char *k, int dflt, int lo, int hi);

void lc_open_encode(lua_State *L);
void lc_open_sign(lua_State *L);
void lc_open_xml(lua_State *L);
void lc_open_json(lua_State *L);
void lc_open_transport(lua_State *L);
void lc_open_gzip(lua_State *L);
void lc_open_filter(lua_State *L);
void lc_open_pager(lua_State *L);

/* Item filters (src/filter.c): core.filter(where, fields) userdata. */
typedef struct lc_filter lc_filter;
lc_filter *lc_filter_test(lua_State *L, int idx); /* NULL unless a filter */
int lc_filter_match_value(lua_State *L, lc_filter *f, int idx);
void lc_filter_project_value(lua_State *L, lc_filter *f, int idx); /* pushes the kept part */
/* one item's XML events: 1 (kept value pushed), 0 (no match), -1 (out of memory) */
int lc_filter_xml_item(lua_State *L, lc_filter *f, const char *tape, size_t len, int lower, int lists);
int lc_filter_projects(const lc_filter *f);
/* a JSON object at the items path: 0 no match (*endp past it), 1 match, -1 parse it to tell */
int lc_filter_json_probe(lua_State *L, lc_filter *f, const char *p, const char *end, int max_depth, int lists, const char **endp);
/* whether the element at names[0..n-1] below an item can be on a path (no Lua, no allocation) */
int lc_filter_wants(const lc_filter *f, const char *const *names, int n, int lower);

#endif
