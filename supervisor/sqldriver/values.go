package sqldriver

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/actorlite/actorlite/messages"
	"github.com/actorlite/actorlite/sqlitewasm"
)

// CheckNamedValue accepts what actorlite binds as it is: nil, integers, floats, bool, string,
// []byte, time.Time and json.RawMessage (which database/sql's default conversion would turn
// into a blob). A driver.Valuer is called here, on the caller's goroutine, and its value
// checked the same way (a panic in Value is an error); a pointer binds what it points to
// (NULL if nil); named types of these kinds are converted as database/sql does. Anything else
// is a *messages.ArgError naming the argument's position and type.
func (c *Conn) CheckNamedValue(nv *driver.NamedValue) error {
	v, err := checkValue(nv.Value, 0)
	if err != nil {
		return &messages.ArgError{Pos: nv.Ordinal, Type: fmt.Sprintf("%T", nv.Value), Reason: err.Error()}
	}
	nv.Value = v
	return nil
}

var valuerType = reflect.TypeFor[driver.Valuer]()

// maxPointers is how many pointers an argument may go through to its value (a pointer type
// may point to itself: following it for ever would overflow the stack).
const maxPointers = 8

func checkValue(v any, depth int) (any, error) {
	// A pointer (not a driver.Valuer) binds what it points to, NULL if nil, as database/sql
	// binds it, but checked here: a *json.RawMessage stays JSON text, not a blob.
	for n := 0; ; n++ {
		if _, ok := v.(driver.Valuer); ok {
			break
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer {
			break
		}
		if rv.IsNil() {
			return nil, nil
		}
		if n == maxPointers {
			return nil, fmt.Errorf("more than %d pointers to a value", maxPointers)
		}
		v = rv.Elem().Interface()
	}
	switch x := v.(type) {
	case nil, int64, float64, bool, string, []byte, time.Time, json.RawMessage,
		int, int32, int16, int8, uint8, uint16, uint32, float32:
		return v, nil
	case uint64, uint: // actorlite binds them, refusing values beyond int64
		return v, nil
	case driver.Valuer:
		if depth > 0 {
			return nil, fmt.Errorf("driver.Valuer returned another driver.Valuer (%T)", v)
		}
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() && rv.Type().Elem().Implements(valuerType) {
			return nil, nil // a nil pointer to a value-receiver Valuer: NULL, as database/sql binds it
		}
		dv, err := sqlitewasm.CallValuer(x)
		if err != nil {
			return nil, fmt.Errorf("Value() failed: %w", err)
		}
		return checkValue(dv, depth+1)
	}
	return driver.DefaultParameterConverter.ConvertValue(v)
}
