package messages

import (
	"encoding/json"
	"time"
)

// Column describes one result column, as Python's cursor.description does.
type Column struct {
	Name     string // the column's name (its alias, when the query gives one)
	DeclType string // the declared type of the table column it comes from; "" for expressions
}

// Result is the outcome of a statement that changes rows.
type Result struct {
	LastInsertID int64 // rowid of the most recent successful INSERT on the connection
	RowsAffected int64 // rows changed by the statement (by all of them, for ExecMany)
}

// Event is one analytics event, routed by the supervisor to the events writer.
type Event struct {
	UserID     string
	Name       string
	Properties json.RawMessage // must be valid JSON (or empty: stored as NULL)
	Timestamp  time.Time       // zero: the time the supervisor received it
}

// TimeLayout is how a [time.Time] argument is stored: fixed-width RFC 3339 text in UTC, so
// that text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"
