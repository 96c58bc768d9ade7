package messages_test

import (
	"testing"
	"time"

	"github.com/actorlite/actorlite/messages"
)

func TestParseTime(t *testing.T) {
	plus2 := time.FixedZone("", 2*3600)
	tests := []struct {
		in   string
		want time.Time
	}{
		{tmText, tm},
		{"2024-03-05T06:07:08Z", time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)},
		{"2024-03-05T06:07:08.5+02:00", time.Date(2024, 3, 5, 6, 7, 8, 5e8, plus2)},
		{"2024-03-05T06:07:08-05:30", time.Date(2024, 3, 5, 11, 37, 8, 0, time.UTC)},
		{"2024-03-05 06:07:08", time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)},
		{"2024-03-05 06:07:08.123", time.Date(2024, 3, 5, 6, 7, 8, 123e6, time.UTC)},
		{"2024-03-05 06:07:08Z", time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)},
		{"2024-03-05 06:07:08+02:00", time.Date(2024, 3, 5, 6, 7, 8, 0, plus2)},
		{"2024-03-05T06:07:08", time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)},
		{"2024-03-05T06:07:08.000001", time.Date(2024, 3, 5, 6, 7, 8, 1000, time.UTC)},
		{"2024-03-05 06:07", time.Date(2024, 3, 5, 6, 7, 0, 0, time.UTC)},
		{"2024-03-05T06:07", time.Date(2024, 3, 5, 6, 7, 0, 0, time.UTC)},
		{"2024-03-05", time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"0000-01-01T00:00:00.000000000Z", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"9999-12-31T23:59:59.999999999Z", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := messages.ParseTime(tt.in)
			if err != nil {
				t.Fatalf("ParseTime(%q) = %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTimeRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"abc",
		"2024",
		"2024-03",
		"20240305",
		"2024/03/05",
		"05-03-2024",
		"2024-13-01",
		"2023-02-29",
		"2024-03-32",
		"2024-03-05T25:00:00Z",
		"2024-03-05T06:60:00Z",
		"06:07:08",
		" 2024-03-05",
		"2024-03-05 ",
		"2024-03-05T06:07:08ZZ",
		"2024-03-05T06:07:08+2",
		"2024-03-05T06:07:08 garbage",
		"1700000000",
	} {
		t.Run(in, func(t *testing.T) {
			if got, err := messages.ParseTime(in); err == nil {
				t.Errorf("ParseTime(%q) = %v, want an error", in, got)
			} else if !got.IsZero() {
				t.Errorf("ParseTime(%q) returned %v with its error", in, got)
			}
		})
	}
}

// TestParseTimeBytes checks the allocation-free parser against ParseTime on every input of
// the ParseTime tests and a few more: same error or not, same instant, same zone offset.
func TestParseTimeBytes(t *testing.T) {
	for _, in := range []string{
		tmText, "2024-03-05T06:07:08Z", "2024-03-05T06:07:08.5+02:00", "2024-03-05T06:07:08-05:30",
		"2024-03-05 06:07:08", "2024-03-05 06:07:08.123", "2024-03-05 06:07:08Z", "2024-03-05 06:07:08+02:00",
		"2024-03-05T06:07:08", "2024-03-05T06:07:08.000001", "2024-03-05 06:07", "2024-03-05", "2024-02-29",
		"0000-01-01T00:00:00.000000000Z", "9999-12-31T23:59:59.999999999Z",
		"2024-03-05T06:07:08.1Z", "2024-03-05T06:07:08.1234567891Z", "2024-03-05T06:07:08.Z",
		"2024-04-31 00:00:00", "2023-02-29T00:00:00Z", "2024-03-05T23:59:60Z", "2024-03-05t06:07:08z",
		"2024-00-05T06:07:08Z", "2024-03-00T06:07:08Z", "2024-03-05T24:00:00Z", "+024-03-05T06:07:08Z",
		"2024-03-05T06:07:08.12a", "2024-03-05T06:07:08Z ",
		"", "abc", "2024", "2024-03", "20240305", "2024/03/05", "05-03-2024", "2024-13-01", "2023-02-29",
		"2024-03-32", "2024-03-05T25:00:00Z", "2024-03-05T06:60:00Z", "06:07:08", " 2024-03-05",
		"2024-03-05 ", "2024-03-05T06:07:08ZZ", "2024-03-05T06:07:08+2", "2024-03-05T06:07:08 garbage", "1700000000",
	} {
		t.Run(in, func(t *testing.T) {
			want, werr := messages.ParseTime(in)
			got, err := messages.ParseTimeBytes([]byte(in))
			if (err == nil) != (werr == nil) {
				t.Fatalf("ParseTimeBytes(%q) = %v, %v; ParseTime = %v, %v", in, got, err, want, werr)
			}
			_, goff := got.Zone()
			_, woff := want.Zone()
			if !got.Equal(want) || goff != woff {
				t.Errorf("ParseTimeBytes(%q) = %v, want %v", in, got, want)
			}
		})
	}
	canonical := []byte(tmText)
	if n := testing.AllocsPerRun(100, func() { messages.ParseTimeBytes(canonical) }); n != 0 {
		t.Errorf("ParseTimeBytes(%q) allocates %v times", canonical, n)
	}
}

// FuzzParseTime checks that every time in TimeLayout's range (years 0000 to 9999), formatted
// in UTC with TimeLayout, parses back to the same instant and formats back to the same text.
func FuzzParseTime(f *testing.F) {
	f.Add(int64(0), uint32(0))
	f.Add(tm.Unix(), uint32(tm.Nanosecond()))
	f.Add(int64(-62167219200), uint32(0))         // 0000-01-01
	f.Add(int64(253402300799), uint32(999999999)) // 9999-12-31T23:59:59.999999999
	f.Add(int64(-1), uint32(1))
	minSec := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxSec := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	f.Fuzz(func(t *testing.T, sec int64, nsec uint32) {
		// Fold sec into [minSec, maxSec] so that every input tests something.
		span := uint64(maxSec - minSec + 1)
		sec = minSec + int64((uint64(sec)%span+span)%span)
		in := time.Unix(sec, int64(nsec%1e9)).UTC()
		text := in.Format(messages.TimeLayout)
		if len(text) != len(messages.TimeLayout) {
			t.Fatalf("%v formats as %q, not fixed-width", in, text)
		}
		got, err := messages.ParseTime(text)
		if err != nil {
			t.Fatalf("ParseTime(%q) = %v", text, err)
		}
		if !got.Equal(in) {
			t.Fatalf("ParseTime(%q) = %v, want %v", text, got, in)
		}
		if again := got.UTC().Format(messages.TimeLayout); again != text {
			t.Fatalf("round trip %q -> %q", text, again)
		}
		if fast, err := messages.ParseTimeBytes([]byte(text)); err != nil || fast != got {
			t.Fatalf("ParseTimeBytes(%q) = %v, %v; ParseTime = %v", text, fast, err, got)
		}
	})
}

// FuzzParseTimeBytes checks the allocation-free parser against ParseTime on arbitrary text:
// both fail, or both succeed with the same instant and the same zone offset, and a failure
// returns the zero time.
func FuzzParseTimeBytes(f *testing.F) {
	for _, s := range []string{
		tmText, "2024-03-05 06:07:08", "2024-03-05 06:07:08.5+02:00", "2024-03-05", "2024-03-05T06:07",
		"2024-04-31 00:00:00", "2024-02-29T23:59:59Z", "0000-01-01T00:00:00Z", "9999-12-31 23:59:59.999999999",
		"2024-03-05T06:07:08.1234567891Z", "2024-03-05T06:07:08.Z", "2024-03-05t06:07:08z", "2024-03-05T24:00:00Z",
		"+024-03-05T06:07:08Z", "2024-03-05T06:07:08Z\x00", "２024-03-05", "", "abc",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, werr := messages.ParseTime(string(b))
		got, err := messages.ParseTimeBytes(b)
		if (err == nil) != (werr == nil) {
			t.Fatalf("ParseTimeBytes(%q) = %v, %v; ParseTime = %v, %v", b, got, err, want, werr)
		}
		if err != nil {
			if !got.IsZero() {
				t.Fatalf("ParseTimeBytes(%q) returned %v with its error", b, got)
			}
			return
		}
		_, goff := got.Zone()
		_, woff := want.Zone()
		if !got.Equal(want) || goff != woff {
			t.Fatalf("ParseTimeBytes(%q) = %v, want %v", b, got, want)
		}
	})
}

// TestCheckTime checks the range of years TimeLayout can write, in UTC whatever t's zone.
func TestCheckTime(t *testing.T) {
	plus1, minus1 := time.FixedZone("", 3600), time.FixedZone("", -3600)
	for _, tt := range []struct {
		t  time.Time
		ok bool
	}{
		{time.Time{}, true}, // year 1
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(0, 1, 1, 0, 30, 0, 0, plus1), false},        // UTC: year -1
		{time.Date(9999, 12, 31, 23, 30, 0, 0, minus1), false}, // UTC: year 10000
		{time.Date(10000, 1, 1, 0, 30, 0, 0, plus1), true},     // UTC: year 9999
	} {
		err := messages.CheckTime(tt.t)
		if (err == nil) != tt.ok {
			t.Errorf("CheckTime(%v) = %v, want ok %v", tt.t, err, tt.ok)
		}
		if err == nil && len(tt.t.UTC().Format(messages.TimeLayout)) != len(messages.TimeLayout) {
			t.Errorf("CheckTime(%v) accepts a time whose text is not fixed-width", tt.t)
		}
	}
}

// TestParseTimeEveryDay reads every date of years 0000–9999 in SQLite's form, and checks the
// days that do not exist are refused: the fast path computes Unix days itself, without time.Date.
func TestParseTimeEveryDay(t *testing.T) {
	for d := time.Date(0, 1, 1, 23, 59, 58, 0, time.UTC); d.Year() < 10000; d = d.AddDate(0, 0, 1) {
		s := d.Format("2006-01-02 15:04:05")
		if got, err := messages.ParseTimeBytes([]byte(s)); err != nil || !got.Equal(d) || got.Location() != time.UTC {
			t.Fatalf("%s: %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"2023-02-29 00:00:00", "2024-04-31 00:00:00", "1900-02-29 00:00:00", "2024-01-32 00:00:00", "2024-00-10 00:00:00"} {
		if got, err := messages.ParseTimeBytes([]byte(s)); err == nil {
			t.Errorf("%s: %v, want an error", s, got)
		}
	}
}
