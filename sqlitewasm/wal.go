package sqlitewasm

import "github.com/ncruces/go-sqlite3"

// SetWALHook calls fn after each commit that wrote to the main database's WAL, with the frames
// the WAL then holds (https://sqlite.org/c3ref/wal_hook.html). Setting it ends SQLite's
// automatic checkpoints on this connection (PRAGMA wal_autocheckpoint): whoever set it
// checkpoints. fn runs within the commit, on the connection's goroutine; it must not use the
// connection. nil removes it, and automatic checkpoints with it until the pragma is set again.
func (c *Conn) SetWALHook(fn func(frames int)) {
	if fn == nil {
		c.db.WALHook(nil)
		return
	}
	c.db.WALHook(func(_ *sqlite3.Conn, schema string, frames int) error {
		if schema == "main" {
			fn(frames)
		}
		return nil
	})
}

// Checkpoint runs a PASSIVE checkpoint of the main database's WAL: it copies as many committed
// frames into the database file as it can without waiting for any reader or writer, and syncs
// the file as the connection's synchronous setting asks
// (https://sqlite.org/c3ref/wal_checkpoint_v2.html). It returns the frames in the WAL and how
// many of them are now in the database file. Another connection's checkpoint under way makes
// it fail with an error wrapping [messages.ErrBusy].
func (c *Conn) Checkpoint() (frames, done int, err error) {
	frames, done, err = c.db.WALCheckpoint("main", sqlite3.CHECKPOINT_PASSIVE)
	return frames, done, wrapErr(err, "")
}
