#!/usr/bin/env bash
# Sets Tau up on this machine: Deno from the npm registry (pinned), the project's modules from
# deno.lock, `tau` and `taud` commands on PATH; then starts the daemon and runs the example.
#
#   ./install.sh               install, start taud, deploy and run examples/hello_pipeline.ts
#   ./install.sh --deps-only   install Deno and the modules only (what CI uses)
set -euo pipefail
DENO_VERSION=2.9.6
ROOT="$(cd "$(dirname "$0")" && pwd)"
cd "$ROOT"

have_deno() { command -v deno >/dev/null 2>&1 && [ "$(deno --version | head -1 | cut -d' ' -f2)" = "$DENO_VERSION" ]; }

if ! have_deno; then
  echo "installing deno@$DENO_VERSION from the npm registry" >&2
  if ! npm install -g --silent "deno@$DENO_VERSION" >&2; then
    # No write access to the global prefix: install under the user's home instead.
    prefix="${XDG_DATA_HOME:-$HOME/.local/share}/tau/deno"
    npm install --silent --prefix "$prefix" "deno@$DENO_VERSION" >&2
    export PATH="$prefix/node_modules/.bin:$PATH"
  fi
fi
have_deno || { echo "deno $DENO_VERSION is not on PATH after install" >&2; exit 1; }

# Layer 3 of the run sandbox: bubblewrap (and prlimit from util-linux) on Linux. Without them
# Tau still runs, with Deno permissions and the deploy-time graph check only (tau status says so).
if [ "$(uname -s)" = Linux ] && ! command -v bwrap >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing bubblewrap (the run sandbox's OS boundary)" >&2
    $sudo apt-get install -y -qq bubblewrap >/dev/null 2>&1 ||
      { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq bubblewrap >/dev/null 2>&1; } ||
      echo "warning: could not install bubblewrap; runs get layers 1 and 2 only" >&2
  else
    echo "warning: install bubblewrap with your package manager for the OS boundary" >&2
  fi
fi
dirname "$(command -v deno)" > .tau-deno-path

# The project's modules, exactly as locked, and the npm drivers pipelines may use, cached once
# per machine into the sandbox's own module cache.
deno install --frozen --quiet >&2
deno eval --quiet 'import { ensureSandboxCache } from "./src/sandbox/npm_cache.ts"; await ensureSandboxCache();' >&2

[ "${1:-}" = "--deps-only" ] && exit 0

# `tau` and `taud` wrappers.
bin="${TAU_BIN_DIR:-$HOME/.local/bin}"
[ -w /usr/local/bin ] && [ -z "${TAU_BIN_DIR:-}" ] && bin=/usr/local/bin
mkdir -p "$bin"
deno_bin="$(command -v deno)"
for cmd in tau taud; do
  entry="$ROOT/src/cli/main.ts"
  [ "$cmd" = taud ] && entry="$ROOT/src/daemon/main.ts"
  printf '#!/bin/sh\nexec "%s" run -A --quiet --config "%s" "%s" "$@"\n' "$deno_bin" "$ROOT/deno.json" "$entry" > "$bin/$cmd"
  chmod +x "$bin/$cmd"
done
echo "installed tau and taud into $bin" >&2
case ":$PATH:" in *":$bin:"*) ;; *) echo "add $bin to your PATH" >&2; export PATH="$bin:$PATH" ;; esac

# Start the daemon and run the example end to end.
"$bin/taud" >&2
"$bin/tau" deploy "$ROOT/examples/hello_pipeline.ts" >/dev/null
"$bin/tau" run hello_world
