//go:build !race

package main

// powerLossUnderRace is true when the tests run under the race detector
// (see powerloss_race_test.go).
const powerLossUnderRace = false
