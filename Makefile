# luacloud build. `make` builds the C core for Lua 5.4, `make LUA=luajit` (or
# `make luajit`) for LuaJIT/OpenResty, `make test` runs every spec.
LUA ?= lua5.4
CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
DEPS = libxml-2.0 libcurl libcjson libcrypto zlib
SRCS = src/core.c src/buf.c src/encode.c src/sign.c src/xml.c src/json.c src/jsondec.c src/gzip.c src/transport.c src/filter.c src/pager.c
HDRS = src/lc.h

ifeq ($(LUA),luajit)
  LUA_PC = luajit
  OUT = build-luajit
else
  LUA_PC = lua5.4
  OUT = build
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(LUA_PC) $(DEPS))
PKG_LIBS = $(shell pkg-config --libs $(DEPS))
SO = $(OUT)/luacloud/core.so
BUSTED = $(shell command -v busted)

.DEFAULT_GOAL := all
.PHONY: deps demo all luajit test unit bench bench-smoke sanitize clean lint rock install docs fuzz

# Used by the rockspec (build.type = "make"): LuaRocks passes LUA_INCDIR and LUA. The rock is
# built outside the source tree (never into build/ or build-luajit/) and only for Lua 5.4.
ROCK_DIR ?= $(or $(TMPDIR),/tmp)/luacloud-rock-$(shell id -u)
rock:
	@$(LUA) -e 'if _VERSION ~= "Lua 5.4" then io.stderr:write("luacloud: this rock is for Lua 5.4, LuaRocks runs ", _VERSION, ": use luarocks --lua-version=5.4 make luacloud-0.1.0-1.rockspec (LuaJIT/OpenResty: make LUA=luajit)\n") os.exit(1) end'
	@mkdir -p $(ROCK_DIR)/luacloud
	$(CC) $(CFLAGS) -fPIC -std=gnu99 -shared -I$(LUA_INCDIR) $(shell pkg-config --cflags $(DEPS)) -o $(ROCK_DIR)/luacloud/core.so $(SRCS) $(PKG_LIBS)

# The library rock: the engine, catalogs, hooks and transports, without the simulators (luacloud-sim).
install:
	mkdir -p $(LIBDIR)/luacloud $(LUADIR)/luacloud
	cp $(ROCK_DIR)/luacloud/core.so $(LIBDIR)/luacloud/core.so
	cd lua/luacloud && for f in $$(find . -name '*.lua' -not -path './sim/*'); do \
	  mkdir -p "$(LUADIR)/luacloud/$$(dirname $$f)" && cp "$$f" "$(LUADIR)/luacloud/$$f"; done
	if [ -n "$(BINDIR)" ]; then mkdir -p $(BINDIR) && cp bin/luacloud $(BINDIR)/luacloud; fi

# Reference documentation: the per-operation pages (docs/operations, from the catalogs) and the
# LDoc API reference (docs/api, not checked in; from the doc comments, config.ld). CI builds both and
# fails when docs/operations is stale or LDoc warns.
VERSION = 0.1.0
docs:
	$(LUA) bin/luacloud-docs --out docs/operations
	ldoc -q --fatalwarnings --date "luacloud $(VERSION)" .

all: $(SO)

$(SO): $(SRCS) $(HDRS)
	@mkdir -p $(OUT)/luacloud
	$(CC) $(CFLAGS) $(WARN) -std=gnu99 -fPIC -shared $(PKG_CFLAGS) -o $@ $(SRCS) $(PKG_LIBS) $(LDFLAGS)

luajit:
	$(MAKE) LUA=luajit

deps:
	./bin/setup-deps

# All specs: codecs, engine, simulators in-process and over nginx.
test: deps
	$(MAKE) all luajit
	./bin/run-tests

# The quickstart examples against the built-in simulators (started and stopped here).
demo: deps
	$(MAKE) all luajit
	./bin/luacloud-demo

bench: all luajit
	$(LUA) bench/run.lua

# CI: every bench section but simscale/soak at small sizes (about 10 s); fails when a section
# breaks or a figure is missing, not on a MISSED target (CI machines are noisy)
bench-smoke: all luajit
	BENCH_SMOKE=1 $(LUA) bench/run.lua

# The C core under ASan+UBSan (a separate build dir, used by .ci/run).
# Kept out of the tree so tools that search it for core.so find the normal build.
ASAN_DIR ?= /tmp/luacloud-asan
sanitize:
	$(MAKE) ASAN_DIR=$(ASAN_DIR) CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" LDFLAGS="-fsanitize=address,undefined" $(ASAN_DIR)/luacloud/core.so

$(ASAN_DIR)/luacloud/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(ASAN_DIR)/luacloud
	$(CC) $(CFLAGS) $(WARN) -std=gnu99 -fPIC -shared $(shell pkg-config --cflags lua5.4 $(DEPS)) -o $@ $(SRCS) $(PKG_LIBS) $(LDFLAGS)

# libFuzzer targets of every decoder, encoder and signer (fuzz/Makefile; clang and
# libclang-rt-14-dev from Debian): make fuzz [FUZZ_SECONDS=n per target]
fuzz:
	$(MAKE) -f fuzz/Makefile fuzz

lint:
	luacheck lua spec bench examples bin/luacloud bin/luacloud-docs

clean:
	rm -rf build build-luajit $(ASAN_DIR)
