package messages

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// Each frozenRow size fills one of Go's size classes, and a chunk is 512 bytes: a field added
// to Rows or rowSet that pushes one over its class costs every point select another size
// class of memory, and this test says so.
func TestRowStoreSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"chunk", unsafe.Sizeof(chunk{}), 512},
		{"frozenRow header", unsafe.Sizeof(frozenRow{}), 112},
		{"frozen 6", unsafe.Sizeof(frozen[[6]uint64]{}), 160},
		{"frozen 14", unsafe.Sizeof(frozen[[14]uint64]{}), 224},
		{"frozen 22", unsafe.Sizeof(frozen[[22]uint64]{}), 288},
		{"frozen 30", unsafe.Sizeof(frozen[[30]uint64]{}), 352},
		{"frozen 42", unsafe.Sizeof(frozen[[42]uint64]{}), 448},
		{"frozen 58", unsafe.Sizeof(frozen[[58]uint64]{}), 576},
		{"frozen 82", unsafe.Sizeof(frozen[[82]uint64]{}), 768},
		{"frozen 114", unsafe.Sizeof(frozen[[114]uint64]{}), 1024},
		{"rowReply", unsafe.Sizeof(rowReply{}), 104},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %d bytes, want %d", tc.name, tc.got, tc.want)
		}
	}
	for need := 0; need <= maxFrozen+8; need++ {
		f, data := newFrozen(need)
		if need > maxFrozen {
			if f != nil {
				t.Fatalf("newFrozen(%d) above maxFrozen = %p", need, f)
			}
			continue
		}
		if f == nil || uintptr(data)%8 != 0 {
			t.Fatalf("newFrozen(%d) = %p, data %p", need, f, data)
		}
		room := uintptr(unsafe.Pointer(f)) + unsafe.Sizeof(frozenRow{}) // the header, then data to the object's end
		if uintptr(data) != room {
			t.Fatalf("newFrozen(%d): data at %#x, want %#x", need, data, room)
		}
	}
}

// addRandomRow appends one row of random values of every kind to b, and returns them as a
// Row's Values would.
func addRandomRow(r *rand.Rand, b *RowsBuilder, ncols int) []any {
	want := make([]any, ncols)
	for i := range want {
		switch r.IntN(7) {
		case 0:
			b.Null()
		case 1:
			v := r.Int64()
			b.Int(v)
			want[i] = v
		case 2:
			v := r.NormFloat64()
			b.Float(v)
			want[i] = v
		case 3:
			v := strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(300))
			b.Text([]byte(v))
			want[i] = v
		case 4:
			v := bytes.Repeat([]byte{byte(r.IntN(256))}, r.IntN(300))
			b.Blob(v)
			want[i] = v
		case 5:
			v := time.Unix(r.Int64N(1<<34), r.Int64N(1e9)).UTC()
			b.Time(v)
			want[i] = v
		default:
			v := map[string]int{"n": r.IntN(10)} // a converter's value: boxed
			b.Value(v)
			want[i] = v
		}
	}
	b.EndRow()
	return want
}

// A row built in a scratch chunk reads back the same whether it was copied out or kept its
// chunk, and whether it came by Rows, Reply or Row; and neither the next row built in that scratch chunk nor any later one changes it.
func TestScratchRowsStayTheirOwn(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type kept struct {
		row  Row
		want []any
	}
	var all []kept
	for i := range 2000 {
		ncols := r.IntN(12)
		cols := make([]Column, ncols)
		for j := range cols {
			cols[j].Name = string(rune('a' + j))
		}
		b := NewRowsBuilder(cols, 1)
		var want []any
		rows := 0
		if i%10 != 0 { // and a few results of no row (ErrNoRows)
			want = addRandomRow(r, &b, ncols)
			rows = 1
		}
		var got []Row
		switch i % 3 {
		case 0:
			got = b.Rows()
		case 1:
			got = b.Reply().Rows
		default:
			if row, ok := b.Row(); ok {
				got = []Row{row}
			}
		}
		if ncols == 0 && rows == 1 {
			continue // a row of no columns has no values to compare
		}
		if len(got) != rows {
			t.Fatalf("row %d: %d rows, want %d", i, len(got), rows)
		}
		if rows == 1 {
			all = append(all, kept{got[0], want})
		}
	}
	for i, k := range all {
		if got := k.row.Values(); !reflect.DeepEqual(got, k.want) {
			t.Fatalf("row %d of %d changed after later rows were built:\n got %v\nwant %v", i, len(all), got, k.want)
		}
	}
}

// A builder used after Rows fails at once, on its own: it never writes into the scratch chunk
// that another builder now uses.
func TestScratchBuilderUsedAfterRowsPanics(t *testing.T) {
	cols := []Column{{Name: "n"}}
	b := NewRowsBuilder(cols, 1)
	b.Int(1)
	row := b.Rows()[0]
	defer func() {
		if recover() == nil {
			t.Error("Int after Rows did not panic")
		}
		if v, _ := row.Index(0).(int64); v != 1 {
			t.Errorf("the row built reads %v, want 1", row.Index(0))
		}
	}()
	b.Int(2)
}
