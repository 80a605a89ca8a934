--- The one waiter: poll with backoff, a timeout and an optional progress callback.
-- c:wait(target, opts)
--   target: a function() -> done, progress, err  (generic), or a table (or bare id) one of the
--           catalog's waiters matches (a result carrying a job/request id, { server_id = }).
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
  elseif client.hooks.wait_check then -- a provider whose waiting is more than data
    check = function() return client.hooks.wait_check(client, target, opts) end
  elseif client.catalog.waiters then
    check = function() return M.check(client, target, opts) end
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

-- ------------------------------------------------------------------------------------------
-- Waiters as data. A catalog's `waiters` table names, per kind of object, what to poll and how to
-- read the answer (docs/DESIGN.md "Waiters"); M.check interprets one. Keys of a waiter:
--   match     target paths naming the object; the first present is the waiter's id ($id)
--   when      { target path = value } the target must also carry (a waiter with it is tried first)
--   scalar    true: a bare number/string target is this waiter's id
--   op        the operation polled; params { param = source | { sources } } or a list of such sets
--             (the first set that yields a value); a source is a target path, "$id",
--             "@opts.x" or "@catalog.x"
--   object    path of the polled object in the answer; or find = { list =, key = } (the list item
--             whose key equals $id)
--   gone      true: done once the object is missing (a target's deleted = true asks the same)
--   state, percent  paths in the object; labels = { done =, waiting = } when it has no state
--   done      { path = test } all must hold (a "*" step: for some item of a list); absent = { paths }
--             must be missing too
--   failed    { path = test } any holding ends the wait with an api error (code: the state);
--             failure = { message = fmt(id, state), text = path, id = path }
--   progress  { op, params, percent }: a second call for the percent while not done
-- A test is a string (equal as text; "^..." a Lua pattern), a list of strings, true (present), or
-- { target = key, option =, default =, is = } (expected value from the target: see matches).

local function ref(client, src)
  local scope, key = src:match("^@(%a+)%.(.+)$")
  if scope == "opts" then return client.opts[key] end
  if scope == "catalog" then return M.get(client.catalog, key) end
end

--- Value at a dotted path ("a.b.1", "#" = the last item of a list, or the table itself).
function M.get(t, path)
  if path == nil or path == "" then return t end
  for seg in path:gmatch("[^.]+") do
    if type(t) ~= "table" then return nil end
    if seg == "#" then t = t[#t] or t else t = t[tonumber(seg) or seg] end
  end
  return t
end

local function source(client, target, id, src)
  if type(src) == "table" then
    for _, s in ipairs(src) do
      local v = source(client, target, id, s)
      if v ~= nil then return v end
    end
    return nil
  end
  if src == "$id" then return id end
  if src:sub(1, 1) == "@" then return ref(client, src) end
  return M.get(target, src)
end

-- the params an op's own parameter types expect (a request id read as text, a number sent as text)
local function coerce(client, op, params)
  local entry = client.catalog.operations[op]
  for _, p in ipairs(entry and entry.params or {}) do
    local v = params[p.name]
    if p.type == "integer" and type(v) == "string" and tonumber(v) then params[p.name] = math.tointeger(tonumber(v)) or tonumber(v)
    elseif p.type == "string" and type(v) == "number" then params[p.name] = tostring(v) end
  end
  return params
end

local function params_of(client, w, target, id, sets)
  sets = sets or w.params or {}
  if sets[1] == nil then sets = { sets } end
  for _, set in ipairs(sets) do
    local p, any = {}, false
    for k, src in pairs(set) do
      local v = source(client, target, id, src)
      if v ~= nil then p[k], any = v, true end
    end
    if any or next(set) == nil then return coerce(client, w.op, p) end
  end
  return {}
end

-- does `v` pass `test`? nil: the test does not apply (a target without the key it reads)
local function matches(client, target, opts, v, test)
  if test == true then return v ~= nil end
  if type(test) == "string" then
    if test:sub(1, 1) == "^" then return type(v) == "string" and v:match(test) ~= nil end
    return v ~= nil and tostring(v) == test
  end
  if test[1] ~= nil then
    for _, t in ipairs(test) do if matches(client, target, opts, v, t) then return true end end
    return false
  end
  local want = target[test.target]
  if want == nil and test.option then want = opts and opts[test.option] end
  if want == nil and test.default then want = ref(client, test.default) or test.default end
  if want == nil then return nil end
  if test.is ~= nil then return (tostring(v) == test.is) == want end -- a flag: true = v is `is`
  return v ~= nil and tostring(v) == tostring(want)
end

-- does pred hold for the value at `path`? A "*" step: for any item of the list there
local function any(t, path, pred)
  local head, rest = path:match("^(.-)%.?%*%.?(.*)$")
  if not head then return pred(M.get(t, path)) end
  local list = M.get(t, head)
  if type(list) ~= "table" then return pred(nil) end
  for _, it in ipairs(list[1] ~= nil and list or { list }) do
    if any(it, rest, pred) then return true end
  end
  return false
end

local function all_hold(client, target, opts, obj, tests)
  for path, test in pairs(tests or {}) do
    if not any(obj, path, function(v) return matches(client, target, opts, v, test) ~= false end) then return false end
  end
  return true
end

local function failure(client, w, target, obj, id, state)
  for path, test in pairs(w.failed or {}) do
    if matches(client, target, nil, M.get(obj, path), test) then
      local f = w.failure or {}
      local text = f.text and M.get(obj, f.text)
      local who = f.id and M.get(obj, f.id) or id
      local msg = string.format(f.message or "%s is %s", tostring(who), tostring(state))
      if text ~= nil and text ~= "" then msg = msg .. ": " .. tostring(text) end
      return client:error { kind = "api", op = "wait", code = state, message = msg, details = obj }
    end
  end
end

-- the waiter for `target` and its id: an explicit target.waiter, else the first whose match holds
local function pick(waiters, target)
  if target.waiter then return waiters[target.waiter], target.waiter end
  local names = {}
  for name in pairs(waiters) do names[#names + 1] = name end
  table.sort(names, function(a, b)
    local wa, wb = waiters[a].when ~= nil, waiters[b].when ~= nil
    if wa ~= wb then return wa end
    return a < b
  end)
  for _, name in ipairs(names) do
    local w = waiters[name]
    if all_hold(nil, {}, nil, target, w.when) then
      for _, path in ipairs(w.match or {}) do
        if M.get(target, path) ~= nil then return w, name end
      end
    end
  end
end

local function find(obj, w, id)
  if w.find then
    for _, it in ipairs(M.get(obj, w.find.list) or {}) do
      if type(it) == "table" and it[w.find.key] == id then return it end
    end
    return nil
  end
  obj = M.get(obj, w.object)
  return type(obj) == "table" and obj or nil
end

local function id_of(w, target)
  for _, path in ipairs(w.match or {}) do
    local v = M.get(target, path)
    if v ~= nil then return v end
  end
end

--- One poll of the catalog waiter for `target`: done (the object, or true), percent, err, state.
function M.check(client, target, opts)
  local waiters = client.catalog.waiters or {}
  if type(target) == "number" or type(target) == "string" then
    for _, w in pairs(waiters) do
      if w.scalar then target = { [w.match[1]] = target } break end
    end
  end
  local w = type(target) == "table" and pick(waiters, target)
  if not w then
    return nil, nil, client:error { kind = "validation", op = "wait",
      message = "nothing to wait for: the target names no object this provider can wait for" }
  end
  local id = id_of(w, target)
  if id == nil then
    return nil, nil, client:error { kind = "validation", op = "wait",
      message = "nothing to wait for: no " .. table.concat(w.match, " or ") .. " in the target" }
  end
  local res, err = client:call(w.op, params_of(client, w, target, id))
  if not res then return nil, nil, err end
  local obj = find(res, w, id)
  local gone = w.gone or target.deleted
  if obj == nil then
    if gone then return true, 100 end
    return false, nil
  end
  local pct = w.percent and tonumber(M.get(obj, w.percent))
  if gone then return false, pct end
  local state = w.state and M.get(obj, w.state)
  local ferr = failure(client, w, target, obj, id, state)
  if ferr then return nil, pct, ferr end
  local done = all_hold(client, target, opts, obj, w.done)
  for _, path in ipairs(w.absent or {}) do done = done and M.get(obj, path) == nil end
  local labels = w.labels or {}
  state = state or (done and labels.done or labels.waiting)
  if done then return obj, 100, nil, state end
  local pr = w.progress
  if pr and all_hold(nil, {}, nil, target, pr.when) then
    local p = client:call(pr.op, params_of(client, pr, target, id, pr.params))
    if type(p) == "table" then pct = tonumber(M.get(p, pr.percent)) end
  end
  return false, pct, nil, state
end

return M
