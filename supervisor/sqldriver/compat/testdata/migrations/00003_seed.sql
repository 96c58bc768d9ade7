-- +goose Up
INSERT INTO users (name, email, joined) VALUES ('root', 'root@example.com', '2026-01-01T00:00:00.000000000Z');

-- +goose Down
DELETE FROM users WHERE email = 'root@example.com';
DELETE FROM audit;
