// The C side of async.go: the completion callback of a pending request calls into Go.
#include "codex_app_server.h"
#include "_cgo_export.h"

static void codex_go_pending_done(void *userdata, codex_pending *pending) {
    goPendingDone((uintptr_t)userdata, pending);
}

static void codex_go_pending_release(void *userdata) { goPendingRelease((uintptr_t)userdata); }

codex_result codex_go_pending_set_callback(codex_pending *pending, uintptr_t handle, codex_error **err) {
    return codex_pending_set_callback(pending, codex_go_pending_done, (void *)handle, codex_go_pending_release, err);
}

static void codex_go_started(void *userdata, codex_client_starting *starting) {
    goStarted((uintptr_t)userdata, starting);
}

codex_result codex_go_starting_set_callback(codex_client_starting *starting, uintptr_t handle, codex_error **err) {
    return codex_client_starting_set_callback(starting, codex_go_started, (void *)handle, codex_go_pending_release, err);
}
