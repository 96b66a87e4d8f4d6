-- wrk script for bench/load.py: replays pre-signed Twilio webhooks, each MessageSid once.
-- The request file holds one "signature<TAB>form body" per line; thread i of n takes lines
-- i, i+n, i+2n, ... so no two requests share a MessageSid. Prints one JSON line at the end.

local requests_file = os.getenv("BENCH_REQUESTS")
local path = os.getenv("BENCH_PATH") or "/webhooks/twilio/sms"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  local lines = {}
  local i = 0
  for line in io.lines(requests_file) do
    if i % n == id then
      local tab = line:find("\t", 1, true)
      lines[#lines + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
    end
    i = i + 1
  end
  mine = lines
  next_index = 1
  ok = 0
  other = 0
  exhausted = 0
end

function request()
  local item = mine[next_index]
  if item == nil then
    exhausted = exhausted + 1
    item = mine[#mine] -- out of unique requests: repeats the last (a retry, stored once)
  else
    next_index = next_index + 1
  end
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = item[1],
  }, item[2])
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local ok_total, other_total, exhausted_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    other_total = other_total + thread:get("other")
    exhausted_total = exhausted_total + thread:get("exhausted")
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "ok": %d, "not_ok": %d, "errors": %d, "timeouts": %d, ' ..
    '"exhausted": %d, "p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, ok_total, other_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status,
    summary.errors.timeout, exhausted_total,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
