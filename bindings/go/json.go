package codexappserver

/*
#include <stdlib.h>
#include "codex_app_server.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// JSONType is one of the CODEX_JSON_* types.
type JSONType uint32

const (
	JSONNull   JSONType = C.CODEX_JSON_NULL
	JSONBool   JSONType = C.CODEX_JSON_BOOL
	JSONNumber JSONType = C.CODEX_JSON_NUMBER
	JSONString JSONType = C.CODEX_JSON_STRING
	JSONArray  JSONType = C.CODEX_JSON_ARRAY
	JSONObject JSONType = C.CODEX_JSON_OBJECT
)

// JSON is a document read by RFC 6901 JSON Pointer through the library (codex_json): the
// same getters a C program uses. A getter returns ErrNotFound when nothing is at the pointer
// and ErrWrongType for a value of another type (errors.Is works on both). Safe for concurrent
// use; Close frees it (a finalizer is the safety net).
type JSON struct {
	mu sync.RWMutex
	p  *C.codex_json
}

// ParseJSON parses text into a document, e.g. an Event's Params.
func ParseJSON(text []byte) (*JSON, error) {
	ct := C.CString(string(text))
	defer C.free(unsafe.Pointer(ct))
	var p *C.codex_json
	var cerr *C.codex_error
	if e := check(C.codex_json_parse(ct, &p, &cerr), cerr); e != nil {
		return nil, e
	}
	return ownJSON(p), nil
}

func ownJSON(p *C.codex_json) *JSON {
	j := &JSON{p: p}
	runtime.SetFinalizer(j, (*JSON).Close)
	return j
}

// JSON reads the event's params by pointer.
func (e *Event) JSON() (*JSON, error) { return ParseJSON(e.Params) }

// RequestJSON is Request with the result as a document read by pointer.
func (c *Client) RequestJSON(method string, params any, timeout time.Duration) (*JSON, error) {
	ps, err := paramsJSON(params)
	if err != nil {
		return nil, err
	}
	h, done, err := c.handle()
	if err != nil {
		return nil, err
	}
	defer done()
	cm, freeM := cstr(&method)
	defer freeM()
	cp, freeP := cstr(ps)
	defer freeP()
	var p *C.codex_json
	var cerr *C.codex_error
	if e := check(C.codex_client_request_json(h, cm, cp, millis(timeout), &p, &cerr), cerr); e != nil {
		return nil, e
	}
	return ownJSON(p), nil
}

// read runs one getter on the live document.
func (j *JSON) read(pointer string, get func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result) error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.p == nil {
		return &Error{Code: ErrInvalidArgument, Message: "json: closed"}
	}
	cp := C.CString(pointer)
	defer C.free(unsafe.Pointer(cp))
	var cerr *C.codex_error
	return check(get(j.p, cp, &cerr), cerr)
}

// String is the decoded string at pointer.
func (j *JSON) String(pointer string) (string, error) {
	var out string
	err := j.read(pointer, func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result {
		var s *C.char
		var n C.size_t
		rc := C.codex_json_get_string(p, cp, &s, &n, cerr)
		if rc == C.CODEX_OK {
			out = C.GoStringN(s, C.int(n))
		}
		return rc
	})
	return out, err
}

// Int is the integer at pointer.
func (j *JSON) Int(pointer string) (int64, error) {
	var v C.int64_t
	err := j.read(pointer, func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_json_get_int(p, cp, &v, cerr)
	})
	return int64(v), err
}

// Float is the number at pointer.
func (j *JSON) Float(pointer string) (float64, error) {
	var v C.double
	err := j.read(pointer, func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_json_get_double(p, cp, &v, cerr)
	})
	return float64(v), err
}

// Bool is the boolean at pointer.
func (j *JSON) Bool(pointer string) (bool, error) {
	var v C.bool
	err := j.read(pointer, func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_json_get_bool(p, cp, &v, cerr)
	})
	return bool(v), err
}

// Type is the JSON type at pointer (ErrNotFound when absent).
func (j *JSON) Type(pointer string) (JSONType, error) {
	var v C.uint32_t
	err := j.read(pointer, func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_json_get_type(p, cp, &v, cerr)
	})
	return JSONType(v), err
}

// Len is the length of the array at pointer.
func (j *JSON) Len(pointer string) (int, error) {
	var v C.size_t
	err := j.read(pointer, func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result {
		return C.codex_json_get_array_len(p, cp, &v, cerr)
	})
	return int(v), err
}

// Raw is the raw JSON text of the value at pointer.
func (j *JSON) Raw(pointer string) ([]byte, error) {
	var out []byte
	err := j.read(pointer, func(p *C.codex_json, cp *C.char, cerr **C.codex_error) C.codex_result {
		var s *C.char
		var n C.size_t
		rc := C.codex_json_get_raw(p, cp, &s, &n, cerr)
		if rc == C.CODEX_OK {
			out = C.GoBytes(unsafe.Pointer(s), C.int(n))
		}
		return rc
	})
	return out, err
}

// Close frees the document. Idempotent.
func (j *JSON) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.p != nil {
		C.codex_json_free(j.p)
		j.p = nil
	}
	runtime.SetFinalizer(j, nil)
	return nil
}
