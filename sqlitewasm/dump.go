package sqlitewasm

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/actorlite/actorlite/messages"
)

// Dump writes SQL text that recreates the main database, like sqlite3's .dump and Python's
// iterdump: the tables with their rows, then indexes, triggers and views, in one transaction.
// It reads one consistent snapshot (inside a savepoint, so it also works inside an open
// transaction, where it sees that transaction's changes). Values are written by SQLite's
// quote(), as by sqlite3's .dump, except the two it loses: a text holding a NUL (written as
// CAST(X'…' AS TEXT)) and the real -0.0. Every value comes back with its type and its bytes.
func (c *Conn) Dump(w io.Writer) (err error) {
	if err := c.execOwnTx("SAVEPOINT actorlite_dump"); err != nil {
		return err
	}
	defer func() {
		// Even when the dump was interrupted (its ctx is done, or its writer failed): a
		// savepoint left open would be a transaction left open.
		old := c.db.SetInterrupt(context.Background())
		rerr := c.execOwnTx("RELEASE actorlite_dump")
		c.db.SetInterrupt(old)
		if err == nil {
			err = rerr
		}
	}()
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := c.dump(bw); err != nil {
		return err
	}
	return bw.Flush()
}

type schemaEntry struct{ name, typ, sql string }

func (c *Conn) schema(where string) ([]schemaEntry, error) {
	var out []schemaEntry
	err := c.eachRow(`SELECT name, type, sql FROM sqlite_schema WHERE sql NOT NULL AND `+where+` ORDER BY rowid`, nil,
		func(row messages.Row) error {
			var e schemaEntry
			if err := row.Scan(&e.name, &e.typ, &e.sql); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	return out, err
}

// eachRow runs a query and calls fn on each of its rows, read a chunk at a time.
func (c *Conn) eachRow(sql string, args []any, fn func(messages.Row) error) error {
	r, err := c.Query(sql, args)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		b := newBuilder(r)
		done, err := r.Next(&b, 512)
		if err != nil {
			return err
		}
		for _, row := range b.Rows() {
			if err := fn(row); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

func (c *Conn) dump(w *bufio.Writer) error {
	w.WriteString("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")
	tables, err := c.schema("type = 'table'")
	if err != nil {
		return err
	}
	writable := false
	for _, t := range tables {
		switch {
		case t.name == "sqlite_sequence":
			w.WriteString("DELETE FROM sqlite_sequence;\n")
		case t.name == "sqlite_stat1":
			w.WriteString("ANALYZE sqlite_schema;\n")
		case strings.HasPrefix(t.name, "sqlite_"):
			continue
		case strings.HasPrefix(strings.ToUpper(t.sql), "CREATE VIRTUAL TABLE"):
			if !writable {
				w.WriteString("PRAGMA writable_schema=ON;\n")
				writable = true
			}
			fmt.Fprintf(w, "INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql) VALUES('table',%s,%s,0,%s);\n",
				quote(t.name), quote(t.name), quote(t.sql))
			continue
		default:
			fmt.Fprintf(w, "%s;\n", t.sql)
		}
		if err := c.dumpRows(w, t.name); err != nil {
			return err
		}
	}
	others, err := c.schema("type IN ('index', 'trigger', 'view')")
	if err != nil {
		return err
	}
	for _, o := range others {
		fmt.Fprintf(w, "%s;\n", o.sql)
	}
	if writable {
		// RESET also reloads the schema, so that the connection that ran the dump sees the
		// virtual tables it inserted into sqlite_schema (OFF would leave them to new connections).
		w.WriteString("PRAGMA writable_schema=RESET;\n")
	}
	_, err = w.WriteString("COMMIT;\n")
	return err
}

// dumpRows writes an INSERT per row of table, its values written by [literal].
func (c *Conn) dumpRows(w *bufio.Writer, table string) error {
	var names, quoted []string
	err := c.eachRow(`SELECT name FROM pragma_table_info(?)`, []any{table}, func(row messages.Row) error {
		var n string
		if err := row.Scan(&n); err != nil {
			return err
		}
		names = append(names, ident(n))
		quoted = append(quoted, literal(ident(n)))
		return nil
	})
	if err != nil || len(names) == 0 {
		return err
	}
	prefix := fmt.Sprintf("INSERT INTO %s(%s) VALUES(", ident(table), strings.Join(names, ","))
	return c.eachRow(fmt.Sprintf("SELECT %s FROM %s", strings.Join(quoted, "||','||"), ident(table)), nil,
		func(row messages.Row) error {
			var vals string
			if err := row.Scan(&vals); err != nil {
				return err
			}
			w.WriteString(prefix)
			w.WriteString(vals)
			_, err := w.WriteString(");\n")
			return err
		})
}

// literal is the SQL expression that writes the value of column col as an SQL literal that
// gives the value back: SQLite's quote(), as in sqlite3's .dump, except for two values that
// quote() (and sqlite3's .dump) cannot write:
//   - A text holding a NUL: quote() stops at the first NUL, so such a text is written as
//     CAST(X'…' AS TEXT), its bytes in the database's text encoding. Text that is not valid
//     UTF-8 needs no such form: quote() copies its bytes, and SQLite reads them back unchanged.
//   - The real -0.0 (which only a column of BLOB affinity keeps): quote() writes 0.0. It is
//     told from 0.0 by the sign of atan2(-0.0, -1), which is -π.
//
// The checks cost a typeof() per value and an instr() scan per text, which a dump of short
// values feels (bench/README.md, "Measured in package sqlitewasm", says how much).
func literal(col string) string {
	return fmt.Sprintf(`CASE typeof(%[1]s)
	WHEN 'text' THEN iif(instr(%[1]s, char(0)), 'CAST(X''' || hex(%[1]s) || ''' AS TEXT)', quote(%[1]s))
	WHEN 'real' THEN iif(%[1]s = 0 AND atan2(%[1]s, -1) < 0, '-0.0', quote(%[1]s))
	ELSE quote(%[1]s) END`, col)
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quote(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }
