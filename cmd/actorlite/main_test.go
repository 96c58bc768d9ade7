package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// binDir holds the binary the CLI tests build (see binary, in helpers_test.go).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "actorlite-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	goleak.VerifyTestMain(m,
		goleak.Cleanup(func(int) { os.RemoveAll(dir) }),
		// protoactor's dead-letter log throttle (actor/throttler.go:27, started by
		// NewDeadLetter) keeps a goroutine for its 1s period after a dead letter, even once
		// its actor system is shut down (see actors/main_test.go). It ends by itself.
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"),
		goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewThrottle.func1.1"),
	)
}

// TestRun runs commands in-process, through run.
func TestRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or stderr for a non-zero code
	}{
		{"demo", []string{"demo", "-db", db, "-producers", "4", "-events", "250"},
			0, []string{"1,000 events committed", "the events writer group-commits", "cursor.description:",
				"timestamp  DATETIME", "properties JSON TEXT", `events with properties.plan = "pro": 500 (amount total 22,500)`,
				"errors.Is(err, messages.ErrCrashed) = true", "1,000 events, all committed rows intact",
				"crashes=1 restarts=1", "events_committed=1000", "stopped"}},
		{"version", []string{"version"}, 0, []string{"actorlite " + version, "SQLite 3."}},
		{"no command", nil, 2, []string{"Usage:"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"demo help", []string{"demo", "-h"}, 0, []string{"Usage: actorlite demo", "Examples:", "-producers"}},
		{"help command", []string{"help", "ingest"}, 0, []string{"Usage: actorlite ingest", "-strict"}},
		{"bad flag", []string{"demo", "-nope"}, 2, []string{"flag provided but not defined: -nope", "Usage: actorlite demo"}},
		{"exec without SQL", []string{"exec", db}, 2, []string{"want DB and SQL", `Run "actorlite exec -h"`}},
		{"exec bad format", []string{"exec", "-format", "xml", db, "SELECT 1"}, 2, []string{`unknown format "xml"`}},
		{"exec", []string{"exec", "-format", "csv", db, "SELECT ? AS a, ? AS b, ? AS c", "1", "2.5", "x"}, 0, []string{"a,b,c\n1,2.5,x\n"}},
		{"dump missing", []string{"dump", filepath.Join(t.TempDir(), "nope.db")}, 1, []string{"no such database file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			out := stdout.String() + stderr.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestRunInProcess runs shell, ingest, dump and bench through run, so that their goroutines
// run under the race detector (when the tests do) and goleak.
func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "in.db")
	src := filepath.Join(dir, "events.jsonl")
	writeEvents(t, src, 20_000, map[int]string{3: `{"name":"n"}`, 19_999: `{`})
	out, errs := runIn(t, "", 1, "ingest", "-progress", "bar", "-batch", "500", db, src)
	contains(t, "ingest", out, "ingested 19,998 events from 20,000 lines", "2 lines rejected: lines 3, 19,999")
	contains(t, "ingest", errs, src+":3: user_id: missing or empty", "] 100%  19,998 events")
	out, _ = runIn(t, "", 0, "ingest", "-progress", "plain", "-table", "more", db, "-")
	contains(t, "ingest of nothing", out, "ingested 0 events from 0 lines of stdin")
	out, _ = runIn(t, "SELECT count(*) AS n FROM events;\n.mode csv\nSELECT name, count(*) AS n FROM events GROUP BY name ORDER BY name;\n.tables\n", 0, "shell", db)
	if want := "n\n-----\n19998\nname,n\npage_view,6665\npurchase,6667\nsignup,6666\nevents  more\n"; out != want {
		t.Errorf("shell output:\n%q\nwant:\n%q", out, want)
	}
	out, _ = runIn(t, "", 0, "dump", db)
	contains(t, "dump", out, `CREATE TABLE "events"`, `INSERT INTO "events"`, "COMMIT;")
	out, _ = runIn(t, "", 0, "bench", "-duration", "10ms", "-producers", "3", "-rows", "100")
	contains(t, "bench", out, "headline:")
}
