package sandbox

import (
	"net/http"
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
