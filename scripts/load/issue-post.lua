-- wrk script: POST /api/v1/credentials, a Partnership Closed for each seeded (person, closing)
-- pair in $ISSUE_PAIRS, each under its own Idempotency-Key. Threads take interleaved pairs,
-- so no two requests carry the same key until the file is exhausted (then retries are
-- answered 200 with the first credential, and counted apart).
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("THREADS") or "2")
  token = os.getenv("TOKEN")
  pairs_list = {}
  for line in io.lines(os.getenv("ISSUE_PAIRS")) do
    pairs_list[#pairs_list + 1] = line
  end
  counter = tid
  created, replayed, failed = 0, 0, 0
end

function request()
  local line = pairs_list[counter % #pairs_list + 1]
  counter = counter + nthreads
  local person, closing = line:match("(%S+)%s+(%S+)")
  local body = '{"achievement":"partnership-closed","person_id":"' .. person ..
    '","closing_id":"' .. closing .. '"}'
  return wrk.format("POST", "/api/v1/credentials", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = "load-" .. closing,
  }, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 200 then
    replayed = replayed + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local c, r, f = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    r = r + t:get("replayed")
    f = f + t:get("failed")
  end
  io.write(string.format("created %d replayed %d failed %d\n", c, r, f))
end
