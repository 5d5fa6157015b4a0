-- GET /api/chirps/{id} for every id in turn, to fill the chirp cache: thread k of n asks for
-- ids k, k + n, k + 2n, ... and starts over at the end. Args: the file of ids, the number
-- of threads.
local ids
local step
local next_index
function init(args)
  ids = read_lines(args[1])
  step = tonumber(args[2])
  next_index = thread_no or 1
end

function request()
  local id = ids[(next_index - 1) % #ids + 1]
  next_index = next_index + step
  return wrk.format("GET", "/api/chirps/" .. id)
end
