#!/usr/bin/env bash
# The project's test command (README.md "Run the tests"). Fails, never skips, when a
# component the tests need (moto_server, the AWS CLI, boto3, PostgreSQL's server
# binaries) is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# pyenv's shims add about a quarter of a second to every start of aws, python3 and
# moto_server, which the tests start some thirty times: put the real ones first.
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"; export PATH
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing: $1 ($2)" >&2; exit 1; }; }
need go "install Go 1.26"
need moto_server "pip install 'moto[server]'"
need aws "pip install awscli"
python3 -c 'import boto3' 2>/dev/null || { echo "missing: boto3 (pip install boto3)" >&2; exit 1; }
# The store's tests start PostgreSQL themselves from these binaries (internal/store).
if [ -z "${IAMAUDIT_TEST_PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "missing: PostgreSQL server binaries (apt-get install -y postgresql, or set IAMAUDIT_TEST_PG_BIN)" >&2; exit 1
fi

echo "== gofmt"
unformatted=$(gofmt -l cmd internal)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

echo "== go mod tidy"
# -diff reports what tidy would change without touching go.mod / go.sum.
if ! go mod tidy -diff; then
  echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

[ "${1:-}" = lint ] && exit 0

echo "== govulncheck"
./scripts/govulncheck.sh

echo "== go test -race"
# -p 4 on 2 cores: a test binary spends much of its time waiting (for the AWS CLI,
# moto or a test of pacing, and 1 s at exit under -race), so four at a time keep
# the cores busy; measured 37 s against 45-49 s with the default of 2.
IAMAUDIT_TEST_DISALLOW_SKIP=1 go test -race -count=1 -p 4 -timeout 20m ./...

echo "== fuzz (20000 inputs per parser)"
# Each parser of untrusted input is fuzzed for a short, bounded run: a count of inputs
# (a few seconds each), not a duration, because Go 1.26's fuzzing coordinator can
# report "context deadline exceeded" as a failure when a -fuzztime duration ends
# (go.dev/issue/75804, fixed in Go 1.27). make fuzz runs 30 s each.
for pkg in credreport scenario suppress policy yamlfile; do
  go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 20000x -fuzzminimizetime 100x "./internal/$pkg/"
done
go test -run '^$' -fuzz '^FuzzReadSeed$' -fuzztime 20000x -fuzzminimizetime 100x ./internal/importer/
# The one-pass JSON indenter must write what json.Indent writes (internal/report/indent.go).
go test -run '^$' -fuzz '^FuzzIndentCompact$' -fuzztime 20000x -fuzzminimizetime 100x ./internal/report/
