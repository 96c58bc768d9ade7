package grid_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/supervisor"
	"github.com/actorlite/actorlite/supervisor/grid"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
)

// testCluster is n members in this process, over protoactor's test provider, each with its
// own supervisor (and actor system) and DataDir.
type testCluster struct {
	agent   *test.InMemAgent
	members []*grid.Member
	sups    []*supervisor.Supervisor
	dirs    []string
}

func startCluster(t testing.TB, n int, idle time.Duration) *testCluster {
	t.Helper()
	tc := &testCluster{agent: test.NewInMemAgent(), members: make([]*grid.Member, n), sups: make([]*supervisor.Supervisor, n), dirs: make([]string, n)}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		tc.dirs[i] = t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			tc.sups[i], tc.members[i], errs[i] = tc.join(t.Context(), tc.dirs[i], idle)
		}()
	}
	wg.Wait()
	t.Cleanup(func() { tc.stop(t) })
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return tc
}

func (tc *testCluster) join(ctx context.Context, dir string, idle time.Duration) (*supervisor.Supervisor, *grid.Member, error) {
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		return nil, nil, err
	}
	m, err := grid.Join(ctx, s, grid.Config{DataDir: dir, Provider: test.NewTestProvider(tc.agent), IdleTimeout: idle})
	if err != nil {
		s.Stop(context.Background())
		return nil, nil, err
	}
	return s, m, nil
}

func (tc *testCluster) stop(t testing.TB) {
	var wg sync.WaitGroup
	for i, m := range tc.members {
		if m == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Stop(context.Background()); err != nil {
				t.Error(err)
			}
			if err := tc.sups[i].Stop(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// owner returns the index of the member whose DataDir holds name's database (-1: none).
func (tc *testCluster) owner(t testing.TB, name string) int {
	t.Helper()
	found := -1
	for i, d := range tc.dirs {
		if _, err := os.Stat(filepath.Join(d, name+".db")); err == nil {
			if found >= 0 {
				t.Fatalf("%s is in two DataDirs: %d and %d", name, found, i)
			}
			found = i
		}
	}
	return found
}

// openConns returns the connections open over every member's supervisor.
func (tc *testCluster) openConns() int64 {
	var n int64
	for _, s := range tc.sups {
		n += s.Stats().OpenConns
	}
	return n
}

// eventually polls cond every 20 ms until it holds, failing the test after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("after %v: %s", d, what)
		}
	}
}
