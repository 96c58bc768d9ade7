package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSnapshot is what tells how busy the machine was with work other than the suite's: the
// CPU time all processes used (/proc/stat), and the time this process and its waited-for
// children (Python, memory children) used (getrusage).
type cpuSnapshot struct {
	at         time.Time
	busy, ours time.Duration
	ok         bool
}

// clockTick is USER_HZ, the unit of /proc/stat: 100 on Linux.
const clockTick = 100

func takeCPUSnapshot() cpuSnapshot {
	s := cpuSnapshot{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return s
	}
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return s
		}
		ticks += n
		if i == 7 { // up to steal; guest time is already counted in user
			break
		}
	}
	s.busy = time.Duration(ticks) * time.Second / clockTick
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) != nil {
			return s
		}
		s.ours += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.ok = true
	return s
}

// otherCPUs returns how many CPUs, on average, processes other than the suite kept busy
// between two snapshots; -1 when it cannot tell.
func otherCPUs(a, b cpuSnapshot) float64 {
	wall := b.at.Sub(a.at)
	if !a.ok || !b.ok || wall <= 0 {
		return -1
	}
	other := (b.busy - a.busy) - (b.ours - a.ours)
	return max(other.Seconds()/wall.Seconds(), 0)
}
