-- GET the URL given to wrk, each request from its own client address (behind the
-- one trusted proxy the bench configures): many readers, as in a surge, so that
-- a per-address limit (RATE_LIMIT_API) applies as it would without refusing the load.
local n = 0

request = function()
  n = n + 1
  local headers = {}
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", 128 + id % 128, math.floor(n / 256) % 256, n % 256)
  return wrk.format("GET", nil, headers)
end
