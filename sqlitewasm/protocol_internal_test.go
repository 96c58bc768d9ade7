package sqlitewasm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// TestLockProtocolHint: an open's SQLITE_PROTOCOL error says what most likely caused it, once,
// and stays the *messages.Error it was; other errors, and a wrapped one, whose message is
// fixed when it is wrapped, are left as they are.
func TestLockProtocolHint(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		hint bool
	}{
		{"protocol", &messages.Error{Code: 15, ExtendedCode: 15, Message: "locking protocol"}, true},
		{"protocol, wrapped", fmt.Errorf("open: %w", &messages.Error{Code: 15, Message: "locking protocol"}), false},
		{"busy", &messages.Error{Code: 5, Message: "database is locked"}, false},
		{"not a SQLite error", errors.New("no such file"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.err.Error()
			err := lockProtocolHint(tc.err)
			if err != tc.err {
				t.Fatalf("returned %v, want the same error", err)
			}
			if got := strings.Contains(err.Error(), "C SQLite"); got != tc.hint {
				t.Fatalf("%q: hint %v, want %v", err.Error(), got, tc.hint)
			}
			if !tc.hint && err.Error() != before {
				t.Fatalf("message changed from %q to %q", before, err.Error())
			}
			if lockProtocolHint(err); strings.Count(err.Error(), protocolHint) > 1 {
				t.Fatalf("hint added twice: %q", err.Error())
			}
			var se *messages.Error
			if tc.hint && (!errors.As(err, &se) || se.Code != 15) {
				t.Fatalf("%v is no longer a *messages.Error of code 15", err)
			}
		})
	}
}
