# Other platforms, from Linux (included by the Makefile).
#   make check-targets   `cargo check` of the library for Windows (mingw and MSVC) and macOS
#                        (arm64, x86_64); installs the Rust targets with rustup when missing
#   make windows-dll     codex_app_server.dll, its import library and the static library for
#                        x86_64-pc-windows-gnu, built with mingw-w64; checks the DLL exports
#                        only codex_* symbols, and links the C examples against the DLL and one
#                        against the static library
#   make test-windows    the Windows build tested under wine: the Rust tests built for
#                        x86_64-pc-windows-gnu, the C and C++ tests against the DLL and the
#                        scripted fake (fake_app_server.exe), end to end against the real
#                        Windows codex.exe of the pinned version with the mock model (and over
#                        ws:// to this machine's codex), and the Go binding's tests built for
#                        Windows. `make test` runs it where wine and mingw-w64 are installed
#                        (.ci/run installs them).
#   make test-windows-repeat N=5   its Rust, C/C++ and Go tests N times over (one line a round)
.PHONY: check-targets windows-dll windows-shim rust-targets test-windows test-windows-repeat windows-rust-test \
	windows-c-test windows-e2e-test windows-go-test
CHECK_TARGETS := x86_64-pc-windows-gnu x86_64-pc-windows-msvc aarch64-apple-darwin x86_64-apple-darwin
WIN_GNU       := x86_64-pc-windows-gnu
WIN_DIR       := target/$(WIN_GNU)/release
WIN_BUILD     := $(BUILD)/windows
MINGW_CC      ?= x86_64-w64-mingw32-gcc
# The posix flavour: std::thread needs it.
MINGW_CXX     ?= x86_64-w64-mingw32-g++-posix
MINGW_OBJDUMP ?= x86_64-w64-mingw32-objdump
# event_loop.c is left out: codex_client_event_fd is refused on Windows.
WIN_EXAMPLES  := approvals callbacks concurrent_turns remote_pool
# The C and C++ tests that run on Windows: event_fd_test polls the event descriptor and
# log_test forks, neither of which Windows has.
WIN_C_TESTS   := concurrent_turns_test bad_input_test failure_test callbacks_test pool_test
WIN_CXX_TESTS := raii_test pool_test
# What the static library needs from Windows, for programs that link it.
WIN_SYS_LIBS  := -lws2_32 -luserenv -lntdll -lbcrypt -ladvapi32 -lsynchronization
# Test programs link winpthreads statically, so only the library's DLL sits beside them.
WIN_LDFLAGS   := -static
WIN_CARGO_ENV := CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$(MINGW_CC) \
	CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=$(CURDIR)/scripts/wine-run \
	WINE_SHIM=$(CURDIR)/$(WIN_BUILD)/bcryptprimitives.dll
WINE_RUN      := env WINE_SHIM=$(CURDIR)/$(WIN_BUILD)/bcryptprimitives.dll $(CURDIR)/scripts/wine-run
WIN_FAKE      := $(WIN_DIR)/fake_app_server.exe

rust-targets:
	@installed=$$(rustup target list --installed); for t in $(CHECK_TARGETS); do \
	  grep -qx "$$t" <<<"$$installed" || rustup target add "$$t"; done

# A check never links, so the C code of dependencies (ring's) is not compiled for the other
# platform: scripts/check-cc stands in for its C compiler and archiver (no cross toolchain,
# no SDK needed), and target/check keeps its empty objects away from real builds. Type
# errors in this crate's Rust code for any target fail it.
check-targets: rust-targets | $(BUILD)
	@for t in $(CHECK_TARGETS); do \
	  v=$$(tr a-z- A-Z_ <<<"$$t"); u=$$(tr - _ <<<"$$t"); \
	  echo "== cargo check --target $$t"; \
	  env CC_$$u=$(CURDIR)/scripts/check-cc AR_$$u=$(CURDIR)/scripts/check-cc \
	    $(CARGO) check --target $$t --target-dir target/check || { echo "FAILED: cargo check --target $$t"; exit 1; }; \
	done; echo "check-targets: $(CHECK_TARGETS) type-check"; \
	echo $(words $(CHECK_TARGETS)) > $(BUILD)/check-targets.passed

# Test-only: wine 8 lacks ProcessPrng, which every Rust-built Windows program imports.
windows-shim: $(WIN_BUILD)/bcryptprimitives.dll
$(WIN_BUILD)/bcryptprimitives.dll: tests/windows/prng_shim.c tests/windows/prng_shim.def
	@mkdir -p $(WIN_BUILD)
	$(MINGW_CC) -O2 -shared -o $@ $^ -ladvapi32

windows-dll:
	@command -v $(MINGW_CC) >/dev/null || { echo "$(MINGW_CC) not found (Debian: apt-get install gcc-mingw-w64-x86-64)"; exit 1; }
	@rustup target list --installed | grep -qx $(WIN_GNU) || rustup target add $(WIN_GNU)
	$(WIN_CARGO_ENV) $(CARGO) build --release --target $(WIN_GNU)
	@bad=$$($(MINGW_OBJDUMP) -p $(WIN_DIR)/codex_app_server.dll \
	  | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$$/p' | sed '1d;/^$$/d' | awk '{print $$NF}' \
	  | grep -v '^codex_' || true); \
	if [ -n "$$bad" ]; then echo "exported symbols without the codex_ prefix:"; echo "$$bad"; exit 1; fi; \
	n=$$($(MINGW_OBJDUMP) -p $(WIN_DIR)/codex_app_server.dll | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$$/p' | grep -c 'codex_'); \
	echo "windows-dll: $(WIN_DIR)/codex_app_server.dll ($$n exports, all codex_*)," \
	  "$(WIN_DIR)/libcodex_app_server.dll.a (import library), $(WIN_DIR)/libcodex_app_server.a (static)"
	@mkdir -p $(WIN_BUILD)
	@cp -f $(WIN_DIR)/codex_app_server.dll $(WIN_BUILD)/
	@for ex in $(WIN_EXAMPLES); do \
	  $(MINGW_CC) $(WARN) $(CFLAGS) -Iinclude $(WIN_LDFLAGS) -o $(WIN_BUILD)/$$ex.exe examples/c/$$ex.c \
	    $(WIN_DIR)/libcodex_app_server.dll.a -lpthread || exit 1; done; \
	$(MINGW_CC) $(WARN) $(CFLAGS) -Iinclude $(WIN_LDFLAGS) -o $(WIN_BUILD)/approvals_static.exe \
	  examples/c/approvals.c $(WIN_DIR)/libcodex_app_server.a $(WIN_SYS_LIBS) || exit 1; \
	echo "windows-dll: examples $(WIN_EXAMPLES) link against the DLL, approvals against the" \
	  "static library ($(WIN_BUILD)/)"

# The Rust unit and integration tests, built for Windows and run by cargo through wine.
windows-rust-test: windows-shim | $(BUILD)
	@set -o pipefail; $(WIN_CARGO_ENV) $(CARGO) test --release --target $(WIN_GNU) --lib --tests 2>&1 \
	  | tee $(WIN_BUILD)/rust-test.log
	@awk '/^test result: ok\./ {n += $$4} END {print n}' $(WIN_BUILD)/rust-test.log > $(BUILD)/windows-rust-test.passed

# The C and C++ tests, cross-compiled against the DLL, against the Windows scripted fake.
windows-c-test: windows-dll windows-shim
	@for t in $(WIN_C_TESTS); do \
	  $(MINGW_CC) $(WARN) $(CFLAGS) -Iinclude $(WIN_LDFLAGS) -o $(WIN_BUILD)/$$t.exe tests/c/$$t.c \
	    $(WIN_DIR)/libcodex_app_server.dll.a -lpthread || exit 1; done; \
	for t in $(WIN_CXX_TESTS); do \
	  $(MINGW_CXX) -std=c++17 -Wall -Wextra -Werror -pedantic $(CFLAGS) -Iinclude $(WIN_LDFLAGS) \
	    -o $(WIN_BUILD)/$${t}_cpp.exe tests/cpp/$$t.cpp $(WIN_DIR)/libcodex_app_server.dll.a || exit 1; done
	@$(WIN_CARGO_ENV) $(CARGO) build --release --target $(WIN_GNU) --bin fake_app_server
	@fake=$$(winepath -w $(WIN_FAKE) 2>/dev/null); pass=0; fail=0; \
	for t in $(WIN_C_TESTS) $(addsuffix _cpp,$(WIN_CXX_TESTS)); do \
	  if CODEX_FAKE_SERVER="$$fake" timeout 300 $(WINE_RUN) $(WIN_BUILD)/$$t.exe; then pass=$$((pass+1)); \
	  else echo "FAILED: $$t (windows)"; fail=$$((fail+1)); fi; \
	done; \
	echo "windows c and c++ tests: $$pass passed, $$fail failed"; echo $$pass > $(BUILD)/windows-c-test.passed; [ $$fail -eq 0 ]

# The real Windows codex.exe (pinned) under wine with the mock model on this machine: the
# end-to-end test; the same test over ws:// with a token to this machine's codex; the demo's
# example and a pool of three codex.exe.
windows-e2e-test: windows-dll windows-shim
	@$(MINGW_CC) $(WARN) $(CFLAGS) -Iinclude $(WIN_LDFLAGS) -o $(WIN_BUILD)/real_codex_test.exe \
	  tests/c/real_codex_test.c $(WIN_DIR)/libcodex_app_server.dll.a -lpthread
	@./scripts/install-runtime.sh windows >/dev/null
	@timeout 300 ./scripts/run-offline.sh --windows tests/c/real_codex_script.json \
	  $(CURDIR)/$(WIN_BUILD)/real_codex_test.exe || { echo "FAILED: real_codex_test (windows)"; exit 1; }
	@set -o pipefail; timeout 300 ./scripts/run-offline.sh tests/c/real_codex_script.json \
	  $(CURDIR)/scripts/with-ws-server.sh $(WINE_RUN) $(CURDIR)/$(WIN_BUILD)/real_codex_test.exe \
	  | tr -d '\r' || { echo "FAILED: real_codex_test over ws:// (windows)"; exit 1; }
	@out=$$(timeout 300 ./scripts/run-offline.sh --windows examples/demo_script.json \
	    $(CURDIR)/$(WIN_BUILD)/concurrent_turns.exe 2>&1 | tr -d '\r'); \
	  [ "$$(echo "$$out" | grep -c ': completed$$')" = 3 ] \
	  || { echo "$$out"; echo "FAILED: concurrent_turns example (windows)"; exit 1; }; \
	  echo "windows: the concurrent_turns example ran its 3 turns against codex.exe"
	@out=$$(timeout 300 ./scripts/run-offline.sh --windows examples/pool_script.json \
	    $(CURDIR)/$(WIN_BUILD)/remote_pool.exe "Answer from every member" stdio:// stdio:// stdio:// \
	    2>&1 | tr -d '\r'); \
	  [ "$$(echo "$$out" | grep -c 'completed — Every member answers the same prompt.')" = 3 ] \
	  && [ "$$(echo "$$out" | grep -o 'pid [0-9]*' | sort -u | wc -l)" = 3 ] \
	  || { echo "$$out"; echo "FAILED: remote_pool example (windows)"; exit 1; }; \
	  echo "windows: the remote_pool example ran a pool of 3 codex.exe, each answering"
	@echo 4 > $(BUILD)/windows-e2e-test.passed

# The Go binding for Windows: vetted, then its tests built with cgo through mingw-w64 against
# the static library (found through a pkg-config file of the build tree) and run under wine
# against the Windows scripted fake.
WIN_PC := $(WIN_BUILD)/pkgconfig/codex_app_server.pc
$(WIN_PC): Cargo.toml mk/windows.mk
	@mkdir -p $(dir $@)
	@printf '%s\n' 'root=$(CURDIR)' 'Name: codex_app_server' \
	  'Description: libcodex_app_server for Windows from the build tree (static)' 'Version: $(VERSION)' \
	  'Libs: $${root}/$(WIN_DIR)/libcodex_app_server.a $(WIN_SYS_LIBS)' 'Cflags: -I$${root}/include' > $@
windows-go-test: windows-dll windows-shim $(WIN_PC)
	@set -o pipefail; cd bindings/go && export GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$(MINGW_CC) \
	  CGO_LDFLAGS=-static PKG_CONFIG_PATH=$(CURDIR)/$(WIN_BUILD)/pkgconfig && go vet ./... \
	  && go test -c -o $(CURDIR)/$(WIN_BUILD)/go_test.exe .
	@set -o pipefail; CODEX_FAKE_SERVER="$$(winepath -w $(WIN_FAKE) 2>/dev/null)" timeout 300 \
	  $(WINE_RUN) $(WIN_BUILD)/go_test.exe -test.v -test.count=1 2>&1 | tr -d '\r' | tee $(WIN_BUILD)/go-test.log
	@grep -c -- '--- PASS' $(WIN_BUILD)/go-test.log > $(BUILD)/windows-go-test.passed
	@echo "windows: go vet and $$(cat $(BUILD)/windows-go-test.passed) Go tests passed"

test-windows: windows-rust-test windows-c-test windows-e2e-test windows-go-test
	@echo "test-windows: $$(cat $(addprefix $(BUILD)/,$(addsuffix .passed,windows-rust-test windows-c-test windows-e2e-test windows-go-test)) | awk '{n += $$1} END {print n}') passed"

# Shows the Windows part does not flake: every round runs the Rust, C/C++ and Go tests under
# wine again (built once); any failed round fails the target. Logs: $(WIN_BUILD)/repeat/.
test-windows-repeat: windows-rust-test windows-c-test windows-go-test
	@mkdir -p $(WIN_BUILD)/repeat; passed=0; \
	for i in $$(seq $(N)); do \
	  if $(MAKE) --no-print-directory windows-rust-test windows-c-test windows-go-test \
	      > $(WIN_BUILD)/repeat/round-$$i.log 2>&1; then passed=$$((passed+1)); \
	    echo "test-windows-repeat: round $$i of $(N) passed ($$(cat $(addprefix $(BUILD)/,$(addsuffix .passed,windows-rust-test windows-c-test windows-go-test)) | awk '{n += $$1} END {print n}') tests)"; \
	  else echo "test-windows-repeat: round $$i of $(N) FAILED (log: $(WIN_BUILD)/repeat/round-$$i.log)"; fi; \
	done; echo "test-windows-repeat: $$passed of $(N) rounds passed"; [ $$passed -eq $(N) ]
