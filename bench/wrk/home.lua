-- GET the URL's path (/api/timelines/home?limit=20) as a random one of the users, each
-- request with the access token of another. Args: the file of access tokens.
local tokens
function init(args)
  tokens = read_lines(args[1])
  seed_random()
end

function request()
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end
