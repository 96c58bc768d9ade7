package supervisor_test

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/supervisor"
)

// killAfter builds testdata/prog, runs it on a fresh database named name, reads n lines (what
// the child reports done) from its stdout, kills it with SIGKILL, and returns the database's
// path and the lines.
func killAfter(t *testing.T, prog, name string, n int) (db string, lines []string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, prog)
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/"+prog).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db = filepath.Join(dir, name)
	cmd := exec.Command(bin, db)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scan := bufio.NewScanner(stdout)
	for len(lines) < n && scan.Scan() {
		lines = append(lines, scan.Text())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	if len(lines) < n {
		t.Fatalf("the child reported only %d of %d before it ended", len(lines), n)
	}
	return db, lines
}

// reopenIntact opens db (after a kill) through a new supervisor and checks that it passes
// integrity_check.
func reopenIntact(t *testing.T, db string) (context.Context, *actors.Conn) {
	t.Helper()
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	c, err := s.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	row, err := c.QueryRow(ctx, "PRAGMA integrity_check")
	if err != nil || row.Index(0) != "ok" {
		t.Fatalf("integrity_check: %v %v", row, err)
	}
	return ctx, c
}

// TestSIGKILLLosesNoCommittedRow runs testdata/commitkill as a child process, kills it with
// SIGKILL while it inserts, and checks that every row it reported committed is there and
// that the database passes integrity_check.
func TestSIGKILLLosesNoCommittedRow(t *testing.T) {
	db, lines := killAfter(t, "commitkill", "kill.db", 2000)
	acked := make([]int64, len(lines))
	for i, line := range lines {
		id, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		acked[i] = id
	}
	ctx, c := reopenIntact(t, db)
	for _, id := range acked {
		if _, err := c.QueryRow(ctx, "SELECT v FROM t WHERE id = ?", id); err != nil {
			t.Fatalf("row %d was acknowledged but is missing: %v", id, err)
		}
	}
	// Transactions are all or nothing: every committed one has its 5 rows.
	row, err := c.QueryRow(ctx, `SELECT count(*) FROM (SELECT substr(v, 1, instr(substr(v, 4), '-') + 2) AS tx, count(*) AS n
		FROM t WHERE v LIKE 'tx-%' GROUP BY tx HAVING n != 5)`)
	if err != nil || row.Index(0) != int64(0) {
		t.Fatalf("half-stored transactions: %v %v", row, err)
	}
}
