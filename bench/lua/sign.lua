-- POST the sign form: a real CSRF cookie and token, a unique email per request.
-- A signature is a 302 to the "check your mail" page (wrk counts 4xx/5xx as errors).
-- A surge comes from many people: each request has its own client address (behind
-- the one trusted proxy the bench configures) and one of 1,000 mail domains, so
-- the per-client and per-domain limits apply as they would, without refusing the load.
local n = 0
local token = os.getenv("BENCH_CSRF_TOKEN")
local run = os.getenv("BENCH_RUN")

request = function()
  n = n + 1
  local headers = form_headers()
  headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", id % 256, math.floor(n / 256) % 256, n % 256)
  local body = "csrfmiddlewaretoken=" .. urlencode(token)
    .. "&full_name=" .. urlencode(string.format("Signer %d %d", id, n))
    .. "&email=" .. urlencode(string.format("s%s-%d-%d@m%d.example.org", run, id, n, n % 1000))
    .. "&visibility=show"
  return wrk.format("POST", nil, headers, body)
end
