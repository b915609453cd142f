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

PLUGINS  := $(notdir $(patsubst %/,%,$(dir $(wildcard plugins/*/plugin.mk))))

.PHONY: all run stop test deps bench format clean unit api plugins plugin \
	check-deps fuzz

all: $(BUILD)/billow $(BUILD)/billow.so plugins

$(BUILD)/obj/%.o: %.c $(wildcard src/*/*.h include/billow/*.h)
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

$(BUILD)/unit_tests: $(UNIT_OBJ) $(CORE_OBJ)
	$(CC) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

$(BUILD)/api_tests: $(API_OBJ)
	$(CC) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

plugins:
	@for p in $(PLUGINS); do \
		$(MAKE) --no-print-directory -f plugins/$$p/plugin.mk \
		    NAME=$$p BUILD=$(BUILD) CC="$(CC)" SAN="$(SAN)" || exit 1; \
	done

deps:
	@scripts/deps.sh

run: deps all
	@scripts/run.sh

stop:
	@scripts/services.sh stop var

test: deps
	@scripts/test.sh

unit: $(BUILD)/unit_tests
	$(BUILD)/unit_tests

bench: deps all
	@scripts/bench.sh

format:
	clang-format -i $(wildcard src/*.c src/*/*.c src/*/*.h include/billow/*.h \
	    tests/*/*.c tests/*/*.h plugins/*/*.c)

clean:
	rm -rf build build-asan
