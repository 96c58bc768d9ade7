package messages

import (
	"strings"
	"testing"
	"unsafe"
)

// A string read from a chunk shares the chunk's memory only when the chunk is one row copied
// out to its own size (at most 1 KiB): it then keeps alive no more than that row. From a chunk
// of many rows (a scan), or a row with large values, it is a copy, so that a string kept from
// a scan never keeps its whole chunk alive.
func TestStringsShareOnlyOneSmallRow(t *testing.T) {
	cols := []Column{{Name: "s"}}
	build := func(hint, rows int, text string) []Row {
		b := NewRowsBuilder(cols, hint)
		for range rows {
			b.Text([]byte(text))
		}
		return b.Rows()
	}
	inBuf := func(r Row, s string) bool {
		buf := r.set.buf
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
		return p >= start && p < start+uintptr(cap(buf))
	}
	for _, tc := range []struct {
		name   string
		hint   int
		rows   int
		text   string
		shared bool
	}{
		{"one small row", 1, 1, "user-42", true},
		{"one row of 800 bytes", 1, 1, strings.Repeat("x", maxFrozen-16), true},
		{"one row too large to copy out", 1, 1, strings.Repeat("x", maxFrozen-15), false},
		{"one small row in a chunk meant for more", 16, 1, "user-42", true},
		{"one row larger than a chunk's own room", 16, 1, strings.Repeat("x", 200), false},
		{"many rows", 3, 3, "user-42", false},
		{"many rows where one was meant", 1, 3, "user-42", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := build(tc.hint, tc.rows, tc.text)
			var s string
			if err := rows[0].Scan(&s); err != nil || s != tc.text {
				t.Fatalf("Scan = %q, %v", s, err)
			}
			v, _ := rows[0].Index(0).(string)
			if v != tc.text {
				t.Fatalf("Index = %q", v)
			}
			if got := inBuf(rows[0], s); got != tc.shared {
				t.Errorf("Scan's string shares the chunk's memory: %v, want %v", got, tc.shared)
			}
			if got := inBuf(rows[0], v); got != tc.shared {
				t.Errorf("Index's string shares the chunk's memory: %v, want %v", got, tc.shared)
			}
			var p []byte
			if err := rows[0].Scan(&p); err != nil || string(p) != tc.text || &p[0] == &rows[0].set.buf[0] {
				t.Errorf("a []byte destination must get a copy of the row's bytes: %q, %v", p, err)
			}
		})
	}
}
