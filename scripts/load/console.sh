# The staff console's dashboard (sourced by scripts/load.sh; uses its BASE, BIN, WORK, run).
#
#   scripts/load.sh dashboard
#   CONSOLE_PEOPLE=20000 scripts/load.sh dashboard
#
# Seeds CONSOLE_PEOPLE (default 10,000) people with two closings each (20,000), badges and
# partner fits with examples/seed_console.rs (direct SQL; placeholder documents), makes a
# staff account with `user create`, signs it in through its one-time link, then loads
# GET /console (the dashboard: every figure, chart and the partner-fit table computed per
# request, or from the STATS_CACHE_SECS cache) at 1, 4 (a team of staff) and CONNECTIONS
# connections, printing p95 beside p50/p99. STATS_CACHE_SECS=0 computes every request's
# figures. The target: p95 under 100 ms with 10,000 people and 20,000 closings on SQLite.
ALL_SCENARIOS+=(dashboard)

scenario_dashboard() {
  local people=${CONSOLE_PEOPLE:-10000}
  cargo build --release --locked -q --example seed_console
  target/release/examples/seed_console "$people" | sed 's/^/  /'
  local link token cookie
  link=$("$BIN" user create --email "load.staff@example.org" --role reader | tail -n 1)
  token=${link##*token=}
  cookie=$(curl -fsS -o /dev/null -D - "$BASE/console/set-password" \
    --data-urlencode "token=$token" \
    --data-urlencode "password=load test passphrase" \
    --data-urlencode "confirm=load test passphrase" |
    awk -F'[=;]' 'tolower($1) ~ /^set-cookie: pb_staff$/ {print $2; exit}')
  [ -n "$cookie" ] || { echo "dashboard: could not sign in" >&2; return 1; }
  curl -fsS -o /dev/null -H "Cookie: pb_staff=$cookie" "$BASE/console"
  run_p95() {
    local name=$1 c=$2
    local out
    out=$(wrk -t"$((c < THREADS ? c : THREADS))" -c"$c" -d"$DURATION" --latency -s scripts/load/p95.lua \
      -H "Cookie: pb_staff=$cookie" -H 'Accept: text/html' "$BASE/console")
    printf '%-28s %12s req/s   p50 %-9s p95 %-9s p99 %-9s %s\n' "$name" \
      "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
      "$(awk '$1=="50%" {print $2}' <<<"$out")" \
      "$(awk '/Latency p95/ {print $3}' <<<"$out")" \
      "$(awk '$1=="99%" {print $2}' <<<"$out")" \
      "$(awk '/Non-2xx/ {print "non-2xx/3xx: " $5}' <<<"$out")"
  }
  run_p95 "GET /console (c=1)" 1
  run_p95 "GET /console (c=4)" 4
  run_p95 "GET /console (c=$CONNECTIONS)" "$CONNECTIONS"
}
