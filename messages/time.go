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
	sec, nsec, ok := parseUTCUnix(b)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(sec, int64(nsec)).UTC(), true
}

// parseUTCUnix is parseUTC as Unix seconds and nanoseconds: what a row's time slot keeps, with
// no time.Date to build (a full scan of a DATETIME column parses one per row).
func parseUTCUnix(b []byte) (sec int64, nsec int32, ok bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return 0, 0, false
	}
	bad := false
	num := func(p []byte) int {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				bad = true
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(b[0:4]), num(b[5:7]), num(b[8:10])
	hour, minute, second := num(b[11:13]), num(b[14:16]), num(b[17:19])
	if bad || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || second > 59 {
		return 0, 0, false
	}
	rest, frac := b[19:], 0
	if len(rest) > 0 && rest[0] == '.' {
		digits := 0
		for digits+1 < len(rest) && rest[digits+1] >= '0' && rest[digits+1] <= '9' {
			digits++
		}
		if digits == 0 || digits > 9 {
			return 0, 0, false
		}
		frac = num(rest[1 : 1+digits])
		for range 9 - digits {
			frac *= 10
		}
		rest = rest[1+digits:]
	}
	if len(rest) == 1 && rest[0] == 'Z' {
		rest = rest[1:]
	}
	if len(rest) != 0 {
		return 0, 0, false
	}
	days := daysSinceEpoch(year, month, day)
	return days*86400 + int64(hour*3600+minute*60+second), int32(frac), true
}

// daysIn returns the days of month (1–12) in year, in the proleptic Gregorian calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch returns the days from 1970-01-01 to a date of year 0–9999 (Howard Hinnant's
// days_from_civil, for years that are never negative once March starts them).
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := (year + 400) / 400 // year ≥ -1: eras from -400, so that the division never truncates up
	era--
	yoe := year - era*400                     // [0, 399]
	doy := (153*((month+9)%12)+2)/5 + day - 1 // [0, 365], from March 1st
	doe := yoe*365 + yoe/4 - yoe/100 + doy    // [0, 146096]
	return int64(era)*146097 + int64(doe) - 719468
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
