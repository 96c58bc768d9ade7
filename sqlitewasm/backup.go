package sqlitewasm

import (
	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3/ext/serdes"
)

// Backup copies the main database to the file dest (created or overwritten) in one step.
// https://sqlite.org/backup.html
func (c *Conn) Backup(dest string) error {
	if dest == "" {
		return &messages.ArgError{Reason: "empty backup destination"}
	}
	if err := checkPath(dest); err != nil {
		return err
	}
	return wrapErr(c.db.Backup("main", dest), "")
}

// Serialize returns the bytes of the main database, as a database file holds them.
func (c *Conn) Serialize() ([]byte, error) {
	data, err := serdes.Serialize(c.db, "main")
	return data, wrapErr(err, "")
}

// Deserialize replaces the main database with data (the bytes of a database file).
func (c *Conn) Deserialize(data []byte) error {
	if len(data) == 0 {
		return &messages.ArgError{Reason: "no data to deserialize"}
	}
	return wrapErr(serdes.Deserialize(c.db, "main", data), "")
}
