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
}

type cachedStmt struct {
	s       *sqlite3.Stmt
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

// take returns the idle cached statement for sql, marked in use, or nil.
func (sc *stmtCache) take(sql string) *sqlite3.Stmt {
	e := sc.byKey[sql]
	if e == nil || e.inUse {
		return nil
	}
	e.inUse = true
	return e.s
}

// adopt starts caching a freshly prepared statement (in use) if there is room for its SQL.
func (sc *stmtCache) adopt(s *sqlite3.Stmt) {
	if sc.size <= 0 || sc.byKey[s.SQL()] != nil {
		return
	}
	if len(sc.byKey) >= sc.size && !sc.evict() {
		return
	}
	e := &cachedStmt{s: s, inUse: true}
	sc.byKey[s.SQL()] = e
	sc.byStmt[s] = e
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
	delete(sc.byKey, old.s.SQL())
	delete(sc.byStmt, old.s)
	old.s.Close()
	return true
}

// put gives s back: idle again if cached, else closed.
func (sc *stmtCache) put(s *sqlite3.Stmt) {
	e := sc.byStmt[s]
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
		delete(sc.byKey, s.SQL())
		delete(sc.byStmt, s)
	}
	s.Close()
}

func (sc *stmtCache) clear() {
	for _, e := range sc.byKey {
		e.s.Close()
	}
	clear(sc.byKey)
	clear(sc.byStmt)
}
