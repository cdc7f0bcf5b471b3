# Badge pages (sourced by scripts/load.sh): the HTML page a browser gets at the badge URL,
# and the baked PNG (the achievement artwork is rendered once; each request bakes).
ALL_SCENARIOS+=(badge-html badge-png)

BROWSER_ACCEPT='text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

scenario_badge-html() {
  run "GET /credentials/{id} HTML" -H "Accept: $BROWSER_ACCEPT" "$BASE/credentials/$CREDENTIAL"
}
scenario_badge-png() { run "GET /credentials/{id}/badge.png" "$BASE/credentials/$CREDENTIAL/badge.png"; }
