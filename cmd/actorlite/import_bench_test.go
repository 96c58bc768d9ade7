package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkImportVsSQLite3 times the shell's .import of a 1,000,000-row CSV file against
// sqlite3's own ".import --csv" of the same file, each into a new database, alternating which
// goes first, both as processes (the built binary and sqlite3 from $PATH), and reports both
// times and their ratio (actorlite's time over sqlite3's: below 1, actorlite is faster).
//
//	go test -run '^$' -bench ImportVsSQLite3 -benchtime 3x ./cmd/actorlite
func BenchmarkImportVsSQLite3(b *testing.B) {
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Skip("sqlite3 is not on $PATH: there is no .import to compare with")
	}
	bin := binary(b)
	dir := b.TempDir()
	src := filepath.Join(dir, "rows.csv")
	writeRowsCSV(b, src, 1_000_000)
	fi, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: 1,000,000 rows, %s bytes", src, commas(fi.Size()))
	run := func(name string, cmd *exec.Cmd, db string) time.Duration {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(db + suffix)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			b.Fatalf("%s: %v\n%s", name, err, stderr.String())
		}
		return time.Since(start)
	}
	var ours, theirs time.Duration
	b.ResetTimer()
	for i := range b.N {
		a := func() {
			db := filepath.Join(dir, "a.db")
			cmd := exec.Command(bin, "shell", db)
			cmd.Stdin = strings.NewReader(".import " + src + " t\n")
			ours += run("actorlite", cmd, db)
		}
		s := func() {
			db := filepath.Join(dir, "s.db")
			theirs += run("sqlite3", exec.Command(sqlite3, db, ".import --csv "+src+" t"), db)
		}
		if i%2 == 0 {
			a()
			s()
		} else {
			s()
			a()
		}
	}
	b.StopTimer()
	b.ReportMetric(ours.Seconds()/float64(b.N), "actorlite-s")
	b.ReportMetric(theirs.Seconds()/float64(b.N), "sqlite3-s")
	b.ReportMetric(float64(ours)/float64(theirs), "ratio")
}

// writeRowsCSV writes a CSV file of n rows (and a header) like an events export: an id, a
// user, a name, an amount and a time.
func writeRowsCSV(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("id,user_id,name,amount,created_at\n")
	names := []string{"page_view", "signup", "purchase", "logout"}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "%d,user-%d,%s,%.2f,2025-01-%02dT03:04:05Z\n", i, i%1000, names[i%4], float64(i)*0.37, 1+i%28)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}
