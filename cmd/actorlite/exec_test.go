package main

import (
	"fmt"
	"testing"
)

func TestParseArgs(t *testing.T) {
	got := parseArgs([]string{"42", "-7", "2.5", "1e3", "007", "abc", "0x10", "inf", "NaN", "", "1_000", "9223372036854775808"})
	want := []any{int64(42), int64(-7), 2.5, 1000.0, int64(7), "abc", "0x10", "inf", "NaN", "", "1_000", 9223372036854775808.0}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Errorf("parseArgs = %#v\nwant %#v", got, want)
	}
}
