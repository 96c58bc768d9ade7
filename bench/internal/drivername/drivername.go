// Package drivername lets go-sqlite3's database/sql driver and mattn's live in one binary.
//
// Both register themselves as "sqlite3" in their init, and database/sql panics on the second;
// each documents renaming its driver with -ldflags="-X …driverName=…", which `go run .` cannot
// pass. This package does what that flag does: it sets go-sqlite3's driverName before that
// package's init runs. It has no imports but unsafe, and Go initializes packages in import-path
// order among those whose imports are initialized (the spec, since Go 1.21), so it runs before
// github.com/mattn/… and github.com/ncruces/…. Import it (blank) beside the drivers.
package drivername

import _ "unsafe" // for go:linkname

// Ncruces is the name go-sqlite3's driver package registers with database/sql.
const Ncruces = "sqlite3-ncruces"

//go:linkname ncrucesDriverName github.com/ncruces/go-sqlite3/driver.driverName
var ncrucesDriverName string

func init() { ncrucesDriverName = Ncruces }
