package report_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/report"
)

// bigInventory is an Organization of accounts × users shaped like the scenario
// generator's (internal/scenario/generate.go): about 60% console users, 70% of them
// with MFA; 0–2 keys each, some inactive, created up to 8 years ago, some never used;
// owner tags on most users; 60 CloudTrail events per account; one account in 50
// without the audit role. It is built directly (collecting 50,000 users through
// the sandbox would measure the collector, not the page), reproducibly from seed.
func bigInventory(accounts, users int, now time.Time) *inventory.Inventory {
	rng := rand.New(rand.NewPCG(7, 11))
	day := 24 * time.Hour
	ago := func(lo, hi int) time.Time { return now.Add(-time.Duration(lo+rng.IntN(hi-lo+1)) * day) }
	inv := &inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", Version: "bench", RunID: inventory.RunID(now),
		StartedAt: now, FinishedAt: now, Partition: "aws", Region: "us-east-1",
		EventWindowStart: now.Add(-90 * day), EventWindowEnd: now,
		Organization: &inventory.Organization{ID: "o-benchmark01", ManagementAccountID: "100000000000"}}
	events := []string{"CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey", "CreateUser", "DeleteUser", "ConsoleLogin", "EnableMFADevice"}
	for a := range accounts {
		id := fmt.Sprintf("%012d", 100000000000+a)
		acct := inventory.Account{ID: id, Name: fmt.Sprintf("workload-%04d-prod", a), State: "ACTIVE", Status: inventory.StatusAudited,
			OUPath: "Root/Workloads", CollectedAt: now, Users: []inventory.User{}, Events: []inventory.Event{}, Gaps: []inventory.Gap{},
			Root:           &inventory.Root{ARN: "arn:aws:iam::" + id + ":root", MFAActive: true, MFAType: inventory.MFAHardware},
			PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 14, RequireSymbols: true, PasswordReusePrevention: 24}, PasswordPolicyKnown: true}
		if a%50 == 49 {
			acct.Status, acct.Reason = inventory.StatusNotAudited, "cannot assume IAMAuditRole: AccessDenied; deploy the role (docs/permissions.md)"
			acct.Root, acct.PasswordPolicy = nil, nil
			inv.Accounts = append(inv.Accounts, acct)
			continue
		}
		for u := range users {
			name := fmt.Sprintf("user.%04d.%03d", a, u)
			user := inventory.User{Name: name, ARN: "arn:aws:iam::" + id + ":user/" + name, CreatedAt: ago(30, 2900),
				Groups: []string{"Developers"}, AttachedPolicies: []inventory.AttachedPolicy{}, InlinePolicies: []inventory.InlinePolicy{},
				MFADevices: []inventory.MFADevice{}, AccessKeys: []inventory.AccessKey{}}
			if rng.Float64() < 0.8 {
				user.Tags = map[string]string{"Owner": name + "@example.com", "Team": "platform"}
			}
			if rng.Float64() < 0.6 {
				user.PasswordEnabled = true
				if rng.Float64() < 0.85 {
					t := ago(0, 400)
					user.PasswordLastUsed = &t
				}
				if rng.Float64() < 0.7 {
					user.MFAActive = true
					user.MFADevices = append(user.MFADevices, inventory.MFADevice{Serial: "arn:aws:iam::" + id + ":mfa/" + name, Type: inventory.MFAVirtual})
				}
			}
			for k := range rng.IntN(3) {
				key := inventory.AccessKey{ID: fmt.Sprintf("AKIA%012d%04d", a*1000+u, k), Status: "Active", CreatedAt: ago(1, 2900), LastUsedSource: "credential_report"}
				if rng.Float64() < 0.15 {
					key.Status = "Inactive"
				}
				if rng.Float64() < 0.8 {
					t := ago(0, 200)
					key.LastUsedAt, key.LastUsedService, key.LastUsedRegion = &t, "s3", "us-east-1"
				}
				user.AccessKeys = append(user.AccessKeys, key)
			}
			acct.Users = append(acct.Users, user)
		}
		for e := range 60 {
			u := acct.Users[rng.IntN(len(acct.Users))].Name
			acct.Events = append(acct.Events, inventory.Event{ID: fmt.Sprintf("%s-%d", id, e), Time: ago(0, 89), Name: events[rng.IntN(len(events))],
				Source: "iam.amazonaws.com", Username: "admin", Resources: []inventory.EventResource{{Type: "AWS::IAM::User", Name: u}}})
		}
		inv.Accounts = append(inv.Accounts, acct)
	}
	return inv
}

// BenchmarkHTMLReport measures the HTML report of large Organizations: its size,
// the time to write it, and the time headless Chromium takes to load it from disk
// (the load event, and until the findings table's script has run). README "The
// HTML report" records the numbers.
//
//	go test -run '^$' -bench HTMLReport -benchtime 1x ./internal/report/
func BenchmarkHTMLReport(b *testing.B) {
	for _, size := range []struct{ accounts, users int }{{100, 200}, {1000, 50}} {
		b.Run(fmt.Sprintf("%dx%d", size.accounts, size.users), func(b *testing.B) {
			now := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
			o := outcome.Evaluate(outcome.CommandRun, bigInventory(size.accounts, size.users, now), now,
				outcome.Settings{Checks: checks.DefaultConfig()}, nil)
			m, err := report.MessagesFor("en")
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), report.HTMLReportName(o.Inventory.RunID))
			ctx := browser(b, 1280, 900)
			var write, load, ready time.Duration
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				start := time.Now()
				if err := report.WriteHTML(&buf, o, m, report.HTMLOptions{}); err != nil {
					b.Fatal(err)
				}
				write += time.Since(start)
				size = buf.Len()
				if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
					b.Fatal(err)
				}
				do(b, ctx, chromedp.Navigate("about:blank"))
				start = time.Now()
				lctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
				err := chromedp.Do(lctx, chromedp.Navigate((&url.URL{Scheme: "file", Path: path}).String()),
					chromedp.WaitReady(chromedp.CSS("#f-count[data-shown]")))
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				ready += time.Since(start)
				ms := eval[float64](b, ctx, `performance.getEntriesByType("navigation")[0].loadEventEnd`)
				load += time.Duration(ms * float64(time.Millisecond))
			}
			users, findings := 0, len(o.Findings)
			for _, a := range o.Inventory.Accounts {
				users += len(a.Users)
			}
			n := float64(b.N)
			b.ReportMetric(float64(size)/1e6, "MB")
			b.ReportMetric(write.Seconds()/n, "s-write")
			b.ReportMetric(load.Seconds()/n, "s-load")
			b.ReportMetric(ready.Seconds()/n, "s-interactive")
			b.ReportMetric(float64(users), "users")
			b.ReportMetric(float64(findings), "findings")
		})
	}
}
