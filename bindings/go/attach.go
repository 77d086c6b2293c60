package codexappserver

/*
#include <stdlib.h>
#include "codex_app_server.h"
*/
import "C"

import "runtime"

// AttachTurn returns a handle for a turn this client did not start: with turnID "" the turn
// running on threadID now, or the next one that starts there; otherwise that turn only (as
// thread/resume shows it in progress). Nothing is sent. ErrTurnActive while the thread has a
// turn handle on this client; ErrNotFound for a turn this client saw complete. The handle's ID
// is "" until an event names the turn: read CurrentID.
func (c *Client) AttachTurn(threadID, turnID string) (*Turn, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	t, freeT := cstr(&threadID)
	defer freeT()
	var id *string
	if turnID != "" {
		id = &turnID
	}
	tid, freeID := cstr(id)
	defer freeID()
	var turn *C.codex_turn
	var cerr *C.codex_error
	if e := check(C.codex_client_turn_attach(p, t, tid, &turn, &cerr), cerr); e != nil {
		return nil, e
	}
	tu := &Turn{p: turn, ID: C.GoString(C.codex_turn_id(turn)), ThreadID: threadID}
	runtime.SetFinalizer(tu, (*Turn).Close)
	return tu, nil
}

// StartReview starts a code review on threadID (review/start) as a turn. params holds
// "target" (e.g. map[string]any{"target": map[string]any{"type": "uncommittedChanges"}});
// the review's text is TurnResult.Review after Run.
func (c *Client) StartReview(threadID string, params any) (*Turn, error) {
	p, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	pj, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	if pj == nil {
		pj = str("{}")
	}
	t, freeT := cstr(&threadID)
	defer freeT()
	cp, freeP := cstr(pj)
	defer freeP()
	var turn *C.codex_turn
	var cerr *C.codex_error
	if e := check(C.codex_review_start(p, t, cp, &turn, &cerr), cerr); e != nil {
		return nil, e
	}
	tu := &Turn{p: turn, ID: C.GoString(C.codex_turn_id(turn)), ThreadID: threadID}
	runtime.SetFinalizer(tu, (*Turn).Close)
	return tu, nil
}

// CurrentID is the id the turn's events carry once one has arrived (steer and interrupt use
// it), before that the id it started with; "" for an attached turn nothing has named yet, and
// for a turn started asynchronously until its answer or first event names it.
func (t *Turn) CurrentID() string {
	p, done, err := t.handle()
	if err != nil {
		return t.ID
	}
	defer done()
	return C.GoString(C.codex_turn_id(p))
}
