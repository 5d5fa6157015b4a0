-- Appended to a script whose answers are not all 2xx (wrk counts only 4xx and 5xx as
-- errors): counts every status, for common.lua's report. A response callback makes wrk
-- parse each response's headers, so only the scripts that need it carry this.
statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
