package supervisor

import (
	"context"
	"fmt"
	"runtime"
	"slices"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

// OpenPool opens a pool on dsn: one writer connection and readers reader connections (0
// means runtime.GOMAXPROCS(0)), each a supervised connection actor, the readers opened with
// query_only=ON. See [actors.Pool] for how it routes. dsn must name a database the members
// share: a file, or "file:/name?vfs=memdb" (":memory:" would give each its own database).
func (s *Supervisor) OpenPool(ctx context.Context, dsn string, readers int, opts ...actors.Option) (*actors.Pool, error) {
	if readers == 0 {
		readers = runtime.GOMAXPROCS(0)
	}
	if readers < 0 {
		return nil, &messages.ArgError{Reason: fmt.Sprintf("a pool needs at least one reader, not %d", readers)}
	}
	if dsn == ":memory:" || dsn == "" {
		return nil, &messages.ArgError{Reason: fmt.Sprintf("a pool needs a database its connections share, not %q: use a file or file:/name?vfs=memdb", dsn)}
	}
	// The writer first: it switches the database to WAL, which the readers then find.
	writer, err := s.Open(ctx, dsn, opts...)
	if err != nil {
		return nil, err
	}
	members := make([]*actors.Conn, 0, readers)
	readerOpts := slices.Concat(opts, []actors.Option{actors.WithPragma("query_only", "ON")})
	for range readers {
		r, err := s.Open(ctx, dsn, readerOpts...)
		if err != nil {
			for _, m := range members {
				m.Close(context.WithoutCancel(ctx))
			}
			writer.Close(context.WithoutCancel(ctx))
			return nil, err
		}
		members = append(members, r)
	}
	p := actors.NewPool(dsn, writer, members)
	s.mu.Lock()
	s.pools = append(s.pools, p)
	s.mu.Unlock()
	return p, nil
}

// poolStats returns the counters of the pools still open.
func (s *Supervisor) poolStats() []actors.PoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []actors.PoolStats
	live := s.pools[:0]
	for _, p := range s.pools {
		select {
		case <-p.Writer().Done():
			continue
		default:
		}
		live = append(live, p)
		out = append(out, p.Stats())
	}
	s.pools = live
	return out
}
