-- Calendar arithmetic shared by the simulators (Lua 5.1-compatible): dates
-- are computed without os.time, whose results depend on the local time zone.
local M = {}

--- Days since 1970-01-01 of a civil date (proleptic Gregorian).
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

return M
