package sqlitewasm

import "github.com/ncruces/go-sqlite3"

// changeLog holds the rows changed by the open transaction until it commits (the update hook
// gets them then) or rolls back (they are dropped). A transaction can change millions of rows,
// so they are kept compact and free of pointers, 16 bytes each, in a buffer reused from one
// transaction to the next: the garbage collector never scans it, and growing it copies no
// pointers. go-sqlite3 hands over two new strings per row; the log keeps one pair per table.
// Each commit then becomes one []RowChange of the exact size.
type changeLog struct {
	rows  []changedRow
	names []tableName          // the tables of the transaction's rows
	index map[tableName]uint32 // their positions in names
	last  uint32               // the position of the table of the latest row
}

type changedRow struct {
	rowid int64
	table uint32 // position in names
	op    uint8  // sqlite3.AuthorizerActionCode: INSERT, UPDATE or DELETE
}

type tableName struct{ db, table string }

// keepRows is the capacity of the buffer of rows a transaction always leaves for the next
// one: 1 MiB. A larger one, grown by a large transaction, is kept for as long as each
// transaction fills at least a quarter of it (a series of large ones does not grow it again
// each time), and released after one that does not.
const keepRows = 1 << 16

// add records a row changed by the open transaction.
func (l *changeLog) add(op sqlite3.AuthorizerActionCode, db, table string, rowid int64) {
	if k := (tableName{db, table}); len(l.names) == 0 || l.names[l.last] != k {
		i, ok := l.index[k]
		if !ok {
			if l.index == nil {
				l.index = make(map[tableName]uint32)
			}
			i = uint32(len(l.names))
			l.names = append(l.names, k)
			l.index[k] = i
		}
		l.last = i
	}
	l.rows = append(l.rows, changedRow{rowid: rowid, table: l.last, op: uint8(op)})
}

// take returns the transaction's rows, in the order they changed, and empties the log; nil if
// there are none.
func (l *changeLog) take() []RowChange {
	if len(l.rows) == 0 {
		return nil
	}
	out := make([]RowChange, len(l.rows))
	for i, r := range l.rows {
		n := l.names[r.table]
		out[i] = RowChange{Op: authAction(sqlite3.AuthorizerActionCode(r.op)), Database: n.db, Table: n.table, RowID: r.rowid}
	}
	l.reset()
	return out
}

// reset empties the log.
func (l *changeLog) reset() {
	if cap(l.rows) > keepRows && len(l.rows) < cap(l.rows)/4 {
		l.rows = nil
	} else {
		l.rows = l.rows[:0]
	}
	clear(l.names)
	l.names = l.names[:0]
	clear(l.index)
	l.last = 0
}
