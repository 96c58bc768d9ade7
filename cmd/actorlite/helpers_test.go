package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the actorlite command once. It is built without -race even when the tests
// run with it (a race-enabled binary makes the suite ten times slower): TestRunInProcess
// runs the concurrent commands through run, under the race detector and goleak.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go") // go test puts $GOROOT/bin first in PATH
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(binDir, "actorlite")
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the binary with args and stdin (nil: none).
func cli(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("actorlite %q: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustCLI runs the binary and fails unless it exits with code.
func mustCLI(t *testing.T, code int, stdin io.Reader, args ...string) result {
	t.Helper()
	r := cli(t, stdin, args...)
	if r.code != code {
		t.Fatalf("actorlite %q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.code, code, r.stdout, r.stderr)
	}
	return r
}

func contains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

// queryJSON runs a query through "exec -format json" and returns its rows.
func queryJSON(t *testing.T, db, sql string, args ...string) []map[string]any {
	t.Helper()
	r := mustCLI(t, 0, nil, append([]string{"exec", "-format", "json", db, sql}, args...)...)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("exec -format json output: %v\n%s", err, r.stdout)
	}
	return rows
}

// writeEvents writes n JSON lines; bad maps a line number to the text that replaces it.
func writeEvents(t *testing.T, path string, n int, bad map[int]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 1; i <= n; i++ {
		if l, ok := bad[i]; ok {
			fmt.Fprintln(w, l)
			continue
		}
		fmt.Fprintf(w, `{"user_id":"user-%d","name":"%s","properties":{"plan":"%s","line":%d},"timestamp":"%s"}`+"\n",
			i%100, []string{"page_view", "signup", "purchase"}[i%3], []string{"free", "pro"}[i%2], i,
			base.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// runIn runs a command through run with stdin reading in (none when ""), and fails unless it
// exits with code.
func runIn(t *testing.T, in string, code int, args ...string) (stdout, stderr string) {
	t.Helper()
	if in != "" {
		stdin = strings.NewReader(in)
		defer func() { stdin = os.Stdin }()
	}
	var out, errs bytes.Buffer
	if got := run(context.Background(), args, &out, &errs); got != code {
		t.Fatalf("%q: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", args, got, code, &out, &errs)
	}
	return out.String(), errs.String()
}

// newCmd returns the command that runs the binary with args and stdin (nil: none).
func newCmd(t *testing.T, stdin io.Reader, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Stdin = stdin
	return cmd
}

// testShell opens db and returns a shell on it, as shellCmd makes one for a script, writing its
// results to a buffer it drops and its errors to errs.
func testShell(t *testing.T, db string) (sh *shell, errs *bytes.Buffer) {
	t.Helper()
	s, conn, err := openDB(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	out := bufio.NewWriter(io.Discard)
	errs = new(bytes.Buffer)
	return &shell{ctx: context.Background(), sup: s, dbPath: db, db: conn, stdout: out, out: out, errw: errs,
		mode: formatTable, headers: true}, errs
}

// bufioReader reads s.
func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

// mustJSON decodes text into v.
func mustJSON(t *testing.T, text string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("%v:\n%s", err, text)
	}
}
