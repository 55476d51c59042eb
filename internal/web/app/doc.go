// Package app serves Parley's web app: the chat a person opens at "/".
// The app is plain ES modules, one stylesheet and one HTML page in ui/,
// with no build step; it is embedded in the binary, so it works with no
// internet and always matches the server and the SDK (/sdk/parley.js) it
// is built on. docs/WEBAPP.md is the guide for people chatting;
// docs/ARCHITECTURE.md says why there is no framework.
package app
