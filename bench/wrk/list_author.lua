-- GET /api/chirps?author_id=<random author>&sort=desc. Args: the file of author ids.
local authors
function init(args)
  authors = read_lines(args[1])
  seed_random()
end

function request()
  return wrk.format("GET", "/api/chirps?author_id=" .. authors[math.random(#authors)] .. "&sort=desc")
end
