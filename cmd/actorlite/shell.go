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
		fmt.Fprintf(sh.errw, "Error: %s\n", strings.TrimPrefix(err.Error(), "actorlite: "))
	} else {
		fmt.Fprintf(sh.errw, "Error: near line %d: %s\n", line, strings.TrimPrefix(err.Error(), "actorlite: "))
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
// (blank when it holds only spaces and comments). A statement is complete at a ';' outside
// quotes ('…', "…", `…`, […]) and comments (-- …, /* … */), as sqlite3_complete decides: in
// CREATE [TEMP] TRIGGER, only at a ';' that follows END. Statements that hold nothing but
// spaces and comments are dropped.
func splitSQL(src string) (stmts []sqlStmt, rest string, blank bool) {
	start := 0  // of the current statement
	first := -1 // offset of the current statement's first token
	var words [3]string
	nwords := 0
	last := "" // the last token, if it was a word (upper case)
	trigger := false
	open := false // the text ends inside a block comment
	token := func(at int) {
		if first < 0 {
			first = at
		}
	}
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(src)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			if j := strings.Index(src[i+2:], "*/"); j >= 0 {
				i += j + 4
			} else {
				i, open = len(src), true
			}
		case c == '\'' || c == '"' || c == '`' || c == '[':
			token(i)
			end := c
			if c == '[' {
				end = ']'
			}
			j := i + 1
			for {
				k := strings.IndexByte(src[j:], end)
				if k < 0 {
					j = len(src) + 1 // unterminated: the statement is incomplete
					break
				}
				j += k + 1
				if end != ']' && j < len(src) && src[j] == end { // a doubled quote
					j++
					continue
				}
				break
			}
			i = min(j, len(src))
			last = ""
		case c == ';':
			if trigger && last != "END" {
				token(i)
				last = ""
				i++
				break
			}
			if first >= 0 {
				stmts = append(stmts, sqlStmt{
					text: strings.TrimSpace(src[first:i]),
					line: strings.Count(src[:first], "\n"),
				})
			}
			i++
			start, first, nwords, last, trigger = i, -1, 0, "", false
		case isWordByte(c):
			token(i)
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			last = strings.ToUpper(src[i:j])
			if nwords < len(words) {
				words[nwords] = last
				nwords++
				trigger = words[0] == "CREATE" && (words[1] == "TRIGGER" ||
					(nwords == 3 && (words[1] == "TEMP" || words[1] == "TEMPORARY") && words[2] == "TRIGGER"))
			}
			i = j
		default:
			token(i)
			last = ""
			i++
		}
	}
	return stmts, src[start:], first < 0 && !open
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
