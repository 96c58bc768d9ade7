package supervisor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	"github.com/asynkron/protoactor-go/actor"
)

// startEvents starts a supervisor (stopped at the end of the test) whose events go to a fresh
// database file, and returns it with that file's path.
func startEvents(t testing.TB, ec supervisor.EventsConfig) (*supervisor.Supervisor, string) {
	t.Helper()
	if ec.DSN == "" {
		ec.DSN = filepath.Join(t.TempDir(), "events.db")
	}
	return start(t, supervisor.Config{Events: ec}), ec.DSN
}

// event is an event whose (UserID, properties.seq) pair identifies it.
func event(user string, seq int) messages.Event {
	return messages.Event{UserID: user, Name: "page_view", Properties: json.RawMessage(`{"seq":` + strconv.Itoa(seq) + `,"page":"/pricing"}`)}
}

func key(user string, seq int) string { return user + "/" + strconv.Itoa(seq) }

// reader opens a separate connection to the events database.
func reader(t testing.TB, s *supervisor.Supervisor, dsn string) *actors.Conn {
	t.Helper()
	c, err := s.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stored returns how many times each (user, seq) key is stored, read from a separate connection.
func stored(t testing.TB, c *actors.Conn) map[string]int {
	t.Helper()
	rows, err := c.Query(deadline(t), "SELECT user_id, properties ->> 'seq' FROM events")
	if err != nil {
		t.Fatal(err)
	}
	all, err := rows.FetchAll(deadline(t))
	if err != nil {
		t.Fatal(err)
	}
	keys := make(map[string]int, len(all))
	for _, r := range all {
		keys[fmt.Sprint(r.Index(0), "/", r.Index(1))]++
	}
	return keys
}

// waitFor polls cond until it holds, failing the test after 10s. (No sleeping: it yields.)
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func TestEventAckedIsVisibleFromAnotherConnection(t *testing.T) {
	s, dsn := startEvents(t, supervisor.EventsConfig{})
	c := reader(t, s, dsn)
	ctx := deadline(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for p := range 8 {
		wg.Go(func() {
			user := fmt.Sprint("user-", p)
			for i := range 100 {
				if err := s.InsertEvent(ctx, event(user, i)); err != nil {
					errs <- err
					return
				}
				row, err := c.QueryRow(ctx, `SELECT count(*) FROM events WHERE user_id = ? AND properties ->> 'seq' = ?`, user, i)
				if err != nil {
					errs <- err
					return
				}
				if n := row.Index(0).(int64); n != 1 {
					errs <- fmt.Errorf("event %s acked, but %d rows hold it right after the ack", key(user, i), n)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.EventsCommitted != 800 || st.EventsQueued != 0 || st.EventsFailed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEvent64ProducersStoreEveryEventOnce(t *testing.T) {
	const producers, each = 64, 1000
	s, dsn := startEvents(t, supervisor.EventsConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // -race on 2 shared cores
	defer cancel()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				if err := s.InsertEvent(ctx, event(fmt.Sprint("user-", p), i)); err != nil {
					failed.Add(1)
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	keys := stored(t, reader(t, s, dsn))
	if len(keys) != producers*each {
		t.Fatalf("%d distinct events stored, want %d", len(keys), producers*each)
	}
	for k, n := range keys {
		if n != 1 {
			t.Fatalf("event %s stored %d times", k, n)
		}
	}
	st := s.Stats()
	if st.EventsCommitted != producers*each || st.EventsQueued != 0 || st.EventsFailed != 0 {
		t.Fatalf("stats %+v", st)
	}
	if st.EventBatches >= producers*each {
		t.Fatalf("%d transactions for %d events: no group commit", st.EventBatches, producers*each)
	}
	t.Logf("%d events in %d transactions (%.1f per transaction)", st.EventsCommitted, st.EventBatches, float64(st.EventsCommitted)/float64(st.EventBatches))
}

func TestEventBadEventsAreRejectedWhole(t *testing.T) {
	s, dsn := startEvents(t, supervisor.EventsConfig{})
	ctx := deadline(t)
	big := json.RawMessage(`"` + strings.Repeat("x", actors.MaxEventProperties) + `"`) // valid JSON, 1 MiB + 2 bytes
	cases := []struct {
		name  string
		bad   messages.Event
		field string
	}{
		{"empty user id", messages.Event{Name: "click"}, "UserID"},
		{"empty name", messages.Event{UserID: "u"}, "Name"},
		{"invalid JSON", messages.Event{UserID: "u", Name: "click", Properties: json.RawMessage(`{"a":`)}, "Properties"},
		{"not JSON at all", messages.Event{UserID: "u", Name: "click", Properties: json.RawMessage(`plan=pro`)}, "Properties"},
		{"properties over 1 MiB", messages.Event{UserID: "u", Name: "click", Properties: big}, "Properties"},
		{"timestamp past year 9999", messages.Event{UserID: "u", Name: "click", Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "Timestamp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs := []messages.Event{event("good", 0), event("good", 1), tc.bad, event("good", 3)}
			err := s.InsertEvents(ctx, evs)
			var ee *messages.EventError
			if !errors.Is(err, messages.ErrBadEvent) || !errors.As(err, &ee) || ee.Index != 2 || ee.Field != tc.field {
				t.Fatalf("got %v (%+v), want ErrBadEvent for event 2, field %s", err, ee, tc.field)
			}
			// The same through the actor protocol.
			reply := make(chan messages.Reply, 1)
			s.System().Root.Send(s.PID(), &messages.InsertEvents{Ctx: ctx, ReplyTo: reply, Events: evs})
			ack := (<-reply).(*messages.EventsAck)
			if !errors.As(ack.Err, &ee) || ee.Index != 2 || ee.Field != tc.field || ack.Count != 0 {
				t.Fatalf("actor path: got %+v", ack)
			}
		})
	}
	if n := len(stored(t, reader(t, s, dsn))); n != 0 {
		t.Fatalf("%d events stored from rejected calls", n)
	}
	if st := s.Stats(); st.EventsCommitted != 0 || st.EventsFailed != 0 || st.EventsQueued != 0 {
		t.Fatalf("rejected events reached the writer: %+v", st)
	}
	// The writer is fine: a good call goes through.
	if err := s.InsertEvents(ctx, []messages.Event{event("good", 0)}); err != nil {
		t.Fatal(err)
	}
}

// TestEventBadTableName: a table name that is not a plain identifier is the program's
// configuration mistake (ErrConfig), not a bad event a handler would blame its client for.
func TestEventBadTableName(t *testing.T) {
	for _, table := range []string{"my-events", "events; DROP TABLE x", `ev"ents`, "1events", "sqlite_events"} {
		s, err := supervisor.Start(context.Background(), supervisor.Config{
			Events: supervisor.EventsConfig{DSN: filepath.Join(t.TempDir(), "e.db"), Table: table}})
		var ce *messages.ConfigError
		if s != nil || !errors.As(err, &ce) || ce.Field != "Table" || !errors.Is(err, messages.ErrConfig) {
			t.Fatalf("table %q: got %v, %v; want a ConfigError about Table", table, s, err)
		}
		if errors.Is(err, messages.ErrBadEvent) {
			t.Fatalf("table %q: %v is ErrBadEvent", table, err)
		}
	}
}

func TestEventNoEventStore(t *testing.T) {
	s := start(t, supervisor.Config{})
	if err := s.InsertEvent(deadline(t), event("u", 1)); !errors.Is(err, messages.ErrNoEventStore) {
		t.Fatalf("got %v, want ErrNoEventStore", err)
	}
	res, err := s.System().Root.RequestFuture(s.PID(), &messages.InsertEvents{Events: []messages.Event{event("u", 1)}}, 10*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ack := res.(*messages.EventsAck); !errors.Is(ack.Err, messages.ErrNoEventStore) {
		t.Fatalf("actor path: got %+v", ack)
	}
}

// eventForwarder is an actor that inserts events by messaging the supervisor, without
// blocking its Receive, and passes the ack on to the test.
type eventForwarder struct {
	sup  *actor.PID
	acks chan *messages.EventsAck
}

type forwardEvents struct{ events []messages.Event }

func (a *eventForwarder) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *forwardEvents:
		ctx.Request(a.sup, &messages.InsertEvents{Events: m.events})
	case *messages.EventsAck:
		a.acks <- m
	}
}

func TestEventInsertEventsFromActors(t *testing.T) {
	s, dsn := startEvents(t, supervisor.EventsConfig{})
	ctx := deadline(t)
	root := s.System().Root

	// RequestFuture.
	res, err := root.RequestFuture(s.PID(), &messages.InsertEvents{Ctx: ctx, Events: []messages.Event{event("future", 0), event("future", 1)}}, 10*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ack := res.(*messages.EventsAck); ack.Err != nil || ack.Count != 2 {
		t.Fatalf("future: %+v", ack)
	}
	// A reply channel.
	reply := make(chan messages.Reply, 1)
	root.Send(s.PID(), &messages.InsertEvents{Ctx: ctx, ReplyTo: reply, Events: []messages.Event{event("chan", 0)}})
	if ack := (<-reply).(*messages.EventsAck); ack.Err != nil || ack.Count != 1 {
		t.Fatalf("chan: %+v", ack)
	}
	// An actor's Request: the ack comes back as a message.
	acks := make(chan *messages.EventsAck, 1)
	pid := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &eventForwarder{sup: s.PID(), acks: acks} }))
	defer func() { root.StopFuture(pid).Wait() }()
	root.Send(pid, &forwardEvents{[]messages.Event{event("actor", 0), event("actor", 1), event("actor", 2)}})
	if ack := <-acks; ack.Err != nil || ack.Count != 3 {
		t.Fatalf("actor: %+v", ack)
	}
	if keys := stored(t, reader(t, s, dsn)); len(keys) != 6 {
		t.Fatalf("stored %v", keys)
	}
}

func TestEventTimestampsAndProperties(t *testing.T) {
	s, dsn := startEvents(t, supervisor.EventsConfig{Table: "analytics"})
	ctx := deadline(t)
	paris := time.FixedZone("CEST", 2*60*60)
	t1 := time.Date(2024, 6, 1, 12, 0, 0, 123456789, paris) // 10:00 UTC
	t2 := time.Date(2024, 6, 1, 10, 30, 0, 0, time.UTC)
	t3 := time.Date(999, 1, 2, 3, 4, 5, 0, time.UTC)
	before := time.Now()
	err := s.InsertEvents(ctx, []messages.Event{
		{UserID: "u1", Name: "late", Properties: json.RawMessage(`{"plan":"pro","n":2}`), Timestamp: t2},
		{UserID: "u1", Name: "early", Properties: json.RawMessage(` {"plan": "free"} `), Timestamp: t1},
		{UserID: "u2", Name: "ancient", Timestamp: t3},
		{UserID: "u2", Name: "now"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := reader(t, s, dsn)
	rows, err := c.Query(ctx, "SELECT name, timestamp, typeof(timestamp), length(timestamp), properties, typeof(properties) FROM analytics ORDER BY timestamp")
	if err != nil {
		t.Fatal(err)
	}
	all, err := rows.FetchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range all {
		order = append(order, r.Index(0).(string))
		if r.Index(2) != "text" || r.Index(3) != int64(len(messages.TimeLayout)) {
			t.Fatalf("%v: timestamp stored as %v of length %v", r.Index(0), r.Index(2), r.Index(3))
		}
	}
	if got := strings.Join(order, ","); got != "ancient,early,late,now" {
		t.Fatalf("text order %s is not time order", got)
	}
	for _, r := range all {
		ts, ok := r.Index(1).(time.Time)
		if !ok {
			t.Fatalf("%v: timestamp read as %T, want time.Time", r.Index(0), r.Index(1))
		}
		want := map[string]time.Time{"early": t1, "late": t2, "ancient": t3}[r.Index(0).(string)]
		if r.Index(0) == "now" {
			if ts.Before(before) || ts.After(time.Now()) {
				t.Fatalf("zero timestamp stored as %v, not the time of the call", ts)
			}
		} else if !ts.Equal(want) {
			t.Fatalf("%v: read %v, want %v", r.Index(0), ts, want)
		}
	}
	if all[0].Index(4) != nil || all[0].Index(5) != "null" {
		t.Fatalf("empty properties stored as %v (%v), want NULL", all[0].Index(4), all[0].Index(5))
	}
	if all[1].Index(5) != "text" {
		t.Fatalf("properties stored as %v, want JSON text", all[1].Index(5))
	}
	row, err := c.QueryRow(ctx, "SELECT group_concat(name) FROM analytics WHERE json_extract(properties, '$.plan') = 'pro'")
	if err != nil || row.Index(0) != "late" {
		t.Fatalf("json_extract: %v %v", row, err)
	}
	row, err = c.QueryRow(ctx, "SELECT count(*) FROM analytics WHERE user_id = ? AND timestamp >= ?", "u1", t2.Add(-time.Hour))
	if err != nil || row.Index(0) != int64(2) {
		t.Fatalf("range query on the (user_id, timestamp) index: %v %v", row, err)
	}
}

// crashAt makes the writer crash once per number b in batches: mid-batch, after the first
// insert of the first batch numbered b or more that holds at least two events.
func crashAt(batches ...int64) actors.Option {
	fired := make([]bool, len(batches)) // touched only by the writer's goroutine
	return actors.WithEventsFault(func(batch int64, i int) {
		for k, b := range batches {
			if batch >= b && i == 1 && !fired[k] {
				fired[k] = true
				panic(fmt.Sprintf("injected writer crash in batch %d", batch))
			}
		}
	})
}

func TestEventWriterCrashMidBatchFailsOnlyThatBatch(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	gateAndCrash := actors.WithEventsFault(func(batch int64, i int) {
		switch {
		case batch == 1 && i == 0:
			close(entered) // hold the writer inside batch 1 while calls queue up behind it
			<-release
		case batch == 2 && i == 1:
			panic("injected writer crash")
		}
	})
	s, dsn := startEvents(t, supervisor.EventsConfig{MaxBatch: 4, Options: []actors.Option{gateAndCrash}})
	ctx := deadline(t)

	errA := make(chan error, 1)
	go func() { errA <- s.InsertEvents(ctx, []messages.Event{event("a", 0)}) }()
	<-entered
	// B and C (3 events each) queue behind batch 1. Batch 2 holds one of them (4 events
	// fit MaxBatch, 6 do not) and crashes after its first insert; the other one must be
	// written after the restart, and one call queued after the crash too.
	errB, errC, errD := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() { errB <- s.InsertEvents(ctx, []messages.Event{event("b", 0), event("b", 1), event("b", 2)}) }()
	go func() { errC <- s.InsertEvents(ctx, []messages.Event{event("c", 0), event("c", 1), event("c", 2)}) }()
	waitFor(t, "B and C queued", func() bool { return s.Stats().EventsQueued == 7 })
	close(release)
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	eb, ec := <-errB, <-errC
	var crashed, kept string
	switch {
	case errors.Is(eb, messages.ErrCrashed) && ec == nil:
		crashed, kept = "b", "c"
	case errors.Is(ec, messages.ErrCrashed) && eb == nil:
		crashed, kept = "c", "b"
	default:
		t.Fatalf("want exactly one of B, C crashed and the other stored: B %v, C %v", eb, ec)
	}
	var ce *messages.CrashError
	if err := map[string]error{"b": eb, "c": ec}[crashed]; !errors.As(err, &ce) || !strings.Contains(fmt.Sprint(ce.Panic), "injected") {
		t.Fatalf("crash error %v does not carry the panic", err)
	}
	go func() { errD <- s.InsertEvents(ctx, []messages.Event{event("d", 0)}) }()
	if err := <-errD; err != nil {
		t.Fatal(err)
	}
	keys := stored(t, reader(t, s, dsn))
	want := map[string]int{key("a", 0): 1, key(kept, 0): 1, key(kept, 1): 1, key(kept, 2): 1, key("d", 0): 1}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("stored %v, want %v (the crashed batch %s neither half-stored nor stored twice)", keys, want, crashed)
	}
	st := s.Stats()
	if st.Crashes != 1 || st.Restarts != 1 || st.EventsFailed != 3 || st.EventsCommitted != 5 || st.EventsQueued != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEventWriterCrashesUnderLoad(t *testing.T) {
	const producers, each = 16, 200
	s, dsn := startEvents(t, supervisor.EventsConfig{Options: []actors.Option{crashAt(5, 20, 40)}})
	ctx := deadline(t)
	var mu sync.Mutex
	acked, crashed := map[string]bool{}, map[string]bool{}
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			user := fmt.Sprint("user-", p)
			for i := range each {
				err := s.InsertEvent(ctx, event(user, i))
				mu.Lock()
				switch {
				case err == nil:
					acked[key(user, i)] = true
				case errors.Is(err, messages.ErrCrashed):
					crashed[key(user, i)] = true
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	keys := stored(t, reader(t, s, dsn))
	for k, n := range keys {
		if n != 1 || !acked[k] {
			t.Fatalf("event %s stored %d times (acked: %v)", k, n, acked[k])
		}
	}
	if len(keys) != len(acked) || len(acked)+len(crashed) != producers*each {
		t.Fatalf("%d stored, %d acked, %d crashed of %d", len(keys), len(acked), len(crashed), producers*each)
	}
	st := s.Stats()
	if st.Crashes != 3 || st.Restarts != 3 || st.EventsFailed != int64(len(crashed)) || st.EventsCommitted != int64(len(acked)) {
		t.Fatalf("stats %+v with %d crashed events", st, len(crashed))
	}
}

func TestEventWriterRestartBudgetSpent(t *testing.T) {
	s := start(t, supervisor.Config{MaxRestarts: -1, Events: supervisor.EventsConfig{
		DSN: filepath.Join(t.TempDir(), "e.db"), Options: []actors.Option{crashAt(1)}}})
	ctx := deadline(t)
	if err := s.InsertEvents(ctx, []messages.Event{event("u", 0), event("u", 1)}); !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("got %v, want ErrCrashed", err)
	}
	err := s.InsertEvent(ctx, event("u", 2))
	if !errors.Is(err, messages.ErrClosed) || !errors.Is(err, messages.ErrCrashed) {
		t.Fatalf("after the budget: got %v, want ErrClosed and ErrCrashed", err)
	}
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(s.PID(), &messages.InsertEvents{ReplyTo: reply, Events: []messages.Event{event("u", 3)}})
	if ack := (<-reply).(*messages.EventsAck); !errors.Is(ack.Err, messages.ErrClosed) {
		t.Fatalf("actor path after the budget: %+v", ack)
	}
}

func TestEventOverloadWaitsAndDropsNothing(t *testing.T) {
	const maxQueued, producers, each = 8, 32, 50
	var s *supervisor.Supervisor
	probe, maxSeen, entered, release := holdFirstBatch(&s)
	s, dsn := startEvents(t, supervisor.EventsConfig{MaxQueued: maxQueued, MaxBatch: 4, Options: []actors.Option{probe}})
	ctx := deadline(t)

	var done atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				if err := s.InsertEvent(ctx, event(fmt.Sprint("user-", p), i)); err != nil {
					t.Error(err)
				}
				done.Add(1)
			}
		})
	}
	<-entered
	waitFor(t, "a full queue", func() bool { return s.Stats().EventsQueued == maxQueued })
	// Producers wait for room, honouring their ctx; nothing of a call that gave up is stored.
	cctx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() { gaveUp <- s.InsertEvent(cctx, event("gave-up", 0)) }()
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("a producer waiting for room: got %v, want context.Canceled", err)
	}
	if q, n := s.Stats().EventsQueued, done.Load(); q != maxQueued || n != 0 {
		t.Fatalf("with the writer held: %d queued (max %d), %d calls returned", q, maxQueued, n)
	}
	close(release)
	wg.Wait()
	keys := stored(t, reader(t, s, dsn))
	if len(keys) != producers*each || keys[key("gave-up", 0)] != 0 {
		t.Fatalf("%d events stored, want %d", len(keys), producers*each)
	}
	if m := maxSeen.Load(); m > maxQueued {
		t.Fatalf("%d events queued at once, more than MaxQueued %d", m, maxQueued)
	}
	if st := s.Stats(); st.EventsQueued != 0 || st.EventsCommitted != producers*each {
		t.Fatalf("stats %+v", st)
	}
}

func TestEventBigCallLargerThanQueueAndBatch(t *testing.T) {
	s, dsn := startEvents(t, supervisor.EventsConfig{MaxQueued: 10, MaxBatch: 4})
	evs := make([]messages.Event, 25)
	for i := range evs {
		evs[i] = event("big", i)
	}
	if err := s.InsertEvents(deadline(t), evs); err != nil {
		t.Fatal(err)
	}
	if n := len(stored(t, reader(t, s, dsn))); n != 25 {
		t.Fatalf("%d stored", n)
	}
	if st := s.Stats(); st.EventBatches != 1 {
		t.Fatalf("a call was split over %d transactions", st.EventBatches)
	}
}

func TestEventSIGKILLLosesNoAckedEvent(t *testing.T) {
	db, acked := killAfter(t, "eventkill", "events.db", 5000)
	ctx, c := reopenIntact(t, db)
	rows, err := c.Query(ctx, "SELECT properties ->> 'id' FROM events")
	if err != nil {
		t.Fatal(err)
	}
	all, err := rows.FetchAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := make(map[string]int, len(all))
	for _, r := range all {
		ids[fmt.Sprint(r.Index(0))]++
	}
	for _, id := range acked {
		if ids[id] != 1 {
			t.Fatalf("event %s was acked but is stored %d times", id, ids[id])
		}
	}
	t.Logf("%d events acked before SIGKILL, %d stored", len(acked), len(all))
}

// startHeldEvents starts a supervisor (which the test stops itself) whose events writer, on a
// fresh database, holds its first batch before its first event: entered is closed once it
// holds, and closing release lets it go on.
func startHeldEvents(t *testing.T) (s *supervisor.Supervisor, dsn string, entered, release chan struct{}) {
	t.Helper()
	entered, release = make(chan struct{}), make(chan struct{})
	hold := actors.WithEventsFault(func(batch int64, i int) {
		if batch == 1 && i == 0 {
			close(entered)
			<-release
		}
	})
	dsn = filepath.Join(t.TempDir(), "events.db")
	s, err := supervisor.Start(context.Background(), supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn, Options: []actors.Option{hold}}})
	if err != nil {
		t.Fatal(err)
	}
	return s, dsn, entered, release
}

func TestEventStopFlushesQueuedEvents(t *testing.T) {
	s, dsn, entered, release := startHeldEvents(t)
	ctx := deadline(t)
	const callers = 20
	errs := make(chan error, callers+1)
	go func() { errs <- s.InsertEvent(ctx, event("first", 0)) }()
	<-entered
	for i := range callers {
		go func() { errs <- s.InsertEvents(ctx, []messages.Event{event("queued", i), event("queued", 100+i)}) }()
	}
	// An actor's request sent before Stop is served too.
	reply := make(chan messages.Reply, 1)
	s.System().Root.Send(s.PID(), &messages.InsertEvents{ReplyTo: reply, Events: []messages.Event{event("actor", 0)}})
	waitFor(t, "the calls queued", func() bool { return s.Stats().EventsQueued == 2+2*callers })

	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(ctx) }()
	waitFor(t, "Stop to close the events writer", func() bool {
		return errors.Is(s.InsertEvents(ctx, nil), messages.ErrClosed)
	})
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	for range callers + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if ack := (<-reply).(*messages.EventsAck); ack.Err != nil {
		t.Fatal(ack.Err)
	}
	if err := s.InsertEvent(ctx, event("late", 0)); !errors.Is(err, messages.ErrClosed) {
		t.Fatalf("after Stop: %v, want ErrClosed", err)
	}
	s2 := start(t, supervisor.Config{})
	if n := len(stored(t, reader(t, s2, dsn))); n != 2+2*callers {
		t.Fatalf("%d events stored after Stop, want %d", n, 2+2*callers)
	}
}

func TestEventStopWithDoneCtxSaysWhatWasNotWritten(t *testing.T) {
	s, dsn, entered, release := startHeldEvents(t)
	ctx := deadline(t)
	const callers = 10
	type result struct {
		key string
		err error
	}
	results := make(chan result, callers+1)
	go func() { results <- result{key("first", 0), s.InsertEvent(ctx, event("first", 0))} }()
	<-entered
	for i := range callers {
		go func() { results <- result{key("queued", i), s.InsertEvent(ctx, event("queued", i))} }()
	}
	waitFor(t, "the calls queued", func() bool { return s.Stats().EventsQueued == 1+callers })

	done, cancel := context.WithCancel(context.Background())
	cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(done) }()
	waitFor(t, "Stop to close the events writer", func() bool {
		return errors.Is(s.InsertEvents(ctx, nil), messages.ErrClosed)
	})
	close(release)
	err := <-stopped
	m := regexp.MustCompile(`(\d+) queued events were not written`).FindStringSubmatch(fmt.Sprint(err))
	if !errors.Is(err, context.Canceled) || m == nil {
		t.Fatalf("Stop with a done ctx: %v", err)
	}
	notWritten, _ := strconv.Atoi(m[1])
	acked := map[string]bool{}
	failed := 0
	for range callers + 1 {
		r := <-results
		if r.err == nil {
			acked[r.key] = true
		} else if errors.Is(r.err, messages.ErrClosed) {
			failed++
		} else {
			t.Fatalf("%s: %v", r.key, r.err)
		}
	}
	if failed != notWritten {
		t.Fatalf("Stop says %d events were not written; %d callers got ErrClosed", notWritten, failed)
	}
	s2 := start(t, supervisor.Config{})
	keys := stored(t, reader(t, s2, dsn))
	if len(keys) != len(acked) {
		t.Fatalf("stored %v, acked %v", keys, acked)
	}
	for k := range keys {
		if !acked[k] {
			t.Fatalf("event %s stored but its caller got an error", k)
		}
	}
	t.Logf("%d events written, %d not written", len(acked), notWritten)
}

// TestEventBatchFillsInItsTransaction: a batch smaller than the one the writer expects waits for
// the rest with its events already inserted, in a transaction that no reader sees and no
// caller is acked for until it commits: when the rest arrives, or at Stop.
func TestEventBatchFillsInItsTransaction(t *testing.T) {
	inserted := make(chan int64, 16) // the batches whose first event was inserted, in order
	hook := actors.WithEventsFault(func(batch int64, i int) {
		if i == 0 {
			inserted <- batch
		}
	})
	dsn := filepath.Join(t.TempDir(), "events.db")
	// A minute's MaxDelay: only the rest of the batch, or Stop, ends a wait.
	s := start(t, supervisor.Config{Events: supervisor.EventsConfig{DSN: dsn, MaxDelay: time.Minute, Options: []actors.Option{hook}}})
	ctx := deadline(t)
	next := func() int64 {
		t.Helper()
		select {
		case b := <-inserted:
			return b
		case <-ctx.Done():
			t.Fatal("no batch began inserting")
			return 0
		}
	}
	batch := func(user string, n int) []messages.Event {
		evs := make([]messages.Event, n)
		for i := range evs {
			evs[i] = event(user, i)
		}
		return evs
	}
	// One call of 8 events: the writer then expects batches of 8.
	if err := s.InsertEvents(ctx, batch("first", 8)); err != nil {
		t.Fatal(err)
	}
	if b := next(); b != 1 {
		t.Fatalf("batch %d, want 1", b)
	}
	done := make(chan error, 1)
	go func() { done <- s.InsertEvent(ctx, event("lone", 0)) }()
	if b := next(); b != 2 { // inserted while the writer waits for the other 7
		t.Fatalf("batch %d, want 2", b)
	}
	r := reader(t, s, dsn)
	if n := len(stored(t, r)); n != 8 {
		t.Fatalf("a reader sees %d events while a batch fills, want the 8 committed", n)
	}
	select {
	case err := <-done:
		t.Fatalf("answered before its batch committed: %v", err)
	default:
	}
	if err := s.InsertEvents(ctx, batch("rest", 7)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(stored(t, r)); n != 16 {
		t.Fatalf("%d events stored, want 16", n)
	}
	go func() { done <- s.InsertEvent(ctx, event("last", 0)) }()
	if b := next(); b != 3 {
		t.Fatalf("batch %d, want 3", b)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the event of the batch that Stop found filling: %v", err)
	}
	s2 := start(t, supervisor.Config{})
	if n := len(stored(t, reader(t, s2, dsn))); n != 17 {
		t.Fatalf("%d events stored after Stop, want 17", n)
	}
}
