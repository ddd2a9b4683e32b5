package bounded_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/internal/bounded"
)

func TestBodyLimit(t *testing.T) {
	tests := []struct {
		size    int
		tooLong bool
	}{{0, false}, {10, false}, {100, false}, {101, true}, {5000, true}}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, strings.Repeat("x", tt.size))
		}))
		c := bounded.HTTPClient(nil, 100)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("request"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		var tl *bounded.TooLargeError
		if got := errors.As(err, &tl); got != tt.tooLong {
			t.Errorf("%d bytes: err = %v", tt.size, err)
		}
		if len(b) > 100 {
			t.Errorf("%d bytes: read %d past the limit", tt.size, len(b))
		}
		if !tt.tooLong && (len(b) != tt.size || bounded.BodyOf(resp.Body).N() != int64(tt.size)) {
			t.Errorf("%d bytes: got %d", tt.size, len(b))
		}
		if tt.tooLong && tl.Error() != "answer larger than the 100-byte limit" {
			t.Errorf("message %q", tl.Error())
		}
	}
	if got := (&bounded.TooLargeError{Limit: bounded.MaxAnswer}).Error(); got != "answer larger than the 1 MiB limit" {
		t.Errorf("message %q", got)
	}
}

func TestWithTimeout(t *testing.T) {
	ctx, cancel := bounded.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > time.Minute {
		t.Fatal("no deadline added")
	}
	short, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	got, cancel3 := bounded.WithTimeout(short, time.Minute)
	defer cancel3()
	if got != short {
		t.Fatal("an earlier deadline was replaced")
	}
	if got, _ := bounded.WithTimeout(context.Background(), -1); got != context.Background() {
		t.Fatal("a negative timeout added a deadline")
	}
}
