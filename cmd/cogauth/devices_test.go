package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/cognito"
	"github.com/cogauth/cogauth/emulator"
)

func TestDevicesCommands(t *testing.T) {
	p := newTestPool(t, func(sp *emulator.SeedUserPool) {
		sp.DeviceTracking = &emulator.DeviceConfig{ChallengeRequiredOnNewDevice: true}
	})
	// Two machines of alice's: each remembers itself.
	laptop, desktop := newCLI(t, p), newCLI(t, p)
	laptop.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin", "--remember-device", "--device-name", "laptop")
	desktop.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin", "--remember-device", "--device-name", "desktop")

	list := func(c *cli) []deviceJSON {
		t.Helper()
		var out []deviceJSON
		if err := json.Unmarshal([]byte(c.ok("", "devices", "list", "-o", "json").out), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	devs := list(laptop)
	if len(devs) != 2 {
		t.Fatalf("%d devices, want 2: %+v", len(devs), devs)
	}
	var mine, other deviceJSON
	for _, d := range devs {
		if d.Current {
			mine = d
		} else {
			other = d
		}
	}
	if mine.Name != "laptop" || other.Name != "desktop" || !mine.Remembered || !other.Remembered || mine.Created.IsZero() || mine.Key == "" {
		t.Fatalf("devices seen from the laptop: %+v", devs)
	}

	text := laptop.ok("", "devices", "list").out
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "DEVICE KEY") {
		t.Fatalf("devices list:\n%s", text)
	}
	for _, l := range lines[1:] {
		if strings.Contains(l, mine.Key) != strings.HasPrefix(l, "*") {
			t.Errorf("current-device mark wrong in %q", l)
		}
	}
	if !strings.Contains(text, "laptop") || !strings.Contains(text, "desktop") || !strings.Contains(text, "yes") {
		t.Fatalf("devices list:\n%s", text)
	}

	// Unremembered devices stay listed, marked; remembering them again restores
	// the mark. Without a key, the session's own device.
	remembered := func(c *cli, key string) bool {
		t.Helper()
		for _, d := range list(c) {
			if d.Key == key {
				return d.Remembered
			}
		}
		t.Fatalf("device %s not listed", key)
		return false
	}
	for _, step := range []struct {
		args     []string
		key      string
		msg      string
		remember bool
	}{
		{[]string{"unremember", other.Key}, other.Key, "Device " + other.Key + " is no longer remembered", false},
		{[]string{"remember", other.Key}, other.Key, "Device " + other.Key + " is remembered", true},
		{[]string{"unremember"}, mine.Key, "Device " + mine.Key + " is no longer remembered", false},
		{[]string{"remember"}, mine.Key, "Device " + mine.Key + " is remembered", true},
	} {
		if r := laptop.ok("", append([]string{"devices"}, step.args...)...); !strings.Contains(r.err, step.msg) {
			t.Fatalf("devices %v: %q", step.args, r.err)
		}
		if got := remembered(desktop, step.key); got != step.remember {
			t.Fatalf("after devices %v, the desktop sees remembered=%v", step.args, got)
		}
	}

	// The laptop forgets the desktop by key, then itself.
	if r := laptop.ok("", "devices", "forget", other.Key); !strings.Contains(r.err, "Forgot device "+other.Key+".") {
		t.Fatalf("forget: %q", r.err)
	}
	if devs := list(laptop); len(devs) != 1 || devs[0].Key != mine.Key {
		t.Fatalf("after forgetting the desktop: %+v", devs)
	}
	if r := laptop.run("", "devices", "forget", other.Key); r.code != exitError || !strings.Contains(r.err, "the user pool does not know that device") {
		t.Fatalf("forgetting it twice: exit %d %q", r.code, r.err)
	}
	var before sessionJSON
	if err := json.Unmarshal([]byte(laptop.ok("", "session", "-o", "json").out), &before); err != nil || before.Tokens.DeviceKey != mine.Key {
		t.Fatalf("session before forgetting: device %q, want %q (%v)", before.Tokens.DeviceKey, mine.Key, err)
	}
	if r := laptop.ok("", "devices", "forget"); !strings.Contains(r.err, "Forgot device "+mine.Key+", this session's") {
		t.Fatalf("forget this device: %q", r.err)
	}
	// This machine's copy is gone too: refreshes no longer present the key, and
	// the session goes on.
	var after sessionJSON
	if err := json.Unmarshal([]byte(laptop.ok("", "session", "-o", "json", "--force-refresh").out), &after); err != nil || after.Tokens.DeviceKey != "" {
		t.Fatalf("session after forgetting its device: device %q (%v)", after.Tokens.DeviceKey, err)
	}
	if r := laptop.ok("", "devices", "list"); !strings.Contains(r.err, "No devices") || r.out != "" {
		t.Fatalf("empty list: out %q err %q", r.out, r.err)
	}
}

func TestDevicesErrors(t *testing.T) {
	p := newTestPool(t, nil) // no device tracking
	c := newCLI(t, p)
	if r := c.run("", "devices", "list"); r.code != exitSignedOut {
		t.Fatalf("list before login: exit %d %q", r.code, r.err)
	}
	c.ok(alicePW+"\n", "login", "-u", "alice", "--password-stdin")
	if r := c.run("", "devices", "forget"); r.code != exitUsage || !strings.Contains(r.err, "DEVICE_KEY") {
		t.Fatalf("forget with no device: exit %d %q", r.code, r.err)
	}
	for _, cmd := range []string{"remember", "unremember"} {
		if r := c.run("", "devices", cmd); r.code != exitUsage || !strings.Contains(r.err, "DEVICE_KEY") {
			t.Fatalf("%s with no device: exit %d %q", cmd, r.code, r.err)
		}
		if r := c.run("", "devices", cmd, "a", "b"); r.code != exitUsage {
			t.Fatalf("%s with two keys: exit %d", cmd, r.code)
		}
	}
	if r := c.run("", "devices", "list", "-o", "yaml"); r.code != exitUsage {
		t.Fatalf("bad output: exit %d", r.code)
	}
	if r := c.run("", "devices", "forget", "a", "b"); r.code != exitUsage {
		t.Fatalf("two keys: exit %d", r.code)
	}
	c.ok("", "logout")
	if r := c.run("", "devices", "list"); r.code != exitSignedOut {
		t.Fatalf("list after logout: exit %d %q", r.code, r.err)
	}
}

// TestSanitize: device names are chosen by whoever signed in; they must not move
// the terminal's cursor or break the table.
func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{"laptop": "laptop", "a\x1b[2Jb": "a?[2Jb", "tab\there": "tab?here", "new\nline": "new?line", "\u009bx": "?x", "café": "café"} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeviceOut(t *testing.T) {
	d := cognito.DeviceInfo{Key: "us-east-1_k", Name: "phone", Remembered: true,
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
	got := deviceOut(d, "us-east-1_k")
	if got.Name != "phone" || !got.Remembered || !got.Current || got.Created.Location() != time.UTC || got.Created.Hour() != 2 {
		t.Fatalf("deviceOut = %+v", got)
	}
	if got := deviceOut(cognito.DeviceInfo{}, ""); got.Current || got.Remembered || got.Key != "" {
		t.Fatalf("empty device: %+v", got)
	}
}
