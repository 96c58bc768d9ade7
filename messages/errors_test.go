package messages_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// classes lists the sentinels an [*messages.Error] can match.
var classes = []error{
	messages.ErrBusy,
	messages.ErrConstraint,
	messages.ErrInterrupted,
	messages.ErrReadOnly,
	messages.ErrCantOpen,
	messages.ErrCorrupt,
	messages.ErrSQL,
}

func TestErrorClass(t *testing.T) {
	tests := []struct {
		code int
		want error
	}{
		{0, messages.ErrSQL},
		{1, messages.ErrSQL},  // SQLITE_ERROR
		{3, messages.ErrSQL},  // SQLITE_PERM
		{4, messages.ErrSQL},  // SQLITE_ABORT
		{5, messages.ErrBusy}, // SQLITE_BUSY
		{6, messages.ErrBusy}, // SQLITE_LOCKED
		{8, messages.ErrReadOnly},
		{9, messages.ErrInterrupted},
		{11, messages.ErrCorrupt}, // SQLITE_CORRUPT
		{14, messages.ErrCantOpen},
		{19, messages.ErrConstraint},
		{26, messages.ErrCorrupt}, // SQLITE_NOTADB
		{13, messages.ErrSQL},     // SQLITE_FULL
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			err := error(&messages.Error{Code: tt.code, ExtendedCode: tt.code, Message: "boom"})
			for _, class := range classes {
				if got := errors.Is(err, class); got != (class == tt.want) {
					t.Errorf("errors.Is(code %d, %v) = %v, want %v", tt.code, class, got, !got)
				}
			}
			// Wrapping keeps the class and the type.
			wrapped := fmt.Errorf("context: %w", err)
			if !errors.Is(wrapped, tt.want) {
				t.Errorf("wrapped code %d: not %v", tt.code, tt.want)
			}
			var me *messages.Error
			if !errors.As(wrapped, &me) || me.Code != tt.code {
				t.Errorf("errors.As(wrapped) = %v, %+v", me != nil, me)
			}
			// An Error never matches the sentinels of other error families.
			for _, other := range []error{messages.ErrClosed, messages.ErrCrashed, messages.ErrBadArgument, messages.ErrScan} {
				if errors.Is(err, other) {
					t.Errorf("code %d matches %v", tt.code, other)
				}
			}
		})
	}
}

func TestErrorMessageAndUnwrap(t *testing.T) {
	driverErr := errors.New("sqlite3: UNIQUE constraint failed: t.id")
	tests := []struct {
		name string
		err  *messages.Error
		want string
	}{
		{"no SQL", &messages.Error{Code: 19, Message: "UNIQUE constraint failed: t.id", Err: driverErr},
			"actorlite: UNIQUE constraint failed: t.id"},
		{"with SQL", &messages.Error{Code: 19, Message: "UNIQUE constraint failed: t.id", SQL: "INSERT INTO t VALUES (1)", Err: driverErr},
			`actorlite: UNIQUE constraint failed: t.id (in "INSERT INTO t VALUES (1)")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, driverErr) {
				t.Error("does not unwrap to the driver's error")
			}
			if !errors.Is(tt.err, messages.ErrConstraint) {
				t.Error("not ErrConstraint")
			}
		})
	}
	if got := (&messages.Error{Code: 1}).Unwrap(); got != nil {
		t.Errorf("Unwrap without driver error = %v, want nil", got)
	}
}

func TestArgError(t *testing.T) {
	tests := []struct {
		name string
		err  *messages.ArgError
		want string
	}{
		{"position", &messages.ArgError{Pos: 2, Type: "chan int", Reason: "unsupported type"},
			"actorlite: argument 2 of type chan int: unsupported type"},
		{"count", &messages.ArgError{Reason: "the statement has 2 parameters, 1 arguments given"},
			"actorlite: bad arguments: the statement has 2 parameters, 1 arguments given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			err := fmt.Errorf("exec: %w", tt.err)
			if !errors.Is(err, messages.ErrBadArgument) {
				t.Error("not ErrBadArgument")
			}
			var ae *messages.ArgError
			if !errors.As(err, &ae) || ae != tt.err {
				t.Errorf("errors.As = %v", ae)
			}
			if errors.Is(err, messages.ErrSQL) || errors.Is(err, messages.ErrScan) {
				t.Error("matches an unrelated sentinel")
			}
		})
	}
}

func TestScanErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *messages.ScanError
		want string
	}{
		{"count", &messages.ScanError{Column: -1, Reason: "1 destinations for 2 columns"},
			"actorlite: scan: 1 destinations for 2 columns"},
		{"column", &messages.ScanError{Column: 1, Name: "n", Dest: "*int64", Reason: "NULL"},
			"actorlite: scan column 1 (n) into *int64: NULL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, messages.ErrScan) {
				t.Error("not ErrScan")
			}
		})
	}
}

func TestEventError(t *testing.T) {
	tests := []struct {
		err  *messages.EventError
		want string
	}{
		{&messages.EventError{Index: 0, Field: "UserID", Reason: "empty"}, "actorlite: bad event: UserID: empty"},
		{&messages.EventError{Index: 7, Field: "Properties", Reason: "invalid JSON"}, "actorlite: bad event 7: Properties: invalid JSON"},
		// A single event's error names no index; a call of several names it and their count.
		{&messages.EventError{Index: 0, Total: 1, Field: "UserID", JSONField: "user_id", Reason: "empty"}, "actorlite: bad event: user_id (UserID): empty"},
		{&messages.EventError{Index: 0, Total: 3, Field: "Name", JSONField: "name", Reason: "empty"}, "actorlite: bad event 0 of 3: name (Name): empty"},
		{&messages.EventError{Index: 2, Total: 3, Field: "Timestamp", JSONField: "timestamp", Reason: "soon"}, "actorlite: bad event 2 of 3: timestamp (Timestamp): soon"},
		{&messages.EventError{Index: -1, Field: "Events", Reason: "too big"}, "actorlite: bad events: Events: too big"},
		{&messages.EventError{Index: -1, Reason: "not valid JSON"}, "actorlite: bad events: not valid JSON"},
		{&messages.EventError{Index: 1, Total: 2, Reason: "want a JSON object, got number"}, "actorlite: bad event 1 of 2: want a JSON object, got number"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			err := fmt.Errorf("insert: %w", tt.err)
			if !errors.Is(err, messages.ErrBadEvent) {
				t.Error("not ErrBadEvent")
			}
			var ee *messages.EventError
			if !errors.As(err, &ee) || ee.Index != tt.err.Index || ee.Field != tt.err.Field {
				t.Errorf("errors.As = %+v", ee)
			}
		})
	}
}

func TestCrashError(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "/x", Err: os.ErrNotExist}
	tests := []struct {
		name      string
		panic     any
		wantIs    []error
		wantNotIs []error
		wantText  string
	}{
		{"string panic", "boom", []error{messages.ErrCrashed}, []error{messages.ErrClosed, os.ErrNotExist}, "boom"},
		{"error panic", pathErr, []error{messages.ErrCrashed, pathErr, os.ErrNotExist}, []error{messages.ErrClosed}, "open /x"},
		{"wrapped sentinel panic", fmt.Errorf("inner: %w", messages.ErrBusy), []error{messages.ErrCrashed, messages.ErrBusy}, []error{messages.ErrSQL}, "inner"},
		{"nil panic", nil, []error{messages.ErrCrashed}, nil, "<nil>"},
		{"int panic", 42, []error{messages.ErrCrashed}, nil, "42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := &messages.CrashError{DSN: "file:/db?vfs=memdb", Panic: tt.panic}
			err := fmt.Errorf("query: %w", ce)
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("not Is %v", target)
				}
			}
			for _, target := range tt.wantNotIs {
				if errors.Is(err, target) {
					t.Errorf("Is %v", target)
				}
			}
			var got *messages.CrashError
			if !errors.As(err, &got) || got != ce {
				t.Errorf("errors.As = %v", got)
			}
			msg := ce.Error()
			if !strings.Contains(msg, "file:/db?vfs=memdb") || !strings.Contains(msg, tt.wantText) {
				t.Errorf("Error() = %q, want the DSN and %q", msg, tt.wantText)
			}
		})
	}
	// errors.As reaches the panic value's type through the CrashError.
	var pe *fs.PathError
	if !errors.As(&messages.CrashError{Panic: pathErr}, &pe) || pe != pathErr {
		t.Errorf("errors.As(*fs.PathError) = %v", pe)
	}
}

func TestSentinelsDistinct(t *testing.T) {
	all := []error{
		messages.ErrClosed, messages.ErrCrashed, messages.ErrTransactionLost, messages.ErrCursorClosed,
		messages.ErrUnknownCursor, messages.ErrUnknownRequest, messages.ErrNoRows, messages.ErrInTransaction,
		messages.ErrNoTransaction, messages.ErrBadArgument, messages.ErrScan, messages.ErrMultipleStatements,
		messages.ErrConvert, messages.ErrBusy, messages.ErrConstraint, messages.ErrInterrupted,
		messages.ErrReadOnly, messages.ErrCantOpen, messages.ErrCorrupt, messages.ErrSQL,
		messages.ErrNoEventStore, messages.ErrBadEvent, messages.ErrConfig, messages.ErrOverloaded, messages.ErrNotAuthorized,
		messages.ErrNotReadOnly, messages.ErrBlobClosed,
	}
	seen := make(map[string]bool)
	for i, a := range all {
		if !strings.HasPrefix(a.Error(), "actorlite: ") {
			t.Errorf("%q lacks the actorlite: prefix", a)
		}
		if seen[a.Error()] {
			t.Errorf("two sentinels say %q", a)
		}
		seen[a.Error()] = true
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v Is %v", a, b)
			}
		}
	}
}

// TestConfigError: a configuration mistake is its own class, not the caller's bad event.
func TestConfigError(t *testing.T) {
	ce := &messages.ConfigError{Field: "Table", Reason: `"my-events" is not a plain SQL identifier`}
	err := fmt.Errorf("start: events: %w", ce)
	if !errors.Is(err, messages.ErrConfig) || errors.Is(err, messages.ErrBadEvent) || errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf("%v: want ErrConfig alone", err)
	}
	var got *messages.ConfigError
	if !errors.As(err, &got) || got != ce {
		t.Fatalf("errors.As = %v", got)
	}
	if want := `actorlite: bad configuration: Table: "my-events" is not a plain SQL identifier`; ce.Error() != want {
		t.Errorf("Error() = %q, want %q", ce.Error(), want)
	}
}
