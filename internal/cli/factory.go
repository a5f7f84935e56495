package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/iamaudit/iamaudit/internal/collect"
	"github.com/iamaudit/iamaudit/internal/history"
	"github.com/iamaudit/iamaudit/internal/store"
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
	// History opens where runs are kept and compared (a store, or with --no-db the
	// output directory's run JSON files). A returned history that is an io.Closer is
	// closed when the command ends.
	History func(ctx context.Context, where HistoryPlace) (history.History, error)
	// TuneCollect, when set, adjusts the collection options of `run` and `demo`
	// once the flags are applied. Nil on the real command line; tests lift the
	// client-side rate limits with it against a sandbox that paces nothing.
	TuneCollect func(*collect.Options)
}

// HistoryPlace is what `run` and `demo` say about where runs are kept.
type HistoryPlace struct {
	OutputDir string
	// DB is --db ("": the default store); NoDB is --no-db (the output directory).
	DB   string
	NoDB bool
	// Demo: the default store is the demo's own, in its output directory, and
	// IAMAUDIT_DB is not read (a demo never writes into a real history).
	Demo bool
}

// StoreTarget is where the store of a place is: --db, else for a demo
// <output dir>/iamaudit.db, else $IAMAUDIT_DB, else store.DefaultPath().
func (p HistoryPlace) StoreTarget() (string, error) {
	switch {
	case p.DB != "":
		return p.DB, nil
	case p.Demo:
		return filepath.Join(p.OutputDir, "iamaudit.db"), nil
	}
	return defaultStore()
}

// defaultStore is $IAMAUDIT_DB, else store.DefaultPath().
func defaultStore() (string, error) {
	if v := os.Getenv(store.EnvDB); v != "" {
		return v, nil
	}
	return store.DefaultPath()
}

// openHistory is the real Factory.History: a store opened (and migrated) now,
// before any AWS call, or history.Dir with --no-db. opts tune the store (tests
// shorten its busy timeout).
func openHistory(streams IO, opts store.Options) func(ctx context.Context, p HistoryPlace) (history.History, error) {
	return func(ctx context.Context, p HistoryPlace) (history.History, error) {
		if p.NoDB {
			return history.NewDir(p.OutputDir), nil
		}
		target, err := p.StoreTarget()
		if err != nil {
			return nil, err
		}
		s, err := store.Open(ctx, target, opts)
		if err != nil {
			return nil, fmt.Errorf("%w (give another --db, or --no-db to compare with the run JSON files of --output-dir instead)", err)
		}
		s.Warn = func(w string) { fmt.Fprintf(streams.Err, "iamaudit: %s\n", w) }
		return s, nil
	}
}

// NewFactory is the factory of the real command line.
func NewFactory(version string, streams IO) *Factory {
	return &Factory{
		IO:        streams,
		Version:   version,
		Clock:     time.Now,
		AWSConfig: loadAWSConfig,
		History:   openHistory(streams, store.Options{}),
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
