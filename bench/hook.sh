#!/usr/bin/env bash
# Whole-process cost of `warden hook claude` on a PreToolUse Bash call with a 200-rule policy,
# against a Rust program that only reads stdin and prints `{}`, in the same hyperfine run.
# Each is measured as a default (dynamic) build and as the static build scripts/install ships;
# the headline is the shipped warden against the default noop, as the issue states it.
#
#   bench/hook.sh            # prints the hyperfine table and writes bench/results/hook.json
set -euo pipefail
cd "$(dirname "$0")/.."
# --input (stdin from a file, no shell in between) needs hyperfine 1.16 or later; Debian 12
# ships 1.15: `cargo install hyperfine --locked` gives a current one.
hyperfine=${HYPERFINE:-hyperfine}
if ! "$hyperfine" --help 2>/dev/null | grep -q -- '--input'; then
  echo "bench/hook.sh: $("$hyperfine" --version 2>/dev/null || echo 'no hyperfine') lacks --input; install hyperfine >= 1.16 (cargo install hyperfine --locked) or set HYPERFINE" >&2
  exit 2
fi
# Both builds of each: the default (dynamic) one, and the static one that scripts/install ships.
cargo build --release -q -p warden-cli --bin warden --example noop_hook
target=${CARGO_TARGET_DIR:-target}/release
static_warden=$(scripts/build-static -q --example noop_hook)
static_noop=$(dirname "$static_warden")/examples/noop_hook
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$work" init -q
programs=(npm cargo git make docker kubectl terraform python node go)
verbs=(test build run push deploy install publish apply delete exec)
{
  echo '[permissions]'
  deny=(); ask=(); allow=()
  i=0
  for p in "${programs[@]}"; do
    j=0
    for v in "${verbs[@]}"; do
      case $(( (i + j) % 3 )) in
        0) deny+=("\"Bash($p $v*)\"") ;;
        1) ask+=("\"Bash($p $v*)\"") ;;
        *) allow+=("\"Bash($p $v*)\"") ;;
      esac
      j=$((j + 1))
    done
    i=$((i + 1))
  done
  for n in $(seq 0 39); do allow+=("\"Read(./src/module$n/**)\""); ask+=("\"Edit(./infra/env$n/**)\""); done
  for n in $(seq 0 19); do allow+=("\"WebFetch(domain:docs$n.example.com)\""); done
  (IFS=,; echo "deny = [${deny[*]}]"; echo "ask = [${ask[*]}]"; echo "allow = [${allow[*]}]")
} > "$work/warden.toml"
rules=$(grep -o '"[A-Za-z]*(' "$work/warden.toml" | wc -l)
echo "policy: $rules rules"
payload="$work/payload.json"
printf '{"session_id":"bench","transcript_path":"/dev/null","cwd":"%s","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test -- --coverage","description":"test"},"tool_use_id":"toolu_1"}' "$work" > "$payload"
# Time installed copies, as users run them: a binary as the linker left it can start ~0.5 ms
# slower than a copy of it (the page cache holds the linker's output differently), which is
# larger than some of the differences this bench exists to show.
bin="$work/bin"
mkdir -p "$bin"
install -m 755 "$target/examples/noop_hook" "$bin/noop"
install -m 755 "$static_noop" "$bin/noop-static"
install -m 755 "$static_warden" "$bin/warden"
install -m 755 "$target/warden" "$bin/warden-dynamic"
"$bin/warden" hook claude < "$payload"
mkdir -p bench/results
"$hyperfine" -N --warmup 20 --runs 1000 --input "$payload" \
  --export-json bench/results/hook.json \
  -n noop "$bin/noop" \
  -n "noop (static)" "$bin/noop-static" \
  -n "warden hook claude" "$bin/warden hook claude" \
  -n "warden hook claude (dynamic)" "$bin/warden-dynamic hook claude"
