-- GET /api/chirps/{id} with a random existing id per request. Args: the file of ids.
local ids
function init(args)
  ids = read_lines(args[1])
  seed_random()
end

function request()
  return wrk.format("GET", "/api/chirps/" .. ids[math.random(#ids)])
end
