// Package messages is actorlite's protocol: the requests a connection actor (and, for events,
// the supervisor) accepts, their typed replies, the values they carry ([Row], [Column],
// [Result], [Event]) and the sentinel errors. It imports only the standard library, so an
// actor in another codebase can speak the protocol without the handles of package actors.
//
// # Requests and replies
//
// Every request is a pointer to a struct of this package and gets exactly one reply, whose Err
// field says whether it failed (match it with errors.Is against the sentinels below). Every
// request also has the fields Ctx, ReplyTo, ID and Deadline (see [Request]); every reply has
// ID, the ID of the request it answers.
//
//	request                                   reply             what it does
//	*Exec{SQL, Args}                          *ExecReply        runs one statement; Result has the last insert id and rows changed
//	*ExecMany{SQL, Args [][]any}              *ExecReply        one statement per argument list, one prepared statement, one transaction
//	*ExecScript{SQL}                          *ExecReply        runs a script of statements, without arguments
//	*Query{SQL, Args, FetchSize, OneRow}      *Rows             runs a query; the first FetchSize rows ride on the reply
//	*Fetch{Cursor, N}                         *Rows             the next N rows of an open cursor (N <= 0: all)
//	*CloseCursor{Cursor}                      *Ack              closes a cursor early
//	*Begin{Mode}                              *Ack              opens a transaction (Deferred, Immediate, Exclusive)
//	*Commit{}, *Rollback{}                    *Ack              ends it
//	*TxStatus{}                               *TxStatusReply    whether a transaction is open
//	*Backup{Dest}                             *Ack              copies the database to the file Dest
//	*Dump{W}                                  *Ack              writes SQL text that recreates the database to W
//	*Serialize{}                              *BlobReply        the database file's bytes, in Data
//	*Deserialize{Data}                        *Ack              replaces the database with Data
//	*TotalChanges{}                           *ExecReply        rows changed since the connection opened, in Result.RowsAffected
//	*CreateFunction{Name, NArgs, Fn, Flags}   *Ack              registers a scalar SQL function
//	*CreateAggregate{Name, NArgs, New, …}     *Ack              registers an aggregate (or window) function
//	*CreateCollation{Name, Cmp}               *Ack              registers a collating sequence
//	*SetAuthorizer{Fn}                        *Ack              installs the statement authorizer
//	*SetTrace{Fn}                             *Ack              installs the statement trace
//	*SetProgressHandler{Steps, Fn}            *Ack              installs the progress handler
//	*SetUpdateHook{Subscriber or Fn}          *Ack              installs the change feed: a *RowChanges per commit to Subscriber
//	*OpenBlob{Table, Column, RowID, Write}    *BlobReply        opens a blob for incremental I/O; Blob names it
//	*BlobRead{Blob, Offset, N}                *BlobReply        reads from it, into Data
//	*BlobWrite{Blob, Offset, Data}            *BlobReply        writes to it
//	*CloseBlob{Blob}                          *Ack              closes it
//	*Close{}                                  *Ack              closes the connection; the actor stops
//	*InsertEvents{Events}                     *EventsAck        to the supervisor: stores events, acked after their commit
//
// An actor gets a connection's PID without blocking by asking the supervisor for one: the
// OpenConn and OpenPoolConns messages of package supervisor (which, carrying actor options
// and PIDs, cannot live here). A connection opened so lives until it gets a [Close].
//
// A [Rows] reply whose Done is false leaves a cursor open in the actor, named by Rows.Cursor:
// send [Fetch] until a reply has Done set (the cursor then closes by itself), or [CloseCursor].
// An open cursor holds a read snapshot, which keeps WAL checkpoints from completing.
//
// # Asking
//
// Actors send requests with Request or RequestFuture; the connection answers the sender with
// Respond. To stay non-blocking, an actor handles the reply as a message, or continues with
// ReenterAfter; the Ask function of package actors does the latter in one call:
//
//	func (a *reporter) Receive(ctx actor.Context) {
//		switch ctx.Message().(type) {
//		case *actor.Started:
//			q := &messages.Query{SQL: "SELECT name FROM events WHERE user_id = ?", Args: []any{"u1"}}
//			actors.Ask(ctx, a.db, q, 5*time.Second, func(rows *messages.Rows, err error) {
//				if err != nil {
//					return // the query failed, or no reply came in time (the query was stopped)
//				}
//				for _, r := range rows.Rows { … r.Get("name") … }
//			})
//		}
//	}
//
// Several requests in flight, their replies coming as messages: give each an ID, which its
// reply carries back. A future's timeout does not reach the connection: set Deadline to the
// same time (Ask does), and the connection skips the request if it is still queued then, or
// interrupts it if it runs, as it does when a handle's ctx ends.
//
// The handles of package actors set ReplyTo, a channel with a buffer of 1, instead: faster
// than a future, and they can wait on it and on their ctx at once. Ctx is the caller's
// context: the actor skips a request whose Ctx is done before it starts (no effect) and
// interrupts one that is running. It may be nil. Fields of a message belong to the receiver
// once sent: the sender must not change them.
//
// # Bounds
//
// A connection holds at most MaxPending requests in flight (supervisor.Config; 1,024 by
// default), and MaxPendingBytes of large ones, from handles and actors together. A handle's
// call waits for room, honouring its ctx; an actor must not block, so its request is answered
// at once with an error wrapping [ErrOverloaded] and has no effect. A request an actor sends
// after a Close is answered at once with [ErrClosed].
//
// # Values
//
// A [Row] is a read-only view on the chunk of rows a [Rows] reply carries: read it with Get,
// Index, Scan, Values or Map. [Column] describes a result's columns, and [Result] what a
// statement changed. A time.Time argument is stored as [TimeLayout] text, in UTC, so that
// text order is time order: [CheckTime] says whether a time can be (its year must be 0000 to
// 9999), and [ParseTime] reads that text, and SQLite's own forms, back. An [Event] is what
// [InsertEvents] stores, and [Event.Validate] says what it must hold.
//
// # Change feed
//
// An actor follows a connection's committed changes by sending it
// &SetUpdateHook{Subscriber: ctx.Self()} (a *actor.PID is a [PID]); the connection replies
// [*Ack]. From then on, after each commit that changed rows, the connection sends the
// subscriber one [*RowChanges]: not a reply, a message of its own, with no sender. It says
// which connection committed (Conn, DSN) and lists the rows changed, in order. A
// rolled-back transaction sends nothing. The subscription survives a crash of the
// connection; a SetUpdateHook with no Subscriber (and no Fn) ends it.
//
//	case *messages.RowChanges:
//		for _, rc := range m.Changes { … m.DSN, rc.Op, rc.Table, rc.RowID … }
//
// # Crashes and closing
//
// If a request crashes the connection actor (a panic in a user function, say), the
// connection answers it with an error wrapping [ErrCrashed], through ReplyTo or to the sender,
// before its supervisor restarts it (whichever supervisor that is: actorlite's, or a program's
// own parent); requests queued behind it are served after the restart. Nothing sent to a
// connection is dropped: what is still queued when it stops, or arrives after, is answered
// with [ErrClosed] (wrapping [ErrCrashed] too when a crash stopped it, whose PID then keeps
// answering so until its handle is closed). A request sent to the PID of a connection its
// owner closed is a dead letter, as for any stopped actor: RequestFuture fails with
// actor.ErrDeadLetter (Ask reports [ErrClosed]). So is one sent in the instant between
// protoactor unregistering a crashed connection's PID and actorlite registering what answers
// in its place (a few instructions). See package supervisor for the whole story.
package messages
