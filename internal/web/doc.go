// Package web serves what Parley gives browsers: the JavaScript SDK, one
// dependency-free ES module at /sdk/parley.js with its TypeScript
// declarations at /sdk/parley.d.ts (docs/SDK.md). The files live in sdk/,
// with their node --test suite in sdk/test/, and are embedded in the
// binary, so a server always serves the SDK of its own protocol version.
// The chat app built on the SDK, served at /, is the app sub-package.
package web
