// Package testutil starts real Parley servers on loopback for tests and
// drives them with a real WebSocket client: no mocks, every wait bounded.
package testutil
