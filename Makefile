# tandem: plain GNU make. `make help` lists the targets.
#   make run   deps, build, start a local cluster on loopback
#   make test  deps, build, every test (what CI runs)
#   make asan  everything built and tested with ASan+UBSan

CC        ?= cc
CLANG     ?= clang
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
BIN       ?= bin
FUZZ_SECONDS ?= 60
# `make install-systemd` (docs/SYSTEMD.md): Debian's vendor unit directory, so
# that /etc/systemd/system stays the administrator's (drop-ins, overrides).
SYSTEMD_UNITDIR ?= /lib/systemd/system
SYSUSERSDIR     ?= /usr/lib/sysusers.d
PKGS      := libuv libzmq hiredis libmicrohttpd

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wcast-qual
ifeq ($(CI),true)
WERROR := -Werror
endif
WERROR ?=
CFLAGS  ?= -O2 -g
SRC_DIRS := lib workers statestore frontend clusterctl lac
# Reported in registrations and `--version`; rolling upgrades run two at once.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) $(WERROR) $(SRC_DIRS:%=-I%) -MMD -MP
CFLAGS  += -DTANDEM_VERSION='"$(VERSION)"'
# The objects that embed VERSION are rebuilt when it changes (a commit, an
# edit): they depend on a stamp that holds it, rewritten only then. Without
# this a build after a commit would report the commit before.
VERSION_STAMP := $(BUILD)/version.stamp
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = '$(VERSION)' ] || echo '$(VERSION)' >$(VERSION_STAMP); })
CFLAGS  += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS  += $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
endif

# Everything but each process's main.c goes into one static library, so
# unit tests link exactly the modules they exercise.
LIB_SRCS  := $(filter-out %/main.c,$(wildcard $(SRC_DIRS:%=%/*.c)))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBTANDEM := $(BUILD)/libtandem.a

# Operator binaries: tools/<name>.c -> bin/tandem-<name>
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tools/%.c=$(BIN)/tandem-%)
# Processes: <dir>/main.c + libtandem.a -> bin/tandem-<name>
PROC_BINS := $(BIN)/tandem-worker $(if $(wildcard frontend/main.c),$(BIN)/tandem-frontend) \
             $(if $(wildcard lac/main.c),$(BIN)/tandem-lac) \
             $(if $(wildcard clusterctl/main.c),$(BIN)/clusterctl)
BINS      := $(TOOL_BINS) $(PROC_BINS)

# Unit tests: tests/unit/test_<module>.c (cmocka)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Test helpers: tests/tools/<name>.c -> build/tests/tools/<name>
TTOOL_SRCS := $(wildcard tests/tools/*.c)
TTOOL_BINS := $(TTOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)
# Fuzz targets: tests/fuzz/fuzz_<decoder>.c; the same sources replay the saved
# corpus and crash inputs through tests/fuzz/standalone.c in every test run.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)

.SECONDARY:

.PHONY: all test check check-unit check-fuzz-replay check-docs check-interop check-integration test-e2e check-e2e check-pair asan fuzz \
        fuzz-short install install-systemd clean run deps format format-check help bench test-pair

all: $(BINS)

help:
	@echo "targets: all test check test-e2e test-pair asan fuzz fuzz-short install install-systemd clean run deps format format-check"

VERSION_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(shell grep -l TANDEM_VERSION $(SRC_DIRS:%=%/*.c)))
$(VERSION_OBJS): $(VERSION_STAMP)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBTANDEM): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BIN)/tandem-%: $(BUILD)/obj/tools/%.o $(LIBTANDEM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/tandem-worker: $(BUILD)/obj/workers/main.o $(LIBTANDEM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/tandem-frontend: $(BUILD)/obj/frontend/main.o $(LIBTANDEM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/tandem-lac: $(BUILD)/obj/lac/main.o $(LIBTANDEM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/clusterctl: $(BUILD)/obj/clusterctl/main.o $(LIBTANDEM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(LIBTANDEM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBTANDEM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/replay_%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/standalone.o $(LIBTANDEM)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# `test` is the README's and CI's command: install deps, then build and check.
test: deps
	$(MAKE) check

check: check-unit check-fuzz-replay check-docs check-interop check-integration check-e2e check-pair
	@echo "tandem: all test suites passed"

check-unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

check-fuzz-replay: $(REPLAY_BINS)
	@tests/fuzz/replay.sh $(BUILD)/tests $(FUZZ_NAMES)

check-interop: all $(TTOOL_BINS)
	@BIN=$(abspath $(BIN)) TTOOLS=$(abspath $(BUILD)/tests/tools) tests/interop/run.sh

check-integration: all $(TTOOL_BINS)
	@BIN=$(abspath $(BIN)) TTOOLS=$(abspath $(BUILD)/tests/tools) tests/integration/run.sh

# PPP end to end with real pppd and xl2tpd: needs kernel PPP, so it runs
# inside User-Mode Linux (tests/e2e/uml.sh); one guest boot per
# tests/e2e/test_*.sh, each bounded by UML_TIMEOUT.
test-e2e: all
	@BIN=$(abspath $(BIN)) tests/e2e/run.sh

# The redundant LNS pair (issue 7): two hosts as network namespaces,
# keepalived VIP, Redis primary/replica with three Sentinels; lns-a fails
# under load, lns-b takes over, lns-a returns as standby; a rolling upgrade
# from the previous release under load. Needs root; about 80 s (tests/pair/).
test-pair: all
	@BIN=$(abspath $(BIN)) tests/pair/run.sh

# In `make check` too, except for sanitizer builds (timing: VRRP and
# Sentinel time-outs are tuned for a normal build) and with PAIR=0.
check-pair: all
ifeq ($(SAN)$(PAIR),)
	@BIN=$(abspath $(BIN)) tests/pair/run.sh
else
	@echo "pair: skipped (SAN=$(SAN) PAIR=$(PAIR))"
endif

# Every command in docs/OPERATIONS.md is one that tests/pair runs.
check-docs:
	@tests/pair/doc_commands.sh docs/OPERATIONS.md tests/pair

# In `make check` too, except for sanitizer builds (ASan's shadow memory
# does not fit a 512 MB guest) and with E2E=0.
check-e2e: all
ifeq ($(SAN)$(E2E),)
	@BIN=$(abspath $(BIN)) tests/e2e/run.sh
else
	@echo "e2e: skipped (SAN=$(SAN) E2E=$(E2E))"
endif

asan:
	$(MAKE) deps
	$(MAKE) BUILD=build/asan BIN=build/asan/bin SAN=1 check

# libFuzzer: clang, ASan+UBSan. `make fuzz` runs each target FUZZ_SECONDS;
# any crash input is copied to tests/fuzz/regress/<target>/ to be kept.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Ilib -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer
# lib/metrics_http.c and lib/redis_locate.c do I/O on libuv and hiredis:
# not pure, not fuzzed, and the fuzz build links neither library.
FUZZ_LIB_SRCS := $(filter-out lib/metrics_http.c lib/redis_locate.c,$(wildcard lib/*.c))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(wildcard lib/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS)

fuzz: $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
	@tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

# Benchmarks measure, tests assert: figures go to bench/results.txt and
# docs/BENCH.md says how they were made.
bench: all $(BUILD)/tests/tools/udp_sink
	@BIN=$(abspath $(BIN)) bench/run.sh
	@BIN=$(abspath $(BIN)) bench/idle.sh
	@BIN=$(abspath $(BIN)) bench/takeover.sh
	@BIN=$(abspath $(BIN)) bench/l2tpns.sh
	@BIN=$(abspath $(BIN)) TTOOLS=$(abspath $(BUILD)/tests/tools) bench/data.sh

fuzz-short:
	$(MAKE) fuzz FUZZ_SECONDS=10

# Binaries, and keepalived's health check of the local frontend
# (deploy/keepalived/keepalived.conf.example names its path).
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/tandem
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 deploy/keepalived/tandem-check-frontend $(DESTDIR)$(PREFIX)/libexec/tandem/

# The systemd units and the sysusers.d entry of the frontend's user; the
# units' /usr/local/bin/ becomes $(PREFIX)/bin/. Then, on the host:
# systemd-sysusers && systemctl daemon-reload.
SYSTEMD_UNITS := $(wildcard deploy/systemd/*.service deploy/systemd/*.target)
install-systemd:
	install -d $(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	for u in $(SYSTEMD_UNITS); do \
		d="$(DESTDIR)$(SYSTEMD_UNITDIR)/$${u##*/}"; \
		sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' "$$u" >"$$d" && \
			chmod 0644 "$$d" || exit 1; \
	done
	install -m 0644 deploy/systemd/tandem.sysusers.conf \
		$(DESTDIR)$(SYSUSERSDIR)/tandem.conf

deps:
	@deploy/install-deps.sh

run: deps all
	@deploy/run-local.sh

FORMAT_FILES = $(shell find $(SRC_DIRS) tools tests -name '*.[ch]' 2>/dev/null | sort)
format:
	@clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "format-check: ok"

clean:
	rm -rf build $(BIN)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
