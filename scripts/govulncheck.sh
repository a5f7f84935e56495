#!/usr/bin/env bash
# Known vulnerabilities in the code iamaudit calls (govulncheck, SECURITY.md
# "Dependencies"). The machines that run this reach the Go module proxy and nothing
# else, so the vulnerability database is built from the golang.org/x/vulndb module the
# proxy serves (its data/osv files, indexed by the Go team's own cmd/indexdb), newest
# version first, cached per version. Elsewhere, plain `govulncheck ./...` does the same
# against the online database.
#
# Exit status: non-zero when a vulnerability the code reaches is in a module (fix:
# upgrade that module). Vulnerabilities of the Go standard library are printed with
# the Go release that fixes them and fail only with IAMAUDIT_VULN_STRICT=1: their fix
# is the machine's Go toolchain, not a change to this repository.
set -euo pipefail
cd "$(dirname "$0")/.."

GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"
# Installed, not `go run`: go run turns govulncheck's exit status 3 (found) into 1.
GOBIN="$tmp" go install "$GOVULNCHECK"

info=$(go mod download -json golang.org/x/vulndb@latest)
version=$(sed -n 's/^\t"Version": "\(.*\)",$/\1/p' <<<"$info")
src=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$info")
if [ -z "$version" ] || [ ! -d "$src/data/osv" ]; then
  echo "cannot get golang.org/x/vulndb from the Go module proxy:" >&2; echo "$info" >&2; exit 1
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/iamaudit/vulndb/$version"
if [ ! -f "$cache/index/db.json" ]; then
  echo "building the vulnerability database from golang.org/x/vulndb@$version (once per version, about a minute)"
  rm -rf "$cache.tmp" && mkdir -p "$(dirname "$cache")"
  go run "golang.org/x/vulndb/cmd/indexdb@$version" -vulns "$src/data/osv" -out "$cache.tmp"
  mv "$cache.tmp" "$cache"
fi
echo "vulnerability database: golang.org/x/vulndb@$version"

set +e
"$tmp/govulncheck" -db "file://$cache" ./... >"$out" 2>&1
rc=$?
set -e
case $rc in
0) cat "$out"; exit 0 ;;
3) ;; # vulnerabilities found: which kind?
*) cat "$out"; echo "govulncheck failed (exit $rc)" >&2; exit "$rc" ;;
esac
# Each vulnerability: its id, title, where it is and what fixes it (the traces that
# prove the code reaches it are left out: run govulncheck itself to see them).
grep -E '^Vulnerability #|^    [A-Z][^:]*$|^  (Standard library|Module: )|^    (Found|Fixed) in: |^Your code is affected|^This scan also found' "$out" || true
# The vulnerabilities the code calls are the "Vulnerability #N" blocks before the
# informational part; each says "Standard library" or "Module: …".
called=$(sed -n '1,/^=== Package Results ===\|^This scan also found\|^Your code is affected/p' "$out")
if grep -q '^  Module: ' <<<"$called"; then
  echo "govulncheck: a module the code calls has a known vulnerability: upgrade it (see above)" >&2
  exit 1
fi
fixed=$(grep -o 'Fixed in: [a-z/0-9]*@go[0-9.]*' "$out" | sed 's/.*@//' | sort -uV | tail -1)
echo "govulncheck: only the Go standard library ($(go env GOVERSION)) is affected; fixed in $fixed: upgrade the Go toolchain."
if [ "${IAMAUDIT_VULN_STRICT:-}" = 1 ]; then exit 1; fi
