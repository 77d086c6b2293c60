# libcodex_app_server — build, test, demo, benchmark, install.
#   make demo    build everything, install the pinned codex runtime, run the C demo offline
#   make test    every test (Rust unit + integration, C programs, header and symbol checks)
#   make test-repeat N=10   the C/C++ and Rust tests N times over: shows the suite does not flake
#   make test-compat   the real-codex tests against the oldest supported, the pinned and the newest codex
#   make fuzz SECONDS=N   fuzz the inbound path (nightly);  make sanitize   Rust tests under TSan, ASan
#   make install PREFIX=... header, libraries, pkg-config file and CMake package
#   make docs    the API reference (Doxygen) into build/docs/html

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
# One source of truth: the version in Cargo.toml. build.rs derives the soname from it (0.MINOR
# before 1.0, then MAJOR); it is read back from the built library here, never written twice.
VERSION  := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
LIBFILE  := libcodex_app_server.so.$(VERSION)
SONAME    = $(shell readelf -d $(SHARED) 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
C_LIBS   := -lpthread -ldl -lm
# The scripted fake app-server (tools/fake_app_server), a program of the package: `lib` builds
# it with the library, so every target that runs it depends on `lib`.
FAKE     := $(CURDIR)/$(LIBDIR)/fake_app_server

C_TESTS  := concurrent_turns_test bad_input_test failure_test callbacks_test pool_test event_fd_test log_test json_test freed_ready_turn_test close_in_callback_test misuse_test async_test
# Turns this client did not start, reviews (issue 19): a C and a C++ test, run by c-test.
C_TESTS  += attach_test attach_cpp_test answers_test
$(BUILD)/attach_cpp_test: tests/cpp/attach_test.cpp include/codex_app_server.hpp include/codex_app_server.h lib | $(BUILD)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)
# Typed access (issue 18): readers and builders, from C and from C++.
C_TESTS  += typed_test typed_cpp_test
$(BUILD)/typed_cpp_test: tests/cpp/typed_test.cpp include/codex_app_server.hpp include/codex_app_server.h lib | $(BUILD)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

.DEFAULT_GOAL := all
# Other platforms, from Linux: check-targets, windows-dll, test-windows.
include mk/windows.mk
# make test runs the Windows part where wine and mingw-w64 are installed (.ci/run installs them).
WINDOWS_TEST := $(if $(and $(shell command -v wine),$(shell command -v $(MINGW_CC))),test-windows)

.PHONY: all lib header runtime test test-repeat msrv-check layers-check rust-test c-test c-sanitize example-test go-test symbols \
	header-check real-codex-c-test consumer-test cargo-c-test docs docs-test demo bench bench-starts bench-transports bench-startup bench-soak \
	bench-pool bench-threads install clean
DEMO_PREFIX := $(CURDIR)/$(BUILD)/prefix

all: lib

# The libraries and the package's program, the scripted fake (cargo builds every target).
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

# The ABI guard: exported symbols all codex_*, exactly those listed in abi/, all declared in the
# header, and the soname the version gives.
symbols: lib | $(BUILD)
	@bad=$$(nm -D --defined-only $(SHARED) | awk '{print $$3}' | grep -v '^codex_' || true); \
	if [ -n "$$bad" ]; then echo "exported symbols without the codex_ prefix:"; echo "$$bad"; exit 1; fi
	@./scripts/check-abi.sh $(SHARED) include/codex_app_server.h
	@echo 1 > $(BUILD)/symbols.passed

# The headers under strict warnings with every compiler present: the C header as C99 and C11
# (gcc, clang), both headers and the C++ example as C++17 (g++, clang++).
CXXSTRICT := -std=c++17 -Wall -Wextra -Werror -pedantic
header-check: | $(BUILD)
	@n=0; \
	for cc in gcc clang; do \
	  if ! command -v $$cc >/dev/null; then echo "header-check: no $$cc here, skipped"; continue; fi; \
	  for std in c99 c11; do \
	    $$cc -std=$$std -Wall -Wextra -Werror -pedantic -fsyntax-only -Iinclude tests/c/header_check.c || exit 1; \
	    n=$$((n+1)); \
	  done; \
	done; \
	for cxx in g++ clang++; do \
	  if ! command -v $$cxx >/dev/null; then echo "header-check: no $$cxx here, skipped"; continue; fi; \
	  $$cxx $(CXXSTRICT) -fsyntax-only -Iinclude tests/cpp/header_check.cpp || exit 1; \
	  $$cxx $(CXXSTRICT) -fsyntax-only -Iinclude examples/cpp/concurrent_turns.cpp || exit 1; \
	  n=$$((n+2)); \
	done; \
	echo "header-check: $$n compiles clean (-Wall -Wextra -Werror -pedantic)"; echo $$n > $(BUILD)/header-check.passed

# The C tests run under valgrind (memory errors in C or Rust fail them) when it is installed.
VALGRIND := $(shell command -v valgrind >/dev/null 2>&1 && echo valgrind --error-exitcode=99 --quiet)

# The C++ layer (header-only), built with the same warnings.
$(BUILD)/raii_test: tests/cpp/raii_test.cpp include/codex_app_server.hpp include/codex_app_server.h lib | $(BUILD)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

$(BUILD)/pool_cpp_test: tests/cpp/pool_test.cpp include/codex_app_server.hpp include/codex_app_server.h lib | $(BUILD)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

$(BUILD)/threads_cpp_test: tests/cpp/threads_test.cpp include/codex_app_server.hpp include/codex_app_server.h lib | $(BUILD)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

# Asynchronous starts (issue 23): the C++ forms.
$(BUILD)/async_cpp_test: tests/cpp/async_test.cpp include/codex_app_server.hpp include/codex_app_server.h lib | $(BUILD)
	$(CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

c-test: $(addprefix $(BUILD)/,$(C_TESTS)) $(BUILD)/raii_test $(BUILD)/pool_cpp_test $(BUILD)/threads_cpp_test $(BUILD)/async_cpp_test
	@echo "c tests run with: $(or $(VALGRIND),no valgrind)"
	@pass=0; fail=0; \
	for t in $(C_TESTS) raii_test pool_cpp_test threads_cpp_test async_cpp_test; do \
	  if CODEX_FAKE_SERVER=$(FAKE) timeout 300 $(VALGRIND) $(BUILD)/$$t; then pass=$$((pass+1)); \
	  else echo "FAILED: $$t"; fail=$$((fail+1)); fi; \
	done; \
	echo "c and c++ tests: $$pass passed, $$fail failed"; echo $$pass > $(BUILD)/c-test.passed; [ $$fail -eq 0 ]

# The same C tests built with AddressSanitizer and UndefinedBehaviorSanitizer (the library is
# not instrumented, but its allocations go through the intercepted malloc, so a use after free,
# a double free or a bad free by the program or by the library on the program's behalf is
# reported). Part of `make test` and `make sanitize`; skipped where the compiler lacks them.
ASAN_DIR := $(BUILD)/asan
SAN_TESTS = $(filter-out %_cpp_test,$(C_TESTS))
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g
$(ASAN_DIR)/%: tests/c/%.c tests/c/test_util.h include/codex_app_server.h lib
	@mkdir -p $(ASAN_DIR)
	$(CC) $(WARN) -O1 $(SAN_CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)

c-sanitize:
	@if ! echo 'int main(void){return 0;}' | $(CC) -x c $(SAN_CFLAGS) -o /dev/null - 2>/dev/null; then \
	  echo "c-sanitize: $(CC) has no AddressSanitizer here, skipped"; echo 0 > $(BUILD)/c-sanitize.passed; exit 0; fi; \
	$(MAKE) --no-print-directory $(addprefix $(ASAN_DIR)/,$(SAN_TESTS)) >/dev/null || exit 1; \
	pass=0; fail=0; \
	for t in $(SAN_TESTS); do \
	  if CODEX_FAKE_SERVER=$(FAKE) ASAN_OPTIONS="detect_leaks=1 $(ASAN_OPTIONS)" \
	     UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" timeout 300 $(ASAN_DIR)/$$t; then pass=$$((pass+1)); \
	  else echo "FAILED: $$t (AddressSanitizer/UBSan build)"; fail=$$((fail+1)); fi; \
	done; \
	echo "c tests under ASan+UBSan: $$pass passed, $$fail failed"; echo $$pass > $(BUILD)/c-sanitize.passed; [ $$fail -eq 0 ]

# The C/C++ tests (under valgrind when installed) and the Rust tests, N rounds (default 10),
# each round's two halves side by side; one line per round, then "test-repeat: K of N rounds
# passed". Every round runs; any failed round fails the target. Logs: $(BUILD)/test-repeat/.
N ?= 10
test-repeat: $(addprefix $(BUILD)/,$(C_TESTS)) $(BUILD)/raii_test $(BUILD)/pool_cpp_test $(BUILD)/threads_cpp_test runtime
	@CARGO="$(CARGO)" VALGRIND="$(VALGRIND)" FAKE="$(FAKE)" BUILD="$(BUILD)" \
	  C_TESTS="$(C_TESTS) raii_test pool_cpp_test threads_cpp_test" ./scripts/test-repeat.sh $(N)

# pkg-config's view of the build tree (the static library), for the Go binding's own tests.
INTREE_PC := $(BUILD)/pkgconfig/codex_app_server.pc
$(INTREE_PC): Cargo.toml Makefile | $(BUILD)
	@mkdir -p $(dir $@)
	@printf '%s\n' 'root=$(CURDIR)' 'Name: codex_app_server' \
	  'Description: libcodex_app_server from the build tree (static)' 'Version: $(VERSION)' \
	  'Libs: $${root}/$(STATIC) $(C_LIBS)' 'Cflags: -I$${root}/include' > $@

# The Go binding (cgo, found through pkg-config) against the scripted fake: vet, then the tests
# under the race detector.
go-test: lib $(INTREE_PC) | $(BUILD)
	@set -o pipefail; cd bindings/go && export PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/pkgconfig \
	  CODEX_FAKE_SERVER=$(FAKE) && \
	  go vet ./... && go test -race -count=1 -v ./... 2>&1 | tee $(CURDIR)/$(BUILD)/go-test.log

# Installs into a fresh prefix and builds there what users of each kind would: a CMake project,
# a pkg-config project, a Go module outside the binding's, the Python (ctypes) and C++ examples;
# each runs turns against the scripted fake.
CONSUMER_PREFIX := $(CURDIR)/$(BUILD)/consumer-prefix
consumer-test: lib | $(BUILD)
	@rm -rf $(CONSUMER_PREFIX)
	@$(MAKE) --no-print-directory install PREFIX=$(CONSUMER_PREFIX) >/dev/null
	@./scripts/consumer-tests.sh $(CONSUMER_PREFIX) $(FAKE) $(CURDIR)/$(BUILD)/consumers $(BUILD)/consumer-test.passed

# cargo-c: its metadata in Cargo.toml must give what `make install` gives. With cargo-c
# (0.9.27 or later) installed, `cargo cinstall` runs and the two prefixes are compared.
cargo-c-test: lib | $(BUILD)
	@rm -rf $(BUILD)/make-prefix
	@$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(BUILD)/make-prefix >/dev/null
	@./scripts/check-cargo-c.sh $(CURDIR)/$(BUILD)/make-prefix $(CURDIR)/$(BUILD) $(BUILD)/cargo-c-test.passed

# The API reference: Doxygen renders the C header into $(BUILD)/docs/html; any warning (an
# undocumented function, type, macro or parameter) fails it.
docs: | $(BUILD)
	@command -v doxygen >/dev/null || { echo "make docs needs doxygen (Debian: apt-get install doxygen)"; exit 1; }
	@rm -rf $(BUILD)/docs && mkdir -p $(BUILD)/docs
	@( cat docs/Doxyfile; echo "PROJECT_NUMBER = $(VERSION)"; echo "OUTPUT_DIRECTORY = $(BUILD)/docs" ) \
	  | doxygen - > $(BUILD)/docs/doxygen.log 2>&1 || { cat $(BUILD)/docs/doxygen.log; exit 1; }
	@echo "docs: $(BUILD)/docs/html/index.html"

# The reference is complete: Doxygen without a warning, and every function's comment says its
# threads, ownership and errors. The pages are honest: every relative link of README.md and
# docs/*.md points at a file that exists, and every ```c block in them compiles.
docs-test: | $(BUILD)
	@if command -v doxygen >/dev/null; then $(MAKE) --no-print-directory docs && n=1; \
	 else echo "docs-test: doxygen is not installed, the rendering is skipped"; n=0; fi; \
	 python3 scripts/check-docs.py include/codex_app_server.h || exit 1; \
	 python3 scripts/check-docs.py --pages README.md docs/*.md || exit 1; \
	 echo $$((n + 2)) > $(BUILD)/docs-test.passed

# The oldest Rust the library builds with is Cargo.toml's rust-version, set by its dependencies'
# own (rustls's zeroize and cbindgen's TOML parser need 1.85); the tests' dev-dependencies need
# 1.88. This checks the claim with that toolchain (rustup installs it, a minimal profile).
MSRV := $(shell sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
msrv-check: | $(BUILD)
	@rustup toolchain list | grep -q "^$(MSRV)-" || rustup toolchain install $(MSRV) --profile minimal
	@$(CARGO) +$(MSRV) check --lib --locked --target-dir target/msrv \
	  || { echo "FAILED: the library does not build with Rust $(MSRV), its rust-version"; exit 1; }
	@echo "msrv-check: the library builds with Rust $(MSRV)"; echo 1 > $(BUILD)/msrv-check.passed

# The fuzz target's hooks (src/fuzzing.rs, `--features fuzzing`) still build, so `make fuzz`
# (nightly, not part of make test) is never found broken the day it is needed.
fuzz-check: | $(BUILD)
	@RUSTFLAGS="-A dead_code" $(CARGO) check --lib --features fuzzing --target-dir target/fuzz-check -q \
	  || { echo "FAILED: the library does not build with --features fuzzing (make fuzz)"; exit 1; }
	@echo "fuzz-check: the fuzzing hooks build"; echo 1 > $(BUILD)/fuzz-check.passed

# The floors of src/core import one way (scripts/check-layers.py; the picture is in
# src/core/mod.rs).
layers-check: | $(BUILD)
	@python3 scripts/check-layers.py src/core && echo 1 > $(BUILD)/layers-check.passed

# The real-codex tests (Rust: the protocol guard, real_codex, real_approvals, remote, websocket, reconnect;
# C: real_codex_test spawned and over ws://) against each release of CODEX_VERSIONS: the oldest
# this library supports, the pinned one (what make test runs) and the newest. Each is
# installed by scripts/install-runtime.sh VERSION (the wheel, else the npm platform package).
# Oldest: 0.158.0; 0.147.0 passes everything but the daemon test (it has no `app-server daemon`).
CODEX_OLDEST := 0.158.0
CODEX_PINNED := $(shell sed -n 's/^PINNED=//p' scripts/install-runtime.sh)
CODEX_NEWEST := 0.171.0
CODEX_VERSIONS ?= $(CODEX_OLDEST) $(CODEX_PINNED) $(CODEX_NEWEST)
REAL_CODEX_TESTS := --test protocol --test real_codex --test real_approvals --test real_threads --test remote --test websocket --test typed_access --test reconnect
.PHONY: test-compat
test-compat: lib $(BUILD)/real_codex_test | $(BUILD)
	@set -o pipefail; for v in $(CODEX_VERSIONS); do 	  bin=$$(./scripts/install-runtime.sh $$v) || exit 1; 	  echo "== codex $$v ($$bin)"; 	  CODEX_TEST_BIN=$$bin $(CARGO) test --release $(REAL_CODEX_TESTS) 2>&1 \
	    | tee $(BUILD)/compat-$$v.log | grep -E '^test result|FAILED|panicked' \
	    || { echo "FAILED: the real-codex Rust tests against codex $$v ($(BUILD)/compat-$$v.log)"; exit 1; }; 	  CODEX_TEST_BIN=$$bin timeout 300 ./scripts/run-offline.sh tests/c/real_codex_script.json \
	    $(CURDIR)/$(BUILD)/real_codex_test > $(BUILD)/compat-$$v-c.log 2>&1 \
	    && CODEX_TEST_BIN=$$bin timeout 300 ./scripts/run-offline.sh tests/c/real_codex_script.json \
	    $(CURDIR)/scripts/with-ws-server.sh $(CURDIR)/$(BUILD)/real_codex_test >> $(BUILD)/compat-$$v-c.log 2>&1 \
	    || { cat $(BUILD)/compat-$$v-c.log; echo "FAILED: real_codex_test against codex $$v"; exit 1; }; 	  echo "codex $$v: real_codex_test passed, spawned and over ws://"; 	done; echo "test-compat: codex $(CODEX_VERSIONS) all passed"

# Runs everything; the last line sums the passed tests of every part.
PARTS := layers-check symbols c-test c-sanitize header-check example-test real-codex-c-test consumer-test cargo-c-test docs-test check-targets \
	msrv-check fuzz-check \
	$(if $(WINDOWS_TEST),windows-rust-test windows-c-test windows-e2e-test windows-go-test)
test: runtime layers-check rust-test symbols c-test c-sanitize header-check example-test real-codex-c-test go-test consumer-test \
	cargo-c-test docs-test check-targets msrv-check fuzz-check $(WINDOWS_TEST)
	@$(if $(WINDOWS_TEST),,echo "test: the Windows part was skipped (no wine or $(MINGW_CC))";) \
	rust=$$(awk '/^test result: ok\./ {n += $$4} END {print n}' $(BUILD)/rust-test.log); \
	  go=$$(grep -c -- '--- PASS' $(BUILD)/go-test.log); \
	  parts=$$(cat $(addprefix $(BUILD)/,$(addsuffix .passed,$(PARTS))) | awk '{n += $$1} END {print n}'); \
	  echo "total: $$((rust + parts + go)) passed, 0 failed"

# Installs the headers, both libraries (the shared one as libcodex_app_server.so.VERSION with its
# soname and development links), a pkg-config file and a CMake package.
CMAKEDIR := $(DESTDIR)$(PREFIX)/lib/cmake/codex_app_server
install: lib
	@[ -n "$(SONAME)" ] || { echo "no soname in $(SHARED)"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(CMAKEDIR)
	install -m 644 include/codex_app_server.h include/codex_app_server.hpp $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/$(LIBFILE)
	ln -sf $(LIBFILE) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libcodex_app_server.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    codex_app_server.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/codex_app_server.pc
	sed -e 's|@LIBFILE@|$(LIBFILE)|' -e 's|@SONAME@|$(SONAME)|' \
	    cmake/codex_app_serverConfig.cmake.in > $(CMAKEDIR)/codex_app_serverConfig.cmake
	sed -e 's|@VERSION@|$(VERSION)|' -e "s|@SIZEOF_VOID_P@|$$(( $$(getconf LONG_BIT) / 8 ))|" \
	    cmake/codex_app_serverConfigVersion.cmake.in > $(CMAKEDIR)/codex_app_serverConfigVersion.cmake

# The examples, built against the installed header and shared library as a user would.
EXAMPLES := concurrent_turns approvals callbacks remote_pool event_loop reading_fields
# Typed access (issue 18).
EXAMPLES += typed_items
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
	  out=$$(./scripts/run-offline.sh examples/approvals_script.json $(CURDIR)/$(BUILD)/reading_fields \
	    "Show me that approvals work" 2>&1); \
	  echo "$$out" | grep -q "^  command: /bin/bash -lc 'echo approved-command-ran'$$" \
	  && echo "$$out" | grep -q '^  cwd: /' \
	  && echo "$$out" | grep -q "exited 0, output: approved-command-ran$$" \
	  && echo "$$out" | grep -Eq '^usage: [1-9][0-9]* input, [1-9][0-9]* output, [1-9][0-9]* total tokens$$' \
	  || { echo "$$out"; echo "FAILED: reading_fields example"; exit 1; }; \
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
	  out=$$(./scripts/run-offline.sh examples/approvals_script.json $(CURDIR)/$(BUILD)/typed_items \
	    "Show me that approvals work" 2>&1); \
	  echo "$$out" | grep -q "^approval: run /bin/bash -lc 'echo approved-command-ran'$$" \
	  && echo "$$out" | grep -q '^  in /' \
	  && echo "$$out" | grep -Eq "^item [0-9]+: command .* exited 0, output: approved-command-ran$$" \
	  && echo "$$out" | grep -q '^item [0-9]*: message (final answer): Done' \
	  && echo "$$out" | grep -Eq '^usage: [1-9][0-9]* input \([0-9]+ cached\), [1-9][0-9]* output, [1-9][0-9]* total tokens$$' \
	  || { echo "$$out"; echo "FAILED: typed_items example"; exit 1; }; \
	  echo "examples: 8 passed (approvals y, approvals n, reading fields by pointer, typed items, callbacks, a pool of 3 against the real codex; event loops in C and asyncio against the fake)"; \
	  echo 8 > $(BUILD)/example-test.passed

# The end-to-end C test against the real codex and the mock model, spawned and then over ws://
# with a token; the same source runs under wine in make test-windows.
$(BUILD)/real_codex_test: tests/c/real_codex_test.c tests/c/test_util.h include/codex_app_server.h lib | $(BUILD)
	$(CC) $(WARN) $(CFLAGS) -Iinclude -o $@ $< $(STATIC) $(C_LIBS)
real-codex-c-test: $(BUILD)/real_codex_test runtime
	@timeout 300 ./scripts/run-offline.sh tests/c/real_codex_script.json $(CURDIR)/$(BUILD)/real_codex_test \
	  || { echo "FAILED: real_codex_test"; exit 1; }
	@timeout 300 ./scripts/run-offline.sh tests/c/real_codex_script.json $(CURDIR)/scripts/with-ws-server.sh \
	  $(CURDIR)/$(BUILD)/real_codex_test || { echo "FAILED: real_codex_test over ws://"; exit 1; }
	@echo 2 > $(BUILD)/real-codex-c-test.passed

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

# The event benchmark, every figure in one run (bench/run.sh): throughput of the flood at 1 to
# 10,000 concurrent turns, polling and with callbacks, beside a serde_json::Value parse (the
# floor) and the raw pipe; delivery latency at a paced 100,000 events/s; idle-turn memory and
# threads; the official Python SDK on the same fake when it is installed (make bench-startup);
# what one JSON Pointer getter costs beside a serde_json::Value parse of the same event.
SDK_DIR := $(CURDIR)/.runtime/python-sdk
bench: lib | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/bench_events bench/bench_events.c $(STATIC) $(C_LIBS)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -o $(BUILD)/paced_server bench/paced_server.c
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -o $(BUILD)/latency_floor bench/latency_floor.c -lpthread
	$(CARGO) build --release --example flood_floor --example getter_cost
	@./bench/run.sh $(BUILD)/bench_events $(LIBDIR)/examples/flood_floor $(CURDIR)/$(BUILD)/paced_server $(FAKE) $(SDK_DIR) \
	  $(BUILD)/latency_floor
	@echo; $(LIBDIR)/examples/getter_cost
	@echo; $(MAKE) --no-print-directory bench-starts

# Start N turns from one thread and consume them, blocking and asynchronous starts beside the
# floor (issue 23; bench/starts.sh, bench/start_turns.c). Also the last section of `make bench`.
bench-starts: lib | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/start_turns bench/start_turns.c $(STATIC) $(C_LIBS)
	$(CARGO) build --release --example flood_floor
	@./bench/starts.sh $(BUILD)/start_turns $(LIBDIR)/examples/flood_floor $(FAKE)

# The flood over stdio, ws:// and unix:// (bench/ws_flood_server.rs) side by side.
bench-transports: lib | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/bench_events bench/bench_events.c $(STATIC) $(C_LIBS)
	$(CARGO) build --release --example ws_flood_server
	@./bench/transports.sh $(BUILD)/bench_events $(FAKE) $(LIBDIR)/examples/ws_flood_server

# Soak: 10,000 short turns on one client; RSS, fds and threads must stay flat.
bench-soak: lib | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/soak bench/soak.c $(STATIC) $(C_LIBS)
	$(BUILD)/soak $(FAKE) 10000 5000

# The app-server's memory (VmRSS of the child) after THREADS short threads (one short turn each
# against the mock model, the real pinned codex), without and with letting each go
# (codex_client_thread_unsubscribe). THREADS=10000 for the larger figure (it takes hours with
# every thread kept: see docs/benchmarks.md).
THREADS ?= 1000
bench-threads: lib runtime | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -o $(BUILD)/thread_memory bench/thread_memory.c $(STATIC) $(C_LIBS)
	./scripts/run-offline.sh bench/thread_memory_script.json $(CURDIR)/$(BUILD)/thread_memory $(THREADS) $$(( $(THREADS) / 10 )) keep
	./scripts/run-offline.sh bench/thread_memory_script.json $(CURDIR)/$(BUILD)/thread_memory $(THREADS) $$(( $(THREADS) / 10 )) release

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

# Fuzzing (nightly and cargo-fuzz, installed when missing): the inbound path, bytes → lines →
# routing and the key scanner, for SECONDS seconds (fuzz/, src/fuzzing.rs). The corpus grows in
# fuzz/corpus/ (not committed) from the seeds in fuzz/seeds/. A crash is saved under
# fuzz/artifacts/inbound/: fix it, and copy the file into tests/fuzz_regressions/ so that
# `cargo test` keeps it fixed.
SECONDS ?= 60
FUZZ_FLAGS ?=
.PHONY: fuzz fuzz-check sanitize nightly
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
# not part of it (they run under valgrind in `make test`); their ASan+UBSan builds are
# (`c-sanitize`).
HOST     := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
sanitize: nightly runtime c-sanitize | $(BUILD)
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

