--- The one waiter: poll with backoff, a timeout and an optional progress callback.
-- c:wait(target, opts)
--   target: a function() -> done, progress, err  (generic), or anything the
--           provider's wait_check hook understands (a result carrying a job/request id).
--   opts: timeout (s, default 600), interval (first delay, default 1), max_interval
--         (default 15), backoff (factor, default 1.5), progress = function(pct, info).
-- Returns the final value of the check (or true) | nil, err (kind "timeout" when time runs out).
-- @module luacloud.wait
local M = {}

--- Poll `target` until done, failed or out of time (c:wait calls this).
-- option -> smallest value allowed (interval 0: poll again at once)
local NUMBERS = { timeout = 1e-9, interval = 0, max_interval = 0, backoff = 1e-9 }

function M.wait(client, target, opts)
  opts = opts or {}
  for k, least in pairs(NUMBERS) do
    local v = opts[k]
    if v ~= nil and not (type(v) == "number" and v >= least and v < math.huge) then
      return nil, client:error { kind = "validation", op = "wait", param = k,
        message = string.format("c:wait option '%s' must be a number >= %g, got %s", k, least, tostring(v)) }
    end
  end
  local timeout = opts.timeout or 600
  local delay = opts.interval or 1
  local max_delay = opts.max_interval or 15
  local factor = opts.backoff or 1.5
  local clock, sleep = client.clock, client.sleep
  local check
  if type(target) == "function" then
    check = target
  elseif client.hooks.wait_check then
    check = function() return client.hooks.wait_check(client, target, opts) end
  else
    return nil, client:error { kind = "validation", op = "wait", message = "this provider has nothing to wait for" }
  end
  local deadline = clock() + timeout
  local polls = 0
  while true do
    polls = polls + 1
    local done, progress, err = check()
    if err then return nil, err end
    if opts.progress then pcall(opts.progress, progress, { polls = polls, done = done and true or false }) end
    if done then return done end
    local now = clock()
    if now >= deadline then
      return nil, client:error { kind = "timeout", op = "wait", retryable = true,
        message = string.format("still not done after %gs (%d polls, last progress %s)", timeout, polls, tostring(progress)) }
    end
    sleep(math.min(delay, deadline - now))
    delay = math.min(delay * factor, max_delay)
  end
end

return M
