// Package storetest holds the audit tests that need a real store (DuckDB):
// Append and audit verify on a store, evidence export, tamper detection on
// real bundles, retention. They live apart so that the pure tests of
// package audit link and run fast.
package storetest
