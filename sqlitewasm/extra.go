package sqlitewasm

import (
	"fmt"
	"strings"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	"github.com/ncruces/go-sqlite3/ext/rtree"
)

// Extension names for [Config].Extensions.
const (
	ExtFTS5  = "fts5"  // full-text search, https://sqlite.org/fts5.html
	ExtRTree = "rtree" // R*Tree and geopoly, https://sqlite.org/rtree.html
)

// checkExtensions returns an [*messages.ArgError] for the first name that is not a bundled
// extension: Open checks the names before it runs anything.
func checkExtensions(names []string) error {
	for _, name := range names {
		switch strings.ToLower(name) {
		case ExtFTS5, ExtRTree:
		default:
			return &messages.ArgError{Reason: fmt.Sprintf("unknown extension %q (bundled: fts5, rtree; JSON and math functions are built in)", name)}
		}
	}
	return nil
}

func (c *Conn) loadExtensions(names []string) error {
	if err := checkExtensions(names); err != nil {
		return err
	}
	for _, name := range names {
		var err error
		switch strings.ToLower(name) {
		case ExtFTS5:
			err = fts5.Register(c.db)
		case ExtRTree:
			err = rtree.Register(c.db)
		}
		if err != nil {
			return fmt.Errorf("actorlite: loading %s: %w", name, wrapErr(err, ""))
		}
	}
	return nil
}
