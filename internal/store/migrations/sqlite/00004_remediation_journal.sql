-- Schema version 4: the remediation journal (docs/remediation.md, "The journal";
-- docs/store-schema.md). One row per entry of a `remediate apply`, `rollback` or
-- `whois --deactivate`: what was about to be done (written before the call), what
-- happened (written after it), the configuration saved before a destructive step, the
-- guard rails that refused. The table is append-only: triggers refuse every UPDATE
-- and DELETE, so that what a journal says cannot be rewritten, and `history prune`
-- never touches it (it holds no reference to a run row).

-- +goose Up
CREATE TABLE remediation_journal (
    journal_id    TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    recorded_at   TEXT NOT NULL,
    entry_kind    TEXT NOT NULL,
    phase         TEXT NOT NULL,
    item          INTEGER NOT NULL,
    action        INTEGER NOT NULL,
    account_id    TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    api           TEXT NOT NULL,
    status        TEXT NOT NULL,
    message       TEXT NOT NULL,
    detail        TEXT NOT NULL,
    PRIMARY KEY (journal_id, seq)
);
CREATE INDEX remediation_journal_key ON remediation_journal (access_key_id, recorded_at);
CREATE INDEX remediation_journal_user ON remediation_journal (account_id, user_name, recorded_at);

-- +goose StatementBegin
CREATE TRIGGER remediation_journal_no_update BEFORE UPDATE ON remediation_journal
BEGIN
    SELECT RAISE(ABORT, 'remediation_journal is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER remediation_journal_no_delete BEFORE DELETE ON remediation_journal
BEGIN
    SELECT RAISE(ABORT, 'remediation_journal is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER remediation_journal_no_delete;
DROP TRIGGER remediation_journal_no_update;
DROP TABLE remediation_journal;
