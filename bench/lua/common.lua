-- Shared by every benchmark script (bench/harness.py prepends it).
-- Each wrk thread gets an id, and done() prints one JSON line for the driver.

-- wrk runs each thread's init() right after its setup(), before the next thread
-- exists, so the thread count comes from the driver (BENCH_THREADS), not from here.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  thread:set("nthreads", tonumber(os.getenv("BENCH_THREADS")))
  next_id = next_id + 1
  table.insert(threads, thread)
end

function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function form_headers()
  return {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. os.getenv("BENCH_CSRF_COOKIE"),
  }
end

-- Count answers by status, so errors can be told apart (CSRF 403, lock 503, ...).
statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  local merged = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do merged[code] = (merged[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%d": %d', code, n)) end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
    .. '"statuses": {' .. table.concat(parts, ", ") .. '}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
