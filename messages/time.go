package messages

import (
	"errors"
	"fmt"
	"time"
)

// TimeLayout is how a [time.Time] argument is stored: fixed-width RFC 3339 text in UTC, so
// that text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// CheckTime returns an error if t cannot be stored as [TimeLayout] text: if its year, in UTC,
// is outside 0000 to 9999, the years the layout's four digits hold. The text of such a time
// would be neither fixed-width nor readable by [ParseTime]. actorlite checks every time it
// stores with it: bound arguments, the results of user functions, events' timestamps.
func CheckTime(t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return errTimeRange
	}
	return nil
}

// errTimeRange is the error of [CheckTime].
var errTimeRange = errors.New("year outside 0000–9999")

// ParseTime parses the text forms of a time SQLite and actorlite store: [TimeLayout] and the
// other RFC 3339 forms, and SQLite's "YYYY-MM-DD HH:MM:SS[.SSS]" and "YYYY-MM-DD" (read as UTC).
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("text %q is not a time", s)
}

// ParseTimeBytes is ParseTime for text in a byte slice. The forms SQLite and actorlite write
// ("YYYY-MM-DD HH:MM:SS[.fff…]" and "YYYY-MM-DDTHH:MM:SS[.fff…][Z]", all UTC) are read
// without allocating; others as ParseTime reads them.
func ParseTimeBytes(b []byte) (time.Time, error) {
	if t, ok := parseUTC(b); ok {
		return t, nil
	}
	return ParseTime(string(b))
}

// parseUTC reads "YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z]" as UTC, as time.Parse would with the
// layouts of ParseTime; false for anything else (including a date that does not exist).
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest, nsec := b[19:], 0
	if len(rest) > 0 && rest[0] == '.' {
		digits := 0
		for digits+1 < len(rest) && rest[digits+1] >= '0' && rest[digits+1] <= '9' {
			digits++
		}
		if digits == 0 || digits > 9 {
			return time.Time{}, false
		}
		nsec, _ = num(rest[1 : 1+digits])
		for range 9 - digits {
			nsec *= 10
		}
		rest = rest[1+digits:]
	}
	if len(rest) == 1 && rest[0] == 'Z' {
		rest = rest[1:]
	}
	if len(rest) != 0 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 April and the like: time.Parse rejects them
		return time.Time{}, false
	}
	return t, true
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	time.DateOnly,
}
