package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/history"
)

// IO is where commands write: data to Out, messages and progress to Err.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Factory is what every command takes from the outside world: its streams, the
// clock, the tool's version, the AWS configuration and the run history. Commands
// receive it at construction (cli/cli's cmdutil.Factory); tests replace any part.
type Factory struct {
	IO      IO
	Version string
	// Clock is the current time (the reference of ages, the run id).
	Clock func() time.Time
	// AWSConfig loads the SDK configuration of the standard chain for a profile and
	// region ("" for the defaults), as the AWS CLI does.
	AWSConfig func(ctx context.Context, profile, region string) (aws.Config, error)
	// History opens the history of runs for an output directory.
	History func(outputDir string) (history.History, error)
	// TuneCollect, when set, adjusts the collection options of `run` and `demo`
	// once the flags are applied. Nil on the real command line; tests lift the
	// client-side rate limits with it against a sandbox that paces nothing.
	TuneCollect func(*collect.Options)
}

// NewFactory is the factory of the real command line.
func NewFactory(version string, streams IO) *Factory {
	return &Factory{
		IO:        streams,
		Version:   version,
		Clock:     time.Now,
		AWSConfig: loadAWSConfig,
		History:   func(dir string) (history.History, error) { return history.NewDir(dir), nil },
	}
}

// loadAWSConfig reads the standard chain (--profile, AWS_PROFILE, SSO, environment,
// AWS_ENDPOINT_URL).
func loadAWSConfig(ctx context.Context, profile, region string) (aws.Config, error) {
	// The SDK's own log lines (e.g. IMDS fallbacks) are not for the user: our errors say what failed.
	loadOpts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		loadOpts = append(loadOpts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("cannot load AWS configuration: %w (check --profile and ~/.aws/config)", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}
