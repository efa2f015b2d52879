# nasrank — C11 library + CLI.  Out-of-tree build in $(BUILD).
#   make            build/libnasrank.a and build/nasrank
#   make deps       install the Debian packages the build and tests need
#   make test       build and run every tests/test_*.c, summary line at the end
#   make SANITIZE=1 test   the same under AddressSanitizer + UBSan (build-san/)
#   make bench      run every benches/bench_*.c (JSON lines on stdout)
#   make install PREFIX=/usr/local
CC      ?= cc
PREFIX  ?= /usr/local
VERSION := 0.1.0

ifeq ($(SANITIZE),1)
BUILD   ?= build-san
OPT     ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else
BUILD   ?= build
OPT     ?= -O2 -g -march=native
LDSAN   :=
endif

CPPFLAGS += -Iinclude -Isrc -I/usr/include/x86_64-linux-gnu -D_POSIX_C_SOURCE=200809L \
            -DNR_VERSION=\"$(VERSION)\" -DNR_SOURCE_DIR=\"$(CURDIR)\" -MMD -MP
CFLAGS  += -std=c11 -Wall -Wextra -Wpedantic -Werror=implicit-function-declaration $(OPT)
CAIRO_CFLAGS := $(shell pkg-config --cflags cairo 2>/dev/null)
CPPFLAGS += $(CAIRO_CFLAGS)
LDLIBS  += -ljansson -lcsv -llapacke -lblis -lcairo -lm -lpthread
LDFLAGS += $(LDSAN)

LIB_SRC   := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
BENCH_SRC := $(sort $(wildcard benches/bench_*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:benches/%.c=$(BUILD)/benches/%)
LIB       := $(BUILD)/libnasrank.a
CLI       := $(BUILD)/nasrank

.PHONY: all deps test bench install clean tests benches
all: $(LIB) $(CLI)

# V=1 shows full command lines
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) $(CLI_OBJ) $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  TEST    $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/benches/%: benches/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

tests: $(TEST_BIN) $(CLI)
benches: $(BENCH_BIN) $(CLI)

# Runs every test binary (and the CLI smoke script); sums their "N passed, N failed" lines.
test: tests
	@NASRANK_BIN=$(CURDIR)/$(CLI) NASRANK_SOURCE=$(CURDIR) sh tests/run_all.sh $(TEST_BIN)

bench: benches
	@for b in $(BENCH_BIN); do echo "# $$b" >&2; $$b $(BENCH_ARGS) || exit 1; done

# Debian packages; idempotent and quiet when everything is present.
DEB_PKGS := gcc make pkg-config libblis-dev liblapacke-dev libcsv-dev libjansson-dev libcairo2-dev
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/nasrank
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/nasrank
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libnasrank.a
	install -m 644 include/nasrank.h $(DESTDIR)$(PREFIX)/include/nasrank.h
	install -m 644 include/nasrank/*.h $(DESTDIR)$(PREFIX)/include/nasrank/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' nasrank.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nasrank.pc

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
