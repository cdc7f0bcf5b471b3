-- wrk script: prints the 95th percentile latency beside wrk's own 50/75/90/99 lines
-- (`Latency p95 12.34ms`), for scenarios whose target is a p95.
function done(summary, latency, requests)
  io.write(string.format("Latency p95 %.2fms\n", latency:percentile(95) / 1000))
end
