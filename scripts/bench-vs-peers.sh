#!/usr/bin/env bash
# Our signing and verification beside Digital Bazaar's Node stack (the peers' anchor), on the
# same credential, one after the other, on one core each:
#
#   scripts/bench-vs-peers.sh              # 3 runs of each; the medians and their ratios
#   RUNS=5 N=500 scripts/bench-vs-peers.sh
#   PEERS=path/to/interop/ob3 scripts/bench-vs-peers.sh
#
# PEERS is the shared interop harness's `ob3` directory (default ../shared/interop/ob3, beside
# this checkout), whose bench-sign.mjs and bench-verify.mjs are run unchanged; N is their
# iteration count. The credential both sides use comes from `examples/bench_vectors.rs`: the
# benches' sample, issued by the did:key both benches sign with, without a status entry
# (the peers' verify bench checks none). Ours is `cargo bench --bench credential` with
# BENCH_CREDENTIAL set to it; theirs reads it as vectors/ in a scratch directory. Rates are
# per second from each tool's own output (criterion's median; the Node scripts' n / time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=${RUNS:-3}
N=${N:-300}
PEERS=$(cd "${PEERS:-../shared/interop/ob3}" 2>/dev/null && pwd) || {
  echo "no Digital Bazaar harness at ${PEERS:-../shared/interop/ob3}: set PEERS" >&2; exit 2; }
for f in bench-sign.mjs bench-verify.mjs package-lock.json; do
  [ -f "$PEERS/$f" ] || { echo "$PEERS has no $f" >&2; exit 2; }
done
command -v node >/dev/null || { echo "node is needed for the peers' benches" >&2; exit 2; }
command -v jq >/dev/null || { echo "installing jq"; apt-get install -y jq >/dev/null; }
[ -d "$PEERS/node_modules" ] || (cd "$PEERS" && npm ci --silent --no-audit --no-fund)
# One core for every bench, the same one for both stacks.
CORE=${CORE:-$(( $(nproc) - 1 ))}
pin() { taskset -c "$CORE" "$@"; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cargo run --release --locked -q --example bench_vectors -- "$WORK"
export BENCH_CREDENTIAL="$WORK/vectors/credential.unsigned.json"
cargo bench --locked --bench credential --no-run -q 2>/dev/null

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# Our rate: 1 / criterion's median time (nanoseconds in its estimates.json).
ours() {
  pin cargo bench --locked -q --bench credential -- --noplot --warm-up-time 1 \
    --measurement-time 4 "^$1\$" >/dev/null 2>&1
  jq -r '1e9 / .median.point_estimate' "target/criterion/${1//\//_}/new/estimates.json"
}
# Theirs: the `= R/s` their script prints.
theirs() {
  (cd "$WORK" && pin node "$PEERS/$1" "$N") | sed -n 's/.*= \([0-9.]*\)\/s.*/\1/p'
}

declare -A rate
for what in sign verify; do
  : > "$WORK/ours-$what"; : > "$WORK/theirs-$what"
done
for run in $(seq "$RUNS"); do
  echo "run $run of $RUNS" >&2
  ours sign_credential/fast >> "$WORK/ours-sign"
  theirs bench-sign.mjs >> "$WORK/theirs-sign"
  ours verify_proof/fast >> "$WORK/ours-verify"
  theirs bench-verify.mjs >> "$WORK/theirs-verify"
done
for what in sign verify; do
  rate[ours-$what]=$(median < "$WORK/ours-$what")
  rate[theirs-$what]=$(median < "$WORK/theirs-$what")
done

echo "# $(date -u +%FT%TZ), $(nproc) cores (each bench on core $CORE), medians of $RUNS runs"
echo "# ours: cargo bench --bench credential (BENCH_CREDENTIAL); theirs: node bench-*.mjs $N"
printf '| %-26s | %14s | %14s | %9s |\n' "one credential" "ours /s" "Digital Bazaar /s" "ratio"
printf '| %-26s | %14s | %14s | %9s |\n' "---" "---" "---" "---"
for what in sign verify; do
  o=${rate[ours-$what]}; t=${rate[theirs-$what]}
  label=$([ "$what" = sign ] && echo "sign (eddsa-rdfc-2022)" || echo "verify (eddsa-rdfc-2022)")
  printf '| %-26s | %14.0f | %14.0f | %8.0f× |\n' "$label" "$o" "$t" "$(echo "$o / $t" | bc -l)"
done
