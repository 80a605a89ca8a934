# luacloud build. `make` builds the C core for Lua 5.4, `make LUA=luajit` (or
# `make luajit`) for LuaJIT/OpenResty, `make test` runs every spec.
LUA ?= lua5.4
CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
DEPS = libxml-2.0 libcurl libcjson libcrypto zlib
SRCS = src/core.c src/buf.c src/encode.c src/sign.c src/xml.c src/json.c src/jsondec.c src/gzip.c src/transport.c
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
.PHONY: deps demo all luajit test unit bench sanitize clean lint rock install

# Used by the rockspec (build.type = "make"): LuaRocks passes LUA_INCDIR.
rock:
	@mkdir -p build/luacloud
	$(CC) $(CFLAGS) -fPIC -std=gnu99 -shared -I$(LUA_INCDIR) $(shell pkg-config --cflags $(DEPS)) -o build/luacloud/core.so $(SRCS) $(PKG_LIBS)

install:
	mkdir -p $(LIBDIR)/luacloud $(LUADIR)
	cp build/luacloud/core.so $(LIBDIR)/luacloud/core.so
	cp -R lua/luacloud $(LUADIR)/
	if [ -n "$(BINDIR)" ]; then mkdir -p $(BINDIR) && cp bin/luacloud $(BINDIR)/luacloud; fi

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

# The C core under ASan+UBSan (a separate build dir, used by .ci/run).
# Kept out of the tree so tools that search it for core.so find the normal build.
ASAN_DIR ?= /tmp/luacloud-asan
sanitize:
	$(MAKE) ASAN_DIR=$(ASAN_DIR) CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" LDFLAGS="-fsanitize=address,undefined" $(ASAN_DIR)/luacloud/core.so

$(ASAN_DIR)/luacloud/core.so: $(SRCS) $(HDRS)
	@mkdir -p $(ASAN_DIR)/luacloud
	$(CC) $(CFLAGS) $(WARN) -std=gnu99 -fPIC -shared $(shell pkg-config --cflags lua5.4 $(DEPS)) -o $@ $(SRCS) $(PKG_LIBS) $(LDFLAGS)

lint:
	luacheck lua spec bench examples bin/luacloud bin/luacloud-docs

clean:
	rm -rf build build-luajit $(ASAN_DIR)
