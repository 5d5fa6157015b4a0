-- Prepended by bench/loadgen.py to every wrk script of `just bench`: reading a data file,
-- a per-thread random seed, and the report, one JSON line that loadgen.py parses. A script
-- that counts its statuses (statuses.lua) adds them to that line.

local thread_count = 0
local threads = {}
function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_no", thread_count)
  threads[thread_count] = thread
end

function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  assert(#lines > 0, "no lines in " .. path)
  return lines
end

function seed_random()
  math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
  for _ = 1, 10 do math.random() end
end

-- `"statuses": {"304": n, ...}, ` summed over the threads, or "" if none counted them.
local function statuses_json()
  local sums = {}
  local counted = false
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    if type(counts) == "table" then
      counted = true
      for status, n in pairs(counts) do
        sums[status] = (sums[status] or 0) + n
      end
    end
  end
  if not counted then return "" end
  local parts = {}
  for status, n in pairs(sums) do
    parts[#parts + 1] = string.format('"%d": %d', status, n)
  end
  return '"statuses": {' .. table.concat(parts, ", ") .. '}, '
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "non_2xx_3xx": %d, %s' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, statuses_json(), latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
