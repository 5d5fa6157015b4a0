-- PUT or DELETE /api/chirps/{id}/like, at random, as a random one of the users: a storm of
-- likes and unlikes on one chirp. Args: the file of access tokens, the chirp's id.
local tokens, path
function init(args)
  tokens = read_lines(args[1])
  path = "/api/chirps/" .. args[2] .. "/like"
  seed_random()
end

function request()
  local method = math.random(2) == 1 and "PUT" or "DELETE"
  return wrk.format(method, path, { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] })
end
