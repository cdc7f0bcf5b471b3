# Issuance scenario for scripts/load.sh (sourced; uses its BASE, TOKEN, BIN, WORK and run).
#
#   scripts/load.sh issue
#   ISSUE_PEOPLE=60000 DURATION=20s scripts/load.sh issue
#
# Seeds ISSUE_PEOPLE (default 40,000) people, each with one closing, through the import
# command (the API's own validation), then issues a Partnership Closed for each over HTTP
# (POST /api/v1/credentials with an Idempotency-Key each), as fast as wrk can. Reports
# issuances/s, p50/p99 and counts 201s, retries and failures; then checks durability: the
# database, read back by a separate client after the run, must hold a credential for every
# 201 (and at most the requests still in flight when wrk stopped besides). With SQLITE_SYNCHRONOUS=full (the default) each 201 is
# acknowledged only after its commit reached the disk.
ALL_SCENARIOS+=(issue)

scenario_issue() {
  local people=${ISSUE_PEOPLE:-40000}
  local seed=$WORK/issue-seed
  mkdir -p "$seed"
  awk -v n="$people" 'BEGIN {
    print "name,email,city,country,url,listed_in_registry"
    for (i = 1; i <= n; i++) printf "Load Person %d,load%d@example.org,Lyon,France,,true\n", i, i
  }' >"$seed/people.csv"
  awk -v n="$people" 'BEGIN {
    print "closer_email,mentor_email,mentor_cc_at,partner_name,closed_on,summary"
    for (i = 1; i <= n; i++)
      printf "load%d@example.org,maya@example.org,2026-10-01T09:30:00Z,Partner %d,2026-10-02,Closed with a shared plan.\n", i, i
  }' >"$seed/closings.csv"
  local t0=$SECONDS
  "$BIN" import people "$seed/people.csv" >/dev/null
  "$BIN" import closings "$seed/closings.csv" >/dev/null
  echo "  seeded $people people and closings in $((SECONDS - t0)) s"

  local sql="select closer_id || ' ' || id from closings where partner_name like 'Partner %'"
  case $DATABASE_URL in
    sqlite:*) python3 -c 'import sqlite3, sys
for (row,) in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print(row)' \
      "${DATABASE_URL#sqlite://}" "$sql" >"$seed/pairs" ;;
    *) psql -qtA "$DATABASE_URL" -c "$sql" >"$seed/pairs" ;;
  esac
  export ISSUE_PAIRS=$seed/pairs THREADS

  local before out
  before=$(count_credentials)
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s scripts/load/issue-post.lua "$BASE/api/v1/credentials")
  local rps p50 p99 counts created
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  counts=$(grep '^created ' <<<"$out")
  created=$(awk '{print $2}' <<<"$counts")
  printf '%-28s %12s req/s   p50 %-9s p99 %-9s %s\n' "POST /api/v1/credentials" "$rps" "$p50" "$p99" "$counts"
  # wrk stops with up to CONNECTIONS requests in flight: those may be stored without their
  # 201 having been read. Anything beyond that, or fewer rows than 201s, is a lost badge.
  local stored=$(( $(count_credentials) - before ))
  if [ "$stored" -ge "$created" ] && [ "$stored" -le $(( created + CONNECTIONS )) ]; then
    echo "  durable: $stored new credentials stored for $created answered 201 (+ <= $CONNECTIONS in flight at the stop)"
  else
    echo "  MISMATCH: $stored new credentials stored, $created answered 201" >&2
    return 1
  fi
}

count_credentials() {
  case $DATABASE_URL in
    sqlite:*) python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from credentials").fetchone()[0])' \
      "${DATABASE_URL#sqlite://}" ;;
    *) psql -qtA "$DATABASE_URL" -c "select count(*) from credentials" ;;
  esac
}
