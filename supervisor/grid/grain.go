package grid

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"google.golang.org/protobuf/proto"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/messages/wire"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// Bounds of a tenant's activation.
const (
	// MaxCursors bounds the cursors open on one tenant: opening one more closes the one used
	// least recently (its next fetch gets messages.ErrCursorClosed).
	MaxCursors = 64
	// idemTTL is how long an idempotency key is kept.
	idemTTL   = 24 * time.Hour
	idemTable = "_actorlite_idempotency"
	// closeWait bounds what closing an activation waits for (its events, its connection).
	closeWait = 10 * time.Second
)

// grain is a tenant's activation: the virtual actor of kind Kind, on the member that owns the
// tenant. Invariants:
//   - One activation per tenant per member; it alone holds the tenant's connection (a
//     supervised actors.Conn from the member's supervisor) and, once events arrive, its
//     events writer (a child actor).
//   - Requests run one at a time, in arrival order, on the activation's goroutine: its
//     Receive waits for the connection. That is the serial executor a virtual actor is; it
//     holds up only this tenant's own requests. InsertEvents without a key is the
//     exception: handed to the events writer, answered after its batch committed, so that
//     concurrent callers share commits.
//   - The database is opened on the first request: never created (mode=rw) except by a
//     create request, so a member without the file answers ErrTenantUnavailable.
//   - Every request is answered exactly once, with a *wire.Reply.
//   - Idle for IdleTimeout (no message), the activation closes its cursors, its events
//     writer and its connection (passivation), and reopens the database on its next
//     request. It does not stop: protoactor silently drops the messages still in a stopping
//     actor's mailbox, so a request racing the idle timer would be lost and its caller would
//     wait for its deadline. The activation (an actor with no goroutine, its mailbox and this
//     struct) stops when its tenant moves to another member or its member stops or leaves.
type grain struct {
	m    *Member
	name string

	conn     *actors.Conn
	cursors  map[uint64]*openCursor
	nextCur  uint64
	events   *actors.EventWriter
	evPID    *actor.PID
	idem     bool // the idempotency table exists and was pruned since the database opened
	stopping bool // the activation is stopping: it answers, and opens nothing
}

type openCursor struct {
	cur  *actors.Cursor
	used uint64 // the request count when last used
}

var _ actor.Actor = (*grain)(nil)

func (g *grain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		g.name = cluster.GetClusterIdentity(ctx).Identity
		g.cursors = make(map[uint64]*openCursor)
		g.m.register(g.name, ctx.Self())
		ctx.SetReceiveTimeout(g.m.cfg.IdleTimeout)
	case *actor.ReceiveTimeout:
		g.close() // passivation: the files close, the activation stays (see the type's doc)
		if g.evPID != nil {
			// The writer's connection closes when its actor stops (EventWriter.Close leaves
			// that to its parent).
			_ = ctx.StopFuture(g.evPID).Wait()
			g.evPID = nil
		}
	case *actor.Stopping:
		g.stopping = true
		g.close()
	case *actor.Stopped:
		g.m.unregister(g.name, ctx.Self())
	case *wire.Request:
		g.receive(ctx, msg)
	}
}

// receive answers one request.
func (g *grain) receive(ctx actor.Context, req *wire.Request) {
	rctx, cancel, err := requestContext(req)
	if err != nil {
		cancel()
		ctx.Respond(errReply(err))
		return
	}
	if ev := req.GetInsertEvents(); ev != nil && len(req.GetIdempotencyKey()) == 0 {
		g.insertEvents(ctx, rctx, cancel, ev) // answers, and cancels, once committed
		return
	}
	defer cancel()
	rep, err := g.handle(rctx, req)
	if err != nil {
		rep = errReply(err)
	}
	ctx.Respond(rep)
}

// requestContext returns the context a request runs under: its deadline, if it has one.
func requestContext(req *wire.Request) (context.Context, context.CancelFunc, error) {
	dl, err := wire.DecodeTime(req.GetDeadline())
	if err != nil {
		return nil, func() {}, err
	}
	if dl.IsZero() {
		ctx, cancel := context.WithCancel(context.Background())
		return ctx, cancel, nil
	}
	ctx, cancel := context.WithDeadline(context.Background(), dl)
	if err := ctx.Err(); err != nil {
		return ctx, cancel, err
	}
	return ctx, cancel, nil
}

func errReply(err error) *wire.Reply {
	return &wire.Reply{Error: wire.EncodeError(err, userErrors)}
}

func (g *grain) handle(ctx context.Context, req *wire.Request) (*wire.Reply, error) {
	if g.m.isLeaving() || g.stopping {
		return nil, fmt.Errorf("%w: %q: its activation on %s is stopping (its member leaves, or it moves)", ErrTenantUnavailable, g.name, g.m.Address())
	}
	if req.GetCreate() {
		return &wire.Reply{}, g.create(ctx)
	}
	if err := g.open(ctx, false); err != nil {
		return nil, err
	}
	if key := req.GetIdempotencyKey(); len(key) > 0 && isWrite(req) {
		return g.idempotent(ctx, key, req)
	}
	rep, err := g.run(ctx, req, false)
	if opensTx(req) {
		if terr := g.noTxLeft(); terr != nil {
			return nil, errors.Join(err, terr)
		}
	}
	return rep, err
}

// opensTx reports whether req's SQL could leave a transaction open: only BEGIN and SAVEPOINT
// open one, so SQL that holds neither word (in any case) cannot, and is not checked.
func opensTx(req *wire.Request) bool {
	var sql []byte
	switch op := req.GetOp().(type) {
	case *wire.Request_Exec:
		sql = op.Exec.GetSql()
	case *wire.Request_ExecMany:
		sql = op.ExecMany.GetSql()
	case *wire.Request_ExecScript:
		sql = op.ExecScript
	case *wire.Request_Query:
		sql = op.Query.GetStatement().GetSql()
	default:
		return false
	}
	return containsFold(sql, "BEGIN") || containsFold(sql, "SAVEPOINT")
}

// containsFold reports whether s holds word (upper-case ASCII), ignoring ASCII case.
func containsFold(s []byte, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		j := 0
		for j < len(word) && s[i+j]&^0x20 == word[j] {
			j++
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

// open opens the tenant's database if it is not open: never creating it unless create.
func (g *grain) open(ctx context.Context, create bool) error {
	if g.conn != nil {
		return nil
	}
	path := g.m.path(g.name)
	if !create {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %q: no database on %s", ErrTenantUnavailable, g.name, g.m.Address())
		}
	}
	conn, err := g.m.sup.Open(ctx, dbURI(path, create), g.m.cfg.Options...)
	if err != nil {
		if errors.Is(err, messages.ErrCantOpen) {
			return fmt.Errorf("%w: %q: %w", ErrTenantUnavailable, g.name, err)
		}
		return err
	}
	// A tenant's SQL reaches its own file only: ATTACH (of another tenant's file, of any file
	// of the member) is denied.
	if err := conn.SetAuthorizer(ctx, denyAttach); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return err
	}
	g.conn = conn
	return nil
}

func denyAttach(r messages.AuthRequest) messages.AuthResult {
	if r.Action == "ATTACH" || r.Action == "DETACH" {
		return messages.AuthDeny
	}
	return messages.AuthOK
}

// noTxLeft ends a transaction that a request's SQL left open (an Exec of BEGIN, a script
// without its COMMIT): over the wire, transactions are Batch only, and one left open would
// hold every later request of the tenant inside it. The request's work is rolled back and
// it fails.
func (g *grain) noTxLeft() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	in, err := g.conn.InTransaction(ctx)
	if err != nil || !in {
		return err
	}
	_ = g.conn.Rollback(ctx)
	return fmt.Errorf("%w: the statement left a transaction open (rolled back): over the wire, a transaction is a Batch", messages.ErrBadArgument)
}

func (g *grain) create(ctx context.Context) error {
	if g.conn != nil {
		return fmt.Errorf("%w: %q", ErrTenantExists, g.name)
	}
	if _, err := os.Stat(g.m.path(g.name)); err == nil {
		return fmt.Errorf("%w: %q", ErrTenantExists, g.name)
	}
	return g.open(ctx, true)
}

// run runs req. inTx: the caller holds a transaction open (an idempotent write).
func (g *grain) run(ctx context.Context, req *wire.Request, inTx bool) (*wire.Reply, error) {
	switch op := req.GetOp().(type) {
	case *wire.Request_Exec:
		args, err := wire.DecodeArgs(op.Exec.GetArgs())
		if err == nil && inTx {
			err = checkNoTxControl(op.Exec.GetSql())
		}
		if err != nil {
			return nil, err
		}
		res, err := g.conn.Exec(ctx, string(op.Exec.GetSql()), args...)
		return resultReply(res), err
	case *wire.Request_ExecMany:
		if inTx {
			if err := checkNoTxControl(op.ExecMany.GetSql()); err != nil {
				return nil, err
			}
		}
		rows := make([][]any, len(op.ExecMany.GetRows()))
		for i, r := range op.ExecMany.GetRows() {
			args, err := wire.DecodeArgs(r.GetValues())
			if err != nil {
				return nil, fmt.Errorf("row %d: %w", i, err)
			}
			rows[i] = args
		}
		res, err := g.conn.ExecMany(ctx, string(op.ExecMany.GetSql()), rows)
		return resultReply(res), err
	case *wire.Request_ExecScript:
		return &wire.Reply{}, g.conn.ExecScript(ctx, string(op.ExecScript))
	case *wire.Request_Batch:
		return g.batch(ctx, op.Batch, inTx)
	case *wire.Request_InsertEvents:
		return g.insertEventsTx(ctx, op.InsertEvents)
	case *wire.Request_Query:
		return g.query(ctx, op.Query)
	case *wire.Request_Fetch:
		oc := g.cursors[op.Fetch.GetCursor()]
		if oc == nil {
			return nil, fmt.Errorf("cursor %d: %w", op.Fetch.GetCursor(), messages.ErrCursorClosed)
		}
		return g.fill(ctx, &wire.Reply{Cursor: op.Fetch.GetCursor()}, oc, int(op.Fetch.GetMaxRows()))
	case *wire.Request_CloseCursor:
		if oc := g.cursors[op.CloseCursor]; oc != nil {
			delete(g.cursors, op.CloseCursor)
			return &wire.Reply{}, oc.cur.Close(ctx)
		}
		return &wire.Reply{}, nil
	default:
		return nil, fmt.Errorf("%w: %T", messages.ErrUnknownRequest, op)
	}
}

func resultReply(res messages.Result) *wire.Reply {
	return &wire.Reply{Results: []*wire.Result{{LastInsertId: res.LastInsertID, RowsAffected: res.RowsAffected}}}
}

// batch runs b's statements in one transaction (the caller's when inTx).
func (g *grain) batch(ctx context.Context, b *wire.Batch, inTx bool) (*wire.Reply, error) {
	if !inTx {
		if err := g.conn.BeginImmediate(ctx); err != nil {
			return nil, err
		}
	}
	rep := &wire.Reply{Results: make([]*wire.Result, 0, len(b.GetStatements()))}
	for i, st := range b.GetStatements() {
		args, err := wire.DecodeArgs(st.GetArgs())
		if err == nil {
			err = checkNoTxControl(st.GetSql())
		}
		if err == nil {
			var res messages.Result
			res, err = g.conn.Exec(ctx, string(st.GetSql()), args...)
			rep.Results = append(rep.Results, &wire.Result{LastInsertId: res.LastInsertID, RowsAffected: res.RowsAffected})
		}
		if err != nil {
			if !inTx {
				g.rollback()
			}
			return nil, fmt.Errorf("statement %d: %w", i, err)
		}
	}
	if !inTx {
		if err := g.conn.Commit(ctx); err != nil {
			g.rollback()
			return nil, err
		}
	}
	return rep, nil
}

// checkNoTxControl returns an error wrapping messages.ErrBadArgument if sql is a statement
// that ends or opens a transaction (BEGIN, COMMIT, END, ROLLBACK but ROLLBACK TO): inside a
// Batch or a keyed write, the transaction is the activation's, and a COMMIT there would keep
// the statements before it whatever happens after. SAVEPOINT, RELEASE and ROLLBACK TO nest
// inside it and are allowed.
func checkNoTxControl(sql []byte) error {
	w, rest := sqlitewasm.FirstKeyword(string(sql))
	switch w {
	case "BEGIN", "COMMIT", "END":
	case "ROLLBACK":
		next, rest := sqlitewasm.FirstKeyword(rest)
		if next == "TRANSACTION" {
			next, _ = sqlitewasm.FirstKeyword(rest)
		}
		if next == "TO" {
			return nil
		}
	default:
		return nil
	}
	return fmt.Errorf("%w: %s inside a Batch or a keyed write (its transaction is the tenant's)", messages.ErrBadArgument, w)
}

// rollback ends the connection's transaction, if one is open, whatever a request's ctx.
func (g *grain) rollback() {
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	if in, err := g.conn.InTransaction(ctx); err == nil && in {
		_ = g.conn.Rollback(ctx)
	}
}

// idempotent runs the write req at most once per key: it looks the key up and records it,
// with the reply, in the write's own transaction.
func (g *grain) idempotent(ctx context.Context, key []byte, req *wire.Request) (*wire.Reply, error) {
	if err := g.conn.BeginImmediate(ctx); err != nil {
		return nil, err
	}
	rep, err := g.idempotentTx(ctx, key, req)
	if err != nil {
		g.rollback()
		return nil, err
	}
	if err := g.conn.Commit(ctx); err != nil {
		g.rollback()
		return nil, err
	}
	return rep, nil
}

func (g *grain) idempotentTx(ctx context.Context, key []byte, req *wire.Request) (*wire.Reply, error) {
	if !g.idem {
		err := g.conn.ExecScript(ctx, `CREATE TABLE IF NOT EXISTS `+idemTable+` (key BLOB PRIMARY KEY, reply BLOB NOT NULL, at DATETIME NOT NULL) WITHOUT ROWID`)
		if err == nil {
			_, err = g.conn.Exec(ctx, `DELETE FROM `+idemTable+` WHERE at < ?`, time.Now().Add(-idemTTL))
		}
		if err != nil {
			return nil, fmt.Errorf("idempotency keys: %w", err)
		}
		g.idem = true
	}
	row, err := g.conn.QueryRow(ctx, `SELECT reply FROM `+idemTable+` WHERE key = ?`, key)
	switch {
	case err == nil:
		var b []byte
		if err := row.Scan(&b); err != nil {
			return nil, err
		}
		var rep wire.Reply
		if err := proto.Unmarshal(b, &rep); err != nil {
			return nil, fmt.Errorf("idempotency key's reply: %w", err)
		}
		return &rep, nil
	case !errors.Is(err, messages.ErrNoRows):
		return nil, err
	}
	rep, err := g.run(ctx, req, true)
	if err != nil {
		return nil, err // rolled back: nothing ran, the key is not recorded
	}
	// A script is not checked statement by statement: one that ended the key's transaction
	// (COMMIT, ROLLBACK) ran (partly) outside it. Its key is not recorded, and it fails.
	if in, err := g.conn.InTransaction(ctx); err != nil || !in {
		return nil, errors.Join(err, fmt.Errorf("%w: the write ended its idempotency key's transaction (what ran before is kept, the key is not recorded): a keyed write cannot hold COMMIT or ROLLBACK", messages.ErrBadArgument))
	}
	b, err := proto.Marshal(rep)
	if err != nil {
		return nil, err
	}
	if _, err := g.conn.Exec(ctx, `INSERT INTO `+idemTable+` (key, reply, at) VALUES (?, ?, ?)`, key, b, time.Now()); err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	return rep, nil
}

// query opens a cursor and answers with its first rows.
func (g *grain) query(ctx context.Context, q *wire.Query) (*wire.Reply, error) {
	args, err := wire.DecodeArgs(q.GetStatement().GetArgs())
	if err != nil {
		return nil, err
	}
	cur, err := g.conn.Query(ctx, string(q.GetStatement().GetSql()), args...)
	if err != nil {
		return nil, err
	}
	rep := &wire.Reply{Columns: wire.EncodeColumns(cur.Columns())}
	oc := &openCursor{cur: cur}
	if q.GetOneRow() {
		defer cur.Close(ctx)
		rows, err := cur.FetchMany(ctx, 1)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return nil, messages.ErrNoRows
		}
		wr, size, err := wire.EncodeRow(rows[0])
		if err != nil {
			return nil, err
		}
		if size > MaxRowBytes {
			return nil, fmt.Errorf("%w: a row of %d bytes (at most %d cross the wire)", messages.ErrBadArgument, size, MaxRowBytes)
		}
		rep.Rows, rep.Done = []*wire.Row{wr}, true
		return rep, nil
	}
	rep, err = g.fill(ctx, rep, oc, int(q.GetMaxRows()))
	if err != nil {
		return nil, err
	}
	if len(rep.Columns) == 0 {
		// A statement that returns no columns ran to its end: say what it changed, as
		// Exec does (changes() is this connection's, and only this activation uses it).
		row, err := g.conn.QueryRow(ctx, `SELECT changes(), last_insert_rowid()`)
		if err != nil {
			return nil, err
		}
		var res messages.Result
		if err := row.Scan(&res.RowsAffected, &res.LastInsertID); err != nil {
			return nil, err
		}
		rep.Results = resultReply(res).Results
	}
	if !rep.Done {
		g.nextCur++
		rep.Cursor = g.nextCur
		g.cursors[rep.Cursor] = oc
		g.evictCursors(ctx)
	}
	return rep, nil
}

// fill adds oc's next rows to rep until ReplyBytes (or limit rows, when positive); it closes
// the cursor and sets Done at the end of its rows.
func (g *grain) fill(ctx context.Context, rep *wire.Reply, oc *openCursor, limit int) (*wire.Reply, error) {
	g.nextUse(oc)
	bytes, n := 0, 1
	for {
		if limit > 0 {
			n = min(n, limit-len(rep.Rows))
		}
		rows, err := oc.cur.FetchMany(ctx, n)
		if err != nil {
			g.dropCursor(rep.Cursor, oc)
			return nil, err
		}
		if len(rows) == 0 {
			g.dropCursor(rep.Cursor, oc)
			rep.Done = true
			return rep, nil
		}
		for _, r := range rows {
			wr, size, err := wire.EncodeRow(r)
			if err == nil && size > MaxRowBytes {
				err = fmt.Errorf("%w: a row of %d bytes (at most %d cross the wire)", messages.ErrBadArgument, size, MaxRowBytes)
			}
			if err != nil {
				g.dropCursor(rep.Cursor, oc)
				return nil, err
			}
			rep.Rows = append(rep.Rows, wr)
			bytes += size
		}
		if bytes >= ReplyBytes || (limit > 0 && len(rep.Rows) >= limit) {
			return rep, nil
		}
		// Fetch as many rows as seem to fit in what is left, from the average so far: one
		// at a time for rows of megabytes, up to 1024 for small ones.
		avg := bytes / len(rep.Rows)
		n = min(max2(1, (ReplyBytes-bytes)/max2(avg, 1)), 1024)
	}
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func (g *grain) nextUse(oc *openCursor) {
	g.nextCur++
	oc.used = g.nextCur
}

// dropCursor closes oc and forgets it under id (0: not registered yet).
func (g *grain) dropCursor(id uint64, oc *openCursor) {
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	_ = oc.cur.Close(ctx)
	if id != 0 {
		delete(g.cursors, id)
	}
}

// evictCursors closes the cursors used least recently beyond MaxCursors.
func (g *grain) evictCursors(ctx context.Context) {
	for len(g.cursors) > MaxCursors {
		var oldest uint64
		for id, oc := range g.cursors {
			if oldest == 0 || oc.used < g.cursors[oldest].used {
				oldest = id
			}
		}
		g.dropCursor(oldest, g.cursors[oldest])
	}
}

// eventsSchema is the events table of DESIGN §4, as the events writer creates it.
const eventsSchema = `CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, ` +
	`name TEXT NOT NULL, properties BLOB, timestamp DATETIME NOT NULL); ` +
	`CREATE INDEX IF NOT EXISTS events_user_id_timestamp ON events (user_id, timestamp);`

func decodeEvents(in *wire.InsertEvents) ([]messages.Event, error) {
	evs := make([]messages.Event, len(in.GetEvents()))
	now := time.Now()
	for i, e := range in.GetEvents() {
		ev, err := wire.DecodeEvent(e)
		if err == nil {
			err = ev.Validate()
		}
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if ev.Timestamp.IsZero() {
			ev.Timestamp = now
		}
		evs[i] = ev
	}
	return evs, nil
}

// insertEventsTx stores events in the open transaction (an idempotent InsertEvents).
func (g *grain) insertEventsTx(ctx context.Context, in *wire.InsertEvents) (*wire.Reply, error) {
	evs, err := decodeEvents(in)
	if err != nil {
		return nil, err
	}
	if err := g.conn.ExecScript(ctx, eventsSchema); err != nil {
		return nil, err
	}
	rows := make([][]any, len(evs))
	for i, ev := range evs {
		var props any
		if len(ev.Properties) > 0 {
			props = string(ev.Properties)
		}
		rows[i] = []any{ev.UserID, ev.Name, props, ev.Timestamp}
	}
	if len(rows) > 0 {
		if _, err := g.conn.ExecMany(ctx, `INSERT INTO events (user_id, name, properties, timestamp) VALUES (?, ?, ?, ?)`, rows); err != nil {
			return nil, err
		}
	}
	return &wire.Reply{Count: int64(len(evs))}, nil
}

// insertEvents hands events to the tenant's events writer (started on first use, a child of
// the activation) and answers the sender once they are committed, off this goroutine.
func (g *grain) insertEvents(ctx actor.Context, rctx context.Context, cancel context.CancelFunc, in *wire.InsertEvents) {
	fail := func(err error) {
		cancel()
		ctx.Respond(errReply(err))
	}
	if g.m.isLeaving() || g.stopping {
		fail(fmt.Errorf("%w: %q: its activation on %s is stopping", ErrTenantUnavailable, g.name, g.m.Address()))
		return
	}
	evs, err := decodeEvents(in)
	if err != nil {
		fail(err)
		return
	}
	if err := g.open(rctx, false); err != nil {
		fail(err)
		return
	}
	if g.events == nil {
		w, err := actors.NewEventWriter(actors.EventWriterConfig{System: g.m.sys, DSN: dbURI(g.m.path(g.name), false), Options: g.m.cfg.Options, Logger: g.m.logger})
		if err != nil {
			fail(err)
			return
		}
		pid := ctx.Spawn(w.Props())
		w.Bind(pid)
		if err := w.WaitOpen(rctx); err != nil {
			_, _ = w.Close(context.Background())
			ctx.Stop(pid)
			fail(err)
			return
		}
		g.events, g.evPID = w, pid
	}
	w, sender, sys := g.events, ctx.Sender(), g.m.sys
	go func() {
		defer cancel()
		err := w.Insert(rctx, evs)
		rep := &wire.Reply{Count: int64(len(evs))}
		if err != nil {
			rep = errReply(err)
		}
		if sender != nil {
			sys.Root.Send(sender, rep)
		}
	}()
}

// close releases what the activation holds: cursors, events writer (its queued events are
// written first), connection (a checkpoint runs as it closes).
func (g *grain) close() {
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	for id, oc := range g.cursors {
		g.dropCursor(id, oc)
	}
	if g.events != nil {
		_, _ = g.events.Close(ctx)
		g.events = nil
	}
	if g.conn != nil {
		_ = g.conn.Close(ctx)
		g.conn = nil
	}
	g.idem = false
}
