package emulator

import (
	"strings"
	"testing"
	"time"
)

// FuzzImportCSV runs arbitrary CSV files through an import job: the job ends
// Succeeded or Failed, never panics, counts each non-empty row once, keeps a
// bounded log, and every user it makes is RESET_REQUIRED.
func FuzzImportCSV(f *testing.F) {
	e, err := New(Options{Seed: &Seed{UserPools: []SeedUserPool{{Name: "app", ID: "us-east-1_Import"}}}})
	if err != nil {
		f.Fatal(err)
	}
	p := e.st.Pools["us-east-1_Import"]
	header := strings.Join(csvHeader(p), ",")
	row := func(user, email, verified, mfa string) string {
		fields := make([]string, len(csvHeader(p)))
		for i, h := range csvHeader(p) {
			fields[i] = map[string]string{"cognito:username": user, "email": email, "email_verified": verified, "cognito:mfa_enabled": mfa}[h]
		}
		return strings.Join(fields, ",")
	}
	f.Add(header + "\n" + row("a", "a@example.com", "true", "false") + "\n")
	f.Add(header + "\n" + row("b\\,c", "b@example.com", "true", "false") + "\r\n" + row("", "", "", ""))
	f.Add("\xef\xbb\xbf" + header + "\n" + row("d", "d@example.com", "yes", "false"))
	f.Add("cognito:username\nx\n")
	f.Add("")
	f.Add(header + "\n\\")
	n := 0
	f.Fuzz(func(t *testing.T, csv string) {
		n++
		j := importJob{JobID: "import-fuzz" + time.Duration(n).String(), Status: "Pending"}
		e.uploads = map[string][]byte{p.ID + "/" + j.JobID: []byte(csv)}
		before := len(p.Users)
		e.runImport(p, &j, time.Unix(1_700_000_000, 0))
		if j.Status != "Succeeded" && j.Status != "Failed" {
			t.Fatalf("status %s", j.Status)
		}
		if int(j.ImportedUsers) != len(p.Users)-before {
			t.Fatalf("%d imported, %d users made", j.ImportedUsers, len(p.Users)-before)
		}
		if len(j.Log) > maxImportLog || len(j.CompletionMessage) > 200 {
			t.Fatalf("log of %d lines, message of %d bytes", len(j.Log), len(j.CompletionMessage))
		}
		for _, u := range p.Users {
			if u.Status != "RESET_REQUIRED" {
				t.Fatalf("an imported user is %s", u.Status)
			}
		}
		for k := range p.Users { // keep the pool small between inputs
			delete(p.Users, k)
		}
	})
}
