package main

import "testing"

// The same three concurrent turns, under `go test -race`.
func TestThreeConcurrentTurns(t *testing.T) {
	lines, err := run()
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("%d turns", len(lines))
	}
}
