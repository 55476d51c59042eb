//go:build !race

package sqlite

// raceEnabled is true when the tests run under the race detector, which
// slows the writer several times over: load tests then do less work.
const raceEnabled = false
