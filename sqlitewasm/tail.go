package sqlitewasm

import (
	"fmt"
	"strings"

	"github.com/actorlite/actorlite/messages"
)

// trivia reports whether sql holds nothing SQLite would run: only spaces, comments and
// semicolons, as SQLite's tokenizer reads them (tokenize.c). It decides whether the text
// after a prepared statement is a second statement without preparing it, which matters:
// SQLite applies some pragmas (synchronous, foreign_keys, query_only, busy_timeout, …) while
// it prepares them, so preparing a tail only to refuse it would already have changed the
// connection.
//
// Whitespace is what SQLite's tokenizer takes as space: ' ', '\t', '\n', '\f', '\r', and
// '\v' too once a run of spaces has begun (never a non-ASCII space). A line comment runs to
// '\n'; a block comment to "*/" or the end of the text, except a "/*" that ends the text (or
// meets a NUL), which SQLite reads as a slash. A NUL byte is not trivia: SQLite would stop
// reading there and silently ignore the rest.
func trivia(sql string) bool {
	for i := 0; i < len(sql); {
		if sql[i] == ';' {
			i++
			continue
		}
		j := skipSpace(sql, i)
		if j == i {
			return false
		}
		i = j
	}
	return true
}

// skipSpace returns the offset of the first byte at or after i that is not a space or part
// of a comment, as SQLite's tokenizer reads them (see trivia).
func skipSpace(sql string, i int) int {
	for i < len(sql) {
		switch c := sql[i]; {
		case isSpace(c):
			// A run of spaces goes on through sqlite3Isspace's set, which adds '\v'.
			for i++; i < len(sql) && (isSpace(sql[i]) || sql[i] == '\v'); i++ {
			}
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			// The comment ends before its newline, which starts a run of spaces: a '\v'
			// right after it goes on with that run.
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return len(sql)
			}
			i += j
		case c == '/' && i+2 < len(sql) && sql[i+1] == '*' && sql[i+2] != 0:
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return len(sql)
			}
			i += j + 4
		default:
			return i
		}
	}
	return i
}

// FirstKeyword returns the first token of sql, upper-cased, when it is a keyword or a plain
// identifier (ASCII letters, digits and '_'), after the spaces and comments SQLite's tokenizer
// skips, and the text after it; "" when sql holds no such token first. It reads a statement's
// verb (BEGIN, COMMIT, ROLLBACK TO, …) without preparing it: see trivia for why that matters.
func FirstKeyword(sql string) (keyword, rest string) {
	word, i := plainIdent(sql, skipSpace(sql, 0))
	return strings.ToUpper(word), sql[i:]
}

// barePragma returns the name, in lower case, of the pragma sql's first statement reads when
// that statement is only "PRAGMA [schema.]name" (no value, nothing else before its ';'), or "".
func barePragma(sql string) string {
	i := skipSpace(sql, 0)
	if len(sql)-i < 6 || !strings.EqualFold(sql[i:i+6], "pragma") {
		return ""
	}
	i += 6
	j := skipSpace(sql, i)
	if j == i {
		return "" // PRAGMA must be followed by a space or comment, not run into the name
	}
	name, i := plainIdent(sql, j)
	if name == "" {
		return ""
	}
	if k := skipSpace(sql, i); k < len(sql) && sql[k] == '.' {
		if name, i = plainIdent(sql, skipSpace(sql, k+1)); name == "" {
			return ""
		}
	}
	if i = skipSpace(sql, i); i < len(sql) && sql[i] != ';' {
		return ""
	}
	return strings.ToLower(name)
}

// plainIdent returns the plain identifier ([A-Za-z_][A-Za-z0-9_]*) at sql[i:] and the offset after it.
func plainIdent(sql string, i int) (string, int) {
	j := i
	for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || j > i && sql[j] >= '0' && sql[j] <= '9') {
		j++
	}
	return sql[i:j], j
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// nulError explains SQL text that SQLite would read only up to a NUL byte in it.
func nulError(sql string) error {
	if i := strings.IndexByte(sql, 0); i >= 0 {
		return &messages.Error{Code: 1, ExtendedCode: 1, SQL: sql,
			Message: fmt.Sprintf("SQL text holds a NUL byte at offset %d: SQLite would ignore what follows it", i)}
	}
	return nil
}
