package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

func TestMergeKnobs(t *testing.T) {
	base := scenario.Knobs{
		Latency:    map[string]scenario.Latency{"iam": {Mean: scenario.Duration{Duration: time.Second}}},
		RateLimits: map[string]float64{"iam": 5}, PageCap: 3,
		Faults: []scenario.Fault{{Error: "Throttling"}},
	}
	tests := []struct {
		name  string
		over  *scenario.Knobs
		check func(t *testing.T, k knobs)
	}{
		{"nil keeps the scenario's, with defaults", nil, func(t *testing.T, k knobs) {
			if k.PageCap != 3 || k.rate("iam") != 5 || k.rate("cloudtrail") != 2 || k.rate("organizations") != 5 || k.rate("sts") != 0 ||
				k.ReportGeneration.Duration != 2*time.Second || k.SessionDuration.Duration != time.Hour || len(k.Faults) != 1 {
				t.Fatalf("%+v", k)
			}
		}},
		{"overrides replace named entries and add faults", &scenario.Knobs{
			RateLimits: map[string]float64{"cloudtrail": 0}, PageCap: -1,
			Latency: map[string]scenario.Latency{"*": {Mean: scenario.Duration{Duration: time.Millisecond}}},
			Faults:  []scenario.Fault{{Error: "drop"}}, ReportGeneration: scenario.Duration{Duration: -1},
		}, func(t *testing.T, k knobs) {
			if k.PageCap != 0 || k.rate("iam") != 5 || k.rate("cloudtrail") != 0 || len(k.Faults) != 2 ||
				k.latency("iam") != time.Second || k.latency("sts") != time.Millisecond || k.ReportGeneration.Duration != 0 {
				t.Fatalf("%+v", k)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := mergeKnobs(base, tc.over)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, k)
		})
	}
	if _, err := mergeKnobs(base, &scenario.Knobs{Faults: []scenario.Fault{{Error: "X", Rate: 2}}}); err == nil {
		t.Fatal("a fault rate of 2 was accepted")
	}
}

func TestParseFlags(t *testing.T) {
	l, err := ParseLatency("100ms,20ms")
	if err != nil || l.Mean.Duration != 100*time.Millisecond || l.Jitter.Duration != 20*time.Millisecond {
		t.Fatalf("latency %+v %v", l, err)
	}
	r, err := ParseRates("iam=20,cloudtrail=2,organizations=0")
	if err != nil || r["iam"] != 20 || r["cloudtrail"] != 2 || r["organizations"] != 0 {
		t.Fatalf("rates %v %v", r, err)
	}
	f, err := ParseFault("error=ServiceUnavailable,rate=0.5,service=iam,operation=ListUsers,account=222222222222,count=2")
	if err != nil || f.Error != "ServiceUnavailable" || f.Rate != 0.5 || f.Count != 2 || f.Account != prodID {
		t.Fatalf("fault %+v %v", f, err)
	}
	for _, bad := range []func() error{
		func() error { _, err := ParseLatency("fast"); return err },
		func() error { _, err := ParseRates("ec2=5"); return err },
		func() error { _, err := ParseRates("iam=-1"); return err },
		func() error { _, err := ParseFault("rate=0.5"); return err },
		func() error { _, err := ParseFault("error=X,colour=red"); return err },
	} {
		if bad() == nil {
			t.Fatal("bad flag value accepted")
		}
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	k := &scenario.Knobs{Faults: []scenario.Fault{
		{Account: prodID, Service: "iam", Operation: "ListAccessKeys", Error: "AccessDenied"},
		{Account: prodID, Operation: "ListMFADevices", Error: "ServiceUnavailable", Count: 1},
		{Account: prodID, Operation: "GetUser", Error: "drop", Count: 1},
		{Account: prodID, Operation: "ListUserTags", Error: "slow", Delay: scenario.Duration{Duration: 300 * time.Millisecond}},
	}}
	// The sandbox's sleep records the delays instead of waiting for them.
	var mu sync.Mutex
	var delays []time.Duration
	s := startTestWith(t, testScenario(), Options{Knobs: k, Sleep: func(_ context.Context, d time.Duration) {
		if d > 0 {
			mu.Lock()
			delays = append(delays, d)
			mu.Unlock()
		}
	}})
	client := iam.NewFromConfig(assumeRole(t, s, prodID, adminRole, 3600))
	c := ctx(t)
	_, err := client.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "AccessDenied")
	// A 503 once: the SDK retries and succeeds.
	if _, err := client.ListMFADevices(c, &iam.ListMFADevicesInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("503 not retried: %v", err)
	}
	// A dropped connection once: the SDK retries and succeeds.
	if _, err := client.GetUser(c, &iam.GetUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("dropped connection not retried: %v", err)
	}
	// A slow fault delays the call by its delay, once, and then serves it.
	if _, err := client.ListUserTags(c, &iam.ListUserTagsInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("slow fault: %v", err)
	}
	mu.Lock()
	if len(delays) != 1 || delays[0] != 300*time.Millisecond {
		t.Errorf("delays %v, want the slow fault's 300ms once", delays)
	}
	mu.Unlock()
	// Other accounts are unaffected.
	mg := iam.NewFromConfig(mgmtConfig(s))
	if _, err := mg.ListVirtualMFADevices(c, &iam.ListVirtualMFADevicesInput{}); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.FaultTotal != 4 || st.Faults[prodID]["iam:GetUser"] != 1 || st.Faults[prodID]["iam:ListAccessKeys"] != 1 {
		t.Fatalf("fault stats %+v", st.Faults)
	}
}

func TestLatencyAndStatsEndpoint(t *testing.T) {
	t.Parallel()
	k := &scenario.Knobs{Latency: map[string]scenario.Latency{"iam": {Mean: scenario.Duration{Duration: 200 * time.Millisecond}}}}
	// Ten concurrent calls are in their latency at the same time: latency is outside
	// any lock. The sandbox's sleep records each latency and holds the call until all
	// ten are in it; were latency applied under a lock, the first call would wait for
	// the others for ever and the calls would fail at the test's deadline.
	const n = 10
	var mu sync.Mutex
	var delays []time.Duration
	all := make(chan struct{})
	s := startTestWith(t, testScenario(), Options{Knobs: k, Sleep: func(ctx context.Context, d time.Duration) {
		if d <= 0 {
			return
		}
		mu.Lock()
		if delays = append(delays, d); len(delays) == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-ctx.Done():
		}
	}})
	client := iam.NewFromConfig(mgmtConfig(s))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := client.ListUsers(ctx(t), &iam.ListUsersInput{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	for _, d := range delays {
		if d != 200*time.Millisecond {
			t.Errorf("latency %v, want the knob's 200ms", d)
		}
	}
	if len(delays) != n {
		t.Errorf("%d calls delayed, want %d", len(delays), n)
	}
	mu.Unlock()
	resp, err := http.Get(s.URL() + "/_sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var st Stats
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("stats %q: %v", body, err)
	}
	if st.Calls[mgmtID]["iam:ListUsers"] != 10 || st.BytesOut == 0 || st.BytesIn == 0 {
		t.Fatalf("stats %s", body)
	}
}

// A test of pacing: the sandbox's default limits, as Start gives them.
func TestRateLimitDefaults(t *testing.T) {
	// With the default limits (IAM 20/s per account), a burst from a client without retries sees Throttling.
	s, err := Start(testScenario(), Options{}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := mgmtConfig(s)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	client := iam.NewFromConfig(cfg)
	var throttled error
	for i := 0; i < 40 && throttled == nil; i++ {
		_, throttled = client.ListUsers(ctx(t), &iam.ListUsersInput{})
	}
	ae := wantAPIError(t, throttled, "Throttling")
	if ae.ErrorMessage() != "Rate exceeded" {
		t.Fatalf("message %q", ae.ErrorMessage())
	}
	var re *retry.MaxAttemptsError
	if errors.As(throttled, &re) {
		t.Fatal("a retryer was used")
	}
}

// TestRepeatTokenFault: a repeat_token fault answers a request for a later page with
// the token it was sent; first pages, last pages and other operations are served as
// usual, and Count counts only the requests it changed.
func TestRepeatTokenFault(t *testing.T) {
	f, err := ParseFault("error=" + scenario.FaultRepeatToken + ",service=iam,operation=ListUsers,account=" + prodID + ",count=1")
	if err != nil {
		t.Fatal(err)
	}
	s := startTest(t, testScenario(), nil, &scenario.Knobs{Faults: []scenario.Fault{f}})
	client := iam.NewFromConfig(assumeRole(t, s, prodID, adminRole, 3600))
	c := ctx(t)
	list := func(marker *string) *iam.ListUsersOutput {
		t.Helper()
		out, err := client.ListUsers(c, &iam.ListUsersInput{MaxItems: aws.Int32(1), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := list(nil)
	if !first.IsTruncated || first.Marker == nil || s.Stats().FaultTotal != 0 {
		t.Fatalf("first page: truncated %v marker %v, faults %d", first.IsTruncated, first.Marker, s.Stats().FaultTotal)
	}
	second := list(first.Marker)
	if !second.IsTruncated || aws.ToString(second.Marker) != aws.ToString(first.Marker) || s.Stats().FaultTotal != 1 {
		t.Fatalf("second page: marker %q, want the one sent (%q); faults %d", aws.ToString(second.Marker), aws.ToString(first.Marker), s.Stats().FaultTotal)
	}
	if got := s.Stats().Faults[prodID]["iam:ListUsers"]; got != 1 {
		t.Errorf("faults per operation %v", s.Stats().Faults)
	}
	// Count reached: the same request now gets the next page's token.
	again := list(first.Marker)
	if !again.IsTruncated || aws.ToString(again.Marker) == aws.ToString(first.Marker) || len(again.Users) != 1 {
		t.Fatalf("after the fault: marker %q (sent %q)", aws.ToString(again.Marker), aws.ToString(first.Marker))
	}
	if last := list(again.Marker); last.IsTruncated || last.Marker != nil {
		t.Fatalf("last page: truncated %v", last.IsTruncated)
	}
	// The SDK paginator with StopOnDuplicateToken ends a listing there, with no error:
	// this is what a client must not mistake for the whole list.
	s2 := startTest(t, testScenario(), nil, &scenario.Knobs{Faults: []scenario.Fault{{Account: prodID, Service: "iam", Operation: "ListUsers", Error: scenario.FaultRepeatToken}}})
	client2 := iam.NewFromConfig(assumeRole(t, s2, prodID, adminRole, 3600))
	p := iam.NewListUsersPaginator(client2, &iam.ListUsersInput{}, func(o *iam.ListUsersPaginatorOptions) { o.Limit = 1; o.StopOnDuplicateToken = true })
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Users)
	}
	if n != 2 {
		t.Errorf("the paginator listed %d users, want 2 of 3 (stopped at the repeated token)", n)
	}
}
