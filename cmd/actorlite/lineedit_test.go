package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLineEditor drives the line editor as a terminal does, with keys: editing, the history
// (loaded from its file, walked with Up, saved bounded), Ctrl-C and Ctrl-D.
func TestLineEditor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	writeFile(t, path, "old one\nold two\n")
	keys := "SELECT 1;\r" + // a line
		"\x1b[A\x1b[A\r" + // Up twice: "old two"
		"abc\x1b[D\x1b[DX\x1b[F!\r" + // Left twice, X, End, !
		"mid\x01# \x05 #\r" + // Ctrl-A, Ctrl-E
		"typed, then\x03" + // Ctrl-C: dropped
		"\x03" + // on an empty line too
		"\r" + // a blank line: not kept
		"after\r\x04" // Ctrl-D on an empty line: the end
	var screen bytes.Buffer
	e := newEditor(strings.NewReader(keys), &screen, path)
	var got []string
	for {
		line, err := e.readLine("> ")
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errDiscard) {
			got = append(got, "<discard>")
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	want := []string{"SELECT 1;\n", "old two\n", "aXbc!\n", "# mid #\n", "<discard>", "<discard>", "\n", "after\n"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("lines %q\nwant  %q", got, want)
	}
	if !strings.Contains(screen.String(), "> SELECT 1;\r\n") {
		t.Errorf("the screen lacks the echoed line:\n%q", screen.String())
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "old one\nold two\nSELECT 1;\nold two\naXbc!\n# mid #\nafter\n"; string(saved) != want {
		t.Errorf("history file:\n%s\nwant:\n%s", saved, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode: %v, %v", fi.Mode(), err)
	}
}

// TestHistoryBounds checks that the history keeps its last maxHistory lines, from a longer
// file too, and reads no more than maxHistoryRead bytes of one.
func TestHistoryBounds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history")
	var b strings.Builder
	for i := 1; i <= maxHistory+500; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	writeFile(t, path, b.String())
	h := &history{}
	if err := h.load(path); err != nil {
		t.Fatal(err)
	}
	if h.Len() != maxHistory || h.At(0) != fmt.Sprintf("line %d", maxHistory+500) || h.At(maxHistory-1) != "line 501" {
		t.Errorf("loaded %d lines, latest %q, oldest %q", h.Len(), h.At(0), h.At(h.Len()-1))
	}
	h.Add("new")
	h.Add("new")
	h.Add("  ")
	if h.Len() != maxHistory || h.At(0) != "new" || h.At(1) != fmt.Sprintf("line %d", maxHistory+500) || h.At(maxHistory-1) != "line 502" {
		t.Errorf("after adding: %d lines, %q, %q, oldest %q", h.Len(), h.At(0), h.At(1), h.At(h.Len()-1))
	}
	if err := h.save(path); err != nil {
		t.Fatal(err)
	}
	saved, _ := os.ReadFile(path)
	if n := strings.Count(string(saved), "\n"); n != maxHistory {
		t.Errorf("saved %d lines", n)
	}

	// A huge file: only its end is read; its first line read, cut, is dropped.
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	long := strings.Repeat("y", 1000)
	for i := 0; i < 2*maxHistoryRead/len(long); i++ {
		fmt.Fprintf(w, "%s %d\n", long, i)
	}
	w.WriteString("last\n")
	w.Flush()
	f.Close()
	h = &history{}
	if err := h.load(huge); err != nil {
		t.Fatal(err)
	}
	if h.Len() != maxHistory || h.At(0) != "last" || !strings.HasPrefix(h.At(maxHistory-1), long+" ") {
		t.Errorf("huge file: %d lines, latest %q", h.Len(), h.At(0))
	}
	// A missing file is an empty history; a directory is an error (and the shell keeps none).
	h = &history{}
	if err := h.load(filepath.Join(dir, "missing")); err != nil || h.Len() != 0 {
		t.Errorf("missing file: %v, %d lines", err, h.Len())
	}
	var screen bytes.Buffer
	if e := newEditor(strings.NewReader(""), &screen, dir); e.path != "" || !strings.Contains(screen.String(), "history not kept") {
		t.Errorf("a directory as the history file: path %q, screen %q", e.path, screen.String())
	}
}

// TestShellLineEditor runs the shell's loop on the line editor: statements typed over lines,
// a history recall, and Ctrl-C dropping the statement being typed.
func TestShellLineEditor(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ed.db")
	sh, errs := testShell(t, db)
	var out bytes.Buffer
	sh.out = bufio.NewWriter(&out)
	sh.stdout = sh.out
	sh.interactive = true
	keys := "SELECT 'dropped'\r  , 2\r\x03" +
		"SELECT 'kept' AS k\r;\r" +
		"\x1b[A\x1b[A\r;\r" + // Up twice: "SELECT 'kept' AS k" (";" is later; Ctrl-C's empty line is not kept)
		"SELECT nope;\r\x04"
	var screen bytes.Buffer
	e := newEditor(strings.NewReader(keys), &screen, "")
	sh.loop(e, "")
	sh.out.Flush()
	if want := "k\n----\nkept\nk\n----\nkept\n"; out.String() != want {
		t.Errorf("output:\n%q\nwant:\n%q", out.String(), want)
	}
	if errs.String() != "Error: SQL logic error: no such column: nope (in \"SELECT nope\")\n" {
		t.Errorf("errors: %q", errs.String())
	}
	if !strings.Contains(screen.String(), "actorlite> SELECT 'dropped'\r\n      ...>   , 2\r\n      ...> ") {
		t.Errorf("prompts:\n%q", screen.String())
	}
}
