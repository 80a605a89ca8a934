/* JSON <-> Lua tables with cJSON.
 * The cJSON tree lives in a userdata whose __gc frees it, so a Lua error while
 * converting (out of memory, a bad value) cannot leak it. Arrays are marked with
 * core.array_mt so that decode -> encode round-trips, and JSON null is the
 * core.null lightuserdata, distinct from a missing key. */
#include <string.h>
#include <math.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "lc.h"

int lc_json_decode(lua_State *L);

/* text: the printed document, freed here too if pushing it raises (memory) */
typedef struct jbox { cJSON *root; char *text; } jbox;

static int jbox_gc(lua_State *L) {
  jbox *b = (jbox *)lua_touserdata(L, 1);
  if (b->root) { cJSON_Delete(b->root); b->root = NULL; }
  if (b->text) { cJSON_free(b->text); b->text = NULL; }
  return 0;
}

static jbox *new_jbox(lua_State *L) {
  jbox *b = (jbox *)lua_newuserdata(L, sizeof(jbox));
  b->root = NULL;
  b->text = NULL;
  if (luaL_newmetatable(L, "luacloud.json")) {
    lua_pushcfunction(L, jbox_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return b;
}

static void push_number(lua_State *L, double d) {
#if LUA_VERSION_NUM >= 503
  if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && floor(d) == d) {
    lua_pushinteger(L, (lua_Integer)d);
    return;
  }
#endif
  lua_pushnumber(L, d);
}

static void push_value(lua_State *L, cJSON *v, int lists, int depth, int max_depth);

static void push_array(lua_State *L, cJSON *v, int lists, int depth, int max_depth) {
  int i = 0;
  cJSON *c;
  lua_newtable(L);
  for (c = v->child; c; c = c->next) {
    push_value(L, c, lists, depth + 1, max_depth);
    lua_rawseti(L, -2, ++i);
  }
  lc_push_array_mt(L);
  lua_setmetatable(L, -2);
}

static void push_value(lua_State *L, cJSON *v, int lists, int depth, int max_depth) {
  /* depth_ok() has bounded the containers already */
  (void)max_depth;
  luaL_checkstack(L, 6, "json: document nested too deeply");
  switch (v->type & 0xFF) {
    case cJSON_False: lua_pushboolean(L, 0); break;
    case cJSON_True: lua_pushboolean(L, 1); break;
    case cJSON_NULL: lua_pushlightuserdata(L, LC_NULL); break;
    case cJSON_Number: push_number(L, v->valuedouble); break;
    case cJSON_String: lua_pushstring(L, v->valuestring); break;
    case cJSON_Array: push_array(L, v, lists, depth, max_depth); break;
    case cJSON_Object: {
      cJSON *c;
      lua_newtable(L);
      for (c = v->child; c; c = c->next) {
        int listed = 0;
        lua_pushstring(L, c->string);
        if (lists) {
          lua_pushvalue(L, -1);
          lua_rawget(L, lists);
          listed = lua_toboolean(L, -1);
          lua_pop(L, 1);
        }
        if (listed && !cJSON_IsArray(c)) {
          /* declared list: a single object becomes an array of one, null or "" an empty one */
          lua_newtable(L);
          if (!cJSON_IsNull(c) && !(cJSON_IsString(c) && c->valuestring[0] == 0)) {
            push_value(L, c, lists, depth + 1, max_depth);
            lua_rawseti(L, -2, 1);
          }
          lc_push_array_mt(L);
          lua_setmetatable(L, -2);
        } else {
          push_value(L, c, lists, depth + 1, max_depth);
        }
        lua_rawset(L, -3);
      }
      break;
    }
    default: lua_pushnil(L);
  }
}

static int depth_ok(cJSON *v, int left) {
  cJSON *c;
  if (left < 0) return 0;
  for (c = v->child; c; c = c->next)
    if ((cJSON_IsArray(c) || cJSON_IsObject(c)) && !depth_ok(c, left - 1)) return 0;
  return 1;
}

/* json_decode(s [, opts]) -> value | nil, msg */
static int l_json_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n), *end = NULL;
  int lists = 0, max_depth = 128;
  jbox *b;
  lua_settop(L, 2);
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "lists");   /* 3 */
    if (lua_istable(L, 3)) lists = 3;
    max_depth = lc_opt_clamped(L, 2, "max_depth", 128, 0, 1000);
  } else {
    lua_pushnil(L);
  }
  b = new_jbox(L);
  b->root = cJSON_ParseWithLengthOpts(s, n, &end, 0);
  if (!b->root) {
    size_t at = end && end >= s ? (size_t)(end - s) : 0;
    if (at + 1 >= n) return lc_pushfail(L, "json: document is truncated or ends in a syntax error (%d bytes)", (int)n);
    return lc_pushfail(L, "json: syntax error at byte %d", (int)at + 1);
  }
  while (end && (size_t)(end - s) < n && strchr(" \t\r\n", *end)) end++;
  if (end && (size_t)(end - s) < n) return lc_pushfail(L, "json: trailing garbage at byte %d", (int)(end - s) + 1);
  if (!depth_ok(b->root, max_depth)) return lc_pushfail(L, "json: document nested deeper than %d", max_depth);
  push_value(L, b->root, lists, 0, max_depth);
  cJSON_Delete(b->root);
  b->root = NULL;
  return 1;
}

/* ---- encode ---- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int table_is_array(lua_State *L, int idx, int *len) {
  int n = 0, ok = 1;
  if (lc_is_array(L, idx)) { *len = (int)lua_rawlen(L, idx); return 1; }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) { ok = 0; lua_pop(L, 1); break; }
    n++;
  }
  *len = n;
  return ok && n > 0 && n == (int)lua_rawlen(L, idx);
}

/* A JSON string literal written here rather than by cJSON, which stops at an
 * embedded NUL. The text is built in a box (freed by __gc on error). */
static cJSON *raw_string(lua_State *L, lc_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  b->len = 0; /* one scratch buffer per json_encode call */
  lc_buf_addc(b, '"');
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    switch (ch) {
      case '"': lc_buf_adds(b, "\\\""); break;
      case '\\': lc_buf_adds(b, "\\\\"); break;
      case '\n': lc_buf_adds(b, "\\n"); break;
      case '\r': lc_buf_adds(b, "\\r"); break;
      case '\t': lc_buf_adds(b, "\\t"); break;
      default:
        if (ch < 0x20) {
          char u[7] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15], 0 };
          lc_buf_add(b, u, 6);
        } else {
          lc_buf_addc(b, (char)ch);
        }
    }
  }
  lc_buf_addc(b, '"');
  lc_buf_addc(b, 0);
  if (b->oom) luaL_error(L, "json_encode: out of memory");
  return cJSON_CreateRaw(b->data);
}

/* Each node is attached to its parent before its own children are built, so
 * everything stays reachable from the boxed root if a Lua error interrupts. */
static int attach(cJSON *parent, const char *key, cJSON *c) {
  if (!c) return 0;
  if (key) cJSON_AddItemToObject(parent, key, c); else cJSON_AddItemToArray(parent, c);
  return 1;
}

static int to_json(lua_State *L, int idx, int depth, cJSON *parent, const char *key, lc_buf *scratch) {
  if (depth > 128) luaL_error(L, "json_encode: table nested too deeply (cycle?)");
  luaL_checkstack(L, 8, "json_encode");
  switch (lua_type(L, idx)) {
    case LUA_TNIL: return attach(parent, key, cJSON_CreateNull());
    case LUA_TBOOLEAN: return attach(parent, key, cJSON_CreateBool(lua_toboolean(L, idx)));
    case LUA_TNUMBER: {
      /* cJSON prints %1.15g: integers and exact doubles are written here */
      char nb[64];
      double d = lua_tonumber(L, idx);
      if (isnan(d) || isinf(d)) luaL_error(L, "json_encode: cannot encode NaN or infinity");
      lc_format_number(L, idx, nb, sizeof nb);
      return attach(parent, key, cJSON_CreateRaw(nb));
    }
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      return attach(parent, key, raw_string(L, scratch, s, n));
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == LC_NULL) return attach(parent, key, cJSON_CreateNull());
      break;
    case LUA_TTABLE: {
      int len, i;
      cJSON *r;
      if (table_is_array(L, idx, &len)) {
        if (!attach(parent, key, r = cJSON_CreateArray())) return 0;
        for (i = 1; i <= len; i++) {
          int ok;
          lua_rawgeti(L, idx, i);
          ok = to_json(L, lua_gettop(L), depth + 1, r, NULL, scratch);
          lua_pop(L, 1);
          if (!ok) return 0;
        }
        return 1;
      } else {
        int nkeys = 0;
        const char **keys;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
          lua_pop(L, 1);
          if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "json_encode: object keys must be strings");
          {
            size_t kl;
            const char *k = lua_tolstring(L, -1, &kl);
            if (strlen(k) != kl) luaL_error(L, "json_encode: an object key contains a NUL byte");
          }
          nkeys++;
        }
        keys = (const char **)lua_newuserdata(L, sizeof(char *) * (size_t)(nkeys ? nkeys : 1));
        i = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) { lua_pop(L, 1); keys[i++] = lua_tostring(L, -1); }
        qsort(keys, (size_t)nkeys, sizeof(char *), cmp_str);
        if (!attach(parent, key, r = cJSON_CreateObject())) return 0;
        for (i = 0; i < nkeys; i++) {
          int ok;
          lua_getfield(L, idx, keys[i]);
          ok = to_json(L, lua_gettop(L), depth + 1, r, keys[i], scratch);
          lua_pop(L, 1);
          if (!ok) return 0;
        }
        lua_pop(L, 1);
        return 1;
      }
    }
    default: break;
  }
  return luaL_error(L, "json_encode: cannot encode a %s", luaL_typename(L, idx));
}

/* json_encode(v) -> string | nil, msg */
static int l_json_encode(lua_State *L) {
  jbox *b;
  char *out;
  lc_buf *scratch;
  lua_settop(L, 1);
  b = new_jbox(L);
  scratch = lc_newbox(L);
  b->root = cJSON_CreateArray();
  if (!b->root || !to_json(L, 1, 0, b->root, NULL, scratch)) return lc_pushfail(L, "json_encode: out of memory");
  out = b->text = cJSON_PrintUnformatted(b->root->child);
  cJSON_Delete(b->root);
  b->root = NULL;
  if (!out) return lc_pushfail(L, "json_encode: out of memory");
  lua_pushstring(L, out);
  b->text = NULL;
  cJSON_free(out);
  return 1;
}

static int l_null_tostring(lua_State *L) { lua_pushliteral(L, "null"); return 1; }

static const luaL_Reg funcs[] = {
  {"json_decode", lc_json_decode},
  /* not public: the tree-based (cJSON) reference decoder, for bench/run.lua and
   * spec/fuzz (differential checks); no behaviour of it is promised */
  {"_json_decode_cjson", l_json_decode},
  {"json_encode", l_json_encode},
  {NULL, NULL}
};

void lc_open_json(lua_State *L) {
  (void)l_null_tostring;
  luaL_setfuncs(L, funcs, 0);
  lua_pushlightuserdata(L, LC_NULL);
  lua_setfield(L, -2, "null");
}
