/* libFuzzer harness for the luacloud C core. One binary per target (-DTARGET):
 * a Lua 5.4 state with luacloud.core is made once; each input is handed to the
 * Lua function targets[TARGET] (fuzz/targets.lua) as a string. That function
 * calls the codec under test and checks its properties; any Lua error it
 * raises is a finding (abort), like a crash, a sanitizer report or a leak.
 * Only the C core is instrumented for coverage: the Lua glue is not.
 *
 * Speed: every input must end with as many frees as mallocs (else libFuzzer
 * reruns it and calls LeakSanitizer), which a full collection per input gave
 * at a cost. The state runs the generational collector instead: a young
 * collection frees what the input made, and only when the heap did not come
 * back to its size after the last full collection (an input's object grew
 * old, the stack or the string table grew) is a full collection made. Only
 * the libraries the targets use are opened, so a full collection is short. */
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
static size_t base_bytes; /* heap after the last full collection */
static unsigned long inputs, full_collections; /* LUACLOUD_FUZZ_STATS=1 prints them */

static size_t heap_bytes(void) {
  return (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
}

static void full_collect(void) {
  full_collections++;
  lua_gc(L, LUA_GCCOLLECT, 0);
  base_bytes = heap_bytes();
}

static void open_libs(void) {
  static const luaL_Reg libs[] = {
    { "_G", luaopen_base }, { LUA_LOADLIBNAME, luaopen_package }, { LUA_STRLIBNAME, luaopen_string },
    { LUA_TABLIBNAME, luaopen_table }, { LUA_MATHLIBNAME, luaopen_math }, { LUA_UTF8LIBNAME, luaopen_utf8 },
    { NULL, NULL } };
  const luaL_Reg *l;
  for (l = libs; l->func; l++) { luaL_requiref(L, l->name, l->func, 1); lua_pop(L, 1); }
}

static void close_state(void) {
  if (getenv("LUACLOUD_FUZZ_STATS"))
    fprintf(stderr, "stat::lua_full_collections: %lu of %lu inputs\n", full_collections, inputs);
  if (L) lua_close(L); /* frees every Lua object: what is left afterwards leaked */
  L = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *path = getenv("LUACLOUD_FUZZ_TARGETS");
  (void)argc; (void)argv;
  L = luaL_newstate();
  open_libs();
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
  lua_gc(L, LUA_GCGEN, 0, 0);
  full_collect();
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
  inputs++;
  lua_gc(L, LUA_GCSTEP, 0); /* a young collection */
  if (heap_bytes() != base_bytes) full_collect();
  return 0;
}
