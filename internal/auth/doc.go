// Package auth holds Parley's authentication logic, free of HTTP: password
// hashing with argon2id behind a cap on concurrent hashes, username and
// password rules, guest identities, Parley's own HS256 access tokens and
// opaque refresh tokens, verification of tokens minted by an integrating
// app's backend (external tokens, with a pinned algorithm), and sign-in rate
// limiting per account and per address.
//
// Every route into the server ends in an Identity: who the caller is, whether
// they are a guest or come from an external token, and which rooms a token
// restricts them to. The HTTP handlers in internal/api and the WebSocket
// transport call into this package; they map its sentinel errors
// (ErrInvalidToken, ErrTokenExpired, ErrBadCredentials, ErrRateLimited,
// ErrInvalidUsername, ErrInvalidPassword) to wire codes in one place.
//
// docs/AUTH.md describes the whole scheme for operators and integrators.
package auth
