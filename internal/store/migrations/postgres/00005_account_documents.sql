-- Schema version 5: the run's inventory document per account (docs/store-schema.md,
-- "run_documents"), so that a run is written account by account as its accounts
-- finish (a streamed run) and never held whole in memory. run_documents of a run of
-- this version holds the inventory without its accounts (format
-- iamaudit.inventory-head+json+gzip); each account's document is a row here, in the
-- order of accounts.position. Runs stored before keep their one document
-- (iamaudit.inventory+json+gzip) and read the same.

-- +goose Up
CREATE TABLE run_account_documents (
    run        BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    format     TEXT NOT NULL,
    body       BYTEA NOT NULL,
    PRIMARY KEY (run, account_id)
);

-- +goose Down
DROP TABLE run_account_documents;
