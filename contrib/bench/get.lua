-- get.lua - wrk script: GET one existing key (the URL's path), as fast as possible.
--
-- No request()/response() functions, so wrk sends one pre-built request and does
-- no Lua work per request. wrk counts HTTP status > 399 in summary.errors.status;
-- run.py checks before the run that the key answers 200.
-- done() prints one machine-readable line for run.py (latencies in microseconds).

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d non2xx=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout, e.status))
end
