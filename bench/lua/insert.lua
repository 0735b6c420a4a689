-- POST the bare one-row insert view, with the same CSRF cookie and token as the sign form.
local n = 0
local token = os.getenv("BENCH_CSRF_TOKEN")
local run = os.getenv("BENCH_RUN")

request = function()
  n = n + 1
  local body = "csrfmiddlewaretoken=" .. urlencode(token)
    .. "&email=" .. urlencode(string.format("i%s-%d-%d@example.org", run, id, n))
  return wrk.format("POST", nil, form_headers(), body)
end
