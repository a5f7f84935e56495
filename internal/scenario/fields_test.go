package scenario

import "testing"

// TestNewFieldErrors: the fields for key slots, roots without a password, sign-ins,
// delegated administrators and role paths are checked with file:line errors.
func TestNewFieldErrors(t *testing.T) {
	const two = base + `  - id: "111122223333"
    name: Member
`
	tests := []struct{ name, src, want string }{
		{"slot out of range", base + `    users:
      - name: bob
        access_keys:
          - slot: 3
`, `x.yaml:10: account "Management": user "bob": access key 1: slot 3 must be 1 or 2`},
		{"slot taken twice", base + `    users:
      - name: bob
        access_keys:
          - slot: 2
          - slot: 2
`, `x.yaml:11: account "Management": user "bob": access key 2: slot 2 is already taken`},
		{"report_last_rotated_na on an active key", base + `    users:
      - name: bob
        access_keys:
          - report_last_rotated_na: true
`, `x.yaml:10: account "Management": user "bob": access key 1: report_last_rotated_na is for a key that is not Active (AWS shows an active key's last_rotated)`},
		{"root without password but used", base + `    root:
      password: false
      password_last_used: -3d
`, `x.yaml:9: account "Management": root: password_last_used needs a password (remove password: false or the date)`},
		{"result on another event", base + `    events:
      - {time: -1d, name: CreateUser, result: Failure}
`, `x.yaml:8: account "Management": event 1: result is for ConsoleLogin events only`},
		{"bad result", base + `    events:
      - {time: -1d, name: ConsoleLogin, result: Denied}
`, `x.yaml:8: account "Management": event 1: result "Denied" must be Success or Failure`},
		{"bad source ip", base + `    events:
      - {time: -1d, name: ConsoleLogin, source_ip: somewhere}
`, `x.yaml:8: account "Management": event 1: source_ip "somewhere" is not an IP address`},
		{"delegated administrator is the management account", `name: t
organization:
  management_account_id: "210987654321"
  delegated_administrators: ["210987654321"]
accounts:
  - id: "210987654321"
    name: Management
`, `x.yaml:4: organization: delegated administrator "210987654321" is the management account: only member accounts are delegated administrators`},
		{"unknown caller account", `name: t
organization:
  management_account_id: "210987654321"
  caller_account_id: "999999999999"
accounts:
  - id: "210987654321"
    name: Management
`, `x.yaml:4: organization: caller_account_id "999999999999" is not one of the accounts`},
		{"bad audit role path", two + `    audit_roles: {"/sec urity/IAMAuditRole": present}
`, `x.yaml:9: account "Member": audit role name "/sec urity/IAMAuditRole" is not a valid IAM role name (with an optional path: /security/IAMAuditRole)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
	ok := `name: t
organization:
  management_account_id: "210987654321"
  caller_account_id: "111122223333"
  delegated_administrators: ["111122223333"]
accounts:
  - id: "210987654321"
    name: Management
    audit_roles: {"/security/IAMAuditRole": present}
    root: {password: false}
  - id: "111122223333"
    name: Security
    users:
      - name: svc
        access_keys: [{slot: 2, status: Expired}, {slot: 1, status: Inactive, report_last_rotated_na: true, last_used: -10d}]
    events:
      - {time: -1d, name: ConsoleLogin, username: root, result: Failure, source_ip: 192.0.2.10, mfa_used: true}
`
	s, err := Parse("ok.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if s.CallerAccount() != "111122223333" || s.Accounts[0].Root.HasPassword() || s.Accounts[1].Users[0].AccessKeys[0].Slot != 2 {
		t.Errorf("parsed %+v", s)
	}
	if p, n, ok := SplitRole("security/IAMAuditRole"); !ok || p != "/security/" || n != "IAMAuditRole" {
		t.Errorf("SplitRole: %q %q %v", p, n, ok)
	}
}
