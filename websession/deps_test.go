package websession_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoCognitoImport: websession imports no cognito package. The program
// builds the user pool's client once and hands it over in Config.Session;
// websession reads refresh failures through session's errors
// (*session.RejectedError) and bounds its own waits. session links cognito, so
// the check is on websession's own imports (not its dependencies); its tests
// import cognito to build the client, which shows the check can see it.
func TestNoCognitoImport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	imports := func(t *testing.T, field string) []string {
		t.Helper()
		out, err := exec.Command("go", "list", "-f", `{{join .`+field+` "\n"}}`, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	isCognito := func(p string) bool {
		return p == "github.com/cogauth/cogauth/cognito" || strings.HasPrefix(p, "github.com/cogauth/cogauth/cognito/")
	}
	got := imports(t, "Imports")
	var sawSession bool
	for _, p := range got {
		sawSession = sawSession || p == "github.com/cogauth/cogauth/session"
		if isCognito(p) {
			t.Errorf("websession imports %s", p)
		}
	}
	if !sawSession {
		t.Fatalf("go list shows websession not importing session (%v): the check proves nothing", got)
	}
	// The same reading of the package's tests, which build a cognito client,
	// tells.
	var testsImportCognito bool
	for _, p := range imports(t, "TestImports") {
		testsImportCognito = testsImportCognito || isCognito(p)
	}
	if !testsImportCognito {
		t.Error("go list shows websession's tests not importing cognito: is the check reading imports?")
	}
}
