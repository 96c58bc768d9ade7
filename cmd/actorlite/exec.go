package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/actorlite/actorlite/actors"
)

func execCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("exec", "actorlite exec [-format table|csv|json] [-text] DB SQL [ARGS...]", `
Runs one SQL statement on the database file DB (created if missing) through a connection
actor, and prints the rows it returns to stdout. ARGS are bound to the statement's
parameters (?, ?NNN, :name, @name, $name, in order): an argument that parses as a 64-bit
integer is bound as an INTEGER, else one that parses as a decimal float as a REAL, else as
TEXT; no digit is lost: an integer beyond 64 bits (12345678901234567891), or a decimal with
more significant digits than a REAL keeps, is bound as TEXT.
With -text every argument is bound as TEXT, as written ("007" stays "007").

A statement that returns no rows (INSERT, CREATE, ...) prints one row: changes and
last_insert_id. Flags go before SQL: everything after SQL is an argument.

Formats: table (aligned, NULL shown as NULL, blobs as x'hex'); csv (a header, then RFC 4180
records, NULL empty); json (an array of objects by column name, blobs as base64).`, `
  actorlite exec analytics.db "SELECT name, count(*) FROM events GROUP BY name"
  actorlite exec -format json analytics.db "SELECT * FROM events WHERE user_id = ? LIMIT ?" user-1 10
  actorlite exec -format csv analytics.db "SELECT * FROM events" > events.csv
  actorlite exec notes.db "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"
  actorlite exec notes.db "INSERT INTO notes (body) VALUES (?)" "hello, world"`)
	format := fs.String("format", formatTable, "output format: table, csv or json")
	text := fs.Bool("text", false, "bind every ARG as TEXT, as it is written")
	// Flags may come before DB and between DB and SQL, not after SQL: "-5" is an argument.
	var pos []string
	rest := args
	for len(pos) < 2 && len(rest) > 0 {
		p, err := parseFlags(fs, rest, false, stdout, stderr)
		if err != nil {
			return err
		}
		if len(p) == 0 {
			break
		}
		if consumed := rest[:len(rest)-len(p)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			pos, rest = append(pos, p...), nil // everything after "--" is positional
			break
		}
		pos, rest = append(pos, p[0]), p[1:]
	}
	pos = append(pos, rest...)
	if err := checkFormat(*format); err != nil {
		return &usageError{cmd: "exec", msg: err.Error()}
	}
	if len(pos) < 2 {
		return &usageError{cmd: "exec", msg: "want DB and SQL"}
	}
	dbPath, sql := pos[0], pos[1]
	var params []any
	if *text {
		for _, a := range pos[2:] {
			params = append(params, a)
		}
	} else {
		params = parseArgs(pos[2:])
	}

	s, db, err := openDB(ctx, dbPath)
	if err != nil {
		return err
	}
	defer s.Stop(context.WithoutCancel(ctx))
	cur, err := db.Query(ctx, sql, params...)
	if err != nil {
		return err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	if len(cur.Columns()) == 0 {
		// No rows: report what it changed. The connection is this command's alone, so
		// changes() is this statement's.
		if cur, err = db.Query(ctx, "SELECT changes() AS changes, last_insert_rowid() AS last_insert_id"); err != nil {
			return err
		}
	}
	out := bufio.NewWriter(stdout)
	if _, err := writeCursor(ctx, out, *format, cur); err != nil {
		out.Flush()
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return s.Stop(ctx)
}

// parseArgs turns command-line arguments into statement arguments: int64 if the text parses
// as an integer, else float64 if it parses as a decimal float that keeps every significant
// digit written, else the string itself. No digit is lost: an integer beyond int64
// ("12345678901234567891") or a decimal with more digits than a float64 holds
// ("0.12345678901234567891") is bound as TEXT.
func parseArgs(args []string) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if n, err := strconv.ParseInt(a, 10, 64); err == nil {
			out[i] = n
		} else if f, err := strconv.ParseFloat(a, 64); err == nil && isDecimal(a) && sameDigits(a, f) {
			out[i] = f
		} else {
			out[i] = a
		}
	}
	return out
}

// isDecimal reports whether a is a decimal number as SQL writes one: digits with an optional
// sign, point and exponent (no hex, no '_', no Inf or NaN).
func isDecimal(a string) bool {
	a = strings.TrimLeft(a, "+-")
	if a == "" {
		return false
	}
	for _, c := range a {
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

// sameDigits reports whether f, the float64 nearest to the decimal a, keeps all of a's
// significant digits.
func sameDigits(a string, f float64) bool {
	return significand(a) == significand(strconv.FormatFloat(f, 'e', -1, 64))
}

// significand returns the significant digits of a decimal: no sign, point, exponent, nor
// leading and trailing zeros.
func significand(s string) string {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.ReplaceAll(strings.TrimLeft(s, "+-"), ".", "")
	return strings.TrimRight(strings.TrimLeft(s, "0"), "0")
}

func dumpCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dump", "actorlite dump DB", `
Prints SQL text that recreates the database file DB, like sqlite3's .dump: its tables with
their rows, then its indexes, triggers and views, from one consistent snapshot, in one
transaction. The database is opened read-only. Feed the text to "actorlite shell" (or
sqlite3) to rebuild it.`, `
  actorlite dump analytics.db > analytics.sql
  actorlite dump analytics.db | actorlite shell copy.db
  actorlite dump analytics.db | gzip > backup.sql.gz`)
	pos, err := parseFlags(fs, args, true, stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{cmd: "dump", msg: "want exactly one DB"}
	}
	dbPath := pos[0]
	if !strings.HasPrefix(dbPath, "file:") {
		if _, err := os.Stat(dbPath); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("dump: %s: no such database file", dbPath)
			}
			return fmt.Errorf("dump: %w", err)
		}
	}
	s, db, err := openDB(ctx, dbPath, actors.WithReadOnly())
	if err != nil {
		return err
	}
	defer s.Stop(context.WithoutCancel(ctx))
	out := bufio.NewWriterSize(stdout, 64<<10)
	if err := db.Dump(ctx, out); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return s.Stop(ctx)
}
