package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamaudit/iamaudit/internal/schedule"
)

// Scheduled runs (AWS Lambda, an ECS Fargate task) are configured by environment
// variables: every flag of `run` can be given as IAMAUDIT_<FLAG> (--role as
// IAMAUDIT_ROLE, --s3-kms-key as IAMAUDIT_S3_KMS_KEY, --fail-on as IAMAUDIT_FAIL_ON;
// lists comma separated), and IAMAUDIT_<FLAG>_SECRET_ARN reads the flag's value from
// AWS Secrets Manager (a PostgreSQL connection; an RDS-managed secret's JSON becomes a
// postgres:// URL), so that no secret sits in the environment. A flag on the command
// line wins over both (docs/scheduled.md).

// EnvName is the environment variable of a flag.
func EnvName(flag string) string {
	return "IAMAUDIT_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its environment
// variable, then from its secret.
func applyEnv(cmd *cobra.Command, f *Factory) error {
	fs := cmd.Flags()
	var err error
	secrets := map[string]string{} // flag → secret ARN
	fs.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || fl.Name == "help" {
			return
		}
		if arn := os.Getenv(EnvName(fl.Name) + "_SECRET_ARN"); arn != "" {
			secrets[fl.Name] = arn
			return
		}
		v, ok := os.LookupEnv(EnvName(fl.Name))
		if !ok {
			return
		}
		if serr := fs.Set(fl.Name, v); serr != nil {
			err = usageErrorf("%s=%q: %v", EnvName(fl.Name), v, serr)
		}
	})
	if err != nil {
		return err
	}
	for _, env := range os.Environ() {
		name, val, _ := strings.Cut(env, "=")
		if val == "" {
			continue // an unset option of a template (IAMAUDIT_DB_SECRET_ARN: "")
		}
		if flag, ok := strings.CutSuffix(strings.TrimPrefix(name, "IAMAUDIT_"), "_SECRET_ARN"); ok && strings.HasPrefix(name, "IAMAUDIT_") {
			fl := strings.ToLower(strings.ReplaceAll(flag, "_", "-"))
			if fs.Lookup(fl) == nil {
				return usageErrorf("%s names no flag --%s of %s", name, fl, cmd.CommandPath())
			}
		}
	}
	if len(secrets) == 0 {
		return nil
	}
	profile, _ := fs.GetString("profile")
	region, _ := fs.GetString("region")
	cfg, cerr := f.AWSConfig(cmd.Context(), profile, region)
	if cerr != nil {
		return cerr
	}
	for flag, arn := range secrets {
		v, serr := schedule.SecretValue(cmd.Context(), cfg, arn)
		if serr != nil {
			return fmt.Errorf("%s: %w", EnvName(flag)+"_SECRET_ARN", serr)
		}
		if serr := fs.Set(flag, v); serr != nil {
			// The value is a secret: never echo it.
			return usageErrorf("%s: the secret's value is not valid for --%s", EnvName(flag)+"_SECRET_ARN", flag)
		}
	}
	return nil
}
