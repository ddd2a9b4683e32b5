// Package browsertest drives a real headless Chromium from Go tests through the
// DevTools protocol over a pipe (--remote-debugging-pipe: NUL-separated JSON on
// file descriptors 3 and 4), so that hosted UI sign-ins are completed by a real
// browser without any WebSocket library or npm package. A test without Chromium
// skips, or fails under COGAUTH_REQUIRE_PEERS=1 (internal/peers).
package browsertest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogauth/cogauth/internal/peers"
)

// Executable finds Chromium: $COGAUTH_CHROMIUM, then chromium, chromium-browser,
// google-chrome on PATH. It returns "" when there is none.
func Executable() string {
	if p := os.Getenv("COGAUTH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a headless Chromium with a fresh profile.
type Browser struct {
	cmd *exec.Cmd
	in  io.WriteCloser // the browser's fd 3
	wmu sync.Mutex

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan reply
	done    chan struct{} // closed when the browser's output ends
	stderr  *tailBuffer
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Start launches Chromium for t and stops it when t ends. Without Chromium, t is
// skipped (or failed under COGAUTH_REQUIRE_PEERS=1).
func Start(t testing.TB) *Browser {
	t.Helper()
	exe := Executable()
	if exe == "" {
		peers.Missing(t, "chromium", "apt-get install -y chromium (scripts/peers.sh), or set COGAUTH_CHROMIUM")
		return nil
	}
	b, err := launch(exe, t.TempDir())
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func launch(exe, profile string) (*Browser, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(exe,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--no-default-browser-check", "--password-store=basic",
		"--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{inR, outW} // fd 3: commands in, fd 4: answers out
	tail := &tailBuffer{max: 4096}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("starting %s: %w", exe, err)
	}
	inR.Close()
	outW.Close()
	b := &Browser{cmd: cmd, in: inW, pending: map[int64]chan reply{}, done: make(chan struct{}), stderr: tail}
	go b.read(outR)
	return b, nil
}

// read dispatches the browser's answers to their callers; events are ignored (the
// helpers poll the page's state instead).
func (b *Browser) read(r io.ReadCloser) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m struct {
			ID int64 `json:"id"`
			reply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// call sends one DevTools command (to a page when session is set).
func (b *Browser) call(ctx context.Context, session, method string, params any, out any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	b.wmu.Lock()
	_, err = b.in.Write(append(data, 0))
	b.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: the browser exited: %s", method, b.stderr.String())
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Close ends the browser.
func (b *Browser) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = b.call(ctx, "", "Browser.close", nil, nil)
	cancel()
	b.in.Close()
	exited := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-exited
	}
}

// Page is one browser tab.
type Page struct {
	b       *Browser
	session string
}

// Open opens a new tab at url.
func (b *Browser) Open(ctx context.Context, url string) (*Page, error) {
	var tgt struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &tgt); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": tgt.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: att.SessionID}
	if err := b.call(ctx, p.session, "Page.enable", nil, nil); err != nil {
		return nil, err
	}
	return p, p.Navigate(ctx, url)
}

// Navigate loads url in the tab.
func (p *Page) Navigate(ctx context.Context, url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.b.call(ctx, p.session, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("navigating: %s", r.ErrorText)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page and decodes its value into
// out (which may be nil).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("javascript: %s", r.Exception.Text)
	}
	if out != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

// WaitFor polls a JavaScript condition until it is true or ctx ends. Errors while
// the page is between documents (a navigation under way) count as "not yet".
func (p *Page) WaitFor(ctx context.Context, cond string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		var ok bool
		err := p.Eval(ctx, "!!("+cond+")", &ok)
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", cond, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", cond, ctx.Err())
		case <-tick.C:
		case <-p.b.done:
			return errors.New("the browser exited: " + p.b.stderr.String())
		}
	}
}

// URL returns the page's current location.
func (p *Page) URL(ctx context.Context) (string, error) {
	var s string
	err := p.Eval(ctx, "location.href", &s)
	return s, err
}

// Text returns the page's visible text.
func (p *Page) Text(ctx context.Context) (string, error) {
	var s string
	err := p.Eval(ctx, "document.body ? document.body.innerText : ''", &s)
	return s, err
}

// SignIn fills in a hosted UI sign-in page (the emulator's, or Cognito's classic
// one: inputs #username and #password, button #signInSubmitButton) and submits it
// the way a person would: typing into the fields and clicking the button.
func (p *Page) SignIn(ctx context.Context, username, password string) error {
	if err := p.WaitFor(ctx, `document.readyState === "complete" && document.getElementById("signInSubmitButton")`); err != nil {
		return err
	}
	u, _ := json.Marshal(username)
	pw, _ := json.Marshal(password)
	js := fmt.Sprintf(`(() => {
  const set = (id, v) => { const el = document.getElementById(id); el.focus(); el.value = v; el.dispatchEvent(new Event("input", {bubbles: true})); };
  set("username", %s);
  set("password", %s);
  document.getElementById("signInSubmitButton").click();
  return true;
})()`, u, pw)
	return p.Eval(ctx, js, nil)
}

// tailBuffer keeps the last bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// Call sends one DevTools command to the tab (Network.getCookies,
// Security.setIgnoreCertificateErrors, …) and decodes its result into out (which
// may be nil), for what the helpers above do not cover.
func (p *Page) Call(ctx context.Context, method string, params, out any) error {
	return p.b.call(ctx, p.session, method, params, out)
}
