package sqlitewasm

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/ncruces/go-sqlite3"
)

// bindAll binds args to the n parameters of stmt, in order; scratch is the connection's
// buffer for a time's text (SQLite copies what is bound). It reports whether SQLite may now
// hold a copy of a text or blob argument, which release frees by clearing the bindings (a
// statement bound only numbers and NULLs skips that call). An error part way reports true.
func bindAll(stmt *sqlite3.Stmt, n int, args []any, scratch *[]byte) (holdsBytes bool, err error) {
	for _, arg := range args {
		if _, ok := arg.(sql.NamedArg); ok {
			return true, bindNamed(stmt, args)
		}
	}
	if n != len(args) {
		return false, &messages.ArgError{Reason: fmt.Sprintf("the statement has %d parameters, %d arguments given", n, len(args))}
	}
	for i, arg := range args {
		switch arg.(type) {
		case nil, int64, int, float64, bool, int32, int16, int8, uint8, uint16, uint32, float32:
		default:
			holdsBytes = true
		}
		if t, ok := arg.(time.Time); ok && messages.CheckTime(t) == nil {
			// As bind does, formatted into scratch rather than a new string each time.
			*scratch = t.UTC().AppendFormat((*scratch)[:0], messages.TimeLayout)
			if err := stmt.BindRawText(i+1, *scratch); err != nil {
				return true, &messages.ArgError{Pos: i + 1, Type: "time.Time", Reason: err.Error()}
			}
			continue
		}
		if err := bind(stmt, i+1, arg, 0); err != nil {
			return true, err
		}
	}
	return holdsBytes, nil
}

// bindNamed binds args, some of them sql.NamedArg, as go-sqlite3's database/sql driver does:
// an argument named x binds every parameter named :x, @x or $x, the others bind by their
// position in args (a ?NNN parameter by its number). Every parameter must get an argument (a
// statement from the cache keeps its last bindings: an unbound one would reuse a stale value),
// and every name must match a parameter.
func bindNamed(stmt *sqlite3.Stmt, args []any) error {
	n := stmt.BindCount()
	var bound []bool
	mark := func(id int) {
		if bound == nil {
			bound = make([]bool, n+1)
		}
		bound[id] = true
	}
	for i, arg := range args {
		na, named := arg.(sql.NamedArg)
		if !named || na.Name == "" {
			if named {
				arg = na.Value
			}
			if i >= n {
				return &messages.ArgError{Reason: fmt.Sprintf("the statement has %d parameters, argument %d is not named and has none at its position", n, i+1)}
			}
			if err := bind(stmt, i+1, arg, 0); err != nil {
				return err
			}
			mark(i + 1)
			continue
		}
		found := false
		for _, prefix := range [...]string{":", "@", "$"} {
			if id := stmt.BindIndex(prefix + na.Name); id != 0 {
				if err := bind(stmt, id, na.Value, 0); err != nil {
					var ae *messages.ArgError
					if errors.As(err, &ae) {
						ae.Pos = i + 1 // the argument's position, not its parameter's
					}
					return err
				}
				mark(id)
				found = true
			}
		}
		if !found {
			return &messages.ArgError{Pos: i + 1, Type: fmt.Sprintf("%T", arg),
				Reason: fmt.Sprintf("the statement has no parameter named :%s, @%s or $%s", na.Name, na.Name, na.Name)}
		}
	}
	for id := 1; id <= n; id++ {
		if bound == nil || !bound[id] {
			name := stmt.BindName(id)
			if name == "" {
				name = "?" + strconv.Itoa(id)
			}
			return &messages.ArgError{Reason: fmt.Sprintf("parameter %d (%s) has no argument", id, name)}
		}
	}
	return nil
}

// bind binds one argument at 1-based position pos, following the value rules of DESIGN §2.
func bind(stmt *sqlite3.Stmt, pos int, arg any, depth int) error {
	var err error
	switch v := arg.(type) {
	case nil:
		err = stmt.BindNull(pos)
	case int64:
		err = stmt.BindInt64(pos, v)
	case int:
		err = stmt.BindInt64(pos, int64(v))
	case string:
		err = stmt.BindText(pos, v)
	case float64:
		err = stmt.BindFloat(pos, v)
	case bool:
		err = stmt.BindBool(pos, v)
	case json.RawMessage: // before []byte: RawMessage is a []byte
		if v == nil {
			err = stmt.BindNull(pos)
		} else {
			err = stmt.BindRawText(pos, v) // text, copied by SQLite: no string of it here
		}
	case []byte:
		err = stmt.BindBlob(pos, v)
	case time.Time:
		if err := checkTime(v); err != nil {
			return badArg(pos, arg, err.Error())
		}
		err = stmt.BindText(pos, v.UTC().Format(messages.TimeLayout))
	case int32:
		err = stmt.BindInt64(pos, int64(v))
	case int16:
		err = stmt.BindInt64(pos, int64(v))
	case int8:
		err = stmt.BindInt64(pos, int64(v))
	case uint8:
		err = stmt.BindInt64(pos, int64(v))
	case uint16:
		err = stmt.BindInt64(pos, int64(v))
	case uint32:
		err = stmt.BindInt64(pos, int64(v))
	case uint:
		return bindUint(stmt, pos, uint64(v), arg)
	case uint64:
		return bindUint(stmt, pos, v, arg)
	case float32:
		err = stmt.BindFloat(pos, float64(v))
	case driver.Valuer:
		if depth > 0 {
			return badArg(pos, arg, "driver.Valuer returned another driver.Valuer")
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() &&
			rv.Type().Elem().Implements(valuerType) {
			// A nil pointer to a type whose Value has a value receiver: NULL, as database/sql
			// binds it, rather than the panic calling Value would be.
			return bind(stmt, pos, nil, depth)
		}
		dv, verr := CallValuer(v)
		if verr != nil {
			return &messages.ArgError{Pos: pos, Type: fmt.Sprintf("%T", arg), Reason: "Value() failed: " + verr.Error()}
		}
		return bind(stmt, pos, dv, depth+1)
	default:
		return bindReflect(stmt, pos, arg, depth)
	}
	if err != nil {
		return &messages.ArgError{Pos: pos, Type: fmt.Sprintf("%T", arg), Reason: err.Error()}
	}
	return nil
}

var valuerType = reflect.TypeFor[driver.Valuer]()

// checkTime is [messages.CheckTime], its error naming the layout a time is stored in.
func checkTime(t time.Time) error {
	if err := messages.CheckTime(t); err != nil {
		return fmt.Errorf("%w cannot be stored as %s", err, messages.TimeLayout)
	}
	return nil
}

// CallValuer calls v.Value, turning a panic (a nil pointer receiver, say) into an error: how
// actorlite calls every driver.Valuer it binds (the database/sql driver's too).
func CallValuer(v driver.Valuer) (dv driver.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return v.Value()
}

func bindUint(stmt *sqlite3.Stmt, pos int, v uint64, arg any) error {
	if v > math.MaxInt64 {
		return badArg(pos, arg, "value overflows int64")
	}
	return bind(stmt, pos, int64(v), 0)
}

// bindReflect handles named types of basic kinds (type Level int) and pointers to bindable
// values (a nil pointer binds NULL), as database/sql does.
func bindReflect(stmt *sqlite3.Stmt, pos int, arg any, depth int) error {
	rv := reflect.ValueOf(arg)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return bind(stmt, pos, nil, depth)
		}
		if depth > 2 {
			return badArg(pos, arg, "too many levels of pointers")
		}
		return bind(stmt, pos, rv.Elem().Interface(), depth+1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return bind(stmt, pos, rv.Int(), depth)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return bindUint(stmt, pos, rv.Uint(), arg)
	case reflect.Float32, reflect.Float64:
		return bind(stmt, pos, rv.Float(), depth)
	case reflect.Bool:
		return bind(stmt, pos, rv.Bool(), depth)
	case reflect.String:
		return bind(stmt, pos, rv.String(), depth)
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return bind(stmt, pos, rv.Bytes(), depth)
		}
	}
	return badArg(pos, arg, "unsupported type (use nil, integers, floats, bool, string, []byte, time.Time, json.RawMessage or a driver.Valuer)")
}

func badArg(pos int, arg any, reason string) error {
	return &messages.ArgError{Pos: pos, Type: fmt.Sprintf("%T", arg), Reason: reason}
}

// Converter turns a value read from a column (int64, float64, string or []byte; never nil:
// NULL is not converted) into the value a reader gets. Register one per declared type.
type Converter func(any) (any, error)

// ConverterKey normalises a declared type to the key converters are registered under, which
// picks the converter a column's values go through: its first word, upper-cased ("timestamp
// with time zone" → "TIMESTAMP", "DECIMAL(10,2)" → "DECIMAL", "JSON TEXT" → "JSON").
func ConverterKey(declType string) string {
	declType = strings.TrimSpace(declType)
	if i := strings.IndexAny(declType, " (\t\n"); i >= 0 {
		declType = declType[:i]
	}
	return strings.ToUpper(declType)
}

// builtinConverters are applied unless the configuration replaces or removes them.
func builtinConverters() map[string]Converter {
	return map[string]Converter{
		"DATETIME":  convertTime,
		"TIMESTAMP": convertTime,
		"BOOLEAN":   convertBool,
		"JSON":      convertJSON,
	}
}

// convertTime reads text as [messages.ParseTime] does, an integer as Unix seconds and a real as
// a Julian day number (as SQLite's julianday() returns). A number naming a time that
// [time.Time] cannot hold is an error, not the time an overflow would make of it.
func convertTime(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return messages.ParseTime(v)
	case []byte:
		return messages.ParseTime(string(v))
	case int64:
		if v > maxUnixSec {
			return nil, fmt.Errorf("%d Unix seconds is beyond the times time.Time holds", v)
		}
		return time.Unix(v, 0).UTC(), nil
	case float64:
		if !(math.Abs(v) < maxJulianDay) { // NaN and ±Inf too
			return nil, fmt.Errorf("a Julian day of %v is beyond the times time.Time holds", v)
		}
		t, err := sqlite3.TimeFormatJulianDay.Decode(v)
		return t, err
	}
	return nil, fmt.Errorf("cannot convert %T to time.Time", v)
}

const (
	// maxUnixSec is the last Unix second a time.Time holds: it counts seconds from year 1.
	maxUnixSec = math.MaxInt64 - 62135596800
	// maxJulianDay bounds the Julian day numbers whose seconds fit in an int64 with room to
	// spare (10^14 days: about 2.7·10^11 years either way).
	maxJulianDay = 1e14
)

func convertBool(v any) (any, error) {
	switch v := v.(type) {
	case int64:
		return v != 0, nil
	case float64:
		return v != 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "1", "true", "t", "yes", "on":
			return true, nil
		case "0", "false", "f", "no", "off", "":
			return false, nil
		}
	}
	return nil, fmt.Errorf("cannot convert %v to bool", v)
}

func convertJSON(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return json.RawMessage(v), nil
	case []byte:
		return json.RawMessage(v), nil
	case int64, float64:
		b, err := json.Marshal(v)
		return json.RawMessage(b), err
	}
	return nil, fmt.Errorf("cannot convert %T to JSON", v)
}

// valueOf reads a function argument as int64, float64, string, []byte or nil.
func valueOf(v sqlite3.Value) any {
	switch v.Type() {
	case sqlite3.INTEGER:
		return v.Int64()
	case sqlite3.FLOAT:
		return v.Float()
	case sqlite3.TEXT:
		return v.Text()
	case sqlite3.BLOB: // never nil, so that a function tells an empty blob from NULL
		return v.Blob([]byte{})
	default:
		return nil
	}
}

// setResult sets a user function's result, with the same rules as arguments.
func setResult(ctx sqlite3.Context, v any) error {
	switch v := v.(type) {
	case nil:
		ctx.ResultNull()
	case int64:
		ctx.ResultInt64(v)
	case int:
		ctx.ResultInt64(int64(v))
	case int32:
		ctx.ResultInt64(int64(v))
	case float64:
		ctx.ResultFloat(v)
	case float32:
		ctx.ResultFloat(float64(v))
	case bool:
		ctx.ResultBool(v)
	case string:
		ctx.ResultText(v)
	case json.RawMessage:
		ctx.ResultText(string(v))
	case []byte:
		ctx.ResultBlob(v)
	case time.Time:
		if err := checkTime(v); err != nil {
			return fmt.Errorf("function result %v: %w", v, err)
		}
		ctx.ResultText(v.UTC().Format(messages.TimeLayout))
	default:
		return fmt.Errorf("actorlite: function result of unsupported type %T", v)
	}
	return nil
}
