// Package codexappserver drives OpenAI Codex's `codex app-server` through libcodex_app_server
// (cgo). Many goroutines may use one Client at once; each Turn is read by one goroutine at a
// time. Close every Client and Turn (finalizers are a safety net, not a plan).
//
// cgo finds the C library through pkg-config (package codex_app_server, whose .pc file
// `make install` and `cargo cinstall` write). For a prefix pkg-config does not search, set
// PKG_CONFIG_PATH=PREFIX/lib/pkgconfig; the program then links the shared library, which the
// loader must find at run time (ldconfig, LD_LIBRARY_PATH, or CGO_LDFLAGS=-Wl,-rpath,PREFIX/lib
// when building). Inside the repository, `make go-test` points pkg-config at the build tree,
// whose .pc file links the static library instead.
//
// Logging: set CODEX_APP_SERVER_LOG=error|warn|info|debug to see the library's messages on
// stderr.
package codexappserver

/*
#cgo pkg-config: codex_app_server
#include <stdlib.h>
#include "codex_app_server.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Result is a codex_result code.
type Result uint32

const (
	ErrInvalidArgument Result = C.CODEX_ERR_INVALID_ARGUMENT
	ErrSpawn           Result = C.CODEX_ERR_SPAWN
	ErrTimeout         Result = C.CODEX_ERR_TIMEOUT
	ErrRPC             Result = C.CODEX_ERR_RPC
	ErrOverloaded      Result = C.CODEX_ERR_OVERLOADED
	ErrTransport       Result = C.CODEX_ERR_TRANSPORT
	ErrClosed          Result = C.CODEX_ERR_CLOSED
	ErrTurnActive      Result = C.CODEX_ERR_TURN_ACTIVE
	ErrProtocol        Result = C.CODEX_ERR_PROTOCOL
	ErrInternal        Result = C.CODEX_ERR_INTERNAL
	ErrStaleRequest    Result = C.CODEX_ERR_STALE_REQUEST
	ErrOverflow        Result = C.CODEX_ERR_OVERFLOW
	ErrAuth            Result = C.CODEX_ERR_AUTH
	ErrNotFound        Result = C.CODEX_ERR_NOT_FOUND
	ErrWrongType       Result = C.CODEX_ERR_WRONG_TYPE
)

func (r Result) String() string { return C.GoString(C.codex_result_name(C.codex_result(r))) }

// Error is a failed call: its code, message, and for JSON-RPC errors the server's code and data.
type Error struct {
	Code    Result
	Message string
	RPCCode *int64
	Data    json.RawMessage
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Is makes errors.Is(err, codexappserver.ErrTimeout) work.
func (e *Error) Is(target error) bool {
	var t Result
	switch v := target.(type) {
	case Result:
		t = v
	case *Error:
		t = v.Code
	default:
		return false
	}
	return e.Code == t
}

// Error lets a Result be used as an errors.Is target.
func (r Result) Error() string { return r.String() }

func check(rc C.codex_result, err *C.codex_error) error {
	if rc == C.CODEX_OK {
		return nil
	}
	e := &Error{Code: Result(rc), Message: Result(rc).String()}
	if err != nil {
		e.Message = C.GoString(C.codex_error_message(err))
		var code C.int64_t
		if C.codex_error_rpc_code(err, &code) {
			c := int64(code)
			e.RPCCode = &c
		}
		if data := C.codex_error_data(err); data != nil {
			e.Data = json.RawMessage(C.GoString(data))
		}
		C.codex_error_free(err)
	}
	return e
}

// cstr returns a C copy of s (nil for nil) and the function that frees it.
func cstr(s *string) (*C.char, func()) {
	if s == nil {
		return nil, func() {}
	}
	p := C.CString(*s)
	return p, func() { C.free(unsafe.Pointer(p)) }
}

func str(s string) *string { return &s }

// paramsJSON marshals params (nil for none) into the optional JSON argument of a call.
func paramsJSON(params any) (*string, error) {
	if params == nil {
		return nil, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, &Error{Code: ErrInvalidArgument, Message: "params: " + err.Error()}
	}
	return str(string(b)), nil
}

func takeString(p *C.char) string {
	s := C.GoString(p)
	C.codex_string_free(p)
	return s
}

func millis(d time.Duration) C.int64_t {
	if d < 0 {
		return -1
	}
	return C.int64_t(d / time.Millisecond)
}

// Options configure Start. Zero values mean the library's defaults.
type Options struct {
	CodexBin             string             // else $CODEX_BIN, else codex on PATH
	Args                 []string           // before the app-server subcommand
	Config               []string           // -c key=value overrides
	Env                  map[string]*string // nil value: remove the variable
	Cwd                  string
	ClientName           string
	ClientVersion        string
	StartTimeout         time.Duration // spawn or connect through the answer to initialize; 0: default (15 s)
	RequestTimeout       time.Duration // 0: default (120 s); negative: no limit
	ServerRequestTimeout *time.Duration
	ControlTimeout       time.Duration // steer and interrupt; 0: default (10 s)
	TurnIdleTimeout      time.Duration // 0: off
	// A remote app-server: ws://HOST:PORT[/path], wss://..., unix:///path.sock, or unix:// for
	// the local daemon. Empty: spawn codex over stdio (CodexBin, Args... apply only then).
	URL              string
	AuthToken        string        // sent as Authorization: Bearer; never in error messages
	CAFile           string        // PEM, for wss:// with a private CA
	ConnectTimeout   time.Duration // 0: default (10 s)
	TurnBufferEvents *int          // nil: default (65,536); 0: no limit
	MaxLineBytes     *int          // nil: default (64 MiB); 0: no limit
	// ws/wss/unix: how long a dropped connection is made again and its turns resumed; nil:
	// default (30 s); 0: never (see reconnect.go).
	ReconnectWindow *time.Duration
	// The experimental API (dynamic tools, plan mode's user-input questions, ...).
	ExperimentalAPI bool
	// Declares requiredHumanApproval (codex 0.171): humanCommand approvals may come, answered
	// only with Accept, Decline or Cancel.
	RequiredHumanApproval bool
	// Asynchronous starts waiting for their answer at once (RequestAsync, ...); 0: default (10,000).
	MaxPendingRequests int
}

// Client is one running app-server and its connection. Safe for concurrent use.
type Client struct {
	mu sync.RWMutex
	p  *C.codex_client
}

// Start spawns the app-server and completes the initialize handshake.
func Start(o Options) (*Client, error) {
	opts, err := newOptions(o)
	if err != nil {
		return nil, err
	}
	defer C.codex_options_free(opts)
	var p *C.codex_client
	var cerr *C.codex_error
	if e := check(C.codex_client_start(opts, &p, &cerr), cerr); e != nil {
		return nil, e
	}
	c := &Client{p: p}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// newOptions makes C options from o; the caller frees them.
func newOptions(o Options) (*C.codex_options, error) {
	opts := C.codex_options_new()
	set := func(f func(*C.char, **C.codex_error) C.codex_result, v string) error {
		p, free := cstr(&v)
		defer free()
		var err *C.codex_error
		return check(f(p, &err), err)
	}
	steps := []error{}
	if o.CodexBin != "" {
		steps = append(steps, set(func(p *C.char, e **C.codex_error) C.codex_result { return C.codex_options_set_codex_bin(opts, p, e) }, o.CodexBin))
	}
	for _, a := range o.Args {
		steps = append(steps, set(func(p *C.char, e **C.codex_error) C.codex_result { return C.codex_options_add_arg(opts, p, e) }, a))
	}
	for _, kv := range o.Config {
		steps = append(steps, set(func(p *C.char, e **C.codex_error) C.codex_result { return C.codex_options_add_config(opts, p, e) }, kv))
	}
	if o.Cwd != "" {
		steps = append(steps, set(func(p *C.char, e **C.codex_error) C.codex_result { return C.codex_options_set_cwd(opts, p, e) }, o.Cwd))
	}
	for name, value := range o.Env {
		n, freeN := cstr(&name)
		v, freeV := cstr(value)
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_env(opts, n, v, &err), err))
		freeN()
		freeV()
	}
	if o.ClientName != "" {
		version := o.ClientVersion
		if version == "" {
			version = "0.0.0"
		}
		n, freeN := cstr(&o.ClientName)
		v, freeV := cstr(&version)
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_client_info(opts, n, nil, v, &err), err))
		freeN()
		freeV()
	}
	if o.ExperimentalAPI {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_experimental_api(opts, true, &err), err))
	}
	if o.RequiredHumanApproval {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_required_human_approval(opts, true, &err), err))
	}
	if o.RequestTimeout != 0 {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_request_timeout_ms(opts, millis(o.RequestTimeout), &err), err))
	}
	if o.ServerRequestTimeout != nil {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_server_request_timeout_ms(opts, millis(*o.ServerRequestTimeout), &err), err))
	}
	if o.URL != "" {
		steps = append(steps, set(func(p *C.char, e **C.codex_error) C.codex_result { return C.codex_options_set_url(opts, p, e) }, o.URL))
	}
	if o.AuthToken != "" {
		steps = append(steps, set(func(p *C.char, e **C.codex_error) C.codex_result { return C.codex_options_set_auth_token(opts, p, e) }, o.AuthToken))
	}
	if o.CAFile != "" {
		steps = append(steps, set(func(p *C.char, e **C.codex_error) C.codex_result { return C.codex_options_set_ca_file(opts, p, e) }, o.CAFile))
	}
	if o.ConnectTimeout != 0 {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_connect_timeout_ms(opts, millis(o.ConnectTimeout), &err), err))
	}
	if o.StartTimeout != 0 {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_start_timeout_ms(opts, millis(o.StartTimeout), &err), err))
	}
	if o.ControlTimeout != 0 {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_control_timeout_ms(opts, millis(o.ControlTimeout), &err), err))
	}
	if o.TurnIdleTimeout != 0 {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_turn_idle_timeout_ms(opts, millis(o.TurnIdleTimeout), &err), err))
	}
	if o.ReconnectWindow != nil {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_reconnect_window_ms(opts, millis(*o.ReconnectWindow), &err), err))
	}
	if o.MaxPendingRequests != 0 {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_max_pending_requests(opts, C.size_t(o.MaxPendingRequests), &err), err))
	}
	if o.TurnBufferEvents != nil {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_turn_buffer_events(opts, C.size_t(*o.TurnBufferEvents), &err), err))
	}
	if o.MaxLineBytes != nil {
		var err *C.codex_error
		steps = append(steps, check(C.codex_options_set_max_line_bytes(opts, C.size_t(*o.MaxLineBytes), &err), err))
	}
	for _, err := range steps {
		if err != nil {
			C.codex_options_free(opts)
			return nil, err // the first bad option
		}
	}
	return opts, nil
}

// handle returns the C client for a call, or ErrClosed once Close has begun freeing it.
func (c *Client) handle() (*C.codex_client, func(), error) {
	c.mu.RLock()
	if c.p == nil {
		c.mu.RUnlock()
		return nil, nil, &Error{Code: ErrClosed, Message: "the client is closed"}
	}
	return c.p, c.mu.RUnlock, nil
}

// Request sends any protocol method with params (marshalled to JSON; nil for none) and returns
// the raw result. timeout 0 uses the client's default; negative waits without limit.
func (c *Client) Request(method string, params any, timeout time.Duration) (json.RawMessage, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	js, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	m, freeM := cstr(&method)
	defer freeM()
	pj, freeP := cstr(js)
	defer freeP()
	var out *C.char
	var cerr *C.codex_error
	if e := check(C.codex_client_request(p, m, pj, millis(timeout), &out, &cerr), cerr); e != nil {
		return nil, e
	}
	return json.RawMessage(takeString(out)), nil
}

// ThreadStart starts a thread (params as for thread/start, nil for none) and returns its id.
func (c *Client) ThreadStart(params any) (string, error) {
	p, done, err := c.handle()
	if err != nil {
		return "", err
	}
	defer done()
	return threadStart(params, func(cp *C.char, id **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_start(p, cp, id, nil, cerr)
	})
}

// threadStart converts the params of a thread start for `start` (the client's or the pool's)
// and returns the new thread's id.
func threadStart(params any, start func(cp *C.char, id **C.char, cerr **C.codex_error) C.codex_result) (string, error) {
	pj, err := paramsJSON(params)
	if err != nil {
		return "", err
	}
	cp, free := cstr(pj)
	defer free()
	var id *C.char
	var cerr *C.codex_error
	if e := check(start(cp, &id, &cerr), cerr); e != nil {
		return "", e
	}
	return takeString(id), nil
}

// StartTurn starts a turn on threadID. input is text, or a JSON array of input items.
// params (nil for none) are further turn/start params. ErrTurnActive while the thread's
// previous turn is still running.
func (c *Client) StartTurn(threadID, input string, params any) (*Turn, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	return startTurn(threadID, input, params, func(t, in, cp *C.char, turn **C.codex_turn, cerr **C.codex_error) C.codex_result {
		return C.codex_turn_start(p, t, in, cp, turn, cerr)
	})
}

// startTurn converts the arguments of a turn start for `start` (the client's or the pool's)
// and wraps the turn it makes.
func startTurn(threadID, input string, params any, start func(t, in, cp *C.char, turn **C.codex_turn, cerr **C.codex_error) C.codex_result) (*Turn, error) {
	pj, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	t, freeT := cstr(&threadID)
	defer freeT()
	in, freeI := cstr(&input)
	defer freeI()
	cp, freeP := cstr(pj)
	defer freeP()
	var turn *C.codex_turn
	var cerr *C.codex_error
	if e := check(start(t, in, cp, &turn, &cerr), cerr); e != nil {
		return nil, e
	}
	tu := &Turn{p: turn, ID: C.GoString(C.codex_turn_id(turn)), ThreadID: threadID}
	runtime.SetFinalizer(tu, (*Turn).Close)
	return tu, nil
}

// NextEvent returns the next event of the client stream (notifications of no held turn).
func (c *Client) NextEvent(timeout time.Duration) (*Event, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	var ev *C.codex_event
	var cerr *C.codex_error
	if e := check(C.codex_client_next_event(p, millis(timeout), &ev, &cerr), cerr); e != nil {
		return nil, e
	}
	return copyEvent(ev), nil
}

// Close closes the client (waking every blocked call with ErrClosed) and frees it.
// Idempotent; safe to call while other goroutines use the client.
func (c *Client) Close() error {
	c.mu.RLock()
	p := c.p
	c.mu.RUnlock()
	if p == nil {
		return nil
	}
	C.codex_client_close(p) // wakes blocked calls, which then release their read locks
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p != nil {
		C.codex_client_free(c.p)
		c.p = nil
	}
	runtime.SetFinalizer(c, nil)
	return nil
}

// EventKind is one of the CODEX_EVENT_* kinds.
type EventKind uint32

const (
	EventOther             EventKind = C.CODEX_EVENT_OTHER
	EventTurnStarted       EventKind = C.CODEX_EVENT_TURN_STARTED
	EventTurnCompleted     EventKind = C.CODEX_EVENT_TURN_COMPLETED
	EventItemStarted       EventKind = C.CODEX_EVENT_ITEM_STARTED
	EventItemCompleted     EventKind = C.CODEX_EVENT_ITEM_COMPLETED
	EventAgentMessageDelta EventKind = C.CODEX_EVENT_AGENT_MESSAGE_DELTA
	EventReasoningDelta    EventKind = C.CODEX_EVENT_REASONING_DELTA
	EventCommandOutput     EventKind = C.CODEX_EVENT_COMMAND_OUTPUT_DELTA
	EventTokenUsage        EventKind = C.CODEX_EVENT_TOKEN_USAGE
	EventError             EventKind = C.CODEX_EVENT_ERROR
	EventServerRequest     EventKind = C.CODEX_EVENT_SERVER_REQUEST
)

// Event is a notification or server request, copied into Go memory.
type Event struct {
	Kind       EventKind
	Method     string
	ThreadID   string
	TurnID     string
	Params     json.RawMessage
	Delta      string
	TurnStatus string
	// Request is set for EventServerRequest: answer it (Approve, Respond, RespondError).
	Request *Request
	// RateLimits is set for account/rateLimits/updated: the snapshot as numbers.
	RateLimits *RateLimits
}

func goStringOrEmpty(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func copyEvent(ev *C.codex_event) *Event {
	var plen, dlen C.size_t
	params := C.codex_event_params(ev, &plen)
	out := &Event{
		Kind:       EventKind(C.codex_event_kind(ev)),
		Method:     C.GoString(C.codex_event_method(ev)),
		ThreadID:   goStringOrEmpty(C.codex_event_thread_id(ev)),
		TurnID:     goStringOrEmpty(C.codex_event_turn_id(ev)),
		Params:     json.RawMessage(C.GoStringN(params, C.int(plen))),
		TurnStatus: goStringOrEmpty(C.codex_event_turn_status(ev)),
	}
	if d := C.codex_event_delta(ev, &dlen); d != nil {
		out.Delta = C.GoStringN(d, C.int(dlen))
	}
	if out.Method == rateLimitsUpdated {
		out.RateLimits = rateLimitsOf(ev)
	}
	if out.Kind == EventServerRequest {
		var req *C.codex_request
		if C.codex_event_request(ev, &req, nil) == C.CODEX_OK {
			out.Request = &Request{p: req, Method: out.Method}
			runtime.SetFinalizer(out.Request, (*Request).Free)
		}
	}
	C.codex_event_free(ev)
	return out
}

// Turn is a running turn. Read it from one goroutine at a time; Steer and Interrupt may be
// called from any goroutine.
type Turn struct {
	mu       sync.RWMutex
	p        *C.codex_turn
	ID       string
	ThreadID string
	errMu    sync.Mutex
	err      error // why the channel of Events closed
}

func (t *Turn) handle() (*C.codex_turn, func(), error) {
	t.mu.RLock()
	if t.p == nil {
		t.mu.RUnlock()
		return nil, nil, &Error{Code: ErrInvalidArgument, Message: "turn: closed"}
	}
	return t.p, t.mu.RUnlock, nil
}

// NextEvent returns the turn's next event, io.EOF after turn/completed, or an *Error
// (ErrTimeout, ErrTransport, ErrClosed). timeout < 0 waits without limit.
func (t *Turn) NextEvent(timeout time.Duration) (*Event, error) {
	p, done, err := t.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	var ev *C.codex_event
	var cerr *C.codex_error
	rc := C.codex_turn_next_event(p, millis(timeout), &ev, &cerr)
	if rc == C.CODEX_STREAM_END {
		return nil, io.EOF
	}
	if e := check(rc, cerr); e != nil {
		return nil, e
	}
	return copyEvent(ev), nil
}

// Steer adds input to the running turn.
func (t *Turn) Steer(input string) error {
	p, done, err := t.handle()
	if err != nil {
		return err
	}
	defer done()
	in, free := cstr(&input)
	defer free()
	var cerr *C.codex_error
	return check(C.codex_turn_steer(p, in, &cerr), cerr)
}

// Interrupt asks the server to stop the turn; it then completes as "interrupted".
func (t *Turn) Interrupt() error {
	p, done, err := t.handle()
	if err != nil {
		return err
	}
	defer done()
	var cerr *C.codex_error
	return check(C.codex_turn_interrupt(p, &cerr), cerr)
}

// TurnResult summarizes a finished turn.
type TurnResult struct {
	Status       string
	ErrorMessage string
	FinalAnswer  *string
	Items        json.RawMessage
	Usage        json.RawMessage
	// Failure is the turn's failure as a TurnError object (read it with ParseJSON and
	// JSON.Failure), nil when it did not fail.
	Failure json.RawMessage
	Gap     bool // a reconnect while the turn ran: some events were missed
	// Review is the review's text, for a review turn (StartReview); nil otherwise.
	Review *string
}

// Run consumes the turn to its end and summarizes all of it.
func (t *Turn) Run(eachWait time.Duration) (*TurnResult, error) {
	p, done, err := t.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	var r *C.codex_turn_result
	var cerr *C.codex_error
	if e := check(C.codex_turn_run(p, millis(eachWait), &r, &cerr), cerr); e != nil {
		return nil, e
	}
	defer C.codex_turn_result_free(r)
	var ilen C.size_t
	items := C.codex_turn_result_items_json(r, &ilen)
	out := &TurnResult{
		Status:       C.GoString(C.codex_turn_result_status(r)),
		ErrorMessage: goStringOrEmpty(C.codex_turn_result_error_message(r)),
		Items:        json.RawMessage(C.GoStringN(items, C.int(ilen))),
		Gap:          bool(C.codex_turn_result_gap(r)),
	}
	if a := C.codex_turn_result_final_answer(r); a != nil {
		s := C.GoString(a)
		out.FinalAnswer = &s
	}
	if u := C.codex_turn_result_usage_json(r); u != nil {
		out.Usage = json.RawMessage(C.GoString(u))
	}
	if f := C.codex_turn_result_error(r); f != nil {
		var s *C.char
		var n C.size_t
		if C.codex_json_get_raw(f, rootPointer, &s, &n, nil) == C.CODEX_OK {
			out.Failure = json.RawMessage(C.GoStringN(s, C.int(n)))
		}
	}
	if v := C.codex_turn_result_review(r); v != nil {
		s := C.GoString(v)
		out.Review = &s
	}
	return out, nil
}

// Close frees the turn; a turn still running goes on in the server, its open requests are
// declined. Waits for calls on it in other goroutines to return.
func (t *Turn) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.p != nil {
		C.codex_turn_free(t.p)
		t.p = nil
	}
	runtime.SetFinalizer(t, nil)
	return nil
}

// Decision answers an approval.
type Decision uint32

const (
	Accept           Decision = C.CODEX_DECISION_ACCEPT
	AcceptForSession Decision = C.CODEX_DECISION_ACCEPT_FOR_SESSION
	Decline          Decision = C.CODEX_DECISION_DECLINE
	Cancel           Decision = C.CODEX_DECISION_CANCEL
)

// Request is a server request waiting for an answer. Unanswered requests are declined by the
// library when the answer timeout passes, their turn is closed, or the client closes.
type Request struct {
	mu     sync.Mutex
	p      *C.codex_request
	Method string
}

func (r *Request) with(f func(*C.codex_request, **C.codex_error) C.codex_result) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return &Error{Code: ErrInvalidArgument, Message: "request: freed"}
	}
	var cerr *C.codex_error
	return check(f(r.p, &cerr), cerr)
}

// Approve answers an approval request with a decision.
func (r *Request) Approve(d Decision) error {
	return r.with(func(p *C.codex_request, e **C.codex_error) C.codex_result {
		return C.codex_request_approve(p, C.uint32_t(d), e)
	})
}

// Respond answers with a result (marshalled to JSON).
func (r *Request) Respond(result any) error {
	b, err := json.Marshal(result)
	if err != nil {
		return &Error{Code: ErrInvalidArgument, Message: "result: " + err.Error()}
	}
	s, free := cstr(str(string(b)))
	defer free()
	return r.with(func(p *C.codex_request, e **C.codex_error) C.codex_result {
		return C.codex_request_respond(p, s, e)
	})
}

// RespondError answers with a JSON-RPC error.
func (r *Request) RespondError(code int64, message string) error {
	m, free := cstr(&message)
	defer free()
	return r.with(func(p *C.codex_request, e **C.codex_error) C.codex_result {
		return C.codex_request_respond_error(p, C.int64_t(code), m, e)
	})
}

// Free releases the handle (without answering).
func (r *Request) Free() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		C.codex_request_free(r.p)
		r.p = nil
	}
	runtime.SetFinalizer(r, nil)
}

// Pool spreads Codex threads over many app-servers (see codex_pool in the C header): a new
// thread goes to the healthy member with the fewest active turns, its turns to that member; a
// failed member is restarted in the background. Safe for concurrent use.
type Pool struct {
	mu sync.RWMutex
	p  *C.codex_pool
}

// StartPool starts (or connects) every member at once, each on its own library thread; it
// returns as soon as one is up (the others go on starting in the background: see
// MemberHealthy) and fails when every member's first start failed.
func StartPool(members []Options) (*Pool, error) {
	if len(members) == 0 {
		return nil, &Error{Code: ErrInvalidArgument, Message: "members: a pool needs at least one"}
	}
	// The array of option pointers lives in C memory: cgo forbids Go memory holding C pointers
	// being passed down.
	mem := C.malloc(C.size_t(len(members)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	arr := unsafe.Slice((**C.codex_options)(mem), len(members))
	defer C.free(mem)
	made := 0
	defer func() {
		for _, o := range arr[:made] {
			C.codex_options_free(o)
		}
	}()
	for i, m := range members {
		opts, err := newOptions(m)
		if err != nil {
			return nil, err
		}
		arr[i] = opts
		made++
	}
	var p *C.codex_pool
	var cerr *C.codex_error
	if e := check(C.codex_pool_start((**C.codex_options)(mem), C.size_t(len(members)), &p, &cerr), cerr); e != nil {
		return nil, e
	}
	pool := &Pool{p: p}
	runtime.SetFinalizer(pool, (*Pool).Close)
	return pool, nil
}

func (p *Pool) handle() (*C.codex_pool, func(), error) {
	p.mu.RLock()
	if p.p == nil {
		p.mu.RUnlock()
		return nil, nil, &Error{Code: ErrClosed, Message: "the pool is closed"}
	}
	return p.p, p.mu.RUnlock, nil
}

// ThreadStart starts a thread on the least busy healthy member and returns its id.
func (p *Pool) ThreadStart(params any) (string, error) {
	cp, done, err := p.handle()
	if err != nil {
		return "", err
	}
	defer done()
	return threadStart(params, func(cj *C.char, id **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_pool_thread_start(cp, cj, id, nil, cerr)
	})
}

// StartTurn starts a turn on the member that owns threadID; ErrTransport when that member
// failed since, ErrInvalidArgument for a thread this pool did not start.
func (p *Pool) StartTurn(threadID, input string, params any) (*Turn, error) {
	cp, done, err := p.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	return startTurn(threadID, input, params, func(t, in, cj *C.char, turn **C.codex_turn, cerr **C.codex_error) C.codex_result {
		return C.codex_pool_turn_start(cp, t, in, cj, turn, cerr)
	})
}

// MemberCount is the number of members, healthy or not.
func (p *Pool) MemberCount() int {
	cp, done, err := p.handle()
	if err != nil {
		return 0
	}
	defer done()
	return int(C.codex_pool_member_count(cp))
}

// MemberHealthy tells whether member i is up.
func (p *Pool) MemberHealthy(i int) bool {
	cp, done, err := p.handle()
	if err != nil || i < 0 {
		return false
	}
	defer done()
	return bool(C.codex_pool_member_healthy(cp, C.size_t(i)))
}

// Close closes every member at once and frees the pool. Idempotent.
func (p *Pool) Close() error {
	p.mu.RLock()
	cp := p.p
	p.mu.RUnlock()
	if cp == nil {
		return nil
	}
	C.codex_pool_close(cp)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p != nil {
		C.codex_pool_free(p.p)
		p.p = nil
	}
	runtime.SetFinalizer(p, nil)
	return nil
}
