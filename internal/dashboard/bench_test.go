package dashboard

// Page times over 24 stored runs (README "The dashboard"):
//
//	go test ./internal/dashboard -run '^$' -bench Pages -benchtime 10x
//
// The Organization is synthetic, IAMAUDIT_BENCH_ACCOUNTS × IAMAUDIT_BENCH_USERS
// (default 20 × 50), evolving month to month (keys rotated, MFA enabled, users
// added and removed, CloudTrail events), recorded as 24 monthly runs in a SQLite
// store. "cold" pages are served by a new dashboard each time (the run is loaded
// from the store); the others by one dashboard, as a person browsing gets them.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/inventory"
	"github.com/iamaudit/iamaudit/internal/outcome"
	"github.com/iamaudit/iamaudit/internal/store"
	"github.com/iamaudit/iamaudit/internal/trend"
)

func benchSize() (accounts, users int) {
	accounts, users = 20, 50
	if v, err := strconv.Atoi(os.Getenv("IAMAUDIT_BENCH_ACCOUNTS")); err == nil && v > 0 {
		accounts = v
	}
	if v, err := strconv.Atoi(os.Getenv("IAMAUDIT_BENCH_USERS")); err == nil && v > 0 {
		users = v
	}
	return accounts, users
}

func acctID(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// benchInventory is month m of the synthetic Organization, collected at now.
func benchInventory(accounts, users, m int, runID string, now time.Time) *inventory.Inventory {
	inv := &inventory.Inventory{Schema: inventory.Schema, Tool: "iamaudit", Version: "bench", RunID: runID,
		StartedAt: now.Add(-time.Minute), FinishedAt: now, Partition: "aws", Region: "us-east-1",
		EventWindowStart: now.Add(-90 * 24 * time.Hour), EventWindowEnd: now, AuditRole: "IAMAuditRole",
		EventNames:   trend.EventNames,
		Organization: &inventory.Organization{ID: "o-bench12345", ManagementAccountID: acctID(0)},
		Caller:       &inventory.Caller{AccountID: acctID(0), ARN: "arn:aws:iam::" + acctID(0) + ":user/auditor"},
		Accounts:     []inventory.Account{}, Gaps: []inventory.Gap{}}
	for ai := 0; ai < accounts; ai++ {
		id := acctID(ai)
		used := now.Add(-48 * time.Hour)
		a := inventory.Account{ID: id, Name: fmt.Sprintf("Account %d", ai), Email: fmt.Sprintf("aws+%d@example.com", ai),
			State: "ACTIVE", IsManagement: ai == 0, Status: inventory.StatusAudited, CollectedAt: now,
			CredentialReport:    &inventory.CredentialReport{GeneratedAt: now.Add(-time.Minute)},
			Root:                &inventory.Root{ARN: "arn:aws:iam::" + id + ":root", MFAActive: true, MFAType: inventory.MFAHardware},
			PasswordPolicyKnown: true, PasswordPolicy: &inventory.PasswordPolicy{MinimumPasswordLength: 14},
			Users: []inventory.User{}, Groups: []inventory.Group{}, Roles: []inventory.Role{}, Policies: []inventory.ManagedPolicy{},
			ServerCertificates: []inventory.ServerCertificate{}, Events: []inventory.Event{}, Gaps: []inventory.Gap{}}
		for ui := 0; ui < users; ui++ {
			// Each month a few users leave and a few arrive.
			if (ui+m)%17 == 0 {
				continue
			}
			name := fmt.Sprintf("user%03d", ui)
			created := now.AddDate(0, 0, -400-ui)
			u := inventory.User{Name: name, ARN: "arn:aws:iam::" + id + ":user/" + name, CreatedAt: created, Path: "/",
				MFADevices: []inventory.MFADevice{}, AccessKeys: []inventory.AccessKey{}, Groups: []string{"developers"},
				AttachedPolicies: []inventory.AttachedPolicy{}, InlinePolicies: []inventory.InlinePolicy{},
				Tags: map[string]string{"Owner": name + "@example.com"}}
			if ui%2 == 0 {
				u.PasswordEnabled, u.PasswordLastUsed = true, &used
				// MFA coverage grows: a user enables MFA after month ui%24.
				if m >= ui%24 {
					u.MFAActive = true
					u.MFADevices = append(u.MFADevices, inventory.MFADevice{Serial: "arn:aws:iam::" + id + ":mfa/" + name, Type: inventory.MFAVirtual, EnabledAt: &created})
				}
			}
			if ui%3 != 2 {
				// Keys are rotated every (ui%5+1)·3 months: their age saws up and down.
				period := (ui%5 + 1) * 90
				age := (m*30 + ui*7) % period
				k := inventory.AccessKey{ID: fmt.Sprintf("AKIA%04d%04d%04d", ai, ui, (m*30+ui*7)/period), Status: "Active",
					CreatedAt: now.AddDate(0, 0, -age), LastUsedAt: &used, LastUsedService: "s3", LastUsedRegion: "us-east-1", LastUsedSource: "credential_report"}
				u.AccessKeys = append(u.AccessKeys, k)
			}
			a.Users = append(a.Users, u)
		}
		for e := 0; e < 6; e++ {
			at := now.Add(-time.Duration(e*13+ai) * 24 * time.Hour)
			a.Events = append(a.Events, inventory.Event{ID: fmt.Sprintf("ev-%s-%d", id, at.Unix()/86400), Time: at.Truncate(24 * time.Hour),
				Name: trend.EventNames[(e+ai)%len(trend.EventNames)], Source: "iam.amazonaws.com", Username: "admin",
				Resources: []inventory.EventResource{{Type: "AWS::IAM::User", Name: "user001"}}})
		}
		inv.Accounts = append(inv.Accounts, a)
	}
	return inv
}

type benchFixture struct {
	path      string
	runs      []string
	accountID string
	user      string
	finding   string
}

var benchOnce = sync.OnceValues(func() (*benchFixture, error) {
	accounts, users := benchSize()
	dir, err := os.MkdirTemp("", "iamaudit-dashboard-bench-")
	if err != nil {
		return nil, err
	}
	tempDirs.Store(dir, true)
	f := &benchFixture{path: filepath.Join(dir, "iamaudit.db"), accountID: acctID(1), user: "user004"}
	ctx := context.Background()
	st, err := store.Open(ctx, f.path, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	start := time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC)
	for m := 0; m < 24; m++ {
		now := start.AddDate(0, m, 0)
		id := now.Format("20060102_150405")
		inv := benchInventory(accounts, users, m, id, now)
		base, err := st.Baseline(ctx, inv, nil)
		if err != nil {
			return nil, err
		}
		o := outcome.Evaluate(outcome.CommandRun, inv, now, outcome.Settings{Checks: checks.DefaultConfig()}, base)
		if _, err := st.Write(ctx, o, store.WriteOptions{}); err != nil {
			return nil, err
		}
		f.runs = append(f.runs, id)
		if f.finding == "" && len(o.Findings) > 0 {
			f.finding = o.Findings[0].ID
		}
	}
	return f, nil
})

func BenchmarkPages(b *testing.B) {
	f, err := benchOnce()
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), f.path, store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	last, prev, first := f.runs[len(f.runs)-1], f.runs[len(f.runs)-2], f.runs[0]
	pages := []struct{ name, path string }{
		{"overview", runURL(last)},
		{"findings", runURL(last) + "/findings"},
		{"findings-high", runURL(last) + "/findings?severity=high"},
		{"findings-csv", runURL(last) + "/findings?format=csv"},
		{"account", accountURL(last, f.accountID)},
		{"user", userURL(last, f.accountID, f.user)},
		{"trends", "/trends"},
		{"trends-account", "/trends?account=" + f.accountID},
		{"diff-last-two", diffURL(prev, last)},
		{"diff-first-last", diffURL(first, last)},
		{"finding", findingURL(f.finding)},
		{"runs", "/runs"},
	}
	s, err := New(Options{Store: st, CacheRuns: 4})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			if w := get(b, s, p.path); w.Code != http.StatusOK { // warm: the run is loaded
				b.Fatalf("%s: %d", p.path, w.Code)
			}
			for b.Loop() {
				if w := get(b, s, p.path); w.Code != http.StatusOK {
					b.Fatalf("%s: %d", p.path, w.Code)
				}
			}
		})
	}
	b.Run("overview-cold", func(b *testing.B) {
		for b.Loop() {
			s, err := New(Options{Store: st})
			if err != nil {
				b.Fatal(err)
			}
			if w := get(b, s, runURL(last)); w.Code != http.StatusOK {
				b.Fatalf("%d", w.Code)
			}
		}
	})
}
