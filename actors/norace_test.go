//go:build !race

package actors_test

// raceEnabled: the tests run under the race detector, whose instrumentation allocates.
const raceEnabled = false
