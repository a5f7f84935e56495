// Command iamaudit audits IAM credentials across an AWS Organization.
package main

import (
	"os"

	"github.com/iamaudit/iamaudit/internal/cli"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(cli.Main(os.Args[1:], version))
}
