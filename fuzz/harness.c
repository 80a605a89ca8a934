/* libFuzzer harness for the luacloud C core. One binary per target (-DTARGET):
 * a Lua 5.4 state with luacloud.core is made once; each input is handed to the
 * Lua function targets[TARGET] (fuzz/targets.lua) as a string. That function
 * calls the codec under test and checks its properties; any Lua error it
 * raises is a finding (abort), like a crash, a sanitizer report or a leak.
 * Only the C core is instrumented for coverage: the Lua glue is not. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_luacloud_core(lua_State *L);

#ifndef TARGET
#error "build with -DTARGET=\"name\""
#endif
#ifndef TARGETS_LUA
#define TARGETS_LUA "fuzz/targets.lua"
#endif

static lua_State *L;
static int fn_ref = LUA_NOREF;

static void close_state(void) {
  if (L) lua_close(L); /* frees every Lua object: what is left afterwards leaked */
  L = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *path = getenv("LUACLOUD_FUZZ_TARGETS");
  (void)argc; (void)argv;
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "luacloud.core", luaopen_luacloud_core, 0);
  lua_pop(L, 1);
  if (luaL_dofile(L, path ? path : TARGETS_LUA) != LUA_OK) {
    fprintf(stderr, "fuzz: cannot load %s: %s\n", path ? path : TARGETS_LUA, lua_tostring(L, -1));
    exit(2);
  }
  lua_getfield(L, -1, TARGET);
  if (!lua_isfunction(L, -1)) { fprintf(stderr, "fuzz: no target '%s'\n", TARGET); exit(2); }
  fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  atexit(close_state);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz target %s: %s\n", TARGET, lua_tostring(L, -1));
    abort();
  }
  lua_settop(L, 0);
  /* free this input's garbage now: libFuzzer's leak check runs (slowly) after
   * any input that left more allocations than frees */
  lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
