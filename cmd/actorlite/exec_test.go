package main

import (
	"fmt"
	"math"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		arg  string
		want any
	}{
		{"42", int64(42)},
		{"-7", int64(-7)},
		{"+7", int64(7)},
		{"007", int64(7)},
		{"9223372036854775807", int64(9223372036854775807)},
		{"-9223372036854775808", int64(-9223372036854775808)},
		{"2.5", 2.5},
		{"2.50", 2.5},
		{"0.1", 0.1},
		{"-0.0", math.Copysign(0, -1)},
		{"1e3", 1000.0},
		{"1.5E-3", 0.0015},
		{"9007199254740993.0", "9007199254740993.0"}, // 2^53+1: a REAL would read 9007199254740992
		// Beyond int64 or float64's digits: TEXT, every digit kept.
		{"9223372036854775808", "9223372036854775808"},
		{"12345678901234567891", "12345678901234567891"},
		{"-12345678901234567891", "-12345678901234567891"},
		{"0.12345678901234567891", "0.12345678901234567891"},
		{"1e400", "1e400"},
		{"1e-400", "1e-400"},
		// Not decimal numbers: TEXT.
		{"abc", "abc"}, {"0x10", "0x10"}, {"0x1p4", "0x1p4"}, {"inf", "inf"}, {"-Infinity", "-Infinity"},
		{"NaN", "NaN"}, {"", ""}, {"1_000", "1_000"}, {"+", "+"}, {" 1", " 1"},
	}
	for _, tt := range tests {
		got := parseArgs([]string{tt.arg})[0]
		if fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", tt.want, tt.want) {
			t.Errorf("parseArgs(%q) = %T %v, want %T %v", tt.arg, got, got, tt.want, tt.want)
		}
	}
}
