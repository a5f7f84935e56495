package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// placeholder until the audit lands (issue 3).
func newRunCmd(version string, streams IO) *cobra.Command {
	return &cobra.Command{Use: "run", Short: "Audit the Organization",
		RunE: func(*cobra.Command, []string) error { return errors.New("not built yet") }}
}

func newDemoCmd(version string, streams IO) *cobra.Command {
	return &cobra.Command{Use: "demo", Short: "Audit the built-in demo Organization",
		RunE: func(*cobra.Command, []string) error { return errors.New("not built yet") }}
}
