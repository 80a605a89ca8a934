/* A Lua 5.4 host whose allocator can be limited, for specs of what C code does when a Lua
 * allocation fails (a memory error raised from inside a C function). It runs the Lua file
 * argv[1] with arg = { argv[2], ... } and two globals:
 *   memlimit(n)  Lua may allocate n more bytes from now (nil: no limit)
 *   c_heap()     bytes malloc has handed out and not taken back, less Lua's own: what C code
 *                (cJSON, libxml2, ...) holds outside the Lua heap */
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

static size_t used, limit = (size_t)-1;

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  size_t old = ptr ? osize : 0; /* without ptr, osize is the object's type (Lua 5.4) */
  void *p;
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    used -= old;
    return NULL;
  }
  if (nsize > old && used - old + nsize > limit) return NULL;
  p = realloc(ptr, nsize);
  if (!p) return NULL;
  used = used - old + nsize;
  return p;
}

static int l_memlimit(lua_State *L) {
  limit = lua_isnoneornil(L, 1) ? (size_t)-1 : used + (size_t)luaL_checkinteger(L, 1);
  return 0;
}

static int l_c_heap(lua_State *L) {
  struct mallinfo2 m = mallinfo2();
  lua_pushinteger(L, (lua_Integer)(m.uordblks + m.hblkhd) - (lua_Integer)used);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L = lua_newstate(alloc, NULL);
  int i, rc;
  if (!L || argc < 2) return 2;
  luaL_openlibs(L);
  lua_register(L, "memlimit", l_memlimit);
  lua_register(L, "c_heap", l_c_heap);
  lua_createtable(L, argc, 0);
  for (i = 2; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  rc = luaL_dofile(L, argv[1]);
  if (rc != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  lua_close(L);
  return rc == LUA_OK ? 0 : 1;
}
