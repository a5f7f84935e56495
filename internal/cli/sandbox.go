package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// placeholder until the sandbox command lands (issue 2).
func newSandboxCmd(streams IO) *cobra.Command {
	return &cobra.Command{Use: "sandbox", Short: "Serve a local AWS-compatible Organization",
		RunE: func(*cobra.Command, []string) error { return errors.New("not built yet") }}
}
