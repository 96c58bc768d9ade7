package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/supervisor"
)

func ingestCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", "actorlite ingest [flags] DB [FILE|-]", `
Loads analytics events, one JSON object per line, from FILE (or stdin, when FILE is "-" or
missing) into the events table of the database file DB, through the supervisor's events
API (InsertEvents): the events writer creates the table if missing and commits the events
in groups. A line looks like

  {"user_id": "u1", "name": "signup", "properties": {"plan": "pro"}, "timestamp": "2025-01-02T15:04:05Z"}

user_id and name are required, non-empty strings; properties is any JSON value (missing
or null: stored as NULL; at most 1 MiB); timestamp is an RFC 3339 string (or SQLite's
"YYYY-MM-DD HH:MM:SS", read as UTC) or a number of seconds since 1970 (missing or null:
the time it is stored); idempotency_key, optional, names the event: one whose key is
stored already is not stored again (a load run twice stores its keyed events once).
Other fields are ignored; blank lines are skipped. This is messages.Event's JSON form.

A bad line is reported on stderr as FILE:LINE: REASON (the line number in plain digits, as
compilers write it; "<stdin>" for stdin) and skipped; with -strict the first
bad line stops the load: the lines before it are written, nothing after it. The exit code
is 1 when any line was rejected (or the load failed), 0 otherwise. Ctrl-C stops the load
cleanly: the lines read so far are written, and the summary says how far it got.

Memory is bounded whatever the input. A line longer than 4 MiB (4,194,304 bytes, its
newline not counted) is a bad line, read to its end without being kept. Events go to
InsertEvents in chunks of -batch events or 4 MiB of event data, whichever comes first, and
at most 4 chunks wait while one is written: ingest holds at most six chunks of events
(the one written, 4 waiting, the one being filled) and one line.

A progress bar on stderr shows the events committed, the rate and, when the input's size
is known (a file, or stdin redirected from one), the percentage and the time left; then a
summary is printed on stdout.`, `
  actorlite ingest analytics.db events.jsonl
  zcat events.jsonl.gz | actorlite ingest analytics.db
  actorlite ingest -strict -table signups analytics.db signups.jsonl
  actorlite ingest -progress off analytics.db - < events.jsonl`)
	table := fs.String("table", "events", "the events table")
	batch := fs.Int("batch", 4096, "events per InsertEvents call, at most (each call commits as a whole; a call also ends at 4 MiB of event data)")
	strict := fs.Bool("strict", false, "stop at the first bad line (the lines before it are written, none after)")
	progressMode := fs.String("progress", "auto", "progress display: auto (a bar on a terminal, else a line a second), bar, plain or off")
	showErrors := fs.Int("show-errors", 20, "report at most this many bad lines one by one (they are all counted)")
	pos, err := parseFlags(fs, args, true, stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return &usageError{cmd: "ingest", msg: "want DB and, optionally, FILE or -"}
	}
	if *batch < 1 {
		return &usageError{cmd: "ingest", msg: "-batch must be at least 1"}
	}
	switch *progressMode {
	case "auto":
		*progressMode = "plain"
		if isTerminal(stderr) {
			*progressMode = "bar"
		}
	case "bar", "plain", "off":
	default:
		return &usageError{cmd: "ingest", msg: fmt.Sprintf("unknown -progress %q: want auto, bar, plain or off", *progressMode)}
	}

	dbPath, src := pos[0], "-"
	if len(pos) == 2 {
		src = pos[1]
	}
	in, name := stdin, "stdin"
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, src
	}
	var size int64 = -1
	if f, ok := in.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
			if off, err := f.Seek(0, io.SeekCurrent); err == nil { // stdin may be read partly
				size -= off
			}
		}
	}

	s, err := supervisor.Start(ctx, supervisor.Config{Events: supervisor.EventsConfig{
		DSN: dbPath, Table: *table, MaxBatch: max(*batch, actors.DefaultMaxBatch),
	}})
	if err != nil {
		return err
	}
	defer s.Stop(context.WithoutCancel(ctx))

	loc := name
	if src == "-" {
		loc = "<stdin>"
	}
	ing := &ingester{
		s: s, name: loc, strict: *strict, showErrors: *showErrors, batch: *batch,
		prog: newProgress(stderr, *progressMode, size),
	}
	res := ing.run(ctx, in)
	ing.prog.finish()
	if err := s.Stop(context.WithoutCancel(ctx)); err != nil && res.err == nil {
		res.err = err
	}
	st := s.Stats()

	elapsed := time.Since(ing.prog.start)
	fmt.Fprintf(stdout, "ingested %s from %s of %s into %s.%s in %v (%s events/s, %s)\n",
		plural(int(res.written), "event"), plural(int(res.lines), "line"), name, dbPath, *table, elapsed.Round(time.Millisecond),
		commas(int64(float64(res.written)/max(elapsed.Seconds(), 1e-9))), plural(int(st.EventBatches), "commit"))
	if res.rejected.n > 0 {
		fmt.Fprintf(stdout, "%s rejected: %s\n", plural(int(res.rejected.n), "line"), res.rejected)
	}
	switch {
	case res.err != nil:
		return fmt.Errorf("ingest stopped after line %s: %w", commas(res.lines), res.err)
	case res.stoppedAt > 0:
		return &exitError{code: 1, msg: fmt.Sprintf("stopped at line %s (-strict): the %s events before it were written, nothing after it",
			commas(res.stoppedAt), commas(res.written))}
	case res.rejected.n > 0:
		return &exitError{code: 1, msg: fmt.Sprintf("%s of %s rejected", commas(res.rejected.n), plural(int(res.lines), "line"))}
	}
	return nil
}

// plural formats n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return commas(int64(n)) + " " + thing + "s"
}

// badLines counts rejected lines and keeps the smallest listBadLines of their numbers for
// the summary: its memory is bounded whatever the input (a file of a billion bad lines costs
// the same as one of eleven).
type badLines struct {
	n     int64   // lines rejected
	first []int64 // the smallest listBadLines of them, sorted
}

// listBadLines is how many line numbers a summary lists.
const listBadLines = 10

// add records a rejected line.
func (b *badLines) add(line int64) {
	b.n++
	i, _ := slices.BinarySearch(b.first, line)
	if i >= listBadLines {
		return
	}
	if len(b.first) == listBadLines {
		b.first = b.first[:listBadLines-1]
	}
	b.first = slices.Insert(b.first, i, line)
}

// String lists the lines, "line 7" or "lines 3, 9, … (15 more)", separators included.
func (b badLines) String() string {
	parts := make([]string, 0, len(b.first)+1)
	for _, l := range b.first {
		parts = append(parts, commas(l))
	}
	if more := b.n - int64(len(b.first)); more > 0 {
		parts = append(parts, fmt.Sprintf("… (%s more)", commas(more)))
	}
	if b.n == 1 {
		return "line " + parts[0]
	}
	return "lines " + strings.Join(parts, ", ")
}

// The bounds on ingest's memory, whatever its input (stated in ingest -h and the README).
const (
	// maxLineBytes is the longest line ingest reads, its '\n' not counted: 4 MiB. A longer line
	// is a bad line, read to its end without being kept. A valid event fits with room to
	// spare: its properties are at most messages.MaxEventProperties (1 MiB); user_id, name, the
	// timestamp, spaces and JSON escapes have the remaining 3 MiB.
	maxLineBytes = 4 << 20
	// maxChunkBytes is a chunk's share of memory at which it is sent, whatever -batch says:
	// 4 MiB of event data (see eventBytes), so a chunk holds less than 4 MiB plus one event.
	maxChunkBytes = 4 << 20
	// queuedChunks is how many chunks may wait for the inserter while the reader fills the
	// next one.
	queuedChunks = 4
	// eventOverhead is what an event costs besides its strings: a messages.Event and its
	// line number, rounded up.
	eventOverhead = 128
)

// eventBytes is ev's share of a chunk's memory.
func eventBytes(ev *messages.Event) int {
	return len(ev.UserID) + len(ev.Name) + len(ev.Properties) + len(ev.IdempotencyKey) + eventOverhead
}

type ingester struct {
	s          *supervisor.Supervisor
	name       string // the input, as bad lines are reported: "FILE:LINE: reason"
	strict     bool
	showErrors int
	batch      int
	prog       *progress

	mu       sync.Mutex
	rejected badLines
	stopAt   int64 // -strict: the bad line that stopped the load
}

type ingestResult struct {
	lines     int64 // lines read
	written   int64 // events committed
	rejected  badLines
	stoppedAt int64
	err       error
}

// chunk is one InsertEvents call's worth of events: at most batch events, and sent as soon
// as its bytes reach maxChunkBytes.
type chunk struct {
	events []messages.Event
	lines  []int64 // each event's line number
	bytes  int     // the events' eventBytes
	end    int64   // input bytes up to the end of its last line
}

// newChunk returns an empty chunk with room for batch events (no more than maxChunkBytes can
// hold: a large -batch does not reserve memory for events that cannot come).
func newChunk(batch int) *chunk {
	n := min(batch, maxChunkBytes/eventOverhead+1)
	return &chunk{events: make([]messages.Event, 0, n), lines: make([]int64, 0, n)}
}

// add appends an event read from line, and returns whether the chunk is full: batch events,
// or maxChunkBytes.
func (c *chunk) add(ev messages.Event, line int64, batch int) bool {
	c.events = append(c.events, ev)
	c.lines = append(c.lines, line)
	c.bytes += eventBytes(&ev)
	return len(c.events) >= batch || c.bytes >= maxChunkBytes
}

// reject records a bad line and reports it (the first showErrors ones) as FILE:LINE: reason,
// the line number in plain digits (editors and log parsers read it). It returns whether the
// load must stop.
func (ing *ingester) reject(line int64, reason string) bool {
	ing.mu.Lock()
	defer ing.mu.Unlock()
	if ing.stopAt > 0 {
		return true
	}
	ing.rejected.add(line)
	n := int(ing.rejected.n)
	if n <= ing.showErrors {
		ing.prog.printf("%s:%d: %s\n", ing.name, line, reason)
	} else if n == ing.showErrors+1 {
		ing.prog.printf("(further bad lines are counted, not shown)\n")
	}
	if ing.strict {
		ing.stopAt = line
		return true
	}
	return false
}

func (ing *ingester) stopped() bool { return ing.stopLine() > 0 }

// stopLine returns the line that stopped the load (-strict), or 0.
func (ing *ingester) stopLine() int64 {
	ing.mu.Lock()
	defer ing.mu.Unlock()
	return ing.stopAt
}

// run reads, checks and inserts the events: a reader (this goroutine) parses lines into
// chunks while an inserter goroutine sends each chunk with one InsertEvents call, in order.
// The events held are at most the chunk being sent, queuedChunks waiting and the one being
// filled, each less than maxChunkBytes plus one event; a line held is at most maxLineBytes.
func (ing *ingester) run(ctx context.Context, in io.Reader) ingestResult {
	var res ingestResult
	chunks := make(chan *chunk, queuedChunks)
	var insertErr atomic.Pointer[error]
	insertDone := make(chan struct{})
	go func() {
		defer close(insertDone)
		for c := range chunks {
			if insertErr.Load() != nil {
				continue // drain
			}
			if stop := ing.stopLine(); stop > 0 { // -strict: nothing after the bad line
				n := 0
				for n < len(c.lines) && c.lines[n] < stop {
					n++
				}
				c.events, c.lines = c.events[:n], c.lines[:n]
			}
			if err := ing.insert(ctx, c); err != nil {
				insertErr.Store(&err)
			}
		}
	}()

	ing.prog.begin()
	r := bufio.NewReaderSize(in, 256<<10)
	var line []byte
	var offset int64
	batch := ing.batch
	cur := newChunk(batch)
	for {
		stop := false
		if ctx.Err() != nil {
			res.err = fmt.Errorf("interrupted: %w", ctx.Err())
			break
		}
		if insertErr.Load() != nil || ing.stopped() {
			break
		}
		var (
			n    int64
			long bool
			rerr error
		)
		line, n, long, rerr = readLine(r, line[:0], maxLineBytes)
		if n == 0 && rerr != nil {
			if rerr != io.EOF {
				res.err = rerr
			}
			break
		}
		res.lines++
		offset += n
		if res.lines == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		}
		full := false
		if long {
			stop = ing.reject(res.lines, fmt.Sprintf("longer than %s bytes, the limit of a line (4 MiB)", commas(maxLineBytes)))
		} else {
			ev, reason := parseEvent(line)
			switch {
			case reason == "blank":
			case reason != "":
				stop = ing.reject(res.lines, reason)
			default:
				full = cur.add(ev, res.lines, batch)
			}
		}
		if stop {
			break
		}
		cur.end = offset
		if full {
			chunks <- cur
			cur = newChunk(batch)
		}
		if rerr != nil {
			if rerr != io.EOF {
				res.err = rerr
			}
			break
		}
	}
	if len(cur.events) > 0 {
		// The events read so far: in -strict, those before the bad line; after an interrupt
		// or a read error, every complete line read (a chunk is quick to write).
		chunks <- cur
	}
	close(chunks)
	<-insertDone
	if p := insertErr.Load(); p != nil && res.err == nil {
		res.err = *p
	}
	if res.err == nil && !ing.stopped() {
		ing.prog.done.Store(offset) // trailing blank or bad lines included
	}
	ing.mu.Lock()
	res.rejected, res.stoppedAt = ing.rejected, ing.stopAt
	ing.mu.Unlock()
	res.written = ing.prog.events.Load()
	return res
}

// insert sends c's events in one InsertEvents call. Should the library reject an event the
// reader accepted, that line is rejected and the others are sent again (-strict: the ones
// before it only).
func (ing *ingester) insert(ctx context.Context, c *chunk) error {
	evs, lines := c.events, c.lines
	// Events already parsed are written even after an interrupt: a chunk is quick.
	ictx := context.WithoutCancel(ctx)
	for len(evs) > 0 {
		err := ing.s.InsertEvents(ictx, evs)
		var ee *messages.EventError
		if errors.As(err, &ee) && ee.Index >= 0 && ee.Index < len(evs) {
			i := ee.Index
			if ing.reject(lines[i], lineReason(ee)) {
				evs, lines = evs[:i], lines[:i]
				continue
			}
			evs = append(evs[:i:i], evs[i+1:]...)
			lines = append(lines[:i:i], lines[i+1:]...)
			continue
		}
		if err != nil {
			return err
		}
		ing.prog.events.Add(int64(len(evs)))
		break
	}
	ing.prog.done.Store(c.end)
	return nil
}

// lineReason says, in the input's words, why ee's event was refused: "user_id: missing or
// empty" for ee's UserID "empty" (a field a line leaves out is empty too).
func lineReason(ee *messages.EventError) string {
	reason := ee.Reason
	if reason == "empty" {
		reason = "missing or empty"
	}
	if ee.JSONField == "" {
		return reason
	}
	return ee.JSONField + ": " + reason
}

// readLine reads the next line of r, n bytes with its '\n' (if any), and appends it to buf;
// unless it is longer than limit bytes, its '\n' not counted: then it reads the line to its
// end, discarding its bytes as they come, and returns buf as it was with long set. err is
// r's error, if the line ended at one (io.EOF: the last line has no '\n', or there is none).
func readLine(r *bufio.Reader, buf []byte, limit int) (line []byte, n int64, long bool, err error) {
	start := len(buf)
	for {
		var part []byte
		part, err = r.ReadSlice('\n')
		n += int64(len(part))
		text := n
		if err == nil {
			text-- // the '\n'
		}
		if text > int64(limit) {
			for err == bufio.ErrBufferFull {
				part, err = r.ReadSlice('\n')
				n += int64(len(part))
			}
			return buf[:start], n, true, err
		}
		if need := len(buf) + len(part); need > cap(buf) { // double: append grows big slices by 1.25
			b := make([]byte, len(buf), max(need, 2*cap(buf)))
			copy(b, buf)
			buf = b
		}
		buf = append(buf, part...)
		if err != bufio.ErrBufferFull {
			return buf, n, false, err
		}
	}
}

// parseEvent parses one line. reason is "blank" for a blank line, else why the line is bad,
// else "". The line is decoded by messages.Event's own decoder, the one json.Unmarshal uses
// (called directly: json.Unmarshal would scan the line once more first), so that the library
// and the CLI read the ingest format the same way; then checked with Validate, as
// InsertEvents will.
func parseEvent(line []byte) (ev messages.Event, reason string) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return ev, "blank"
	}
	if err := ev.UnmarshalJSON(line); err != nil {
		var ee *messages.EventError
		if errors.As(err, &ee) {
			return messages.Event{}, lineReason(ee)
		}
		return messages.Event{}, "not valid JSON: " + err.Error()
	}
	if err := ev.Validate(); err != nil {
		return ev, lineReason(err.(*messages.EventError))
	}
	return ev, ""
}

// progress draws the progress on stderr: a bar redrawn in place ("bar"), a line a second
// ("plain"), or nothing ("off"); always a final state in "bar" and "plain".
type progress struct {
	w     io.Writer
	mode  string
	size  int64 // input bytes; -1: unknown
	start time.Time
	unit  string // what events counts: "events" when ""; .import sets "rows"

	done   atomic.Int64 // input bytes whose events are committed (or rejected)
	events atomic.Int64 // events committed

	mu      sync.Mutex
	lastLen int // of the bar on screen; 0: none
	stop    chan struct{}
	stopped chan struct{}
}

func newProgress(w io.Writer, mode string, size int64) *progress {
	return &progress{w: w, mode: mode, size: size, start: time.Now()}
}

// begin starts the redraws.
func (p *progress) begin() {
	p.start = time.Now()
	if p.mode == "off" {
		return
	}
	every := 100 * time.Millisecond
	if p.mode == "plain" {
		every = time.Second
	}
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw(false)
			case <-p.stop:
				return
			}
		}
	}()
}

// finish stops the redraws and draws the final state.
func (p *progress) finish() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.stopped
	p.stop = nil
	p.draw(true)
}

func (p *progress) line(final bool) string {
	elapsed := time.Since(p.start)
	n := p.events.Load()
	rate := float64(n) / max(elapsed.Seconds(), 1e-9)
	unit := p.unit
	if unit == "" {
		unit = "events"
	}
	stats := fmt.Sprintf("%s %s  %s/s", commas(n), unit, commas(int64(rate)))
	if p.size <= 0 {
		if final {
			return fmt.Sprintf("%s  done in %v", stats, elapsed.Round(time.Millisecond))
		}
		return fmt.Sprintf("%s  %s", stats, clock(elapsed))
	}
	done := p.done.Load()
	frac := min(1, float64(done)/float64(p.size))
	const width = 30
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	eta := "ETA --:--"
	switch {
	case final:
		eta = "done in " + elapsed.Round(time.Millisecond).String()
	case done > 0:
		left := time.Duration(float64(elapsed) * float64(p.size-done) / float64(done))
		eta = "ETA " + clock(left)
	}
	return fmt.Sprintf("[%s] %3.0f%%  %s  %s", bar, frac*100, stats, eta)
}

// clock formats d as m:ss (or h:mm:ss).
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func (p *progress) draw(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.line(final)
	switch p.mode {
	case "bar":
		pad := max(0, p.lastLen-len(l))
		fmt.Fprintf(p.w, "\r%s%s", l, strings.Repeat(" ", pad))
		p.lastLen = len(l)
		if final {
			fmt.Fprintln(p.w)
			p.lastLen = 0
		}
	case "plain":
		fmt.Fprintln(p.w, l)
	}
}

// printf prints a message on its own line, clearing the bar (the next redraw brings it back).
func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastLen > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.lastLen))
		p.lastLen = 0
	}
	fmt.Fprintf(p.w, format, args...)
}
