package actors

import (
	"fmt"

	"github.com/actorlite/actorlite/messages"
)

// errNoWriter is what a read pool answers a write with.
var errNoWriter = fmt.Errorf("a read pool has no writer: %w", messages.ErrReadOnly)

// NewReadPool makes a read pool: readers (already open, at least one, each opened with
// [WithQueryOnly]) and no writer, for a database another actor writes, such as the events
// store, whose events writer owns the only writing connection
// ([supervisor.Supervisor.EventsPool]). Query, QueryRow, QueryAll and Backup work as on any
// [Pool]. Exec, ExecMany, ExecScript and Tx fail with an error wrapping
// [messages.ErrReadOnly], a query that would write with [messages.ErrNotReadOnly] (nothing
// ran), and once every reader stopped for good, queries fail with [messages.ErrClosed];
// WriterPID and Writer return nil.
func NewReadPool(dsn string, readers []*Conn) *Pool {
	return NewPool(dsn, nil, readers)
}
