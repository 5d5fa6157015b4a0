-- Appended to a script whose init takes its data file as args[1] (get_chirp.lua for the
-- low-rate reader of the login storm, post_chirp.lua for the celebrity's steady posts): each
-- connection pauses this long after every response (wrk's latency excludes the pause).
-- Args[2]: ms.
local pause_ms = 10
local script_init = init
function init(args)
  script_init(args)
  pause_ms = tonumber(args[2]) or pause_ms
end

function delay()
  return pause_ms
end
