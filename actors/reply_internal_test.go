package actors

import (
	"errors"
	"testing"

	"github.com/actorlite/actorlite/messages"
)

// takeOneRow gives back to oneRowReplies only a reply oneRow made: every other reply a handle
// may get for a one-row query (an error reply, a chunk's, a program's) is left alone, and
// each reads the same.
func TestTakeOneRowRecyclesOnlyItsOwnReplies(t *testing.T) {
	cols := []messages.Column{{Name: "n"}}
	built := func(hint int, rows int) *messages.RowsBuilder {
		b := messages.NewRowsBuilder(cols, hint)
		for i := range rows {
			b.Int(int64(i + 7))
		}
		return &b
	}
	program := messages.NewRowsBuilder(cols, 4)
	program.Int(7)
	for _, tc := range []struct {
		name   string
		reply  func() *messages.Rows
		pooled bool
		row    bool
	}{
		{"oneRow, a row", func() *messages.Rows { return oneRow(built(1, 1), cols) }, true, true},
		{"oneRow, no row", func() *messages.Rows { return oneRow(built(1, 0), cols) }, true, false},
		{"a one-row builder's Reply", func() *messages.Rows { return built(1, 1).Reply() }, false, true},
		{"a chunk's Reply", func() *messages.Rows { return built(16, 1).Reply() }, false, true},
		{"an error reply", func() *messages.Rows {
			return (&messages.Query{}).ErrorReply(errors.New("x")).(*messages.Rows)
		}, false, false},
		{"a program's", func() *messages.Rows { return &messages.Rows{Rows: program.Rows()} }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.reply()
			isOwn := func() bool {
				return len(r.Rows) <= 1 && cap(r.Rows) == 1 && oneRowOf(r) != nil
			}
			if got := isOwn(); got != tc.pooled {
				t.Fatalf("told as oneRow's: %v, want %v", got, tc.pooled)
			}
			before := *r
			row, err := takeOneRow(r)
			if tc.row != (err == nil) || (!tc.row && !errors.Is(err, messages.ErrNoRows)) {
				t.Fatalf("takeOneRow: %v, want a row: %v", err, tc.row)
			}
			if tc.row {
				if v, _ := row.Index(0).(int64); v != 7 {
					t.Errorf("row reads %v, want 7", row.Index(0))
				}
			}
			if !tc.pooled && (len(r.Rows) != len(before.Rows) || r.Err != before.Err) {
				t.Errorf("a reply that is not oneRow's was changed: %+v, was %+v", *r, before)
			}
			if tc.pooled && (r.Rows != nil || r.Columns != nil) {
				t.Errorf("oneRow's reply was not cleared when given back: %+v", *r)
			}
		})
	}
}
