package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"
)

// The shell's line editing, when stdin and stdout are terminals: golang.org/x/term's Terminal
// (a small VT100 line editor: arrows, Home/End, Ctrl-A/B/E/F/K/L/U/W, Alt-arrows, Up/Down
// through the history), with the terminal in raw mode while a line is typed only, so that
// Ctrl-C is a key at the prompt and SIGINT (interrupt the statement) while one runs. Scripts
// never come here: plainLines reads them as they are.

// History bounds.
const (
	// maxHistory is how many lines the history keeps, in memory and in its file.
	maxHistory = 1000
	// maxHistoryRead is how much of a history file is read when the shell starts: its end,
	// 4 MiB (1,000 lines of x/term's longest, 4,096 characters, fit).
	maxHistoryRead = 4 << 20
)

// historyPath is the history file: $ACTORLITE_HISTORY when set ("" for none), else
// ~/.actorlite_history ("" without a home directory).
func historyPath() string {
	if p, ok := os.LookupEnv("ACTORLITE_HISTORY"); ok {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".actorlite_history")
}

// history is the shell's history (a term.History): at most maxHistory lines, without blank
// lines or consecutive duplicates.
type history struct {
	lines []string // oldest first
}

// Add adds a line (term.History).
func (h *history) Add(line string) {
	if strings.TrimSpace(line) == "" || (len(h.lines) > 0 && h.lines[len(h.lines)-1] == line) {
		return
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > maxHistory {
		h.lines = append(h.lines[:0], h.lines[len(h.lines)-maxHistory:]...)
	}
}

// Len returns the number of lines (term.History).
func (h *history) Len() int { return len(h.lines) }

// At returns a line, 0 the latest (term.History).
func (h *history) At(i int) string { return h.lines[len(h.lines)-1-i] }

// load reads the last maxHistory lines of the file at path (at most its last maxHistoryRead
// bytes). A missing file is an empty history.
func (h *history) load(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	partial := false
	if fi.Size() > maxHistoryRead {
		if _, err := f.Seek(fi.Size()-maxHistoryRead, io.SeekStart); err != nil {
			return err
		}
		partial = true
	}
	sc := bufio.NewScanner(io.LimitReader(f, maxHistoryRead))
	sc.Buffer(nil, maxHistoryRead)
	for sc.Scan() {
		if partial { // the first line read may be the end of one
			partial = false
			continue
		}
		h.Add(strings.TrimSuffix(sc.Text(), "\r"))
	}
	return sc.Err()
}

// save writes the history to the file at path, readable by its owner only, replacing it
// whole (through a temporary file in its directory, renamed).
func (h *history) save(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	for _, l := range h.lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ctrlCKey is what ctrlC turns Ctrl-C into, before an Enter: a control character no terminal
// sends for a key (FS), which x/term hands to the AutoCompleteCallback.
const ctrlCKey = 0x1c

// ctrlC passes a terminal's input to the line editor with each Ctrl-C turned into ctrlCKey and
// Enter: x/term's Terminal reads Ctrl-C as the end of the input, the shell as "drop the
// statement being typed". The editor's callback clears the line at ctrlCKey and notes it; the
// Enter then ends the (empty) line. Keys before and after it keep their order.
type ctrlC struct {
	r       io.Reader
	buf     []byte
	pending []byte // translated input not yet read
	err     error  // r's error, once pending is read
}

func (c *ctrlC) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if cap(c.buf) < len(p) {
			c.buf = make([]byte, len(p))
		}
		n, err := c.r.Read(c.buf[:len(p)])
		c.err = err
		out := c.pending[:0]
		for _, b := range c.buf[:n] {
			if b == 3 {
				out = append(out, ctrlCKey, '\r')
			} else {
				out = append(out, b)
			}
		}
		c.pending = out
		if n == 0 {
			err, c.err = c.err, nil
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// lineEditor is a lineSource that edits lines on a terminal, with a history.
type lineEditor struct {
	t           *term.Terminal
	hist        *history
	path        string // the history file; "" for none
	interrupted bool   // Ctrl-C on the line being read

	raw  func() (restore func(), err error) // puts the terminal in raw mode
	size func() (width, height int, err error)
}

// newLineEditor returns a line editor on the terminals in and out, with the history in the
// file at path (none for ""), or an error if in or out is not a terminal.
func newLineEditor(in io.Reader, out io.Writer, path string) (*lineEditor, error) {
	fin, ok1 := in.(*os.File)
	fout, ok2 := out.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(fin.Fd())) || !term.IsTerminal(int(fout.Fd())) {
		return nil, errors.New("not a terminal")
	}
	inFd, outFd := int(fin.Fd()), int(fout.Fd())
	e := newEditor(fin, fout, path)
	e.raw = func() (func(), error) {
		st, err := term.MakeRaw(inFd)
		if err != nil {
			return nil, err
		}
		return func() { term.Restore(inFd, st) }, nil
	}
	e.size = func() (int, int, error) { return term.GetSize(outFd) }
	return e, nil
}

// newEditor returns a line editor reading keys from in and drawing on out, its history in the
// file at path (loaded now; a file that cannot be read is left alone, and not written).
// raw and size do nothing: newLineEditor sets them for a real terminal.
func newEditor(in io.Reader, out io.Writer, path string) *lineEditor {
	h := &history{}
	if path != "" {
		if err := h.load(path); err != nil {
			fmt.Fprintf(out, "actorlite: history not kept: %v\r\n", err)
			path = ""
		}
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{&ctrlC{r: in}, out}, "")
	t.History = h
	e := &lineEditor{
		t: t, hist: h, path: path,
		raw:  func() (func(), error) { return func() {}, nil },
		size: func() (int, int, error) { return 0, 0, errors.New("no size") },
	}
	t.AutoCompleteCallback = func(_ string, _ int, key rune) (string, int, bool) {
		if key != ctrlCKey {
			return "", 0, false
		}
		e.interrupted = true
		return "", 0, true // the line cleared; the Enter after it ends it
	}
	return e
}

// readLine reads a line (lineSource): "" and errDiscard for Ctrl-C, io.EOF for Ctrl-D on an
// empty line or the end of the input.
func (e *lineEditor) readLine(prompt string) (string, error) {
	restore, err := e.raw()
	if err != nil {
		return "", err
	}
	defer restore()
	if w, h, err := e.size(); err == nil && w > 0 {
		e.t.SetSize(w, h)
	}
	e.t.SetPrompt(prompt)
	line, err := e.t.ReadLine()
	if e.interrupted {
		e.interrupted = false
		return "", errDiscard
	}
	if err != nil {
		return "", err
	}
	return line + "\n", nil
}

// close saves the history.
func (e *lineEditor) close() error {
	if e.path == "" {
		return nil
	}
	return e.hist.save(e.path)
}
