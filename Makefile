# nasrank — C11 library + CLI.  Out-of-tree build in $(BUILD).
#   make            build/libnasrank.a and build/nasrank
#   make deps       install the Debian packages the build and tests need
#   make test       build and run every tests/test_*.c, summary line at the end
#   make SANITIZE=1 test   the same under AddressSanitizer + UBSan (build-san/)
#   make bench      run every benches/bench_*.c (JSON lines on stdout)
#   make fuzz       libFuzzer targets (clang, ASan + UBSan, build-fuzz/), FUZZ_SECONDS each
#   make mutants    deliberate bugs in the backward passes must fail the gradient tests
#   make memcheck   the CLI smoke tests with the CLI under valgrind (build-memcheck/)
#   make install PREFIX=/usr/local
CC      ?= cc
PREFIX  ?= /usr/local
VERSION := 0.1.0

ifeq ($(SANITIZE),1)
BUILD   ?= build-san
OPT     ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow
LDSAN   := -fsanitize=address,undefined,float-cast-overflow
else
BUILD   ?= build
# Portable x86-64 code: AVX-512 kernels are chosen at run time (src/ops/cpu.h), so a binary
# runs on any machine.  NATIVE=1 adds -march=native (the same results; the compiler may
# vectorise other loops for this CPU).
OPT     ?= -O2 -g $(if $(NATIVE),-march=native)
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

.PHONY: all deps test bench install clean tests benches mutants
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

$(BUILD)/tests/%: tests/%.c $(LIB) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  TEST    $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/benches/%: benches/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

tests: $(TEST_BIN) $(BENCH_BIN) $(CLI)  # benches too, so a bench that no longer compiles fails CI
benches: $(BENCH_BIN) $(CLI)

# Runs every test binary (and the CLI smoke script); sums their "N passed, N failed" lines.
# The kernel tests run a second time on the portable kernels (NASRANK_KERNELS=portable).
PORTABLE_TESTS := $(addprefix $(BUILD)/tests/,test_ops test_backward test_graph test_net test_proxies)
test: tests
	@NASRANK_BIN=$(CURDIR)/$(CLI) NASRANK_SOURCE=$(CURDIR) NASRANK_PORTABLE_TESTS="$(PORTABLE_TESTS)" \
	  sh tests/run_all.sh $(TEST_BIN)

# Deliberately broken backward kernels must make tests/test_backward.c fail (not in `test`).
mutants: $(LIB)
	@BUILD=$(CURDIR)/$(BUILD) sh tests/mutants.sh

bench: benches
	@for b in $(BENCH_BIN); do echo "# $$b" >&2; $$b $(BENCH_ARGS) || exit 1; done

# Debian packages; idempotent and quiet when everything is present.
DEB_PKGS := gcc make pkg-config libblis-dev liblapacke-dev libcsv-dev libjansson-dev libcairo2-dev \
            clang libfuzzer-14-dev libclang-rt-14-dev valgrind
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

# ---- fuzzing: libFuzzer targets tests/fuzz/fuzz_*.c, built with clang + ASan + UBSan -------
# The library is rebuilt in build-fuzz/ with coverage instrumentation; each target then runs
# FUZZ_SECONDS on a scratch corpus seeded from tests/fuzz/corpus/<target>/ (the committed seeds,
# crash reproducers included, are replayed first).  Any crash, leak, UB or timeout fails;
# the input that caused it is left in build-fuzz/crashes/.
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

.PHONY: fuzz fuzz-build memcheck
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT="$(FUZZ_OPT) -fsanitize=fuzzer-no-link" \
	  $(FUZZ_BUILD)/libnasrank.a $(FUZZ_BUILD)/src/cli/cli_rows.o
	@$(MAKE) --no-print-directory $(FUZZ_BIN)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_BUILD)/libnasrank.a $(FUZZ_BUILD)/src/cli/cli_rows.o
	@$(if $(V),,echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -D_GNU_SOURCE -std=c11 -Wall -Wextra -Wpedantic $(FUZZ_OPT) -fsanitize=fuzzer \
	  $< $(FUZZ_BUILD)/src/cli/cli_rows.o $(FUZZ_BUILD)/libnasrank.a $(LDLIBS) -o $@

fuzz: fuzz-build
	@mkdir -p $(FUZZ_BUILD)/crashes
	@fail=0; total=0; \
	for b in $(FUZZ_BIN); do \
	  t=$$(basename $$b); mkdir -p $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t; \
	  case $$t in fuzz_cifar) ml=12400;; fuzz_table|fuzz_model) ml=16384;; *) ml=4096;; esac; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -max_len=$$ml -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t- $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t \
	    >$(FUZZ_BUILD)/$$t.log 2>&1; rc=$$?; \
	  execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/$$t.log); \
	  rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_BUILD)/$$t.log); \
	  if [ $$rc -ne 0 ]; then fail=1; tail -n 60 $(FUZZ_BUILD)/$$t.log; echo "FAIL $$t (exit $$rc; log $(FUZZ_BUILD)/$$t.log)"; \
	  else echo "ok   $$t: $$execs execs, $$rate execs/s, $(FUZZ_SECONDS) s, 0 crashes"; fi; \
	  total=$$((total + $${execs:-0})); \
	done; \
	echo "fuzz: $$total execs in all"; exit $$fail

# ---- memcheck: the CLI smoke scripts with every CLI run under valgrind --------------------
# A build without -march=native (valgrind knows no AVX-512), and NASRANK_BIN pointing at a
# wrapper that runs it under memcheck; each run logs to build-memcheck/vg/ (quiet: an empty log
# is a clean run).  Leaks count when definite or indirect (BLIS keeps its pools until exit).
# The smoke tests by default (~40 min); the 654-check bad-input script under valgrind takes
# about an hour: MEMCHECK_SCRIPTS="tests/cli_smoke.sh tests/cli_bad_inputs.sh".
MEMCHECK_BUILD   := build-memcheck
MEMCHECK_SCRIPTS ?= tests/cli_smoke.sh
memcheck:
	@$(MAKE) --no-print-directory BUILD=$(MEMCHECK_BUILD) OPT="-O1 -g" $(MEMCHECK_BUILD)/nasrank
	@rm -rf $(MEMCHECK_BUILD)/vg && mkdir -p $(MEMCHECK_BUILD)/vg
	@printf '#!/bin/sh\nexec valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --log-file=$(CURDIR)/$(MEMCHECK_BUILD)/vg/%%p.log $(CURDIR)/$(MEMCHECK_BUILD)/nasrank "$$@"\n' \
	  >$(MEMCHECK_BUILD)/nasrank-vg && chmod +x $(MEMCHECK_BUILD)/nasrank-vg
	@fail=0; for s in $(MEMCHECK_SCRIPTS); do \
	  NASRANK_BIN=$(CURDIR)/$(MEMCHECK_BUILD)/nasrank-vg NASRANK_SOURCE=$(CURDIR) sh $$s >$(MEMCHECK_BUILD)/$$(basename $$s).log 2>&1 || fail=1; \
	  echo "$$s: $$(tail -n 1 $(MEMCHECK_BUILD)/$$(basename $$s).log)"; \
	done; \
	runs=$$(ls $(MEMCHECK_BUILD)/vg | wc -l); dirty=$$(find $(MEMCHECK_BUILD)/vg -type f -size +0 | wc -l); \
	echo "memcheck: $$runs CLI runs under valgrind, $$dirty with errors"; \
	if [ $$dirty -ne 0 ]; then find $(MEMCHECK_BUILD)/vg -type f -size +0 | head -n 3 | xargs cat | head -n 80; fail=1; fi; \
	exit $$fail

clean:
	rm -rf build build-san $(FUZZ_BUILD) $(MEMCHECK_BUILD)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
