package publish_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamaudit/iamaudit/internal/checks"
	"github.com/iamaudit/iamaudit/internal/mototest"
	"github.com/iamaudit/iamaudit/internal/publish"
	"github.com/iamaudit/iamaudit/internal/sandbox"
)

// startMoto runs moto_server until the test ends. Without moto_server the test is
// skipped, and fails instead when IAMAUDIT_TEST_DISALLOW_SKIP=1 (scripts/test.sh).
func startMoto(t *testing.T) string {
	t.Helper()
	m, err := mototest.Start()
	if errors.Is(err, mototest.ErrMissing) && os.Getenv("IAMAUDIT_TEST_DISALLOW_SKIP") != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m.URL
}

// motoAccount is a config whose requests moto attributes to account acct: moto
// keeps one backend per account and gives an assumed role's credentials to the
// account the role ARN names.
func motoAccount(t *testing.T, base aws.Config, acct, role string) aws.Config {
	t.Helper()
	out, err := sts.NewFromConfig(base).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + acct + ":role/" + role), RoleSessionName: aws.String("moto-test")})
	if err != nil {
		t.Fatalf("assume %s in %s: %v", role, acct, err)
	}
	cfg := base.Copy()
	c := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	return cfg
}

// The destinations deliver a run audited through the sandbox to moto, which
// implements BatchImportFindings, PutObject and Publish, and what arrives is read
// back with the SDK, field by field.
//
// What moto does not implement, and the sandbox test (TestDestinationsAgainstSandbox)
// covers instead: Security Hub's rule that a finding is accepted only from the
// account it names with the default product ARN, per-finding transient errors and
// the 100-finding and rate limits (moto imports whatever it is sent), GetFindings
// filters and sort criteria (moto returns every finding of the account), and
// Security Hub having to be enabled before BatchImportFindings; S3's
// x-amz-expected-bucket-owner check and KMS key validation on PutObject (moto records
// the key it is given); SNS's subject rules (moto accepts any subject).
func TestDestinationsAgainstMoto(t *testing.T) {
	t.Parallel()
	// The run: audited through the sandbox, as the sandbox test does, without
	// destinations there.
	w := newWorld(t, sandbox.Destinations{})
	o, out, err := w.run(t)
	if err != nil {
		t.Fatalf("audit: %v\n%s", err, out)
	}
	if len(o.Files) == 0 || len(o.Findings) == 0 {
		t.Fatalf("the run wrote %d files and has %d findings", len(o.Files), len(o.Findings))
	}
	inv := o.Inventory

	url := startMoto(t)
	ctx := context.Background()
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
	// The caller is the management account the run audited as; each member account
	// is reached through the audit role, as the run does.
	cfg := motoAccount(t, base, mgmt, "OrganizationAccountAccessRole")

	// moto's resources: a bucket, the topic with an HTTP subscriber to read what is
	// published, Security Hub enabled in every account that imports.
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// moto records the key PutObject names and does not check that it exists.
	keyARN := kmsKey
	snsc := sns.NewFromConfig(cfg)
	tp, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("security-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(tp.TopicArn) != topic {
		t.Fatalf("moto's topic is %s, want %s", aws.ToString(tp.TopicArn), topic)
	}
	// moto delivers to an HTTP subscriber while it handles Publish, with SNS's JSON
	// envelope.
	type envelope struct{ Type, TopicArn, Subject, Message string }
	var (
		mu        sync.Mutex
		delivered []envelope
	)
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var e envelope
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			t.Errorf("SNS delivery: %v", err)
		}
		if e.Type == "Notification" {
			mu.Lock()
			delivered = append(delivered, e)
			mu.Unlock()
		}
	}))
	defer hook.Close()
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("http"), Endpoint: aws.String(hook.URL)}); err != nil {
		t.Fatal(err)
	}

	// Where each finding goes: its own account when the run entered it, the caller's
	// otherwise (account_not_audited).
	entered := map[string]bool{}
	for _, a := range inv.Accounts {
		if a.Status == "audited" || a.Status == "partial" {
			entered[a.ID] = true
		}
	}
	importer := func(f checks.Finding) string {
		if entered[f.AccountID] {
			return f.AccountID
		}
		return mgmt
	}
	hubs := map[string]*securityhub.Client{}
	all := append(append([]checks.Finding{}, o.Findings...), o.Resolved...)
	for _, f := range all {
		acct := importer(f)
		if hubs[acct] != nil {
			continue
		}
		c := cfg
		if acct != mgmt {
			c = motoAccount(t, base, acct, "IAMAuditRole")
		}
		hubs[acct] = securityhub.NewFromConfig(c)
		if _, err := hubs[acct].EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
			t.Fatalf("enable Security Hub in %s: %v", acct, err)
		}
	}

	fast := publish.Retry{MaxAttempts: 3, MaxBackoff: 50 * time.Millisecond}
	results := publish.All(ctx, []publish.Destination{
		&publish.SecurityHub{Config: cfg, Role: publish.AuditRole{Role: "IAMAuditRole"}, Retry: fast, Backoff: time.Millisecond},
		&publish.S3{Config: cfg, URL: "s3://" + bucket + "/kms", KMSKey: keyARN, Retry: fast},
		&publish.S3{Config: cfg, URL: "s3://" + bucket + "/sse-s3/", Retry: fast},
		&publish.SNS{Config: cfg, TopicARN: topic, Retry: fast},
	}, publish.Run{Outcome: o, Files: o.Files})
	if err := publish.Failed(results); err != nil {
		var b bytes.Buffer
		publish.Print(&b, results)
		t.Fatalf("%v\n%s", err, b.String())
	}
	if results[0].Sent != len(all) || results[1].Sent != len(o.Files) || results[2].Sent != len(o.Files) || results[3].Sent != 1 {
		t.Errorf("sent %d/%d/%d/%d, want %d findings, %d files twice, 1 message",
			results[0].Sent, results[1].Sent, results[2].Sent, results[3].Sent, len(all), len(o.Files))
	}

	// Security Hub: every finding, in the account that imported it, field by field.
	start := o.Now.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05.000Z")
	got := map[string]shtypes.AwsSecurityFinding{}
	for acct, c := range hubs {
		p := securityhub.NewGetFindingsPaginator(c, &securityhub.GetFindingsInput{MaxResults: aws.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("GetFindings in %s: %v", acct, err)
			}
			for _, f := range page.Findings {
				if _, dup := got[aws.ToString(f.Id)]; dup {
					t.Errorf("finding %s stored twice", aws.ToString(f.Id))
				}
				if aws.ToString(f.AwsAccountId) != acct {
					t.Errorf("finding %s of account %s stored in %s", aws.ToString(f.Id), aws.ToString(f.AwsAccountId), acct)
				}
				got[aws.ToString(f.Id)] = f
			}
		}
	}
	if len(got) != len(all) {
		t.Errorf("moto holds %d findings, the run has %d", len(got), len(all))
	}
	label := map[checks.Severity]shtypes.SeverityLabel{checks.Critical: shtypes.SeverityLabelCritical, checks.High: shtypes.SeverityLabelHigh,
		checks.Medium: shtypes.SeverityLabelMedium, checks.Low: shtypes.SeverityLabelLow}
	for _, f := range all {
		acct := importer(f)
		g, ok := got[publish.FindingID(f)]
		if !ok {
			t.Errorf("finding %s (%s) not in Security Hub of %s", publish.FindingID(f), f.CheckID, acct)
			continue
		}
		record, status := shtypes.RecordStateActive, shtypes.ComplianceStatusFailed
		if f.State == checks.StateResolved {
			record, status = shtypes.RecordStateArchived, shtypes.ComplianceStatusPassed
		} else if f.Suppressed {
			record = shtypes.RecordStateArchived
		}
		wantLabel := label[f.Severity]
		if wantLabel == "" {
			wantLabel = shtypes.SeverityLabelInformational
		}
		for _, c := range []struct{ what, got, want string }{
			{"SchemaVersion", aws.ToString(g.SchemaVersion), "2018-10-08"},
			{"AwsAccountId", aws.ToString(g.AwsAccountId), acct},
			{"ProductArn", aws.ToString(g.ProductArn), "arn:aws:securityhub:us-east-1:" + acct + ":product/" + acct + "/default"},
			{"GeneratorId", aws.ToString(g.GeneratorId), "iamaudit/" + f.CheckID},
			{"Title", aws.ToString(g.Title), f.Title},
			{"Severity.Label", string(g.Severity.Label), string(wantLabel)},
			{"Severity.Original", aws.ToString(g.Severity.Original), f.Severity.String()},
			{"RecordState", string(g.RecordState), string(record)},
			{"Compliance.Status", string(g.Compliance.Status), string(status)},
			{"FirstObservedAt", aws.ToString(g.FirstObservedAt), start},
			{"LastObservedAt", aws.ToString(g.LastObservedAt), start},
			{"CreatedAt", aws.ToString(g.CreatedAt), start},
			{"UpdatedAt", aws.ToString(g.UpdatedAt), start},
			{"Resources[0].Region", aws.ToString(g.Resources[0].Region), "us-east-1"},
		} {
			if c.got != c.want {
				t.Errorf("%s %s: %s = %q, want %q", f.CheckID, publish.FindingID(f), c.what, c.got, c.want)
			}
		}
		if g.Workflow != nil {
			t.Errorf("%s: Workflow is set", publish.FindingID(f))
		}
	}
	root := findingByCheck(t, o.Findings, "root_mfa_disabled", "567890123456")
	rg := got[publish.FindingID(root)]
	if aws.ToString(rg.Description) != root.Message || aws.ToString(rg.Resources[0].Id) != root.Resource || aws.ToString(rg.Resources[0].Type) != "AwsAccount" ||
		aws.ToString(rg.Compliance.SecurityControlId) != "IAM.9" || len(rg.Types) != 1 ||
		rg.Types[0] != "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark" ||
		rg.ProductFields["iamaudit/CheckId"] != "root_mfa_disabled" || rg.ProductFields["iamaudit/RunId"] != inv.RunID {
		t.Errorf("root_mfa_disabled as stored: description %q resource %v/%v control %v types %v fields %v", aws.ToString(rg.Description),
			aws.ToString(rg.Resources[0].Type), aws.ToString(rg.Resources[0].Id), aws.ToString(rg.Compliance.SecurityControlId), rg.Types, rg.ProductFields)
	}

	// S3: every file under each dated prefix, its body the file's, encrypted as asked.
	day := inv.StartedAt.UTC().Format("2006/01/02")
	for _, c := range []struct {
		prefix string
		sse    s3types.ServerSideEncryption
		key    string
	}{{"kms/", s3types.ServerSideEncryptionAwsKms, keyARN}, {"sse-s3/", s3types.ServerSideEncryptionAes256, ""}} {
		list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(c.prefix)})
		if err != nil {
			t.Fatal(err)
		}
		if int(aws.ToInt32(list.KeyCount)) != len(o.Files) {
			t.Errorf("%d objects under %s, %d files", aws.ToInt32(list.KeyCount), c.prefix, len(o.Files))
		}
		for _, file := range o.Files {
			k := c.prefix + day + "/" + inv.RunID + "/" + filepath.Base(file)
			obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
			if err != nil {
				t.Errorf("GetObject %s: %v", k, err)
				continue
			}
			body, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("%s: body differs from %s", k, file)
			}
			if obj.ServerSideEncryption != c.sse || aws.ToString(obj.SSEKMSKeyId) != c.key || aws.ToString(obj.ContentType) == "" || aws.ToString(obj.ContentType) == "application/octet-stream" {
				t.Errorf("%s: sse %q key %q type %q, want %q %q", k, obj.ServerSideEncryption, aws.ToString(obj.SSEKMSKeyId), aws.ToString(obj.ContentType), c.sse, c.key)
			}
			head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
			if err != nil {
				t.Errorf("HeadObject %s: %v", k, err)
			} else if head.ServerSideEncryption != c.sse || aws.ToInt64(head.ContentLength) != int64(len(want)) {
				t.Errorf("%s: head sse %q length %d", k, head.ServerSideEncryption, aws.ToInt64(head.ContentLength))
			}
		}
	}

	// SNS: one message, as delivered to the subscriber.
	mu.Lock()
	defer mu.Unlock()
	if len(delivered) != 1 {
		t.Fatalf("%d messages delivered, want 1", len(delivered))
	}
	env := delivered[0]
	n := map[checks.Severity]int{}
	for _, f := range o.Findings {
		if !f.Suppressed {
			n[f.Severity]++
		}
	}
	wantSubject := fmt.Sprintf("IAM Audit: %d critical, %d high, %d medium (incomplete)", n[checks.Critical], n[checks.High], n[checks.Medium])
	if env.Type != "Notification" || env.TopicArn != topic || env.Subject != wantSubject || len(env.Subject) >= 100 || strings.ContainsAny(env.Subject, "\r\n") {
		t.Errorf("SNS %s from %s, subject %q, want %q (under 100 characters, one line)", env.Type, env.TopicArn, env.Subject, wantSubject)
	}
	if !strings.HasPrefix(env.Message, wantSubject+"\n\n") || !strings.Contains(env.Message, "[CRITICAL] ") || len(env.Message) > 256<<10 {
		t.Errorf("SNS message:\n%s", env.Message)
	}
}
