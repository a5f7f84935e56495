-- A store as schema version 1 (migrations/*/00001_runs.sql) wrote it: two runs of one
-- account, before finding lifecycles existed, gaps stated their unknown fields and
-- findings their remediation actions (the second run has a gap, and a finding with
-- its remediation as AWS CLI text). Valid SQL for SQLite and PostgreSQL.
-- store-v1.db is this file applied to a SQLite store migrated to version 1 only
-- (go test ./internal/store -run TestMigrateFromVersion1 -update).

INSERT INTO runs (run_id, run_order, command, source, tool, tool_version, inventory_schema, started_at,
    finished_at, evaluated_at, recorded_at, aws_partition, aws_region, organization_id, management_account_id,
    caller_account_id, caller_arn, audit_role, event_window_start, event_window_end, event_names, complete,
    interrupted, baseline_run_id, key_rotation_days, settings, files)
VALUES ('20251201_090000', 20251201090000001, 'run', 'run', 'iamaudit', 'v0.9.0', 'iamaudit.inventory/v1', '2025-12-01T09:00:00.000000Z', '2025-12-01T09:00:00.000000Z', '2025-12-01T09:00:00.000000Z', '2025-12-01T09:00:00.000000Z',
    'aws', 'us-east-1', 'o-fixture0001', '100000000000', '100000000000', 'arn:aws:iam::100000000000:user/auditor',
    'IAMAuditRole', '2025-12-01T09:00:00.000000Z', '2025-12-01T09:00:00.000000Z', '["CreateAccessKey"]', TRUE, FALSE, NULL, 90,
    '{"checks":{"preset":"default","thresholds":{"key_rotation_medium_days":90},"owner_tags":[]},"suppressions":[],"fail_on":null}', '[]');

INSERT INTO accounts (run, account_id, position, name, email, state, ou_path, is_management, status, reason,
    audited_as, collected_at, fully_audited, credential_report_generated_at, credential_report_reused,
    credential_report_age_seconds, fresh_key_data, root_known, root_arn, root_mfa_active, root_mfa_type,
    root_password_last_used, root_created_at, password_policy_known, password_policy, summary, api_calls)
VALUES ((SELECT id FROM runs WHERE run_id = '20251201_090000'), '100000000000', 0, 'Account 0', NULL, 'ACTIVE', NULL, TRUE, 'audited', NULL, NULL, '2025-12-01T09:00:00.000000Z', TRUE,
    NULL, NULL, NULL, NULL, TRUE, 'arn:aws:iam::100000000000:root', TRUE, 'Virtual', NULL, NULL, TRUE, NULL, NULL, NULL);
INSERT INTO users (run, account_id, user_name, position, arn, user_id, path, created_at, password_enabled,
    password_last_used, password_last_changed, mfa_active, group_names, tags, attached_policies, inline_policies,
    permissions_boundary)
VALUES ((SELECT id FROM runs WHERE run_id = '20251201_090000'), '100000000000', 'user000', 0, 'arn:aws:iam::100000000000:user/user000', NULL, '/', '2023-01-01T00:00:00.000000Z',
    TRUE, '2025-12-01T09:00:00.000000Z', NULL, FALSE, '[]', NULL, '[]', '[]', NULL);

INSERT INTO findings (run, position, finding_id, check_id, severity, account_id, account_name, resource,
    resource_type, user_name, message, state, suppressed, suppression_reason, suppression_expires, evidence,
    remediation_commands, title, remediation_workflow, cis, security_hub)
VALUES ((SELECT id FROM runs WHERE run_id = '20251201_090000'), 1, 'd7a518b6004fd481', 'console_without_mfa', 'high', '100000000000', 'Account 0', 'arn:aws:iam::100000000000:user/user000', 'user', 'user000',
    'fixture finding', 'new', FALSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO findings (run, position, finding_id, check_id, severity, account_id, account_name, resource,
    resource_type, user_name, message, state, suppressed, suppression_reason, suppression_expires, evidence,
    remediation_commands, title, remediation_workflow, cis, security_hub)
VALUES ((SELECT id FROM runs WHERE run_id = '20251201_090000'), 2, 'f86fa3be1d2e7a28', 'access_key_not_rotated', 'medium', '100000000000', 'Account 0', 'AKIAFIXTURE0000001', 'access_key', 'user000',
    'fixture finding', 'new', FALSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO finding_checks (run, check_id, title, remediation_workflow, cis, security_hub)
VALUES ((SELECT id FROM runs WHERE run_id = '20251201_090000'), 'console_without_mfa', 'Console user without MFA', 'Enable MFA', '["1.10"]', NULL),
       ((SELECT id FROM runs WHERE run_id = '20251201_090000'), 'access_key_not_rotated', 'Access key not rotated', 'Rotate the key', NULL, NULL);
INSERT INTO scores (run, scope, account_id, position, account_name, audited, known, unknown_sections, accounts,
    findings_critical, findings_high, findings_medium, findings_low, findings_suppressed, users, console_users,
    console_users_with_mfa, mfa_coverage_percent, active_keys, keys_0_90, keys_91_180, keys_181_365, keys_over_365,
    unused_keys, never_used_keys, inactive_keys, inactive_users, long_term_keys, keys_over_rotation, risk_formula,
    risk_score, risk_at_least, risk_label, risk_basis_critical, risk_basis_high, risk_basis_medium, risk_basis_low,
    risk_points, risk_floor, risk_unevaluated_checks, seed_risk_formula, seed_risk_score, seed_risk_at_least,
    seed_risk_label, seed_keys_over_365, seed_keys_181_365, seed_keys_91_180, seed_users_without_mfa,
    seed_console_never_signed_in, seed_inactive_keys, phase1_known, phase1_complete, phase2_known, phase2_complete,
    phase2_advanced)
VALUES ((SELECT id FROM runs WHERE run_id = '20251201_090000'), 'organization', '', 1, NULL, TRUE, TRUE, '[]', 1, 0, 1, 1, 0, 0, 1, 1, 0, 0.0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 'iamaudit-risk/2', 47, 47, 'medium', 0, 1, 0, 0, 5, 40, '[]', 'iamaudit-risk/1', 5, 5, 'low', 0, 0, 0, 1, 0, 0,
    TRUE, FALSE, TRUE, TRUE, FALSE);

INSERT INTO runs (run_id, run_order, command, source, tool, tool_version, inventory_schema, started_at,
    finished_at, evaluated_at, recorded_at, aws_partition, aws_region, organization_id, management_account_id,
    caller_account_id, caller_arn, audit_role, event_window_start, event_window_end, event_names, complete,
    interrupted, baseline_run_id, key_rotation_days, settings, files)
VALUES ('20260101_090000', 20260101090000001, 'run', 'run', 'iamaudit', 'v0.9.0', 'iamaudit.inventory/v1', '2026-01-01T09:00:00.000000Z', '2026-01-01T09:00:00.000000Z', '2026-01-01T09:00:00.000000Z', '2026-01-01T09:00:00.000000Z',
    'aws', 'us-east-1', 'o-fixture0001', '100000000000', '100000000000', 'arn:aws:iam::100000000000:user/auditor',
    'IAMAuditRole', '2026-01-01T09:00:00.000000Z', '2026-01-01T09:00:00.000000Z', '["CreateAccessKey"]', FALSE, FALSE, '20251201_090000', 90,
    '{"checks":{"preset":"default","thresholds":{"key_rotation_medium_days":90},"owner_tags":[]},"suppressions":[],"fail_on":null}', '[]');

INSERT INTO accounts (run, account_id, position, name, email, state, ou_path, is_management, status, reason,
    audited_as, collected_at, fully_audited, credential_report_generated_at, credential_report_reused,
    credential_report_age_seconds, fresh_key_data, root_known, root_arn, root_mfa_active, root_mfa_type,
    root_password_last_used, root_created_at, password_policy_known, password_policy, summary, api_calls)
VALUES ((SELECT id FROM runs WHERE run_id = '20260101_090000'), '100000000000', 0, 'Account 0', NULL, 'ACTIVE', NULL, TRUE, 'audited', NULL, NULL, '2026-01-01T09:00:00.000000Z', TRUE,
    NULL, NULL, NULL, NULL, TRUE, 'arn:aws:iam::100000000000:root', TRUE, 'Virtual', NULL, NULL, TRUE, NULL, NULL, NULL);
INSERT INTO users (run, account_id, user_name, position, arn, user_id, path, created_at, password_enabled,
    password_last_used, password_last_changed, mfa_active, group_names, tags, attached_policies, inline_policies,
    permissions_boundary)
VALUES ((SELECT id FROM runs WHERE run_id = '20260101_090000'), '100000000000', 'user000', 0, 'arn:aws:iam::100000000000:user/user000', NULL, '/', '2023-01-01T00:00:00.000000Z',
    TRUE, '2026-01-01T09:00:00.000000Z', NULL, FALSE, '[]', NULL, '[]', '[]', NULL);

INSERT INTO findings (run, position, finding_id, check_id, severity, account_id, account_name, resource,
    resource_type, user_name, message, state, suppressed, suppression_reason, suppression_expires, evidence,
    remediation_commands, title, remediation_workflow, cis, security_hub)
VALUES ((SELECT id FROM runs WHERE run_id = '20260101_090000'), 1, 'd7a518b6004fd481', 'console_without_mfa', 'high', '100000000000', 'Account 0', 'arn:aws:iam::100000000000:user/user000', 'user', 'user000',
    'fixture finding', 'open', FALSE, NULL, NULL, NULL, '["aws iam list-mfa-devices --user-name user000"]', NULL, NULL, NULL, NULL);

INSERT INTO gaps (run, position, level, account_id, section, subject, operation, error_code, message)
VALUES ((SELECT id FROM runs WHERE run_id = '20260101_090000'), 1, 'run', NULL, 'organization', NULL,
    'organizations:ListOrganizationalUnitsForParent', 'AccessDenied', 'OU names could not be read');

INSERT INTO findings (run, position, finding_id, check_id, severity, account_id, account_name, resource,
    resource_type, user_name, message, state, suppressed, suppression_reason, suppression_expires, evidence,
    remediation_commands, title, remediation_workflow, cis, security_hub)
VALUES ((SELECT id FROM runs WHERE run_id = '20260101_090000'), 2, 'f86fa3be1d2e7a28', 'access_key_not_rotated', 'medium', '100000000000', 'Account 0', 'AKIAFIXTURE0000001', 'access_key', 'user000',
    'fixture finding', 'resolved', FALSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO finding_checks (run, check_id, title, remediation_workflow, cis, security_hub)
VALUES ((SELECT id FROM runs WHERE run_id = '20260101_090000'), 'console_without_mfa', 'Console user without MFA', 'Enable MFA', '["1.10"]', NULL),
       ((SELECT id FROM runs WHERE run_id = '20260101_090000'), 'access_key_not_rotated', 'Access key not rotated', 'Rotate the key', NULL, NULL);
INSERT INTO scores (run, scope, account_id, position, account_name, audited, known, unknown_sections, accounts,
    findings_critical, findings_high, findings_medium, findings_low, findings_suppressed, users, console_users,
    console_users_with_mfa, mfa_coverage_percent, active_keys, keys_0_90, keys_91_180, keys_181_365, keys_over_365,
    unused_keys, never_used_keys, inactive_keys, inactive_users, long_term_keys, keys_over_rotation, risk_formula,
    risk_score, risk_at_least, risk_label, risk_basis_critical, risk_basis_high, risk_basis_medium, risk_basis_low,
    risk_points, risk_floor, risk_unevaluated_checks, seed_risk_formula, seed_risk_score, seed_risk_at_least,
    seed_risk_label, seed_keys_over_365, seed_keys_181_365, seed_keys_91_180, seed_users_without_mfa,
    seed_console_never_signed_in, seed_inactive_keys, phase1_known, phase1_complete, phase2_known, phase2_complete,
    phase2_advanced)
VALUES ((SELECT id FROM runs WHERE run_id = '20260101_090000'), 'organization', '', 1, NULL, TRUE, TRUE, '[]', 1, 0, 1, 0, 0, 0, 1, 1, 0, 0.0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 'iamaudit-risk/2', 47, 47, 'medium', 0, 1, 0, 0, 5, 40, '[]', 'iamaudit-risk/1', 5, 5, 'low', 0, 0, 0, 1, 0, 0,
    TRUE, FALSE, TRUE, TRUE, FALSE);
