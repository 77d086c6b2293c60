# libcodex_app_server — build, test, demo, benchmark, install.
#   make demo    build everything, install the pinned codex runtime, run the C demo offline
#   make test    every test (Rust unit + integration, C programs, header and symbol checks)
#   make test-repeat N=10   the C/C++ and Rust tests N times over: shows the suite does not flake

SHELL    := /bin/bash
CARGO    ?= cargo
CC       ?= cc
CXX      ?= c++
PREFIX   ?= /usr/local
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -pedantic
BUILD    := build
LIBDIR   := target/release
STATIC   := $(LIBDIR)/libcodex_app_server.a
SHARED   := $(LIBDIR)/libcodex_app_server.so
SONAME   := libcodex_app_server.so.0.1
C_LIBS   := -lpthread -ldl -lm
FAKE     := $(CURDIR)/tests/fake_app_server/fake_app_server.py

C_TESTS  := concurrent_turns_test bad_input_test failure_test callbacks_test pool_test

.PHONY: all lib header runtime test test-repeat rust-test c-test example-test go-test symbols demo bench bench-transports bench-startup bench-soak bench-pool install clean
DEMO_PREFIX := $(CURDIR)/$(BUILD)/prefix

all: lib

lib:
	$(CARGO) build --release

# Regenerates include/codex_app_server.h from the Rust sources (commit the result).
header:
	CODEX_REGENERATE_HEADER=1 $(CARGO) build --release

runtime:
	@./scripts/install-runtime.sh >/dev/null

$(BUILD):
	mkdir -p $(BUILD)

# C programs link the static library, so they run without LD_LIBRARY_PATH.
$(BUILD)/%: tests/c/%.c tests/c/test_util.h include/codex_app_server.h lib | $(BUILD)
	$(CC) $(WARN) $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

rust-test: | $(BUILD)
	@set -o pipefail; $(CARGO) test --release 2>&1 | tee $(BUILD)/rust-test.log

symbols: lib
	@bad=$$(nm -D --defined-only $(SHARED) | awk '{print $$3}' | grep -v '^codex_' || true); \
	if [ -n "$$bad" ]; then echo "exported symbols without the codex_ prefix:"; echo "$$bad"; exit 1; fi; \
	readelf -d $(SHARED) | grep -q 'SONAME.*\[$(SONAME)\]' || { echo "soname is not $(SONAME)"; exit 1; }; \
	echo "symbols: $$(nm -D --defined-only $(SHARED) | wc -l) exported, all codex_*; soname $(SONAME)"

# The C tests run under valgrind (memory errors in C or Rust fail them) when it is installed.
VALGRIND := $(shell command -v valgrind >/dev/null 2>&1 && echo valgrind --error-exitcode=99 --quiet)

# The C++ layer (header-only), built with the same warnings.
$(BUILD)/raii_test: tests/cpp/raii_test.cpp include/codex_app_server.hpp include/codex_app_server.h lib | $(BUILD)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

$(BUILD)/pool_cpp_test: tests/cpp/pool_test.cpp include/codex_app_server.hpp include/codex_app_server.h lib | $(BUILD)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

c-test: $(addprefix $(BUILD)/,$(C_TESTS)) $(BUILD)/raii_test $(BUILD)/pool_cpp_test
	@echo "c tests run with: $(or $(VALGRIND),no valgrind)"
	@pass=0; fail=0; \
	for t in $(C_TESTS) raii_test pool_cpp_test; do \
	  if CODEX_FAKE_SERVER=$(FAKE) timeout 300 $(VALGRIND) $(BUILD)/$$t; then pass=$$((pass+1)); \
	  else echo "FAILED: $$t"; fail=$$((fail+1)); fi; \
	done; \
	echo "c and c++ tests: $$pass passed, $$fail failed"; echo $$pass > $(BUILD)/c-test.passed; [ $$fail -eq 0 ]

# The C/C++ tests (under valgrind when installed) and the Rust tests, N rounds (default 10),
# each round's two halves side by side; one line per round, then "test-repeat: K of N rounds
# passed". Every round runs; any failed round fails the target. Logs: $(BUILD)/test-repeat/.
N ?= 10
test-repeat: $(addprefix $(BUILD)/,$(C_TESTS)) $(BUILD)/raii_test $(BUILD)/pool_cpp_test runtime
	@CARGO="$(CARGO)" VALGRIND="$(VALGRIND)" FAKE="$(FAKE)" BUILD="$(BUILD)" \
	  C_TESTS="$(C_TESTS) raii_test pool_cpp_test" ./scripts/test-repeat.sh $(N)

# The Go binding (cgo, linking the static library) against the scripted fake.
go-test: lib | $(BUILD)
	@set -o pipefail; cd bindings/go && go vet ./... && go test -count=1 -v ./... 2>&1 | tee $(CURDIR)/$(BUILD)/go-test.log

# Runs everything; the last line sums the passed tests of every part.
test: runtime rust-test symbols c-test example-test go-test
	@rust=$$(awk '/^test result: ok\./ {n += $$4} END {print n}' $(BUILD)/rust-test.log); \
	  go=$$(grep -c '^--- PASS' $(BUILD)/go-test.log); \
	  echo "total: $$((rust + $$(cat $(BUILD)/c-test.passed) + 3 + go)) passed, 0 failed"

# Installs the header, both libraries (with soname links) and a pkg-config file.
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/codex_app_server.h include/codex_app_server.hpp $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/$(SONAME).0
	ln -sf $(SONAME).0 $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libcodex_app_server.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e "s|@VERSION@|$$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)|" \
	    codex_app_server.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/codex_app_server.pc

# The examples, built against the installed header and shared library as a user would.
EXAMPLES := concurrent_turns approvals callbacks
$(addprefix $(BUILD)/,$(EXAMPLES)): $(BUILD)/%: examples/c/%.c lib | $(BUILD)
	$(MAKE) --no-print-directory install PREFIX=$(DEMO_PREFIX) >/dev/null
	$(CC) $(WARN) $(CFLAGS) -I$(DEMO_PREFIX)/include -o $@ $< -L$(DEMO_PREFIX)/lib \
	    -Wl,-rpath,$(DEMO_PREFIX)/lib -lcodex_app_server -lpthread

demo: $(BUILD)/concurrent_turns
	@./scripts/demo.sh

# The examples against the real codex and the mock model: the approval is answered "y" at the
# prompt, so the command must run; the callback example must stream both turns.
example-test: $(addprefix $(BUILD)/,$(EXAMPLES)) runtime
	@out=$$(printf 'y\n' | ./scripts/run-offline.sh examples/approvals_script.json \
	    $(CURDIR)/$(BUILD)/approvals "Show me that approvals work" 2>&1); \
	  echo "$$out" | grep -q '"aggregatedOutput":"approved-command-ran' \
	  || { echo "$$out"; echo "FAILED: approvals example"; exit 1; }; \
	  out=$$(printf 'n\n' | ./scripts/run-offline.sh examples/approvals_script.json \
	    $(CURDIR)/$(BUILD)/approvals "Show me that approvals work" 2>&1); \
	  echo "$$out" | grep -q '"status":"declined"' || { echo "$$out"; echo "FAILED: approvals example (n)"; exit 1; }; \
	  out=$$(./scripts/run-offline.sh examples/approvals_script.json $(CURDIR)/$(BUILD)/callbacks \
	    "First of two" "Second of two" 2>&1); \
	  echo "$$out" | grep -q '^one: completed — The first turn streams' \
	  && echo "$$out" | grep -q '^two: completed — The second one streams' \
	  || { echo "$$out"; echo "FAILED: callbacks example"; exit 1; }; \
	  echo "examples: 3 passed (approvals y, approvals n, callbacks) against the real codex"

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

# The event benchmark, every figure in one run (bench/run.sh): throughput of the flood at 1 to
# 10,000 concurrent turns, polling and with callbacks, beside a serde_json::Value parse (the
# floor) and the raw pipe; delivery latency at a paced 100,000 events/s; idle-turn memory and
# threads; the official Python SDK on the same fake when it is installed (make bench-startup).
SDK_DIR := $(CURDIR)/.runtime/python-sdk
bench: lib | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/bench_events bench/bench_events.c $(STATIC) $(C_LIBS)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -o $(BUILD)/paced_server bench/paced_server.c
	$(CARGO) build --release --example flood_floor
	@./bench/run.sh $(BUILD)/bench_events $(LIBDIR)/examples/flood_floor $(CURDIR)/$(BUILD)/paced_server $(FAKE) $(SDK_DIR)

# The flood over stdio, ws:// and unix:// (bench/ws_flood_server.rs) side by side.
bench-transports: lib | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/bench_events bench/bench_events.c $(STATIC) $(C_LIBS)
	$(CARGO) build --release --example ws_flood_server
	@./bench/transports.sh $(BUILD)/bench_events $(FAKE) $(LIBDIR)/examples/ws_flood_server

# Soak: 10,000 short turns on one client; RSS, fds and threads must stay flat.
bench-soak: lib | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/soak bench/soak.c $(STATIC) $(C_LIBS)
	$(BUILD)/soak $(FAKE) 10000 5000

# The pool: threads, fds, start and close time of pools of 10 and 100 members; the flood
# through a pool of 4 members beside one member.
bench-pool: lib | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/bench_pool bench/pool.c $(STATIC) $(C_LIBS)
	$(BUILD)/bench_pool $(FAKE) cost 10
	$(BUILD)/bench_pool $(FAKE) cost 100
	$(BUILD)/bench_pool $(FAKE) flood 1 250000
	$(BUILD)/bench_pool $(FAKE) flood 4 250000

# Start-up latency beside the official Python SDK (installed into .runtime/python-sdk).
bench-startup: lib runtime | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/bench_startup bench/bench_startup.c $(STATIC) $(C_LIBS)
	@[ -d $(SDK_DIR)/openai_codex ] || python3 -m pip install --quiet --disable-pip-version-check \
	    --target $(SDK_DIR) openai-codex==0.163.0 >&2
	python3 bench/startup.py $(CURDIR)/$(BUILD)/bench_startup $(SDK_DIR) 7
