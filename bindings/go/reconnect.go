package codexappserver

/*
#include "codex_app_server.h"
*/
import "C"

// Reconnecting (Options.ReconnectWindow, codex_options_set_reconnect_window_ms): a dropped
// ws/wss/unix connection is made again and the client's threads are resumed. These event
// kinds tell the program about it.
const (
	// In a turn's stream: events were missed; Params["turn"] is the resumed snapshot of the
	// turn. A turn that ended meanwhile gets a turn/completed made from it next.
	EventGap EventKind = C.CODEX_EVENT_GAP
	// On the client stream: the connection dropped; reconnecting. Params: reason, windowMs.
	EventDisconnected EventKind = C.CODEX_EVENT_DISCONNECTED
	// On the client stream: connected again. Params: attempts, downMs, threads.
	EventReconnected EventKind = C.CODEX_EVENT_RECONNECTED
	// On the client stream: the window ran out; everything fails with its reason next.
	EventReconnectFailed EventKind = C.CODEX_EVENT_RECONNECT_FAILED
)
