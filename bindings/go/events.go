package codexappserver

import (
	"context"
	"errors"
	"io"
	"time"
)

// slice is how long one wait inside the context-aware calls lasts before the context is
// looked at again: cancellation takes effect within it.
const slice = 50 * time.Millisecond

// NextEventContext is NextEvent bounded by ctx instead of a timeout: it returns ctx.Err() once
// ctx is done (within 50 ms), the next event, io.EOF after turn/completed, or the turn's error.
func (t *Turn) NextEventContext(ctx context.Context) (*Event, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev, err := t.NextEvent(slice)
		if errors.Is(err, ErrTimeout) {
			continue
		}
		return ev, err
	}
}

// Events delivers the turn's events on a channel, closed at the end of the turn, when the
// turn fails, or when ctx is done; Err then tells which (nil after turn/completed). One
// goroutine serves the channel and ends with it: nothing is left running once the channel is
// closed, even if nobody reads the remaining events (cancel ctx to stop early).
func (t *Turn) Events(ctx context.Context) <-chan *Event {
	out := make(chan *Event)
	go func() {
		defer close(out)
		for {
			ev, err := t.NextEventContext(ctx)
			if err != nil {
				if err != io.EOF {
					t.setErr(err)
				}
				return
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				t.setErr(ctx.Err())
				return
			}
		}
	}()
	return out
}

// Err is why the channel of Events closed: nil after turn/completed, else the turn's error or
// the context's.
func (t *Turn) Err() error {
	t.errMu.Lock()
	defer t.errMu.Unlock()
	return t.err
}

func (t *Turn) setErr(err error) {
	t.errMu.Lock()
	defer t.errMu.Unlock()
	t.err = err
}
