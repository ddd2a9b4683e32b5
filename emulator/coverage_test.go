package emulator_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cogauth/cogauth/emulator"
	"github.com/cogauth/cogauth/internal/peers"
)

// Floors of the operations the emulator answers, per botocore service model;
// raise them as operations are added (README lists every one).
const (
	minUserPoolOps     = 122
	minIdentityPoolOps = 23
)

// botocoreOps reads the operations of the Cognito service models of the
// botocore on this machine.
func botocoreOps(t *testing.T) map[string]map[string]struct{ Unsigned bool } {
	t.Helper()
	py := peers.Python(t, "botocore")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw, err := exec.CommandContext(ctx, py, filepath.Join(peers.RepoRoot(t), "test", "python", "botocore_ops.py")).Output()
	if err != nil {
		t.Fatalf("botocore_ops.py: %v", err)
	}
	var out map[string]map[string]struct{ Unsigned bool }
	if err := json.Unmarshal(raw, &out); err != nil || len(out["cognito-idp"]) == 0 || len(out["cognito-identity"]) == 0 {
		t.Fatalf("botocore models: %v (%d bytes)", err, len(raw))
	}
	return out
}

// TestOperationCoverage walks botocore's models: every operation the emulator
// registers exists there, the counts stay at or above the floors, and the ones
// still missing are listed, so a new operation in the model shows up.
func TestOperationCoverage(t *testing.T) {
	models := botocoreOps(t)
	e, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]map[string]bool{"cognito-idp": {}, "cognito-identity": {}}
	for _, target := range e.Operations() {
		svc, op, _ := strings.Cut(target, ".")
		name := map[string]string{"AWSCognitoIdentityProviderService": "cognito-idp", "AWSCognitoIdentityService": "cognito-identity"}[svc]
		if _, ok := models[name][op]; !ok {
			t.Errorf("the emulator serves %s, which botocore's %s model does not have", target, name)
			continue
		}
		served[name][op] = true
	}
	for svc, floor := range map[string]int{"cognito-idp": minUserPoolOps, "cognito-identity": minIdentityPoolOps} {
		var missing []string
		for op := range models[svc] {
			if !served[svc][op] {
				missing = append(missing, op)
			}
		}
		sort.Strings(missing)
		t.Logf("%s: %d of %d operations; missing: %s", svc, len(served[svc]), len(models[svc]), strings.Join(missing, ", "))
		if len(served[svc]) < floor {
			t.Errorf("%s: %d operations served, below the floor of %d", svc, len(served[svc]), floor)
		}
	}
}

// TestUnsignedOperationsMatchBotocore: the operations the emulator serves
// without a signature in strict SigV4 mode are exactly those the models mark
// authtype none.
func TestUnsignedOperationsMatchBotocore(t *testing.T) {
	for svc, ops := range botocoreOps(t) {
		for op, m := range ops {
			if got := emulator.UnsignedOperation(op); got != m.Unsigned {
				t.Errorf("%s %s: emulator unsigned=%v, model %v", svc, op, got, m.Unsigned)
			}
		}
	}
}
