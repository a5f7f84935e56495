-- Schema version 3: the inventory fields added since version 1 (docs/store-schema.md,
-- "Migrations"), and a finding's remediation as typed actions.
--
-- Runs written by an earlier version have NULL in every new column: what those
-- versions did not collect is not known. A gap written then has no unknown fields;
-- they are what inventory.LegacyUnknown reads from its section, subject and operation,
-- as the run JSON files of those versions are read.
--
-- remediation_actions: the finding's fix.Action list as JSON, with the finding's
-- account id, user name and resource written as "$account", "$user" and "$resource"
-- (a string that starts with "$" is stored with one more "$"), so that findings of a
-- check mostly share one list: finding_checks holds the first finding's, a findings
-- row only one that differs. The rendered AWS CLI text (remediation_commands) is no
-- longer stored for findings that have actions: it is derived from them.

-- +goose Up
ALTER TABLE runs ADD COLUMN organization_arn TEXT;

ALTER TABLE accounts ADD COLUMN root_credentials TEXT;
ALTER TABLE accounts ADD COLUMN credential_report_check TEXT;
ALTER TABLE accounts ADD COLUMN credential_report_changes_since TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN credential_report_cloudtrail_complete_until TIMESTAMPTZ;
ALTER TABLE accounts ADD COLUMN credential_report_reread_sections JSONB;
ALTER TABLE accounts ADD COLUMN credential_report_reread_reason TEXT;
ALTER TABLE accounts ADD COLUMN credential_report_reread_users JSONB;
ALTER TABLE accounts ADD COLUMN credential_report_unknown_users JSONB;

ALTER TABLE access_keys ADD COLUMN slot INTEGER;

ALTER TABLE events ADD COLUMN error_message TEXT;
ALTER TABLE events ADD COLUMN event_type TEXT;
ALTER TABLE events ADD COLUMN user_type TEXT;
ALTER TABLE events ADD COLUMN source_ip TEXT;
ALTER TABLE events ADD COLUMN login_result TEXT;
ALTER TABLE events ADD COLUMN mfa_used TEXT;

ALTER TABLE gaps ADD COLUMN unknown JSONB;

ALTER TABLE finding_checks ADD COLUMN remediation_actions JSONB;
ALTER TABLE findings ADD COLUMN remediation_actions JSONB;

-- +goose Down
ALTER TABLE findings DROP COLUMN remediation_actions;
ALTER TABLE finding_checks DROP COLUMN remediation_actions;
ALTER TABLE gaps DROP COLUMN unknown;
ALTER TABLE events DROP COLUMN mfa_used;
ALTER TABLE events DROP COLUMN login_result;
ALTER TABLE events DROP COLUMN source_ip;
ALTER TABLE events DROP COLUMN user_type;
ALTER TABLE events DROP COLUMN event_type;
ALTER TABLE events DROP COLUMN error_message;
ALTER TABLE access_keys DROP COLUMN slot;
ALTER TABLE accounts DROP COLUMN credential_report_unknown_users;
ALTER TABLE accounts DROP COLUMN credential_report_reread_users;
ALTER TABLE accounts DROP COLUMN credential_report_reread_reason;
ALTER TABLE accounts DROP COLUMN credential_report_reread_sections;
ALTER TABLE accounts DROP COLUMN credential_report_cloudtrail_complete_until;
ALTER TABLE accounts DROP COLUMN credential_report_changes_since;
ALTER TABLE accounts DROP COLUMN credential_report_check;
ALTER TABLE accounts DROP COLUMN root_credentials;
ALTER TABLE runs DROP COLUMN organization_arn;
