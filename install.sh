#!/usr/bin/env bash
# Sets Tau up on this machine: Deno from the npm registry (pinned), the project's modules from
# deno.lock, `tau` and `taud` commands on PATH; then starts the daemon and runs the example.
#
#   ./install.sh               install, start taud, deploy and run examples/hello_pipeline.ts;
#                              prints one line: how the example run went (exit 1 if it failed)
#   ./install.sh --deps-only   install Deno and the modules only
#   ./install.sh --no-agent    (anywhere in the arguments) leave Claude Code alone: no skill, no
#                              MCP server; otherwise the guide (tau guide) becomes the skill
#                              ~/.claude/skills/tau/SKILL.md (under $CLAUDE_CONFIG_DIR when set),
#                              never over a copy the user changed, and when claude is on PATH
#                              `tau mcp` is registered with `claude mcp add --scope user`
#
# The wrappers go to $TAU_BIN_DIR (default /usr/local/bin when writable, else ~/.local/bin);
# the daemon takes TAU_HOME (default ~/.tau) and TAU_PORT (default 8400) from the environment.
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

# Agents: the guide as a Claude Code skill and `tau mcp` as its MCP server (see
# src/guide/setup_agent.ts). Its notes go to stderr (its JSON report is dropped); a failure is a
# warning, never the install's.
no_agent=""
for arg in "$@"; do case "$arg" in --no-agent) no_agent=--no-agent ;; esac; done
deno run -A --quiet --config "$ROOT/deno.json" "$ROOT/src/guide/setup_agent.ts" --tau "$bin/tau" $no_agent >/dev/null ||
  echo "warning: the agent setup failed (the install goes on); retry: deno run -A $ROOT/src/guide/setup_agent.ts --tau $bin/tau" >&2

# Start the daemon and run the example end to end; the last line says how the run went. The
# example talks to the daemon just started, whatever TAU_HOST/TAU_API_KEY the shell exports.
local_tau() { env -u TAU_HOST -u TAU_API_KEY "$bin/tau" "$@"; }
"$bin/taud" >&2
deployed=$(local_tau deploy "$ROOT/examples/hello_pipeline.ts") || { echo "$deployed" >&2; exit 1; }
record=$(local_tau run hello_world) || true
deno eval --quiet '
  const text = await new Response(Deno.stdin.readable).text();
  let r;
  try { r = JSON.parse(text); } catch { r = { error: { message: text.trim() || "no output" } }; }
  const next = "tau inspect hello_world --last-run";
  if (r.status === "success") {
    console.log(`example run ${r.run_id} succeeded in ${(r.duration_ms / 1000).toFixed(1)} s — try: ${next}`);
  } else {
    const e = r.error ?? {};
    const then = r.run_id ? `see: ${next}` : e.hint ?? "";
    console.log(`example run ${r.run_id ?? "(none)"} ${r.status ?? "failed"}: ${e.kind ?? e.code ?? "error"}: ${e.message} — ${then}`);
    Deno.exit(1);
  }
' <<<"$record"
