#!/usr/bin/env bash
# Sets Tau up on this machine: Deno from the npm registry (pinned), the project's modules from
# deno.lock, `tau` and `taud` commands on PATH; then starts the daemon and runs the example.
#
#   ./install.sh               install, start taud, deploy and run examples/hello_pipeline.ts;
#                              prints one line: how the example run went (exit 1 if it failed)
#   ./install.sh --deps-only   (anywhere in the arguments) install Deno and the modules only
#   ./install.sh --binaries    the same, but with single binaries: builds dist/tau and dist/taud
#                              (`deno task compile`; it needs Deno's denort runtime from
#                              dl.deno.land, or DENORT_BIN=/path/to/denort) and installs them
#                              instead of the wrappers, with a `deno` link beside them (the
#                              deno installed here: a compiled taud starts each run with it)
#                              unless one is there already; if the build fails nothing is installed
#   ./install.sh --help        this text
#   ./install.sh --no-agent    (anywhere in the arguments) leave Claude Code alone: no skill, no
#                              MCP server; otherwise the guide (tau guide) becomes the skill
#                              ~/.claude/skills/tau/SKILL.md (under $CLAUDE_CONFIG_DIR when set),
#                              never over a copy the user changed, and when claude is on PATH
#                              `tau mcp` is registered with `claude mcp add --scope user`
#
# The wrappers (or binaries) go to $TAU_BIN_DIR (default /usr/local/bin when writable, else
# ~/.local/bin); the daemon takes TAU_HOME (default ~/.tau) and TAU_PORT (default 8400) from the
# environment.
set -euo pipefail
DENO_VERSION=2.9.6
ROOT="$(cd "$(dirname "$0")" && pwd)"
cd "$ROOT"

usage() { sed -n '2,/^set -euo/p' "$ROOT/install.sh" | sed -e '$d' -e 's/^# \{0,1\}//'; }
no_agent="" binaries="" deps_only=""
for arg in "$@"; do
  case "$arg" in
    --no-agent) no_agent=--no-agent ;;
    --binaries) binaries=1 ;;
    --deps-only) deps_only=1 ;;
    -h | --help) usage; exit 0 ;;
    *) { echo "install.sh: unknown argument $arg"; usage; } >&2; exit 2 ;;
  esac
done

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

[ -n "$deps_only" ] && exit 0

bin="${TAU_BIN_DIR:-$HOME/.local/bin}"
[ -w /usr/local/bin ] && [ -z "${TAU_BIN_DIR:-}" ] && bin=/usr/local/bin
deno_bin="$(command -v deno)"
if [ -n "$binaries" ]; then
  # Single binaries: build them first, so a failed build leaves nothing installed.
  build_log=$(mktemp)
  if ! deno task compile 2>&1 | tee "$build_log" >&2 || [ ! -x dist/tau ] || [ ! -x dist/taud ]; then
    if grep -qE 'denort|dl\.deno\.land' "$build_log"; then
      echo "install.sh: the single binaries were not built and nothing was installed: deno compile needs Deno's denort runtime: it downloads it from dl.deno.land, or set DENORT_BIN=/path/to/denort (denort $DENO_VERSION for this platform), then run ./install.sh --binaries again; or install the wrappers instead: ./install.sh" >&2
    else
      echo "install.sh: deno task compile failed (its output is above) and nothing was installed; fix that and run ./install.sh --binaries again, or install the wrappers instead: ./install.sh" >&2
    fi
    rm -f "$build_log"
    exit 1
  fi
  rm -f "$build_log"
  # Copied beside their place, then renamed: a command on PATH is never half written.
  mkdir -p "$bin"
  for cmd in tau taud; do
    cp "dist/$cmd" "$bin/.$cmd.installing" || {
      rm -f "$bin/.tau.installing" "$bin/.taud.installing"
      echo "install.sh: could not copy dist/$cmd into $bin; nothing was installed" >&2
      exit 1
    }
  done
  for cmd in tau taud; do mv -f "$bin/.$cmd.installing" "$bin/$cmd"; done
  # A compiled taud starts each run with a real deno of its version; it looks beside itself first.
  real_deno="$(realpath "$deno_bin" 2>/dev/null || echo "$deno_bin")"
  if [ ! -e "$bin/deno" ] && [ ! -L "$bin/deno" ]; then
    ln -s "$real_deno" "$bin/deno"
  elif [ "$("$bin/deno" --version 2>/dev/null | head -1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
    echo "warning: $bin/deno is not deno $DENO_VERSION and was left as it is; taud then looks on PATH (set [sandbox] deno = \"$real_deno\" in tau.toml to be sure)" >&2
  fi
  echo "installed the tau and taud binaries into $bin, with deno $DENO_VERSION beside them" >&2
else
  # `tau` and `taud` wrappers.
  mkdir -p "$bin"
  for cmd in tau taud; do
    entry="$ROOT/src/cli/main.ts"
    [ "$cmd" = taud ] && entry="$ROOT/src/daemon/main.ts"
    printf '#!/bin/sh\nexec "%s" run -A --quiet --config "%s" "%s" "$@"\n' "$deno_bin" "$ROOT/deno.json" "$entry" > "$bin/$cmd"
    chmod +x "$bin/$cmd"
  done
  echo "installed tau and taud into $bin" >&2
fi
case ":$PATH:" in *":$bin:"*) ;; *) echo "add $bin to your PATH" >&2; export PATH="$bin:$PATH" ;; esac

# Agents: the guide as a Claude Code skill and `tau mcp` as its MCP server (see
# src/guide/setup_agent.ts). Its notes go to stderr (its JSON report is dropped); a failure is a
# warning, never the install's.
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
