--- The one error type of luacloud.
-- Every failure is returned as `nil, err` where err is a table made here:
-- { provider, op, status, code, message, retryable, kind, details, retry_after, applied, gave_up }.
-- applied ("no"|"maybe"|"yes": may the request have been applied?) and retryable are set by
-- luacloud.retry after each failed attempt; gave_up = "deadline" when a wait would pass the deadline.
-- @module luacloud.error
local M = {}

local Error = {}
Error.__index = Error
Error.__name = "luacloud.error"

function Error:__tostring()
  local parts = { "luacloud" }
  if self.provider then parts[#parts + 1] = self.provider end
  if self.op then parts[#parts + 1] = self.op end
  local head = table.concat(parts, " ")
  local what = {}
  if self.status then what[#what + 1] = "HTTP " .. tostring(self.status) end
  if self.code ~= nil and self.code ~= self.status then what[#what + 1] = "code " .. tostring(self.code) end
  local s = head .. ": " .. (self.kind or "error")
  if #what > 0 then s = s .. " (" .. table.concat(what, ", ") .. ")" end
  s = s .. ": " .. tostring(self.message or "unknown error")
  if self.retry_after then s = s .. string.format(" [retry after %ds]", math.ceil(self.retry_after)) end
  if self.retryable then s = s .. " [retryable]" end
  return s
end

--- Build an error. `fields.message` is required; kind defaults to "api".
function M.new(fields)
  local e = {}
  for k, v in pairs(fields) do e[k] = v end
  e.kind = e.kind or "api"
  e.message = e.message or "unknown error"
  e.retryable = e.retryable and true or false
  return setmetatable(e, Error)
end

function M.is(v)
  return getmetatable(v) == Error
end

--- Raise an error object (for the rare APIs that raise, e.g. luacloud.new misuse).
function M.raise(fields)
  error(M.new(fields), 2)
end

return M
