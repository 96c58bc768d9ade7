// Package compat runs database/sql tools through actorlite's driver (package sqldriver):
// goose migrations and sqlx struct scans. It is a module of its own, so that the tools never
// reach the main go.mod; it has tests only.
package compat
