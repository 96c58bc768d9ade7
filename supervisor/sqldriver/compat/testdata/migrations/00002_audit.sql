-- +goose Up
CREATE TABLE audit (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, what TEXT NOT NULL);

-- A trigger's body holds semicolons: goose sends the block as one statement.
-- +goose StatementBegin
CREATE TRIGGER users_audit AFTER INSERT ON users
BEGIN
    INSERT INTO audit (user_id, what) VALUES (new.id, 'created');
    INSERT INTO audit (user_id, what) VALUES (new.id, 'welcomed');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_audit;
DROP TABLE audit;
