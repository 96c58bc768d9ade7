package supervisor_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// Tests of the events API as an ingest service uses it: JSON in, the table's documented
// schema, idempotency keys, the read pool on the store.

// A line of `actorlite ingest`'s format, decoded with json.Unmarshal alone, is stored as it
// reads; a single event's error names its field by both names and no index.
func TestEventFromIngestLine(t *testing.T) {
	s, dsn := startEvents(t, supervisor.EventsConfig{})
	ctx := deadline(t)
	var ev messages.Event
	line := `{"user_id":"u1","name":"signup","properties":{"plan":"pro"},"timestamp":"2025-01-02T15:04:05Z"}`
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	row, err := reader(t, s, dsn).QueryRow(ctx, "SELECT user_id, name, properties ->> 'plan', timestamp FROM events")
	if err != nil {
		t.Fatal(err)
	}
	if got := row.Values(); got[0] != "u1" || got[1] != "signup" || got[2] != "pro" || !got[3].(time.Time).Equal(time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC)) {
		t.Errorf("stored %v", got)
	}

	err = s.InsertEvent(ctx, messages.Event{Name: "signup"})
	if want := "actorlite: bad event: user_id (UserID): empty"; err == nil || err.Error() != want {
		t.Errorf("InsertEvent of an event without UserID: %v, want %q", err, want)
	}
	err = s.InsertEvents(ctx, []messages.Event{ev, {UserID: "u", Name: "n", Properties: json.RawMessage(`{`)}})
	if want := "actorlite: bad event 1 of 2: properties (Properties): not valid JSON"; err == nil || err.Error() != want {
		t.Errorf("InsertEvents with a bad second event: %v, want %q", err, want)
	}
}

// docBlock returns the lines of the first tab-indented block of the package doc that starts
// with first and ends with a line starting with last.
func docBlock(t *testing.T, first, last string) []string {
	t.Helper()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for l := range strings.SplitSeq(string(doc), "\n") {
		code, ok := strings.CutPrefix(l, "//\t")
		if !ok {
			if len(out) > 0 {
				break
			}
			continue
		}
		if len(out) == 0 && !strings.HasPrefix(code, first) {
			continue
		}
		out = append(out, code)
		if strings.HasPrefix(code, last) {
			return out
		}
	}
	t.Fatalf("doc.go has no block from %q to %q", first, last)
	return nil
}

// squeeze removes the spaces SQL does not need, so that the documented schema, laid out one
// column a line, compares with the writer's.
func squeeze(sql string) string {
	sql = strings.Join(strings.Fields(sql), " ")
	sql = strings.ReplaceAll(sql, "( ", "(")
	return strings.ReplaceAll(sql, " )", ")")
}

// The events table is the one the package doc shows, and each column reads back as the doc
// says: properties as json.RawMessage (a bare number kept exact: the column has TEXT
// affinity), nil when the event had none.
func TestEventsTableAsDocumented(t *testing.T) {
	s, dsn := startEvents(t, supervisor.EventsConfig{})
	ctx := deadline(t)
	c := reader(t, s, dsn)
	doc := docBlock(t, `CREATE TABLE "events"`, `CREATE UNIQUE INDEX`)
	rows, err := c.QueryAll(ctx, "SELECT sql FROM sqlite_schema WHERE tbl_name = 'events' ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	var real []string
	for _, r := range rows {
		real = append(real, squeeze(r.Index(0).(string)+";"))
	}
	docSQL := strings.Split(squeeze(strings.Join(doc, " ")), "; ")
	for i := range docSQL {
		docSQL[i] = strings.TrimSuffix(docSQL[i], ";") + ";"
	}
	if strings.Join(real, "\n") != strings.Join(docSQL, "\n") {
		t.Fatalf("the events table is\n%s\nthe package doc says\n%s", strings.Join(real, "\n"), strings.Join(docSQL, "\n"))
	}

	at := time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)
	for _, ev := range []messages.Event{
		{UserID: "u", Name: "big", Properties: json.RawMessage(`12345678901234567890`), Timestamp: at, IdempotencyKey: "k1"},
		{UserID: "u", Name: "one", Properties: json.RawMessage(`1.0`), Timestamp: at},
		{UserID: "u", Name: "none", Timestamp: at},
	} {
		if err := s.InsertEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	rows, err = c.QueryAll(ctx, "SELECT * FROM events ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{int64(1), "u", "big", json.RawMessage(`12345678901234567890`), at, "k1"},
		{int64(2), "u", "one", json.RawMessage(`1.0`), at, nil},
		{int64(3), "u", "none", nil, at, nil},
	}
	for i, r := range rows {
		got := r.Values()
		for j, w := range want[i] {
			g := got[j]
			same := false
			switch w := w.(type) {
			case json.RawMessage:
				gr, ok := g.(json.RawMessage)
				same = ok && string(gr) == string(w)
			case time.Time:
				gt, ok := g.(time.Time)
				same = ok && gt.Equal(w)
			default:
				same = g == w
			}
			if !same {
				t.Errorf("row %d column %s = %#v (%T), want %#v (%T)", i+1, r.Columns()[j].Name, g, g, w, w)
			}
		}
	}
}

// An events table made by an earlier version (properties BLOB, no idempotency_key) keeps
// working: the writer adds the key's column and unique index, old rows stay, properties read
// back as string until the table is rebuilt with the package doc's statements, after which
// they read back as json.RawMessage and keys still hold.
func TestEventsTableFromEarlierVersion(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "old.db")
	ctx := deadline(t)
	{
		s := start(t, supervisor.Config{})
		c, err := s.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ExecScript(ctx, `CREATE TABLE "events" (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, properties BLOB, timestamp DATETIME NOT NULL);
			CREATE INDEX "events_user_id_timestamp" ON "events" (user_id, timestamp);
			INSERT INTO events (user_id, name, properties, timestamp) VALUES ('old', 'signup', '{"plan":"pro"}', '2024-01-01T00:00:00.000000000Z')`); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	insertTwice := func(s *supervisor.Supervisor, key string) {
		t.Helper()
		ev := messages.Event{UserID: "new", Name: "signup", Properties: json.RawMessage(`{"plan":"free"}`), IdempotencyKey: key}
		for range 2 {
			if err := s.InsertEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	props := func(c *actors.Conn) []any {
		t.Helper()
		rows, err := c.QueryAll(ctx, "SELECT properties, (SELECT count(*) FROM events) FROM events ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var out []any
		for _, r := range rows {
			out = append(out, r.Index(0))
		}
		return append(out, rows[0].Index(1))
	}

	s := start(t, supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn}})
	insertTwice(s, "k1")
	c, err := s.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if got := props(c); len(got) != 3 || got[0] != `{"plan":"pro"}` || got[1] != `{"plan":"free"}` || got[2] != int64(2) {
		t.Fatalf("an old table after migration: %#v, want the old row, one new row, properties as string", got)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// The package doc's rebuild, run as it is given.
	script := strings.Join(docBlock(t, "BEGIN IMMEDIATE;", "COMMIT;"), "\n")
	s = start(t, supervisor.Config{})
	c, err = s.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ExecScript(ctx, script); err != nil {
		t.Fatalf("the package doc's rebuild: %v", err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s = start(t, supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn}})
	insertTwice(s, "k1") // stored before the rebuild: the key holds across it
	insertTwice(s, "k2")
	c, err = s.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	got := props(c)
	if len(got) != 4 || got[3] != int64(3) {
		t.Fatalf("after the rebuild: %#v, want 3 rows", got)
	}
	for i, p := range got[:3] {
		if _, ok := p.(json.RawMessage); !ok {
			t.Errorf("after the rebuild, row %d's properties read back as %T, want json.RawMessage", i+1, p)
		}
	}
	row, err := c.QueryRow(ctx, "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'events' AND type = 'index'")
	if err != nil || row.Index(0) != int64(2) {
		t.Errorf("indexes after the rebuild: %v, %v; want 2", row.Values(), err)
	}
}

// A table named as the events table that is some other table is a configuration error.
func TestEventsTableNotAnEventsTable(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "other.db")
	ctx := deadline(t)
	s := start(t, supervisor.Config{})
	c, err := s.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ExecScript(ctx, "CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT)"); err != nil {
		t.Fatal(err)
	}
	s2, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn}})
	var ce *messages.ConfigError
	if s2 != nil || !errors.As(err, &ce) || !errors.Is(err, messages.ErrConfig) || !strings.Contains(err.Error(), "user_id") {
		t.Fatalf("Start on a table that is not an events table: %v, %v; want a ConfigError naming user_id", s2, err)
	}
}

// countKeys returns how many rows each idempotency key has.
func countKeys(t *testing.T, c *actors.Conn) map[string]int64 {
	t.Helper()
	rows, err := c.QueryAll(deadline(t), "SELECT idempotency_key, count(*) FROM events WHERE idempotency_key IS NOT NULL GROUP BY 1")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Index(0).(string)] = r.Index(1).(int64)
	}
	return out
}

// A retry with the same idempotency key is acknowledged without a second row: after the
// first committed, in the same call, in the same batch as the first, after the writer
// crashed during the first's batch, and after a restart of the supervisor.
func TestEventIdempotencyKey(t *testing.T) {
	var s *supervisor.Supervisor
	_, _, entered, release := holdFirstBatch(&s)
	var crashBatch atomic.Int64 // the batch whose first event panics, once crashing is on
	crashing := atomic.Bool{}
	fault := actors.WithEventsFault(func(batch int64, i int) {
		if batch == 1 && i == 0 { // holdFirstBatch's: one fault function per writer
			close(entered)
			<-release
		}
		if crashing.Load() && i == 0 && crashBatch.CompareAndSwap(0, batch) {
			panic("crash in the batch")
		}
	})
	ev := func(key, name string) messages.Event {
		return messages.Event{UserID: "u", Name: name, IdempotencyKey: key}
	}
	s, dsn := startEvents(t, supervisor.EventsConfig{Options: []actors.Option{fault}})
	ctx := deadline(t)
	c := reader(t, s, dsn)

	// The same batch: the writer is held in its first batch while two calls with the same
	// key queue behind it; they are written together.
	firstDone := make(chan error, 1)
	go func() { firstDone <- s.InsertEvent(ctx, ev("held", "first")) }()
	<-entered
	sameBatch := make(chan error, 2)
	for range 2 {
		go func() { sameBatch <- s.InsertEvent(ctx, ev("k-batch", "page_view")) }()
	}
	waitFor(t, "both calls queued behind the held batch", func() bool { return s.Stats().EventsQueued >= 3 })
	close(release)
	for _, ch := range []chan error{firstDone, sameBatch, sameBatch} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.EventBatches != 2 || st.EventsDuplicates != 1 {
		t.Fatalf("%d batches, %d duplicates; want the two calls in one batch after the held one, one of them a duplicate", st.EventBatches, st.EventsDuplicates)
	}

	// After the first committed, and within one call.
	for range 3 {
		if err := s.InsertEvent(ctx, ev("k-seq", "page_view")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertEvents(ctx, []messages.Event{ev("k-call", "a"), ev("k-call", "b"), ev("", "no key"), ev("", "no key")}); err != nil {
		t.Fatal(err)
	}
	got := countKeys(t, c)
	want := map[string]int64{"held": 1, "k-batch": 1, "k-seq": 1, "k-call": 1}
	if !equalCounts(got, want) {
		t.Fatalf("rows per key: %v, want %v", got, want)
	}
	if st := s.Stats(); st.EventsDuplicates != 4 || st.EventsCommitted != 10 {
		t.Errorf("Stats: %d duplicates, %d committed; want 4 and 10", st.EventsDuplicates, st.EventsCommitted)
	}
	row, err := c.QueryRow(ctx, "SELECT name FROM events WHERE idempotency_key = 'k-call'")
	if err != nil || row.Index(0) != "a" {
		t.Errorf("k-call: %v, %v; want the first event's name, a", row.Values(), err)
	}

	// The writer crashes during the call's batch: nothing of it is stored, its caller gets
	// ErrCrashed and retries; the retry, in the next incarnation, stores it once, and a
	// further retry stores nothing.
	crashing.Store(true)
	err = s.InsertEvents(ctx, []messages.Event{ev("k-crash", "x"), ev("k-crash-2", "y")})
	if !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("the crashed call: %v, want ErrCrashed", err)
	}
	for range 2 {
		if err := s.InsertEvents(ctx, []messages.Event{ev("k-crash", "x"), ev("k-crash-2", "y")}); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Restarts != 1 {
		t.Errorf("restarts: %d, want 1", st.Restarts)
	}

	// After the supervisor restarts: the keys are in the table, not in memory.
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := start(t, supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn}})
	if err := s2.InsertEvents(ctx, []messages.Event{ev("k-seq", "again"), ev("k-crash", "again"), ev("k-new", "new")}); err != nil {
		t.Fatal(err)
	}
	c2, err := s2.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	got = countKeys(t, c2)
	want = map[string]int64{"held": 1, "k-batch": 1, "k-seq": 1, "k-call": 1, "k-crash": 1, "k-crash-2": 1, "k-new": 1}
	if !equalCounts(got, want) {
		t.Fatalf("rows per key after restarts: %v, want %v", got, want)
	}
	if st := s2.Stats(); st.EventsDuplicates != 2 {
		t.Errorf("duplicates after the restart: %d, want 2", st.EventsDuplicates)
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// EventsPool is a read pool on the events store: the same database the writer writes, no
// writer of its own, the same pool on every call, closed by Stop.
func TestEventsPool(t *testing.T) {
	s, _ := startEvents(t, supervisor.EventsConfig{Readers: 2})
	ctx := deadline(t)
	p, err := s.EventsPool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.EventsPool(ctx); err != nil || again != p {
		t.Fatalf("a second EventsPool: %p, %v; want the same pool %p", again, err, p)
	}
	if st := p.Stats(); st.Readers != 2 || p.Writer() != nil || p.WriterPID() != nil {
		t.Fatalf("pool: %+v, writer %v; want 2 readers, no writer", st, p.Writer())
	}
	before := s.Stats().OpenConns
	if err := s.InsertEvents(ctx, []messages.Event{
		{UserID: "u1", Name: "signup", Properties: json.RawMessage(`{"plan":"pro"}`)},
		{UserID: "u2", Name: "signup", Properties: json.RawMessage(`{"plan":"free"}`)},
		{UserID: "u1", Name: "page_view"},
	}); err != nil {
		t.Fatal(err)
	}
	rows, err := p.QueryAll(ctx, "SELECT user_id, properties FROM events WHERE name = ? ORDER BY user_id", "signup")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Index(0) != "u1" || string(rows[1].Index(1).(json.RawMessage)) != `{"plan":"free"}` {
		t.Fatalf("QueryAll: %v", rows)
	}
	if _, err := p.Exec(ctx, "DELETE FROM events"); !errors.Is(err, messages.ErrReadOnly) {
		t.Errorf("Exec on the events pool: %v, want ErrReadOnly", err)
	}
	if err := p.Tx(ctx, func(*actors.Conn) error { return nil }); !errors.Is(err, messages.ErrReadOnly) {
		t.Errorf("Tx on the events pool: %v, want ErrReadOnly", err)
	}
	if _, err := p.QueryAll(ctx, "DELETE FROM events RETURNING id"); !errors.Is(err, messages.ErrNotReadOnly) {
		t.Errorf("a query that writes: %v, want ErrNotReadOnly", err)
	}
	row, err := p.QueryRow(ctx, "SELECT count(*) FROM events")
	if err != nil || row.Index(0) != int64(3) {
		t.Fatalf("count after the refused writes: %v, %v", row.Values(), err)
	}
	if after := s.Stats().OpenConns; after != before {
		t.Errorf("open connections %d, then %d: the pool opened more", before, after)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.QueryAll(ctx, "SELECT 1"); !errors.Is(err, messages.ErrClosed) {
		t.Errorf("after Stop: %v, want ErrClosed", err)
	}
	if p, err := s.EventsPool(ctx); p != nil || !errors.Is(err, messages.ErrClosed) {
		t.Errorf("EventsPool after Stop: %v, %v; want ErrClosed", p, err)
	}
}

func TestEventsPoolRefused(t *testing.T) {
	ctx := deadline(t)
	s := start(t, supervisor.Config{})
	if p, err := s.EventsPool(ctx); p != nil || !errors.Is(err, messages.ErrNoEventStore) {
		t.Errorf("events disabled: %v, %v; want ErrNoEventStore", p, err)
	}
	s = start(t, supervisor.Config{Events: supervisor.EventsConfig{DSN: ":memory:"}})
	if p, err := s.EventsPool(ctx); p != nil || !errors.Is(err, messages.ErrConfig) || strings.Count(err.Error(), "actorlite:") != 1 {
		t.Errorf("a private in-memory store: %v, %v; want ErrConfig", p, err)
	}
	// The reader it opened to find out is closed (counted once the supervisor hears of it).
	waitFor(t, "the refused pool's reader closed", func() bool { return s.Stats().OpenConns == 0 })
	// A memdb store is shared (no WAL: readers serve all the same).
	s = start(t, supervisor.Config{Events: supervisor.EventsConfig{DSN: "file:/events-pool-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "?vfs=memdb", Readers: 1}})
	if err := s.InsertEvent(ctx, messages.Event{UserID: "u", Name: "n"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.EventsPool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if row, err := p.QueryRow(ctx, "SELECT count(*) FROM events"); err != nil || row.Index(0) != int64(1) {
		t.Errorf("memdb events pool: %v, %v", row.Values(), err)
	}
}

// Pool.QueryAll reads on a reader of any pool, and reroutes a query that writes to the writer,
// as Query does.
func TestPoolQueryAll(t *testing.T) {
	s := start(t, supervisor.Config{})
	ctx := deadline(t)
	p, err := s.OpenPool(ctx, filepath.Join(t.TempDir(), "pool.db"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ExecScript(ctx, "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)"); err != nil {
		t.Fatal(err)
	}
	rows, err := p.QueryAll(ctx, "SELECT x FROM t WHERE x > ? ORDER BY x", 1)
	if err != nil || len(rows) != 2 || rows[0].Index(0) != int64(2) || rows[1].Index(0) != int64(3) {
		t.Fatalf("QueryAll: %v, %v", rows, err)
	}
	if st := p.Stats(); st.Reads != 1 {
		t.Errorf("reads by readers: %d, want 1", st.Reads)
	}
	rows, err = p.QueryAll(ctx, "DELETE FROM t WHERE x = 1 RETURNING x")
	if err != nil || len(rows) != 1 || rows[0].Index(0) != int64(1) {
		t.Fatalf("QueryAll that writes: %v, %v", rows, err)
	}
	if st := p.Stats(); st.Rerouted != 1 {
		t.Errorf("rerouted: %d, want 1", st.Rerouted)
	}
	if _, err := p.QueryAll(ctx, "SELECT nope FROM t"); !errors.Is(err, messages.ErrSQL) {
		t.Errorf("a bad query: %v, want ErrSQL", err)
	}
}

// The package doc's first example is Example's code: every line of it is there (with the
// example's dsn for "app.db"), so it runs.
func TestPackageDocExample(t *testing.T) {
	src, err := os.ReadFile("example_doc_test.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for l := range strings.SplitSeq(string(src), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, l := range docBlock(t, "s, err := supervisor.Start", "rows, err := cur.FetchAll") {
		if l = strings.ReplaceAll(strings.TrimSpace(l), `"app.db"`, "dsn"); !lines[l] {
			t.Errorf("the package doc's example line %q is not in Example", l)
		}
	}
}

// The case: calls cut short by tiny deadlines, some of whose events were written all
// the same, then retried by their callers with the same keys: every key is stored once.
func TestEventRetriesAfterDeadlinesStoreOnce(t *testing.T) {
	s, dsn := startEvents(t, supervisor.EventsConfig{})
	const producers, calls = 16, 100
	var cut atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range calls {
				ev := messages.Event{UserID: "u" + strconv.Itoa(p), Name: "n", IdempotencyKey: strconv.Itoa(p) + "/" + strconv.Itoa(i)}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%8)*25*time.Microsecond)
				err := s.InsertEvent(ctx, ev)
				cancel()
				if err == nil {
					continue
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Error(err)
					return
				}
				cut.Add(1)
				for { // the caller retries until it hears back
					if err := s.InsertEvent(deadline(t), ev); err == nil {
						break
					} else if !errors.Is(err, context.DeadlineExceeded) {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	row, err := reader(t, s, dsn).QueryRow(deadline(t), "SELECT count(*), count(DISTINCT idempotency_key) FROM events")
	if err != nil {
		t.Fatal(err)
	}
	if n, keys := row.Index(0), row.Index(1); n != int64(producers*calls) || keys != n {
		t.Fatalf("%v rows for %v keys, want %d each", n, keys, producers*calls)
	}
	if cut.Load() == 0 { // a deadline of 0 always cuts: the test would prove nothing
		t.Fatal("no call was cut short")
	}
	t.Logf("%d calls cut short by their deadline and retried; %d of the retries found their event stored already",
		cut.Load(), s.Stats().EventsDuplicates)
}
