package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/iamaudit/iamaudit/internal/inventory"
)

func ts(s string) time.Time {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func tp(s string) *time.Time { t := ts(s); return &t }

// fixture is a small inventory covering every row shape of the seed's report.
func fixture() *inventory.Inventory {
	return &inventory.Inventory{Accounts: []inventory.Account{
		{ID: "123456789012", Name: "Production", State: "ACTIVE", Status: inventory.StatusAudited,
			Users: []inventory.User{
				{Name: "john.doe", PasswordEnabled: true, PasswordLastUsed: tp("2026-03-04 15:30:00"),
					MFADevices: []inventory.MFADevice{{Serial: "arn:aws:iam::123456789012:mfa/john.doe", Type: inventory.MFAVirtual}},
					AccessKeys: []inventory.AccessKey{
						{ID: "AKIAIOSFODNN7EXAMPLE", Status: "Active", CreatedAt: ts("2018-06-15 10:20:30"),
							LastUsedAt: tp("2026-03-05 08:45:00"), LastUsedService: "s3", LastUsedRegion: "us-east-1"},
					}},
				// Two keys, listed newest first: rows come out oldest first.
				{Name: "ci-deploy", MFADevices: []inventory.MFADevice{{Serial: "GAHT12345678", Type: inventory.MFAHardware}},
					AccessKeys: []inventory.AccessKey{
						{ID: "AKIA2222222222222222", Status: "Inactive", CreatedAt: ts("2025-01-02 03:04:05")},
						{ID: "AKIA1111111111111111", Status: "Active", CreatedAt: ts("2024-01-02 03:04:05"),
							LastUsedAt: tp("2026-03-01 00:00:00"), LastUsedService: "sts"},
					}},
				// Defect 1: a console user without MFA and without keys still gets a row.
				{Name: "maria.garcia", PasswordEnabled: true},
				// A name that Excel would evaluate.
				{Name: "=cmd", AccessKeys: []inventory.AccessKey{{ID: "AKIA3333333333333333", Status: "Active", CreatedAt: ts("2026-03-01 00:00:00")}}},
			},
			Events: []inventory.Event{
				{ID: "b", Time: ts("2026-02-01 10:00:00"), Name: "DeleteAccessKey", Username: "admin",
					Resources: []inventory.EventResource{{Type: "AWS::IAM::User", Name: "john.doe"}, {Type: "AWS::IAM::AccessKey", Name: "AKIAOLD"}}},
				{ID: "a", Time: ts("2026-01-01 10:00:00"), Name: "CreateUser"},
			}},
		{ID: "234567890123", Name: "Development-Sandbox", State: "ACTIVE", Status: inventory.StatusNotAudited,
			Reason: "AccessDenied"},
	}}
}

func TestSeedCSVGolden(t *testing.T) {
	for _, lang := range Langs {
		t.Run(lang, func(t *testing.T) {
			m, err := MessagesFor(lang)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteCSV(&b, IAMReportHeader, IAMReportRows(fixture(), m)); err != nil {
				t.Fatal(err)
			}
			golden(t, "iam_audit_report_"+lang+".csv", b.Bytes())
			b.Reset()
			if err := WriteCSV(&b, EventsReportHeader, EventRows(fixture())); err != nil {
				t.Fatal(err)
			}
			golden(t, "cloudtrail_events.csv", b.Bytes())
		})
	}
}

// The seed's remediation guide filters by position with awk; the fields it reads
// must be where it expects them, with no trailing "\r".
func TestSeedAwkFilterStillWorks(t *testing.T) {
	var b bytes.Buffer
	m, _ := MessagesFor("es")
	if err := WriteCSV(&b, IAMReportHeader, IAMReportRows(fixture(), m)); err != nil {
		t.Fatal(err)
	}
	var hits []string
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) != 11 {
			t.Fatalf("row %q has %d fields, want 11", line, len(f))
		}
		if f[3] == "Configurada" && f[10] == "None" {
			hits = append(hits, f[1]+","+f[2])
		}
	}
	if len(hits) != 1 || hits[0] != "Production,maria.garcia" {
		t.Fatalf("awk-style filter found %v, want [Production,maria.garcia]", hits)
	}
}

// Defects of the seed (docs/seed-contract.md), each one asserted on the seed's behaviour.
func TestSeedDefects(t *testing.T) {
	m, _ := MessagesFor("en")
	rows := IAMReportRows(fixture(), m)
	find := func(user string) [][]string {
		var out [][]string
		for _, r := range rows {
			if r[2] == user {
				out = append(out, r)
			}
		}
		return out
	}
	t.Run("defect 1: user without keys has a row", func(t *testing.T) {
		r := find("maria.garcia")
		if len(r) != 1 {
			t.Fatalf("seed behaviour: no row for a user without keys; got %d rows", len(r))
		}
		for i := 5; i <= 9; i++ {
			if r[0][i] != "" {
				t.Errorf("column %d = %q, want empty", i+1, r[0][i])
			}
		}
		if r[0][10] != "None" {
			t.Errorf("mfa_status = %q", r[0][10])
		}
	})
	t.Run("defect 2: virtual device reported as Virtual, hardware as Hardware", func(t *testing.T) {
		// The seed looked for the word "virtual" in the serial; arn:…:mfa/john.doe has none.
		if got := find("john.doe")[0][10]; got != "Virtual" {
			t.Errorf("john.doe mfa_status = %q, want Virtual", got)
		}
		if got := find("ci-deploy")[0][10]; got != "Hardware" {
			t.Errorf("ci-deploy mfa_status = %q, want Hardware", got)
		}
	})
	t.Run("defect 4: times are UTC in the seed's form", func(t *testing.T) {
		lima := time.FixedZone("Lima", -5*3600)
		inv := fixture()
		k := &inv.Accounts[0].Users[0].AccessKeys[0]
		k.CreatedAt = time.Date(2018, 6, 15, 5, 20, 30, 0, lima) // 10:20:30 UTC
		got := IAMReportRows(inv, m)
		for _, r := range got {
			if r[5] == "AKIAIOSFODNN7EXAMPLE" && r[7] != "2018-06-15 10:20:30" {
				t.Errorf("created_date = %q, want UTC 2018-06-15 10:20:30", r[7])
			}
		}
	})
	t.Run("defect 8: empty inventory still gives header-only files", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteCSV(&b, IAMReportHeader, IAMReportRows(&inventory.Inventory{}, m)); err != nil {
			t.Fatal(err)
		}
		if b.String() != strings.Join(IAMReportHeader, ",")+"\n" {
			t.Errorf("got %q", b.String())
		}
	})
	t.Run("formula injection neutralised", func(t *testing.T) {
		if r := find("'=cmd"); len(r) != 1 {
			t.Errorf("user =cmd not written as '=cmd: %v", rows)
		}
	})
	t.Run("not audited accounts have no rows", func(t *testing.T) {
		for _, r := range rows {
			if r[0] == "234567890123" {
				t.Errorf("row for a not-audited account: %v", r)
			}
		}
	})
}

func TestKeyAndEventCounts(t *testing.T) {
	inv := fixture()
	if got := KeyCount(inv); got != 4 {
		t.Errorf("KeyCount = %d, want 4", got)
	}
	if got := EventCount(inv); got != 2 {
		t.Errorf("EventCount = %d, want 2", got)
	}
}

// A failed call is not "no password" / "no MFA": the seed's columns say Unknown.
func TestSeedCSVUnknownsAndLineBreaks(t *testing.T) {
	m, _ := MessagesFor("en")
	inv := &inventory.Inventory{Accounts: []inventory.Account{{ID: "123456789012", Name: "Prod", Status: inventory.StatusPartial,
		Users: []inventory.User{{Name: "olga"}, {Name: "sam", MFAActive: true}, {Name: "bob"}},
		Gaps: []inventory.Gap{userGap("123456789012", inventory.SectionPassword, "olga", inventory.FieldPassword),
			userGap("123456789012", inventory.SectionMFA, "olga", inventory.FieldMFA)},
		Events: []inventory.Event{{ID: "x", Name: "CreateUser", Resources: []inventory.EventResource{{Name: "a\nb"}}}},
	}}}
	rows := IAMReportRows(inv, m)
	got := map[string]string{}
	for _, r := range rows {
		got[r[2]] = r[3] + "/" + r[10]
	}
	for user, want := range map[string]string{"olga": "Unknown/Unknown", "sam": "Not configured/Unknown", "bob": "Not configured/None"} {
		if got[user] != want {
			t.Errorf("%s: %s, want %s", user, got[user], want)
		}
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, EventsReportHeader, EventRows(inv)); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 2 {
		t.Errorf("events CSV has %d lines for 1 event:\n%s", n, b.String())
	}
}

func TestAccountLabel(t *testing.T) {
	for _, tt := range [][3]string{{"Production", "123456789012", "Production (123456789012)"},
		{"123456789012", "123456789012", "123456789012"}, {"", "123456789012", "123456789012"}} {
		if got := accountLabel(tt[0], tt[1]); got != tt[2] {
			t.Errorf("accountLabel(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}

// userGap is a gap about one user, as collection records it.
func userGap(account string, section inventory.Section, user string, unknown ...inventory.Field) inventory.Gap {
	g := inventory.NewGap(account, section, unknown, "AccessDenied")
	g.Subject = user
	return g
}

// Unknown data reads Unknown (Desconocido), never "Never" / "Never used" / "N/A"
// (docs/seed-contract.md): a failed GetUser leaves the last sign-in unknown, a failed
// GetAccessKeyLastUsed the key's last use; what is known (the password, the key, the
// report's last use kept when only key ids are unknown, its id Unknown) is printed as usual.
func TestSeedCSVUnknownLastUse(t *testing.T) {
	const acct = "123456789012"
	created := ts("2024-01-02 03:04:05")
	inv := &inventory.Inventory{Accounts: []inventory.Account{{ID: acct, Name: "Prod", Status: inventory.StatusPartial,
		Users: []inventory.User{
			{Name: "ana", PasswordEnabled: true, AccessKeys: []inventory.AccessKey{{ID: "AKIAANA", Status: "Active", CreatedAt: created}}},
			{Name: "ben", PasswordEnabled: true, AccessKeys: []inventory.AccessKey{{ID: "AKIABEN", Status: "Active", CreatedAt: created}}},
			{Name: "cai", AccessKeys: []inventory.AccessKey{{Status: "Active", CreatedAt: created, LastUsedAt: tp("2026-03-01 00:00:00"), LastUsedService: "s3"}}},
		},
		Gaps: []inventory.Gap{
			userGap(acct, inventory.SectionPassword, "ana", inventory.FieldPasswordLastUsed),
			userGap(acct, inventory.SectionAccessKeys, "ana", inventory.FieldKeyLastUse),
			userGap(acct, inventory.SectionAccessKeys, "cai", inventory.FieldKeyIDs),
		},
	}}}
	for lang, want := range map[string]map[string]string{
		"en": {
			"ana": "Prod,ana,Configured,Unknown,AKIAANA,Active,2024-01-02 03:04:05,Unknown,Unknown,None",
			"ben": "Prod,ben,Configured,Never,AKIABEN,Active,2024-01-02 03:04:05,Never used,N/A,None",
			"cai": "Prod,cai,Not configured,Never,Unknown,Active,2024-01-02 03:04:05,2026-03-01 00:00:00,s3,None",
		},
		"es": {
			"ana": "Prod,ana,Configurada,Desconocido,AKIAANA,Active,2024-01-02 03:04:05,Desconocido,Desconocido,None",
			"ben": "Prod,ben,Configurada,Nunca,AKIABEN,Active,2024-01-02 03:04:05,Nunca utilizada,N/A,None",
		},
	} {
		m, err := MessagesFor(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range IAMReportRows(inv, m) {
			if w, ok := want[r[2]]; ok && strings.Join(r[1:], ",") != w {
				t.Errorf("%s: row\n got %s\nwant %s", lang, strings.Join(r[1:], ","), w)
			}
		}
	}
}
