/* JSON -> Lua tables in one pass.
 * cJSON builds a tree that then has to be converted; measured on a 10,000-server
 * listing that was 2.2x lua-cjson (bench/run.lua). This parser pushes Lua
 * values directly while reading, with the same rules: JSON null is core.null,
 * arrays carry core.array_mt, keys named in opts.lists are always arrays.
 * No foreign library is on the C stack, so a Lua memory error unwinds safely.
 *
 * What it refuses or keeps (docs/DESIGN.md):
 * - invalid UTF-8 in a string (raw bytes or an unpaired surrogate escape): refused;
 * - \u0000: refused (an embedded NUL would be cut by the C code the value may reach);
 * - a duplicate key in one object: refused (no silent replacement of a whole member);
 * - an integer that does not fit exactly (beyond 2^63 under Lua 5.4, beyond 2^53
 *   under LuaJIT) and a number that overflows a double (1e400) or underflows to 0
 *   (1e-400): kept as a string holding the number's exact text, never inf or a
 *   rounded value. */
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <math.h>
#include "lc.h"

#define JP_KEYS 256
#define JP_KEYS_SCANNED 16 /* keys of one object compared in C; later ones are looked up */

typedef struct jp {
  lua_State *L;
  const char *p, *end, *start;
  int depth, max_depth, lists;
  /* opts.filter: the items at the items path (opts.items, dotted, "*" any key) are kept
   * or dropped by src/filter.c as soon as they are parsed; at: how much of the path
   * the value being parsed is at (-1: off it). An item is the value there, or each
   * element when that value is the list (in_list: parsing the list's elements), of any
   * type: f:apply decides a string or a nested array too, so the decoder must. */
  lc_filter *filt;
  int at, ncomp, in_list;
  /* size hint for the next object (an array's elements are usually alike: the key count of
   * the previous one) and the key count of the last object read */
  int hint, last_keys;
  /* the keys of the objects being read, for the duplicate check without a table lookup */
  int ktop;
  const char *kp[JP_KEYS];
  size_t kl[JP_KEYS];
  lc_names names; /* opts.lists, read once */
  const char *comp[8];
  size_t comp_len[8];
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
  for (;;) {
    int n;
    while (q < j->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x80) q++;
    if (q >= j->end || (unsigned char)*q < 0x80) break;
    if (!(n = lc_utf8_len(q, j->end))) { j->p = q; return jfail(j, "invalid UTF-8 in string"); }
    q += n;
  }
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
    if (c >= 0x80) {
      int n = lc_utf8_len(j->p, j->end);
      if (!n) return jfail(j, "invalid UTF-8 in string");
      luaL_addlstring(&b, j->p, (size_t)n);
      j->p += n;
      continue;
    }
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
        } else if (cp == 0) {
          return jfail(j, "\\u0000 (NUL) in string");
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

static int push_number(jp *j, const char *s, const char *q, int is_int);

/* whether the mantissa of [s, q) is all zeros (0e-999 is really 0) */
static int zero_digits(const char *s, const char *q) {
  for (; s < q && *s != 'e' && *s != 'E'; s++) if (*s >= '1' && *s <= '9') return 0;
  return 1;
}

static int parse_number(jp *j) {
  const char *s = j->p, *q = s;
  int is_int = 1;
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
  return push_number(j, s, q, is_int);
}

/* An integer literal [s, q) -> its magnitude, 0 when past `limit` (caller checks). */
static int int_fits(const char *s, const char *q, unsigned long long limit, unsigned long long *out) {
  unsigned long long v = 0;
  if (*s == '-') s++;
  for (; s < q; s++) {
    unsigned d = (unsigned)(*s - '0');
    if (v > (limit - d) / 10) return 0;
    v = v * 10 + d;
  }
  *out = v;
  return 1;
}

/* The number's exact text, for what no Lua number holds exactly. */
static int push_text(jp *j, const char *s, const char *q) {
  lua_pushlstring(j->L, s, (size_t)(q - s));
  j->p = q;
  return 1;
}

static int push_number(jp *j, const char *s, const char *q, int is_int) {
  char buf[64];
  double d;
  if (is_int) {
    unsigned long long mag = 0;
    int neg = *s == '-';
#if LUA_VERSION_NUM >= 503
    if (q - s - neg <= 18) { /* cannot overflow: no check per digit */
      const char *p;
      for (p = s + neg; p < q; p++) mag = mag * 10 + (unsigned)(*p - '0');
    } else if (!int_fits(s, q, neg ? 9223372036854775808ULL : 9223372036854775807ULL, &mag)) {
      return push_text(j, s, q);
    }
    /* -2^63: the unsigned negation converts back to LLONG_MIN */
    lua_pushinteger(j->L, neg ? (lua_Integer)(0ULL - mag) : (lua_Integer)mag);
    j->p = q;
    return 1;
#else
    /* Lua 5.1/LuaJIT: one double, exact for integers up to 2^53 */
    if (q - s - neg > 15 && !int_fits(s, q, 9007199254740992ULL, &mag)) return push_text(j, s, q);
#endif
  }
  if ((size_t)(q - s) >= sizeof buf) {
    /* very long numbers: strtod needs a terminated copy */
    char *big = malloc((size_t)(q - s) + 1);
    if (!big) return jfail(j, "out of memory");
    memcpy(big, s, (size_t)(q - s));
    big[q - s] = 0;
    errno = 0;
    d = strtod(big, NULL);
    free(big);
  } else {
    memcpy(buf, s, (size_t)(q - s));
    buf[q - s] = 0;
    errno = 0;
    d = strtod(buf, NULL);
  }
  if (isinf(d) || (errno == ERANGE && d == 0.0 && !zero_digits(s, q))) return push_text(j, s, q);
  lua_pushnumber(j->L, d);
  j->p = q;
  return 1;
}

static int parse_value(jp *j);

static void mark_array(lua_State *L) {
  lc_push_array_mt(L);
  lua_setmetatable(L, -2);
}

/* where the member `key` (on the stack top) of an object at position `at` is */
static int member_at(jp *j, int at) {
  size_t n;
  const char *k;
  if (at < 0 || at >= j->ncomp) return -1;
  if (j->comp_len[at] == 1 && j->comp[at][0] == '*') return at + 1;
  k = lua_tolstring(j->L, -1, &n);
  return n == j->comp_len[at] && !memcmp(k, j->comp[at], n) ? at + 1 : -1;
}

static int filter_item(jp *j);

static int parse_array(jp *j) {
  int n = 0, at = j->at, in_list = j->in_list, hint = 0;
  /* the list of items, or (inside it) an item that is an array, whose elements are off the path */
  int list = j->filt && at == j->ncomp && !in_list;
  j->p++;
  lua_newtable(j->L);
  mark_array(j->L);
  skip_ws(j);
  if (j->p < j->end && *j->p == ']') { j->p++; return 1; }
  for (;;) {
    int r;
    j->at = list || at != j->ncomp ? at : -1;
    j->in_list = list;
    j->hint = hint;
    j->last_keys = 0;
    r = parse_value(j);
    hint = j->last_keys < 64 ? j->last_keys : 64;
    j->hint = 0;
    j->in_list = in_list;
    if (!r) return 0;
    if (r == 1 && list && lua_type(j->L, -1) == LUA_TTABLE && lc_is_array(j->L, -1)) r = filter_item(j);
    if (r == 1) lua_rawseti(j->L, -2, ++n);
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

/* whether the key on the stack top (k, n) is in the object below the value on top already:
 * the object's first keys are compared in C (they stay alive in the object), others looked up */
static int duplicate_key(jp *j, int base, int nkeys, const char *k, size_t n) {
  int i;
  if (nkeys < JP_KEYS_SCANNED && j->ktop < JP_KEYS && j->ktop == base + nkeys) {
    for (i = base; i < j->ktop; i++) if (j->kl[i] == n && (j->kp[i] == k || memcmp(j->kp[i], k, n) == 0)) return 1;
    j->kp[j->ktop] = k;
    j->kl[j->ktop++] = n;
    return 0;
  }
  lua_pushvalue(j->L, -2);
  lua_rawget(j->L, -4);
  i = !lua_isnil(j->L, -1);
  lua_pop(j->L, 1);
  return i;
}

static int parse_object(jp *j) {
  lua_State *L = j->L;
  int at = j->at, nkeys = 0, base = j->ktop;
  j->p++;
  lua_createtable(L, 0, j->hint);
  j->hint = 0;
  skip_ws(j);
  if (j->p < j->end && *j->p == '}') { j->p++; j->last_keys = 0; return 1; }
  for (;;) {
    int listed = 0, r;
    const char *k;
    size_t kn;
    skip_ws(j);
    if (j->p >= j->end || *j->p != '"') return jfail(j, "expected a string key");
    if (!parse_string(j)) return 0;
    k = lua_tolstring(L, -1, &kn);
    skip_ws(j);
    if (j->p >= j->end || *j->p != ':') return jfail(j, "expected ':'");
    j->p++;
    if (j->lists) listed = lc_names_has(L, &j->names, -1, k, kn);
    j->at = member_at(j, at);
    if (!(r = parse_value(j))) return 0;
    if (r == 2) { lua_newtable(L); mark_array(L); } /* the one item was dropped */
    if (listed && !(lua_type(L, -1) == LUA_TTABLE && lc_is_array(L, -1))) force_list(L);
    if (duplicate_key(j, base, nkeys, k, kn)) return jfail(j, "duplicate key in object");
    nkeys++;
    lua_rawset(L, -3);
    skip_ws(j);
    if (j->p >= j->end) return jfail(j, "unterminated object");
    if (*j->p == ',') { j->p++; continue; }
    if (*j->p == '}') { j->p++; j->ktop = base; j->last_keys = nkeys; return 1; }
    return jfail(j, "expected ',' or '}'");
  }
}

static int literal(jp *j, const char *word, size_t n) {
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return jfail(j, "unexpected character");
  j->p += n;
  return 1;
}

/* an item (on the stack top): 1 (kept, projected), 2 (dropped, nothing pushed) */
static int filter_item(jp *j) {
  if (!lc_filter_match_value(j->L, j->filt, -1)) { lua_pop(j->L, 1); return 2; }
  lc_filter_project_value(j->L, j->filt, -1);
  lua_remove(j->L, -2);
  return 1;
}

static int parse_value(jp *j) {
  int r, at = j->at;
  skip_ws(j);
  if (j->p >= j->end) return jfail(j, "expected a value");
  switch (*j->p) {
    case '{': case '[':
      if (++j->depth > j->max_depth) { snprintf(j->err, sizeof j->err, "json: document nested deeper than %d", j->max_depth); return 0; }
      if (!lua_checkstack(j->L, 4)) return jfail(j, "document nested too deeply");
      if (at == j->ncomp && j->filt && *j->p == '{') { /* an item: dropped unread when its text decides */
        const char *endp;
        if (lc_filter_json_probe(j->L, j->filt, j->p, j->end, j->max_depth - j->depth + 1, j->lists, &endp) == 0) {
          j->p = endp;
          j->depth--;
          return 2;
        }
      }
      r = *j->p == '{' ? parse_object(j) : parse_array(j);
      j->depth--;
      if (r && at == j->ncomp && j->filt && lua_type(j->L, -1) == LUA_TTABLE && !lc_is_array(j->L, -1)) return filter_item(j);
      return r;
    case '"': r = parse_string(j); break;
    case 't': if (!literal(j, "true", 4)) return 0; lua_pushboolean(j->L, 1); r = 1; break;
    case 'f': if (!literal(j, "false", 5)) return 0; lua_pushboolean(j->L, 0); r = 1; break;
    case 'n': if (!literal(j, "null", 4)) return 0; lua_pushlightuserdata(j->L, LC_NULL); r = 1; break;
    default: r = parse_number(j);
  }
  return r && at == j->ncomp && j->filt ? filter_item(j) : r;
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
    if (lua_istable(L, 3)) {
      j.lists = 3;
      lc_names_read(L, 3, &j.names);
    }
    /* the parser recurses on the C stack: never deeper than 1000 */
    j.max_depth = lc_opt_clamped(L, 2, "max_depth", 128, 0, 1000);
    lua_getfield(L, 2, "filter"); /* kept alive by opts, as items */
    lua_getfield(L, 2, "items");
    j.filt = lc_filter_test(L, -2);
    if (j.filt && lua_type(L, -1) == LUA_TSTRING) {
      size_t n, i, start = 0;
      const char *s = lua_tolstring(L, -1, &n);
      for (i = 0; i <= n && j.ncomp < 8; i++) {
        if (i < n && s[i] != '.') continue;
        j.comp[j.ncomp] = s + start;
        j.comp_len[j.ncomp++] = i - start;
        start = i + 1;
      }
    }
    if (!j.ncomp) j.filt = NULL;
  }
  j.at = j.filt ? 0 : -1;
  if (!j.filt) j.ncomp = -2;
  if (!parse_value(&j)) return lc_pushfail(L, "%s", j.err);
  skip_ws(&j);
  if (j.p < j.end) return lc_pushfail(L, "json: trailing garbage at byte %d", (int)(j.p - j.start) + 1);
  return 1;
}
