package supervisor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

// eventsPool is the read pool on the events store, opened by the first EventsPool call.
type eventsPool struct {
	mu sync.Mutex // held while it opens: concurrent first calls share one open
	p  *actors.Pool
}

// EventsPool returns the read pool on the events store: EventsConfig.Readers query-only
// connections (0 or less means runtime.GOMAXPROCS(0)) to EventsConfig.DSN, for a service's reads of
// the events it writes (timelines, stats), beside the events writer, which keeps the only
// writing connection. The first call opens it (honouring ctx; a failed open is tried again
// by the next call); later calls return the same pool. It is a read pool
// ([actors.NewReadPool]): Query, QueryRow, QueryAll and Backup, no writes; readers get the
// writer's EventsConfig.Options (converters included) and the page cache OpenPool gives its
// readers. Its readers are supervised connections like any other, and [Supervisor.Stop]
// closes them: do not Close the pool yourself.
//
// Readers read beside the writer's commits in WAL mode, the default. On an events store that
// is not in WAL mode (the memdb VFS, a journal_mode in Options) a reader's read holds off the
// writer's next commit until it ends: keep reads short there. A store private to the
// writer's connection (":memory:") cannot be shared: EventsPool fails with an error wrapping
// [messages.ErrConfig]. With events disabled it returns [messages.ErrNoEventStore]; after Stop,
// [messages.ErrClosed].
func (s *Supervisor) EventsPool(ctx context.Context) (*actors.Pool, error) {
	e := s.events
	if e == nil {
		return nil, messages.ErrNoEventStore
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if s.isStopping() {
		return nil, fmt.Errorf("events pool: %w", messages.ErrClosed)
	}
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	if e.pool.p != nil {
		return e.pool.p, nil
	}
	ec := s.cfg.Events
	n := ec.Readers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	opts := slices.Concat(
		[]actors.Option{actors.WithPragma("cache_size", strconv.Itoa(-readerCacheKiB(n)))},
		ec.Options, // a cache_size of the caller's wins
		[]actors.Option{actors.WithQueryOnly()})
	readers := make([]*actors.Conn, 0, n)
	fail := func(err error) (*actors.Pool, error) {
		for _, r := range readers {
			r.Close(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("events pool: %w", err)
	}
	for range n {
		c, err := s.openChild(ctx, ec.DSN, "", opts)
		if err != nil {
			return fail(err)
		}
		readers = append(readers, c.NewHandle())
		if len(readers) == 1 {
			if _, _, err := poolMode(ctx, readers[0], ec.DSN); err != nil {
				if ae := (*messages.ArgError)(nil); errors.As(err, &ae) {
					err = &messages.ConfigError{Field: "Events.DSN", Reason: ae.Reason}
				}
				return fail(err)
			}
		}
	}
	e.pool.p = actors.NewReadPool(ec.DSN, readers)
	return e.pool.p, nil
}
