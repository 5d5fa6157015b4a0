-- GET /api/chirps/{id} with If-None-Match: the chirp's current ETag, so every answer should
-- be 304 with no body. Args: a file of `<id> <etag>` lines.
local tagged
function init(args)
  tagged = {}
  for _, line in ipairs(read_lines(args[1])) do
    local id, etag = line:match("^(%S+) (%S+)$")
    assert(id, "not `<id> <etag>`: " .. line)
    tagged[#tagged + 1] = { id, etag }
  end
  seed_random()
end

function request()
  local pick = tagged[math.random(#tagged)]
  return wrk.format("GET", "/api/chirps/" .. pick[1], { ["If-None-Match"] = pick[2] })
end
