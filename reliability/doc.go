// Package reliability holds closedloop's reliability and security suite:
// integration tests that run the real binary against a real DuckDB store
// (crash safety under SIGKILL, concurrent writers, customer numbers leaking
// into the store or the logs, SQL metacharacters in every user-supplied
// value). RELIABILITY.md at the repository root lists each guarantee, its
// test and its last figures. The tests are skipped under -short.
package reliability
