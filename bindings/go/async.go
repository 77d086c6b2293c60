package codexappserver

/*
#include <stdint.h>
#include <stdlib.h>
#include "codex_app_server.h"
codex_result codex_go_pending_set_callback(codex_pending *pending, uintptr_t handle, codex_error **err);
codex_result codex_go_starting_set_callback(codex_client_starting *starting, uintptr_t handle, codex_error **err);
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"sync"
	"time"
)

// ErrTooManyPending: an asynchronous start was refused because the client's bound of starts
// waiting for their answer (Options.MaxPendingRequests, default 10,000) is reached.
const ErrTooManyPending Result = C.CODEX_ERR_TOO_MANY_PENDING

// Reply is the outcome of an asynchronous call: its raw result, or its error (an *Error, or
// the context's error when the call was cancelled).
type Reply struct {
	Result json.RawMessage
	Err    error
}

// call is one pending request waiting for its callback or its context.
type call struct {
	mu      sync.Mutex
	p       *C.codex_pending // nil once freed
	once    sync.Once
	replies chan Reply
	over    chan struct{}
}

// finish delivers the one reply and ends the context watch.
func (c *call) finish(r Reply) {
	c.once.Do(func() {
		c.replies <- r
		close(c.replies)
		close(c.over)
	})
}

// take hands the C handle to exactly one of the callback and the cancel.
func (c *call) take() *C.codex_pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.p
	c.p = nil
	return p
}

//export goPendingDone
func goPendingDone(handle C.uintptr_t, pending *C.codex_pending) {
	c := cgo.Handle(handle).Value().(*call)
	if c.take() == nil {
		return // cancelled: the cancel frees it (and waits for this call to return)
	}
	var text *C.char
	var cerr *C.codex_error
	r := Reply{}
	if e := check(C.codex_pending_result(pending, &text, &cerr), cerr); e != nil {
		r.Err = e
	} else {
		r.Result = json.RawMessage(C.GoString(text))
	}
	C.codex_pending_free(pending) // from inside its own callback: allowed
	c.finish(r)
}

//export goPendingRelease
func goPendingRelease(handle C.uintptr_t) {
	cgo.Handle(handle).Delete()
}

// watch turns a started pending request into a channel that gets exactly one Reply; ctx's end
// cancels the request (the reply is then ctx.Err()).
func watch(ctx context.Context, p *C.codex_pending) (<-chan Reply, error) {
	c := &call{p: p, replies: make(chan Reply, 1), over: make(chan struct{})}
	h := cgo.NewHandle(c)
	var cerr *C.codex_error
	if e := check(C.codex_go_pending_set_callback(p, C.uintptr_t(h), &cerr), cerr); e != nil {
		C.codex_pending_free(p) // the handle was released by the failed call
		return nil, e
	}
	if done := ctx.Done(); done != nil {
		go func() {
			select {
			case <-done:
				if p := c.take(); p != nil {
					C.codex_pending_free(p)
					c.finish(Reply{Err: ctx.Err()})
				}
			case <-c.over:
			}
		}()
	}
	return c.replies, nil
}

// RequestAsync sends any protocol method without waiting: the channel gets exactly one Reply.
// Cancelling ctx cancels the request (its answer, when it comes, is dropped). timeout as for
// Request. ErrTooManyPending when the client's bound is reached.
func (c *Client) RequestAsync(ctx context.Context, method string, params any, timeout time.Duration) (<-chan Reply, error) {
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
	var pending *C.codex_pending
	var cerr *C.codex_error
	if e := check(C.codex_client_request_async(p, m, pj, millis(timeout), &pending, &cerr), cerr); e != nil {
		return nil, e
	}
	return watch(ctx, pending)
}

// ThreadStartAsync starts a thread without waiting; the Reply's result is the thread/start
// result (the id at thread.id: see ThreadID).
func (c *Client) ThreadStartAsync(ctx context.Context, params any) (<-chan Reply, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	js, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	pj, freeP := cstr(js)
	defer freeP()
	var pending *C.codex_pending
	var cerr *C.codex_error
	if e := check(C.codex_client_thread_start_async(p, pj, &pending, &cerr), cerr); e != nil {
		return nil, e
	}
	return watch(ctx, pending)
}

// ThreadID reads the thread id of a thread/start or thread/resume result.
func ThreadID(result json.RawMessage) (string, error) {
	var r struct {
		Thread struct {
			ID string `json:"id"`
		} `json:"thread"`
	}
	if err := json.Unmarshal(result, &r); err != nil || r.Thread.ID == "" {
		return "", &Error{Code: ErrProtocol, Message: "the result names no thread"}
	}
	return r.Thread.ID, nil
}

// StartTurnAsync starts a turn without waiting for the turn/start answer: the Turn is returned
// at once (its ID is empty until read again with TurnID) and a failed start ends its stream
// with the error.
func (c *Client) StartTurnAsync(threadID, input string, params any) (*Turn, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	return startTurn(threadID, input, params, func(t, in, cp *C.char, turn **C.codex_turn, cerr **C.codex_error) C.codex_result {
		return C.codex_turn_start_async(p, t, in, cp, turn, cerr)
	})
}

// StartReply is the outcome of StartAsync: the client, or why it did not start (an *Error, or
// the context's error when the start was cancelled).
type StartReply struct {
	Client *Client
	Err    error
}

// starting is one client start waiting for its callback or its context.
type starting struct {
	mu      sync.Mutex
	p       *C.codex_client_starting // nil once handed to the callback or the cancel
	once    sync.Once
	replies chan StartReply
	over    chan struct{}
}

func (s *starting) take() *C.codex_client_starting {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.p
	s.p = nil
	return p
}

func (s *starting) finish(r StartReply) {
	s.once.Do(func() {
		s.replies <- r
		close(s.replies)
		close(s.over)
	})
}

//export goStarted
func goStarted(handle C.uintptr_t, p *C.codex_client_starting) {
	s := cgo.Handle(handle).Value().(*starting)
	if s.take() == nil {
		return // cancelled: the cancel frees it
	}
	var c *C.codex_client
	var cerr *C.codex_error
	r := StartReply{}
	if e := check(C.codex_client_starting_finish(p, &c, &cerr), cerr); e != nil {
		r.Err = e
	} else {
		r.Client = wrapClient(c)
	}
	C.codex_client_starting_free(p) // from inside its own callback: allowed
	s.finish(r)
}

// wrapClient owns a started C client as Start does.
func wrapClient(p *C.codex_client) *Client {
	c := &Client{p: p}
	runtime.SetFinalizer(c, (*Client).Close)
	return c
}

// StartAsync starts a client (spawn or connect, then initialize) without waiting: the channel
// gets exactly one StartReply. Cancelling ctx cancels the start (the child is killed); the
// reply is then ctx.Err().
func StartAsync(ctx context.Context, o Options) (<-chan StartReply, error) {
	opts, err := newOptions(o)
	if err != nil {
		return nil, err
	}
	var p *C.codex_client_starting
	var cerr *C.codex_error
	rc := C.codex_client_start_async(opts, &p, &cerr)
	C.codex_options_free(opts)
	if e := check(rc, cerr); e != nil {
		return nil, e
	}
	s := &starting{p: p, replies: make(chan StartReply, 1), over: make(chan struct{})}
	h := cgo.NewHandle(s)
	if e := check(C.codex_go_starting_set_callback(p, C.uintptr_t(h), &cerr), cerr); e != nil {
		C.codex_client_starting_free(p)
		return nil, e
	}
	if done := ctx.Done(); done != nil {
		go func() {
			select {
			case <-done:
				if p := s.take(); p != nil {
					C.codex_client_starting_free(p)
					s.finish(StartReply{Err: ctx.Err()})
				}
			case <-s.over:
			}
		}()
	}
	return s.replies, nil
}

// SteerAsync steers the running turn without waiting: the channel gets exactly one Reply.
// The turn's id must be known (CurrentID not empty). Cancelling ctx cancels the request.
func (t *Turn) SteerAsync(ctx context.Context, input string) (<-chan Reply, error) {
	p, done, err := t.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	in, free := cstr(&input)
	defer free()
	var pending *C.codex_pending
	var cerr *C.codex_error
	if e := check(C.codex_turn_steer_async(p, in, &pending, &cerr), cerr); e != nil {
		return nil, e
	}
	return watch(ctx, pending)
}

// InterruptAsync interrupts the turn without waiting; the turn then completes with status
// interrupted. The turn's id must be known.
func (t *Turn) InterruptAsync(ctx context.Context) (<-chan Reply, error) {
	p, done, err := t.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	var pending *C.codex_pending
	var cerr *C.codex_error
	if e := check(C.codex_turn_interrupt_async(p, &pending, &cerr), cerr); e != nil {
		return nil, e
	}
	return watch(ctx, pending)
}
