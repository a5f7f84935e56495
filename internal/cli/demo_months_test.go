package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/store"
)

// demoMonthsNow is the pinned "today" of the demo-with-a-past tests: the last day of
// a month, so the earlier months fall on shorter months' last days.
var demoMonthsNow = time.Date(2026, 3, 31, 10, 0, 0, 0, time.UTC)

// runDemoAt runs `iamaudit demo` with the factory's clock standing at now: a demo
// with a past reads it once (its months are audited each at its instant).
func runDemoAt(t *testing.T, now time.Time, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runDemoWith(t, func() time.Time { return now }, args...)
}

func runDemoWith(t *testing.T, clock func() time.Time, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	f := NewFactory("test", IO{In: strings.NewReader(""), Out: &o, Err: &e})
	f.Clock = clock
	code = RunWith(context.Background(), append([]string{"demo", "--no-progress"}, args...), f)
	return code, o.String(), e.String()
}

// `demo --months 6` records one run per simulated month in the demo's store, dated
// that month; each change of the demo's timeline is visible in the month after it,
// and the findings' states and lifecycle follow.
func TestDemoMonthsRecordsTheTimeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, stdout, stderr := runDemoAt(t, demoMonthsNow, "--months", "6", "--output-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Auditing 6 simulated months, from 2025-10-31 to 2026-03-31",
		"Month 1/6, 2025-10-31: 44 findings (44 new, 0 resolved)", "Month 5/6, 2026-02-28: ", "Month 6/6, 2026-03-31 (today):",
		"The demo's runs are kept in " + filepath.Join(dir, "iamaudit.db")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, "Auditing account: Production"); n != 1 {
		t.Errorf("the console report is printed %d times, want once (the last month's)", n)
	}

	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(dir, "iamaudit.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(ctx, store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{"20251031_100000", "20251130_100000", "20251231_100000", "20260131_100000", "20260228_100000", "20260331_100000"}
	var ids []string
	for i, r := range runs {
		ids = append(ids, r.RunID)
		if i > 0 && r.BaselineRunID != runs[i-1].RunID {
			t.Errorf("run %s compared with %q, want the month before, %s", r.RunID, r.BaselineRunID, runs[i-1].RunID)
		}
	}
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("runs %v, want %v", ids, wantIDs)
	}
	m := make([]*outcome.Outcome, len(ids))
	at := make([]time.Time, len(ids))
	for i, id := range ids {
		if m[i], err = s.Load(ctx, id); err != nil {
			t.Fatal(err)
		}
		at[i], _ = time.Parse(inventory.RunIDLayout, id)
		inv := m[i].Inventory
		if !inv.StartedAt.Equal(at[i]) || !inv.FinishedAt.Equal(at[i]) {
			t.Errorf("run %s started %v, finished %v: a simulated month is audited at its instant", id, inv.StartedAt, inv.FinishedAt)
		}
		for _, a := range inv.Accounts {
			if cr := a.CredentialReport; cr != nil && (cr.Reused || !cr.GeneratedAt.Equal(at[i])) {
				t.Errorf("run %s, %s: credential report %+v, want one generated that month", id, a.Name, cr)
			}
		}
	}
	const (
		prod, dev, sandboxAcct = "Production", "Development", "Development-Sandbox"
	)

	// Month 1 to 2: MFA enabled for carlos.lopez; ci-deploy's second key deleted.
	if d := mfa(t, m[0], prod, "carlos.lopez"); len(d) != 0 {
		t.Errorf("month 1: carlos.lopez has MFA %v", d)
	}
	if d := mfa(t, m[1], prod, "carlos.lopez"); len(d) != 1 || d[0].Type != inventory.MFAVirtual {
		t.Errorf("month 2: carlos.lopez's MFA %v, want the virtual device enabled", d)
	}
	wantResolved(t, m[1], at[0], "console_without_mfa", "user/carlos.lopez")
	if k := keys(t, m[0], prod, "ci-deploy"); !slices.Equal(k, []string{"AKIAAM2WLRQL7UZ6JG4H", "AKIAGMXGEDN73U55XTPL"}) {
		t.Errorf("month 1: ci-deploy's keys %v", k)
	}
	if k := keys(t, m[1], prod, "ci-deploy"); !slices.Equal(k, []string{"AKIAGMXGEDN73U55XTPL"}) {
		t.Errorf("month 2: ci-deploy's keys %v, want the older one deleted", k)
	}
	wantResolved(t, m[1], at[0], "multiple_active_keys", "user/service/ci-deploy")
	wantEvent(t, m[1], prod, "DeleteAccessKey", "AKIAAM2WLRQL7UZ6JG4H")

	// Month 2 to 3: old.contractor removed.
	if user(m[1], prod, "old.contractor") == nil || user(m[2], prod, "old.contractor") != nil {
		t.Error("old.contractor: want in month 2, gone in month 3")
	}
	wantResolved(t, m[2], at[0], "inactive_user", "user/old.contractor")
	wantEvent(t, m[2], prod, "DeleteUser", "old.contractor")

	// Month 3 to 4: the 2018 key rotated: a new key in use, the old one deleted.
	if k := keys(t, m[2], prod, "legacy-etl"); !slices.Equal(k, []string{"AKIAUJZDEGXDNCF32EPF"}) {
		t.Errorf("month 3: legacy-etl's keys %v", k)
	}
	if k := keys(t, m[3], prod, "legacy-etl"); !slices.Equal(k, []string{"AKIALEGACYETL2ROTATE"}) {
		t.Errorf("month 4: legacy-etl's keys %v, want the rotated key alone", k)
	}
	if u := user(m[3], prod, "legacy-etl"); u != nil && len(u.AccessKeys) == 1 {
		if lu := u.AccessKeys[0].LastUsedAt; lu == nil || at[3].Sub(*lu) > 24*time.Hour {
			t.Errorf("month 4: the new key's last use %v, want within the day", lu)
		}
	}
	wantResolved(t, m[3], at[0], "access_key_not_rotated", "AKIAUJZDEGXDNCF32EPF")
	wantEvent(t, m[3], prod, "CreateAccessKey", "AKIALEGACYETL2ROTATE")
	wantEvent(t, m[3], prod, "DeleteAccessKey", "AKIAUJZDEGXDNCF32EPF")

	// Month 4 to 5: the Sandbox account's audit role deployed: audited from then on;
	// lucas.silva's new key, never used.
	if st := account(t, m[3], sandboxAcct).Status; st != inventory.StatusNotAudited {
		t.Errorf("month 4: %s is %s, want not audited", sandboxAcct, st)
	}
	if f := find(m[3].Findings, "account_not_audited", "678901234567"); f == nil || !f.FirstSeen.Equal(at[0]) {
		t.Errorf("month 4: account_not_audited %+v, want first seen in month 1", f)
	}
	if st := account(t, m[4], sandboxAcct).Status; st != inventory.StatusAudited || user(m[4], sandboxAcct, "experiment") == nil {
		t.Errorf("month 5: %s is %s, want audited with its user experiment", sandboxAcct, st)
	}
	if find(m[4].Findings, "account_not_audited", "678901234567") != nil {
		t.Error("month 5: the account is audited, yet account_not_audited is still found")
	}
	if k := keys(t, m[3], prod, "lucas.silva"); len(k) != 0 {
		t.Errorf("month 4: lucas.silva's keys %v", k)
	}
	if u := user(m[4], prod, "lucas.silva"); u == nil || len(u.AccessKeys) != 1 || u.AccessKeys[0].ID != "AKIALUCASSILVANEW001" || u.AccessKeys[0].LastUsedAt != nil {
		t.Errorf("month 5: lucas.silva %+v, want his new key, never used", u)
	}
	if f := find(m[4].Findings, "access_key_never_used", "AKIALUCASSILVANEW001"); f == nil || f.State != checks.StateNew || !f.FirstSeen.Equal(at[4]) {
		t.Errorf("month 5: access_key_never_used %+v, want new", f)
	}
	if f := find(m[5].Findings, "access_key_never_used", "AKIALUCASSILVANEW001"); f == nil || f.State != checks.StateOpen ||
		!f.FirstSeen.Equal(at[4]) || !f.LastSeen.Equal(at[5]) {
		t.Errorf("month 6: access_key_never_used %+v, want open, first seen in month 5", f)
	}

	// Month 5 to 6: experiment gets MFA and loses its old key.
	if d := mfa(t, m[5], sandboxAcct, "experiment"); len(d) != 1 {
		t.Errorf("month 6: experiment's MFA %v", d)
	}
	if k := keys(t, m[5], sandboxAcct, "experiment"); len(k) != 0 {
		t.Errorf("month 6: experiment's keys %v", k)
	}
	wantResolved(t, m[5], at[4], "console_without_mfa", "user/experiment")

	// What nothing fixes stays open, first seen in month 1; people kept signing in.
	if f := find(m[5].Findings, "root_mfa_disabled", "567890123456:root"); f == nil || f.State != checks.StateOpen ||
		!f.FirstSeen.Equal(at[0]) || !f.LastSeen.Equal(at[5]) || f.Reopened {
		t.Errorf("month 6: Staging's root_mfa_disabled %+v, want open since month 1", f)
	}
	if u := user(m[5], dev, "diego.ramos"); u == nil || u.PasswordLastUsed == nil || at[5].Sub(*u.PasswordLastUsed) > 7*24*time.Hour {
		t.Errorf("month 6: diego.ramos %+v, want a sign-in in the last week", u)
	}

	// The months are the store's: a second demo with a past there is refused.
	code, _, stderr = runDemoAt(t, demoMonthsNow.Add(time.Hour), "--months", "2", "--output-dir", dir)
	if code != ExitError || !strings.Contains(stderr, "already holds a run dated at or after 2026-02-28 11:00:00 (20260331_100000, 1 in all)") || !strings.Contains(stderr, "give another --output-dir") {
		t.Errorf("second demo --months: exit %d\n%s", code, stderr)
	}
}

// Without --months (or with 1) the demo is the single audit it always was; --months
// is bounded, and chooses its own default output directory.
func TestDemoMonthsFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args    []string
		code    int
		months  int
		outDir  string
		wantErr string
	}{
		{args: nil, months: 1, outDir: "iamaudit-demo"},
		{args: []string{"--months", "6"}, months: 6, outDir: demoMonthsDir},
		{args: []string{"--months", "6", "--output-dir", "x"}, months: 6, outDir: "x"},
		{args: []string{"--months", "0"}, code: ExitUsage, wantErr: "--months 0: must be between 1 and 24"},
		{args: []string{"--months", "25"}, code: ExitUsage, wantErr: "--months 25"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := NewFactory("test", IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
			var got *DemoOptions
			cmd := newDemoCmd(f, func(_ context.Context, o *DemoOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			code := exitCode(err)
			if isFlagError(err) {
				code = ExitUsage
			}
			if code != tt.code || (tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("exit %d (%v), want %d %q", code, err, tt.code, tt.wantErr)
			}
			if tt.code == 0 && (got.Months != tt.months || got.OutputDir != tt.outDir) {
				t.Errorf("months %d, output dir %q; want %d, %q", got.Months, got.OutputDir, tt.months, tt.outDir)
			}
		})
	}

	dir := t.TempDir()
	// The plain demo's clock moves (its credential reports take 2 s to generate).
	start := time.Now()
	code, stdout, stderr := runDemoWith(t, func() time.Time { return demoMonthsNow.Add(time.Since(start)) }, "--output-dir", dir, "--format", "json")
	if code != ExitOK || strings.Contains(stdout, "Month ") || strings.Contains(stdout, "simulated") {
		t.Fatalf("plain demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	s, err := store.Open(context.Background(), filepath.Join(dir, "iamaudit.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if runs, err := s.Runs(context.Background(), store.RunFilter{}); err != nil || len(runs) != 1 || !strings.HasPrefix(runs[0].RunID, "20260331_1000") { // the clock moves: a second or two in
		t.Errorf("plain demo's store: %+v %v, want its one run", runs, err)
	}
}

// A change of a scenario's timeline that cannot be made stops the demo, naming it.
func TestDemoMonthsTimelineFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeFile(t, dir, "timeline.yaml", `name: broken
organization:
  management_account_id: "210987654321"
accounts:
  - id: "210987654321"
    name: Management
    users: [{name: kate}]
    changes:
      - {time: +10d, action: DeleteAccessKey, user: kate, key_id: AKIANOSUCHKEY0000001}
`)
	code, stdout, stderr := runDemoAt(t, demoMonthsNow, "--scenario", path, "--months", "2", "--output-dir", filepath.Join(dir, "out"))
	if code != ExitError || !strings.Contains(stderr, "the scenario's timeline failed") ||
		!strings.Contains(stderr, "account 210987654321: change 1 (DeleteAccessKey of kate at 2026-03-10T10:00:00Z)") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "iamaudit.db")); err != nil {
		t.Errorf("the month before the failure is not recorded: %v", err)
	}
}

func account(t *testing.T, o *outcome.Outcome, name string) *inventory.Account {
	t.Helper()
	for i := range o.Inventory.Accounts {
		if o.Inventory.Accounts[i].Name == name {
			return &o.Inventory.Accounts[i]
		}
	}
	t.Fatalf("run %s has no account %s", o.Inventory.RunID, name)
	return nil
}

// user is the account's user of that name in the run (nil: none).
func user(o *outcome.Outcome, acct, name string) *inventory.User {
	for _, a := range o.Inventory.Accounts {
		for i := range a.Users {
			if a.Name == acct && a.Users[i].Name == name {
				return &a.Users[i]
			}
		}
	}
	return nil
}

func keys(t *testing.T, o *outcome.Outcome, acct, name string) []string {
	t.Helper()
	u := user(o, acct, name)
	if u == nil {
		t.Fatalf("run %s: no user %s in %s", o.Inventory.RunID, name, acct)
	}
	var ids []string
	for _, k := range u.AccessKeys {
		ids = append(ids, k.ID)
	}
	slices.Sort(ids)
	return ids
}

func mfa(t *testing.T, o *outcome.Outcome, acct, name string) []inventory.MFADevice {
	t.Helper()
	u := user(o, acct, name)
	if u == nil {
		t.Fatalf("run %s: no user %s in %s", o.Inventory.RunID, name, acct)
	}
	return u.MFADevices
}

// find is the finding of the check whose resource ends with resource (nil: none).
func find(fs []checks.Finding, check, resource string) *checks.Finding {
	for i := range fs {
		if fs[i].CheckID == check && strings.HasSuffix(fs[i].Resource, resource) {
			return &fs[i]
		}
	}
	return nil
}

// wantResolved: the run resolves the finding, first seen at firstSeen.
func wantResolved(t *testing.T, o *outcome.Outcome, firstSeen time.Time, check, resource string) {
	t.Helper()
	f := find(o.Resolved, check, resource)
	if f == nil {
		t.Errorf("run %s does not resolve %s on %s", o.Inventory.RunID, check, resource)
		return
	}
	runAt, _ := time.Parse(inventory.RunIDLayout, o.Inventory.RunID)
	if f.State != checks.StateResolved || f.ResolvedAt == nil || !f.ResolvedAt.Equal(runAt) || f.FirstSeen == nil || !f.FirstSeen.Equal(firstSeen) {
		t.Errorf("run %s: resolved %s on %s: state %s, first seen %v, resolved at %v; want first seen %v, resolved at the run",
			o.Inventory.RunID, check, resource, f.State, f.FirstSeen, f.ResolvedAt, firstSeen)
	}
}

// wantEvent: the run's CloudTrail events of the account hold one named name about resource.
func wantEvent(t *testing.T, o *outcome.Outcome, acct, name, resource string) {
	t.Helper()
	for _, a := range o.Inventory.Accounts {
		if a.Name != acct {
			continue
		}
		for _, e := range a.Events {
			for _, r := range e.Resources {
				if e.Name == name && r.Name == resource {
					return
				}
			}
		}
	}
	t.Errorf("run %s: no %s event about %s in %s", o.Inventory.RunID, name, resource, acct)
}
