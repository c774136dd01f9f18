-- getn.lua - wrk script: GET one of N preloaded keys at random per request.
--
-- Keys: <prefix><index>, index 0 .. n-1 formatted with "%07d" (the sweep's
-- loader names them so). Arguments (after `--`): prefix, n. Every response
-- whose status is not 2xx is counted (non2xx); done() prints the one
-- machine-readable "BENCH ..." line run.py reads (latencies in microseconds).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   prefix = args[1] or "/v2/keys/bench/sweep/k"
   n = tonumber(args[2] or "1")
   math.randomseed(id * 7919 + os.time())
   non2xx = 0
end

function request()
   return wrk.format("GET", prefix .. string.format("%07d", math.random(0, n - 1)))
end

function response(status, headers, rbody)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local bad = 0
   for _, t in ipairs(threads) do
      bad = bad + (t:get("non2xx") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d non2xx=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout, bad))
end
