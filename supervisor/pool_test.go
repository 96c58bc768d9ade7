package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// openPool opens a pool on a file with accounts a and b holding 1,000 between them.
func openPool(t testing.TB, s *supervisor.Supervisor, readers int) *actors.Pool {
	t.Helper()
	ctx := context.Background()
	p, err := s.OpenPool(ctx, filepath.Join(t.TempDir(), "pool.db"), readers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	err = p.ExecScript(ctx, `CREATE TABLE accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL);
		INSERT INTO accounts VALUES ('a', 600), ('b', 400);
		CREATE TABLE log (id INTEGER PRIMARY KEY, note TEXT);`)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// transfer moves n from one account to the other inside a pool transaction.
func transfer(ctx context.Context, c *actors.Conn, from, to string, n int) error {
	if _, err := c.Exec(ctx, "UPDATE accounts SET balance = balance - ? WHERE name = ?", n, from); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "UPDATE accounts SET balance = balance + ? WHERE name = ?", n, to); err != nil {
		return err
	}
	return nil
}

func TestPoolMixedLoadIsConsistentAndNeverBusy(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 3)
	ctx := deadline(t)
	writes, reads := 400, 300
	if testing.Short() {
		writes, reads = 100, 50
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	wg.Add(1)
	go func() { // one writer, autocommit and transactions
		defer wg.Done()
		for i := range writes {
			var err error
			if i%2 == 0 {
				_, err = p.Exec(ctx, "INSERT INTO log (note) VALUES (?)", fmt.Sprint("write ", i))
			} else {
				err = p.Tx(ctx, func(c *actors.Conn) error { return transfer(ctx, c, "a", "b", i%7) })
			}
			if err != nil {
				errs <- fmt.Errorf("write %d: %w", i, err)
				return
			}
		}
	}()
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range reads {
				row, err := p.QueryRow(ctx, "SELECT sum(balance), count(*) FROM accounts")
				if err != nil {
					errs <- fmt.Errorf("reader %d, read %d: %w", g, i, err)
					return
				}
				if total := row.Index(0); total != int64(1000) {
					errs <- fmt.Errorf("reader %d saw a broken invariant: total %v", g, total)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if errors.Is(err, messages.ErrBusy) {
			t.Errorf("database is locked: %v", err)
		} else {
			t.Error(err)
		}
	}
	st := s.Stats()
	if len(st.Pools) != 1 || st.Pools[0].Reads != int64(16*reads) || st.Pools[0].Txs != int64(writes/2) {
		t.Fatalf("pool stats %+v", st.Pools)
	}
}

func TestPoolTxRollsBack(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 1)
	ctx := deadline(t)
	balance := func() int64 {
		row, err := p.QueryRow(ctx, "SELECT balance FROM accounts WHERE name = 'a'")
		if err != nil {
			t.Fatal(err)
		}
		return row.Index(0).(int64)
	}
	errBoom := errors.New("changed my mind")
	err := p.Tx(ctx, func(c *actors.Conn) error {
		if err := transfer(ctx, c, "a", "b", 100); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) || balance() != 600 {
		t.Fatalf("Tx returning an error: %v, balance %d", err, balance())
	}
	func() {
		defer func() {
			if r := recover(); r != "panic in tx" {
				t.Fatalf("recovered %v, want the panic to go on in the caller", r)
			}
		}()
		p.Tx(ctx, func(c *actors.Conn) error {
			transfer(ctx, c, "a", "b", 100)
			panic("panic in tx")
		})
	}()
	if b := balance(); b != 600 {
		t.Fatalf("balance %d after a panicking Tx", b)
	}
	if in, err := p.Writer().InTransaction(ctx); in || err != nil {
		t.Fatalf("writer left in a transaction: %v %v", in, err)
	}
	if err := p.Tx(ctx, func(c *actors.Conn) error { return transfer(ctx, c, "a", "b", 100) }); err != nil || balance() != 500 {
		t.Fatalf("committed Tx: %v, balance %d", err, balance())
	}
	if err := p.Tx(ctx, nil); !errors.Is(err, messages.ErrBadArgument) {
		t.Fatalf("nil Tx function: %v", err)
	}
}

func TestPoolWritesWaitForTx(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 1)
	ctx := deadline(t)
	err := p.Tx(ctx, func(c *actors.Conn) error {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := p.Exec(wctx, "INSERT INTO log (note) VALUES ('outside')")
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("a write outside the Tx did not wait for it: %v", err)
		}
		// Reads do not wait.
		if _, err := p.QueryRow(ctx, "SELECT count(*) FROM log"); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPoolRoutesQueriesThatWriteToTheWriter(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 2)
	ctx := deadline(t)
	for i := range 3 {
		row, err := p.QueryRow(ctx, "INSERT INTO log (note) VALUES (?) RETURNING id", "returning")
		if err != nil || row.Index(0) != int64(i+1) {
			t.Fatalf("INSERT … RETURNING through the pool: %v %v", row, err)
		}
	}
	cur, err := p.Query(ctx, "SELECT id FROM log ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := cur.FetchAll(ctx); err != nil || len(rows) != 3 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	if st := p.Stats(); st.Rerouted != 1 || st.Writes < 3 {
		t.Fatalf("stats %+v: want one reroute, remembered afterwards", st)
	}
	// The readers really are read-only.
	reader := p.ReaderPIDs()[0]
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(reader, &messages.Exec{SQL: "DELETE FROM log", ReplyTo: reply})
	if err := (<-reply).ReplyErr(); !errors.Is(err, messages.ErrReadOnly) {
		t.Fatalf("write on a reader: %v, want ErrReadOnly", err)
	}
}

func TestPoolReaderCrashDuringLoad(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 2)
	ctx := deadline(t)
	if err := p.CreateFunction(ctx, "boom", 0, func([]any) (any, error) { panic("reader boom") }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if row, err := p.QueryRow(ctx, "SELECT sum(balance) FROM accounts"); err != nil || row.Index(0) != int64(1000) {
					errs <- fmt.Errorf("reader goroutine %d: %v %v", g, row, err)
					return
				}
			}
		}()
	}
	for range 5 {
		if _, err := p.QueryRow(ctx, "SELECT boom()"); !errors.Is(err, messages.ErrCrashed) {
			t.Fatalf("crashing read: %v", err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := s.Stats(); st.Crashes != 5 || st.Restarts != 5 {
		t.Fatalf("stats: %d crashes, %d restarts", st.Crashes, st.Restarts)
	}
}

func TestOpenPoolBadInput(t *testing.T) {
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	for _, tt := range []struct {
		dsn     string
		readers int
		want    error
	}{
		{":memory:", 2, messages.ErrBadArgument},
		{filepath.Join(t.TempDir(), "x.db"), -1, messages.ErrBadArgument},
		{filepath.Join(t.TempDir(), "missing", "x.db"), 2, messages.ErrCantOpen},
	} {
		if p, err := s.OpenPool(ctx, tt.dsn, tt.readers); !errors.Is(err, tt.want) || p != nil {
			t.Errorf("OpenPool(%q, %d) = %v, %v; want %v", tt.dsn, tt.readers, p, err, tt.want)
		}
	}
}

// TestPoolReaderPragmasCannotUndoQueryOnly is issue 14: a pool appends query_only=ON after the caller's
// options for its readers, and a caller's pragma value holding a comment opener used to
// comment it out, leaving every reader writable. Such a value must fail OpenPool; a pool
// that opens must have readers that refuse writes.
func TestPoolReaderPragmasCannotUndoQueryOnly(t *testing.T) {
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	for _, opt := range []actors.Option{
		actors.WithPragma("cache_size", "-1000 --"),
		actors.WithPragma("cache_size", "-1000 /*"),
		actors.WithSynchronous("NORMAL --"),
	} {
		p, err := s.OpenPool(ctx, filepath.Join(t.TempDir(), "ro.db"), 2, opt)
		if err != nil {
			if !errors.Is(err, messages.ErrBadArgument) || p != nil {
				t.Errorf("OpenPool = %v, %v; want nil, ErrBadArgument", p, err)
			}
			continue
		}
		for _, pid := range p.ReaderPIDs() {
			reply := make(chan messages.Reply, 1)
			s.System().Root.Send(pid, &messages.Exec{SQL: "CREATE TABLE IF NOT EXISTS w(x)", ReplyTo: reply})
			if r := (<-reply).(*messages.ExecReply); !errors.Is(r.Err, messages.ErrReadOnly) {
				t.Errorf("a reader of a pool opened with a commented value ran a write: %v", r.Err)
			}
		}
		p.Close(ctx)
	}
}

// TestPoolWithoutReaders checks that a pool made with no readers serves reads (and Backup)
// from its writer rather than failing.
func TestPoolWithoutReaders(t *testing.T) {
	s := start(t, supervisor.Config{})
	dir := t.TempDir()
	ctx := deadline(t)
	w, err := s.Open(ctx, filepath.Join(dir, "solo.db"))
	if err != nil {
		t.Fatal(err)
	}
	p := actors.NewPool(filepath.Join(dir, "solo.db"), w, nil)
	defer p.Close(ctx)
	if err := p.ExecScript(ctx, "CREATE TABLE t(x); INSERT INTO t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	if row, err := p.QueryRow(ctx, "SELECT x FROM t"); err != nil || row.Index(0) != int64(7) {
		t.Fatalf("QueryRow = %v, %v", row, err)
	}
	if err := p.Backup(ctx, filepath.Join(dir, "copy.db")); err != nil {
		t.Fatalf("Backup = %v", err)
	}
	if st := p.Stats(); st.Readers != 0 || st.Reads != 0 || st.Writes != 2 {
		t.Fatalf("stats %+v: want the writer to have served both calls", st)
	}
}

// TestPoolStatsCountReads checks the per-reader counters Stats adds up, with readers used
// from many goroutines at once.
func TestPoolStatsCountReads(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 3)
	ctx := deadline(t)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range 50 {
				if _, err := p.QueryRow(ctx, "SELECT sum(balance) FROM accounts"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := p.Stats(); st.Reads != 300 || st.Readers != 3 {
		t.Fatalf("stats %+v: want 300 reads over 3 readers", st)
	}
}

// TestPoolReaderCache checks the page cache the readers get, and that a cache_size the caller
// passes wins over it.
func TestPoolReaderCache(t *testing.T) {
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	for _, tt := range []struct {
		name           string
		opts           []actors.Option
		reader, writer int64
	}{
		{"default", nil, -8192, -2000}, // -2000: SQLite's default
		{"caller's", []actors.Option{actors.WithPragma("cache_size", "-1000")}, -1000, -1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.OpenPool(ctx, filepath.Join(t.TempDir(), "cache.db"), 2, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(ctx)
			for _, pid := range p.ReaderPIDs() {
				reply := make(chan messages.Reply, 1)
				s.System().Root.Send(pid, &messages.Query{SQL: "PRAGMA cache_size", ReplyTo: reply, OneRow: true})
				rows := (<-reply).(*messages.Rows)
				if rows.Err != nil || len(rows.Rows) != 1 || rows.Rows[0].Index(0) != tt.reader {
					t.Fatalf("reader cache_size: %v %v, want %d", rows.Rows, rows.Err, tt.reader)
				}
			}
			w, err := p.Writer().QueryRow(ctx, "PRAGMA cache_size")
			if err != nil || w.Index(0) != tt.writer {
				t.Fatalf("writer cache_size: %v %v, want %d", w, err, tt.writer)
			}
		})
	}
}

// Pools on one database share its writer and the writer's lock: a Tx of one keeps the writes
// of the other out until it ends, and the writer outlives every pool but the last.
func TestPoolsOnOneDatabaseShareTheWriter(t *testing.T) {
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	path := filepath.Join(t.TempDir(), "shared.db")
	p1, err := s.OpenPool(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Another DSN for the same file: SQLite's name for it decides, not the DSN's text.
	p2, err := s.OpenPool(ctx, "file:"+path+"?cache=private", 1)
	if err != nil {
		t.Fatal(err)
	}
	p3, err := s.OpenPool(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p1.WriterPID() != p2.WriterPID() || p1.WriterPID() != p3.WriterPID() {
		t.Fatalf("writers %v, %v, %v: want one", p1.WriterPID(), p2.WriterPID(), p3.WriterPID())
	}
	if _, err := p1.Exec(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	w, release, err := p1.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.BeginImmediate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = p2.Exec(wctx, "INSERT INTO t VALUES (2)")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write of another pool did not wait for the held writer: %v", err)
	}
	if err := w.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	release()
	release() // a second call does nothing
	if _, err := p2.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	row, err := p3.QueryRow(ctx, "SELECT group_concat(x) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Index(0); got != "2" {
		t.Fatalf("rows %v, want only the write after the rollback", got)
	}
	if err := p1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p3.Exec(ctx, "INSERT INTO t VALUES (3)"); err != nil {
		t.Fatalf("the last pool lost the shared writer: %v", err)
	}
	if err := p3.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p3.Writer().Done():
	case <-ctx.Done():
		t.Fatal("the writer outlived its last pool")
	}
	p4, err := s.OpenPool(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p4.Close(ctx)
	if p4.WriterPID() == p1.WriterPID() {
		t.Fatal("a pool opened after the last one closed got the closed writer")
	}
	if _, err := p4.Exec(ctx, "INSERT INTO t VALUES (4)"); err != nil {
		t.Fatal(err)
	}
}

// A pool's WAL is checkpointed by a connection of its own, not by the writer: with the
// writer's own autocheckpoint off, rows still reach the database file.
func TestPoolCheckpointsOffTheWriter(t *testing.T) {
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	path := filepath.Join(t.TempDir(), "ckpt.db")
	p, err := s.OpenPool(ctx, path, 1, actors.WithPragma("wal_autocheckpoint", "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if _, err := p.Exec(ctx, "CREATE TABLE t (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	fill := strings.Repeat("x", 2000)
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Rows of 2 kB: 600 kB of them reach the file only through checkpoints, which start every
	// few hundred writes (the checkpointer skips a turn while its last one runs).
	for i := 0; size() < 600*1024; i++ {
		if i == 5000 {
			t.Fatalf("%d writes, and the database file holds %d bytes: no checkpoint copied them", i, size())
		}
		if _, err := p.Exec(ctx, "INSERT INTO t VALUES (?)", fill); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPoolReplay: a connection beside a pool gets, through Replay, what was registered through
// the pool, in order, only what is new since its last replay, and one registration per name
// however often a name is registered again.
func TestPoolReplay(t *testing.T) {
	s := start(t, supervisor.Config{})
	p := openPool(t, s, 1)
	ctx := deadline(t)
	side := open(t, s)
	version := func(v int) func([]any) (any, error) {
		return func([]any) (any, error) { return int64(v), nil }
	}
	for v := 1; v <= 100; v++ { // the same function, registered again and again
		if err := p.CreateFunction(ctx, "version", 0, version(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.CreateCollation(ctx, "backwards", func(a, b string) int { return strings.Compare(b, a) }); err != nil {
		t.Fatal(err)
	}
	gen, err := p.Replay(ctx, side, 0)
	if err != nil {
		t.Fatal(err)
	}
	row, err := side.QueryRow(ctx, "SELECT version(), (SELECT group_concat(x, '') FROM (SELECT 'a' AS x UNION ALL SELECT 'b' ORDER BY x COLLATE backwards))")
	if err != nil || row.Index(0) != int64(100) || row.Index(1) != "ba" {
		t.Fatalf("after a replay: %v, %v; want the last version, 100, and the collation", row, err)
	}
	// Only what is new since gen; the function replaced on the pool is replaced on the side.
	if err := p.CreateFunction(ctx, "version", 0, version(101)); err != nil {
		t.Fatal(err)
	}
	next, err := p.Replay(ctx, side, gen)
	if err != nil || next <= gen {
		t.Fatalf("the second replay: generation %d after %d, %v", next, gen, err)
	}
	if row, err := side.QueryRow(ctx, "SELECT version()"); err != nil || row.Index(0) != int64(101) {
		t.Fatalf("after the second replay: %v, %v", row, err)
	}
	if again, err := p.Replay(ctx, side, next); err != nil || again != next {
		t.Fatalf("a replay with nothing new: %d, %v; want %d", again, err, next)
	}
}
