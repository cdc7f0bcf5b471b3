-- wrk script: POST the file named by $VERIFY_BODY to the target URL as credential JSON.
-- Used by scripts/load/verify.sh (scenario "verify").
local f = assert(io.open(os.getenv("VERIFY_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
