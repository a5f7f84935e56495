-- Schema version 2: the finding lifecycle (docs/store-schema.md, "Finding
-- lifecycle"). Each finding row of a run gets first_seen, last_seen, resolved_at and
-- reopened; finding_lifecycle holds each finding's newest state across runs (what a
-- Security Hub export reads as FirstObservedAt / LastObservedAt). A store written by
-- version 1 kept no lifecycle: it is derived from the runs the store holds, each
-- finding first seen at the earliest run that observed it.

-- +goose Up
ALTER TABLE findings ADD COLUMN first_seen TEXT;
ALTER TABLE findings ADD COLUMN last_seen TEXT;
ALTER TABLE findings ADD COLUMN resolved_at TEXT;
ALTER TABLE findings ADD COLUMN reopened BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE findings SET
    last_seen = (SELECT r.evaluated_at FROM runs r WHERE r.id = findings.run),
    first_seen = (SELECT MIN(r2.evaluated_at) FROM findings f2 JOIN runs r2 ON r2.id = f2.run
                  WHERE f2.finding_id = findings.finding_id AND f2.state <> 'resolved'
                    AND r2.run_order <= (SELECT r.run_order FROM runs r WHERE r.id = findings.run))
WHERE state <> 'resolved';

UPDATE findings SET
    resolved_at = (SELECT r.evaluated_at FROM runs r WHERE r.id = findings.run),
    last_seen = (SELECT MAX(r2.evaluated_at) FROM findings f2 JOIN runs r2 ON r2.id = f2.run
                 WHERE f2.finding_id = findings.finding_id AND f2.state <> 'resolved'
                   AND r2.run_order < (SELECT r.run_order FROM runs r WHERE r.id = findings.run)),
    first_seen = (SELECT MIN(r2.evaluated_at) FROM findings f2 JOIN runs r2 ON r2.id = f2.run
                  WHERE f2.finding_id = findings.finding_id AND f2.state <> 'resolved'
                    AND r2.run_order < (SELECT r.run_order FROM runs r WHERE r.id = findings.run))
WHERE state = 'resolved';
UPDATE findings SET
    last_seen = (SELECT r.evaluated_at FROM runs r WHERE r.id = findings.run),
    first_seen = (SELECT r.evaluated_at FROM runs r WHERE r.id = findings.run)
WHERE state = 'resolved' AND last_seen IS NULL;

CREATE TABLE finding_lifecycle (
    finding_id        TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL,
    check_id          TEXT NOT NULL,
    resource          TEXT NOT NULL,
    severity          TEXT NOT NULL,
    status            TEXT NOT NULL,
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    resolved_at       TEXT,
    reopened          BOOLEAN NOT NULL,
    updated_run_id    TEXT NOT NULL,
    updated_run_order INTEGER NOT NULL
);
CREATE INDEX finding_lifecycle_account ON finding_lifecycle (account_id, status);

INSERT INTO finding_lifecycle (finding_id, account_id, check_id, resource, severity, status,
    first_seen, last_seen, resolved_at, reopened, updated_run_id, updated_run_order)
SELECT finding_id, account_id, check_id, resource, severity,
       CASE WHEN state = 'resolved' THEN 'resolved' WHEN suppressed THEN 'suppressed' ELSE 'open' END,
       first_seen, last_seen, resolved_at, FALSE, run_id, run_order
FROM (SELECT f.*, r.run_id, r.run_order,
             ROW_NUMBER() OVER (PARTITION BY f.finding_id ORDER BY r.run_order DESC, f.position) AS n
      FROM findings f JOIN runs r ON r.id = f.run) latest
WHERE n = 1;

-- +goose Down
DROP TABLE finding_lifecycle;
ALTER TABLE findings DROP COLUMN reopened;
ALTER TABLE findings DROP COLUMN resolved_at;
ALTER TABLE findings DROP COLUMN last_seen;
ALTER TABLE findings DROP COLUMN first_seen;
