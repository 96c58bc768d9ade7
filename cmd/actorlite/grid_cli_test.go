package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The grid commands' argument checks (a running grid is tested in supervisor/grid).
func TestGridUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve"}, 2, "-data is required"},
		{[]string{"serve", "-data", t.TempDir()}, 2, "-port is required"},
		{[]string{"serve", "-data", t.TempDir(), "-port", "7000"}, 2, "-peers is required"},
		{[]string{"serve", "-data", t.TempDir(), "-port", "7000", "-peers", "x:1", "extra"}, 2, "unexpected arguments"},
		{[]string{"exec", "-peers", "127.0.0.1:1", "SELECT 1"}, 2, "want -peers, -tenant and SQL"},
		{[]string{"exec", "-peers", "127.0.0.1:1", "-tenant", "a", "-format", "xml", "SELECT 1"}, 2, "format"},
		{[]string{"serve", "-h"}, 0, ""},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, &out, &errb)
		if code != tt.code || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
		}
	}
	if !isGridExec([]string{"-tenant", "a", "-peers=x:1", "SELECT"}) || isGridExec([]string{"db", "--", "-peers"}) || isGridExec([]string{"db", "SELECT 1"}) {
		t.Fatal("isGridExec")
	}
}
