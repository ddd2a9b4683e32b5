package keyring_test

import (
	"context"
	"log"
	"os"
	"path/filepath"

	"github.com/cogauth/cogauth/store/keyring"
)

// A command-line tool keeps its sessions in the OS keyring where there is one,
// and in a 0600 file where there is none (a server, a container), saying so once
// on stderr, as the GitHub CLI does.
func ExampleOpenOrFile() {
	dir, err := os.UserConfigDir()
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := keyring.OpenOrFile(context.Background(), keyring.OrFileOptions{
		Keyring:  keyring.Options{Service: "myapp", LockDir: filepath.Join(dir, "myapp", "locks")},
		FilePath: filepath.Join(dir, "myapp", "sessions.json"),
		Warn:     os.Stderr,
	})
	if err != nil {
		log.Fatal(err)
	}
	// session.New(session.Config{Cognito: c, Store: sessions})
	_ = sessions
}
