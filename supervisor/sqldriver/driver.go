package sqldriver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

// DriverName is the name the driver is registered under: sql.Open("actorlite", dsn).
const DriverName = "actorlite"

func init() { sql.Register(DriverName, sqlDriver{}) }

// sqlDriver is the registered driver. Its connectors use the process-wide supervisor.
type sqlDriver struct{}

var (
	_ driver.Driver        = sqlDriver{}
	_ driver.DriverContext = sqlDriver{}
)

// Open opens a connection with a connector of its own, which closes with it. database/sql
// uses OpenConnector instead; Open is for callers of the driver.Driver interface alone.
func (d sqlDriver) Open(dsn string) (driver.Conn, error) {
	ctr, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	c, err := ctr.Connect(context.Background())
	if err != nil {
		ctr.(io.Closer).Close()
		return nil, err
	}
	conn := c.(*Conn)
	conn.owned = ctr.(*connector)
	return conn, nil
}

// OpenConnector returns a connector on dsn that uses the process-wide supervisor, starting it
// if this is its first user. Closing the connector (sql.DB.Close) stops the supervisor when no
// other connector uses it.
func (sqlDriver) OpenConnector(dsn string) (driver.Connector, error) {
	s, err := acquireShared()
	if err != nil {
		return nil, err
	}
	return &connector{s: s, dsn: dsn, release: releaseShared}, nil
}

// shared is the process-wide supervisor of sql.Open's connectors, with their count.
var shared struct {
	mu   sync.Mutex
	s    *supervisor.Supervisor
	refs int
}

func acquireShared() (*supervisor.Supervisor, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.s == nil {
		s, err := supervisor.Start(context.Background(), supervisor.Config{})
		if err != nil {
			return nil, fmt.Errorf("starting the process-wide supervisor: %w", err)
		}
		shared.s = s
	}
	shared.refs++
	return shared.s, nil
}

func releaseShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.refs--
	if shared.refs > 0 {
		return nil
	}
	s := shared.s
	shared.s = nil
	return s.Stop(context.Background())
}

// NewConnector returns a connector on dsn (a file name or a "file:" URI, as
// [supervisor.Supervisor.OpenPool] takes) that uses the supervisor s: open a *sql.DB on it
// with sql.OpenDB. opts apply to every connection of the pool the connector opens on its first
// Connect (the writer's only if this opens it: see OpenPool). Closing the *sql.DB closes the
// connector's pool, never s.
func NewConnector(s *supervisor.Supervisor, dsn string, opts ...actors.Option) (driver.Connector, error) {
	if s == nil {
		return nil, &messages.ArgError{Reason: "NewConnector: nil supervisor"}
	}
	return &connector{s: s, dsn: dsn, opts: opts}, nil
}

// maxIdleSnapshots is how many readers for ReadOnly transactions a connector keeps open
// between transactions.
const maxIdleSnapshots = 4

// connector opens the pool its connections share, on first use, and again when its writer
// stopped for good after a crash.
type connector struct {
	s       *supervisor.Supervisor
	dsn     string
	opts    []actors.Option
	release func() error // the process-wide supervisor's count; nil with NewConnector

	cur atomic.Pointer[actors.Pool] // the pool new sessions get; nil until the first Connect

	mu     sync.Mutex
	pool   *actors.Pool
	old    []*actors.Pool // replaced pools, closed with the connector
	snaps  []snapConn     // idle readers for ReadOnly transactions
	closed bool
}

var (
	_ driver.Connector = (*connector)(nil)
	_ io.Closer        = (*connector)(nil)
)

// Connect returns a session on the connector's pool, opening the pool if needed.
func (ctr *connector) Connect(ctx context.Context) (driver.Conn, error) {
	p, err := ctr.getPool(ctx)
	if err != nil {
		return nil, err
	}
	return &Conn{ctr: ctr, pool: p}, nil
}

// Driver returns the driver.
func (ctr *connector) Driver() driver.Driver { return sqlDriver{} }

// getPool returns the live pool, opening one when there is none or its writer stopped.
func (ctr *connector) getPool(ctx context.Context) (*actors.Pool, error) {
	if p := ctr.cur.Load(); p != nil && !stopped(p.Writer()) {
		return p, nil
	}
	ctr.mu.Lock()
	defer ctr.mu.Unlock()
	if ctr.closed {
		return nil, fmt.Errorf("connect: %w", messages.ErrClosed)
	}
	if ctr.pool != nil && !stopped(ctr.pool.Writer()) {
		return ctr.pool, nil
	}
	p, err := ctr.s.OpenPool(ctx, ctr.dsn, 0, ctr.opts...)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if ctr.pool != nil {
		ctr.old = append(ctr.old, ctr.pool)
	}
	ctr.pool = p
	ctr.cur.Store(p)
	return p, nil
}

// lost drops p, whose writer stopped for good (a call found it closed): the next Connect
// opens a new pool.
func (ctr *connector) lost(p *actors.Pool) {
	ctr.mu.Lock()
	defer ctr.mu.Unlock()
	if ctr.pool == p {
		ctr.old = append(ctr.old, p)
		ctr.pool = nil
		ctr.cur.Store(nil)
	}
}

// stopped reports whether c's actor has stopped.
func stopped(c *actors.Conn) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// snapConn is a connection for ReadOnly transactions, and how much of its pool's
// registrations it has (see actors.Pool.Replay).
type snapConn struct {
	c    *actors.Conn
	pool *actors.Pool
	gen  uint64
}

// snapshot returns a query-only connection for a ReadOnly transaction on p, with the
// functions, aggregates, collations and authorizer registered through p (Pool.Replay): a
// transaction outside the pool runs the same SQL under the same authorizer as the pool's
// members.
func (ctr *connector) snapshot(ctx context.Context, p *actors.Pool) (snapConn, error) {
	sc, err := ctr.idleSnapshot(ctx, p)
	if err != nil {
		return sc, err
	}
	if sc.pool != p {
		sc.pool, sc.gen = p, 0
	}
	if sc.gen, err = p.Replay(ctx, sc.c, sc.gen); err != nil {
		sc.c.Close(context.WithoutCancel(ctx))
		return snapConn{}, err
	}
	return sc, nil
}

// idleSnapshot returns an idle snapshot connection, or opens one.
func (ctr *connector) idleSnapshot(ctx context.Context, p *actors.Pool) (snapConn, error) {
	ctr.mu.Lock()
	for len(ctr.snaps) > 0 {
		sc := ctr.snaps[len(ctr.snaps)-1]
		ctr.snaps = ctr.snaps[:len(ctr.snaps)-1]
		if !stopped(sc.c) {
			ctr.mu.Unlock()
			return sc, nil
		}
	}
	ctr.mu.Unlock()
	// Read-only at open: no pragma can make it write. (Not WithQueryOnly: its guard refuses
	// BEGIN, which the transaction needs, and the connection is the transaction's alone.)
	opts := append(append([]actors.Option(nil), ctr.opts...), actors.WithReadOnly())
	c, err := ctr.s.Open(ctx, ctr.dsn, opts...)
	return snapConn{c: c, pool: p}, err
}

// putSnapshot keeps sc for the next ReadOnly transaction, or closes it.
func (ctr *connector) putSnapshot(sc snapConn) {
	ctr.mu.Lock()
	if !ctr.closed && len(ctr.snaps) < maxIdleSnapshots && !stopped(sc.c) {
		ctr.snaps = append(ctr.snaps, sc)
		sc.c = nil
	}
	ctr.mu.Unlock()
	if sc.c != nil {
		sc.c.Close(context.Background())
	}
}

// Close closes the connector's pool (releasing its share of the writer) and, with sql.Open's
// connectors, stops the process-wide supervisor when this was its last user. sql.DB.Close
// calls it. It is idempotent.
func (ctr *connector) Close() error {
	ctr.mu.Lock()
	if ctr.closed {
		ctr.mu.Unlock()
		return nil
	}
	ctr.closed = true
	pools := append(ctr.old, ctr.pool)
	snaps := ctr.snaps
	ctr.pool, ctr.old, ctr.snaps = nil, nil, nil
	ctr.cur.Store(nil)
	ctr.mu.Unlock()
	var errs []error
	ctx := context.Background()
	for _, sc := range snaps {
		errs = append(errs, sc.c.Close(ctx))
	}
	for _, p := range pools {
		if p != nil {
			errs = append(errs, p.Close(ctx))
		}
	}
	if ctr.release != nil {
		errs = append(errs, ctr.release())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}
