/* Percent, form, query and CSV codecs. */
#include <string.h>
#include <stdlib.h>
#include <ctype.h>
#include "lc.h"

static const char HEX[] = "0123456789ABCDEF";

/* Which bytes each encoding leaves as they are: one table lookup per byte instead of a strchr
 * over the kept set (this runs over every byte of every query value). */
#define K_ALNUM 15
#define K_PCT 1    /* ".-*_": Java URLEncoder (ReliaCloud/CloudStack) */
#define K_URL 2    /* "-._~": RFC 3986 unreserved */
#define K_FORM 4   /* "-._~*": form bodies */
static const unsigned char KEEP[256] = {
  ['0' ... '9'] = K_ALNUM, ['A' ... 'Z'] = K_ALNUM, ['a' ... 'z'] = K_ALNUM,
  ['.'] = K_PCT | K_URL | K_FORM, ['-'] = K_PCT | K_URL | K_FORM, ['_'] = K_PCT | K_URL | K_FORM,
  ['*'] = K_PCT | K_FORM, ['~'] = K_URL | K_FORM,
};

static void add_escaped(luaL_Buffer *b, const char *s, size_t n, int keep, int plus_space) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (KEEP[c] & keep) {
      luaL_addchar(b, (char)c);
    } else if (c == ' ' && plus_space) {
      luaL_addchar(b, '+');
    } else {
      luaL_addchar(b, '%');
      luaL_addchar(b, HEX[c >> 4]);
      luaL_addchar(b, HEX[c & 15]);
    }
  }
}

/* ReliaCloud/CloudStack canonical encoding: Java URLEncoder with '+' -> %20, '~' -> %7E. */
static int l_pct(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  add_escaped(&b, s, n, K_PCT, 0);
  luaL_pushresult(&b);
  return 1;
}

static int l_urlencode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  add_escaped(&b, s, n, K_URL, 0);
  luaL_pushresult(&b);
  return 1;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void add_decoded(luaL_Buffer *b, const char *s, size_t n, int plus_space) {
  size_t i;
  for (i = 0; i < n; i++) {
    int h, l;
    if (s[i] == '%' && i + 2 < n && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
        (l = hexval((unsigned char)s[i + 2])) >= 0) {
      luaL_addchar(b, (char)(h * 16 + l));
      i += 2;
    } else if (s[i] == '+' && plus_space) {
      luaL_addchar(b, ' ');
    } else {
      luaL_addchar(b, s[i]);
    }
  }
}

static int l_urldecode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  add_decoded(&b, s, n, lua_toboolean(L, 2));
  luaL_pushresult(&b);
  return 1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append the wire text of a scalar to the array at `arr`; anything else
 * (a table, null, a function) would put "table: 0x..." on the wire. */
static void push_str_into(lua_State *L, int arr, int vidx, int *n, const char *key) {
  if (!lc_push_scalar_text(L, vidx))
    luaL_error(L, "form_encode: value of '%s' must be a string, number or boolean, not a %s", key, luaL_typename(L, vidx));
  lua_rawseti(L, arr, ++*n);
}

/* form_encode(t): keys sorted so that the same table always gives the same bytes.
 * Phase 1 flattens into an array of strings (may raise in __tostring); phase 2
 * writes them with a luaL_Buffer and no other stack use. */
static int l_form_encode(lua_State *L) {
  int nkeys = 0, i, n = 0, arr;
  const char **keys;
  luaL_Buffer b;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING) return luaL_error(L, "form_encode: keys must be strings");
    /* names are sorted and looked up as C strings: one with a NUL would be cut */
    if (strlen(lua_tostring(L, -2)) != lua_rawlen(L, -2)) return luaL_error(L, "form_encode: a name contains a NUL byte");
    nkeys++;
    lua_pop(L, 1);
  }
  keys = (const char **)lua_newuserdata(L, sizeof(char *) * (nkeys ? nkeys : 1));
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, 1)) { keys[i++] = lua_tostring(L, -2); lua_pop(L, 1); }
  qsort(keys, nkeys, sizeof(char *), cmp_str);
  lua_newtable(L);
  arr = lua_gettop(L);
  for (i = 0; i < nkeys; i++) {
    lua_getfield(L, 1, keys[i]);
    if (lua_type(L, -1) == LUA_TTABLE && !luaL_getmetafield(L, -1, "__tostring")) {
      int j, m = (int)lua_rawlen(L, -1);
      for (j = 1; j <= m; j++) {
        lua_pushstring(L, keys[i]);
        lua_rawseti(L, arr, ++n);
        lua_rawgeti(L, -1, j);
        push_str_into(L, arr, lua_gettop(L), &n, keys[i]);
        lua_pop(L, 1);
      }
    } else {
      lua_pushstring(L, keys[i]);
      lua_rawseti(L, arr, ++n);
      if (lua_type(L, -1) == LUA_TTABLE) { /* has __tostring (left on the stack above) */
        lua_pop(L, 1);
        luaL_tolstring(L, -1, NULL);
        lua_rawseti(L, arr, ++n);
      } else {
        push_str_into(L, arr, lua_gettop(L), &n, keys[i]);
      }
    }
    lua_pop(L, 1);
  }
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i += 2) {
    size_t kn, vn;
    const char *k, *v;
    lua_rawgeti(L, arr, i); k = lua_tolstring(L, -1, &kn); lua_pop(L, 1);
    lua_rawgeti(L, arr, i + 1); v = lua_tolstring(L, -1, &vn); lua_pop(L, 1);
    if (i > 1) luaL_addchar(&b, '&');
    add_escaped(&b, k, kn, K_FORM, 1);
    luaL_addchar(&b, '=');
    add_escaped(&b, v, vn, K_FORM, 1);
  }
  luaL_pushresult(&b);
  return 1;
}

/* query_decode("a=1&b=2&a=3") -> { a = {"1","3"}, b = "2" } */
static int l_query_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n), *end = s + n;
  lua_newtable(L);
  while (s < end) {
    const char *amp = memchr(s, '&', (size_t)(end - s)), *eq;
    if (!amp) amp = end;
    eq = memchr(s, '=', (size_t)(amp - s));
    if (amp > s) {
      luaL_Buffer b;
      const char *kend = eq ? eq : amp;
      luaL_buffinit(L, &b);
      add_decoded(&b, s, (size_t)(kend - s), 1);
      luaL_pushresult(&b);
      luaL_buffinit(L, &b);
      if (eq) add_decoded(&b, eq + 1, (size_t)(amp - eq - 1), 1);
      luaL_pushresult(&b);
      lua_pushvalue(L, -2);
      lua_rawget(L, -4);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_rawset(L, -3);
      } else if (lua_type(L, -1) == LUA_TTABLE) {
        lua_insert(L, -2);
        lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
        lua_pop(L, 2);
      } else {
        lua_createtable(L, 2, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 2);
        lua_rawset(L, -3);
      }
    }
    s = amp + 1;
  }
  return 1;
}

/* RFC 4180 CSV -> array of rows keyed by the header row. */
static int csv_field(lua_State *L, const char **ps, const char *end, int *eol) {
  const char *s = *ps;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (s < end && *s == '"') {
    s++;
    for (;;) {
      if (s >= end) return 0; /* unterminated quote */
      if (*s == '"') {
        if (s + 1 < end && s[1] == '"') { luaL_addchar(&b, '"'); s += 2; continue; }
        s++;
        break;
      }
      luaL_addchar(&b, *s++);
    }
  } else {
    while (s < end && *s != ',' && *s != '\n' && *s != '\r') luaL_addchar(&b, *s++);
  }
  luaL_pushresult(&b);
  *eol = 1;
  if (s < end && *s == ',') { s++; *eol = 0; }
  else if (s < end && *s == '\r') { s++; if (s < end && *s == '\n') s++; }
  else if (s < end && *s == '\n') s++;
  else if (s < end) return 0; /* garbage after a closing quote */
  *ps = s;
  return 1;
}

static int l_csv_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n), *end = s + n;
  int ncols = 0, row = 0, col, eol, line = 1;
  lua_settop(L, 1);
  if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3; /* UTF-8 BOM */
  lua_newtable(L); /* 2: header */
  lua_newtable(L); /* 3: rows */
  do {
    if (!csv_field(L, &s, end, &eol)) return lc_pushfail(L, "csv: malformed header");
    lua_rawseti(L, 2, ++ncols);
  } while (!eol);
  while (s < end) {
    if (*s == '\n' || *s == '\r') { s++; continue; } /* blank line */
    line++;
    lua_createtable(L, 0, ncols);
    col = 0;
    do {
      if (!csv_field(L, &s, end, &eol)) return lc_pushfail(L, "csv: malformed field on record %d", line);
      if (++col <= ncols) {
        lua_rawgeti(L, 2, col);
        lua_insert(L, -2);
        lua_rawset(L, -3);
      } else {
        lua_pop(L, 1);
      }
    } while (!eol);
    lua_rawseti(L, 3, ++row);
  }
  return 1;
}

/* Lower-cased output, values percent-encoded with lower-case hex (%2f): the
 * whole canonical string is lower-cased after encoding. ASCII only, as the C
 * locale's tolower (without its call per byte). */
static void add_lower(luaL_Buffer *b, const char *s, size_t n, int escape) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!escape || (KEEP[c] & K_PCT)) {
      luaL_addchar(b, (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c));
    } else {
      luaL_addchar(b, '%');
      luaL_addchar(b, hex[c >> 4]);
      luaL_addchar(b, hex[c & 15]);
    }
  }
}

/* The few pairs of a usual call live in C stack arrays; more get one userdata. */
#define SMALL_PAIRS 16
typedef struct pairs {
  int n;
  const char **names, **values;
  size_t *vlens;
  int *order;
  const char *sn[SMALL_PAIRS], *sv[SMALL_PAIRS];
  size_t svl[SMALL_PAIRS];
  int so[SMALL_PAIRS];
} pairs;

/* Keep a converted string alive in the anchor table at `anchor` (made on first use: the pairs
 * of a call are strings already, and a string held by the caller's pair table stays alive). */
static void anchor_top(lua_State *L, int anchor, int *k) {
  if (*k == 0) { lua_createtable(L, 4, 0); lua_replace(L, anchor); }
  lua_rawseti(L, anchor, ++*k);
}

/* Read the array of {name, value} pairs at `idx`; returns the count. Values go through
 * the scalar text of the wire (numbers, booleans). No Lua code runs while the strings
 * are used, so the caller's tables keep them alive. Leaves one slot (the anchor) pushed. */
static int read_pairs(lua_State *L, int idx, pairs *p) {
  int i, n, k = 0, anchor;
  luaL_checktype(L, idx, LUA_TTABLE);
  n = (int)lua_rawlen(L, idx);
  p->n = n;
  lua_pushnil(L); /* the anchor's slot */
  anchor = lua_gettop(L);
  if (n <= SMALL_PAIRS) {
    p->names = p->sn; p->values = p->sv; p->vlens = p->svl; p->order = p->so;
  } else {
    size_t np = (size_t)n;
    char *m = (char *)lua_newuserdata(L, np * (2 * sizeof(char *) + sizeof(size_t) + sizeof(int)));
    p->names = (const char **)m;
    p->values = (const char **)(m + np * sizeof(char *));
    p->vlens = (size_t *)(m + 2 * np * sizeof(char *));
    p->order = (int *)(m + 2 * np * sizeof(char *) + np * sizeof(size_t));
    lua_replace(L, anchor); /* the slot holds the arrays until an anchor table is needed */
    lua_createtable(L, 4, 0);
    lua_pushvalue(L, anchor);
    lua_rawseti(L, -2, ++k);
    lua_replace(L, anchor);
  }
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, idx, i + 1);
    if (!lua_istable(L, -1)) luaL_error(L, "pair %d is not a {name, value} table", i + 1);
    lua_rawgeti(L, -1, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      p->names[i] = lua_tostring(L, -1);
      lua_pop(L, 1);
    } else {
      p->names[i] = luaL_checkstring(L, -1);
      anchor_top(L, anchor, &k);
    }
    lua_rawgeti(L, -1, 2);
    if (lua_type(L, -1) == LUA_TSTRING) {
      p->values[i] = lua_tolstring(L, -1, &p->vlens[i]);
      lua_pop(L, 1);
    } else {
      if (!lc_push_scalar_text(L, -1)) luaL_error(L, "pair %d: value must be a string, number or boolean", i + 1);
      p->values[i] = lua_tolstring(L, -1, &p->vlens[i]);
      anchor_top(L, anchor, &k);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  return n;
}

/* query_encode({{name, value}, ...}) -> "name=pct(value)&..." in the given order */
static int l_query_encode(lua_State *L) {
  pairs p;
  int i, n = read_pairs(L, 1, &p);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    if (i) luaL_addchar(&b, '&');
    luaL_addstring(&b, p.names[i]);
    luaL_addchar(&b, '=');
    add_escaped(&b, p.values[i], p.vlens[i], K_PCT, 0);
  }
  luaL_pushresult(&b);
  return 1;
}

/* Stable sort of order[0..n) by name (byte-wise): insertion for the usual few pairs, merge
 * through `tmp` above that. No global state: two Lua states may sign at the same time. */
static void sort_by_name(int *order, int *tmp, int n, const char *const *names) {
  int i, j, w, lo, mid, hi, *src = order, *dst = tmp, *t;
  if (n <= SMALL_PAIRS) {
    for (i = 1; i < n; i++) {
      int v = order[i];
      for (j = i; j > 0 && strcmp(names[order[j - 1]], names[v]) > 0; j--) order[j] = order[j - 1];
      order[j] = v;
    }
    return;
  }
  for (w = 1; w < n; w *= 2) {
    for (lo = 0; lo < n; lo += 2 * w) {
      mid = lo + w < n ? lo + w : n;
      hi = lo + 2 * w < n ? lo + 2 * w : n;
      for (i = lo, j = mid, t = dst + lo; i < mid || j < hi;)
        *t++ = (j >= hi || (i < mid && strcmp(names[src[i]], names[src[j]]) <= 0)) ? src[i++] : src[j++];
    }
    t = src; src = dst; dst = t;
  }
  if (src != order) memcpy(order, src, sizeof(int) * (size_t)n);
}

/* canonical_query(pairs) -> the CloudStack-style string to sign: pairs sorted
 * by name (byte-wise, as sent), values pct-encoded, joined, lower-cased. */
static int l_canonical_query(lua_State *L) {
  pairs p;
  int i, n = read_pairs(L, 1, &p), *tmp = NULL;
  luaL_Buffer b;
  if (n > SMALL_PAIRS) tmp = (int *)lua_newuserdata(L, sizeof(int) * (size_t)n);
  for (i = 0; i < n; i++) p.order[i] = i;
  sort_by_name(p.order, tmp, n, p.names);
  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    int o = p.order[i];
    if (i) luaL_addchar(&b, '&');
    add_lower(&b, p.names[o], strlen(p.names[o]), 0);
    luaL_addchar(&b, '=');
    add_lower(&b, p.values[o], p.vlens[o], 1);
  }
  luaL_pushresult(&b);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"query_encode", l_query_encode},
  {"canonical_query", l_canonical_query},
  {"pct", l_pct},
  {"urlencode", l_urlencode},
  {"urldecode", l_urldecode},
  {"form_encode", l_form_encode},
  {"query_decode", l_query_decode},
  {"csv_decode", l_csv_decode},
  {NULL, NULL}
};

void lc_open_encode(lua_State *L) { luaL_setfuncs(L, funcs, 0); }
