// Command actorlite is actorlite's command-line tool. Its first command, demo, walks through
// the aiosqlite article with actorlite on a database in a temporary directory:
//
//	go run ./cmd/actorlite demo [-db FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `actorlite: non-blocking, supervised SQLite for Go (connections are actors)

Usage:
  actorlite demo [-db FILE]   walk through the aiosqlite article with actorlite
  actorlite version           print the version

Run "actorlite COMMAND -h" for a command's flags.
`

// version is the CLI's version.
const version = "0.1.0"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command in args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "demo":
		err = demoCmd(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "actorlite", version)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "actorlite: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "actorlite:", err)
		return 1
	}
	return 0
}
