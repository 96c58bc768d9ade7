package supervisor_test

import (
	"testing"

	"github.com/actorlite/actorlite/supervisor"
)

// TestOwnSystemHasASmallRegistry: the actor system a supervisor makes itself has a registry of
// 16 process maps (not protoactor's 1,024, which every GC cycle marks), and still finds the
// processes the system registered while it was made, and those spawned since.
func TestOwnSystemHasASmallRegistry(t *testing.T) {
	s := start(t, supervisor.Config{})
	reg := s.System().ProcessRegistry
	if n := len(reg.LocalPIDs.LocalPIDs); n != 16 {
		t.Fatalf("%d process maps, want 16", n)
	}
	for _, id := range []string{"deadletter", "eventstream", s.PID().Id} {
		if _, ok := reg.GetLocal(id); !ok {
			t.Errorf("process %q not found in the registry", id)
		}
	}
	c, err := s.Open(deadline(t), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.GetLocal(c.PID().Id); !ok {
		t.Errorf("connection %s not found in the registry", c.PID())
	}
}
