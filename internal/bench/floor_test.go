package bench

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	for _, c := range []struct {
		n    int
		rate float64
		want time.Duration
	}{
		{0, 2, 0},
		{2, 2, 0},                        // the burst goes at once
		{13, 2, 5500 * time.Millisecond}, // 11 calls past the burst at 2/s
		{40, 20, time.Second},
		{1000, 0, 0},              // no limit
		{3, 0.5, 4 * time.Second}, // burst 1, then 2 calls at one per 2 s
	} {
		if got := bucket(c.n, c.rate); got != c.want {
			t.Errorf("bucket(%d, %v) = %v, want %v", c.n, c.rate, got, c.want)
		}
	}
}

var names = []string{"CreateUser", "DeleteUser", "ConsoleLogin"}

func TestMinCalls(t *testing.T) {
	a := Account{Users: 200, UsersWithKeys: 120, UsersWithMFA: 90, AuthEntries: 1205,
		Events: map[string]int{"CreateUser": 120, "ConsoleLogin": 50, "Other": 999}, AssumesRole: true}
	got := MinCalls(a, names)
	want := map[string]int{OpGenerateReport: 1, OpGetReport: 1, OpAuthDetails: 2, OpVirtualMFA: 1, OpAccountSummary: 1,
		OpPasswordPolicy: 1, OpServerCerts: 1, OpListAccessKeys: 120, OpListMFADevices: 90,
		OpLookupEvents: 3 + 1 + 1, // 120 CreateUser: 3 pages; none DeleteUser: 1; 50 ConsoleLogin: 1
		OpAssumeRole:   1}
	if len(got) != len(want) {
		t.Errorf("MinCalls = %v, want %v", got, want)
	}
	for op, n := range want {
		if got[op] != n {
			t.Errorf("MinCalls[%s] = %d, want %d", op, got[op], n)
		}
	}
	if _, ok := MinCalls(Account{}, names)[OpListAccessKeys]; ok {
		t.Error("no user with keys: no ListAccessKeys")
	}
}

func TestFloor(t *testing.T) {
	realistic := Profiles["realistic"].Limits()
	for _, c := range []struct {
		name string
		a    Account
		l    Limits
		want AccountFloor
	}{
		{"report dominates a small account", Account{Users: 5, UsersWithKeys: 3, UsersWithMFA: 2, AuthEntries: 9, AssumesRole: true}, realistic,
			// IAM: 7 bulk + 5 per user = 12 ≤ burst 20; events: 3 names × 1 page = 3, 1 past the burst: 0.5 s;
			// chain: AssumeRole, Generate, Get, per-user = 4 × 30 ms.
			AccountFloor{IAM: 0, Events: 500 * time.Millisecond, Report: 5 * time.Second, Chain: 120 * time.Millisecond, Total: 5 * time.Second}},
		{"IAM dominates many users with keys", Account{Users: 1000, UsersWithKeys: 1000, UsersWithMFA: 1000, AuthEntries: 1000, AssumesRole: true}, realistic,
			// IAM: 7 + 2000 = 2007 calls, 1987 past the burst at 20/s = 99.35 s.
			AccountFloor{IAM: 99350 * time.Millisecond, Events: 500 * time.Millisecond, Report: 5 * time.Second, Chain: 120 * time.Millisecond, Total: 99350 * time.Millisecond}},
		{"LookupEvents dominate many events", Account{Events: map[string]int{"CreateUser": 1000}}, realistic,
			// 20 + 1 + 1 = 22 pages, 20 past the burst at 2/s = 10 s; chain: 20 CreateUser pages × 30 ms.
			AccountFloor{IAM: 0, Events: 10 * time.Second, Report: 5 * time.Second, Chain: 600 * time.Millisecond, Total: 10 * time.Second}},
		{"chain dominates a slow network", Account{UsersWithKeys: 1, AssumesRole: true}, Limits{Latency: 2 * time.Second},
			AccountFloor{Chain: 8 * time.Second, Total: 8 * time.Second}},
		{"no limits: no floor", Account{Users: 100, UsersWithKeys: 100}, Profiles["fast"].Limits(), AccountFloor{}},
	} {
		if got := Floor(c.a, names, c.l); got != c.want {
			t.Errorf("%s: Floor = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestOrganization(t *testing.T) {
	realistic := Profiles["realistic"].Limits()
	small := Account{Users: 5, AssumesRole: true}
	big := Account{Events: map[string]int{"CreateUser": 1000}}
	for _, c := range []struct {
		name     string
		accounts []Account
		want     OrgFloor
	}{
		// 3 accounts: 1 ListAccounts page; DescribeOrganization + 1 page ≤ burst 5: 1 page × 30 ms.
		{"slowest account", []Account{small, big, small}, OrgFloor{Enumeration: 30 * time.Millisecond, Slowest: Floor(big, names, realistic),
			Total: 30*time.Millisecond + 10*time.Second}},
		// 1001 accounts: 51 pages; 52 calls, 47 past the burst at 5/s = 9.4 s > 51 × 30 ms.
		{"enumeration of a large Organization", make([]Account, 1001), OrgFloor{Enumeration: 9400 * time.Millisecond,
			Slowest: Floor(Account{}, names, realistic), Total: 9400*time.Millisecond + 5*time.Second}},
	} {
		if got := Organization(c.accounts, names, realistic); got != c.want {
			t.Errorf("%s: Organization = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestLookupProfile(t *testing.T) {
	if _, err := LookupProfile("slow"); err == nil {
		t.Error("unknown profile accepted")
	}
	p, err := LookupProfile("fast")
	if err != nil || p.ClientIAMRate <= 0 || p.Knobs().ReportGeneration.Duration >= 0 {
		t.Errorf("fast = %+v, %v: want raised client rates and reports at once", p, err)
	}
}

func TestVMHWM(t *testing.T) {
	for _, c := range []struct {
		status string
		kib    int64
		ok     bool
	}{
		{"Name:\tiamaudit\nVmPeak:\t  900000 kB\nVmHWM:\t  563856 kB\nVmRSS:\t  548628 kB\n", 563856, true},
		{"Name:\tiamaudit\nState:\tZ (zombie)\n", 0, false},
		{"VmHWM:\tlots kB\n", 0, false},
	} {
		if kib, ok := vmHWM([]byte(c.status)); kib != c.kib || ok != c.ok {
			t.Errorf("%q: %d %v, want %d %v", c.status, kib, ok, c.kib, c.ok)
		}
	}
}
