package dashboard

import (
	"slices"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/store"
)

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// Remediation events per month say how much of each month the runs saw: a month
// no window reached is unknown (never zero), the first and last months are seen
// from and to the windows' ends, and a month is partial for the accounts whose
// events no run read whole over it.
func TestEventMonths(t *testing.T) {
	t.Parallel()
	cov := []store.RunEvents{
		// Two runs covering 2026-01-01 … 2026-03-15 for A; B's events unknown in the
		// second run, so February is unknown for B after the first run's end.
		{RunID: "r1", Start: date("2026-01-01"), End: date("2026-02-10"), Accounts: []string{"A", "B"}, Unknown: []string{}},
		{RunID: "r2", Start: date("2026-02-01"), End: date("2026-03-15"), Accounts: []string{"A", "B"}, Unknown: []string{"B"}},
		// A gap: nothing saw April; a run in May.
		{RunID: "r3", Start: date("2026-05-01"), End: date("2026-05-20"), Accounts: []string{"A"}, Unknown: []string{}},
		// A run without a window is left out.
		{RunID: "r4", Accounts: []string{"A"}},
	}
	counts := []store.EventCount{
		{Month: "2026-01", AccountID: "A", Name: "DeleteAccessKey", Count: 2},
		{Month: "2026-01", AccountID: "B", Name: "DeleteUser", Count: 1},
		{Month: "2026-02", AccountID: "A", Name: "DeleteAccessKey", Count: 3},
		{Month: "2026-05", AccountID: "A", Name: "EnableMFADevice", Count: 4},
	}
	type row struct {
		month, status string
		count         int
		unknown       []string
		through       string
	}
	var got []row
	for _, m := range eventMonths(cov, counts, "") {
		got = append(got, row{m.Month, m.Status, m.Count, m.Unknown, m.Through})
	}
	want := []row{
		{"2026-01", "complete", 3, []string{}, ""},
		{"2026-02", "partial", 3, []string{"B"}, ""},
		{"2026-03", "partial", 0, []string{"A", "B"}, ""},
		{"2026-04", "unknown", 0, []string{}, ""},
		{"2026-05", "partial", 4, []string{}, "2026-05-20"},
	}
	if len(got) != len(want) {
		t.Fatalf("months %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.month != w.month || g.status != w.status || g.count != w.count || !slices.Equal(g.unknown, w.unknown) || g.through != w.through {
			t.Errorf("month %d: %+v, want %+v", i, g, w)
		}
	}
	// One account: only the runs that looked at it.
	for _, m := range eventMonths(cov, counts, "B") {
		if m.Month == "2026-05" || m.Month == "2026-04" {
			t.Errorf("B has month %s: no run looked at B then", m.Month)
		}
		if m.Month == "2026-01" && (m.Status != "complete" || m.Count != 1) {
			t.Errorf("B in January: %+v", m)
		}
	}
	if eventMonths(nil, counts, "") != nil {
		t.Error("months without any window")
	}
}

func TestCovered(t *testing.T) {
	t.Parallel()
	s := []span{{date("2026-01-10"), date("2026-01-20")}, {date("2026-01-01"), date("2026-01-12")}}
	if !covered(slices.Clone(s), date("2026-01-01"), date("2026-01-20")) {
		t.Error("overlapping spans cover their union")
	}
	if covered(slices.Clone(s), date("2026-01-01"), date("2026-01-21")) {
		t.Error("a day past the spans is covered")
	}
	gap := []span{{date("2026-01-01"), date("2026-01-05")}, {date("2026-01-06"), date("2026-01-20")}}
	if covered(gap, date("2026-01-01"), date("2026-01-20")) {
		t.Error("a gap is covered")
	}
}

// diffWorld is two runs of one account: the second resolves one finding, adds
// one, changes one's severity; a second account is fully audited in the first
// run only, so its vanished finding is "not seen", not resolved.
func TestCompareRuns(t *testing.T) {
	t.Parallel()
	acct := func(id, status string, gaps int, users ...inventory.User) inventory.Account {
		a := inventory.Account{ID: id, Name: "acct " + id, Status: status, Users: users}
		for range gaps {
			a.Gaps = append(a.Gaps, inventory.Gap{AccountID: id, Section: inventory.SectionMFA, Message: "throttled"})
		}
		return a
	}
	user := func(name string, keys ...string) inventory.User {
		u := inventory.User{Name: name}
		for _, k := range keys {
			u.AccessKeys = append(u.AccessKeys, inventory.AccessKey{ID: k, Status: "Active"})
		}
		return u
	}
	f := func(id, account, check string, sev checks.Severity) checks.Finding {
		return checks.Finding{ID: id, AccountID: account, CheckID: check, Severity: sev, State: checks.StateOpen}
	}
	from := &outcome.Outcome{Inventory: &inventory.Inventory{RunID: "a", Accounts: []inventory.Account{
		acct("111", inventory.StatusAudited, 0, user("alice", "AKIA1"), user("bob")),
		acct("222", inventory.StatusAudited, 0, user("carol")),
	}}, Findings: []checks.Finding{
		f("f1", "111", "access_key_not_rotated", checks.High),
		f("f2", "111", "console_without_mfa", checks.High),
		f("f3", "222", "console_without_mfa", checks.High),
		{ID: "f0", AccountID: "111", State: checks.StateResolved},
	}}
	to := &outcome.Outcome{Inventory: &inventory.Inventory{RunID: "b", Accounts: []inventory.Account{
		acct("111", inventory.StatusAudited, 0, user("alice", "AKIA2"), user("dave")),
		acct("222", inventory.StatusPartial, 1, user("carol")),
	}}, Findings: []checks.Finding{
		f("f2", "111", "console_without_mfa", checks.Critical),
		f("f4", "111", "user_without_owner", checks.Low),
	}}
	d := CompareRuns(from, to)
	kinds := map[string]string{}
	for _, c := range d.Findings {
		kinds[c.ID] = c.Kind
	}
	want := map[string]string{"f1": ChangeRemoved, "f2": ChangeChanged, "f3": ChangeNotSeen, "f4": ChangeAdded}
	for id, k := range want {
		if kinds[id] != k {
			t.Errorf("finding %s: %q, want %q", id, kinds[id], k)
		}
	}
	if len(d.Findings) != 4 || d.Counts[ChangeRemoved] != 1 || d.Counts[ChangeNotSeen] != 1 {
		t.Errorf("findings %+v counts %v", d.Findings, d.Counts)
	}
	var users, keys []string
	for _, u := range d.Users {
		users = append(users, u.Kind+" "+u.AccountID+"/"+u.User)
	}
	for _, k := range d.Keys {
		keys = append(keys, k.Kind+" "+k.KeyID)
	}
	// Account 222 is partial in the second run: its users are not compared.
	if want := []string{"added 111/dave", "removed 111/bob"}; !slices.Equal(users, want) {
		t.Errorf("users %v, want %v", users, want)
	}
	if want := []string{"added AKIA2", "removed AKIA1"}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	var status []string
	for _, a := range d.Accounts {
		status = append(status, a.AccountID+" "+a.StatusFrom+"→"+a.StatusTo)
	}
	if !slices.Contains(status, "222 audited→partial") {
		t.Errorf("accounts %v", status)
	}
}
