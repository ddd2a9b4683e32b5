package secret_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/cogauth/cogauth/secret"
)

func Example() {
	type login struct {
		User     string
		Password secret.String
	}
	in := login{User: "alice", Password: secret.String("correct horse")}
	fmt.Printf("%v %+v\n", in, in)
	j, _ := json.Marshal(in)
	fmt.Println(string(j))
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("sign-in", "password", in.Password)
	fmt.Println(len(in.Password.Reveal()))
	// Output:
	// {alice [redacted]} {User:alice Password:[redacted]}
	// {"User":"alice","Password":"[redacted]"}
	// level=INFO msg=sign-in password=[redacted]
	// 13
}
