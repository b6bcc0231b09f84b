-- wrk script for bench/run.py: one logged-in request, repeated; prints JSON at the end.
-- Environment: BENCH_COOKIE (the browser's cookies), BENCH_METHOD (GET or POST),
-- BENCH_BODY (form body for a POST, with its csrf_token), BENCH_HTMX (1: an htmx request).
local cookie = os.getenv("BENCH_COOKIE") or ""
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")

wrk.method = method
if cookie ~= "" then wrk.headers["Cookie"] = cookie end
if os.getenv("BENCH_HTMX") == "1" then wrk.headers["HX-Request"] = "true" end
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

statuses = {}  -- global: done() collects it from each thread
local counters = {}

function setup(thread)
  table.insert(counters, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  -- statuses live in the threads: gather them
  local seen = {}
  for _, thread in ipairs(counters) do
    local t = thread:get("statuses")
    if t then
      for code, n in pairs(t) do seen[tostring(code)] = (seen[tostring(code)] or 0) + n end
    end
  end
  local parts = {}
  for code, n in pairs(seen) do table.insert(parts, string.format('"%s": %d', code, n)) end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p95_ms": %.3f, ' ..
    '"p99_ms": %.3f, "mean_ms": %.3f, "max_ms": %.3f, "socket_errors": %d, "non_2xx_3xx": %d, ' ..
    '"statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, table.concat(parts, ", ")))
end
