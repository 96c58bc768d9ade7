package sqlitewasm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

func TestBackup(t *testing.T) {
	// overwrite: an older database is at the destination. (SQLite cannot back up into a WAL
	// database of another page size: memdb databases have 8 KiB pages, files 4 KiB.)
	sources := []struct {
		name      string
		dsn       func(t *testing.T) string
		overwrite bool
	}{
		{"file", tempDB, true},
		{"memory", func(*testing.T) string { return ":memory:" }, true},
		{"memdb", memDSN, false},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			c := open(t, src.dsn(t), sqlitewasm.Config{})
			exec(t, c, "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT)")
			if _, err := c.ExecMany("INSERT INTO t(s) VALUES (?)", [][]any{{"a"}, {"b"}, {"c"}}); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(t.TempDir(), "backup.db")
			if src.overwrite {
				old := open(t, dest, sqlitewasm.Config{})
				exec(t, old, "CREATE TABLE old(x)")
				if err := old.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Backup(dest); err != nil {
				t.Fatalf("Backup = %v", err)
			}
			b := open(t, dest, sqlitewasm.Config{})
			rows := queryAll(t, b, "SELECT s FROM t ORDER BY id")
			var got []string
			for _, r := range rows {
				got = append(got, r.Index(0).(string))
			}
			if strings.Join(got, ",") != "a,b,c" {
				t.Errorf("backup holds %v", got)
			}
			if ok := value(t, b, "PRAGMA integrity_check"); ok != "ok" {
				t.Errorf("integrity_check = %v", ok)
			}
			if _, err := b.Exec("SELECT * FROM old", nil); !errors.Is(err, messages.ErrSQL) {
				t.Errorf("the old database survived the backup: %v", err)
			}
		})
	}
	c := memConn(t)
	// A destination that is not a database is not overwritten.
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	wantSQLiteErr(t, c.Backup(garbage), messages.ErrCorrupt)
	wantErr(t, c.Backup(""), messages.ErrBadArgument)
	wantSQLiteErr(t, c.Backup(filepath.Join(t.TempDir(), "no", "dir.db")), messages.ErrCantOpen)
	wantSQLiteErr(t, c.Backup(t.TempDir()), messages.ErrCantOpen)
}
