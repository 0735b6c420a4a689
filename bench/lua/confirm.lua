-- POST /confirm/<token>/ once per token; the tokens are read from the queued
-- confirmation mails (bench/tasks.py tokens) and split between wrk threads.
-- A used or unknown token answers 400, which wrk counts as an error.
local token = os.getenv("BENCH_CSRF_TOKEN")
local mine = {}
local n = 0

init = function(args)
  local i = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if i % nthreads == id then table.insert(mine, line) end
    i = i + 1
  end
end

request = function()
  n = n + 1
  local raw = mine[n] or ("exhausted-" .. id .. "-" .. n)
  return wrk.format("POST", "/confirm/" .. raw .. "/", form_headers(),
    "csrfmiddlewaretoken=" .. urlencode(token))
end
