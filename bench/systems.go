package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/bench/internal/drivername"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
	_ "github.com/mattn/go-sqlite3" // registers "sqlite3" (cgo)
	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver" // registers drivername.Ncruces
)

// A system is one way to reach SQLite that the suite measures.
type system struct {
	id    string // the -systems name and the JSON key
	title string // the table's column heading
	// only lists the workload groups it runs; nil: every one. Others show "—".
	only []string
	// start prepares the system to work on the database file at path. The Python systems have
	// none: aiosqlite_bench.py runs them, in their idiom (see python.go).
	start func(ctx context.Context, path string) (engine, error)
	idiom string
}

// systems are the columns of the table, in order.
var systems = []system{
	{id: "actorlite", title: "actorlite", start: func(ctx context.Context, path string) (engine, error) {
		return startActorlite(ctx, path, false)
	}},
	{id: "actorlite-events", title: "actorlite events API", only: []string{"autocommit", "ingest"},
		start: func(ctx context.Context, path string) (engine, error) { return startActorlite(ctx, path, true) }},
	{id: "actorlite-pool", title: "actorlite pool", only: []string{"point", "concurrent"},
		start: startPool},
	{id: "ncruces", title: "ncruces direct", start: func(_ context.Context, path string) (engine, error) {
		return directEngine{path: path}, nil
	}},
	{id: "ncruces-sql", title: "ncruces database/sql", start: func(_ context.Context, path string) (engine, error) {
		return sqlEngine{driver: drivername.Ncruces, dsn: ncrucesDSN(path)}, nil
	}},
	{id: "mattn", title: "mattn database/sql (cgo)", start: func(_ context.Context, path string) (engine, error) {
		return sqlEngine{driver: "sqlite3", dsn: mattnDSN(path)}, nil
	}},
	{id: "aiosqlite", title: "aiosqlite (Python)", idiom: "cheapest"},
	{id: "aiosqlite-article", title: "aiosqlite, article idiom", idiom: "article",
		only: []string{"autocommit", "point", "scan", "concurrent", "ingest", "open"}},
}

func (s system) runs(group string) bool { return s.only == nil || slices.Contains(s.only, group) }

// An engine is a system set up on one database file: it opens connections to it.
type engine interface {
	open(ctx context.Context) (dbConn, error)
	// concurrent reports whether one dbConn may be used by many goroutines at once; the
	// harness serialises the others with a mutex where producers share a connection.
	concurrent() bool
	stop(ctx context.Context) error
}

// A dbConn is one connection, with every operation the workloads need.
type dbConn interface {
	insert(ctx context.Context, e *event) error         // one autocommit INSERT
	insertBatch(ctx context.Context, evs []event) error // one transaction
	point(ctx context.Context, id int64, r *eventRow) error
	scan(ctx context.Context, fn func(*eventRow)) error // every row, all columns
	selectOne(ctx context.Context) error
	close(ctx context.Context) error
}

// A bulkConn writes one transaction in parts: the bulk insert, taken in turns
// (runBulkTogether), holds its transaction open across its turns.
type bulkConn interface {
	begin(ctx context.Context) error
	insertMany(ctx context.Context, evs []event) error // in the open transaction
	commit(ctx context.Context) error
}

var errUnsupported = errors.New("not supported by this system")

// --- actorlite -------------------------------------------------------------------------------

type actorliteEngine struct {
	s      *supervisor.Supervisor
	path   string
	events bool
}

// startActorlite starts a supervisor; with events, its events writer writes to path.
func startActorlite(ctx context.Context, path string, events bool) (engine, error) {
	var cfg supervisor.Config
	if events {
		cfg.Events = supervisor.EventsConfig{DSN: path}
	}
	s, err := supervisor.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &actorliteEngine{s: s, path: path, events: events}, nil
}

func (e *actorliteEngine) open(ctx context.Context) (dbConn, error) {
	if e.events {
		return eventsConn{e.s}, nil
	}
	c, err := e.s.Open(ctx, e.path) // actorlite's defaults are the common pragmas
	if err != nil {
		return nil, err
	}
	return actorliteConn{c}, nil
}

func (e *actorliteEngine) concurrent() bool               { return true }
func (e *actorliteEngine) stop(ctx context.Context) error { return e.s.Stop(ctx) }

// poolEngine is one actors.Pool (a writer and GOMAXPROCS query_only readers): every dbConn
// the harness opens is a view on it, so that its readers serve the 8 goroutines of the
// concurrent workload.
type poolEngine struct {
	s *supervisor.Supervisor
	p *actors.Pool
}

func startPool(ctx context.Context, path string) (engine, error) {
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		return nil, err
	}
	p, err := s.OpenPool(ctx, path, 0)
	if err != nil {
		s.Stop(ctx)
		return nil, err
	}
	return &poolEngine{s: s, p: p}, nil
}

func (e *poolEngine) open(context.Context) (dbConn, error) { return poolConn{e.p}, nil }
func (e *poolEngine) concurrent() bool                     { return true }
func (e *poolEngine) stop(ctx context.Context) error {
	e.p.Close(ctx)
	return e.s.Stop(ctx)
}

// poolConn reads through the pool's readers.
type poolConn struct{ p *actors.Pool }

func (c poolConn) point(ctx context.Context, id int64, r *eventRow) error {
	row, err := c.p.QueryRow(ctx, pointSQL, id)
	if err != nil {
		return err
	}
	return row.Scan(&r.id, &r.user, &r.name, &r.props, &r.ts)
}

func (poolConn) insert(context.Context, *event) error        { return errUnsupported }
func (poolConn) insertBatch(context.Context, []event) error  { return errUnsupported }
func (poolConn) scan(context.Context, func(*eventRow)) error { return errUnsupported }
func (c poolConn) selectOne(ctx context.Context) error {
	_, err := c.p.QueryRow(ctx, "SELECT 1")
	return err
}
func (poolConn) close(context.Context) error { return nil }

// actorliteConn goes through the handles: Conn and Cursor.
type actorliteConn struct{ c *actors.Conn }

func (a actorliteConn) insert(ctx context.Context, e *event) error {
	_, err := a.c.Exec(ctx, insertSQL, e.user, e.name, e.props, e.ts)
	return err
}

// insertBatch is one ExecMany, which commits its rows in one transaction of its own.
func (a actorliteConn) insertBatch(ctx context.Context, evs []event) error {
	return a.insertMany(ctx, evs)
}

func (a actorliteConn) begin(ctx context.Context) error  { return a.c.Begin(ctx) }
func (a actorliteConn) commit(ctx context.Context) error { return a.c.Commit(ctx) }

// insertMany is one ExecMany: building its [][]any is part of the call, as the boxing of each
// database/sql call is.
func (a actorliteConn) insertMany(ctx context.Context, evs []event) error {
	args := make([][]any, len(evs))
	for i := range evs {
		e := &evs[i]
		args[i] = []any{e.user, e.name, e.props, e.ts}
	}
	_, err := a.c.ExecMany(ctx, insertSQL, args)
	return err
}

func (a actorliteConn) point(ctx context.Context, id int64, r *eventRow) error {
	row, err := a.c.QueryRow(ctx, pointSQL, id)
	if err != nil {
		return err
	}
	return row.Scan(&r.id, &r.user, &r.name, &r.props, &r.ts)
}

// scanChunk is how many rows a FetchMany asks for (aiosqlite_bench.py uses fetchmany of the same).
const scanChunk = 1000

func (a actorliteConn) scan(ctx context.Context, fn func(*eventRow)) error {
	cur, err := a.c.Query(ctx, scanSQL)
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	var r eventRow
	for {
		rows, err := cur.FetchMany(ctx, scanChunk)
		if err != nil || len(rows) == 0 {
			return err
		}
		for _, row := range rows {
			if err := row.Scan(&r.id, &r.user, &r.name, &r.props, &r.ts); err != nil {
				return err
			}
			fn(&r)
		}
	}
}

func (a actorliteConn) selectOne(ctx context.Context) error {
	_, err := a.c.QueryRow(ctx, "SELECT 1")
	return err
}

func (a actorliteConn) close(ctx context.Context) error { return a.c.Close(ctx) }

// eventsConn goes through the events API: InsertEvent and InsertEvents, each returning after
// the commit that holds its events.
type eventsConn struct{ s *supervisor.Supervisor }

func toEvent(e *event) messages.Event {
	return messages.Event{UserID: e.user, Name: e.name, Properties: json.RawMessage(e.props), Timestamp: e.ts}
}

func (c eventsConn) insert(ctx context.Context, e *event) error {
	return c.s.InsertEvent(ctx, toEvent(e))
}

func (c eventsConn) insertBatch(ctx context.Context, evs []event) error {
	batch := make([]messages.Event, len(evs))
	for i := range evs {
		batch[i] = toEvent(&evs[i])
	}
	return c.s.InsertEvents(ctx, batch)
}

func (eventsConn) point(context.Context, int64, *eventRow) error { return errUnsupported }
func (eventsConn) scan(context.Context, func(*eventRow)) error   { return errUnsupported }
func (eventsConn) selectOne(context.Context) error               { return errUnsupported }
func (eventsConn) close(context.Context) error                   { return nil }

// --- ncruces/go-sqlite3 called directly --------------------------------------------------------

type directEngine struct{ path string }

func (e directEngine) open(context.Context) (dbConn, error) {
	db, err := openDirect(e.path)
	if err != nil {
		return nil, err
	}
	return &directConn{db: db}, nil
}

func (directEngine) concurrent() bool           { return false }
func (directEngine) stop(context.Context) error { return nil }

// directConn is the floor: one go-sqlite3 connection and its prepared statements, used the way
// a careful program would (prepare once, bind, step, reset), delivering the same Go values.
type directConn struct {
	db      *sqlite3.Conn
	ins, pt *sqlite3.Stmt
}

func (d *directConn) stmt(p **sqlite3.Stmt, sql string) (*sqlite3.Stmt, error) {
	if *p == nil {
		s, _, err := d.db.Prepare(sql)
		if err != nil {
			return nil, err
		}
		*p = s
	}
	return *p, nil
}

func (d *directConn) insert(_ context.Context, e *event) error {
	s, err := d.stmt(&d.ins, insertSQL)
	if err != nil {
		return err
	}
	return bindInsert(s, e)
}

// bindInsert binds e to the INSERT and runs it. The timestamp is written as actorlite writes it.
func bindInsert(s *sqlite3.Stmt, e *event) error {
	s.BindText(1, e.user)
	s.BindText(2, e.name)
	s.BindBlob(3, e.props)
	s.BindText(4, e.ts.UTC().Format(messages.TimeLayout))
	return s.Exec()
}

func (d *directConn) insertBatch(ctx context.Context, evs []event) error {
	if err := d.begin(ctx); err != nil {
		return err
	}
	if err := d.insertMany(ctx, evs); err != nil {
		return errors.Join(err, d.db.Exec("ROLLBACK"))
	}
	return d.commit(ctx)
}

func (d *directConn) begin(context.Context) error  { return d.db.Exec("BEGIN") }
func (d *directConn) commit(context.Context) error { return d.db.Exec("COMMIT") }

func (d *directConn) insertMany(_ context.Context, evs []event) error {
	s, err := d.stmt(&d.ins, insertSQL)
	if err != nil {
		return err
	}
	for i := range evs {
		if err := bindInsert(s, &evs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (d *directConn) point(_ context.Context, id int64, r *eventRow) error {
	s, err := d.stmt(&d.pt, pointSQL)
	if err != nil {
		return err
	}
	s.BindInt64(1, id)
	if !s.Step() {
		if err := s.Reset(); err != nil {
			return err
		}
		return messages.ErrNoRows
	}
	readRow(s, r)
	return s.Reset()
}

// readRow reads the current row of s: the values actorlite's Row.Scan gives.
func readRow(s *sqlite3.Stmt, r *eventRow) {
	r.id = s.ColumnInt64(0)
	r.user = s.ColumnText(1)
	r.name = s.ColumnText(2)
	r.props = s.ColumnBlob(3, nil)
	r.ts = s.ColumnTime(4, sqlite3.TimeFormatDefault)
}

func (d *directConn) scan(_ context.Context, fn func(*eventRow)) error {
	s, _, err := d.db.Prepare(scanSQL)
	if err != nil {
		return err
	}
	defer s.Close()
	var r eventRow
	for s.Step() {
		readRow(s, &r)
		fn(&r)
	}
	return s.Err()
}

func (d *directConn) selectOne(context.Context) error {
	s, _, err := d.db.Prepare("SELECT 1")
	if err != nil {
		return err
	}
	s.Step()
	return errors.Join(s.Err(), s.Close())
}

func (d *directConn) close(context.Context) error {
	for _, s := range []*sqlite3.Stmt{d.ins, d.pt} {
		if s != nil {
			s.Close()
		}
	}
	return d.db.Close()
}

// --- database/sql (go-sqlite3's driver package, and mattn) ---------------------------------

func pragmaDSN(path, format string) string {
	var b strings.Builder
	b.WriteString("file:" + (&url.URL{Path: path}).EscapedPath() + "?")
	for i, p := range pragmas {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, format, p[0], p[1])
	}
	return b.String()
}

// ncrucesDSN applies the pragmas with go-sqlite3's _pragma parameters.
func ncrucesDSN(path string) string { return pragmaDSN(path, "_pragma=%s(%s)") }

// mattnDSN applies the pragmas with mattn's _name=value parameters.
func mattnDSN(path string) string { return pragmaDSN(path, "_%s=%s") }

// sqlEngine opens a *sql.DB per connection, limited to one open connection, so that a dbConn
// is one SQLite connection as with the other systems (and a shared one serialises its users).
type sqlEngine struct{ driver, dsn string }

func (e sqlEngine) open(ctx context.Context) (dbConn, error) {
	db, err := sql.Open(e.driver, e.dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &sqlConn{db: db}, nil
}

func (sqlEngine) concurrent() bool           { return true }
func (sqlEngine) stop(context.Context) error { return nil }

// sqlConn is one *sql.DB limited to one connection. Producers share it (concurrent), so its
// statements are prepared once whoever comes first (lazyStmt), and a transaction of a call is
// its own; tx is the bulk insert's, which one goroutine runs.
type sqlConn struct {
	db      *sql.DB
	ins, pt lazyStmt
	tx      *sql.Tx // begin's, until commit
}

// lazyStmt is a statement prepared on first use, once, by whichever goroutine uses it first.
type lazyStmt struct {
	once sync.Once
	s    *sql.Stmt
	err  error
}

func (c *sqlConn) stmt(ctx context.Context, l *lazyStmt, query string) (*sql.Stmt, error) {
	l.once.Do(func() { l.s, l.err = c.db.PrepareContext(ctx, query) })
	return l.s, l.err
}

func (c *sqlConn) insert(ctx context.Context, e *event) error {
	s, err := c.stmt(ctx, &c.ins, insertSQL)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(ctx, e.user, e.name, e.props, e.ts)
	return err
}

// insertBatch writes evs in a transaction of its own. Producers share a sqlConn
// (sqlEngine.concurrent), so it keeps its *sql.Tx to itself: c.tx is the bulk insert's alone.
func (c *sqlConn) insertBatch(ctx context.Context, evs []event) error {
	if _, err := c.stmt(ctx, &c.ins, insertSQL); err != nil {
		return err
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := c.insertTx(ctx, tx, evs); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// begin, insertMany and commit are the bulk insert's (bulkConn), run by one goroutine: its
// transaction, held across its turns, is c.tx.
func (c *sqlConn) begin(ctx context.Context) error {
	if _, err := c.stmt(ctx, &c.ins, insertSQL); err != nil { // prepared on the *sql.DB
		return err
	}
	tx, err := c.db.BeginTx(ctx, nil)
	c.tx = tx
	return err
}

func (c *sqlConn) commit(context.Context) error {
	err := c.tx.Commit()
	c.tx = nil
	return err
}

func (c *sqlConn) insertMany(ctx context.Context, evs []event) error {
	return c.insertTx(ctx, c.tx, evs)
}

// insertTx inserts evs in tx with the prepared insert.
func (c *sqlConn) insertTx(ctx context.Context, tx *sql.Tx, evs []event) error {
	ts := tx.StmtContext(ctx, c.ins.s)
	for i := range evs {
		e := &evs[i]
		if _, err := ts.ExecContext(ctx, e.user, e.name, e.props, e.ts); err != nil {
			return err
		}
	}
	return nil
}

func (c *sqlConn) point(ctx context.Context, id int64, r *eventRow) error {
	s, err := c.stmt(ctx, &c.pt, pointSQL)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, id).Scan(&r.id, &r.user, &r.name, &r.props, &r.ts)
}

func (c *sqlConn) scan(ctx context.Context, fn func(*eventRow)) error {
	rows, err := c.db.QueryContext(ctx, scanSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r eventRow
	for rows.Next() {
		if err := rows.Scan(&r.id, &r.user, &r.name, &r.props, &r.ts); err != nil {
			return err
		}
		fn(&r)
	}
	return rows.Err()
}

func (c *sqlConn) selectOne(ctx context.Context) error {
	var n int
	return c.db.QueryRowContext(ctx, "SELECT 1").Scan(&n)
}

// close rolls back a transaction begin left open (a bulk insert that failed between its
// turns: DB.Close would leave its connection open), then closes the *sql.DB.
func (c *sqlConn) close(context.Context) error {
	var err error
	if c.tx != nil {
		err = c.tx.Rollback()
		c.tx = nil
	}
	return errors.Join(err, c.db.Close())
}
