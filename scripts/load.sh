#!/usr/bin/env bash
# Load test against a release build on loopback, with wrk.
#
#   scripts/load.sh                  # every scenario
#   scripts/load.sh credential-json  # some of them
#   DURATION=10s CONNECTIONS=32 DB=postgres://postgres@127.0.0.1:5432/test scripts/load.sh
#
# Starts the service on 127.0.0.1 with a fresh SQLite database (or DATABASE_URL from $DB,
# which must be an empty database) in a temp dir, seeds a mentor, a person, a closing and
# two badges, then runs each scenario and prints requests/s, p50 and p99 latency and the
# server's peak RSS. Only loopback is ever targeted. Add a scenario by writing a
# `scenario_<name>` function below and listing it in ALL_SCENARIOS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
BASE="http://127.0.0.1:$PORT"
ALL_SCENARIOS=(issuer credential-json status-list)

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }
command -v jq >/dev/null || { echo "installing jq"; apt-get install -y jq >/dev/null; }
cargo build --release --locked -q
BIN=target/release/partnership-badges

WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export DATABASE_URL=${DB:-sqlite://$WORK/badges.db}
export KEYS_DIR=$WORK/keys BIND_ADDR=127.0.0.1:$PORT PUBLIC_BASE_URL=$BASE RUST_LOG=${RUST_LOG:-warn}
export SQLITE_SYNCHRONOUS=${SQLITE_SYNCHRONOUS:-full}

TOKEN=$($BIN token create --name load | tail -n 1)
$BIN serve & SERVER=$!
for _ in $(seq 50); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done

api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
MENTOR=$(api "$BASE/api/v1/mentors" -d '{"name":"Maya Mentor","email":"maya@example.org"}' | jq -r .id)
PERSON=$(api "$BASE/api/v1/people" -d '{"name":"Ada Closer","email":"ada@example.org","city":"Lyon","country":"France","listed_in_registry":true,"consent_source":"load test seed"}' | jq -r .id)
CLOSING=$(api "$BASE/api/v1/closings" -d '{"closer_id":"'"$PERSON"'","mentor_id":"'"$MENTOR"'","mentor_cc_at":"2026-10-01T09:30:00Z","partner_name":"Lyon Makers Library","stages":{"lead":"2026-06-01","work":"2026-08-01"},"closed_on":"2026-10-02","summary":"Six maker nights."}' | jq -r .id)
CREDENTIAL=$(api "$BASE/api/v1/credentials" -d '{"achievement":"partnership-closed","person_id":"'"$PERSON"'","closing_id":"'"$CLOSING"'"}' | jq -r .id)
export TOKEN BASE MENTOR PERSON CLOSING CREDENTIAL WORK

# run NAME wrk-args...: one wrk run, summarised as a table row.
run() {
  local name=$1; shift
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-28s %12s req/s   p50 %-9s p99 %-9s %s\n' "$name" "$rps" "$p50" "$p99" \
    "${non2xx:+non-2xx/3xx: $non2xx}"
}

scenario_issuer() { run "GET /issuer" "$BASE/issuer"; }
scenario_credential-json() {
  run "GET /credentials/{id} JSON" -H 'Accept: application/json' "$BASE/credentials/$CREDENTIAL"
}
scenario_status-list() { run "GET /status/1" "$BASE/status/1"; }

# Extra scenarios live in scripts/load/*.sh; each defines scenario_<name> functions and
# appends its names to ALL_SCENARIOS.
for extra in scripts/load/*.sh; do
  [ -e "$extra" ] && source "$extra"
done

echo "# $(date -u +%FT%TZ) $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, db ${DATABASE_URL%%:*}"
for s in "${@:-${ALL_SCENARIOS[@]}}"; do "scenario_$s"; done
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$SERVER/status")"
