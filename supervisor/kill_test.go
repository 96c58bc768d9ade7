package supervisor_test

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/actorlite/actorlite/supervisor"
)

// TestSIGKILLLosesNoCommittedRow runs testdata/commitkill as a child process, kills it with
// SIGKILL while it inserts, and checks that every row it reported committed is there and
// that the database passes integrity_check.
func TestSIGKILLLosesNoCommittedRow(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "commitkill")
	build := exec.Command("go", "build", "-o", bin, "./testdata/commitkill")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "kill.db")
	cmd := exec.Command(bin, db)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []int64
	lines := bufio.NewScanner(stdout)
	for len(acked) < 2000 && lines.Scan() {
		id, err := strconv.ParseInt(lines.Text(), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, id)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	if len(acked) < 2000 {
		t.Fatalf("the child reported only %d rows before it ended", len(acked))
	}

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
	for _, id := range acked {
		if _, err := c.QueryRow(ctx, "SELECT v FROM t WHERE id = ?", id); err != nil {
			t.Fatalf("row %d was acknowledged but is missing: %v", id, err)
		}
	}
	// Transactions are all or nothing: every committed one has its 5 rows.
	row, err = c.QueryRow(ctx, `SELECT count(*) FROM (SELECT substr(v, 1, instr(substr(v, 4), '-') + 2) AS tx, count(*) AS n
		FROM t WHERE v LIKE 'tx-%' GROUP BY tx HAVING n != 5)`)
	if err != nil || row.Index(0) != int64(0) {
		t.Fatalf("half-stored transactions: %v %v", row, err)
	}
}
