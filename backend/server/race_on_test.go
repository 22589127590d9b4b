//go:build race

package server_test

// raceDetector is true in a -race build. The crash test's child engines are
// this test binary, and with the race detector each runs about ten times
// slower, so that test runs in its own step without it (make crash-test).
const raceDetector = true
