# libcodex_app_server — build, test, demo, benchmark, install.
#   make demo    build everything, install the pinned codex runtime, run the C demo offline
#   make test    every test (Rust unit + integration, C programs, header and symbol checks)
#   make test-repeat N=10   the C/C++ and Rust tests N times over: shows the suite does not flake
#   make fuzz SECONDS=N   fuzz the inbound path (nightly);  make sanitize   Rust tests under TSan, ASan

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

C_TESTS  := concurrent_turns_test bad_input_test failure_test callbacks_test pool_test event_fd_test

.PHONY: all lib header runtime test test-repeat rust-test c-test example-test go-test symbols demo bench bench-startup bench-soak bench-pool install clean
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
	  echo "total: $$((rust + $$(cat $(BUILD)/c-test.passed) + 6 + go)) passed, 0 failed"

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
EXAMPLES := concurrent_turns approvals callbacks remote_pool event_loop
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
	  out=$$(./scripts/run-offline.sh examples/pool_script.json $(CURDIR)/$(BUILD)/remote_pool \
	    "Answer from every member" stdio:// stdio:// stdio:// 2>&1); \
	  [ "$$(echo "$$out" | grep -c 'completed — Every member answers the same prompt.')" = 3 ] \
	  && [ "$$(echo "$$out" | grep -o 'pid [0-9]*' | sort -u | wc -l)" = 3 ] \
	  || { echo "$$out"; echo "FAILED: remote_pool example"; exit 1; }; \
	  out=$$(CODEX_BIN=$(FAKE) FAKE_SCENARIO=interleaved FAKE_DELTAS=50 $(BUILD)/event_loop 2>&1); \
	  [ "$$(echo "$$out" | grep -c ': 50 deltas, completed')" = 4 ] \
	  || { echo "$$out"; echo "FAILED: event_loop example"; exit 1; }; \
	  out=$$(CODEX_BIN=$(FAKE) FAKE_SCENARIO=interleaved FAKE_DELTAS=4 python3 examples/python/event_loop.py \
	    $(CURDIR)/$(SHARED) 2>&1); \
	  for t in 1 2 3; do echo "$$out" | grep -q "turn_$$t:0;turn_$$t:1;turn_$$t:2;turn_$$t:3;$$" \
	    || { echo "$$out"; echo "FAILED: asyncio event loop example"; exit 1; }; done; \
	  echo "examples: 6 passed (approvals y, approvals n, callbacks, a pool of 3 against the real codex; event loops in C and asyncio against the fake)"

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

# Routing throughput through the C API: 1, 10 and 100 concurrent turns, 1,000,000 deltas each
# run, over stdio (the scripted fake), ws:// and unix:// (bench/ws_flood_server.rs) side by side.
bench: lib | $(BUILD)
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
SDK_DIR := $(CURDIR)/.runtime/python-sdk
bench-startup: lib runtime | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/bench_startup bench/bench_startup.c $(STATIC) $(C_LIBS)
	@[ -d $(SDK_DIR)/openai_codex ] || python3 -m pip install --quiet --disable-pip-version-check \
	    --target $(SDK_DIR) openai-codex==0.163.0 >&2
	python3 bench/startup.py $(CURDIR)/$(BUILD)/bench_startup $(SDK_DIR) 7

# Fuzzing (nightly and cargo-fuzz, installed when missing): the inbound path, bytes → lines →
# routing and the key scanner, for SECONDS seconds (fuzz/, src/fuzzing.rs). The corpus grows in
# fuzz/corpus/ (not committed) from the seeds in fuzz/seeds/. A crash is saved under
# fuzz/artifacts/inbound/: fix it, and copy the file into tests/fuzz_regressions/ so that
# `cargo test` keeps it fixed.
SECONDS ?= 60
FUZZ_FLAGS ?=
.PHONY: fuzz sanitize nightly
nightly:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@rustup component list --toolchain nightly --installed | grep -q '^rust-src' \
	  || rustup component add rust-src --toolchain nightly

fuzz: nightly
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	mkdir -p fuzz/corpus/inbound
	$(CARGO) +nightly fuzz run inbound fuzz/corpus/inbound fuzz/seeds/inbound -- \
	    -max_total_time=$(SECONDS) -max_len=8192 -dict=fuzz/inbound.dict -print_final_stats=1 $(FUZZ_FLAGS)

# The Rust tests (unit and integration, against the fake and the real codex) under
# ThreadSanitizer and AddressSanitizer (with LeakSanitizer), on nightly with std rebuilt
# instrumented (-Zbuild-std, the rust-src component); a report fails the run. Each sanitizer
# builds into its own target dir, so a second run only rebuilds what changed. The C tests are
# not part of it (they run under valgrind in `make test`).
HOST     := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
sanitize: nightly runtime | $(BUILD)
	@set -o pipefail; start=$$(date +%s); \
	for san in thread address; do \
	  echo "== $$san sanitizer"; \
	  RUSTFLAGS="-Zsanitizer=$$san" RUSTDOCFLAGS="-Zsanitizer=$$san" \
	  TSAN_OPTIONS="second_deadlock_stack=1 $(TSAN_OPTIONS)" \
	  ASAN_OPTIONS="detect_leaks=1 detect_stack_use_after_return=1 $(ASAN_OPTIONS)" \
	  $(CARGO) +nightly test -Zbuild-std --target $(HOST) --target-dir target/sanitize-$$san \
	    --release 2>&1 | tee $(BUILD)/sanitize-$$san.log \
	    || { echo "FAILED: tests under the $$san sanitizer (log: $(BUILD)/sanitize-$$san.log)"; exit 1; }; \
	  if grep -qE '(WARNING|ERROR): (ThreadSanitizer|AddressSanitizer|LeakSanitizer)' $(BUILD)/sanitize-$$san.log; then \
	    echo "FAILED: the $$san sanitizer reported (log: $(BUILD)/sanitize-$$san.log)"; exit 1; fi; \
	  echo "$$san sanitizer: $$(awk '/^test result: ok\./ {n += $$4} END {print n}' $(BUILD)/sanitize-$$san.log) tests passed, no reports"; \
	done; echo "sanitize: clean in $$(( $$(date +%s) - start )) s"

# Other platforms, from Linux.
#   make check-targets   `cargo check` of the library for Windows (mingw and MSVC) and macOS
#                        (arm64, x86_64); installs the Rust targets with rustup when missing
#   make windows-dll     codex_app_server.dll, its import library and the static library for
#                        x86_64-pc-windows-gnu, built with mingw-w64; checks the DLL exports
#                        only codex_* symbols, and links the C examples that need only C11 and
#                        pthreads (winpthreads) against the DLL and one against the static library
# Neither is part of `make test` yet.
.PHONY: check-targets windows-dll rust-targets
CHECK_TARGETS := x86_64-pc-windows-gnu x86_64-pc-windows-msvc aarch64-apple-darwin x86_64-apple-darwin
WIN_GNU       := x86_64-pc-windows-gnu
WIN_DIR       := target/$(WIN_GNU)/release
MINGW_CC      ?= x86_64-w64-mingw32-gcc
MINGW_OBJDUMP ?= x86_64-w64-mingw32-objdump
# event_loop.c is left out: it polls codex_client_event_fd, which Windows does not have yet.
WIN_EXAMPLES  := approvals callbacks concurrent_turns remote_pool
# What the static library needs from Windows, for programs that link it.
WIN_SYS_LIBS  := -lws2_32 -luserenv -lntdll -lbcrypt -ladvapi32 -lsynchronization

rust-targets:
	@installed=$$(rustup target list --installed); for t in $(CHECK_TARGETS); do \
	  grep -qx "$$t" <<<"$$installed" || rustup target add "$$t"; done

# A check never links, so the C code of dependencies (ring's) is not compiled for the other
# platform: scripts/check-cc stands in for its C compiler and archiver (no cross toolchain,
# no SDK needed), and target/check keeps its empty objects away from real builds. Type
# errors in this crate's Rust code for any target fail it.
check-targets: rust-targets
	@for t in $(CHECK_TARGETS); do \
	  v=$$(tr a-z- A-Z_ <<<"$$t"); u=$$(tr - _ <<<"$$t"); \
	  echo "== cargo check --target $$t"; \
	  env CC_$$u=$(CURDIR)/scripts/check-cc AR_$$u=$(CURDIR)/scripts/check-cc \
	    $(CARGO) check --target $$t --target-dir target/check || { echo "FAILED: cargo check --target $$t"; exit 1; }; \
	done; echo "check-targets: $(CHECK_TARGETS) type-check"

windows-dll:
	@command -v $(MINGW_CC) >/dev/null || { echo "$(MINGW_CC) not found (Debian: apt-get install gcc-mingw-w64-x86-64)"; exit 1; }
	@rustup target list --installed | grep -qx $(WIN_GNU) || rustup target add $(WIN_GNU)
	CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$(MINGW_CC) $(CARGO) build --release --target $(WIN_GNU)
	@bad=$$($(MINGW_OBJDUMP) -p $(WIN_DIR)/codex_app_server.dll \
	  | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$$/p' | sed '1d;/^$$/d' | awk '{print $$NF}' \
	  | grep -v '^codex_' || true); \
	if [ -n "$$bad" ]; then echo "exported symbols without the codex_ prefix:"; echo "$$bad"; exit 1; fi; \
	n=$$($(MINGW_OBJDUMP) -p $(WIN_DIR)/codex_app_server.dll | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$$/p' | grep -c 'codex_'); \
	echo "windows-dll: $(WIN_DIR)/codex_app_server.dll ($$n exports, all codex_*)," \
	  "$(WIN_DIR)/libcodex_app_server.dll.a (import library), $(WIN_DIR)/libcodex_app_server.a (static)"
	@mkdir -p $(BUILD)/windows
	@for ex in $(WIN_EXAMPLES); do \
	  $(MINGW_CC) $(WARN) $(CFLAGS) -Iinclude -o $(BUILD)/windows/$$ex.exe examples/c/$$ex.c \
	    $(WIN_DIR)/libcodex_app_server.dll.a -lpthread || exit 1; done; \
	$(MINGW_CC) $(WARN) $(CFLAGS) -Iinclude -o $(BUILD)/windows/approvals_static.exe \
	  examples/c/approvals.c $(WIN_DIR)/libcodex_app_server.a $(WIN_SYS_LIBS) || exit 1; \
	echo "windows-dll: examples $(WIN_EXAMPLES) link against the DLL, approvals against the" \
	  "static library ($(BUILD)/windows/; not run)"
