-- POST /api/login as a random seeded user with the right password, so no failure is
-- counted by the brute-force throttle. Args: the file of emails, the password.
local emails
local password
function init(args)
  emails = read_lines(args[1])
  password = args[2]
  seed_random()
end

function request()
  local body = string.format('{"email": "%s", "password": "%s"}', emails[math.random(#emails)], password)
  return wrk.format("POST", "/api/login", { ["Content-Type"] = "application/json" }, body)
end
