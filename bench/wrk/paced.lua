-- Appended to get_chirp.lua for the low-rate reader of the login storm: each connection
-- pauses this long after every response (wrk's latency excludes the pause). Args[2]: ms.
local pause_ms = 10
local get_chirp_init = init
function init(args)
  get_chirp_init(args)
  pause_ms = tonumber(args[2]) or pause_ms
end

function delay()
  return pause_ms
end
