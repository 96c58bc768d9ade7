package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/actorlite/actorlite/actors"
)

const shellHelp = `.dump                  print SQL text that recreates the database
.help                  this help
.mode [table|csv|json] show or set the output format (default table)
.quit, .exit           leave the shell (so does end of input, Ctrl-D)
.schema [TABLE]        the CREATE statements of the database, or of TABLE and its indexes and triggers
.tables                the names of the tables and views
.timer on|off          print how long each statement took (to stderr)
`

func shellCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("shell", "actorlite shell [-mode table|csv|json] [-bail] DB", `
An SQL shell on the database file DB (created if missing), through one connection actor.
Statements end with ';' and may span lines; results print as aligned tables (or csv, json).
Dot commands, at the start of a line:

`+shellHelp+`
When stdin is not a terminal, the shell reads it as a script: no prompts, each error
printed with its line number and the script goes on (-bail stops at the first), and the
exit code is 1 if any statement failed. Interactively, Ctrl-C interrupts the running
statement; input is plain lines (your terminal's own editing applies; no history).`, `
  actorlite shell analytics.db
  echo "SELECT count(*) FROM events;" | actorlite shell analytics.db
  actorlite shell -mode csv analytics.db < report.sql > report.csv
  actorlite dump old.db | actorlite shell new.db`)
	mode := fs.String("mode", formatTable, "output format: table, csv or json")
	bail := fs.Bool("bail", false, "stop at the first error (scripts)")
	pos, err := parseFlags(fs, args, true, stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{cmd: "shell", msg: "want exactly one DB"}
	}
	if err := checkFormat(*mode); err != nil {
		return &usageError{cmd: "shell", msg: err.Error()}
	}
	s, db, err := openDB(ctx, pos[0])
	if err != nil {
		return err
	}
	defer s.Stop(context.WithoutCancel(ctx))
	sh := &shell{
		ctx: ctx, db: db, out: bufio.NewWriterSize(stdout, 32<<10), errw: stderr,
		mode: *mode, bail: *bail, interactive: isTerminal(stdin),
	}
	if sh.interactive {
		fmt.Fprintf(sh.out, "actorlite %s shell on %s (connection actor %s)\nEnter SQL statements ending in \";\", or .help.\n",
			version, pos[0], db.PID().Id)
		stop := sh.catchInterrupts()
		defer stop()
	}
	sh.loop(stdin)
	sh.out.Flush()
	if err := s.Stop(ctx); err != nil {
		return err
	}
	if sh.failed && !sh.interactive {
		return &exitError{code: 1}
	}
	return nil
}

type shell struct {
	ctx         context.Context
	db          *actors.Conn
	out         *bufio.Writer
	errw        io.Writer
	mode        string
	timer       bool
	bail        bool
	interactive bool
	failed      bool // a statement or command failed

	mu      sync.Mutex
	cancel  context.CancelFunc // of the running statement, nil between statements
	discard bool               // Ctrl-C at the prompt: drop the statement being typed
}

// errQuit ends the loop.
var errQuit = errors.New("quit")

// loop reads lines from in, runs each complete statement and dot command, until the end of
// in, .quit, or (with -bail) an error.
func (sh *shell) loop(in io.Reader) {
	r := bufio.NewReaderSize(in, 64<<10)
	var buf strings.Builder // the statement being read
	bufLine := 0            // line number of buf's first line
	lineNo := 0
	for {
		if sh.interactive {
			if buf.Len() == 0 {
				sh.out.WriteString("actorlite> ")
			} else {
				sh.out.WriteString("      ...> ")
			}
			sh.out.Flush()
		}
		line, rerr := r.ReadString('\n')
		if line == "" && rerr != nil {
			break
		}
		lineNo++
		if sh.interactive {
			sh.mu.Lock()
			if sh.discard {
				buf.Reset()
				sh.discard = false
			}
			sh.mu.Unlock()
		}
		if buf.Len() == 0 {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, ".") {
				if err := sh.dot(t, lineNo); errors.Is(err, errQuit) || (err != nil && sh.bail) {
					return
				}
				continue
			}
			bufLine = lineNo
		}
		buf.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			buf.WriteByte('\n')
		}
		stmts, rest, blank := splitSQL(buf.String())
		for _, st := range stmts {
			if err := sh.run(st.text, bufLine+st.line); err != nil && sh.bail {
				return
			}
		}
		buf.Reset()
		if !blank {
			buf.WriteString(rest)
			bufLine = lineNo - strings.Count(rest, "\n") + 1
		}
		if rerr != nil {
			break
		}
	}
	if rest := buf.String(); strings.TrimSpace(rest) != "" {
		// The input ended inside a statement: run it as it is (a missing final ';' is
		// common in one-liners), and let SQLite say what is wrong with it, if anything.
		if stmts, tail, blank := splitSQL(rest + ";"); len(stmts) > 0 {
			sh.run(stmts[0].text, bufLine+stmts[0].line)
		} else if !blank {
			sh.fail(bufLine, fmt.Errorf("incomplete SQL at the end of the input: %s", strings.TrimSpace(tail)))
		}
	}
	if sh.interactive {
		sh.out.WriteString("\n")
	}
}

// fail reports an error and remembers that something failed.
func (sh *shell) fail(line int, err error) {
	sh.failed = true
	sh.out.Flush()
	if sh.interactive {
		fmt.Fprintf(sh.errw, "Error: %s\n", errText(err))
	} else {
		fmt.Fprintf(sh.errw, "Error: near line %d: %s\n", line, errText(err))
	}
}

// run runs one statement and prints its rows.
func (sh *shell) run(sql string, line int) error {
	ctx, cancel := context.WithCancel(sh.ctx)
	defer cancel()
	sh.mu.Lock()
	sh.cancel = cancel
	sh.mu.Unlock()
	defer func() {
		sh.mu.Lock()
		sh.cancel = nil
		sh.mu.Unlock()
	}()
	t0 := time.Now()
	cur, err := sh.db.Query(ctx, sql)
	n := 0
	if err == nil {
		if len(cur.Columns()) > 0 {
			n, err = writeCursor(ctx, sh.out, sh.mode, cur)
		}
		cur.Close(context.WithoutCancel(ctx))
	}
	elapsed := time.Since(t0)
	sh.out.Flush()
	if errors.Is(err, context.Canceled) && sh.ctx.Err() == nil {
		err = errors.New("interrupted") // Ctrl-C
	}
	if sh.timer {
		fmt.Fprintf(sh.errw, "Run Time: %v (%d rows)\n", elapsed.Round(time.Microsecond), n)
	}
	if err != nil {
		sh.fail(line, err)
	}
	return err
}

// dot runs a dot command.
func (sh *shell) dot(cmd string, line int) error {
	fields := strings.Fields(cmd)
	name, args := fields[0], fields[1:]
	var err error
	switch name {
	case ".quit", ".exit", ".q":
		return errQuit
	case ".help":
		sh.out.WriteString(shellHelp)
	case ".mode":
		switch {
		case len(args) == 0:
			fmt.Fprintf(sh.out, "current output mode: %s\n", sh.mode)
		case len(args) == 1 && checkFormat(args[0]) == nil:
			sh.mode = args[0]
		default:
			err = fmt.Errorf("usage: .mode table|csv|json")
		}
	case ".timer":
		switch {
		case len(args) == 1 && (args[0] == "on" || args[0] == "1" || args[0] == "yes"):
			sh.timer = true
		case len(args) == 1 && (args[0] == "off" || args[0] == "0" || args[0] == "no"):
			sh.timer = false
		default:
			err = fmt.Errorf("usage: .timer on|off")
		}
	case ".tables":
		err = sh.tables()
	case ".schema":
		if len(args) > 1 {
			err = fmt.Errorf("usage: .schema [TABLE]")
			break
		}
		err = sh.schema(args)
	case ".dump":
		err = sh.db.Dump(sh.ctx, sh.out)
	default:
		err = fmt.Errorf("unknown command %q: enter .help for the list", name)
	}
	sh.out.Flush()
	if err != nil {
		sh.fail(line, err)
	}
	return err
}

func (sh *shell) tables() error {
	rows, err := sh.db.QueryAll(sh.ctx, `SELECT name FROM sqlite_schema
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return err
	}
	names := make([]string, len(rows))
	width := 0
	for i, r := range rows {
		names[i] = fmt.Sprint(r.Index(0))
		width = max(width, len(names[i]))
	}
	// In columns, as sqlite3 prints them, within 80 characters.
	perLine := max(1, 80/(width+2))
	for i, n := range names {
		if i%perLine == perLine-1 || i == len(names)-1 {
			sh.out.WriteString(n + "\n")
		} else {
			fmt.Fprintf(sh.out, "%-*s", width+2, n)
		}
	}
	return nil
}

func (sh *shell) schema(args []string) error {
	q := `SELECT sql FROM sqlite_schema WHERE sql NOT NULL AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	var params []any
	if len(args) == 1 {
		q += ` AND tbl_name = ? COLLATE NOCASE`
		params = append(params, args[0])
	}
	rows, err := sh.db.QueryAll(sh.ctx, q+` ORDER BY tbl_name, type DESC, name`, params...)
	if err != nil {
		return err
	}
	if len(rows) == 0 && len(args) == 1 {
		return fmt.Errorf("no such table: %s", args[0])
	}
	for _, r := range rows {
		fmt.Fprintf(sh.out, "%v;\n", r.Index(0))
	}
	return nil
}

// catchInterrupts makes Ctrl-C interrupt the running statement, or drop the statement being
// typed, instead of ending the shell. It returns a function that undoes it.
func (sh *shell) catchInterrupts() (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, os.Interrupt)
	go func() {
		for {
			select {
			case <-ch:
				sh.mu.Lock()
				if sh.cancel != nil {
					sh.cancel()
				} else {
					sh.discard = true
					fmt.Fprint(sh.errw, "\n^C (enter .quit or press Ctrl-D to leave)\nactorlite> ")
				}
				sh.mu.Unlock()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// sqlStmt is one complete statement of a script, without its final ';'.
type sqlStmt struct {
	text string
	line int // the line of its first token, counted from 0 in the text given to splitSQL
}

// splitSQL splits src into its complete statements and the rest, an incomplete statement
// (blank when it holds only white space and complete comments: nothing that more text could
// continue). A statement is complete where sqlite3_complete says so: at a ';' outside quotes
// ('…', "…", `…`, […]) and comments (-- …, /* … */), but in a CREATE [TEMP] TRIGGER (after
// EXPLAIN too) only at the ';' of its "; END;". Where sqlite3_complete and SQLite's tokenizer
// disagree, the tokenizer, which decides what each statement runs, wins: '\v' and a UTF-8
// byte order mark are white space, and a TCL-style variable ($a(x;y)) is one token. A
// statement's text runs from its first token to its last token or comment; statements that
// hold no token are dropped.
func splitSQL(src string) (stmts []sqlStmt, rest string, blank bool) {
	start := 0           // of the text after the last complete statement
	first, end := -1, 0  // the current statement's first token, and the end of its last token or comment
	line, lineAt := 0, 0 // line is the number of '\n' in src[:lineAt]
	state := uint8(completeNothing)
	open := false // the text ends inside a comment
	for i := 0; i < len(src); {
		kind, next, unterminated := sqlToken(src, i)
		open = unterminated
		switch kind {
		case tkWS:
		case tkComment:
			if first >= 0 {
				end = next
			}
		case tkSemi:
			if state = completeTrans[state][tkSemi]; state != completeStart {
				end = next // a ';' inside CREATE TRIGGER
				break
			}
			if first >= 0 {
				// (A "--" comment's text may end in white space: "\r" before its "\n".)
				stmts = append(stmts, sqlStmt{text: strings.TrimRight(src[first:end], " \t\n\v\f\r"), line: line})
			}
			start, first = next, -1
		default:
			if first < 0 {
				first = i
				line += strings.Count(src[lineAt:i], "\n")
				lineAt = i
			}
			end = next
			state = completeTrans[state][kind]
		}
		i = next
	}
	return stmts, src[start:], first < 0 && !open
}

// The states of sqlite3_complete's state machine (src/complete.c in SQLite's sources).
const (
	completeNothing = iota // no token yet
	completeStart          // at the start of a statement, after a ';'
	completeNormal         // in a statement that ends at a ';'
	completeExplain        // after EXPLAIN at the start of a statement
	completeCreate         // after CREATE (and TEMP) at the start of a statement
	completeTrigger        // in a CREATE TRIGGER, which ends at "; END ;"
	completeSemi           // after a ';' in a CREATE TRIGGER
	completeEnd            // after "; END" in a CREATE TRIGGER
)

// The tokens of sqlite3_complete, and tkComment: white space to the state machine, but part
// of a statement's text after its first token.
const (
	tkSemi = iota
	tkWS
	tkOther
	tkExplain
	tkCreate
	tkTemp
	tkTrigger
	tkEnd
	tkComment
)

// completeTrans is sqlite3_complete's transition table: the next state, by state and token.
var completeTrans = [8][8]uint8{
	//                SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END
	completeNothing: {1, 0, 2, 3, 4, 2, 2, 2},
	completeStart:   {1, 1, 2, 3, 4, 2, 2, 2},
	completeNormal:  {1, 2, 2, 2, 2, 2, 2, 2},
	completeExplain: {1, 3, 3, 2, 4, 2, 2, 2},
	completeCreate:  {1, 4, 2, 2, 2, 4, 5, 2},
	completeTrigger: {6, 5, 5, 5, 5, 5, 5, 5},
	completeSemi:    {6, 6, 5, 5, 5, 5, 5, 7},
	completeEnd:     {1, 7, 5, 5, 5, 5, 5, 5},
}

// sqlToken reads the token at src[i]: its kind, where it ends, and whether it is a comment,
// quote or variable that src ends inside of.
func sqlToken(src string, i int) (kind uint8, next int, unterminated bool) {
	// to ends a token at the first byte of stop in src[from:] (just after it, with incl); a
	// token that src ends inside of runs to its end, unterminated.
	to := func(from int, stop string, incl bool) (uint8, int, bool) {
		j := strings.IndexAny(src[from:], stop)
		switch {
		case j < 0:
			return tkOther, len(src), true
		case incl:
			return tkOther, from + j + 1, false
		}
		return tkOther, from + j, false
	}
	switch c := src[i]; {
	case c == ';':
		return tkSemi, i + 1, false
	case isSQLSpace(c):
		j := i + 1
		for j < len(src) && isSQLSpace(src[j]) {
			j++
		}
		return tkWS, j, false
	case strings.HasPrefix(src[i:], "\xef\xbb\xbf"): // a byte order mark: white space to SQLite
		return tkWS, i + 3, false
	case strings.HasPrefix(src[i:], "--"):
		_, next, open := to(i+2, "\n", false)
		return tkComment, next, open
	case strings.HasPrefix(src[i:], "/*"):
		if j := strings.Index(src[i+2:], "*/"); j >= 0 {
			return tkComment, i + 2 + j + 2, false
		}
		return tkComment, len(src), true
	case c == '\'' || c == '"' || c == '`':
		return to(i+1, string(c), true) // a doubled quote reads as two tokens: the same here
	case c == '[':
		return to(i+1, "]", true)
	case c == '$' || c == '@' || c == ':' || c == '#':
		// A variable, as SQLite's tokenizer reads it: a name (with "::"), and in TCL style
		// an index in (…) that holds no space.
		j, n := i+1, 0
		for j < len(src) {
			switch {
			case isWordByte(src[j]):
				j++
				n++
				continue
			case src[j] == ':' && strings.HasPrefix(src[j:], "::"):
				j += 2
				continue
			case src[j] == '(' && n > 0:
				k := j + 1
				for k < len(src) && src[k] != ')' && !isSQLSpace(src[k]) {
					k++
				}
				if k < len(src) && src[k] == ')' {
					k++
				}
				j = k
			}
			break
		}
		return tkOther, j, false
	case isWordByte(c):
		j := i + 1
		for j < len(src) && isWordByte(src[j]) {
			j++
		}
		switch w := src[i:j]; {
		case strings.EqualFold(w, "create"):
			return tkCreate, j, false
		case strings.EqualFold(w, "trigger"):
			return tkTrigger, j, false
		case strings.EqualFold(w, "temp"), strings.EqualFold(w, "temporary"):
			return tkTemp, j, false
		case strings.EqualFold(w, "end"):
			return tkEnd, j, false
		case strings.EqualFold(w, "explain"):
			return tkExplain, j, false
		}
		return tkOther, j, false
	}
	return tkOther, i + 1, false
}

// isSQLSpace reports whether c is white space to SQLite's tokenizer.
func isSQLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// isWordByte reports whether c may be part of an identifier or keyword (SQLite's IdChar).
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
