# Thin aliases for the commands in README.md.
.PHONY: build demo test lint bench bench-org fuzz vulncheck

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	CGO_ENABLED=0 go build -ldflags "-X main.version=$(VERSION)" -o iamaudit ./cmd/iamaudit

demo:
	go run ./cmd/iamaudit demo

test:
	./scripts/test.sh

lint:
	./scripts/test.sh lint

bench:
	go test -run '^$$' -bench . -benchtime 3s ./internal/sandbox/ ./internal/collect/ ./internal/audit/

# iamaudit bench: a whole audit of a generated Organization against its floor (docs/bench.md).
ACCOUNTS ?= 10
USERS ?= 20
PROFILE ?= realistic
bench-org:
	go run ./cmd/iamaudit bench --accounts $(ACCOUNTS) --users $(USERS) --profile $(PROFILE)

fuzz:
	go test -run '^$$' -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 2s ./internal/credreport/
	go test -run '^$$' -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 2s ./internal/scenario/
	go test -run '^$$' -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 2s ./internal/suppress/
	go test -run '^$$' -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 2s ./internal/policy/
	go test -run '^$$' -fuzz FuzzReadSeed -fuzztime 30s -fuzzminimizetime 2s ./internal/importer/
	go test -run '^$$' -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 2s ./internal/yamlfile/
	go test -run '^$$' -fuzz FuzzIndentCompact -fuzztime 30s -fuzzminimizetime 2s ./internal/report/

vulncheck:
	./scripts/govulncheck.sh
