package sqlitewasm

import (
	"strings"
	"sync"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs"
)

// memdbPins holds one open file of each shared memdb database ("file:/name?vfs=memdb") that
// Open has opened. The memdb VFS deletes a shared database when its last file closes, so
// without a pin the database would vanish with its last connection, and with it the data a
// restarted connection actor must find again (DESIGN §4). A pinned database lives until the
// process exits, or until memdb.Delete (after which a new database of that name is not
// pinned again).
var memdbPins struct {
	sync.Mutex
	files map[string]vfs.File // by the name the VFS sees ("/name")
}

// pinMemDB pins db's main database if it is a shared memdb database.
func pinMemDB(db *sqlite3.Conn) {
	f := db.Filename("main")
	if f == nil || f.URIParameter("vfs") != "memdb" {
		return
	}
	name := f.String()
	if !strings.HasPrefix(name, "/") { // not shared: private to its connection
		return
	}
	memdbPins.Lock()
	defer memdbPins.Unlock()
	if _, ok := memdbPins.files[name]; ok {
		return
	}
	mem := vfs.Find("memdb")
	if mem == nil {
		return
	}
	// The database exists (db has it open), so this open only takes a reference to it.
	file, _, err := mem.Open(name, vfs.OPEN_MAIN_DB|vfs.OPEN_READONLY)
	if err != nil {
		return
	}
	if memdbPins.files == nil {
		memdbPins.files = make(map[string]vfs.File)
	}
	memdbPins.files[name] = file
}
