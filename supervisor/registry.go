package supervisor

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	cmap "github.com/orcaman/concurrent-map"
)

// registryBuckets is the number of process maps in the registry of an actor system the
// supervisor makes itself. protoactor makes 1,024 maps of concurrent-map's 32 shards each:
// about 65,000 small objects (3 MB) that every garbage collection marks, however few actors
// run. That marking was 40% of what a point select through a connection actor cost over the
// same select on a bare connection (bench/README.md, issue 21). 16 maps keep 512 shards, each
// with its own lock: far more than the cores that register and look up processes at once.
const registryBuckets = 16

// newActorSystem makes the supervisor's own actor system, with a registry of registryBuckets
// maps. The registry picks a map by a key's hash modulo the number of maps (SliceMap.GetBucket),
// so any number works; the processes the system registered while it was made (its event stream)
// move into the new maps before anything else can see the registry.
func newActorSystem(logger *slog.Logger) *actor.ActorSystem {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }))
	sm := &actor.SliceMap{LocalPIDs: make([]cmap.ConcurrentMap, registryBuckets)}
	for i := range sm.LocalPIDs {
		sm.LocalPIDs[i] = cmap.New()
	}
	for _, m := range sys.ProcessRegistry.LocalPIDs.LocalPIDs {
		if m.Count() == 0 { // (Items starts a goroutine per shard: only for the few maps used)
			continue
		}
		for id, p := range m.Items() {
			sm.GetBucket(id).Set(id, p)
		}
	}
	sys.ProcessRegistry.LocalPIDs = sm
	return sys
}
