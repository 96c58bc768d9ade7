package compat_test

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/actorlite/actorlite/supervisor/sqldriver"
)

type user struct {
	ID     int64     `db:"id"`
	Name   string    `db:"name"`
	Email  string    `db:"email"`
	Joined time.Time `db:"joined"`
	Admin  bool      `db:"admin"`
	Note   *string   `db:"note"`
}

// sqlx: a named insert of a slice (one multi-row INSERT), Select into structs with time.Time,
// Get, named queries, and a transaction.
func TestSqlx(t *testing.T) {
	db := sqlx.NewDb(openDB(t), sqldriver.DriverName)
	db.MustExec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
		joined DATETIME NOT NULL, admin BOOLEAN NOT NULL DEFAULT 0, note TEXT)`)
	base := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	note := "first"
	in := []user{
		{Name: "ada", Email: "ada@example.com", Joined: base, Admin: true, Note: &note},
		{Name: "grace", Email: "grace@example.com", Joined: base.Add(time.Hour).In(time.FixedZone("CET", 3600))},
		{Name: "linus", Email: "linus@example.com", Joined: base.Add(2 * time.Hour)},
	}
	res, err := db.NamedExec(`INSERT INTO users (name, email, joined, admin, note) VALUES (:name, :email, :joined, :admin, :note)`, in)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 3 {
		t.Fatalf("RowsAffected %d, want 3", n)
	}

	var got []user
	if err := db.Select(&got, "SELECT * FROM users WHERE joined >= ? ORDER BY joined", base); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d users", len(got))
	}
	for i, u := range got {
		if u.Name != in[i].Name || !u.Joined.Equal(in[i].Joined) || u.Joined.Location() != time.UTC || u.Admin != in[i].Admin {
			t.Errorf("user %d: %+v, want %+v", i, u, in[i])
		}
	}
	if got[0].Note == nil || *got[0].Note != "first" || got[1].Note != nil {
		t.Errorf("notes %v, %v", got[0].Note, got[1].Note)
	}

	// Time ranges compare as text, in time order (fixed-width RFC 3339 in UTC).
	var later []user
	if err := db.Select(&later, "SELECT * FROM users WHERE joined > ? ORDER BY joined", base.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(later) != 2 || later[0].Name != "grace" {
		t.Fatalf("later: %+v", later)
	}

	var one user
	if err := db.Get(&one, "SELECT * FROM users WHERE email = ?", "linus@example.com"); err != nil || one.Name != "linus" {
		t.Fatalf("Get: %+v, %v", one, err)
	}
	rows, err := db.NamedQuery("SELECT * FROM users WHERE admin = :admin", map[string]any{"admin": true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var u user
		if err := rows.StructScan(&u); err != nil {
			t.Fatal(err)
		}
		n++
	}
	rows.Close()
	if n != 1 {
		t.Fatalf("%d admins", n)
	}

	tx := db.MustBegin()
	tx.MustExec("UPDATE users SET admin = 1 WHERE name = ?", "grace")
	if _, err := tx.NamedExec("DELETE FROM users WHERE name = :name", user{Name: "linus"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var admins int
	if err := db.Get(&admins, "SELECT count(*) FROM users WHERE admin"); err != nil || admins != 2 {
		t.Fatalf("%d admins after the transaction (%v)", admins, err)
	}
}
