package wire

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/actorlite/actorlite/messages"
)

// ErrMalformed is wrapped by the error of a decoder given a message that no encoder of this
// package produces (a value with no kind, a time out of range, rows of the wrong width).
var ErrMalformed = errors.New("actorlite: malformed wire message")

// EncodeTime returns t's wire form (nil for the zero time).
func EncodeTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{Seconds: t.Unix(), Nanos: int32(t.Nanosecond())}
}

// DecodeTime returns the time t encodes, in UTC (the zero time for nil).
func DecodeTime(t *Time) (time.Time, error) {
	if t == nil {
		return time.Time{}, nil
	}
	if t.Nanos < 0 || t.Nanos >= 1e9 {
		return time.Time{}, fmt.Errorf("%w: time nanos %d out of range", ErrMalformed, t.Nanos)
	}
	return time.Unix(t.Seconds, int64(t.Nanos)).UTC(), nil
}

// decodeValueTime returns the time of a time value: one EncodeValue accepts (years 0000 to
// 9999), or an error wrapping ErrMalformed.
func decodeValueTime(t *Time) (time.Time, error) {
	if t == nil {
		return time.Time{}, fmt.Errorf("%w: time value with no time", ErrMalformed)
	}
	tm, err := DecodeTime(t)
	if err != nil {
		return time.Time{}, err
	}
	if err := messages.CheckTime(tm); err != nil {
		return time.Time{}, fmt.Errorf("%w: time value: %v", ErrMalformed, err)
	}
	return tm, nil
}

// EncodeValue returns v's wire form: v is an argument (anything a connection binds) or a value
// read from a row. Any other type is an error wrapping [messages.ErrBadArgument].
func EncodeValue(v any) (*Value, error) {
	switch x := v.(type) {
	case nil:
		return &Value{Kind: &Value_Null{Null: true}}, nil
	case int64:
		return &Value{Kind: &Value_Int{Int: x}}, nil
	case int:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case int8:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case int16:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case int32:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case uint:
		return encodeUint(uint64(x))
	case uint8:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case uint16:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case uint32:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case uint64:
		return encodeUint(x)
	case float64:
		return &Value{Kind: &Value_Real{Real: x}}, nil
	case float32:
		return &Value{Kind: &Value_Real{Real: float64(x)}}, nil
	case bool:
		return &Value{Kind: &Value_Bool{Bool: x}}, nil
	case string:
		return &Value{Kind: &Value_Text{Text: []byte(x)}}, nil
	case []byte:
		if x == nil {
			return &Value{Kind: &Value_Null{Null: true}}, nil
		}
		return &Value{Kind: &Value_Blob{Blob: x}}, nil
	case json.RawMessage:
		if x == nil {
			return &Value{Kind: &Value_Null{Null: true}}, nil
		}
		return &Value{Kind: &Value_Json{Json: x}}, nil
	case time.Time:
		if err := messages.CheckTime(x); err != nil {
			return nil, fmt.Errorf("%w: %v", messages.ErrBadArgument, err)
		}
		return &Value{Kind: &Value_Time{Time: &Time{Seconds: x.Unix(), Nanos: int32(x.Nanosecond())}}}, nil
	case driver.Valuer:
		dv, err := callValuer(x)
		if err != nil {
			return nil, fmt.Errorf("%w: Value: %v", messages.ErrBadArgument, err)
		}
		if _, again := dv.(driver.Valuer); again {
			return nil, fmt.Errorf("%w: Value returned a driver.Valuer", messages.ErrBadArgument)
		}
		return EncodeValue(dv)
	default:
		return nil, fmt.Errorf("%w: a %T cannot cross the wire", messages.ErrBadArgument, v)
	}
}

// callValuer calls v.Value, turning a panic (a nil pointer receiver, say) into an error.
func callValuer(v driver.Valuer) (dv driver.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked: %v", r)
		}
	}()
	return v.Value()
}

func encodeUint(x uint64) (*Value, error) {
	if x > math.MaxInt64 {
		return nil, fmt.Errorf("%w: %d overflows int64", messages.ErrBadArgument, x)
	}
	return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
}

// DecodeValue returns the Go value v encodes: nil, int64, float64, string, []byte, time.Time
// (in UTC), bool or json.RawMessage. Bytes are not copied out of v.
func DecodeValue(v *Value) (any, error) {
	switch k := v.GetKind().(type) {
	case *Value_Null:
		return nil, nil
	case *Value_Int:
		return k.Int, nil
	case *Value_Real:
		return k.Real, nil
	case *Value_Text:
		return string(k.Text), nil
	case *Value_Blob:
		if k.Blob == nil {
			return []byte{}, nil
		}
		return k.Blob, nil
	case *Value_Time:
		return decodeValueTime(k.Time)
	case *Value_Bool:
		return k.Bool, nil
	case *Value_Json:
		if k.Json == nil {
			return json.RawMessage{}, nil
		}
		return json.RawMessage(k.Json), nil
	default:
		return nil, fmt.Errorf("%w: value of no kind", ErrMalformed)
	}
}

// EncodeArgs returns the wire form of a statement's arguments. An argument that cannot be
// encoded is an [*messages.ArgError] with its 1-based position and type.
func EncodeArgs(args []any) ([]*Value, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make([]*Value, len(args))
	for i, a := range args {
		v, err := EncodeValue(a)
		if err != nil {
			return nil, &messages.ArgError{Pos: i + 1, Type: fmt.Sprintf("%T", a), Reason: strings.TrimPrefix(err.Error(), messages.ErrBadArgument.Error()+": ")}
		}
		out[i] = v
	}
	return out, nil
}

// DecodeArgs returns the arguments vs encode.
func DecodeArgs(vs []*Value) ([]any, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		a, err := DecodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		out[i] = a
	}
	return out, nil
}

// ValueSize is the bytes v takes in a reply, roughly (its text or blob plus 16): what
// replies are bounded by.
func ValueSize(v *Value) int {
	switch k := v.GetKind().(type) {
	case *Value_Text:
		return len(k.Text) + 16
	case *Value_Blob:
		return len(k.Blob) + 16
	case *Value_Json:
		return len(k.Json) + 16
	default:
		return 16
	}
}

// EncodeColumns returns the wire form of cols.
func EncodeColumns(cols []messages.Column) []*Column {
	out := make([]*Column, len(cols))
	for i, c := range cols {
		out[i] = &Column{Name: []byte(c.Name), DeclType: []byte(c.DeclType)}
	}
	return out
}

// DecodeColumns returns the columns cols encode.
func DecodeColumns(cols []*Column) []messages.Column {
	if len(cols) == 0 {
		return nil
	}
	out := make([]messages.Column, len(cols))
	for i, c := range cols {
		out[i] = messages.Column{Name: string(c.GetName()), DeclType: string(c.GetDeclType())}
	}
	return out
}

// EncodeRow returns the wire form of r and its size as [ValueSize] counts it. A value that
// cannot cross the wire (a user converter's result of another type) is an error wrapping
// [messages.ErrConvert].
func EncodeRow(r messages.Row) (*Row, int, error) {
	n := r.Len()
	out := &Row{Values: make([]*Value, n)}
	size := 8
	for i := range n {
		v, err := EncodeValue(r.Index(i))
		if err != nil {
			return nil, 0, fmt.Errorf("%w: column %d: %v", messages.ErrConvert, i+1, err)
		}
		out.Values[i] = v
		size += ValueSize(v)
	}
	return out, size, nil
}

// DecodeRows returns the rows rows encode, with columns cols: every row must have
// len(cols) values.
func DecodeRows(cols []messages.Column, rows []*Row) ([]messages.Row, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	b := messages.NewRowsBuilder(cols, len(rows))
	for i, r := range rows {
		if len(r.GetValues()) != len(cols) {
			return nil, fmt.Errorf("%w: row %d has %d values for %d columns", ErrMalformed, i, len(r.GetValues()), len(cols))
		}
		for _, v := range r.GetValues() {
			switch k := v.GetKind().(type) {
			case *Value_Null:
				b.Null()
			case *Value_Int:
				b.Int(k.Int)
			case *Value_Real:
				b.Float(k.Real)
			case *Value_Text:
				b.Text(k.Text)
			case *Value_Blob:
				b.Blob(k.Blob)
			case *Value_Time:
				t, err := decodeValueTime(k.Time)
				if err != nil {
					return nil, fmt.Errorf("row %d: %w", i, err)
				}
				b.Time(t)
			case *Value_Bool:
				b.Value(k.Bool)
			case *Value_Json:
				b.Value(json.RawMessage(append([]byte{}, k.Json...))) // empty stays empty, not nil
			default:
				return nil, fmt.Errorf("%w: row %d: value of no kind", ErrMalformed, i)
			}
		}
		b.EndRow()
	}
	return b.Rows(), nil
}

// EncodeEvent returns ev's wire form.
func EncodeEvent(ev messages.Event) *Event {
	return &Event{UserId: []byte(ev.UserID), Name: []byte(ev.Name), Properties: ev.Properties, Timestamp: EncodeTime(ev.Timestamp)}
}

// DecodeEvent returns the event e encodes.
func DecodeEvent(e *Event) (messages.Event, error) {
	ts, err := DecodeTime(e.GetTimestamp())
	if err != nil {
		return messages.Event{}, err
	}
	var props json.RawMessage
	if p := e.GetProperties(); len(p) > 0 {
		props = json.RawMessage(p)
	}
	return messages.Event{UserID: string(e.GetUserId()), Name: string(e.GetName()), Properties: props, Timestamp: ts}, nil
}

// Error codes: the sentinels an [Error] names. Codes from CodeUser up are the caller's own
// (see [EncodeError]); the numbers below it are this package's and never change meaning.
const (
	CodeClosed int32 = iota + 1
	CodeCrashed
	CodeTransactionLost
	CodeCursorClosed
	CodeBlobClosed
	CodeUnknownCursor
	CodeUnknownRequest
	CodeNoRows
	CodeInTransaction
	CodeNoTransaction
	CodeBadArgument
	CodeScan
	CodeMultipleStatements
	CodeConvert
	CodeNotAuthorized
	CodeNotReadOnly
	CodeBusy
	CodeConstraint
	CodeInterrupted
	CodeReadOnly
	CodeCantOpen
	CodeCorrupt
	CodeSQL
	CodeNoEventStore
	CodeBadEvent
	CodeOverloaded
	CodeCanceled
	CodeDeadlineExceeded
	CodeMalformed
	CodeConfig

	// CodeUser is the first code for the caller's own sentinels.
	CodeUser int32 = 100
)

var sentinels = map[int32]error{
	CodeClosed:             messages.ErrClosed,
	CodeCrashed:            messages.ErrCrashed,
	CodeTransactionLost:    messages.ErrTransactionLost,
	CodeCursorClosed:       messages.ErrCursorClosed,
	CodeBlobClosed:         messages.ErrBlobClosed,
	CodeUnknownCursor:      messages.ErrUnknownCursor,
	CodeUnknownRequest:     messages.ErrUnknownRequest,
	CodeNoRows:             messages.ErrNoRows,
	CodeInTransaction:      messages.ErrInTransaction,
	CodeNoTransaction:      messages.ErrNoTransaction,
	CodeBadArgument:        messages.ErrBadArgument,
	CodeScan:               messages.ErrScan,
	CodeMultipleStatements: messages.ErrMultipleStatements,
	CodeConvert:            messages.ErrConvert,
	CodeNotAuthorized:      messages.ErrNotAuthorized,
	CodeNotReadOnly:        messages.ErrNotReadOnly,
	CodeBusy:               messages.ErrBusy,
	CodeConstraint:         messages.ErrConstraint,
	CodeInterrupted:        messages.ErrInterrupted,
	CodeReadOnly:           messages.ErrReadOnly,
	CodeCantOpen:           messages.ErrCantOpen,
	CodeCorrupt:            messages.ErrCorrupt,
	CodeSQL:                messages.ErrSQL,
	CodeNoEventStore:       messages.ErrNoEventStore,
	CodeBadEvent:           messages.ErrBadEvent,
	CodeOverloaded:         messages.ErrOverloaded,
	CodeCanceled:           context.Canceled,
	CodeDeadlineExceeded:   context.DeadlineExceeded,
	CodeMalformed:          ErrMalformed,
	CodeConfig:             messages.ErrConfig,
}

// lastCode is the highest code of this package's sentinels.
const lastCode = CodeConfig

// maxCodes bounds the codes decoded from one Error.
const maxCodes = 16

// EncodeError returns err's wire form (nil for nil): its text, made valid UTF-8, and the
// code of each sentinel it wraps (errors.Is), those of package messages and context, and
// those of user (codes from [CodeUser] up, to the caller's own sentinels).
func EncodeError(err error, user map[int32]error) *Error {
	if err == nil {
		return nil
	}
	e := &Error{Message: strings.ToValidUTF8(err.Error(), "\uFFFD")}
	for code := CodeClosed; code <= lastCode; code++ {
		if errors.Is(err, sentinels[code]) {
			e.Codes = append(e.Codes, code)
		}
	}
	for code, s := range user {
		if code >= CodeUser && errors.Is(err, s) {
			e.Codes = append(e.Codes, code)
		}
	}
	return e
}

// DecodeError returns the error e encodes (nil for nil): a [*RemoteError] with its text, for
// which errors.Is holds for the sentinel of each of its codes (user's for codes from
// [CodeUser] up; unknown codes are ignored).
func DecodeError(e *Error, user map[int32]error) error {
	if e == nil {
		return nil
	}
	re := &RemoteError{Message: e.GetMessage()}
	for i, code := range e.GetCodes() {
		if i == maxCodes {
			break
		}
		s := sentinels[code]
		if code >= CodeUser {
			s = user[code]
		}
		if s != nil {
			re.errs = append(re.errs, s)
		}
	}
	if re.Message == "" {
		re.Message = "actorlite: remote error"
	}
	return re
}

// RemoteError is an error that crossed the wire: its text, and the sentinels it wrapped on
// the other side (errors.Is holds for each of them).
type RemoteError struct {
	Message string
	errs    []error
}

// Error returns the error's text as the other side had it.
func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the sentinels the error wrapped on the other side.
func (e *RemoteError) Unwrap() []error { return e.errs }
