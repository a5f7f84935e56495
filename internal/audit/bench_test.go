package audit_test

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/audit"
	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/sandbox"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// benchAudit audits a scenario through a fresh sandbox and reports the audit's wall
// time, our API calls per audited account and what the seed's per-user approach
// ((3+K)·U, one call at a time) would have needed. With rerun, each iteration audits
// the same sandbox twice and measures the second audit: its credential reports are
// the ones the first audit generated seconds before (reused, docs/checks.md
// "Credential report staleness").
func benchAudit(b *testing.B, sc *scenario.Scenario, knobs *scenario.Knobs, rerun bool) {
	var last *inventory.Inventory
	var total time.Duration
	for b.Loop() {
		srv, err := sandbox.Start(sc, sandbox.Options{Knobs: knobs}, "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		akid, secret := srv.Credentials()
		cfg := sdkConfig(b, srv.URL(), akid, secret, "")
		opts := audit.Options{
			Collect:   collect.Options{Role: "IAMAuditRole", Days: 90, Concurrency: 16},
			OutputDir: b.TempDir(), Checks: checks.DefaultConfig(), Out: io.Discard, Err: io.Discard,
		}
		if rerun {
			b.StopTimer()
			if _, err := audit.Run(context.Background(), cfg, opts); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		start := time.Now()
		res, err := audit.Run(context.Background(), cfg, opts)
		total += time.Since(start)
		srv.Close()
		if err != nil {
			b.Fatal(err)
		}
		last = res.Inventory
	}
	ours, seed, accounts, users, reused := 0, 0, 0, 0, 0
	byOp := map[string]int{}
	for _, a := range last.Accounts {
		if a.Status != inventory.StatusAudited && a.Status != inventory.StatusPartial {
			continue
		}
		accounts++
		if a.CredentialReport != nil && a.CredentialReport.Reused {
			reused++
		}
		for op, n := range a.APICalls {
			byOp[op] += n
			if strings.HasPrefix(op, "iam:") {
				ours += n
			}
		}
		for _, u := range a.Users {
			users++
			seed += 3 + len(u.AccessKeys)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/audit")
	b.ReportMetric(float64(accounts), "accounts")
	b.ReportMetric(float64(users)/float64(accounts), "users/account")
	b.ReportMetric(float64(ours)/float64(accounts), "iam-calls/account")
	b.ReportMetric(float64(seed)/float64(accounts), "seed-calls/account")
	ops := make([]string, 0, len(byOp))
	for op := range byOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var lines []string
	for _, op := range ops {
		lines = append(lines, fmt.Sprintf("%s %.2f", op, float64(byOp[op])/float64(accounts)))
	}
	// One line: benchmark logs are cut after ten lines.
	b.Logf("calls per audited account by operation (%d accounts, %d with a reused credential report): %s", accounts, reused, strings.Join(lines, ", "))
}

// BenchmarkDemoAudit: the built-in demo Organization with the sandbox's default
// realism (IAM 20/s, LookupEvents 2/s per account, 2 s credential report).
func BenchmarkDemoAudit(b *testing.B) {
	benchAudit(b, scenario.Demo(), nil, false)
}

// BenchmarkDemoAuditRerun: the demo audited again right after a first audit, whose
// credential reports are then reused.
func BenchmarkDemoAuditRerun(b *testing.B) {
	benchAudit(b, scenario.Demo(), nil, true)
}

// BenchmarkGeneratedOrganization: a generated Organization (20 accounts × 150
// users) with 30 ms ± 10 ms latency per call on every service.
func BenchmarkGeneratedOrganization(b *testing.B) {
	benchAudit(b, generatedOrganization(b), nil, false)
}

// BenchmarkGeneratedOrganizationRerun: the generated Organization audited again right
// after a first audit (every credential report reused).
func BenchmarkGeneratedOrganizationRerun(b *testing.B) {
	benchAudit(b, generatedOrganization(b), nil, true)
}

// BenchmarkDemoAuditReused: the demo whose accounts have a credential report
// generated an hour before (reused; CloudTrail names the users changed since).
func BenchmarkDemoAuditReused(b *testing.B) {
	benchAudit(b, withReports(scenario.Demo(), time.Hour), nil, false)
}

// BenchmarkGeneratedOrganizationReused: the generated Organization whose accounts have a
// credential report generated an hour before.
func BenchmarkGeneratedOrganizationReused(b *testing.B) {
	benchAudit(b, withReports(generatedOrganization(b), time.Hour), nil, false)
}

// withReports gives every account of sc a credential report generated age ago.
func withReports(sc *scenario.Scenario, age time.Duration) *scenario.Scenario {
	for i := range sc.Accounts {
		sc.Accounts[i].CredentialReport = &scenario.CredentialReport{GeneratedAt: scenario.Ago(age)}
	}
	return sc
}

func generatedOrganization(b *testing.B) *scenario.Scenario {
	// scenario.Generated: the Organization as Go values, no YAML written or parsed.
	sc, err := scenario.Generated(scenario.Scenario{
		Name: "bench",
		Organization: scenario.Organization{ID: "o-benchmark01", ManagementAccountID: "200000000001",
			AccessKeyID: "AKIAIOSFODNN7BENCHMK", SecretAccessKey: "sandbox-benchmark-secret", CallerName: "audit-runner"},
		Accounts: []scenario.Account{{ID: "200000000001", Name: "Management"}},
		Knobs: scenario.Knobs{Latency: map[string]scenario.Latency{
			"*": {Mean: scenario.Duration{Duration: 30 * time.Millisecond}, Jitter: scenario.Duration{Duration: 10 * time.Millisecond}}}},
	}, scenario.Generator{Seed: 7, Accounts: 20, UsersPerAccount: 150, EventsPerAccount: 60})
	if err != nil {
		b.Fatal(err)
	}
	return sc
}
