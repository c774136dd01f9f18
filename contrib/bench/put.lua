-- put.lua - wrk script: PUT value=<v> (form body) to distinct keys.
--
-- Keys: <prefix>/<thread id>-<counter>, so no two requests of a run share a key.
-- Arguments (after `--`): prefix (default /v2/keys/bench/put), value length in bytes
-- (default 32). Every response whose status is not 2xx is counted (non2xx) and
-- reported by done() in the machine-readable line read by run.py.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   prefix = args[1] or "/v2/keys/bench/put"
   local vlen = tonumber(args[2] or "32")
   body = "value=" .. string.rep("v", vlen)
   hdrs = { ["Content-Type"] = "application/x-www-form-urlencoded" }
   counter = 0
   non2xx = 0
end

function request()
   counter = counter + 1
   return wrk.format("PUT", prefix .. "/" .. id .. "-" .. counter, hdrs, body)
end

function response(status, headers, rbody)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local n = 0
   for _, t in ipairs(threads) do
      n = n + (t:get("non2xx") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "connect=%d read=%d write=%d status=%d timeout=%d non2xx=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout, n))
end
