package messages

import (
	"errors"
	"fmt"
)

// Errors of the connection's life cycle. Match them with [errors.Is].
//
// Error texts: a sentinel, and a typed error of this package, says "actorlite:" once, first;
// whatever wraps one names only its operation, as the calls of package actors do, whether the
// error came in the reply or from the call's own transport ("exec: actorlite: constraint
// failed: …", "open app.db: actorlite: closed", "query: context canceled").
var (
	// ErrClosed is returned by every call on a connection, cursor or supervisor that was closed
	// or stopped, and to callers whose request was still waiting when it closed.
	ErrClosed = errors.New("actorlite: closed")

	// ErrCrashed is wrapped by the error a caller gets when its request crashed the connection
	// actor (the panic value is in the message), by the errors of cursors that a crash
	// invalidated, and, together with ErrClosed, once a connection used up its restart budget.
	ErrCrashed = errors.New("actorlite: connection crashed")

	// ErrTransactionLost is returned by every request on a connection whose open transaction
	// was lost in a crash, until the caller calls Rollback (which then succeeds) or Commit
	// (which returns ErrTransactionLost and ends the lost transaction). Only a transaction
	// its callers opened (Begin, or a BEGIN they ran) and left open between requests can be
	// lost: a request that crashes inside a transaction it opened for itself (ExecMany's,
	// Dump's savepoint) fails with ErrCrashed alone, with nothing of it kept, and so does a
	// Commit or Rollback that crashes (the transaction ended with the crashed instance;
	// nothing of it was committed unless the COMMIT itself had completed).
	ErrTransactionLost = errors.New("actorlite: transaction lost in a crash; roll back")

	// ErrCursorClosed is returned by a cursor that was closed, or invalidated by its
	// connection closing or crashing (then it also wraps ErrCrashed).
	ErrCursorClosed = errors.New("actorlite: cursor closed")

	// ErrBlobClosed is returned by a blob that was closed, or invalidated by its connection
	// closing or crashing.
	ErrBlobClosed = errors.New("actorlite: blob closed")

	// ErrUnknownCursor is returned for a cursor id the connection never issued.
	ErrUnknownCursor = errors.New("actorlite: unknown cursor")

	// ErrUnknownRequest answers a message a connection actor does not understand.
	ErrUnknownRequest = errors.New("actorlite: unknown request")
)

// Errors of statements and transactions.
var (
	// ErrNoRows is returned by QueryRow when the query returned no row.
	ErrNoRows = errors.New("actorlite: no rows in result set")

	// ErrInTransaction is returned by Begin when a transaction is already open:
	// SQLite transactions do not nest (use SAVEPOINT).
	ErrInTransaction = errors.New("actorlite: a transaction is already open")

	// ErrNoTransaction is returned by Commit and Rollback when no transaction is open.
	ErrNoTransaction = errors.New("actorlite: no transaction is open")

	// ErrBadArgument is wrapped by an [*ArgError]: an argument of an unsupported type, or the
	// wrong number of arguments for the statement's parameters.
	ErrBadArgument = errors.New("actorlite: bad argument")

	// ErrScan is wrapped by a [*ScanError]: [Row.Scan] could not store a value in a destination.
	ErrScan = errors.New("actorlite: scan")

	// ErrMultipleStatements is returned by Exec and Query when the SQL holds more than one
	// statement; use ExecScript for scripts.
	ErrMultipleStatements = errors.New("actorlite: more than one statement; use ExecScript")

	// ErrConvert is wrapped by the error of a converter that failed or panicked.
	ErrConvert = errors.New("actorlite: converter failed")

	// ErrNotAuthorized is wrapped by the error of a statement the connection's authorizer denied.
	ErrNotAuthorized = errors.New("actorlite: not authorized")

	// ErrNotReadOnly answers a [Query] with ReadOnly set whose statement would write. Nothing ran.
	ErrNotReadOnly = errors.New("actorlite: statement is not read-only")
)

// Errors that classify SQLite's result codes. An [*Error] from SQLite matches the one of these
// that its primary result code names.
var (
	// ErrBusy: the database file is locked by another connection (SQLITE_BUSY) or a table
	// is locked (SQLITE_LOCKED).
	ErrBusy = errors.New("actorlite: database is locked")

	// ErrConstraint: a constraint (UNIQUE, NOT NULL, CHECK, FOREIGN KEY, …) was violated.
	ErrConstraint = errors.New("actorlite: constraint failed")

	// ErrInterrupted: the statement was interrupted (its ctx was done, or Interrupt was called).
	ErrInterrupted = errors.New("actorlite: interrupted")

	// ErrReadOnly: a write on a read-only connection or database.
	ErrReadOnly = errors.New("actorlite: attempt to write a readonly database")

	// ErrCantOpen: the database file could not be opened.
	ErrCantOpen = errors.New("actorlite: unable to open database file")

	// ErrCorrupt: the file is not a database, or is corrupt.
	ErrCorrupt = errors.New("actorlite: database disk image is malformed")

	// ErrSQL: any other SQLite error (a syntax error, a missing table, …).
	ErrSQL = errors.New("actorlite: SQL error")
)

// Errors of the analytics-events path.
var (
	// ErrConfig is wrapped by a [*ConfigError]: a configuration that cannot work, such as an
	// events table name that is not a plain SQL identifier, or an events store a read pool
	// cannot share. The program is at fault, not its callers' input: unlike ErrBadEvent, an
	// HTTP service maps it to a 500 (and it shows at Start, before any request).
	ErrConfig = errors.New("actorlite: bad configuration")

	// ErrNoEventStore is returned by InsertEvent(s) when events are disabled
	// (supervisor.Config.Events.DSN is empty).
	ErrNoEventStore = errors.New("actorlite: no event store configured")

	// ErrBadEvent is wrapped by an [*EventError]: an event failed validation (or decoding
	// from JSON). The caller's input is at fault: an HTTP service maps it to 400.
	ErrBadEvent = errors.New("actorlite: bad event")

	// ErrOverloaded answers an actor's request that found no room and cannot wait for it, as
	// a goroutine's call does: a connection's request past its MaxPending requests (or
	// MaxPendingBytes) in flight, or an InsertEvents when the events queue is full and so is
	// the overflow where actors' calls wait for room. Nothing of the request ran; send it
	// again later. A goroutine's InsertEvents whose ctx ends while it waits for room in the
	// full events queue gets an error wrapping both ctx's error and ErrOverloaded (nothing of
	// it was queued): an HTTP service answers 429.
	ErrOverloaded = errors.New("actorlite: overloaded")
)

// Primary SQLite result codes that [Error.Is] classifies.
// https://sqlite.org/rescode.html
const (
	codeError      = 1
	codePerm       = 3
	codeAbort      = 4
	codeBusy       = 5
	codeLocked     = 6
	codeReadOnly   = 8
	codeInterrupt  = 9
	codeCorrupt    = 11
	codeCantOpen   = 14
	codeConstraint = 19
	codeNotADB     = 26
)

// Error is an error reported by SQLite. It matches, with [errors.Is], the sentinel of its class
// ([ErrBusy], [ErrConstraint], [ErrInterrupted], [ErrReadOnly], [ErrCantOpen], [ErrCorrupt],
// else [ErrSQL]), and unwraps to the driver's own error.
type Error struct {
	Code         int    // primary result code, https://sqlite.org/rescode.html
	ExtendedCode int    // extended result code
	Message      string // SQLite's message
	SQL          string // the statement, where known
	Err          error  // the driver's error
}

func (e *Error) Error() string {
	if e.SQL != "" {
		return fmt.Sprintf("actorlite: %s (in %q)", e.Message, e.SQL)
	}
	return "actorlite: " + e.Message
}

// Unwrap returns the driver's error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's class.
func (e *Error) Is(target error) bool { return target == e.class() }

func (e *Error) class() error {
	switch e.Code {
	case codeBusy, codeLocked:
		return ErrBusy
	case codeConstraint:
		return ErrConstraint
	case codeInterrupt:
		return ErrInterrupted
	case codeReadOnly:
		return ErrReadOnly
	case codeCantOpen:
		return ErrCantOpen
	case codeCorrupt, codeNotADB:
		return ErrCorrupt
	default:
		return ErrSQL
	}
}

// ArgError is a bound argument that could not be used. It wraps [ErrBadArgument].
type ArgError struct {
	Pos    int    // 1-based position of the argument; 0 when the count is wrong
	Type   string // the Go type of the argument, e.g. "chan int"
	Reason string
}

func (e *ArgError) Error() string {
	if e.Pos == 0 {
		return "actorlite: bad arguments: " + e.Reason
	}
	return fmt.Sprintf("actorlite: argument %d of type %s: %s", e.Pos, e.Type, e.Reason)
}

// Unwrap returns [ErrBadArgument].
func (e *ArgError) Unwrap() error { return ErrBadArgument }

// ScanError is a value that [Row.Scan] could not store. It wraps [ErrScan].
type ScanError struct {
	Column int    // 0-based column index; -1 when the destination count is wrong
	Name   string // column name
	Dest   string // destination type, e.g. "*int64"
	Reason string
}

func (e *ScanError) Error() string {
	if e.Column < 0 {
		return "actorlite: scan: " + e.Reason
	}
	return fmt.Sprintf("actorlite: scan column %d (%s) into %s: %s", e.Column, e.Name, e.Dest, e.Reason)
}

// Unwrap returns [ErrScan].
func (e *ScanError) Unwrap() error { return ErrScan }

// EventError is an event that failed validation, or decoding from JSON. It wraps
// [ErrBadEvent]: the caller's input is at fault (an HTTP service answers 400).
type EventError struct {
	// Index is the event's index in the InsertEvents call (0 for InsertEvent), or -1 when
	// the call is refused as a whole: Field "Events" when its events together are larger
	// than the queue holds; no Field when [ParseEvents] found no list of events.
	Index int
	// Total is how many events the call had (0: not known, as from [Event.Validate]). The
	// error's text names the event's index only when the call had more than one.
	Total int
	// Field is the Go name of the field at fault ("UserID", "Name", "Properties",
	// "Timestamp", "IdempotencyKey"), "Events", or "" when the event is not an object.
	Field string
	// JSONField is the same field's name in the event's JSON form ("user_id", "name",
	// "properties", "timestamp", "idempotency_key"); "" for Events or no field.
	JSONField string
	Reason    string
}

func (e *EventError) Error() string {
	field := e.Field
	switch {
	case e.JSONField != "" && e.JSONField != e.Field:
		field = e.JSONField + " (" + e.Field + ")"
	case field == "":
		field = e.JSONField
	}
	if field != "" {
		field += ": "
	}
	switch {
	case e.Index < 0:
		return fmt.Sprintf("actorlite: bad events: %s%s", field, e.Reason)
	case e.Total > 1 || (e.Total == 0 && e.Index > 0):
		if e.Total > 1 {
			return fmt.Sprintf("actorlite: bad event %d of %d: %s%s", e.Index, e.Total, field, e.Reason)
		}
		return fmt.Sprintf("actorlite: bad event %d: %s%s", e.Index, field, e.Reason)
	}
	return fmt.Sprintf("actorlite: bad event: %s%s", field, e.Reason)
}

// Unwrap returns [ErrBadEvent].
func (e *EventError) Unwrap() error { return ErrBadEvent }

// ConfigError is a configuration the supervisor (or a writer, a pool) cannot run with: the
// program's mistake, not its callers'. It wraps [ErrConfig].
type ConfigError struct {
	Field  string // the setting at fault, e.g. "Events.Table"
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("actorlite: bad configuration: %s: %s", e.Field, e.Reason)
}

// Unwrap returns [ErrConfig].
func (e *ConfigError) Unwrap() error { return ErrConfig }

// CrashError is the error a request gets when the connection actor crashed, either while
// running it (the request that crashed it) or before (a cursor it invalidated). It wraps
// [ErrCrashed] and, when the panic value is an error, that error too.
type CrashError struct {
	DSN   string // the connection's DSN
	Panic any    // the panic value
}

func (e *CrashError) Error() string {
	return fmt.Sprintf("actorlite: connection %s crashed: %v", e.DSN, e.Panic)
}

// Unwrap returns [ErrCrashed] and the panic value if it is an error.
func (e *CrashError) Unwrap() []error {
	if err, ok := e.Panic.(error); ok {
		return []error{ErrCrashed, err}
	}
	return []error{ErrCrashed}
}
