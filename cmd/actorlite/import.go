package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/actorlite/actorlite/actors"
	"github.com/actorlite/actorlite/messages"
)

// The shell's .import: CSV into a table, as sqlite3's .import --csv does it (a missing table
// is created, its TEXT columns named by the first row; every field is bound as text, empty
// ones as ''), with ingest's reporting of bad rows (FILE:LINE: reason, skipped, counted) in
// place of sqlite3's filling of short rows with NULL.

// The bounds on .import's memory, whatever its input.
const (
	// maxRecordBytes is the longest CSV record .import reads: 16 MiB. A longer one (an
	// unterminated quote, say) stops the import, and nothing of it is kept.
	maxRecordBytes = 16 << 20
	// importChunkRows and importChunkBytes end a chunk of rows, an ExecMany call (two, with the
	// rows short of a whole statement): about 4,096 rows (whole statements of importer.per
	// rows) or 4 MiB of field text (counted with importRowOverhead bytes a row and 16 a
	// field), whichever comes first.
	importChunkRows   = 4096
	importChunkBytes  = 4 << 20
	importRowOverhead = 64
	// importMaxStmtRows and importMaxStmtParams bound the rows of one INSERT statement: 200,
	// and 999 parameters in all (SQLite's lowest limit on a statement's parameters).
	importMaxStmtRows   = 200
	importMaxStmtParams = 999
	// importQueued is how many chunks wait for a writer while it writes one: .import holds
	// at most (importQueued+1) chunks a writer, the one filled, and one record.
	importQueued = 2
	// maxImportWriters is how many connections may share an import: one a core, up to 4.
	maxImportWriters = 4
	// importShowErrors is how many bad rows .import reports one by one; its summary lists the
	// first listBadLines, and all are counted.
	importShowErrors = 20
)

// Input sizes from which .import does more (variables: tests lower them).
var (
	// importBarBytes is the input size from which .import shows a progress bar (on stderr,
	// when it is a terminal).
	importBarBytes int64 = 4 << 20
	// importSplitBytes is the input size from which .import into a table it creates uses a
	// writer a core (see importCSV).
	importSplitBytes int64 = 16 << 20
)

// errRecordTooLong stops an import at a record longer than maxRecordBytes.
var errRecordTooLong = errors.New("a CSV record longer than 16 MiB (the limit)")

// importCmd runs ".import [--csv] [--skip N] FILE TABLE".
func (sh *shell) importCmd(args []string, at where) error {
	skip := 0
	var pos []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--csv":
		case a == "--skip" && i+1 < len(args):
			n, err := strconv.Atoi(args[i+1])
			if err != nil || n < 0 {
				return fmt.Errorf("--skip %q: want a number of rows", args[i+1])
			}
			skip = n
			i++
		case strings.HasPrefix(a, "-") && len(a) > 1:
			return fmt.Errorf("unknown option %s: usage: .import [--csv] [--skip N] FILE TABLE", a)
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 2 {
		return errors.New("usage: .import [--csv] [--skip N] FILE TABLE")
	}
	var im *importer
	err := sh.interruptible(func(ctx context.Context) (err error) {
		im, err = sh.importCSV(ctx, pos[0], pos[1], skip)
		return err
	})
	if err == nil && im.rejected.n > 0 {
		// Committed, but for the bad rows.
		return fmt.Errorf("%s rejected (%s), the other %s imported", plural(int(im.rejected.n), "row"),
			im.rejected, plural(int(im.prog.events.Load()), "row"))
	}
	return err
}

// importChunk is one ExecMany call's rows.
type importChunk struct {
	rows  [][]any
	lines []int // each row's line
	bytes int
	start int64 // input bytes before it (the previous chunk's end)
	end   int64 // input bytes up to the end of its last record
}

// importer holds an import's state shared by its reader and writer.
type importer struct {
	file string
	cols int
	per  int // rows a statement (see insertSQL)
	prog *progress

	mu       sync.Mutex
	rejected badLines
}

// reject reports a bad row as FILE:LINE: reason (the first importShowErrors ones) and counts it.
func (im *importer) reject(line int, reason string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.rejected.add(int64(line))
	if n := im.rejected.n; n <= importShowErrors {
		im.prog.printf("%s:%d: %s\n", im.file, line, reason)
	} else if n == importShowErrors+1 {
		im.prog.printf("(further bad rows are counted, not shown)\n")
	}
}

// importCSV loads the CSV file at path into table, in one transaction (a savepoint, so it
// also works inside the user's own): an interrupt or an error other than a bad row leaves
// the database as it was. A reader goroutine parses the CSV into chunks while writers insert
// each with ExecMany (one prepared INSERT, kept in the connection's cache). It returns the
// importer, which holds the rows rejected and the count of those imported.
//
// Into a table it creates, from a large file (importSplitBytes), outside a transaction of the
// user's, a writer a core (up to maxImportWriters) shares the work: the shell's connection
// inserts the first share of the file into the table, while each other connection inserts
// the next share into a scratch database file beside the database (journal off, removed
// afterwards); then the shell's connection appends the scratch tables, in order, to the new
// one with INSERT … SELECT * (which SQLite copies record by record, without decoding them),
// so the rows keep the file's order.
func (sh *shell) importCSV(ctx context.Context, path, table string, skip int) (im *importer, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64 = -1
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	guard := &recordGuard{r: f, limit: maxRecordBytes + 64<<10}
	br := bufio.NewReaderSize(guard, 64<<10)
	if b, _ := br.Peek(3); string(b) == "\xef\xbb\xbf" { // a UTF-8 byte order mark
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	lastLine := 0            // of the last record read
	for ; skip > 0; skip-- { // skipped records are not checked
		_, err := cr.Read()
		var pe *csv.ParseError
		if err == io.EOF {
			break
		} else if errors.As(err, &pe) {
			lastLine = pe.Line
		} else if err != nil {
			return nil, readStop(path, lastLine, err)
		} else {
			lastLine, _ = cr.FieldPos(0)
		}
	}

	mode := "off"
	if sh.progress == "bar" && size >= importBarBytes {
		mode = "bar"
	}
	im = &importer{file: path, prog: newProgress(sh.errw, mode, size)}
	im.prog.unit = "rows"
	return im, sh.importRows(ctx, im, cr, guard, table, lastLine, size)
}

// importRows is importCSV's work once the file is open and the records to skip are read.
func (sh *shell) importRows(ctx context.Context, im *importer, cr *csv.Reader, guard *recordGuard, table string, lastLine int, size int64) (err error) {
	path := im.file

	cols, err := sh.db.QueryRow(ctx, "SELECT count(*) FROM pragma_table_info(?)", table)
	if err != nil {
		return err
	}
	im.cols = int(cols.Index(0).(int64))
	var header []string
	if im.cols == 0 {
		// A new table: the first record names its columns.
		rec, err := cr.Read()
		if err == io.EOF {
			return fmt.Errorf("%s is empty: no first row to name the columns of %s", path, table)
		}
		if err != nil {
			return readStop(path, lastLine, err)
		}
		lastLine, _ = cr.FieldPos(0)
		header = slices.Clone(rec)
		im.cols = len(rec)
	}
	defs := make([]string, len(header))
	for i, name := range header {
		defs[i] = quoteIdent(name) + " TEXT"
	}
	// More writers, for a large file into a new table: one scratch database each.
	var scratches []*importScratch
	defer func() {
		for _, sc := range scratches {
			if cerr := sc.close(); err == nil {
				err = cerr
			}
		}
	}()
	if header != nil && size >= importSplitBytes {
		for i := 1; i < min(runtime.NumCPU(), maxImportWriters); i++ {
			sc, err := sh.openScratch(ctx, defs, i)
			if err != nil {
				return err
			}
			if sc == nil {
				break
			}
			scratches = append(scratches, sc)
		}
	}

	// The transaction: a savepoint, released at the end, rolled back to on a failure.
	bg := context.WithoutCancel(ctx)
	if _, err := sh.db.Exec(ctx, "SAVEPOINT actorlite_import"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if _, rerr := sh.db.Exec(bg, "ROLLBACK TO actorlite_import"); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		if _, rerr := sh.db.Exec(bg, "RELEASE actorlite_import"); rerr != nil && err == nil {
			err = rerr
		}
	}()
	quoted := quoteIdent(table)
	if header != nil {
		if _, err := sh.db.Exec(ctx, "CREATE TABLE "+quoted+" ("+strings.Join(defs, ", ")+")"); err != nil {
			return fmt.Errorf("%s:%d: the first row does not make a table: %s", path, lastLine, rowReason(err))
		}
	}
	// Rows go im.per to a statement: INSERT … VALUES (…), (…), … (SQLite runs one statement
	// of many rows with a fraction of the work of as many one-row statements).
	im.per = max(1, min(importMaxStmtRows, importMaxStmtParams/im.cols))
	row := "(?" + strings.Repeat(", ?", im.cols-1) + ")"
	values := insertSQL{one: " VALUES " + row, many: " VALUES " + row + strings.Repeat(", "+row, im.per-1)}

	// The writers: the shell's connection, into the table, for the first share of the file;
	// then each scratch connection, into its scratch table, for the next share.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	chans := make([]chan *importChunk, 1+len(scratches))
	for i := range chans {
		chans[i] = make(chan *importChunk, importQueued)
	}
	var readErr error
	readDone := make(chan struct{})
	im.prog.begin()
	go func() {
		defer close(readDone)
		defer func() {
			for _, ch := range chans {
				close(ch)
			}
		}()
		readErr = im.read(rctx, cr, guard, lastLine, func(c *importChunk) error {
			// A chunk goes to the writer whose share holds its start: equal shares of the
			// file, in order.
			w := min(int(c.start*int64(len(chans))/max(size, 1)), len(chans)-1)
			select {
			case chans[w] <- c:
				return nil
			case <-rctx.Done():
				return rctx.Err()
			}
		})
	}()
	// write inserts the chunks of ch through db, until ch is closed; after an error, it stops
	// the reader and drains ch.
	write := func(db *actors.Conn, sql insertSQL, ch <-chan *importChunk) error {
		var werr error
		for c := range ch {
			if werr == nil {
				werr = im.insert(ctx, db, sql, c)
				if sh.chunkDone != nil {
					sh.chunkDone()
				}
			}
			if werr != nil {
				stop()
			}
		}
		return werr
	}
	for i, sc := range scratches {
		go func() {
			defer close(sc.done)
			sc.err = write(sc.db, values.into("part"), chans[1+i])
			if sc.err == nil {
				sc.err = sc.db.Commit(ctx)
			}
		}()
	}
	werr := write(sh.db, values.into(quoted), chans[0])
	// The rest of the file, each scratch table in turn, as soon as it is written.
	for _, sc := range scratches {
		<-sc.done
		if werr == nil && sc.err == nil && readErr == nil {
			_, werr = sh.db.Exec(ctx, "INSERT INTO "+quoted+" SELECT * FROM "+sc.schema+".part")
		}
	}
	<-readDone
	im.prog.finish()
	if werr != nil {
		return werr
	}
	for _, sc := range scratches {
		if sc.err != nil {
			return sc.err
		}
	}
	return readErr
}

// importScratch is a writer's connection and scratch database, besides the shell's (see
// importCSV).
type importScratch struct {
	sh       *shell
	db       *actors.Conn
	path     string
	schema   string // as the shell's connection attaches it
	attached bool

	done chan struct{} // closed when the writer is done; then err is set
	err  error
}

// openScratch opens the i-th scratch database beside the shell's (nil, nil when the shell's
// is not a plain file or is in a transaction, or the scratch cannot be created), creates its
// table with columns defs, begins its transaction, and attaches it to the shell's connection
// as actorlite_import_i.
func (sh *shell) openScratch(ctx context.Context, defs []string, i int) (*importScratch, error) {
	if sh.sup == nil || sh.dbPath == "" || sh.dbPath == ":memory:" || strings.HasPrefix(sh.dbPath, "file:") {
		return nil, nil
	}
	if in, err := sh.db.InTransaction(ctx); err != nil || in {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(sh.dbPath), "."+filepath.Base(sh.dbPath)+".import-*")
	if err != nil {
		return nil, nil // a read-only directory: one writer
	}
	f.Close()
	sc := &importScratch{sh: sh, path: f.Name(), schema: fmt.Sprintf("actorlite_import_%d", i), done: make(chan struct{})}
	sc.db, err = sh.sup.Open(ctx, sc.path, actors.WithPragma("journal_mode", "OFF"), actors.WithSynchronous("OFF"))
	if err == nil {
		_, err = sc.db.Exec(ctx, "CREATE TABLE part ("+strings.Join(defs, ", ")+")")
	}
	if err == nil {
		err = sc.db.Begin(ctx)
	}
	if err == nil {
		_, err = sh.db.Exec(ctx, "ATTACH DATABASE ? AS "+sc.schema, sc.path)
		sc.attached = err == nil
	}
	if err != nil {
		return nil, errors.Join(err, sc.close())
	}
	return sc, nil
}

// close detaches the scratch database, closes its connection and removes its files.
func (sc *importScratch) close() error {
	ctx := context.WithoutCancel(sc.sh.ctx)
	var errs []error
	if sc.attached {
		if _, err := sc.sh.db.Exec(ctx, "DETACH DATABASE "+sc.schema); err != nil {
			errs = append(errs, err)
		}
	}
	if sc.db != nil {
		errs = append(errs, sc.db.Close(ctx))
	}
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(sc.path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// read parses the CSV records after line lastLine into chunks of rows and sends them; bad
// rows are rejected.
func (im *importer) read(ctx context.Context, cr *csv.Reader, guard *recordGuard, lastLine int, sendTo func(*importChunk) error) error {
	newChunk := func() *importChunk {
		return &importChunk{rows: make([][]any, 0, 256), lines: make([]int, 0, 256)}
	}
	var sent int64 // input bytes of the chunks sent
	cur := newChunk()
	send := func(c *importChunk) error {
		c.start, sent = sent, c.end
		return sendTo(c)
	}
	var vals []any // rows' values, allocated a chunk's worth at a time
	for {
		guard.reset()
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			im.reject(pe.StartLine, csvErr(err).Error())
			lastLine = pe.Line
			continue
		}
		if err != nil {
			return readStop(im.file, lastLine, err)
		}
		line, _ := cr.FieldPos(0)
		lastLine = line
		if len(rec) != im.cols {
			im.reject(line, fmt.Sprintf("expected %d columns, found %d", im.cols, len(rec)))
			continue
		}
		if len(vals) < len(rec) {
			vals = make([]any, max(len(rec), im.chunkRows()/4*len(rec)))
		}
		row := vals[:len(rec):len(rec)]
		vals = vals[len(rec):]
		n := importRowOverhead
		for i, f := range rec {
			row[i] = f
			n += len(f) + 16
		}
		cur.rows = append(cur.rows, row)
		cur.lines = append(cur.lines, line)
		cur.bytes += n
		cur.end = cr.InputOffset()
		if len(cur.rows) >= im.chunkRows() || cur.bytes >= importChunkBytes {
			if err := send(cur); err != nil {
				return err
			}
			cur = newChunk()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	cur.end = cr.InputOffset()
	return send(cur)
}

// insertSQL is the INSERT of one row and of importer.per rows, without its "INSERT INTO t".
type insertSQL struct{ one, many string }

// into returns the statements for the table quoted.
func (s insertSQL) into(quoted string) insertSQL {
	return insertSQL{one: "INSERT INTO " + quoted + s.one, many: "INSERT INTO " + quoted + s.many}
}

// chunkRows is how many rows end a chunk: about importChunkRows, whole statements of per rows.
func (im *importer) chunkRows() int {
	return max(1, importChunkRows/im.per) * im.per
}

// insert writes c's rows through db in a savepoint: with one ExecMany of the statement of
// im.per rows, then one of the one-row statement for the rest. Should a row fail (a
// constraint), the savepoint is rolled back and the rows go one by one, each failing one
// rejected with its line.
func (im *importer) insert(ctx context.Context, db *actors.Conn, sql insertSQL, c *importChunk) error {
	if written := len(c.rows); written > 0 {
		if _, err := db.Exec(ctx, "SAVEPOINT actorlite_import_chunk"); err != nil {
			return err
		}
		var err error
		full := len(c.rows) / im.per * im.per
		if full > 0 && im.per > 1 {
			flat := make([]any, 0, full*im.cols)
			for _, r := range c.rows[:full] {
				flat = append(flat, r...)
			}
			args := make([][]any, full/im.per)
			for i := range args {
				args[i] = flat[i*im.per*im.cols : (i+1)*im.per*im.cols]
			}
			_, err = db.ExecMany(ctx, sql.many, args)
		} else {
			full = 0
		}
		if err == nil && full < len(c.rows) {
			_, err = db.ExecMany(ctx, sql.one, c.rows[full:])
		}
		if err != nil && ctx.Err() == nil {
			if _, err := db.Exec(ctx, "ROLLBACK TO actorlite_import_chunk"); err != nil {
				return err
			}
			n := 0
			for i, row := range c.rows {
				if _, err = db.Exec(ctx, sql.one, row...); err != nil {
					if ctx.Err() != nil {
						break
					}
					im.reject(c.lines[i], rowReason(err))
					err = nil
					continue
				}
				n++
			}
			written = n
		}
		if err != nil {
			return err
		}
		if _, err := db.Exec(ctx, "RELEASE actorlite_import_chunk"); err != nil {
			return err
		}
		im.prog.events.Add(int64(written))
	}
	im.prog.done.Add(c.end - c.start) // the writers' chunks come in any order
	return nil
}

// rowReason is why SQLite refused a row: its message, without the statement.
func rowReason(err error) string {
	var se *messages.Error
	if errors.As(err, &se) {
		return se.Message
	}
	return errText(err)
}

// isCSVError reports whether err is a bad record (the import goes on after it).
func isCSVError(err error) bool {
	var pe *csv.ParseError
	return errors.As(err, &pe)
}

// readStop returns err, a read error that stops the import, with its place: a record longer
// than maxRecordBytes starts after line lastLine.
func readStop(path string, lastLine int, err error) error {
	if errors.Is(err, errRecordTooLong) {
		return fmt.Errorf("%s:%d: %w", path, lastLine+1, err)
	}
	if isCSVError(err) {
		var pe *csv.ParseError
		errors.As(err, &pe)
		return fmt.Errorf("%s:%d: %w", path, pe.StartLine, pe.Err)
	}
	return err
}

// csvErr is a CSV error without encoding/csv's own location (the caller gives FILE:LINE).
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// recordGuard bounds the bytes read for one CSV record: it fails reads with errRecordTooLong
// once more than limit bytes were read since reset (called before each record). A record
// longer than limit less the reader's buffer fails so.
type recordGuard struct {
	r     io.Reader
	n     int64
	limit int64
}

func (g *recordGuard) reset() { g.n = 0 }

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.n >= g.limit {
		return 0, errRecordTooLong
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}
