-- wrk script: replay "METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY" lines from $WRK_REQUESTS with a bearer
-- token each; thread i of n takes lines i, i+n, i+2n, ... round robin. Counts statuses.
local lines = {}
local file = os.getenv("WRK_REQUESTS")
for line in io.lines(file) do
  local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
  table.insert(lines, {method = method, path = path, token = token, body = body})
end

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
  for _, t in ipairs(threads) do t:set("nthreads_total", #threads) end
end

function init(args)
  statuses = {}
end

function request()
  local idx = tid + counter * nthreads_total
  counter = counter + 1
  local r = lines[(idx % #lines) + 1]
  local headers = {["Authorization"] = "Bearer " .. r.token}
  local body = nil
  if r.body ~= nil and r.body ~= "" then
    headers["Content-Type"] = "application/json"
    body = r.body
  end
  return wrk.format(r.method, r.path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do codes[code] = (codes[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, code .. "=" .. n) end
  io.write(string.format("WRK requests=%d seconds=%.2f rps=%.1f p50=%.2f p95=%.2f p99=%.2f " ..
    "errors=%d statuses=%s\n", summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status +
    summary.errors.timeout, table.concat(parts, ",")))
end
