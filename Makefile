# Billow — GNU make build.
#
#   make            build/billow (CLI), build/billow.so (Kore module), plugins
#   make run        install what is missing, start private services, serve
#   make test       sanitizer build, throwaway services, unit + API tests
#   make stop       stop the services `make run` started
#   make deps       install the Debian packages (idempotent)
#   make bench      wrk against Billow and nginx's fixed 200, same run
#   make format     clang-format every C file

CC	?= cc
SAN	?=
BUILD	?= build

KORE_FLAGS := $(shell cat /usr/share/kore/features 2>/dev/null)
PKGS	:= jansson libpq hiredis lua5.4 libjwt libargon2 libcurl openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith
CFLAGS	+= -std=gnu11 -O2 -g -fPIC $(WARN) -D_GNU_SOURCE \
	   -Isrc -Iinclude $(PKG_CFLAGS) $(SAN)
LDLIBS	+= $(PKG_LIBS) -lpthread -lm $(SAN)

# Everything under src/ but the CLI entry point and the Kore glue is the
# core library: linked into the CLI, the Kore module and the unit tests.
CORE_SRC := $(filter-out src/main.c src/server/kore_glue.c, \
	    $(wildcard src/*/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/src/main.o
GLUE_OBJ := $(BUILD)/obj/src/server/kore_glue.o

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
API_SRC  := $(wildcard tests/api/*.c)
API_OBJ  := $(API_SRC:%.c=$(BUILD)/obj/%.o)

# Plugins: every folder under plugins/ with C files becomes
# $(BUILD)/plugins/NAME.so; tests/plugins/ likewise $(BUILD)/test-plugins/.
# Built with -fvisibility=hidden: a plugin exports only billow_plugin.
PLUGINS      := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard plugins/*/*.c)))))
TEST_PLUGINS := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tests/plugins/*/*.c)))))
PLUGIN_SO    := $(PLUGINS:%=$(BUILD)/plugins/%.so) \
		$(TEST_PLUGINS:%=$(BUILD)/test-plugins/%.so)
PLUGIN_CFLAGS := -std=gnu11 -O2 -g -fPIC -fvisibility=hidden $(WARN) \
		 -D_GNU_SOURCE -Iinclude $(shell pkg-config --cflags jansson) $(SAN) \
		 $(PLUGIN_EXTRA)
PLUGIN_LIBS   := $(shell pkg-config --libs jansson libcurl libcrypto) $(SAN)

.PHONY: all run stop test deps bench format clean unit plugins plugin

all: $(BUILD)/billow $(BUILD)/billow.so plugins

$(BUILD)/obj/%.o: %.c $(wildcard src/*/*.h include/billow/*.h tests/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(GLUE_OBJ): src/server/kore_glue.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KORE_FLAGS) -c $< -o $@

$(BUILD)/billow: $(MAIN_OBJ) $(CORE_OBJ)
	$(CC) -o $@ $^ $(LDLIBS)

# The module resolves Kore's symbols from the kore binary at load time.
$(BUILD)/billow.so: $(GLUE_OBJ) $(CORE_OBJ)
	$(CC) -shared -o $@ $^ $(LDLIBS)

# The plugins' pure arithmetic (no host calls: proration amounts, MRR) is
# linked into the unit tests as well, so tests/unit/test_proration.c and
# test_mrr.c check the very code the plugins run.
UNIT_PLUGIN_OBJ := $(BUILD)/obj/plugins/proration/prorate.o \
    $(BUILD)/obj/plugins/analytics/mrr.o
$(BUILD)/obj/plugins/proration/prorate.o: plugins/proration/prorate.h
$(BUILD)/obj/plugins/analytics/mrr.o: plugins/analytics/analytics.h

$(BUILD)/unit_tests: $(UNIT_OBJ) $(CORE_OBJ) $(UNIT_PLUGIN_OBJ)
	$(CC) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

$(BUILD)/api_tests: $(API_OBJ)
	$(CC) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

plugins: $(PLUGIN_SO)

.SECONDEXPANSION:
$(BUILD)/plugins/%.so: $$(wildcard plugins/$$*/*.c plugins/$$*/*.h) \
    include/billow/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -shared -o $@.tmp $(filter %.c,$^) $(PLUGIN_LIBS)
	@mv -f $@.tmp $@

$(BUILD)/test-plugins/%.so: $$(wildcard tests/plugins/$$*/*.c) \
    include/billow/plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -shared -o $@.tmp $(filter %.c,$^) $(PLUGIN_LIBS)
	@mv -f $@.tmp $@

# make plugin NAME=foo: a new plugin folder that builds, loads and answers
# GET /api/v1/foo.
plugin:
	@test -n "$(NAME)" || { echo "usage: make plugin NAME=name"; exit 2; }
	@scripts/new-plugin.sh "$(NAME)"

deps:
	@scripts/deps.sh

# deps first, then a fresh make: flags from pkg-config and Kore's feature
# file are read when make starts, so on a new machine they exist only after
# deps installed the packages.
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

stop:
	@scripts/services.sh stop var

test: deps
	@scripts/test.sh

unit: $(BUILD)/unit_tests
	$(BUILD)/unit_tests

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh

format:
	clang-format -i $(wildcard src/*.c src/*/*.c src/*/*.h include/billow/*.h \
	    tests/*/*.c tests/*/*.h plugins/*/*.c)

clean:
	rm -rf build build-asan
