# cairn - Makefile
#
#   make            libcairn.a and the cairn program (in build/)
#   make check      install missing packages, build, run every test suite
#   make check-layering  the include rules of the tree (run by make check)
#   make asan       the test suites under AddressSanitizer + UBSan
#   make demo       the guided tour on the built-in development database
#   make bench      benchmarks against peers, as ratios
#   make install    PREFIX=/usr/local DESTDIR= (binary, library, headers,
#                   pkg-config file, man page, bash and zsh completions)
#   make man        the manual page from the source tree (man -l doc/cairn.1)
#   make clean
#
# Project flags live in CAIRN_CFLAGS; the user's CFLAGS, CPPFLAGS and
# LDFLAGS are appended, never overwritten.  SANITIZE=address,undefined
# builds with sanitizers (make asan does this in build-asan/).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
BUILD ?= build
PKGS = libgit2 libpq yaml-0.1 libcurl jansson libcrypto zlib
VERSION = $(shell sed -n 's/^#define CAIRN_VERSION "\(.*\)"/\1/p' include/cairn/common.h)

CAIRN_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -Wno-format-nonliteral -Wstrict-prototypes \
	-Wmissing-prototypes -fvisibility=hidden -g -O2 -pthread \
	-Iinclude -Isrc
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libpg_query (Debian libpg-query-dev: PostgreSQL's parser as a library)
# ships no pkg-config file; its header is <pg_query.h> in the default
# include path.
PG_QUERY_LIBS = -lpg_query
PKG_LIBS += $(PG_QUERY_LIBS)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

ifneq ($(SANITIZE),)
CAIRN_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=$(SANITIZE) \
	-fno-omit-frame-pointer -O1
SAN_LDFLAGS = -fsanitize=$(SANITIZE)
endif

ALL_CFLAGS = $(CAIRN_CFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_LDFLAGS) -pthread $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS) -ldl -lm

LIB_SRC = $(sort $(wildcard src/*.c) $(wildcard src/util/*.c) \
	$(wildcard src/engine/*.c) $(wildcard src/git/*.c) $(wildcard hooks/*.c))
CLI_SRC = $(sort $(wildcard src/cli/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/check_*.c))
INTEG_SRC = $(sort $(wildcard tests/integration/check_*.c))
TESTLIB_SRC = $(sort $(wildcard tests/lib/*.c))

LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTLIB_OBJ = $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN = $(UNIT_SRC:%.c=$(BUILD)/%)
INTEG_BIN = $(INTEG_SRC:%.c=$(BUILD)/%)
DEPS = $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TESTLIB_OBJ:.o=.d)

LIB = $(BUILD)/libcairn.a
BIN = $(BUILD)/cairn

.PHONY: all check check-run check-layering asan demo bench stress install \
	uninstall clean deps tests fuzz format plugins man

all: $(LIB) $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The program exports no symbols (src/cli/cairn.map): plugins reach cairn
# only through their function table.
$(BIN): $(CLI_OBJ) $(LIB) src/cli/cairn.map
	$(CC) $(ALL_LDFLAGS) -Wl,--version-script=src/cli/cairn.map -o $@ \
		$(CLI_OBJ) $(LIB) $(LIBS_ALL)

$(BUILD)/tests/%: tests/%.c $(TESTLIB_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/lib -o $@ $< \
		$(TESTLIB_OBJ) $(LIB) $(ALL_LDFLAGS) $(CHECK_LIBS) $(LIBS_ALL)

# Fuzz targets: built plainly with every test build (so they never rot;
# each runs its parser over the files named on its command line), and
# as libFuzzer targets by `make fuzz` when clang is installed.
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN = $(FUZZ_SRC:%.c=$(BUILD)/%)
FUZZ_SECONDS ?= 30

$(BUILD)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_main.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(LIBS_ALL)

fuzz: deps
	@command -v clang >/dev/null 2>&1 || { echo "make fuzz needs clang (apt-get install clang)"; exit 2; }
	@mkdir -p $(BUILD)/fuzz
	@for t in $(FUZZ_SRC); do \
		n=$$(basename $$t .c); \
		echo "== $$n ($(FUZZ_SECONDS) s)"; \
		clang -DCAIRN_LIBFUZZER -fsanitize=fuzzer,address,undefined -g -O1 \
			-std=c11 -D_GNU_SOURCE -Iinclude -Isrc $(PKG_CFLAGS) $$t \
			$(LIB_SRC) -o $(BUILD)/fuzz/$$n $(PKG_LIBS) $(PGQUERY_LIBS) -ldl -lm -pthread && \
		mkdir -p $(BUILD)/fuzz/$$n.corpus && \
		$(BUILD)/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/$$n.corpus || exit 1; \
	done

tests: all $(UNIT_BIN) $(INTEG_BIN) $(FUZZ_BIN) plugins

deps:
	@scripts/install-deps

# `make check` installs what is missing first, then re-enters make so the
# pkg-config flags are computed with the packages present.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: check-layering tests
	@BUILD=$(BUILD) tests/run $(UNIT_BIN) $(INTEG_BIN)

# The include rules of the tree (util is the floor, nothing includes the
# CLI, hooks see only the public headers): scripts/check-layering.
check-layering:
	@scripts/check-layering

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
		SANITIZE=address,undefined check-run

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench

stress: deps
	@$(MAKE) --no-print-directory all
	@scripts/stress

# Plugins (the example plugin) are shared objects built from the public
# headers only.
PLUGIN_SRC = $(sort $(wildcard examples/plugin/*.c))
PLUGIN_SO = $(PLUGIN_SRC:examples/plugin/%.c=$(BUILD)/plugins/%.so)
plugins: $(PLUGIN_SO)
$(BUILD)/plugins/%.so: examples/plugin/%.c include/cairn/*.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $< $(ALL_LDFLAGS)

# Test plugins (tests/plugins/): built the same way, from the public
# headers only.
TEST_PLUGIN_SRC = $(sort $(wildcard tests/plugins/*.c))
TEST_PLUGIN_SO = $(TEST_PLUGIN_SRC:%.c=$(BUILD)/%.so)
plugins: $(TEST_PLUGIN_SO)
$(BUILD)/tests/plugins/%.so: tests/plugins/%.c include/cairn/*.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $< $(ALL_LDFLAGS)

cairn.pc: Makefile
	printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: cairn\nDescription: git-integrated PostgreSQL migrations with hooks and audit\nVersion: %s\nRequires.private: %s\nLibs: -L$${libdir} -lcairn\nLibs.private: $(PG_QUERY_LIBS) -ldl -lm\nCflags: -I$${includedir}\n' \
		'$(PREFIX)' '$(LIBDIR)' '$(INCLUDEDIR)' '$(VERSION)' '$(PKGS)' > $@

install: all cairn.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR)/cairn $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/cairn
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libcairn.a
	install -m 644 include/cairn/*.h $(DESTDIR)$(INCLUDEDIR)/cairn/
	install -m 644 cairn.pc $(DESTDIR)$(PKGCONFIGDIR)/cairn.pc
	if [ -f doc/cairn.1 ]; then install -m 644 doc/cairn.1 $(DESTDIR)$(MANDIR)/man1/cairn.1; fi
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 644 completions/cairn.bash $(DESTDIR)$(BASHCOMPDIR)/cairn
	install -m 644 completions/_cairn $(DESTDIR)$(ZSHCOMPDIR)/_cairn

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/cairn $(DESTDIR)$(LIBDIR)/libcairn.a \
		$(DESTDIR)$(PKGCONFIGDIR)/cairn.pc $(DESTDIR)$(MANDIR)/man1/cairn.1 \
		$(DESTDIR)$(BASHCOMPDIR)/cairn $(DESTDIR)$(ZSHCOMPDIR)/_cairn
	rm -rf $(DESTDIR)$(INCLUDEDIR)/cairn

man:
	man -l doc/cairn.1

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) src/*.h src/*/*.h include/cairn/*.h

clean:
	rm -rf build build-asan cairn.pc

-include $(DEPS)
