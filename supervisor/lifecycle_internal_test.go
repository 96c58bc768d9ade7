package supervisor

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/asynkron/protoactor-go/actor"
)

// An open under the name of a connection that is closing waits until the supervisor has seen
// that connection stop, then takes the name; under the name of one that is open, it fails.
// The supervisor actor is held busy (answering a spawnConn whose reply nobody reads yet) while
// the old connection stops, so that its Terminated waits in the mailbox and the new open must
// wait for it.
func TestOpenWaitsForAClosingName(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	dsn := filepath.Join(dir, "named.db")
	old, err := s.openChild(ctx, dsn, "named", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.openChild(ctx, dsn, "named", nil); !errors.Is(err, actor.ErrNameExists) {
		t.Fatalf("open under a name in use: %v", err)
	}

	// The supervisor actor spawns "blocker" and then blocks on its reply.
	blocker := actors.NewChild(actors.ChildConfig{System: s.sys}, filepath.Join(dir, "blocker.db"))
	if err := blocker.Open(ctx); err != nil {
		t.Fatal(err)
	}
	busy := make(chan error)
	s.sys.Root.Send(s.pid, &spawnConn{child: blocker, name: "blocker", reply: busy})
	poll(t, ctx, "the supervisor actor to spawn blocker", func() bool { return s.child(s.ConnPID("blocker")) != nil })

	if err := old.Close(ctx); err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	var reopened *actors.Child
	go func() {
		var err error
		reopened, err = s.openChild(ctx, dsn, "named", nil)
		opened <- err
	}()
	// Once the open waits for the name, let the supervisor actor go on.
	id := s.ConnPID("named").Id
	poll(t, ctx, "the open to wait for the name", func() bool {
		select {
		case err := <-opened:
			t.Fatalf("the open did not wait for the closing connection's name: %v", err)
		default:
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.opening.waiters[id]) > 0
	})
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the open never got the name")
	}
	if !reopened.PID().Equal(s.ConnPID("named")) {
		t.Fatalf("reopened as %v", reopened.PID())
	}
	if err := reopened.Conn().Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.OpenConns != 0 || st.Opened != 3 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := s.openChild(ctx, dsn, "named", nil); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("open after Stop: %v", err)
	}
}

// poll waits for cond, yielding between checks, failing the test when ctx ends.
func poll(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}
