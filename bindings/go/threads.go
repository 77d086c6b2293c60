package codexappserver

/*
#include <stdlib.h>
#include "codex_app_server.h"
*/
import "C"

import (
	"encoding/json"
	"io"
	"runtime"
	"sync"
)

// stringCall runs a C call that writes a JSON string, on a live client.
func (c *Client) stringCall(call func(p *C.codex_client, out **C.char, cerr **C.codex_error) C.codex_result) (json.RawMessage, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	var out *C.char
	var cerr *C.codex_error
	if e := check(call(p, &out, &cerr), cerr); e != nil {
		return nil, e
	}
	return json.RawMessage(takeString(out)), nil
}

// threadCall runs a call on threadID that writes a JSON string.
func (c *Client) threadCall(threadID string, call func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result) (json.RawMessage, error) {
	t, free := cstr(&threadID)
	defer free()
	return c.stringCall(func(p *C.codex_client, out **C.char, cerr **C.codex_error) C.codex_result {
		return call(p, t, out, cerr)
	})
}

// ThreadFork forks threadID (see codex_client_thread_fork): the new thread's id and the full
// result. includeTurns false leaves the history out of the result (the fork still has it).
// params (nil for none) are further thread/fork params.
func (c *Client) ThreadFork(threadID string, includeTurns bool, params any) (string, json.RawMessage, error) {
	pj, err := paramsJSON(params)
	if err != nil {
		return "", nil, err
	}
	cp, freeP := cstr(pj)
	defer freeP()
	var id *C.char
	result, err := c.threadCall(threadID, func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_fork(p, t, C.bool(includeTurns), cp, &id, out, cerr)
	})
	if err != nil {
		return "", nil, err
	}
	return takeString(id), result, nil
}

// ThreadRead reads a thread, with its turns and items when includeTurns.
func (c *Client) ThreadRead(threadID string, includeTurns bool) (json.RawMessage, error) {
	return c.threadCall(threadID, func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_read(p, t, C.bool(includeTurns), out, cerr)
	})
}

// ThreadTurnsList reads one page of a thread's turns (params: limit, cursor, sortDirection,
// itemsView; nil for none).
func (c *Client) ThreadTurnsList(threadID string, params any) (json.RawMessage, error) {
	pj, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	cp, freeP := cstr(pj)
	defer freeP()
	return c.threadCall(threadID, func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_turns_list(p, t, cp, out, cerr)
	})
}

// ThreadArchive archives a thread: it leaves the default listing.
func (c *Client) ThreadArchive(threadID string) (json.RawMessage, error) {
	return c.threadCall(threadID, func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_archive(p, t, out, cerr)
	})
}

// ThreadUnarchive brings an archived thread back into the default listing.
func (c *Client) ThreadUnarchive(threadID string) (json.RawMessage, error) {
	return c.threadCall(threadID, func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_unarchive(p, t, out, cerr)
	})
}

// ThreadSetName names a thread.
func (c *Client) ThreadSetName(threadID, name string) (json.RawMessage, error) {
	n, free := cstr(&name)
	defer free()
	return c.threadCall(threadID, func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_set_name(p, t, n, out, cerr)
	})
}

// ThreadCompact starts compacting a thread's history (its events reach the client stream).
func (c *Client) ThreadCompact(threadID string) (json.RawMessage, error) {
	return c.threadCall(threadID, func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_compact(p, t, out, cerr)
	})
}

// ThreadUnsubscribe lets go of a thread on this connection so that the server may unload it
// (see codex_client_thread_unsubscribe); ErrTurnActive while a turn runs on it.
func (c *Client) ThreadUnsubscribe(threadID string) (json.RawMessage, error) {
	return c.threadCall(threadID, func(p *C.codex_client, t *C.char, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_thread_unsubscribe(p, t, out, cerr)
	})
}

// ModelList lists the models, every page merged: {"data": [...]}.
func (c *Client) ModelList(includeHidden bool) (json.RawMessage, error) {
	return c.stringCall(func(p *C.codex_client, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_model_list(p, C.bool(includeHidden), out, cerr)
	})
}

// AccountRead reads the account the server uses.
func (c *Client) AccountRead(refreshToken bool) (json.RawMessage, error) {
	return c.stringCall(func(p *C.codex_client, out **C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_client_account_read(p, C.bool(refreshToken), out, cerr)
	})
}

// AccountLoginAPIKey logs the server in with an API key. Browser and device-code logins are
// left to Request (account/login/start).
func (c *Client) AccountLoginAPIKey(apiKey string) error {
	p, done, err := c.handle()
	if err != nil {
		return err
	}
	defer done()
	k, free := cstr(&apiKey)
	defer free()
	var cerr *C.codex_error
	return check(C.codex_client_account_login_api_key(p, k, &cerr), cerr)
}

// AccountLogout logs the server out.
func (c *Client) AccountLogout() error {
	p, done, err := c.handle()
	if err != nil {
		return err
	}
	defer done()
	var cerr *C.codex_error
	return check(C.codex_client_account_logout(p, &cerr), cerr)
}

// RateLimitWindow is one window of a rate limit. WindowMinutes and ResetsAt (Unix seconds)
// are -1 when the server did not say.
type RateLimitWindow struct {
	UsedPercent   int32
	WindowMinutes int64
	ResetsAt      int64
}

// RateLimits is a rate-limit snapshot; a window the snapshot lacks is nil.
type RateLimits struct {
	Primary   *RateLimitWindow
	Secondary *RateLimitWindow
	JSON      json.RawMessage
}

// copyRateLimits copies a C snapshot into Go memory and frees it.
func copyRateLimits(l *C.codex_rate_limits) *RateLimits {
	defer C.codex_rate_limits_free(l)
	window := func(which C.uint32_t) *RateLimitWindow {
		var used C.int32_t
		var minutes, resets C.int64_t
		if !C.codex_rate_limits_window(l, which, &used, &minutes, &resets) {
			return nil
		}
		return &RateLimitWindow{UsedPercent: int32(used), WindowMinutes: int64(minutes), ResetsAt: int64(resets)}
	}
	return &RateLimits{
		Primary:   window(C.CODEX_RATE_LIMIT_PRIMARY),
		Secondary: window(C.CODEX_RATE_LIMIT_SECONDARY),
		JSON:      json.RawMessage(C.GoString(C.codex_rate_limits_json(l))),
	}
}

// rateLimitsUpdated is the notification that carries a rate-limit snapshot.
const rateLimitsUpdated = "account/rateLimits/updated"

// rateLimitsOf reads the snapshot of an account/rateLimits/updated event; nil for other events.
func rateLimitsOf(ev *C.codex_event) *RateLimits {
	var l *C.codex_rate_limits
	if C.codex_rate_limits_from_event(ev, &l, nil) != C.CODEX_OK {
		return nil
	}
	return copyRateLimits(l)
}

// AccountRateLimits reads the account's rate limits now (the server needs a ChatGPT login);
// the account/rateLimits/updated notification brings them as Event.RateLimits.
func (c *Client) AccountRateLimits() (*RateLimits, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	var l *C.codex_rate_limits
	var cerr *C.codex_error
	if e := check(C.codex_client_account_rate_limits(p, &l, &cerr), cerr); e != nil {
		return nil, e
	}
	return copyRateLimits(l), nil
}

// ThreadPage is one page of a listing, copied into Go memory.
type ThreadPage struct {
	IDs []string
	// NextCursor is "" on the last page.
	NextCursor string
	JSON       json.RawMessage
}

// ThreadList is a listing of threads read a page at a time (see codex_client_thread_list).
// One goroutine at a time; Close it.
type ThreadList struct {
	mu     sync.Mutex
	p      *C.codex_thread_list
	client *Client // kept alive while the list is
}

// ThreadList starts a listing; params (nil for none) hold the filters: limit, archived, cwd,
// searchTerm, sortKey, sortDirection, cursor.
func (c *Client) ThreadList(params any) (*ThreadList, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	pj, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	cp, free := cstr(pj)
	defer free()
	var l *C.codex_thread_list
	var cerr *C.codex_error
	if e := check(C.codex_client_thread_list(p, cp, &l, &cerr), cerr); e != nil {
		return nil, e
	}
	list := &ThreadList{p: l, client: c}
	runtime.SetFinalizer(list, (*ThreadList).Close)
	return list, nil
}

// Next fetches the next page; io.EOF after the last one.
func (l *ThreadList) Next() (*ThreadPage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p == nil {
		return nil, &Error{Code: ErrInvalidArgument, Message: "list: closed"}
	}
	var cerr *C.codex_error
	rc := C.codex_thread_list_next_page(l.p, &cerr)
	if rc == C.CODEX_STREAM_END {
		return nil, io.EOF
	}
	if e := check(rc, cerr); e != nil {
		return nil, e
	}
	page := &ThreadPage{NextCursor: goStringOrEmpty(C.codex_thread_list_next_cursor(l.p))}
	for i := C.size_t(0); i < C.codex_thread_list_count(l.p); i++ {
		page.IDs = append(page.IDs, C.GoString(C.codex_thread_list_thread_id(l.p, i)))
	}
	var n C.size_t
	js := C.codex_thread_list_page_json(l.p, &n)
	page.JSON = json.RawMessage(C.GoStringN(js, C.int(n)))
	return page, nil
}

// Close frees the listing; idempotent.
func (l *ThreadList) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p != nil {
		C.codex_thread_list_free(l.p)
		l.p = nil
	}
	runtime.SetFinalizer(l, nil)
	return nil
}

// ThreadRelease lets go of a thread of the pool (see codex_pool_thread_release).
func (p *Pool) ThreadRelease(threadID string) error {
	cp, done, err := p.handle()
	if err != nil {
		return err
	}
	defer done()
	t, free := cstr(&threadID)
	defer free()
	var cerr *C.codex_error
	return check(C.codex_pool_thread_release(cp, t, &cerr), cerr)
}
