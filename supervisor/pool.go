package supervisor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
// One writer per database: every pool the supervisor opens on one database file (SQLite's own
// name for it, whatever DSN named it), and the database/sql driver's connectors on it
// (supervisor/sqldriver), share one writer connection and its lock, so their writes and
// transactions queue in order at that writer instead of meeting in SQLite's busy handler. The
// writer keeps the options of the pool that opened it; it closes with the last pool using it.
//
// dsn must name a database the members share: a file, or "file:/name?vfs=memdb". A private
// in-memory database (":memory:", "", "file::memory:", mode=memory, a memdb name without its
// leading '/') would give each member its own: OpenPool refuses it with an error wrapping
// [messages.ErrBadArgument]. Readers serve reads beside the writer only in WAL mode; on a
// database that is not in WAL mode (the memdb VFS has no WAL; a journal_mode in opts) a
// reader's snapshot would block the writer's commits, so the pool gets no readers and its
// writer serves every read.
func (s *Supervisor) OpenPool(ctx context.Context, dsn string, readers int, opts ...actors.Option) (*actors.Pool, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if readers < 0 {
		return nil, poolReadersErr(readers)
	}
	if readers == 0 {
		readers = runtime.GOMAXPROCS(0)
	}
	sw, err := s.acquireWriter(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	var released atomic.Bool
	release := func(ctx context.Context) error {
		if !released.CompareAndSwap(false, true) {
			return nil
		}
		return s.releaseWriter(ctx, sw)
	}
	if !sw.wal {
		readers = 0
	}
	rs, err := s.openReaders(ctx, dsn, readers, "", opts)
	if err != nil {
		release(context.WithoutCancel(ctx))
		return nil, err
	}
	members := make([]*actors.Conn, len(rs))
	for i, r := range rs {
		members[i] = r.NewHandle()
	}
	p := actors.NewPoolWith(actors.PoolConfig{DSN: dsn, Writer: sw.child.Conn(), Readers: members, Lock: sw.lock, ReleaseWriter: release})
	// A pool dropped without Close releases the writer when it is collected (its readers' handles
	// close their connections themselves); the release does not wait for the writer to stop.
	runtime.AddCleanup(p, func(release func(context.Context) error) {
		done, cancel := context.WithCancel(context.Background())
		cancel()
		release(done)
	}, release)
	s.mu.Lock()
	s.pools = append(s.pools, weak.Make(p))
	s.mu.Unlock()
	return p, nil
}

// sharedWriter is the writer of one database file, shared by the pools on it (see OpenPool).
//
// In WAL mode it has a checkpointer: a connection of its own that checkpoints the WAL
// (PASSIVE) after every checkpointWrites writes, on a goroutine of its own, so that the
// checkpoint's fsyncs never stall the writes queued at the writer. The writer checkpoints by
// itself only as a backstop, past writerCheckpointPages pages (when the checkpointer cannot
// keep up, or is blocked by a long read).
type sharedWriter struct {
	file, dsn string
	child     *actors.Child
	lock      *actors.WriterLock
	wal       bool
	refs      int // pools using it; guarded by Supervisor.mu

	ckpt   *actors.Child // nil outside WAL mode
	writes atomic.Int64
	mu     sync.Mutex // guards busy, closed and wg.Add
	busy   bool       // a checkpoint runs
	closed bool
	wg     sync.WaitGroup
}

const (
	checkpointWrites      = 256
	writerCheckpointPages = 4000
)

// released counts a write (the writer lock's release) and starts a checkpoint every
// checkpointWrites, unless one still runs.
func (sw *sharedWriter) released() {
	if sw.writes.Add(1)%checkpointWrites != 0 {
		return
	}
	sw.mu.Lock()
	if sw.ckpt == nil || sw.busy || sw.closed {
		sw.mu.Unlock()
		return
	}
	sw.busy = true
	sw.wg.Add(1)
	sw.mu.Unlock()
	go func() {
		defer sw.wg.Done()
		// An error (the checkpointer closed or crashed meanwhile) leaves the checkpoint to the
		// next try, or to the writer's backstop.
		sw.ckpt.Conn().Exec(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		sw.mu.Lock()
		sw.busy = false
		sw.mu.Unlock()
	}()
}

// close closes the writer and its checkpointer, once no checkpoint runs.
func (sw *sharedWriter) close(ctx context.Context) error {
	sw.mu.Lock()
	sw.closed = true
	sw.mu.Unlock()
	sw.wg.Wait()
	err := sw.child.Close(ctx)
	if sw.ckpt != nil {
		err = errors.Join(err, sw.ckpt.Close(ctx))
	}
	return err
}

// live reports whether the writer can still serve: not closed, nor stopped after a crash.
func (sw *sharedWriter) live() bool {
	select {
	case <-sw.child.Done():
		return false
	default:
		return !sw.child.Closing()
	}
}

// acquireWriter returns the live writer of dsn's database, opening one if there is none, and
// counts one more user of it. A DSN seen before finds its writer at once; another DSN opens a
// connection to learn the file SQLite names for it, and keeps it as the writer only when the
// file has none yet.
func (s *Supervisor) acquireWriter(ctx context.Context, dsn string, opts []actors.Option) (*sharedWriter, error) {
	s.mu.Lock()
	for _, sw := range s.writers {
		if sw.dsn == dsn && sw.live() {
			sw.refs++
			s.mu.Unlock()
			return sw, nil
		}
	}
	s.mu.Unlock()
	// The writer is shared by every caller: only a transaction begun by a Begin request (Tx,
	// Hold) may leave it inside a transaction.
	w, err := s.openChild(ctx, dsn, "", slices.Concat(
		[]actors.Option{actors.WithPragma("wal_autocheckpoint", strconv.Itoa(writerCheckpointPages))},
		opts, // a wal_autocheckpoint of the caller's wins
		[]actors.Option{actors.WithAutocommitOnly()}))
	if err != nil {
		return nil, err
	}
	file, wal, err := poolMode(ctx, w.Conn(), dsn)
	if err != nil {
		w.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	s.mu.Lock()
	if sw := s.writers[file]; sw != nil && sw.live() {
		sw.refs++
		s.mu.Unlock()
		w.Close(context.WithoutCancel(ctx))
		return sw, nil
	}
	s.mu.Unlock()
	sw := &sharedWriter{file: file, dsn: dsn, child: w, wal: wal, refs: 1}
	sw.lock = actors.NewWriterLock(sw.released)
	if wal {
		if sw.ckpt, err = s.openChild(ctx, dsn, "", opts); err != nil {
			w.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	s.mu.Lock()
	if other := s.writers[file]; other != nil && other.live() { // opened meanwhile
		other.refs++
		s.mu.Unlock()
		sw.close(context.WithoutCancel(ctx))
		return other, nil
	}
	if s.writers == nil {
		s.writers = make(map[string]*sharedWriter)
	}
	s.writers[file] = sw
	s.mu.Unlock()
	return sw, nil
}

// releaseWriter counts one user of sw less, and closes it when that was the last.
func (s *Supervisor) releaseWriter(ctx context.Context, sw *sharedWriter) error {
	s.mu.Lock()
	sw.refs--
	last := sw.refs == 0
	if last && s.writers[sw.file] == sw {
		delete(s.writers, sw.file)
	}
	s.mu.Unlock()
	if !last {
		return nil
	}
	return sw.close(ctx)
}

func poolReadersErr(readers int) error {
	return &messages.ArgError{Reason: fmt.Sprintf("a pool needs at least one reader, not %d", readers)}
}

// openPoolChildren opens a pool's writer and readers as OpenPool says (the writer its own,
// not shared), and returns them once every one is open (or the first error, with none of them
// left open). With a name, they are named name+"-writer" and name+"-reader-"+i (i from 0);
// else their names are generated. OpenPoolConns uses it.
func (s *Supervisor) openPoolChildren(ctx context.Context, dsn string, readers int, name string, opts []actors.Option) (*actors.Child, []*actors.Child, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if readers < 0 {
		return nil, nil, poolReadersErr(readers)
	}
	if readers == 0 {
		readers = runtime.GOMAXPROCS(0)
	}
	// The writer first: it switches the database to WAL, which the readers then find. It is
	// shared by every caller: only Tx (a Begin request) may leave it inside a transaction.
	writer, err := s.openChild(ctx, dsn, member(name, "writer"), append(slices.Clip(opts), actors.WithAutocommitOnly()))
	if err != nil {
		return nil, nil, err
	}
	_, wal, err := poolMode(ctx, writer.Conn(), dsn)
	if err != nil {
		writer.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	if !wal {
		readers = 0
	}
	members, err := s.openReaders(ctx, dsn, readers, name, opts)
	if err != nil {
		writer.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return writer, members, nil
}

// member names a pool's member: "" without a pool name.
func member(name, role string) string {
	if name == "" {
		return ""
	}
	return name + "-" + role
}

// openReaders opens a pool's readers, each query-only, and returns them once every one is
// open, or the first error with none of them left open.
func (s *Supervisor) openReaders(ctx context.Context, dsn string, readers int, name string, opts []actors.Option) ([]*actors.Child, error) {
	members := make([]*actors.Child, 0, readers)
	readerOpts := slices.Concat(
		[]actors.Option{actors.WithPragma("cache_size", strconv.Itoa(-readerCacheKiB(readers)))},
		opts, // a cache_size of the caller's wins
		[]actors.Option{actors.WithQueryOnly()})
	for i := range readers {
		r, err := s.openChild(ctx, dsn, member(name, "reader-"+strconv.Itoa(i)), readerOpts)
		if err != nil {
			for _, m := range members {
				m.Close(context.WithoutCancel(ctx))
			}
			return nil, err
		}
		members = append(members, r)
	}
	return members, nil
}

// poolMode checks, on a pool's writer, that its database is one other connections share
// (SQLite names no file for a private in-memory or temporary database; a memdb database is
// shared only under a name starting with '/'), and returns that file's name and whether it is
// in WAL mode.
func poolMode(ctx context.Context, w *actors.Conn, dsn string) (file string, wal bool, err error) {
	row, err := w.QueryRow(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'")
	if err != nil {
		return "", false, err
	}
	if file, _ = row.Index(0).(string); file == "" || !(strings.HasPrefix(file, "/") || filepath.IsAbs(file)) {
		return "", false, &messages.ArgError{Reason: fmt.Sprintf("a pool needs a database its connections share, not %q, which is private to each connection: use a file or file:/name?vfs=memdb", dsn)}
	}
	row, err = w.QueryRow(ctx, "PRAGMA journal_mode")
	if err != nil {
		return "", false, err
	}
	mode, _ := row.Index(0).(string)
	return file, strings.EqualFold(mode, "wal"), nil
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
