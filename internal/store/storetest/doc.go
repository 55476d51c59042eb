// Package storetest is the conformance suite for store.Store. A backend is
// done when its tests call Run and pass:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
//	}
//
// Every subtest opens its own empty store, so subtests are independent and
// may be run alone with -run 'TestConformance/History'.
package storetest
