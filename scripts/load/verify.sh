# Scenarios for POST /verify and the Open Badges 2.0 hosted documents, sourced by
# scripts/load.sh (which starts the service and seeds $CREDENTIAL).
ALL_SCENARIOS+=(verify ob2-assertion)

# POST /verify of one of our credentials (JSON body): parse, fast-path canonicalisation,
# Ed25519, status lookup in the database. Target: >= 2,000 req/s on 2 cores.
scenario_verify() {
  curl -fsS "$BASE/credentials/$CREDENTIAL" -H 'Accept: application/json' >"$WORK/verify-body.json"
  export VERIFY_BODY="$WORK/verify-body.json"
  run "POST /verify (JSON)" -s scripts/load/verify-post.lua "$BASE/verify"
}

# GET /ob2/assertions/{id}: the hosted OB 2.0 assertion.
scenario_ob2-assertion() { run "GET /ob2/assertions/{id}" "$BASE/ob2/assertions/$CREDENTIAL"; }
