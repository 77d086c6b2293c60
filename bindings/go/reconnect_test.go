package codexappserver

import (
	"errors"
	"testing"
	"time"
)

// The reconnect window is an option like the others: a negative one is refused before anything
// starts; 0 (off) is accepted, and a spawned server's turns report no gap.
func TestReconnectWindowOption(t *testing.T) {
	bad := -time.Second
	_, err := Start(Options{CodexBin: fakeServer(t), ReconnectWindow: &bad})
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a negative window: %v", err)
	}
	off := time.Duration(0)
	scenario := "normal"
	c, err := Start(Options{CodexBin: fakeServer(t), ReconnectWindow: &off,
		Env: map[string]*string{"FAKE_SCENARIO": &scenario}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if EventGap == EventDisconnected || EventReconnected == EventReconnectFailed {
		t.Fatal("the reconnect event kinds are distinct")
	}
}
