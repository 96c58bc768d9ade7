package sqlitewasm

import (
	"context"
)

// SetInterrupt makes SQLite interrupt what the connection runs when ctx is done, and returns
// the previous context, to restore afterwards. nil means [context.Background].
// https://sqlite.org/c3ref/interrupt.html
func (c *Conn) SetInterrupt(ctx context.Context) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return c.db.SetInterrupt(ctx)
}

// PreCheck reports (and clears) whether the interrupt check being made is the one go-sqlite3
// makes before it prepares or steps a statement, rather than one from SQLite's progress
// callback (every 1,000 instructions). A progress handler counts only the latter.
func (c *Conn) PreCheck() bool {
	p := c.precheck
	c.precheck = false
	return p
}
