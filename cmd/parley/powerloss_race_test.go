//go:build race

package main

// powerLossUnderRace is true when the tests run under the race detector.
// The server under test is a binary built without it, so the detector
// watches only the test's own clients and lazyfs; the power-loss test then
// runs fewer cycles, as checking each cut's database (SQLite in Go) is
// many times slower.
const powerLossUnderRace = true
