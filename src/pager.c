/* The page loop of c:pages / c:each under transports that do not yield.
 *
 * core.pager(opts) returns an iterator: each call hands out one decoded page
 * and, before returning, has already started the next page on the transport
 * (libcurl's multi handle: session:start), so the server works on page n+1
 * while the caller consumes page n. The pager holds at most the in-flight
 * page besides the one it hands out, and while that page is finished and
 * decoded, the one after it when the totals say it exists: at most two pages
 * held by the pager for any number of pages.
 *
 * Whether there is a next page is decided here from the catalog's paging
 * description (data, no provider names): the answer's page number, page
 * size, total count and page count fields, the default page size when a page
 * does not state one, and the empty-last-page rule.
 *
 * Preparing a request (build, sign, log) and decoding an answer (the C
 * decoders with the where/fields filter) go through Lua callbacks of the
 * engine, so every page request has the bytes of a plain call. They are
 * called here with lua_pcall and only between transfers: no libcurl call is
 * on the C stack when they run, and a callback that raises ends the walk with
 * nil, err instead of unwinding through C. A page that fails is handed to the
 * fetch callback once (the engine's call: the one retry policy, retry.lua).
 *
 * opts = { first = n, number = "pageNumber", size = "pageSize", total = "totalCount",
 *          count = "pageCount", default_size = 250, items = "dotted.path", stop_on_empty = bool,
 *          start = fn(n) -> finish | nil, fetch = fn(n) -> res | nil, err, prefetch = bool }
 * finish() -> res | nil, err completes a started page. */
#include <string.h>
#include "lc.h"

#define PAGER_MT "luacloud.pager"
#define FIELD_MAX 64
#define ITEMS_MAX 256

typedef struct pager {
  lua_Integer page;        /* number of the page the next call hands out */
  lua_Integer dflt;        /* page size when an answer states none (0: unknown) */
  int done, prefetch, stop_on_empty;
  lua_Integer pages;       /* pages handed out */
  int in_flight;           /* 1 while the next page is on the wire */
  lua_Integer ahead;       /* the page after it, started before the next page is decoded (0: none) */
  lua_Integer last;        /* the last page by the latest answer's totals (0: unknown) */
  char number[FIELD_MAX], size[FIELD_MAX], total[FIELD_MAX], count[FIELD_MAX];
  char items[ITEMS_MAX];
} pager;

/* the env table: 1 start, 2 fetch, 3 the pending finish function */
enum { ENV_START = 1, ENV_FETCH = 2, ENV_PENDING = 3, ENV_AHEAD = 4 };

static void push_env(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 502
  lua_getuservalue(L, idx);
#else
  lua_getfenv(L, idx);
#endif
}

static void copy_field(lua_State *L, int t, const char *k, char *dst, size_t cap) {
  size_t n = 0;
  const char *s;
  lua_getfield(L, t, k);
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
  if (s && n < cap) memcpy(dst, s, n + 1); else dst[0] = '\0';
  lua_pop(L, 1);
}

/* a number field of the table at t (numbers and numeric text, as XML attributes come), or -1 */
static lua_Number num_field(lua_State *L, int t, const char *k) {
  lua_Number v = -1;
  if (!k[0]) return -1;
  lua_getfield(L, t, k);
  if (lua_isnumber(L, -1)) v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* push the value at the dotted items path of the table at t (nil when absent) */
static void push_items(lua_State *L, int t, const char *path) {
  const char *p = path;
  lua_pushvalue(L, t);
  if (!*p) { lua_pop(L, 1); lua_newtable(L); return; }
  while (*p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (!lua_istable(L, -1)) { lua_pop(L, 1); lua_pushnil(L); return; }
    lua_pushlstring(L, p, n);
    lua_gettable(L, -2);
    lua_remove(L, -2);
    p += n;
    if (*p == '.') p++;
  }
}

/* whether the answer at t says another page follows (the rule of docs/FILTERING.md, Paging) */
static int has_next(lua_State *L, pager *pg, int t, int nitems, lua_Integer *next) {
  lua_Number number = num_field(L, t, pg->number), size = num_field(L, t, pg->size);
  lua_Number total = num_field(L, t, pg->total), count = num_field(L, t, pg->count);
  if (size <= 0) size = (lua_Number)pg->dflt;
  if (pg->stop_on_empty && nitems == 0) return 0;
  if (number < 0 || size <= 0 || total < 0) return 0;
  if (number * size >= total || count <= 0) return 0;
  pg->last = (lua_Integer)((total + size - 1) / size);
  *next = (lua_Integer)number + 1;
  return 1;
}

/* call the function at the top with one integer argument; 1 result (or nil, err) left on the stack */
static int protected(lua_State *L, lua_Integer n, int nres) {
  lua_pushinteger(L, n);
  if (lua_pcall(L, 1, nres, 0) != 0) {
    /* a raise in a callback: the walk ends with it as the error */
    if (nres == 1) { lua_pop(L, 1); lua_pushnil(L); return 0; }
    lua_pushnil(L);
    lua_insert(L, -2);
    return 0;
  }
  return 1;
}

static void set_page(lua_State *L, int err, lua_Integer page) {
  if (lua_istable(L, err)) {
    lua_pushinteger(L, page);
    lua_setfield(L, err, "page");
  }
}

/* start page n into the env slot when the transport can (start returns nil when it cannot) */
static int start_page(lua_State *L, pager *pg, int env, lua_Integer n, int slot) {
  if (!pg->prefetch) return 0;
  lua_rawgeti(L, env, ENV_START);
  if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return 0; }
  protected(L, n, 1);
  if (!lua_isfunction(L, -1)) { lua_pop(L, 1); return 0; }
  lua_rawseti(L, env, slot);
  return 1;
}

static void drop(lua_State *L, int env, int slot) {
  lua_pushnil(L);
  lua_rawseti(L, env, slot); /* its transfer is removed from the multi handle when collected */
}

/* page n+1 after page n was decoded: the one started ahead when it is that page, else now */
static void start_next(lua_State *L, pager *pg, int env, lua_Integer n) {
  if (pg->ahead == n) {
    lua_rawgeti(L, env, ENV_AHEAD);
    lua_rawseti(L, env, ENV_PENDING);
    drop(L, env, ENV_AHEAD);
    pg->ahead = 0;
    pg->in_flight = 1;
    return;
  }
  if (pg->ahead) { drop(L, env, ENV_AHEAD); pg->ahead = 0; }
  pg->in_flight = start_page(L, pg, env, n, ENV_PENDING);
}

/* while page n waits for its last bytes and is decoded, page n+1 is already asked for when the
 * totals say it exists: the server's latency overlaps the client's decoding */
static void start_ahead(lua_State *L, pager *pg, int env) {
  lua_Integer n = pg->page + 1;
  if (!pg->in_flight || pg->ahead || !pg->last || n > pg->last) return;
  if (start_page(L, pg, env, n, ENV_AHEAD)) pg->ahead = n;
}

/* the page's result (res, err) at the top two slots: from the started request, else fetched */
static void get_page(lua_State *L, pager *pg, int env) {
  int ok = 0;
  if (pg->in_flight) {
    lua_rawgeti(L, env, ENV_PENDING);
    lua_pushnil(L);
    lua_rawseti(L, env, ENV_PENDING); /* the pager lets go of it at once */
    pg->in_flight = 0;
    if (lua_pcall(L, 0, 2, 0) != 0) { lua_pushnil(L); lua_insert(L, -2); }
    ok = !lua_isnil(L, -2);
    if (!ok) {
      /* a malformed request stays malformed; anything else is sent again through the retry policy */
      int validation = 0;
      if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "kind");
        validation = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "validation") == 0;
        lua_pop(L, 1);
      }
      if (validation) return;
      lua_pop(L, 2);
    } else {
      return;
    }
  }
  lua_rawgeti(L, env, ENV_FETCH);
  protected(L, pg->page, 2);
}

/* pager() -> { result = r, items = {...}, number = n } | nil | nil, err */
static int l_next(lua_State *L) {
  pager *pg = (pager *)luaL_checkudata(L, 1, PAGER_MT);
  int env, res, page;
  lua_Integer next = 0;
  lua_settop(L, 1);
  if (pg->done) return 0;
  push_env(L, 1);
  env = lua_gettop(L);
  start_ahead(L, pg, env);
  get_page(L, pg, env);
  res = env + 1;
  if (lua_isnil(L, res)) {
    pg->done = 1;
    if (pg->ahead) { drop(L, env, ENV_AHEAD); pg->ahead = 0; }
    if (lua_isnil(L, res + 1)) { lua_pushliteral(L, "page walk failed"); lua_replace(L, res + 1); }
    set_page(L, res + 1, pg->page);
    return 2;
  }
  lua_settop(L, res);
  lua_createtable(L, 0, 3);
  page = lua_gettop(L);
  lua_pushvalue(L, res);
  lua_setfield(L, page, "result");
  if (lua_istable(L, res)) push_items(L, res, pg->items); else lua_pushnil(L);
  if (!lua_istable(L, -1)) { lua_pop(L, 1); lua_newtable(L); }
  {
    int nitems = (int)lua_rawlen(L, -1);
    lua_setfield(L, page, "items");
    lua_pushinteger(L, pg->page);
    lua_setfield(L, page, "number");
    pg->pages++;
    if (lua_istable(L, res) && has_next(L, pg, res, nitems, &next)) {
      pg->page = next;
      start_next(L, pg, env, next); /* before the caller sees page n: n+1 is on its way */
    } else {
      pg->done = 1;
      if (pg->ahead) { drop(L, env, ENV_AHEAD); pg->ahead = 0; }
    }
  }
  lua_settop(L, page);
  return 1;
}

/* pager:stats() -> { pages = handed out, in_flight = next page | nil, ahead = the one after | nil, done } */
static int l_stats(lua_State *L) {
  pager *pg = (pager *)luaL_checkudata(L, 1, PAGER_MT);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, pg->pages);
  lua_setfield(L, -2, "pages");
  if (pg->in_flight) {
    lua_pushinteger(L, pg->page);
    lua_setfield(L, -2, "in_flight");
  }
  if (pg->ahead) {
    lua_pushinteger(L, pg->ahead);
    lua_setfield(L, -2, "ahead");
  }
  lua_pushboolean(L, pg->done);
  lua_setfield(L, -2, "done");
  return 1;
}

/* pager:close(): the started page is dropped (its transfer ends when collected) */
static int l_close(lua_State *L) {
  pager *pg = (pager *)luaL_checkudata(L, 1, PAGER_MT);
  pg->done = 1;
  pg->in_flight = 0;
  pg->ahead = 0;
  push_env(L, 1);
  if (lua_istable(L, -1)) {
    drop(L, lua_gettop(L), ENV_PENDING);
    drop(L, lua_gettop(L), ENV_AHEAD);
  }
  return 0;
}

static int l_pager(lua_State *L) {
  pager *pg;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  pg = (pager *)lua_newuserdata(L, sizeof(pager));
  memset(pg, 0, sizeof *pg);
  lua_getfield(L, 1, "first");
  pg->page = lua_isnumber(L, -1) ? (lua_Integer)lua_tonumber(L, -1) : 1;
  lua_pop(L, 1);
  pg->dflt = lc_opt_clamped(L, 1, "default_size", 0, 0, 1 << 30);
  lua_getfield(L, 1, "prefetch");
  pg->prefetch = lua_isnil(L, -1) || lua_toboolean(L, -1);
  lua_getfield(L, 1, "stop_on_empty");
  pg->stop_on_empty = lua_toboolean(L, -1);
  lua_pop(L, 2);
  copy_field(L, 1, "number", pg->number, sizeof pg->number);
  copy_field(L, 1, "size", pg->size, sizeof pg->size);
  copy_field(L, 1, "total", pg->total, sizeof pg->total);
  copy_field(L, 1, "count", pg->count, sizeof pg->count);
  copy_field(L, 1, "items", pg->items, sizeof pg->items);
  lua_createtable(L, 4, 0);
  lua_getfield(L, 1, "start");
  lua_rawseti(L, -2, ENV_START);
  lua_getfield(L, 1, "fetch");
  if (!lua_isfunction(L, -1)) return luaL_argerror(L, 1, "fetch must be a function");
  lua_rawseti(L, -2, ENV_FETCH);
#if LUA_VERSION_NUM >= 502
  lua_setuservalue(L, 2);
#else
  lua_setfenv(L, 2);
#endif
  luaL_getmetatable(L, PAGER_MT);
  lua_setmetatable(L, 2);
  return 1;
}

static const luaL_Reg pager_methods[] = {
  {"stats", l_stats},
  {"close", l_close},
  {NULL, NULL}
};

void lc_open_pager(lua_State *L) {
  if (luaL_newmetatable(L, PAGER_MT)) {
    luaL_newlib(L, pager_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_next);
    lua_setfield(L, -2, "__call");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_pager);
  lua_setfield(L, -2, "pager");
}
