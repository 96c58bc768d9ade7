// Package messages is actorlite's protocol: the requests a connection actor (and, for events,
// the supervisor) accepts, their typed replies, the values they carry ([Row], [Column],
// [Result], [Event]) and the sentinel errors. It imports only the standard library, so an
// actor in another codebase can speak the protocol without the handles of package actors.
//
// # Requests and replies
//
// Every request is a pointer to a struct of this package and gets exactly one reply, whose Err
// field says whether it failed (match it with errors.Is against the sentinels below).
//
//	request                              reply            what it does
//	*Exec{Ctx, SQL, Args}                *ExecReply       runs one statement; Result has the last insert id and rows changed
//	*ExecMany{Ctx, SQL, Args [][]any}    *ExecReply       one statement per argument list, one prepared statement, one transaction
//	*ExecScript{Ctx, SQL}                *ExecReply       runs a script of statements, without arguments
//	*Query{Ctx, SQL, Args, FetchSize}    *Rows            runs a query; the first FetchSize rows ride on the reply
//	*Fetch{Ctx, Cursor, N}               *Rows            the next N rows of an open cursor (N <= 0: all)
//	*CloseCursor{Cursor}                 *Ack             closes a cursor early
//	*Begin{Ctx, Mode}                    *Ack             opens a transaction (Deferred, Immediate, Exclusive)
//	*Commit{Ctx}, *Rollback{Ctx}         *Ack             ends it
//	*TxStatus{Ctx}                       *TxStatusReply   whether a transaction is open
//	*Backup{Ctx, Dest}                   *Ack             copies the database to the file Dest
//	*CreateFunction{Ctx, Name, NArgs, Fn} *Ack            registers a scalar SQL function
//	*Close{}                             *Ack             closes the connection; the actor stops
//	*InsertEvents{Ctx, Events}           *EventsAck       to the supervisor: stores events, acked after their commit
//
// A [Rows] reply whose Done is false leaves a cursor open in the actor, named by Rows.Cursor:
// send [Fetch] until a reply has Done set (the cursor then closes by itself), or [CloseCursor].
// An open cursor holds a read snapshot, which keeps WAL checkpoints from completing.
//
// # Asking
//
// Actors send requests with Request or RequestFuture; the connection answers the sender with
// Respond. To stay non-blocking, an actor handles the reply as a message, or continues with
// ReenterAfter:
//
//	func (a *reporter) Receive(ctx actor.Context) {
//		switch ctx.Message().(type) {
//		case *actor.Started:
//			f := ctx.RequestFuture(a.db, &messages.Query{SQL: "SELECT name FROM events WHERE user_id = ?", Args: []any{"u1"}}, 5*time.Second)
//			ctx.ReenterAfter(f, func(res any, err error) {
//				if err != nil {
//					return // the actor did not answer in time
//				}
//				rows := res.(*messages.Rows)
//				if rows.Err != nil { … }
//				for _, r := range rows.Rows { … r.Get("name") … }
//			})
//		}
//	}
//
// The handles of package actors set ReplyTo, a channel with a buffer of 1, instead: faster
// than a future, and they can wait on it and on their ctx at once. Ctx is the caller's
// context: the actor skips a request whose Ctx is done before it starts (no effect) and
// interrupts one that is running. It may be nil. Fields of a message belong to the receiver
// once sent: the sender must not change them.
//
// # Crashes
//
// If a request crashes the connection actor (a panic in a user function, say), the
// supervisor answers it with an error wrapping [ErrCrashed], through ReplyTo or to the sender,
// and restarts the actor; requests queued behind it are served after the restart. See package
// supervisor for the whole story.
package messages
