-- Schema version 1: every run, relational (docs/store-schema.md). The same tables
-- and columns as migrations/sqlite, in PostgreSQL's types.

-- +goose Up
CREATE TABLE runs (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id                TEXT NOT NULL UNIQUE,
    run_order             BIGINT NOT NULL,
    command               TEXT NOT NULL,
    source                TEXT NOT NULL,
    tool                  TEXT NOT NULL,
    tool_version          TEXT NOT NULL,
    inventory_schema      TEXT NOT NULL,
    started_at            TIMESTAMPTZ NOT NULL,
    finished_at           TIMESTAMPTZ NOT NULL,
    evaluated_at          TIMESTAMPTZ NOT NULL,
    recorded_at           TIMESTAMPTZ NOT NULL,
    aws_partition         TEXT,
    aws_region            TEXT,
    organization_id       TEXT,
    management_account_id TEXT,
    caller_account_id     TEXT,
    caller_arn            TEXT,
    audit_role            TEXT,
    event_window_start    TIMESTAMPTZ,
    event_window_end      TIMESTAMPTZ,
    event_names           JSONB NOT NULL,
    complete              BOOLEAN NOT NULL,
    interrupted           BOOLEAN NOT NULL,
    baseline_run_id       TEXT,
    key_rotation_days     INTEGER NOT NULL,
    settings              JSONB NOT NULL,
    files                 JSONB NOT NULL
);
CREATE INDEX runs_order ON runs (run_order);

CREATE TABLE accounts (
    run                            BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    account_id                     TEXT NOT NULL,
    position                       INTEGER NOT NULL,
    name                           TEXT NOT NULL,
    email                          TEXT,
    state                          TEXT NOT NULL,
    ou_path                        TEXT,
    is_management                  BOOLEAN NOT NULL,
    status                         TEXT NOT NULL,
    reason                         TEXT,
    audited_as                     TEXT,
    collected_at                   TIMESTAMPTZ,
    fully_audited                  BOOLEAN NOT NULL,
    credential_report_generated_at TIMESTAMPTZ,
    credential_report_reused       BOOLEAN,
    credential_report_age_seconds  INTEGER,
    fresh_key_data                 BOOLEAN,
    root_known                     BOOLEAN NOT NULL,
    root_arn                       TEXT,
    root_mfa_active                BOOLEAN,
    root_mfa_type                  TEXT,
    root_password_last_used        TIMESTAMPTZ,
    root_created_at                TIMESTAMPTZ,
    password_policy_known          BOOLEAN NOT NULL,
    password_policy                JSONB,
    summary                        JSONB,
    api_calls                      JSONB,
    PRIMARY KEY (run, account_id)
);
CREATE INDEX accounts_account ON accounts (account_id, run);

CREATE TABLE root_access_keys (
    run               BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    account_id        TEXT NOT NULL,
    slot              INTEGER NOT NULL,
    active            BOOLEAN NOT NULL,
    last_rotated      TIMESTAMPTZ,
    last_used_at      TIMESTAMPTZ,
    last_used_service TEXT,
    last_used_region  TEXT,
    PRIMARY KEY (run, account_id, slot)
);

CREATE TABLE users (
    run                   BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    account_id            TEXT NOT NULL,
    user_name             TEXT NOT NULL,
    position              INTEGER NOT NULL,
    arn                   TEXT NOT NULL,
    user_id               TEXT,
    path                  TEXT,
    created_at            TIMESTAMPTZ,
    password_enabled      BOOLEAN NOT NULL,
    password_last_used    TIMESTAMPTZ,
    password_last_changed TIMESTAMPTZ,
    mfa_active            BOOLEAN NOT NULL,
    group_names           JSONB NOT NULL,
    tags                  JSONB,
    attached_policies     JSONB NOT NULL,
    inline_policies       JSONB NOT NULL,
    permissions_boundary  TEXT,
    PRIMARY KEY (run, account_id, user_name)
);

CREATE TABLE access_keys (
    run               BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    account_id        TEXT NOT NULL,
    user_name         TEXT NOT NULL,
    position          INTEGER NOT NULL,
    access_key_id     TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_at        TIMESTAMPTZ,
    last_used_at      TIMESTAMPTZ,
    last_used_service TEXT,
    last_used_region  TEXT,
    last_used_source  TEXT,
    PRIMARY KEY (run, account_id, user_name, position)
);
CREATE INDEX access_keys_key ON access_keys (account_id, access_key_id);

CREATE TABLE mfa_devices (
    run        BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    serial     TEXT NOT NULL,
    type       TEXT NOT NULL,
    enabled_at TIMESTAMPTZ,
    PRIMARY KEY (run, account_id, user_name, position)
);

CREATE TABLE events (
    run                BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    account_id         TEXT NOT NULL,
    position           INTEGER NOT NULL,
    event_id           TEXT NOT NULL,
    event_time         TIMESTAMPTZ NOT NULL,
    event_name         TEXT NOT NULL,
    event_source       TEXT,
    username           TEXT,
    access_key_id      TEXT,
    error_code         TEXT,
    resources          JSONB NOT NULL,
    request_parameters JSONB,
    PRIMARY KEY (run, account_id, position)
);
CREATE INDEX events_name_time ON events (event_name, event_time);

CREATE TABLE gaps (
    run        BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    level      TEXT NOT NULL,
    account_id TEXT,
    section    TEXT NOT NULL,
    subject    TEXT,
    operation  TEXT,
    error_code TEXT,
    message    TEXT NOT NULL,
    PRIMARY KEY (run, position)
);

CREATE TABLE finding_checks (
    run                  BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    check_id             TEXT NOT NULL,
    title                TEXT NOT NULL,
    remediation_workflow TEXT,
    cis                  JSONB,
    security_hub         JSONB,
    PRIMARY KEY (run, check_id)
);

CREATE TABLE findings (
    run                  BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position             INTEGER NOT NULL,
    finding_id           TEXT NOT NULL,
    check_id             TEXT NOT NULL,
    severity             TEXT NOT NULL,
    account_id           TEXT NOT NULL,
    account_name         TEXT,
    resource             TEXT NOT NULL,
    resource_type        TEXT NOT NULL,
    user_name            TEXT,
    message              TEXT NOT NULL,
    state                TEXT NOT NULL,
    suppressed           BOOLEAN NOT NULL,
    suppression_reason   TEXT,
    suppression_expires  TIMESTAMPTZ,
    evidence             JSONB,
    remediation_commands JSONB,
    title                TEXT,
    remediation_workflow TEXT,
    cis                  JSONB,
    security_hub         JSONB,
    PRIMARY KEY (run, position)
);
CREATE INDEX findings_finding ON findings (finding_id, run);

CREATE TABLE scores (
    run                          BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    scope                        TEXT NOT NULL,
    account_id                   TEXT NOT NULL,
    position                     INTEGER NOT NULL,
    account_name                 TEXT,
    audited                      BOOLEAN NOT NULL,
    known                        BOOLEAN NOT NULL,
    unknown_sections             JSONB NOT NULL,
    accounts                     INTEGER NOT NULL,
    findings_critical            INTEGER NOT NULL,
    findings_high                INTEGER NOT NULL,
    findings_medium              INTEGER NOT NULL,
    findings_low                 INTEGER NOT NULL,
    findings_suppressed          INTEGER NOT NULL,
    users                        INTEGER NOT NULL,
    console_users                INTEGER NOT NULL,
    console_users_with_mfa       INTEGER NOT NULL,
    mfa_coverage_percent         DOUBLE PRECISION,
    active_keys                  INTEGER NOT NULL,
    keys_0_90                    INTEGER NOT NULL,
    keys_91_180                  INTEGER NOT NULL,
    keys_181_365                 INTEGER NOT NULL,
    keys_over_365                INTEGER NOT NULL,
    unused_keys                  INTEGER NOT NULL,
    never_used_keys              INTEGER NOT NULL,
    inactive_keys                INTEGER NOT NULL,
    inactive_users               INTEGER NOT NULL,
    long_term_keys               INTEGER NOT NULL,
    keys_over_rotation           INTEGER NOT NULL,
    risk_formula                 TEXT NOT NULL,
    risk_score                   INTEGER,
    risk_at_least                INTEGER NOT NULL,
    risk_label                   TEXT NOT NULL,
    risk_basis_critical          INTEGER NOT NULL,
    risk_basis_high              INTEGER NOT NULL,
    risk_basis_medium            INTEGER NOT NULL,
    risk_basis_low               INTEGER NOT NULL,
    risk_points                  INTEGER NOT NULL,
    risk_floor                   INTEGER NOT NULL,
    risk_unevaluated_checks      JSONB NOT NULL,
    seed_risk_formula            TEXT NOT NULL,
    seed_risk_score              INTEGER,
    seed_risk_at_least           INTEGER NOT NULL,
    seed_risk_label              TEXT NOT NULL,
    seed_keys_over_365           INTEGER NOT NULL,
    seed_keys_181_365            INTEGER NOT NULL,
    seed_keys_91_180             INTEGER NOT NULL,
    seed_users_without_mfa       INTEGER NOT NULL,
    seed_console_never_signed_in INTEGER NOT NULL,
    seed_inactive_keys           INTEGER NOT NULL,
    phase1_known                 BOOLEAN NOT NULL,
    phase1_complete              BOOLEAN NOT NULL,
    phase2_known                 BOOLEAN NOT NULL,
    phase2_complete              BOOLEAN NOT NULL,
    phase2_advanced              BOOLEAN NOT NULL,
    PRIMARY KEY (run, scope, account_id)
);

CREATE TABLE run_documents (
    run    BIGINT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    format TEXT NOT NULL,
    body   BYTEA NOT NULL
);

-- +goose Down
DROP TABLE run_documents;
DROP TABLE scores;
DROP TABLE findings;
DROP TABLE finding_checks;
DROP TABLE gaps;
DROP TABLE events;
DROP TABLE mfa_devices;
DROP TABLE access_keys;
DROP TABLE users;
DROP TABLE root_access_keys;
DROP TABLE accounts;
DROP TABLE runs;
