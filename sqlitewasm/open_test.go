package sqlitewasm_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// Many connections opening one new file at once all switch it to WAL without a BUSY error.
func TestConcurrentOpenOfANewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := sqlitewasm.Open(context.Background(), path, sqlitewasm.Config{})
			if err != nil {
				errs <- err
				return
			}
			errs <- c.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name        string
		dsn         func(t *testing.T) string
		wantJournal string
	}{
		{"path", tempDB, "wal"},
		{"relative path", func(t *testing.T) string { t.Chdir(t.TempDir()); return "rel.db" }, "wal"},
		{"file URI", func(t *testing.T) string { return "file:" + tempDB(t) }, "wal"},
		{"file URI with query", func(t *testing.T) string { return "file:" + tempDB(t) + "?cache=private" }, "wal"},
		{"memory", func(*testing.T) string { return ":memory:" }, "memory"},
		{"memdb", memDSN, "memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := tt.dsn(t)
			c := open(t, dsn, sqlitewasm.Config{})
			if c.DSN() != dsn {
				t.Errorf("DSN() = %q, want %q", c.DSN(), dsn)
			}
			if got := value(t, c, "PRAGMA journal_mode"); got != tt.wantJournal {
				t.Errorf("journal_mode = %v, want %v", got, tt.wantJournal)
			}
			exec(t, c, "CREATE TABLE t(x)")
			exec(t, c, "INSERT INTO t VALUES (?)", "hello")
			if got := value(t, c, "SELECT x FROM t"); got != "hello" {
				t.Errorf("read back %v", got)
			}
		})
	}
}

func TestOpenFileCreatesDatabase(t *testing.T) {
	path := tempDB(t)
	c := open(t, path, sqlitewasm.Config{})
	exec(t, c, "CREATE TABLE t(x)")
	exec(t, c, "INSERT INTO t VALUES (1), (2)")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no database file: %v", err)
	}
	// A second connection to the same file sees the committed rows.
	c2 := open(t, "file:"+path, sqlitewasm.Config{})
	if got := count(t, c2, "t"); got != 2 {
		t.Errorf("second connection sees %d rows, want 2", got)
	}
}

func TestDefaultPragmas(t *testing.T) {
	c := open(t, tempDB(t), sqlitewasm.Config{})
	tests := []struct {
		pragma string
		want   any
	}{
		{"journal_mode", "wal"},
		{"synchronous", int64(1)}, // NORMAL
		{"foreign_keys", int64(1)},
		{"busy_timeout", int64(5000)},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			if got := value(t, c, "PRAGMA "+tt.pragma); got != tt.want {
				t.Errorf("PRAGMA %s = %#v, want %#v", tt.pragma, got, tt.want)
			}
		})
	}
	// foreign_keys is really enforced.
	script(t, c, "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE ch(p INTEGER REFERENCES p(id));")
	_, err := c.Exec("INSERT INTO ch VALUES (1)", nil)
	wantSQLiteErr(t, err, messages.ErrConstraint)
}

func TestConfigPragmas(t *testing.T) {
	tests := []struct {
		name   string
		cfg    sqlitewasm.Config
		pragma string
		want   any
	}{
		{"synchronous FULL", sqlitewasm.Config{Synchronous: "FULL"}, "synchronous", int64(2)},
		{"synchronous off", sqlitewasm.Config{Synchronous: "off"}, "synchronous", int64(0)},
		{"synchronous EXTRA", sqlitewasm.Config{Synchronous: "EXTRA"}, "synchronous", int64(3)},
		{"cache_size", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "-4000"}}}, "cache_size", int64(-4000)},
		{"schema pragma", sqlitewasm.Config{Pragmas: [][2]string{{"main.user_version", "7"}}}, "user_version", int64(7)},
		{"pragmas in order", sqlitewasm.Config{Pragmas: [][2]string{{"user_version", "1"}, {"user_version", "2"}}}, "user_version", int64(2)},
		{"pragma overrides a default", sqlitewasm.Config{Pragmas: [][2]string{{"foreign_keys", "OFF"}}}, "foreign_keys", int64(0)},
		{"synchronous digit", sqlitewasm.Config{Synchronous: "3"}, "synchronous", int64(3)},
		{"string value", sqlitewasm.Config{Pragmas: [][2]string{{"journal_mode", "'delete'"}}}, "journal_mode", "delete"},
		{"quoted name value", sqlitewasm.Config{Pragmas: [][2]string{{"locking_mode", "'EXCLUSIVE'"}}}, "locking_mode", "exclusive"},
		{"plus sign", sqlitewasm.Config{Pragmas: [][2]string{{"foreign_keys", "OFF"}, {"foreign_keys", "+1"}}}, "foreign_keys", int64(1)},
		{"minus sign", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "-123"}}}, "cache_size", int64(-123)},
		{"hex", sqlitewasm.Config{Pragmas: [][2]string{{"user_version", "0x10"}}}, "user_version", int64(16)},
		{"spaces around the value", sqlitewasm.Config{Pragmas: [][2]string{{"user_version", " 5\n"}}}, "user_version", int64(5)},
		{"keyword name", sqlitewasm.Config{Pragmas: [][2]string{{"select", "1"}, {"user_version", "3"}}}, "user_version", int64(3)},
		{"keyword value", sqlitewasm.Config{Pragmas: [][2]string{{"user_version", "4"}, {"application_id", "NULL"}}}, "user_version", int64(4)},
		{"busy timeout", sqlitewasm.Config{BusyTimeout: 250 * time.Millisecond}, "busy_timeout", int64(250)},
		{"busy timeout rounds up", sqlitewasm.Config{BusyTimeout: 1500 * time.Microsecond}, "busy_timeout", int64(2)},
		{"no busy timeout", sqlitewasm.Config{BusyTimeout: -1}, "busy_timeout", int64(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := open(t, tempDB(t), tt.cfg)
			if got := value(t, c, "PRAGMA "+tt.pragma); got != tt.want {
				t.Errorf("PRAGMA %s = %#v, want %#v", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestConfigReadOnly(t *testing.T) {
	path := tempDB(t)
	w := open(t, path, sqlitewasm.Config{})
	exec(t, w, "CREATE TABLE t(x)")
	exec(t, w, "INSERT INTO t VALUES (1)")
	r := open(t, path, sqlitewasm.Config{ReadOnly: true})
	if got := count(t, r, "t"); got != 1 {
		t.Errorf("read-only connection counts %d rows", got)
	}
	_, err := r.Exec("INSERT INTO t VALUES (2)", nil)
	wantSQLiteErr(t, err, messages.ErrReadOnly)
	// A read-only open of a missing file fails.
	_, err = sqlitewasm.Open(t.Context(), filepath.Join(t.TempDir(), "missing.db"), sqlitewasm.Config{ReadOnly: true})
	wantSQLiteErr(t, err, messages.ErrCantOpen)
}

func TestConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  sqlitewasm.Config
	}{
		{"pragma name with space", sqlitewasm.Config{Pragmas: [][2]string{{"cache size", "1"}}}},
		{"pragma name with semicolon", sqlitewasm.Config{Pragmas: [][2]string{{"x;DROP TABLE t", "1"}}}},
		{"empty pragma name", sqlitewasm.Config{Pragmas: [][2]string{{"", "1"}}}},
		{"pragma name starting with a digit", sqlitewasm.Config{Pragmas: [][2]string{{"1x", "1"}}}},
		{"pragma name with two dots", sqlitewasm.Config{Pragmas: [][2]string{{"a.b.c", "1"}}}},
		{"pragma value with semicolon", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "1; DROP TABLE t"}}}},
		{"pragma value with NUL", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "1\x00"}}}},
		{"synchronous with semicolon", sqlitewasm.Config{Synchronous: "FULL; PRAGMA foreign_keys=OFF"}},
		{"pragma value with a line comment", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "100 --"}}}},
		{"pragma value with a block comment", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "100 /*"}}}},
		{"pragma value of two tokens", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "1 2"}}}},
		{"pragma value with a parenthesis", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "(1)"}}}},
		{"empty pragma value", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", ""}}}},
		{"unterminated string", sqlitewasm.Config{Pragmas: [][2]string{{"journal_mode", "'wal"}}}},
		{"string with a lone quote", sqlitewasm.Config{Pragmas: [][2]string{{"journal_mode", "'wa'l'"}}}},
		{"double-quoted value", sqlitewasm.Config{Pragmas: [][2]string{{"journal_mode", `"wal"`}}}},
		{"blob value", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "x'00'"}}}},
		{"string with NUL", sqlitewasm.Config{Pragmas: [][2]string{{"journal_mode", "'wal\x00'"}}}},
		{"synchronous with a comment", sqlitewasm.Config{Synchronous: "OFF --"}},
		{"unknown synchronous mode", sqlitewasm.Config{Synchronous: "FAST"}},
		{"synchronous out of range", sqlitewasm.Config{Synchronous: "4"}},
		{"unknown extension", sqlitewasm.Config{Extensions: []string{"nosuch"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := sqlitewasm.Open(t.Context(), tempDB(t), tt.cfg)
			if c != nil {
				c.Close()
				t.Fatal("Open returned a connection with its error")
			}
			wantErr(t, err, messages.ErrBadArgument)
			var ae *messages.ArgError
			if !errors.As(err, &ae) {
				t.Errorf("error %q is not a *messages.ArgError", err)
			}
		})
	}
}

// TestPragmaValueCannotReachTheNextPragma is issue 14: the pragmas used to run as one script,
// so a value holding a comment opener commented out every pragma after it, such as the
// query_only=ON a pool appends to the caller's options for its readers, leaving a reader
// writable. Each such value must fail Open with an ArgError naming the pragma; a connection
// that opens must honour query_only.
func TestPragmaValueCannotReachTheNextPragma(t *testing.T) {
	readOnly := [2]string{"query_only", "ON"}
	for _, tt := range []struct {
		name, pragma string
		cfg          sqlitewasm.Config
	}{
		{"line comment", "cache_size", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "-1000 --"}, readOnly}}},
		{"block comment", "cache_size", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "-1000 /*"}, readOnly}}},
		{"comment after a string", "journal_mode", sqlitewasm.Config{Pragmas: [][2]string{{"journal_mode", "'wal'--"}, readOnly}}},
		{"newline then comment", "cache_size", sqlitewasm.Config{Pragmas: [][2]string{{"cache_size", "1\n--"}, readOnly}}},
		{"synchronous line comment", "synchronous", sqlitewasm.Config{Synchronous: "OFF --", Pragmas: [][2]string{readOnly}}},
		{"synchronous block comment", "synchronous", sqlitewasm.Config{Synchronous: "FULL /*", Pragmas: [][2]string{readOnly}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := sqlitewasm.Open(t.Context(), tempDB(t), tt.cfg)
			if err == nil {
				defer c.Close()
				_, werr := c.Exec("CREATE TABLE t(x)", nil)
				t.Fatalf("Open accepted %v, and the query_only=ON after it did not apply: CREATE TABLE = %v", tt.cfg, werr)
			}
			if c != nil {
				t.Error("Open returned a connection with its error")
			}
			var ae *messages.ArgError
			if !errors.As(err, &ae) || !errors.Is(err, messages.ErrBadArgument) {
				t.Fatalf("Open = %v (%T), want a *messages.ArgError", err, err)
			}
			if !strings.Contains(ae.Reason, tt.pragma) {
				t.Errorf("ArgError %q does not name pragma %s", err, tt.pragma)
			}
		})
	}
}

// TestRejectedOptionAppliesNothing checks that Open checks every option before it runs any:
// a pragma that the database file keeps (application_id), set before a rejected option, must
// not be found in the file afterwards.
func TestRejectedOptionAppliesNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  sqlitewasm.Config
	}{
		{"bad pragma value", sqlitewasm.Config{Pragmas: [][2]string{{"application_id", "7"}, {"cache_size", "1 --"}}}},
		{"bad pragma name", sqlitewasm.Config{Pragmas: [][2]string{{"application_id", "7"}, {"a b", "1"}}}},
		{"unknown extension", sqlitewasm.Config{Pragmas: [][2]string{{"application_id", "7"}}, Extensions: []string{"nosuch"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tempDB(t)
			c, err := sqlitewasm.Open(t.Context(), path, tt.cfg)
			if err == nil {
				c.Close()
			}
			wantErr(t, err, messages.ErrBadArgument)
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the rejected Open created %s (%v)", path, err)
			}
			if got := value(t, open(t, path, sqlitewasm.Config{}), "PRAGMA application_id"); got != int64(0) {
				t.Errorf("application_id = %v after the rejected Open, want 0", got)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name  string
		dsn   func(t *testing.T) string
		class error
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "no", "such", "x.db") }, messages.ErrCantOpen},
		{"missing directory URI", func(t *testing.T) string { return "file:" + filepath.Join(t.TempDir(), "no", "x.db") }, messages.ErrCantOpen},
		{"directory", func(t *testing.T) string { return t.TempDir() }, messages.ErrCantOpen},
		{"directory URI", func(t *testing.T) string { return "file:" + t.TempDir() }, messages.ErrCantOpen},
		{"memdb without create", func(t *testing.T) string { return strings.Replace(memDSN(t), "?", "?mode=rw&", 1) }, messages.ErrCantOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := sqlitewasm.Open(t.Context(), tt.dsn(t), sqlitewasm.Config{})
			if c != nil {
				c.Close()
				t.Fatal("Open returned a connection with its error")
			}
			wantSQLiteErr(t, err, tt.class)
		})
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := tempDB(t)
	if err := os.WriteFile(path, []byte(strings.Repeat("this is not a database file\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := sqlitewasm.Open(t.Context(), path, sqlitewasm.Config{})
	if err == nil {
		// SQLite reads the header lazily; then the first statement fails.
		defer c.Close()
		_, err = c.Exec("SELECT * FROM sqlite_schema", nil)
	} else if c != nil {
		t.Error("Open returned a connection with its error")
	}
	wantSQLiteErr(t, err, messages.ErrCorrupt)
}

func TestOpenUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: file permissions are not enforced")
	}
	path := tempDB(t)
	c := open(t, path, sqlitewasm.Config{})
	exec(t, c, "CREATE TABLE t(x)")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(path, 0o644) })
	c2, err := sqlitewasm.Open(t.Context(), path, sqlitewasm.Config{})
	if c2 != nil {
		c2.Close()
		t.Fatal("Open returned a connection")
	}
	wantSQLiteErr(t, err, messages.ErrCantOpen)
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	path := tempDB(t)
	c, err := sqlitewasm.Open(ctx, path, sqlitewasm.Config{})
	if c != nil {
		c.Close()
		t.Fatal("Open returned a connection")
	}
	wantSQLiteErr(t, err, messages.ErrInterrupted)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %q does not wrap the ctx's", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cancelled open created %s: %v", path, err)
	}
}

func TestOpenNilContext(t *testing.T) {
	var ctx context.Context // nil: Open uses context.Background
	c, err := sqlitewasm.Open(ctx, ":memory:", sqlitewasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
