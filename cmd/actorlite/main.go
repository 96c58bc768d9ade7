// Command actorlite is actorlite's command-line tool: a walkthrough, an SQL shell, one-shot
// statements, an events loader, a dump, and a quick benchmark, all through actorlite's
// connection actors and supervisor.
//
//	actorlite demo [-db FILE]            walk through the aiosqlite article with actorlite
//	actorlite shell DB                   SQL shell, as sqlite3's (reads a script from stdin when piped)
//	actorlite exec DB SQL [ARGS...]      run one statement, print its rows (-format table|csv|json)
//	actorlite ingest DB [FILE|-]         load newline-delimited JSON events with a progress bar
//	actorlite dump DB                    SQL text that recreates the database
//	actorlite serve -data DIR -port N -peers HOST:PORT,...   a member of a grid of tenant databases
//	actorlite exec -peers HOST:PORT,... -tenant NAME SQL     run one statement on a grid's tenant
//	actorlite bench                      the in-process benchmarks' headline ratios
//	actorlite version                    versions of actorlite, Go and SQLite
//
// Every command takes -h, which prints its flags and examples. Errors go to stderr; the exit
// code is 0 on success, 1 on a failure (for ingest: also when any line was rejected), 2 on a
// usage error. Errors in an input file say FILE:LINE: (ingest's bad lines, a script run with
// the shell's .read, .import's bad rows). Besides actorlite, only golang.org/x/term is used:
// the shell's line editor and history, when stdin and stdout are terminals.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

const usage = `actorlite: non-blocking, supervised SQLite for Go (connections are actors)

Usage:
  actorlite demo [-db FILE]          walk through the aiosqlite article with actorlite
  actorlite shell DB                 interactive SQL shell; reads a script from stdin when piped
  actorlite exec DB SQL [ARGS...]    run one statement, print its rows (-format table|csv|json)
  actorlite ingest DB [FILE|-]       load newline-delimited JSON events, with a progress bar
  actorlite dump DB                  print SQL text that recreates the database
  actorlite serve -data DIR -port N -peers HOST:PORT,...
                                     run a member of a grid of tenant databases
  actorlite exec -peers HOST:PORT,... -tenant NAME SQL [ARGS...]
                                     run one statement on a tenant of a grid
  actorlite bench                    run the in-process benchmarks, print the headline ratios
  actorlite version                  print the versions of actorlite, Go and SQLite

Run "actorlite COMMAND -h" for a command's flags and examples.

Examples:
  go run ./cmd/actorlite demo
  actorlite ingest analytics.db events.jsonl
  actorlite exec -format json analytics.db "SELECT name, count(*) AS n FROM events GROUP BY name"
  actorlite dump analytics.db | actorlite shell copy.db
`

// version is the CLI's version.
const version = "0.1.0"

// stdin is what shell and "ingest DB -" read; tests may replace it.
var stdin io.Reader = os.Stdin

func main() {
	ctx := context.Background()
	// The interactive shell handles Ctrl-C itself (it interrupts the running statement);
	// every other command stops cleanly on SIGINT or SIGTERM: ingest prints its summary,
	// the others close their databases.
	stop := func() {}
	if len(os.Args) < 2 || os.Args[1] != "shell" {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// errHelp reports that a command printed its help: exit 0.
var errHelp = flag.ErrHelp

// usageError is a command line that does not parse: exit 2.
type usageError struct {
	cmd string
	msg string // "" when the flag package already printed the error and the usage
}

func (e *usageError) Error() string { return e.msg }

// exitError carries a specific exit code; its message was printed already (or is empty).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run runs the command in args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "demo":
		err = demoCmd(ctx, rest, stdout, stderr)
	case "shell":
		err = shellCmd(ctx, rest, stdout, stderr)
	case "exec":
		if isGridExec(rest) {
			err = gridExecCmd(ctx, rest, stdout, stderr)
		} else {
			err = execCmd(ctx, rest, stdout, stderr)
		}
	case "serve":
		err = serveCmd(ctx, rest, stdout, stderr)
	case "ingest":
		err = ingestCmd(ctx, rest, stdout, stderr)
	case "dump":
		err = dumpCmd(ctx, rest, stdout, stderr)
	case "bench":
		err = benchCmd(ctx, rest, stdout, stderr)
	case "version":
		err = versionCmd(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] != "help" && !strings.HasPrefix(rest[0], "-") {
			return run(ctx, []string{rest[0], "-h"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "actorlite: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		if ue.msg != "" {
			fmt.Fprintf(stderr, "actorlite %s: %s\nRun \"actorlite %s -h\" for usage.\n", ue.cmd, ue.msg, ue.cmd)
		}
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(stderr, "actorlite:", ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintln(stderr, "actorlite:", errText(err))
		return 1
	}
}

// errText is how the CLI shows err: SQLite's own message for an SQLite error, as sqlite3
// does (without the call it came from), else err's text without the library's prefix (the
// CLI names itself).
func errText(err error) string {
	var se *messages.Error
	if errors.As(err, &se) {
		err = se
	}
	return strings.ReplaceAll(err.Error(), "actorlite: ", "")
}

// newFlags returns a flag set whose usage prints synopsis, description and examples, then the
// flags.
func newFlags(name, synopsis, description, examples string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", synopsis, strings.TrimSpace(description))
		if examples != "" {
			fmt.Fprintf(w, "\nExamples:\n%s\n", strings.Trim(examples, "\n"))
		}
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args: -h prints the usage to stdout (errHelp); a bad flag prints the error
// and the usage to stderr (a usageError). With interspersed, flags may also follow positional
// arguments ("--" ends the flags). It returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string, interspersed bool, stdout, stderr io.Writer) ([]string, error) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	defer fs.SetOutput(stderr)
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, errHelp
		}
		if err != nil {
			stderr.Write(buf.Bytes())
			return nil, &usageError{cmd: fs.Name()}
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if !interspersed || len(rest) == 0 || (len(consumed) > 0 && consumed[len(consumed)-1] == "--") {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0]) // Parse stopped at a positional argument
		args = rest[1:]
	}
}

// openDB starts a supervisor and opens dsn through it. Stop the supervisor when done.
func openDB(ctx context.Context, dsn string, opts ...actors.Option) (*supervisor.Supervisor, *actors.Conn, error) {
	s, err := supervisor.Start(ctx, supervisor.Config{})
	if err != nil {
		return nil, nil, err
	}
	db, err := s.Open(ctx, dsn, opts...)
	if err != nil {
		s.Stop(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return s, db, nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func versionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "actorlite version",
		"Prints the versions of actorlite, Go, go-sqlite3 and the SQLite library.", "  actorlite version\n")
	pos, err := parseFlags(fs, args, false, stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{cmd: "version", msg: "no arguments expected"}
	}
	fmt.Fprintln(stdout, "actorlite", version)
	driver := "github.com/ncruces/go-sqlite3"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == driver {
				driver += " " + d.Version
			}
		}
	}
	sqliteVersion := "unknown"
	if s, db, err := openDB(ctx, ":memory:"); err == nil {
		if row, err := db.QueryRow(ctx, "SELECT sqlite_version()"); err == nil {
			sqliteVersion = fmt.Sprint(row.Index(0))
		}
		s.Stop(context.WithoutCancel(ctx))
	}
	fmt.Fprintf(stdout, "%s %s/%s, SQLite %s (%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, sqliteVersion, driver)
	return nil
}
