package codexappserver

import (
	"errors"
	"testing"
)

// Getters by JSON Pointer: values, absent and wrong type told apart, bad pointers refused;
// a request's result and an event's params read the same way.
func TestJSONGetters(t *testing.T) {
	doc, err := ParseJSON([]byte(`{"s":"a\"b é","n":-3,"f":0.5,"t":true,"z":null,"a":[1,{"k/x":"v"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer doc.Close()
	if s, err := doc.String("/s"); err != nil || s != "a\"b é" {
		t.Fatalf("string %q %v", s, err)
	}
	if n, err := doc.Int("/n"); err != nil || n != -3 {
		t.Fatalf("int %d %v", n, err)
	}
	if f, err := doc.Float("/f"); err != nil || f != 0.5 {
		t.Fatalf("float %v %v", f, err)
	}
	if b, err := doc.Bool("/t"); err != nil || !b {
		t.Fatalf("bool %v %v", b, err)
	}
	if ty, err := doc.Type("/z"); err != nil || ty != JSONNull {
		t.Fatalf("type %v %v", ty, err)
	}
	if n, err := doc.Len("/a"); err != nil || n != 2 {
		t.Fatalf("len %d %v", n, err)
	}
	if s, err := doc.String("/a/1/k~1x"); err != nil || s != "v" {
		t.Fatalf("escaped member %q %v", s, err)
	}
	if raw, err := doc.Raw("/a/1"); err != nil || string(raw) != `{"k/x":"v"}` {
		t.Fatalf("raw %s %v", raw, err)
	}
	if _, err := doc.Int("/missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("absent: %v", err)
	}
	if _, err := doc.Int("/s"); !errors.Is(err, ErrWrongType) {
		t.Fatalf("wrong type: %v", err)
	}
	if _, err := doc.Int("s"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad pointer: %v", err)
	}
	if _, err := ParseJSON([]byte(`{"a":`)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad JSON: %v", err)
	}

	c := fake(t, "normal", nil)
	res, err := c.RequestJSON("test/echo", map[string]any{"cwd": `C:\a "b" ü`}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if s, err := res.String("/cwd"); err != nil || s != `C:\a "b" ü` {
		t.Fatalf("echo %q %v", s, err)
	}
	turn, err := c.StartTurn(mustThread(t, c), "deltas=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer turn.Close()
	total := int64(0)
	for {
		ev, err := turn.NextEvent(-1)
		if err != nil {
			break
		}
		if ev.Kind == EventTokenUsage {
			params, err := ev.JSON()
			if err != nil {
				t.Fatal(err)
			}
			total, _ = params.Int("/tokenUsage/total/totalTokens")
			params.Close()
		}
	}
	if total != 8 {
		t.Fatalf("total tokens %d", total)
	}
}
