package browsertest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cogauth/cogauth/hostedui/browsertest"
)

// testPage is a test that drives a real headless Chromium: the page's script
// runs, as it would for a user. (go test runs this one as TestExampleStart; it
// skips where Chromium is missing.)
func testPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><p id=out>loading</p><script>document.getElementById("out").textContent = "hello from " + location.pathname</script>`)
	}))
	defer srv.Close()
	br := browsertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	page, err := br.Open(ctx, srv.URL+"/start")
	if err != nil {
		t.Fatal(err)
	}
	if err := page.WaitFor(ctx, `document.getElementById("out").textContent !== "loading"`); err != nil {
		t.Fatal(err)
	}
	if text, err := page.Text(ctx); err != nil || text != "hello from /start" {
		t.Fatalf("page text %q, %v", text, err)
	}
}

// A test gets a browser in one line and pages from it; the whole file is the
// example.
func ExampleStart() {
	// In a _test.go file of yours:
	//
	//	func TestPage(t *testing.T) { testPage(t) }
}
