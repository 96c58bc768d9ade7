package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pty is the controlling side of a pseudo-terminal whose other side a command runs on: what
// the command writes is collected, keys are written.
type pty struct {
	t       *testing.T
	master  *os.File
	mu      sync.Mutex
	out     bytes.Buffer
	mark    int           // expect searches the output after it
	changed chan struct{} // a token after each read
	done    chan struct{} // the reader ended
}

// openPTY opens a pseudo-terminal of 80×24 (Linux: /dev/ptmx, then /dev/pts/N). It returns
// its two sides; the test closes the terminal side once the command has it.
func openPTY(t *testing.T) (*pty, *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no pseudo-terminals here (%v): the terminal path is tested in-process by TestShellLineEditor only", err)
	}
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the terminal side: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatalf("window size: %v", err)
	}
	p := &pty{t: t, master: master, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			select {
			case p.changed <- struct{}{}:
			default:
			}
			if err != nil {
				return // EIO once the terminal side is closed by all
			}
		}
	}()
	t.Cleanup(func() {
		master.Close()
		<-p.done
	})
	return p, tty
}

// send types keys.
func (p *pty) send(keys string) {
	p.t.Helper()
	if _, err := p.master.WriteString(keys); err != nil {
		p.t.Fatalf("typing %q: %v", keys, err)
	}
}

// expect waits (at most 30 s) for s in the output after the last match, and moves past it.
func (p *pty) expect(s string) {
	p.t.Helper()
	p.expectAny(s)
}

// expectAny waits (at most 30 s) for the first of ss to show in the output after the last
// match, moves past it, and returns it.
func (p *pty) expectAny(ss ...string) string {
	p.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		p.mu.Lock()
		after := p.out.String()[p.mark:]
		first, at := "", -1
		for _, s := range ss {
			if i := strings.Index(after, s); i >= 0 && (at < 0 || i < at) {
				first, at = s, i
			}
		}
		if at >= 0 {
			p.mark += at + len(first)
		}
		p.mu.Unlock()
		if at >= 0 {
			return first
		}
		select {
		case <-p.changed:
		case <-p.done:
			p.t.Fatalf("the terminal closed before %q:\n%q", ss, p.output())
		case <-deadline:
			p.t.Fatalf("no %q on the terminal after 30 s:\n%q", ss, p.output())
		}
	}
}

// output is all the terminal showed.
func (p *pty) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// mode waits (at most 30 s, looking every 10 ms: a terminal's mode changes without an event)
// until the terminal is in canonical mode (cooked), as the shell leaves it while a statement
// runs, or not (raw), as the line editor puts it while a line is typed.
func (p *pty) mode(cooked bool) {
	p.t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
		if err != nil {
			p.t.Fatal(err)
		}
		if (tio.Lflag&unix.ICANON != 0) == cooked {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			p.t.Fatalf("the terminal did not become cooked=%v:\n%q", cooked, p.output())
		}
	}
}

// shellOnPTY starts "actorlite shell db" on a new pseudo-terminal, as its controlling terminal,
// with home as $HOME.
func shellOnPTY(t *testing.T, home, db string) (*pty, func() int) {
	t.Helper()
	p, tty := openPTY(t)
	cmd := newCmd(t, nil, "shell", db)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "ACTORLITE_HISTORY=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	return p, func() int {
		cmd.Wait()
		return cmd.ProcessState.ExitCode()
	}
}

// TestCLIShellTerminal runs the shell on a pseudo-terminal, as a user at a terminal does: line
// editing, Ctrl-C dropping the statement being typed (a key: the terminal is raw at the
// prompt) or interrupting the running one (SIGINT: the terminal is cooked while it runs), the
// history kept in ~/.actorlite_history and recalled with Up in the next session, and
// .import's progress bar on stderr.
func TestCLIShellTerminal(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "tty.db")
	p, wait := shellOnPTY(t, home, db)
	p.expect("Enter SQL statements ending in \";\", or .help.\r\nactorlite> ")
	p.send("CREATE TABLE t (a);\r")
	p.expect("actorlite> ")
	p.send("INSERT INTO t VALUES (4 2);\x1b[D\x1b[D\x1b[D\x7f\r") // Left ×3, Backspace: (42)
	p.expect("actorlite> ")
	p.send("SELECT a * 2 AS doubled\r")
	p.expect("      ...> ")
	p.send("\x03") // drops "SELECT a * 2 AS doubled"
	p.expect("actorlite> ")
	p.send("\x1b[A FROM t;\r") // Up: "SELECT a * 2 AS doubled", completed
	p.expect("doubled\r\n-------\r\n     84\r\n")
	p.expect("actorlite> ")
	p.send("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\r")
	p.mode(true)
	// SIGINT from Ctrl-C: one that lands before the statement runs drops an empty statement,
	// and says so; then another.
	for {
		p.send("\x03")
		if p.expectAny("Error: interrupted\r\n", "(enter .quit or press Ctrl-D to leave)") == "Error: interrupted\r\n" {
			break
		}
	}
	p.expect("actorlite> ")
	p.mode(false) // Ctrl-D must reach the editor, not a cooked terminal
	p.send("\x04")
	if code := wait(); code != 0 {
		t.Fatalf("exit code %d:\n%q", code, p.output())
	}
	hist, err := os.ReadFile(filepath.Join(home, ".actorlite_history"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "CREATE TABLE t (a);\nINSERT INTO t VALUES (42);\nSELECT a * 2 AS doubled\nSELECT a * 2 AS doubled FROM t;\n" +
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\n"; string(hist) != want {
		t.Errorf("history:\n%s\nwant:\n%s", hist, want)
	}

	// The next session recalls it; .import draws its bar on the terminal.
	csvPath := filepath.Join(home, "big.csv")
	var b strings.Builder
	b.WriteString("n,text\n")
	n := 0
	for ; b.Len() < int(importBarBytes)+1; n++ {
		fmt.Fprintf(&b, "%d,%s\n", n, strings.Repeat("z", 40))
	}
	writeFile(t, csvPath, b.String())
	p, wait = shellOnPTY(t, home, db)
	p.expect("actorlite> ")
	p.send("\x1b[A\x1b[A\r")
	p.expect("     84\r\n")
	p.send(".import " + csvPath + " big\r")
	p.expect(fmt.Sprintf("] 100%%  %s rows  ", commas(int64(n))))
	p.expect("actorlite> ")
	p.send(".quit\r")
	if code := wait(); code != 0 {
		t.Fatalf("exit code %d:\n%q", code, p.output())
	}
	rows := queryJSON(t, db, "SELECT (SELECT a FROM t) AS a, (SELECT count(*) FROM big) AS n")
	if rows[0]["a"] != 42.0 || rows[0]["n"] != float64(n) {
		t.Errorf("after the sessions: %v", rows)
	}
}
