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
	"github.com/actorlite/actorlite/supervisor"
)

func shellCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("shell", "actorlite shell [-mode table|csv|json] [-bail] DB", `
An SQL shell on the database file DB (created if missing), through one connection actor.
Statements end with ';' and may span lines; results print as aligned tables (or csv, json).
Dot commands, at the start of a line:

`+shellHelp()+`
When stdin is not a terminal, the shell reads it as a script, exactly as it is: no prompts,
each error printed with its line number ("Error: near line 12: ...") and the script goes
on (-bail stops at the first), and the exit code is 1 if any statement failed. A script
run with .read reports its errors as FILE:LINE: message.

Interactively (stdin and stdout terminals), lines are edited in place: arrows (Alt-arrows
by word), Home/End, Ctrl-A/E/K/U/W/L; Up and Down (Ctrl-P/N) walk the history, kept in
~/.actorlite_history (the last 1,000 lines; $ACTORLITE_HISTORY names another file, ""
keeps none). Ctrl-C drops
the statement being typed, or interrupts the running statement; Ctrl-D at an empty
prompt leaves.`, `
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
	stdoutBuf := bufio.NewWriterSize(stdout, 32<<10)
	sh := &shell{
		ctx: ctx, sup: s, dbPath: pos[0], db: db, stdout: stdoutBuf, out: stdoutBuf, errw: stderr,
		mode: *mode, headers: true, bail: *bail, interactive: isTerminal(stdin),
	}
	if isTerminal(stderr) {
		sh.progress = "bar"
	}
	var src lineSource = &plainLines{r: bufio.NewReaderSize(stdin, 64<<10), w: sh.stdout}
	if sh.interactive {
		fmt.Fprintf(sh.stdout, "actorlite %s shell on %s (connection actor %s)\nEnter SQL statements ending in \";\", or .help.\n",
			version, pos[0], db.PID().Id)
		if ed, err := newLineEditor(stdin, stdout, historyPath()); err == nil {
			src = ed
			defer func() {
				if err := ed.close(); err != nil {
					fmt.Fprintf(stderr, "actorlite: history: %v\n", err)
				}
			}()
		}
		stop := sh.catchInterrupts()
		defer stop()
	}
	sh.loop(src, "")
	if sh.interactive {
		sh.stdout.WriteString("\n")
	}
	oerr := sh.setOutput("")
	sh.stdout.Flush()
	if err := s.Stop(ctx); err != nil {
		return err
	}
	if oerr != nil {
		return oerr
	}
	if sh.failed && !sh.interactive {
		return &exitError{code: 1}
	}
	return nil
}

type shell struct {
	ctx         context.Context
	sup         *supervisor.Supervisor // for .import's second connection
	dbPath      string
	db          *actors.Conn
	stdout      *bufio.Writer // prompts, the banner, .timer
	out         *bufio.Writer // results: stdout, or the file of .output
	outFile     *os.File      // the file of .output, nil for stdout
	errw        io.Writer
	mode        string
	headers     bool
	timer       bool
	bail        bool
	interactive bool
	progress    string // .import's progress display: "bar" (stderr is a terminal) or ""
	depth       int    // .read nesting
	failed      bool   // a statement or command failed
	chunkDone   func() // tests: called after each chunk .import writes, from its writers

	mu      sync.Mutex
	cancel  context.CancelFunc // of the running statement, nil between statements
	discard bool               // Ctrl-C at the prompt: drop the statement being typed
}

// Errors that end a loop early, the failure already reported.
var (
	errQuit        = errors.New("quit")                  // .quit: leave the shell
	errBailed      = errors.New("stopped at an error")   // -bail: leave at the first failure
	errInterrupted = errors.New("interrupted")           // Ctrl-C interrupted a statement or command
	errStopped     = errors.New("interrupted, reported") // errInterrupted reported: stops the .read files
	errDiscard     = errors.New("line interrupted")      // Ctrl-C at the prompt (line editor)
	errReadDepth   = errors.New(".read nested too deep") // see maxReadDepth
)

// maxReadDepth is how deep .read may nest: a script that reads itself stops there.
const maxReadDepth = 16

// where is the place of a statement or command: its file ("" for stdin) and line.
type where struct {
	file string
	line int
}

// lineSource gives the shell its input a line at a time.
type lineSource interface {
	// readLine returns the next line with its '\n' (the last one may lack it), or "" and
	// io.EOF at the end of the input (or another error). prompt, if not "", is shown first.
	readLine(prompt string) (string, error)
}

// plainLines reads lines as they come: a script, or a terminal without line editing (its
// prompts written to w).
type plainLines struct {
	r *bufio.Reader
	w *bufio.Writer
}

func (p *plainLines) readLine(prompt string) (string, error) {
	if prompt != "" {
		p.w.WriteString(prompt)
		p.w.Flush()
	}
	line, err := p.r.ReadString('\n')
	if line != "" {
		return line, nil // the error, if any, comes again with the next read
	}
	return "", err
}

// loop reads lines from src (file: its name, "" for stdin), runs each complete statement and
// dot command, until the end of src, .quit, or (with -bail) an error. It returns errQuit,
// errBailed, errStopped (in a file: Ctrl-C stops it), or nil at the end of the input.
func (sh *shell) loop(src lineSource, file string) error {
	prompts := sh.interactive && file == ""
	var buf strings.Builder // the statement being read
	bufLine := 0            // line number of buf's first line
	lineNo := 0
	for {
		prompt := ""
		if prompts {
			prompt = "actorlite> "
			if buf.Len() > 0 {
				prompt = "      ...> "
			}
		}
		if prompts {
			sh.out.Flush() // the banner, a result, before the prompt
			sh.stdout.Flush()
		}
		line, rerr := src.readLine(prompt)
		if errors.Is(rerr, errDiscard) {
			buf.Reset()
			continue
		}
		if line == "" && rerr != nil {
			if rerr != io.EOF {
				sh.fail(where{file, lineNo + 1}, rerr)
			}
			break
		}
		lineNo++
		if prompts {
			sh.mu.Lock()
			if sh.discard {
				buf.Reset()
				sh.discard = false
			}
			sh.mu.Unlock()
		}
		if buf.Len() == 0 {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, ".") {
				if err := sh.dot(t, where{file, lineNo}); err != nil && (file != "" || !errors.Is(err, errStopped)) {
					return err
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
			if err := sh.run(st.text, where{file, bufLine + st.line}); err != nil {
				if file != "" || !errors.Is(err, errStopped) {
					return err
				}
				break // interactive: back to the prompt
			}
		}
		buf.Reset()
		if !blank {
			buf.WriteString(rest)
			bufLine = lineNo - strings.Count(rest, "\n") + 1
		}
	}
	if rest := buf.String(); strings.TrimSpace(rest) != "" {
		// The input ended inside a statement: run it as it is (a missing final ';' is
		// common in one-liners), and let SQLite say what is wrong with it, if anything.
		if stmts, tail, blank := splitSQL(rest + ";"); len(stmts) > 0 {
			return sh.run(stmts[0].text, where{file, bufLine + stmts[0].line})
		} else if !blank {
			return sh.failed1(where{file, bufLine}, fmt.Errorf("incomplete SQL at the end of the input: %s", strings.TrimSpace(tail)))
		}
	}
	return nil
}

// fail reports an error at its place and remembers that something failed: "FILE:LINE: msg"
// in a file run by .read, "Error: near line N: msg" in a script on stdin (as sqlite3 says
// it), "Error: msg" interactively.
func (sh *shell) fail(at where, err error) {
	sh.failed = true
	sh.out.Flush()
	sh.stdout.Flush()
	switch {
	case at.file != "":
		fmt.Fprintf(sh.errw, "%s:%d: %s\n", at.file, at.line, errText(err))
	case sh.interactive:
		fmt.Fprintf(sh.errw, "Error: %s\n", errText(err))
	default:
		fmt.Fprintf(sh.errw, "Error: near line %d: %s\n", at.line, errText(err))
	}
}

// failed1 reports err (see fail) and returns what the loop does next: errStopped after a
// Ctrl-C, errBailed with -bail, else nil.
func (sh *shell) failed1(at where, err error) error {
	sh.fail(at, err)
	switch {
	case errors.Is(err, errInterrupted):
		return errStopped
	case sh.bail:
		return errBailed
	}
	return nil
}

// interruptible runs f with a context that Ctrl-C cancels; an error that cancel caused
// comes back as errInterrupted.
func (sh *shell) interruptible(f func(ctx context.Context) error) error {
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
	err := f(ctx)
	if err != nil && ctx.Err() != nil && sh.ctx.Err() == nil {
		return errInterrupted // Ctrl-C
	}
	return err
}

// run runs one statement and prints its rows, then, with .timer on, how long it took (on
// stdout, after the rows, as sqlite3 does). It returns what the loop does next (see failed1).
func (sh *shell) run(sql string, at where) error {
	t0 := time.Now()
	n := 0
	err := sh.interruptible(func(ctx context.Context) error {
		cur, err := sh.db.Query(ctx, sql)
		if err != nil {
			return err
		}
		if len(cur.Columns()) > 0 {
			n, err = writeRows(sh.out, sh.mode, sh.headers, cur.Columns(), cur.All(ctx))
		}
		cur.Close(context.WithoutCancel(ctx))
		return err
	})
	elapsed := time.Since(t0)
	sh.out.Flush()
	if sh.timer {
		fmt.Fprintf(sh.stdout, "Run Time: %v (%s)\n", elapsed.Round(time.Microsecond), plural(n, "row"))
		sh.stdout.Flush()
	}
	if err != nil {
		return sh.failed1(at, err)
	}
	return nil
}

// dotCommand is one of the shell's dot commands.
type dotCommand struct {
	names []string // the name, then its aliases
	args  string   // the synopsis of its arguments
	help  string
	min   int // arguments, at least
	max   int // arguments, at most; -1: any
	run   func(sh *shell, args []string, at where) error
}

// dotCommands are the shell's dot commands, in the order .help lists them (set in init:
// .help refers to the list).
var dotCommands []dotCommand

func init() {
	dotCommands = []dotCommand{
		{names: []string{".dump"}, help: "print SQL text that recreates the database", run: func(sh *shell, _ []string, _ where) error {
			return sh.interruptible(func(ctx context.Context) error { return sh.db.Dump(ctx, sh.out) })
		}},
		{names: []string{".exit", ".quit", ".q"}, help: "leave the shell (so does the end of the input, Ctrl-D)", run: func(*shell, []string, where) error {
			return errQuit
		}},
		{names: []string{".headers"}, args: "on|off", min: 1, max: 1, help: "show column names in table and csv output (on by default)", run: func(sh *shell, args []string, _ where) error {
			return setBool(&sh.headers, args[0])
		}},
		{names: []string{".help"}, help: "this list", run: func(sh *shell, _ []string, _ where) error {
			sh.out.WriteString(shellHelp())
			return nil
		}},
		{names: []string{".import"}, args: "[--skip N] FILE TABLE", min: 2, max: 5,
			help: "load CSV FILE into TABLE; a missing TABLE is created, its columns named by the first row", run: (*shell).importCmd},
		{names: []string{".indexes"}, args: "[TABLE]", max: 1, help: "the names of the indexes, or of TABLE's (a LIKE pattern)", run: (*shell).indexes},
		{names: []string{".mode"}, args: "[table|csv|json]", max: 1, help: "show or set the output format (default table)", run: func(sh *shell, args []string, _ where) error {
			if len(args) == 0 {
				fmt.Fprintf(sh.out, "current output mode: %s\n", sh.mode)
				return nil
			}
			if err := checkFormat(args[0]); err != nil {
				return err
			}
			sh.mode = args[0]
			return nil
		}},
		{names: []string{".output"}, args: "[FILE]", max: 1, help: "send results to FILE (created or truncated), or back to stdout without FILE", run: func(sh *shell, args []string, _ where) error {
			return sh.setOutput(strings.Join(args, ""))
		}},
		{names: []string{".read"}, args: "FILE", min: 1, max: 1, help: "run the statements and dot commands of FILE; errors say FILE:LINE:", run: (*shell).read},
		{names: []string{".schema"}, args: "[TABLE]", max: 1, help: "the CREATE statements of the database, or of TABLE and its indexes and triggers", run: (*shell).schema},
		{names: []string{".tables"}, help: "the names of the tables and views", run: (*shell).tables},
		{names: []string{".timer"}, args: "on|off", min: 1, max: 1, help: "print how long each statement took, after its result", run: func(sh *shell, args []string, _ where) error {
			return setBool(&sh.timer, args[0])
		}},
	}
}

// shellHelp lists the dot commands.
func shellHelp() string {
	var b strings.Builder
	for _, c := range dotCommands {
		fmt.Fprintf(&b, "%-32s %s\n", strings.Join(c.names[:min(2, len(c.names))], ", ")+" "+c.args, c.help)
	}
	return b.String()
}

// usage is the command's synopsis.
func (c *dotCommand) usage() string {
	return strings.TrimSpace("usage: " + c.names[0] + " " + c.args)
}

// setBool sets *b from on|off (also yes|no, true|false, 1|0, as sqlite3 reads them).
func setBool(b *bool, arg string) error {
	switch strings.ToLower(arg) {
	case "on", "yes", "true", "1":
		*b = true
	case "off", "no", "false", "0":
		*b = false
	default:
		return fmt.Errorf("want on or off, got %q", arg)
	}
	return nil
}

// dot runs a dot command. It returns what the loop does next (see failed1), or errQuit.
func (sh *shell) dot(line string, at where) error {
	fields, err := dotFields(line)
	if err != nil {
		return sh.failed1(at, err)
	}
	name, args := fields[0], fields[1:]
	var cmd *dotCommand
	for i := range dotCommands {
		for _, n := range dotCommands[i].names {
			if n == name {
				cmd = &dotCommands[i]
			}
		}
	}
	switch {
	case cmd == nil:
		err = fmt.Errorf("unknown command %q: enter .help for the list", name)
	case len(args) < cmd.min || (cmd.max >= 0 && len(args) > cmd.max):
		err = errors.New(cmd.usage())
	default:
		err = cmd.run(sh, args, at)
	}
	sh.out.Flush()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errQuit) || errors.Is(err, errBailed) || errors.Is(err, errStopped):
		return err
	case errors.Is(err, errReported):
		if sh.bail {
			return errBailed
		}
		return nil
	}
	return sh.failed1(at, err)
}

// errReported is a failure of a dot command that reported its errors itself (.read, .import).
var errReported = errors.New("failed")

// dotFields splits a dot command into its words: separated by spaces, a word may be quoted
// with '…' (as it is) or "…" (with \" and \\ escapes), as sqlite3 reads them.
func dotFields(line string) ([]string, error) {
	var fields []string
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' in the command")
			}
			fields = append(fields, line[i+1:i+1+j])
			i += j + 2
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				b.WriteByte(line[j])
			}
			if j == len(line) {
				return nil, errors.New(`unterminated " in the command`)
			}
			fields = append(fields, b.String())
			i = j + 1
		default:
			j := strings.IndexAny(line[i:], " \t\r\n")
			if j < 0 {
				j = len(line) - i
			}
			fields = append(fields, line[i:i+j])
			i += j
		}
	}
	return fields, nil
}

// setOutput sends results to the file at path (created or truncated), or to stdout for ""
// or "stdout". It closes the previous file, returning its error.
func (sh *shell) setOutput(path string) error {
	err := sh.out.Flush()
	if sh.outFile != nil {
		if cerr := sh.outFile.Close(); err == nil {
			err = cerr
		}
		sh.outFile, sh.out = nil, sh.stdout
	}
	if err != nil {
		err = fmt.Errorf(".output: %w", err)
	}
	if path == "" || path == "stdout" {
		return err
	}
	f, ferr := os.Create(path)
	if ferr != nil {
		return errors.Join(err, ferr)
	}
	sh.outFile, sh.out = f, bufio.NewWriterSize(f, 32<<10)
	return err
}

// read runs the file args[0] as a script: its errors say FILE:LINE:, -bail and .quit apply
// to it as to the input it is read from, Ctrl-C stops it.
func (sh *shell) read(args []string, _ where) error {
	if sh.depth >= maxReadDepth {
		return fmt.Errorf("%s: %w (%d files)", args[0], errReadDepth, maxReadDepth)
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	sh.depth++
	defer func() { sh.depth-- }()
	failed := sh.failed
	sh.failed = false
	err = sh.loop(&plainLines{r: bufio.NewReaderSize(f, 64<<10)}, args[0])
	inner := sh.failed
	sh.failed = sh.failed || failed
	switch {
	case errors.Is(err, errQuit), errors.Is(err, errBailed), errors.Is(err, errStopped):
		return err
	case inner:
		return errReported
	}
	return nil
}

func (sh *shell) tables(_ []string, _ where) error {
	return sh.listNames(`SELECT name FROM sqlite_schema
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
}

// listNames prints, in columns, the first column of what q returns.
func (sh *shell) listNames(q string, params ...any) error {
	rows, err := sh.db.QueryAll(sh.ctx, q, params...)
	if err != nil {
		return err
	}
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = fmt.Sprint(r.Index(0))
	}
	sh.columns(names)
	return nil
}

// indexes lists the indexes (those SQLite makes for UNIQUE and PRIMARY KEY constraints
// too), or those of the tables whose name is LIKE args[0], as sqlite3 does.
func (sh *shell) indexes(args []string, _ where) error {
	q := `SELECT name FROM sqlite_schema WHERE type = 'index'`
	var params []any
	if len(args) == 1 {
		q += ` AND tbl_name LIKE ?`
		params = append(params, args[0])
	}
	return sh.listNames(q+` ORDER BY name`, params...)
}

// columns prints names in columns, as sqlite3 prints .tables, within 80 characters; control
// characters escaped, as in tables.
func (sh *shell) columns(names []string) {
	width := 0
	for i, n := range names {
		names[i] = textOf(n, "", true)
		width = max(width, len([]rune(names[i])))
	}
	perLine := max(1, 80/(width+2))
	for i, n := range names {
		if i%perLine == perLine-1 || i == len(names)-1 {
			sh.out.WriteString(n + "\n")
		} else {
			fmt.Fprintf(sh.out, "%s%s", n, strings.Repeat(" ", width+2-len([]rune(n))))
		}
	}
}

func (sh *shell) schema(args []string, _ where) error {
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

// catchInterrupts makes Ctrl-C (SIGINT) interrupt the running statement, or drop the
// statement being typed, instead of ending the shell. (With the line editor, the terminal is
// raw at the prompt: Ctrl-C there is a key, read by the editor.) It returns a function that
// undoes it.
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
