package cli

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/permissions"
	"github.com/iamaudit/iamaudit/internal/publish"
)

// destinationFlags are where `run` sends its results besides the output directory
// (docs/destinations.md).
type destinationFlags struct {
	SecurityHub       bool
	SecurityHubRegion string
	S3                string
	S3KMSKey          string
	S3BucketOwner     string
	SNS               string
}

func (d *destinationFlags) addDestinationFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&d.SecurityHub, "securityhub", false, "import the findings into AWS Security Hub (ASFF), from each account through the audit role (which then needs securityhub:BatchImportFindings: docs/permissions.md)")
	fs.StringVar(&d.SecurityHubRegion, "securityhub-region", "", "Region to import the findings into (default: the SDK region, --region / AWS_REGION)")
	fs.StringVar(&d.S3, "s3", "", "upload every output file to s3://bucket/prefix, under prefix/YYYY/MM/DD/RUNID/ (SSE-S3 unless --s3-kms-key)")
	fs.StringVar(&d.S3KMSKey, "s3-kms-key", "", "KMS key (ARN, id or alias) to encrypt the uploads with SSE-KMS")
	fs.StringVar(&d.S3BucketOwner, "s3-bucket-owner", "", "account id the --s3 bucket must belong to (default: the caller's account); S3 refuses the upload otherwise")
	fs.StringVar(&d.SNS, "sns", "", "publish the summary (\"IAM Audit: N critical, N high, N medium\" and the top findings) to this SNS topic ARN")
}

func (d *destinationFlags) validateDestinations() error {
	if d.S3 != "" {
		if _, _, err := permissions.ParseS3URL(d.S3); err != nil {
			return usageErrorf("--s3: %v", err)
		}
	}
	if d.S3KMSKey != "" && d.S3 == "" {
		return usageErrorf("--s3-kms-key needs --s3")
	}
	if d.S3BucketOwner != "" && !accountIDRe.MatchString(d.S3BucketOwner) {
		return usageErrorf("--s3-bucket-owner %q: must be a 12-digit account id", d.S3BucketOwner)
	}
	if d.SNS != "" {
		if a, err := arn.Parse(d.SNS); err != nil || a.Service != "sns" || a.Region == "" {
			return usageErrorf("--sns %q: not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)", d.SNS)
		}
	}
	return nil
}

// destinations builds the destinations the flags ask for; role is how the run reaches
// every account (for Security Hub).
func (d *destinationFlags) destinations(cfg aws.Config, role publish.AuditRole, lang string) []publish.Destination {
	var out []publish.Destination
	if d.SecurityHub {
		out = append(out, &publish.SecurityHub{Config: cfg, Role: role, Region: d.SecurityHubRegion})
	}
	if d.S3 != "" {
		out = append(out, &publish.S3{Config: cfg, URL: d.S3, KMSKey: d.S3KMSKey, ExpectedOwner: d.S3BucketOwner})
	}
	if d.SNS != "" {
		out = append(out, &publish.SNS{Config: cfg, TopicARN: d.SNS, Lang: lang})
	}
	return out
}
