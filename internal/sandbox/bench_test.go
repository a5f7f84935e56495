package sandbox

import (
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamaudit/iamaudit/internal/scenario"
)

// BenchmarkSandboxThroughput measures SigV4-signed ListUsers calls per second through
// the SDK over HTTP, in parallel, with no latency and rate limits off.
func BenchmarkSandboxThroughput(b *testing.B) {
	s := startTest(b, testScenario(), nil, &scenario.Knobs{})
	out, err := sts.NewFromConfig(mgmtConfig(s)).AssumeRole(ctx(b), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + prodID + ":role/IAMAuditRole"), RoleSessionName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	cr := out.Credentials
	cfg := sdkConfig(s, *cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}, Timeout: 30 * time.Second}
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	client := iam.NewFromConfig(cfg)
	c := ctx(b)
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.ListUsers(c, &iam.ListUsersInput{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// generatedScenario is a generated Organization of accounts × users (scenario.Generated).
func generatedScenario(b *testing.B, accounts, users, events int) *scenario.Scenario {
	b.Helper()
	sc, err := scenario.Generated(scenario.Scenario{
		Name: "bench",
		Organization: scenario.Organization{ID: "o-benchmark01", ManagementAccountID: mgmtID,
			AccessKeyID: testAKID, SecretAccessKey: testSecret, CallerName: "auditor"},
		Accounts: []scenario.Account{{ID: mgmtID, Name: "Management"}},
	}, scenario.Generator{Seed: 7, Accounts: accounts, UsersPerAccount: users, EventsPerAccount: events})
	if err != nil {
		b.Fatal(err)
	}
	return sc
}

// BenchmarkStart1000x1000: building the sandbox of a million users (the scenario
// generated beforehand), and the heap it holds once the scenario is dropped.
func BenchmarkStart1000x1000(b *testing.B) {
	benchStart(b, 1000, 1000, 60)
}

func benchStart(b *testing.B, accounts, users, events int) {
	sc := generatedScenario(b, accounts, users, events)
	b.ReportAllocs()
	var s *Server
	for b.Loop() {
		var err error
		if s, err = New(sc, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sc = nil
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(s)
	runtime.KeepAlive(sc)
}
