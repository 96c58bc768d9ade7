-- +goose Up
CREATE TABLE users (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    email   TEXT NOT NULL UNIQUE,
    joined  DATETIME NOT NULL
);
CREATE INDEX users_joined ON users (joined);

-- +goose Down
DROP INDEX users_joined;
DROP TABLE users;
