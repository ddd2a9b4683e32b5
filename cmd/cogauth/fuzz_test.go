package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cogauth/cogauth/internal/config"
	"github.com/cogauth/cogauth/store"
)

// FuzzSanitize: whatever a device name holds, the table line has no control
// character left and keeps its length in runes.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"laptop", "a\x1b[2Jb", "tab\there", "\u009b", "café", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := sanitize(s)
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("sanitize(%q) = %q keeps control character %U", s, got, r)
			}
		}
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(s) {
			t.Fatalf("sanitize(%q) = %q changed the length", s, got)
		}
	})
}

// FuzzParseUpstream: --upstream is accepted only as an absolute http(s) URL, and
// never panics.
func FuzzParseUpstream(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080/api", "https://api.example.com", "/api", "ftp://x", "http://", "http://[::1]:80/", "http://a b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseUpstream(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--upstream") {
				t.Fatalf("error %q does not name the flag", err)
			}
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("accepted %q as %#v", s, u)
		}
		if _, err := url.Parse(u.String()); err != nil {
			t.Fatalf("accepted %q, which does not round-trip: %v", s, err)
		}
	})
}

// FuzzCleanToken: what verify and decode read from stdin or an argument is
// trimmed and loses one "Bearer " prefix, and nothing else changes.
func FuzzCleanToken(f *testing.F) {
	for _, s := range []string{"eyJ.a.b", "Bearer eyJ.a.b\n", "bearer  x ", "  ", "Bearer"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := cleanToken(s)
		if got != strings.TrimSpace(got) {
			t.Fatalf("cleanToken(%q) = %q is not trimmed", s, got)
		}
		if !strings.Contains(s, got) {
			t.Fatalf("cleanToken(%q) = %q is not part of its input", s, got)
		}
	})
}

// FuzzParsePastedRedirect: a pasted line is taken only as this sign-in's redirect
// URI carrying a code or an error; anything else is refused, never a panic.
func FuzzParsePastedRedirect(f *testing.F) {
	const redirect = "http://127.0.0.1:4000/callback"
	for _, s := range []string{
		redirect + "?code=abc&state=xyz", " " + redirect + "?error=access_denied&state=s\r", redirect,
		"http://127.0.0.1:4001/callback?code=a", "http://evil.example/callback?code=a", "https://127.0.0.1:4000/callback?code=a",
		redirect + "/../callback?code=a", "%zz", "", "code=abc&state=xyz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parsePastedRedirect(s, redirect)
		if err != nil {
			return
		}
		u, perr := url.Parse(strings.TrimSpace(s))
		if perr != nil || u.Scheme != "http" || u.Host != "127.0.0.1:4000" || u.Path != "/callback" {
			t.Fatalf("accepted %q, which is not the redirect URI", s)
		}
		if q.Get("code") == "" && q.Get("error") == "" {
			t.Fatalf("accepted %q without a code or an error", s)
		}
	})
}

// FuzzPendingRecord: whatever the store holds under a pending step's key (another
// release's record, a file edited by hand), reading it never panics, and a record
// that is served names its command and is not expired.
func FuzzPendingRecord(f *testing.F) {
	f.Add([]byte(`{"command":"login","step":"EMAIL_OTP","username":"alice","expiresAt":"2999-01-01T00:00:00Z","challenge":{"name":"EMAIL_OTP","username":"alice","session":"s"}}`))
	f.Add([]byte(`{"command":"","expiresAt":"2000-01-01T00:00:00Z"}`))
	f.Add([]byte(`not json`))
	f.Add([]byte(`{"command":"login","challenge":{"name":"X","parameters":{"requiredAttributes":"[\"email\"]"}},"expiresAt":"2999-01-01T00:00:00Z","step":"NEW_PASSWORD_REQUIRED"}`))
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	cfg := &config.Config{Profile: "p", Values: config.Values{UserPoolID: "us-east-1_X", ClientID: "c", Store: config.StoreFile}}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		s := store.NewMemory()
		ps := &pendings{s: s, cfg: cfg, now: func() time.Time { return now }}
		if _, err := s.Put(ctx, pendingKey(cfg, pendLogin), data, store.AnyVersion, time.Time{}); err != nil {
			t.Skip()
		}
		p, err := ps.get(ctx, pendLogin, "cogauth login")
		if err != nil || p == nil {
			return
		}
		if p.Command == "" || !now.Before(p.ExpiresAt) {
			t.Fatalf("served %+v", p)
		}
		_ = finishCommand("p", p)
		if p.Challenge != nil {
			_ = p.Challenge.challenge()
		}
	})
}
