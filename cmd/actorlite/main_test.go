package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRun(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or stderr for a non-zero code
	}{
		{"demo", []string{"demo", "-db", db, "-producers", "4", "-events", "250"},
			0, []string{"1000 events committed", "cursor.description:", "timestamp  DATETIME",
				"errors.Is(err, messages.ErrCrashed) = true", "1000 events, all committed rows intact",
				"crashes=1 restarts=1", "stopped"}},
		{"version", []string{"version"}, 0, []string{"actorlite " + version}},
		{"no command", nil, 2, []string{"Usage:"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"demo help", []string{"demo", "-h"}, 0, []string{"Usage: actorlite demo"}},
		{"bad flag", []string{"demo", "-nope"}, 1, []string{"flag provided but not defined"}},
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
