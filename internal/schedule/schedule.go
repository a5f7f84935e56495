// Package schedule holds what a scheduled run on AWS's own engines needs besides the
// audit itself: the estimate of how long an Organization takes, which decides whether
// an AWS Lambda invocation may start it (Lambda stops a function at 15 minutes, and an
// audit cut off there would be lost silently; docs/scheduled.md), the count of the
// accounts that estimate starts from, and the secrets a run's environment names.
package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// The estimate's figures (docs/aws-facts.md "Scheduled runs"). An account's floor is
// its CloudTrail lookups: 13 event names at LookupEvents' 2 requests per second
// (6.5 s); a credential report takes 5-10 s to generate; IAM pages at 15 requests per
// second for a few hundred users take seconds more. Measured on the sandbox with 30 ms
// latency: 143 users per account, 21 accounts 16 at a time, took 31 s (README
// "Benchmarks"), i.e. about 15 s per wave of accounts; PerAccount doubles that for
// real-world latency and larger accounts.
const (
	// PerAccount is the time one account is planned to take.
	PerAccount = 30 * time.Second
	// Overhead is the Organization listing, the evaluation and writing the files.
	Overhead = 30 * time.Second
	// Reserve is kept back from the function's remaining time for the destinations
	// (S3, Security Hub, SNS) and the response; the audit's own deadline is the
	// remaining time minus Reserve, so it is interrupted (and says so) rather than cut.
	Reserve = 90 * time.Second
)

// Estimate is how long an audit of n accounts, concurrency at a time, is planned to take.
func Estimate(n, concurrency int) time.Duration {
	if concurrency < 1 {
		concurrency = 1
	}
	waves := (n + concurrency - 1) / concurrency
	return Overhead + time.Duration(waves)*PerAccount
}

// Fits tells whether an audit of n accounts fits in remaining, Reserve kept back.
func Fits(n, concurrency int, remaining time.Duration) bool {
	return Estimate(n, concurrency) <= remaining-Reserve
}

// CountAccounts counts the ACTIVE accounts an audit with these selections would
// start on (--accounts, --exclude-accounts; an --ou selection is counted as the whole
// Organization, an upper bound).
func CountAccounts(ctx context.Context, cfg aws.Config, only, exclude []string) (int, error) {
	c := organizations.NewFromConfig(cfg)
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{}, func(o *organizations.ListAccountsPaginatorOptions) {
		o.StopOnDuplicateToken = true
	})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("organizations:ListAccounts: %w", err)
		}
		for _, a := range page.Accounts {
			id := aws.ToString(a.Id)
			active := string(a.State) == "ACTIVE" || (a.State == "" && string(a.Status) == "ACTIVE")
			if !active || slices.Contains(exclude, id) || (len(only) > 0 && !slices.Contains(only, id)) {
				continue
			}
			n++
		}
	}
	return n, nil
}

// SecretValue reads a secret's string from Secrets Manager. An RDS-managed
// secret (JSON with engine postgres, host, port, username, password, dbname) becomes
// the postgres:// URL it describes, with TLS required; any other value is returned as
// it is. The value is never logged.
func SecretValue(ctx context.Context, cfg aws.Config, arn string) (string, error) {
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("secretsmanager:GetSecretValue %s: %w", arn, err)
	}
	v := aws.ToString(out.SecretString)
	var rds struct {
		Engine, Host, Username, Password, Dbname string
		Port                                     json.Number
	}
	if json.Unmarshal([]byte(v), &rds) == nil && rds.Host != "" && rds.Username != "" {
		port := rds.Port.String()
		if _, err := strconv.Atoi(port); err != nil {
			port = "5432"
		}
		db := rds.Dbname
		if db == "" {
			db = "postgres"
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword(rds.Username, rds.Password), Host: rds.Host + ":" + port,
			Path: "/" + db, RawQuery: "sslmode=require"}
		return u.String(), nil
	}
	return v, nil
}
