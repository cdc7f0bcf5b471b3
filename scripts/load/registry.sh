# Registry scenarios for scripts/load.sh (sourced; uses its BASE, TOKEN, BIN and run).
#
#   scripts/load.sh registry
#
# Seeds REGISTRY_PEOPLE (default 10,000) listed, certified people with
# examples/seed_registry.rs (direct SQL; placeholder documents), then measures
# GET /registry.json (first page): answered from the in-memory cache while unchanged;
# with If-None-Match (304s); and while the registry changes continuously (a PATCH loop
# toggles one person's consent, so every few requests follow a change and rebuild the page).
ALL_SCENARIOS+=(registry)

scenario_registry() {
  local people=${REGISTRY_PEOPLE:-10000}
  cargo build --release --locked -q --example seed_registry
  target/release/examples/seed_registry "$people" | sed 's/^/  /'
  local url="$BASE/registry.json"
  curl -fsS "$url" >/dev/null
  run "registry.json cached" "$url"
  local etag
  etag=$(curl -fsS -D - -o /dev/null "$url" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
  run "registry.json 304" -H "If-None-Match: $etag" "$url"

  # A writer that changes the first page as fast as it can, during the next run: it
  # toggles the consent of the newest certified person (first by name too).
  local person
  person=$(api "$BASE/api/v1/credentials?achievement=partnership-certified&limit=1" | jq -r '.items[0].person_id')
  local changes=$WORK/changes
  : >"$changes"
  (
    while :; do
      for consent in '"listed_in_registry":false' '"listed_in_registry":true,"consent_source":"load test"'; do
        api -X PATCH "$BASE/api/v1/people/$person" -d "{$consent}" >/dev/null
        echo >>"$changes"
      done
    done
  ) &
  local writer=$!
  run "registry.json changing" "$url"
  kill "$writer" 2>/dev/null || true
  wait "$writer" 2>/dev/null || true
  echo "  changes during the run: $(wc -l <"$changes") (${DURATION} run)"
}
