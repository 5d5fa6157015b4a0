-- PUT /api/chirps/{id}/like as every user in turn, each wrk thread taking every n-th token,
-- then round again (a like that is already there is 204 too): a burst of one like per user on
-- one chirp. Args: the file of access tokens, the chirp's id, wrk's thread count.
local tokens, path, stride
local sent = 0
function init(args)
  tokens = read_lines(args[1])
  path = "/api/chirps/" .. args[2] .. "/like"
  stride = tonumber(args[3])
end

function request()
  local i = (sent * stride + (thread_no or 1) - 1) % #tokens + 1
  sent = sent + 1
  return wrk.format("PUT", path, { ["Authorization"] = "Bearer " .. tokens[i] })
end
