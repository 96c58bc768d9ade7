package actors_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/actorlite/actorlite/supervisor"
)

// captureHandler is a slog.Handler that keeps the records at Info and above.
type captureHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *captureHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *captureHandler) WithGroup(string) slog.Handler      { return h }

// warned reports whether a Warn record has an attribute dsn=dsn.
func (h *captureHandler) warned(dsn string) (msg string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		if r.Level != slog.LevelWarn {
			continue
		}
		found := false
		r.Attrs(func(a slog.Attr) bool {
			found = a.Key == "dsn" && a.Value.String() == dsn
			return !found
		})
		if found {
			return r.Message, true
		}
	}
	return "", false
}

// openAndDrop opens a connection, uses it, and drops the handle without Close.
func openAndDrop(t *testing.T, s *supervisor.Supervisor, dsn string) {
	c, err := s.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(context.Background(), "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
}

func TestConnGarbageCollected(t *testing.T) {
	dir := t.TempDir()
	h := &captureHandler{}
	s := newSupervisor(t, supervisor.Config{Logger: slog.New(h)})
	dsn := filepath.Join(dir, "dropped.db")
	openAndDrop(t, s, dsn)
	if n := s.Stats().OpenConns; n != 1 {
		t.Fatalf("%d open connections", n)
	}
	ctx := testCtx(t)
	for {
		if msg, ok := h.warned(dsn); ok {
			t.Logf("warning: %s", msg)
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no warning naming the DSN of the collected Conn")
		}
		runtime.GC()
		runtime.Gosched()
	}
	for s.Stats().OpenConns != 0 {
		if ctx.Err() != nil {
			t.Fatalf("the collected Conn's connection is still open: %+v", s.Stats())
		}
		runtime.Gosched()
	}
	// What it wrote is there, and the file is free to open again.
	c, err := s.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if v := queryValue(t, c, "SELECT count(*) FROM t"); v != int64(0) {
		t.Fatal(v)
	}
	// A Conn that was closed is not warned about when collected.
	h.mu.Lock()
	h.recs = nil
	h.mu.Unlock()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c = nil
	for range 5 {
		runtime.GC()
		runtime.Gosched()
	}
	if _, ok := h.warned(dsn); ok {
		t.Fatal("a closed Conn was warned about")
	}
}
