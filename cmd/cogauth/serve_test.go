package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestServeUntilDone(t *testing.T) {
	errServe, errStop := errors.New("serve failed"), errors.New("stop failed")
	for _, tt := range []struct {
		name    string
		failed  error // reported by the server; nil: ctx ends instead
		stopErr error
		want    error
		stopped bool
	}{
		{"serving fails: no shutdown", errServe, nil, errServe, false},
		{"ctx ends: shutdown", nil, nil, nil, true},
		{"ctx ends: shutdown fails", nil, errStop, errStop, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			failed := make(chan error, 1)
			if tt.failed != nil {
				failed <- tt.failed
			} else {
				cancel()
			}
			stopped := false
			err := serveUntilDone(ctx, failed, func(stopCtx context.Context) error {
				stopped = true
				if stopCtx.Err() != nil {
					t.Error("shutdown got an ended context")
				}
				if d, ok := stopCtx.Deadline(); !ok || time.Until(d) > shutdownGrace {
					t.Errorf("shutdown deadline %v, want within %v", d, shutdownGrace)
				}
				return tt.stopErr
			})
			if !errors.Is(err, tt.want) || stopped != tt.stopped {
				t.Fatalf("err %v, stopped %v; want %v, %v", err, stopped, tt.want, tt.stopped)
			}
		})
	}
}
