package messages

import (
	"sync"
	"unsafe"
)

// Where the values of rows live. A chunk of many rows (a scan's fetch) is built in place, in a
// chunk: small ones inside it, one allocation in all. A single row (QueryRow, a fetch of one
// row) is built in a scratch chunk that is reused, then copied into a frozenRow sized to it:
// what a point select leaves on the heap is then its row's bytes, not a chunk's room for
// more. Memory a call allocates afresh costs it again in the allocator, in the cache it
// displaces and in the garbage collector: in the bench module, one more allocation of 512
// bytes per point select made it about 4% slower (bench/README.md, "Third round").

// chunk is a rowSet built in place, with room inside it for a small chunk of rows.
type chunk struct {
	rowSet
	inlineSlots [8]slot
	inlineBuf   [176]byte // with the rest, 512 bytes: a size class of Go's allocator
	inlineRows  [1]Row
	reply       Rows // the reply message carrying the chunk, allocated with it
}

// reset starts c afresh for rows of cols, with room for slots values.
func (c *chunk) reset(cols []Column, slots int) {
	c.cols, c.boxed, c.shared = cols, nil, false
	if slots <= len(c.inlineSlots) {
		c.slots = c.inlineSlots[:0]
	} else if cap(c.slots) < slots {
		c.slots = make([]slot, 0, slots)
	} else {
		c.slots = c.slots[:0] // a scratch chunk's own, kept from an earlier row
	}
	c.buf = c.buf[:0]
	if cap(c.buf) == 0 {
		c.buf = c.inlineBuf[:0]
	}
}

// scratchChunks holds the scratch chunks single rows are built in. A chunk given back keeps
// the slots and bytes it grew, up to maxFrozen bytes: a larger row was not copied out (see
// chunk.freeze), and its chunk is its own.
var scratchChunks = sync.Pool{New: func() any { return new(chunk) }}

// recycle gives a scratch chunk, whose row was copied out, back to scratchChunks.
func (c *chunk) recycle() {
	c.cols, c.boxed = nil, nil
	if cap(c.buf) > maxFrozen {
		c.buf = nil
	}
	if cap(c.slots)*int(unsafe.Sizeof(slot{})) > maxFrozen {
		c.slots = nil
	}
	scratchChunks.Put(c)
}

// frozenRow holds one row (or none) copied out of a scratch chunk: its rowSet, followed by
// its slots and bytes in data (see frozen). It holds nothing else: a reply carrying it is the
// caller's (see RowsBuilder.Row).
type frozenRow struct {
	rowSet
	n int // rows: 0 or 1
}

// frozen is a frozenRow with room for data words of slots and bytes. The sizes the row takes
// are a few instances of it, each filling one of Go's size classes (see newFrozen).
type frozen[T any] struct {
	frozenRow
	data T // [k]uint64: the slots, then the bytes
}

// maxFrozen bounds the slots and bytes of a row that is copied out of its scratch chunk: a
// frozenRow holding it takes at most 1 KiB. A larger row keeps its chunk.
const maxFrozen = 912

// newFrozen allocates a frozenRow with room for at least need bytes of slots and values, and
// returns it with the start of that room (8-byte aligned); nil when need is above maxFrozen.
// Each size fills a size class of Go's allocator (112 bytes of header, then data).
func newFrozen(need int) (*frozenRow, unsafe.Pointer) {
	switch {
	case need <= 6*8:
		return allocFrozen[[6]uint64]() // 160 bytes
	case need <= 14*8:
		return allocFrozen[[14]uint64]() // 224
	case need <= 22*8:
		return allocFrozen[[22]uint64]() // 288
	case need <= 30*8:
		return allocFrozen[[30]uint64]() // 352
	case need <= 42*8:
		return allocFrozen[[42]uint64]() // 448
	case need <= 58*8:
		return allocFrozen[[58]uint64]() // 576
	case need <= 82*8:
		return allocFrozen[[82]uint64]() // 768
	case need <= maxFrozen:
		return allocFrozen[[114]uint64]() // 1024
	}
	return nil, nil
}

// allocFrozen allocates a frozen[T] and returns its frozenRow and the start of its data.
func allocFrozen[T any]() (*frozenRow, unsafe.Pointer) {
	f := new(frozen[T])
	return &f.frozenRow, unsafe.Pointer(&f.data)
}

// freeze copies the n rows (0 or 1) of scratch chunk c into a frozenRow of their size, or
// returns nil when they do not fit one.
func (c *chunk) freeze(n int) *frozenRow {
	if n > 1 {
		return nil
	}
	slotBytes := len(c.slots) * int(unsafe.Sizeof(slot{}))
	f, data := newFrozen(slotBytes + len(c.buf))
	if f == nil {
		return nil
	}
	f.cols, f.boxed, f.shared, f.n = c.cols, c.boxed, true, n
	if len(c.slots) > 0 {
		f.slots = unsafe.Slice((*slot)(data), len(c.slots))
		copy(f.slots, c.slots)
	}
	if len(c.buf) > 0 {
		f.buf = unsafe.Slice((*byte)(unsafe.Add(data, slotBytes)), len(c.buf))
		copy(f.buf, c.buf)
	}
	return f
}

// row returns f's row, and whether it has one.
func (f *frozenRow) row() (Row, bool) {
	if f.n == 0 {
		return Row{}, false
	}
	return Row{set: &f.rowSet}, true
}

// rowReply is a reply carrying at most one row, allocated with room for it. The row comes
// first: package actors tells its own pooled one-row replies by their row following them.
type rowReply struct {
	one [1]Row
	r   Rows
}
