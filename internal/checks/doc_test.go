package checks

import (
	"github.com/iamaudit/iamaudit/internal/credreport"
	"os"
	"strings"
	"testing"
)

// TestDocsListEveryCheck keeps docs/checks.md in step with the table.
func TestDocsListEveryCheck(t *testing.T) {
	b, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range All() {
		row := "| " + c.ID + " | " + c.Severity.String() + " |"
		if !strings.Contains(string(b), row) {
			t.Errorf("docs/checks.md lacks the row starting %q", row)
		}
	}
}

// TestReportAnswersMatchesGaps: a check marked as answerable from a credential report
// runs on a report-only account, and one that is not is skipped by the gaps.
func TestReportAnswersMatchesGaps(t *testing.T) {
	rep, err := credreport.Parse(strings.NewReader("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n" +
		"<root_account>,arn:aws:iam::111122223333:root,2015-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"))
	if err != nil {
		t.Fatal(err)
	}
	acct := credreport.ToAccount(rep, "111122223333", "p")
	for _, c := range All() {
		if got := !missing(&acct, c.Needs); got != c.ReportAnswers {
			t.Errorf("%s: runs on a report-only account = %v, but ReportAnswers = %v", c.ID, got, c.ReportAnswers)
		}
	}
}
