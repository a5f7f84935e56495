package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
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

// BenchmarkSandboxAuditMix measures the sandbox under an audit's load: 64 workers
// over the 1,000 accounts of a 1000 × 50 Organization, each signed call over HTTP
// one of ListAccessKeys, ListMFADevices (per user), GetAccountAuthorizationDetails,
// GetCredentialReport and LookupEvents, in turn; no latency, no rate limits. It
// reports req/s and the CPU per request of the whole process (the SDK clients' share
// included: they run in the same process).
func BenchmarkSandboxAuditMix(b *testing.B) {
	sc := generatedScenario(b, 1000, 50, 60)
	s := startTest(b, sc, nil, &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: -1}})
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxIdleConns: 128}, Timeout: 30 * time.Second}
	c := ctx(b)
	type target struct {
		iam   *iam.Client
		trail *cloudtrail.Client
		users []string
	}
	var targets []target
	stsClient := sts.NewFromConfig(mgmtConfig(s))
	for _, a := range sc.Accounts[1:] {
		if a.State != scenario.StateActive {
			continue
		}
		cr := benchRole(b, c, stsClient, a.ID)
		cfg := aws.Config{Region: s.Region(), BaseEndpoint: aws.String(s.URL()), HTTPClient: httpClient,
			Credentials: credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken),
			Retryer:     func() aws.Retryer { return aws.NopRetryer{} }}
		t := target{iam: iam.NewFromConfig(cfg), trail: cloudtrail.NewFromConfig(cfg)}
		for _, u := range a.Users {
			t.users = append(t.users, u.Name)
		}
		if _, err := t.iam.GenerateCredentialReport(c, &iam.GenerateCredentialReportInput{}); err != nil {
			b.Fatal(err)
		}
		targets = append(targets, t)
	}
	calls := []func(context.Context, target, int) error{
		func(c context.Context, t target, i int) error {
			_, err := t.iam.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: aws.String(t.users[i%len(t.users)])})
			return err
		},
		func(c context.Context, t target, i int) error {
			_, err := t.iam.ListMFADevices(c, &iam.ListMFADevicesInput{UserName: aws.String(t.users[i%len(t.users)])})
			return err
		},
		func(c context.Context, t target, _ int) error {
			_, err := t.iam.GetAccountAuthorizationDetails(c, &iam.GetAccountAuthorizationDetailsInput{})
			return err
		},
		func(c context.Context, t target, _ int) error {
			_, err := t.iam.GetCredentialReport(c, &iam.GetCredentialReportInput{})
			return err
		},
		func(c context.Context, t target, _ int) error {
			_, err := t.trail.LookupEvents(c, &cloudtrail.LookupEventsInput{})
			return err
		},
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t := targets[(i/len(calls))%len(targets)]
				if err := calls[i%len(calls)](c, t, i/len(calls)/len(targets)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSandboxHandlerMix is BenchmarkSandboxAuditMix's calls without the SDK
// and HTTP around them: requests signed beforehand, served by ServeHTTP on two
// goroutines per core. cpu-µs/req is then the sandbox's own cost (signature check
// included).
func BenchmarkSandboxHandlerMix(b *testing.B) {
	sc := generatedScenario(b, 1000, 50, 60)
	s := startTest(b, sc, nil, &scenario.Knobs{ReportGeneration: scenario.Duration{Duration: -1}})
	c := ctx(b)
	type signed struct {
		header http.Header
		body   []byte
		url    string
	}
	var reqs []signed
	stsClient := sts.NewFromConfig(mgmtConfig(s))
	signer := v4.NewSigner()
	sign := func(cr aws.Credentials, service string, body []byte, header http.Header) signed {
		r := httptest.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(body))
		r.Header = header
		sum := sha256.Sum256(body)
		if err := signer.SignHTTP(c, cr, r, hex.EncodeToString(sum[:]), service, s.Region(), time.Now()); err != nil {
			b.Fatal(err)
		}
		return signed{header: r.Header, body: body, url: s.URL() + "/"}
	}
	form := func(kv ...string) []byte {
		v := url.Values{"Version": {"2010-05-08"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return []byte(v.Encode())
	}
	formHeader := func() http.Header {
		return http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	}
	for _, a := range sc.Accounts[1:] {
		if a.State != scenario.StateActive {
			continue
		}
		cr := benchRole(b, c, stsClient, a.ID)
		cfg := aws.Config{Region: s.Region(), BaseEndpoint: aws.String(s.URL()),
			Credentials: credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken)}
		if _, err := iam.NewFromConfig(cfg).GenerateCredentialReport(c, &iam.GenerateCredentialReportInput{}); err != nil {
			b.Fatal(err)
		}
		user := a.Users[0].Name
		reqs = append(reqs,
			sign(cr, "iam", form("Action", "ListAccessKeys", "UserName", user), formHeader()),
			sign(cr, "iam", form("Action", "ListMFADevices", "UserName", user), formHeader()),
			sign(cr, "iam", form("Action", "GetAccountAuthorizationDetails"), formHeader()),
			sign(cr, "iam", form("Action", "GetCredentialReport"), formHeader()),
			sign(cr, "cloudtrail", []byte("{}"), http.Header{"Content-Type": {"application/x-amz-json-1.1"},
				"X-Amz-Target": {"com.amazonaws.cloudtrailv20131101.CloudTrail_20131101.LookupEvents"}}),
		)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				sr := reqs[i%len(reqs)]
				r := httptest.NewRequest(http.MethodPost, sr.url, bytes.NewReader(sr.body))
				r.Header = sr.header.Clone()
				w := &discardWriter{header: http.Header{}}
				s.ServeHTTP(w, r)
				if w.status != http.StatusOK {
					b.Errorf("request %d: status %d", i%len(reqs), w.status)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return io.Discard.Write(p)
}

// benchRole assumes the audit role of account id for a benchmark's clients.
func benchRole(b *testing.B, c context.Context, stsClient *sts.Client, id string) aws.Credentials {
	b.Helper()
	out, err := stsClient.AssumeRole(c, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + id + ":role/IAMAuditRole"), RoleSessionName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey,
		SessionToken: *out.Credentials.SessionToken}
}
