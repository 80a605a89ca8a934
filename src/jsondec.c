/* JSON -> Lua tables in one pass.
 * cJSON builds a tree that then has to be converted; measured on a 10,000-server
 * listing that was 2.2x lua-cjson (bench/run.lua). This parser pushes Lua
 * values directly while reading, with the same rules: JSON null is core.null,
 * arrays carry core.array_mt, keys named in opts.lists are always arrays.
 * No foreign library is on the C stack, so a Lua memory error unwinds safely. */
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include "lc.h"

typedef struct jp {
  lua_State *L;
  const char *p, *end, *start;
  int depth, max_depth, lists;
  char err[128];
} jp;

static int jfail(jp *j, const char *what) {
  if (!j->err[0]) {
    if (j->p >= j->end) snprintf(j->err, sizeof j->err, "json: document is truncated (%s)", what);
    else snprintf(j->err, sizeof j->err, "json: %s at byte %d", what, (int)(j->p - j->start) + 1);
  }
  return 0;
}

static void skip_ws(jp *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  int i;
  for (i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static void add_utf8(luaL_Buffer *b, unsigned cp) {
  if (cp < 0x80) luaL_addchar(b, (char)cp);
  else if (cp < 0x800) { luaL_addchar(b, (char)(0xC0 | (cp >> 6))); luaL_addchar(b, (char)(0x80 | (cp & 0x3F))); }
  else if (cp < 0x10000) {
    luaL_addchar(b, (char)(0xE0 | (cp >> 12)));
    luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
    luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
  } else {
    luaL_addchar(b, (char)(0xF0 | (cp >> 18)));
    luaL_addchar(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
    luaL_addchar(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
    luaL_addchar(b, (char)(0x80 | (cp & 0x3F)));
  }
}

/* j->p at the opening quote; pushes the string */
static int parse_string(jp *j) {
  const char *s = ++j->p, *q = s;
  luaL_Buffer b;
  while (q < j->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) q++;
  if (q < j->end && *q == '"') { /* no escapes: the common case */
    lua_pushlstring(j->L, s, (size_t)(q - s));
    j->p = q + 1;
    return 1;
  }
  luaL_buffinit(j->L, &b);
  luaL_addlstring(&b, s, (size_t)(q - s));
  j->p = q;
  while (j->p < j->end) {
    unsigned char c = (unsigned char)*j->p;
    if (c == '"') { j->p++; luaL_pushresult(&b); return 1; }
    if (c < 0x20) return jfail(j, "control character in string");
    if (c != '\\') { luaL_addchar(&b, (char)c); j->p++; continue; }
    if (j->end - j->p < 2) break;
    switch (j->p[1]) {
      case '"': luaL_addchar(&b, '"'); break;
      case '\\': luaL_addchar(&b, '\\'); break;
      case '/': luaL_addchar(&b, '/'); break;
      case 'b': luaL_addchar(&b, '\b'); break;
      case 'f': luaL_addchar(&b, '\f'); break;
      case 'n': luaL_addchar(&b, '\n'); break;
      case 'r': luaL_addchar(&b, '\r'); break;
      case 't': luaL_addchar(&b, '\t'); break;
      case 'u': {
        unsigned cp, lo;
        if (j->end - j->p < 6 || !hex4(j->p + 2, &cp)) return jfail(j, "bad \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' || !hex4(j->p + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return jfail(j, "unpaired surrogate");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          j->p += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return jfail(j, "unpaired surrogate");
        }
        add_utf8(&b, cp);
        j->p += 4;
        break;
      }
      default: return jfail(j, "bad escape");
    }
    j->p += 2;
  }
  return jfail(j, "unterminated string");
}

static int parse_number(jp *j) {
  const char *s = j->p, *q = s;
  int is_int = 1;
  char buf[64];
  if (q < j->end && *q == '-') q++;
  if (q >= j->end || *q < '0' || *q > '9') return jfail(j, "bad number");
  if (*q == '0') q++; else while (q < j->end && *q >= '0' && *q <= '9') q++;
  if (q < j->end && *q == '.') {
    is_int = 0;
    q++;
    if (q >= j->end || *q < '0' || *q > '9') return jfail(j, "bad number");
    while (q < j->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < j->end && (*q == 'e' || *q == 'E')) {
    is_int = 0;
    q++;
    if (q < j->end && (*q == '+' || *q == '-')) q++;
    if (q >= j->end || *q < '0' || *q > '9') return jfail(j, "bad number");
    while (q < j->end && *q >= '0' && *q <= '9') q++;
  }
  (void)is_int; /* Lua 5.1/LuaJIT have no integer subtype */
#if LUA_VERSION_NUM >= 503
  if (is_int && q - s <= 18) {
    long long v = 0;
    const char *d = s;
    int neg = *d == '-';
    if (neg) d++;
    for (; d < q; d++) v = v * 10 + (*d - '0');
    lua_pushinteger(j->L, (lua_Integer)(neg ? -v : v));
    j->p = q;
    return 1;
  }
#endif
  if ((size_t)(q - s) >= sizeof buf) {
    /* very long numbers: strtod needs a terminated copy */
    char *big = malloc((size_t)(q - s) + 1);
    double d;
    if (!big) return jfail(j, "out of memory");
    memcpy(big, s, (size_t)(q - s));
    big[q - s] = 0;
    d = strtod(big, NULL);
    free(big);
    lua_pushnumber(j->L, d);
  } else {
    memcpy(buf, s, (size_t)(q - s));
    buf[q - s] = 0;
    lua_pushnumber(j->L, strtod(buf, NULL));
  }
  j->p = q;
  return 1;
}

static int parse_value(jp *j);

static void mark_array(lua_State *L) {
  lc_push_array_mt(L);
  lua_setmetatable(L, -2);
}

static int parse_array(jp *j) {
  int n = 0;
  j->p++;
  lua_newtable(j->L);
  mark_array(j->L);
  skip_ws(j);
  if (j->p < j->end && *j->p == ']') { j->p++; return 1; }
  for (;;) {
    if (!parse_value(j)) return 0;
    lua_rawseti(j->L, -2, ++n);
    skip_ws(j);
    if (j->p >= j->end) return jfail(j, "unterminated array");
    if (*j->p == ',') { j->p++; continue; }
    if (*j->p == ']') { j->p++; return 1; }
    return jfail(j, "expected ',' or ']'");
  }
}

/* a declared list key holding a non-array: wrap it (null or "" -> empty) */
static void force_list(lua_State *L) {
  int empty = lua_touserdata(L, -1) == LC_NULL ||
              (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == 0);
  lua_createtable(L, 1, 0);
  mark_array(L);
  if (!empty) { lua_insert(L, -2); lua_rawseti(L, -2, 1); }
  else lua_remove(L, -2);
}

static int parse_object(jp *j) {
  lua_State *L = j->L;
  j->p++;
  lua_newtable(L);
  skip_ws(j);
  if (j->p < j->end && *j->p == '}') { j->p++; return 1; }
  for (;;) {
    int listed = 0;
    skip_ws(j);
    if (j->p >= j->end || *j->p != '"') return jfail(j, "expected a string key");
    if (!parse_string(j)) return 0;
    skip_ws(j);
    if (j->p >= j->end || *j->p != ':') return jfail(j, "expected ':'");
    j->p++;
    if (j->lists) {
      lua_pushvalue(L, -1);
      lua_rawget(L, j->lists);
      listed = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    if (!parse_value(j)) return 0;
    if (listed && !(lua_type(L, -1) == LUA_TTABLE && lc_is_array(L, -1))) force_list(L);
    lua_rawset(L, -3);
    skip_ws(j);
    if (j->p >= j->end) return jfail(j, "unterminated object");
    if (*j->p == ',') { j->p++; continue; }
    if (*j->p == '}') { j->p++; return 1; }
    return jfail(j, "expected ',' or '}'");
  }
}

static int literal(jp *j, const char *word, size_t n) {
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return jfail(j, "unexpected character");
  j->p += n;
  return 1;
}

static int parse_value(jp *j) {
  int r;
  skip_ws(j);
  if (j->p >= j->end) return jfail(j, "expected a value");
  switch (*j->p) {
    case '{': case '[':
      if (++j->depth > j->max_depth) { snprintf(j->err, sizeof j->err, "json: document nested deeper than %d", j->max_depth); return 0; }
      if (!lua_checkstack(j->L, 4)) return jfail(j, "document nested too deeply");
      r = *j->p == '{' ? parse_object(j) : parse_array(j);
      j->depth--;
      return r;
    case '"': return parse_string(j);
    case 't': if (!literal(j, "true", 4)) return 0; lua_pushboolean(j->L, 1); return 1;
    case 'f': if (!literal(j, "false", 5)) return 0; lua_pushboolean(j->L, 0); return 1;
    case 'n': if (!literal(j, "null", 4)) return 0; lua_pushlightuserdata(j->L, LC_NULL); return 1;
    default: return parse_number(j);
  }
}

/* json_decode(s [, opts]) -> value | nil, msg */
int lc_json_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  jp j;
  memset(&j, 0, sizeof j);
  j.L = L;
  j.p = j.start = s;
  j.end = s + n;
  j.max_depth = 128;
  lua_settop(L, 2);
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "lists"); /* 3 */
    if (lua_istable(L, 3)) j.lists = 3;
    /* the parser recurses on the C stack: never deeper than 1000 */
    j.max_depth = lc_opt_clamped(L, 2, "max_depth", 128, 0, 1000);
  }
  if (!parse_value(&j)) return lc_pushfail(L, "%s", j.err);
  skip_ws(&j);
  if (j.p < j.end) return lc_pushfail(L, "json: trailing garbage at byte %d", (int)(j.p - j.start) + 1);
  return 1;
}
