package sqlitewasm

import (
	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// stmtCache keeps prepared statements by SQL text for reuse, with their column metadata, and
// evicts the least recently used idle one when full. Taking and giving back a cached statement
// allocates nothing. A statement in use is marked, not removed: a second user of the same SQL
// meanwhile gets a fresh statement of its own, closed when given back.
type stmtCache struct {
	size   int
	byKey  map[string]*cachedStmt
	byStmt map[*sqlite3.Stmt]*cachedStmt
	tick   uint64
	// last is the entry taken most recently: a program that runs one statement over and over
	// (a point select, an insert) finds it without hashing its SQL text.
	last *cachedStmt
}

type cachedStmt struct {
	s       *sqlite3.Stmt
	sql     string
	params  int // the statement's parameters (sqlite3_bind_parameter_count), fixed by its SQL
	inUse   bool
	lastUse uint64
	// column metadata, valid while SQLite has not re-prepared the statement
	cols   []messages.Column
	conv   []Converter
	time   []bool
	reprep int
}

func (sc *stmtCache) init(size int) {
	sc.size = size
	sc.byKey = make(map[string]*cachedStmt)
	sc.byStmt = make(map[*sqlite3.Stmt]*cachedStmt)
}

// take returns the idle cached entry for sql, marked in use, or nil.
func (sc *stmtCache) take(sql string) *cachedStmt {
	e := sc.last
	if e == nil || e.sql != sql {
		if e = sc.byKey[sql]; e == nil {
			return nil
		}
		sc.last = e
	}
	if e.inUse {
		return nil
	}
	e.inUse = true
	return e
}

// adopt starts caching a freshly prepared statement (in use) if there is room for its SQL,
// and returns its entry (nil: not cached).
func (sc *stmtCache) adopt(s *sqlite3.Stmt) *cachedStmt {
	if sc.size <= 0 || sc.byKey[s.SQL()] != nil {
		return nil
	}
	if len(sc.byKey) >= sc.size && !sc.evict() {
		return nil
	}
	e := &cachedStmt{s: s, sql: s.SQL(), params: s.BindCount(), inUse: true}
	sc.byKey[e.sql] = e
	sc.byStmt[s] = e
	sc.last = e
	return e
}

// evict closes the least recently used idle statement; false if all are in use.
func (sc *stmtCache) evict() bool {
	var old *cachedStmt
	for _, e := range sc.byKey {
		if !e.inUse && (old == nil || e.lastUse < old.lastUse) {
			old = e
		}
	}
	if old == nil {
		return false
	}
	sc.forget(old)
	old.s.Close()
	return true
}

// forget removes e from the cache.
func (sc *stmtCache) forget(e *cachedStmt) {
	delete(sc.byKey, e.sql)
	delete(sc.byStmt, e.s)
	if sc.last == e {
		sc.last = nil
	}
}

// put gives s back (e: its entry, nil if it is not cached): idle again if cached, else closed.
func (sc *stmtCache) put(s *sqlite3.Stmt, e *cachedStmt) {
	if e == nil {
		s.Close()
		return
	}
	sc.tick++
	e.inUse, e.lastUse = false, sc.tick
}

// drop forgets s (an error left it unusable) and closes it.
func (sc *stmtCache) drop(s *sqlite3.Stmt) {
	if e := sc.byStmt[s]; e != nil {
		sc.forget(e)
	}
	s.Close()
}

func (sc *stmtCache) clear() {
	for _, e := range sc.byKey {
		e.s.Close()
	}
	clear(sc.byKey)
	clear(sc.byStmt)
	sc.last = nil
}
