package supervisor

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"weak"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

// OpenPool opens a pool on dsn: one writer connection and readers reader connections (0
// means runtime.GOMAXPROCS(0)), each a supervised connection actor. The readers are opened
// with query_only=ON and a larger page cache than SQLite's 2 MiB: they share a budget of 32
// MiB, each getting at most 8 MiB and at least 2 MiB (a cache_size in opts overrides it).
// They are query-only ([actors.WithQueryOnly]): whatever SQL reaches a reader, it cannot
// change it for the next caller (a statement it refuses goes to the writer). See
// [actors.Pool] for how the pool routes.
//
// dsn must name a database the members share: a file, or "file:/name?vfs=memdb". A private
// in-memory database (":memory:", "", "file::memory:", mode=memory, a memdb name without its
// leading '/') would give each member its own: OpenPool refuses it with an error wrapping
// [messages.ErrBadArgument]. Readers serve reads beside the writer only in WAL mode; on a
// database that is not in WAL mode (the memdb VFS has no WAL; a journal_mode in opts) a
// reader's snapshot would block the writer's commits, so the pool gets no readers and its
// writer serves every read.
func (s *Supervisor) OpenPool(ctx context.Context, dsn string, readers int, opts ...actors.Option) (*actors.Pool, error) {
	w, rs, err := s.openPoolChildren(ctx, dsn, readers, "", opts)
	if err != nil {
		return nil, err
	}
	members := make([]*actors.Conn, len(rs))
	for i, r := range rs {
		members[i] = r.NewHandle()
	}
	p := actors.NewPool(dsn, w.NewHandle(), members)
	s.mu.Lock()
	s.pools = append(s.pools, weak.Make(p))
	s.mu.Unlock()
	return p, nil
}

// openPoolChildren opens a pool's writer and readers as OpenPool says, and returns them once
// every one is open (or the first error, with none of them left open). With a name, they are
// named name+"-writer" and name+"-reader-"+i (i from 0); else their names are generated.
// OpenPool and OpenPoolConns share it.
func (s *Supervisor) openPoolChildren(ctx context.Context, dsn string, readers int, name string, opts []actors.Option) (*actors.Child, []*actors.Child, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if readers == 0 {
		readers = runtime.GOMAXPROCS(0)
	}
	if readers < 0 {
		return nil, nil, &messages.ArgError{Reason: fmt.Sprintf("a pool needs at least one reader, not %d", readers)}
	}
	member := func(role string) string {
		if name == "" {
			return ""
		}
		return name + "-" + role
	}
	// The writer first: it switches the database to WAL, which the readers then find. It is
	// shared by every caller: only Tx (a Begin request) may leave it inside a transaction.
	writer, err := s.openChild(ctx, dsn, member("writer"), append(slices.Clip(opts), actors.WithAutocommitOnly()))
	if err != nil {
		return nil, nil, err
	}
	members := make([]*actors.Child, 0, readers)
	fail := func(err error) (*actors.Child, []*actors.Child, error) {
		for _, m := range members {
			m.Close(context.WithoutCancel(ctx))
		}
		writer.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	wal, err := poolMode(ctx, writer.Conn(), dsn)
	if err != nil {
		return fail(err)
	}
	if !wal {
		readers = 0
	}
	readerOpts := slices.Concat(
		[]actors.Option{actors.WithPragma("cache_size", strconv.Itoa(-readerCacheKiB(readers)))},
		opts, // a cache_size of the caller's wins
		[]actors.Option{actors.WithQueryOnly()})
	for i := range readers {
		r, err := s.openChild(ctx, dsn, member("reader-"+strconv.Itoa(i)), readerOpts)
		if err != nil {
			return fail(err)
		}
		members = append(members, r)
	}
	return writer, members, nil
}

// poolMode checks, on a pool's writer, that its database is one other connections share
// (SQLite names no file for a private in-memory or temporary database; a memdb database is
// shared only under a name starting with '/'), and reports whether it is in WAL mode.
func poolMode(ctx context.Context, w *actors.Conn, dsn string) (wal bool, err error) {
	row, err := w.QueryRow(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'")
	if err != nil {
		return false, err
	}
	if file, _ := row.Index(0).(string); file == "" || !(strings.HasPrefix(file, "/") || filepath.IsAbs(file)) {
		return false, &messages.ArgError{Reason: fmt.Sprintf("a pool needs a database its connections share, not %q, which is private to each connection: use a file or file:/name?vfs=memdb", dsn)}
	}
	row, err = w.QueryRow(ctx, "PRAGMA journal_mode")
	if err != nil {
		return false, err
	}
	mode, _ := row.Index(0).(string)
	return strings.EqualFold(mode, "wal"), nil
}

// readerCacheKiB is the page cache OpenPool gives each of a pool's readers, in KiB. A reader
// serves the queries of many callers, so its working set is theirs together; with SQLite's
// default it rereads from the file (a system call per page) what a larger cache keeps. Two
// readers hold 16 MiB between them: as much as 8 separate connections with the default.
// SQLite allocates the cache as pages are read, up to this size.
func readerCacheKiB(readers int) int {
	return max(2048, min(8192, 32768/max(readers, 1)))
}

// poolStats returns the counters of the pools still open. The supervisor holds its pools
// weakly: a strong reference would reach the pool's Conn handles from the actor system, and a
// handle reachable from what its cleanup holds is never collected (neither closed when dropped,
// nor freed with its supervisor after Stop).
func (s *Supervisor) poolStats() []actors.PoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []actors.PoolStats
	live := s.pools[:0]
	for _, w := range s.pools {
		p := w.Value()
		if p == nil {
			continue
		}
		select {
		case <-p.Writer().Done():
			continue
		default:
		}
		live = append(live, w)
		out = append(out, p.Stats())
	}
	clear(s.pools[len(live):])
	s.pools = live
	return out
}
