-- POST /api/chirps as a random one of the logged-in users. Args: the file of access tokens.
local tokens
local sent = 0
function init(args)
  tokens = read_lines(args[1])
  seed_random()
end

function request()
  sent = sent + 1
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Content-Type"] = "application/json",
  }
  local body = string.format('{"body": "Benchmark chirp %d-%d: hello from wrk, what a nice day"}', thread_no or 0, sent)
  return wrk.format("POST", "/api/chirps", headers, body)
end
