--- Waiting for the object an asynchronous operation just acted on.
-- The catalogs mark asynchronous operations (`entry.async`, naming one of the
-- catalog's `waiters`); luacloud.wait polls one target by that data. This module turns an
-- operation, its params and its answer into that target, so a caller (the CLI's
-- `--wait`, or a script) need not know each API's job/request/server ids:
--
--     local waitfor = require "luacloud.waitfor"
--     local before = waitfor.before(c, "deploy_server", params)   -- only some ops need it
--     local res = c:deploy_server(params)
--     local final, err = waitfor.wait(c, "deploy_server", params, res, { before = before, timeout = 900 })
--
-- The object waited for is always the one this call created or changed: an id
-- from the answer, a path parameter, or (Dimension Data's Deploy Server answers
-- without an id) the object of that name that did not exist before the call.
-- @module luacloud.waitfor
local wait = require "luacloud.wait"

local M = {}

local function first_item(list)
  return type(list) == "table" and list[1] or nil
end

-- ------------------------------------------------------------------------------------------
-- Dimension Data

local function dd_server_ids(c, params)
  local q = { name = params.name }
  local net = type(params.vlanResourcePath) == "string" and params.vlanResourcePath:match("/network/([^/]+)/?$")
  if net then q.networkId = net end
  local res, err = c:call("list_servers_with_backup", q)
  if not res then return nil, err end
  local ids = {}
  -- value: still deploying (a caller that did not look before the call can only tell it so)
  for _, s in ipairs(res.server or {}) do if s.id then ids[s.id] = s.isDeployed ~= "true" end end
  return ids
end

local function dd_hook(c, target)
  return function() return wait.check(c, target) end
end

-- poll a lookup until it stops finding the object (a clean or delete that ends with the object gone)
local function until_gone(lookup)
  return function()
    local found, err = lookup()
    if err then
      if err.status == 404 or tostring(err.message):lower():find("not found", 1, true)
          or tostring(err.message):lower():find("could not find", 1, true) then
        return true, 100
      end
      return nil, nil, err
    end
    return not found, found and nil or 100, nil, found and "present" or "gone"
  end
end

local function dd_info(res, name)
  return type(res) == "table" and type(res.info) == "table" and res.info[name] or nil
end

local DD = {}

function DD.server(c, id, params, res, before)
  if id == "deploy_server" then
    local sid = res.id or dd_info(res, "serverId")
    local target = { server_id = sid }
    return function()
      if not target.server_id then -- the one server of this name that was not there before the call
        local ids, err = dd_server_ids(c, params)
        if not ids then return nil, nil, err end
        for k, deploying in pairs(ids) do
          if (before and before[k] == nil) or (not before and deploying) then target.server_id = k end
        end
        if not target.server_id then return false, nil, nil, "not listed yet" end
      end
      return wait.check(c, target)
    end
  end
end

function DD.image(c, id, params, res)
  if id == "clean_failed_customer_image" then
    return until_gone(function()
      local img, err = c:call("get_server_image", { image_id = params.image_id })
      if not img then return nil, err end
      return img
    end)
  end
  -- Clone: image names are unique per data center, so the name finds the image just made
  local target = { image_id = res.id }
  return function()
    if not target.image_id then
      local list, err = c:call("list_customer_server_images", {})
      if not list then return nil, nil, err end
      for _, img in ipairs(list.ServerImage or {}) do
        if img.name == params.clone and img.sourceServerId == params.server_id or
           (img.name == params.clone and not img.sourceServerId) then target.image_id = img.id end
      end
      if not target.image_id then return false, nil, nil, "not listed yet" end
    end
    return wait.check(c, target)
  end
end

function DD.image_copy(c, _, _, res)
  local copy = first_item(res.imageCopy) or res
  local tid = type(copy.targetImage) == "table" and copy.targetImage.id or nil
  if tid then return dd_hook(c, { image_id = tid }) end
  return dd_hook(c, { image_copy_id = copy.imageCopyId or res.imageCopyId or dd_info(res, "imageCopyId") })
end

function DD.remote_ovf_copy(c, _, _, res)
  return dd_hook(c, { remote_copy_id = dd_info(res, "remoteOvfPackageCopy.copyId") })
end

function DD.image_export(c, _, _, res)
  local ex = res.ImageExport or res
  local xid = type(ex) == "table" and (ex.id or (ex._attr and ex._attr.id)) or nil
  return dd_hook(c, { image_export_id = xid or res.id })
end

-- anywhere in a decoded document: the value `id` (the shape of a running job on Get Backup
-- Details for Server is not documented, only that it is "included ... for its duration")
local function mentions(t, id, depth)
  if t == id then return true end
  if type(t) ~= "table" or depth > 8 then return false end
  for _, v in pairs(t) do if mentions(v, id, depth + 1) then return true end end
  return false
end

function DD.backup(c, id, params, res)
  local job = dd_info(res, "backupClient.restoreJobId")
  if id:match("^restore_") and job then
    return function()
      local d, err = c:call("get_server_backup_details", { server_id = params.server_id })
      if not d then return nil, nil, err end
      if mentions(d, job, 0) then return false, nil, nil, "restoring" end
      return d, 100, nil, "done"
    end
  end
end

-- ------------------------------------------------------------------------------------------
-- Every other asynchronous entry: its target is data, async = { waiter =, target = }

-- a target value: "result.x" | "params.x" (dotted paths), a list of them (the first present),
-- { from = source, map = { value = value } }, or a literal boolean
local function value(src, env)
  if type(src) == "boolean" then return src end
  if type(src) == "string" then return wait.get(env, src) end
  if src.from then
    local v = value(src.from, env)
    return v ~= nil and src.map[v] or nil
  end
  for _, one in ipairs(src) do
    local v = value(one, env)
    if v ~= nil then return v end
  end
end

local function from_data(c, entry, params, res)
  local a = entry.async
  local target = {}
  if a.target then
    local env = { params = params, result = res }
    for k, src in pairs(a.target) do target[k] = value(src, env) end
  else -- the answer itself names its object (a CenturyLink RequestID)
    for k, v in pairs(res) do target[k] = v end
  end
  target.waiter = a.waiter
  return function() return wait.check(c, target) end
end

-- ------------------------------------------------------------------------------------------

--- What must be looked at before an asynchronous call to recognise its object
-- afterwards (Dimension Data's Deploy Server answers without an id). Returns a
-- value to pass as `opts.before` to wait/check, or nil.
function M.before(c, id, params)
  local _, entry = c:resolve(id)
  if c.provider == "dimensiondata" and entry and entry.name == "Deploy Server" then
    return dd_server_ids(c, params or {})
  end
end

--- The poll function for the object of an asynchronous call: () -> done, percent, err, state.
-- Returns nil, err when the operation is not asynchronous or its answer names nothing to wait for.
function M.check(c, name, params, res, opts)
  local id, entry = c:resolve(name)
  if not id then return nil, entry end
  if not entry.async then
    return nil, c:error { kind = "validation", op = id, message = id .. " is not asynchronous: nothing to wait for" }
  end
  params = params or {}
  if type(res) ~= "table" then res = {} end
  -- a Dimension Data kind whose object is found by more than data (a name, a job id, a 404)
  local special = entry.async.kind and DD[entry.async.kind]
  local f = special and special(c, id, params, res, opts and opts.before)
  if not f and entry.async.waiter then f = from_data(c, entry, params, res) end
  if not f then
    return nil, c:error { kind = "validation", op = id, message = "no waiter for " .. id }
  end
  return f
end

--- Wait for the object of an asynchronous call (opts as c:wait's, plus `before`
-- from M.before and `progress = fn(percent, info)` where info has polls, state,
-- elapsed). Returns the final object | nil, err.
function M.wait(c, name, params, res, opts)
  opts = opts or {}
  local check, err = M.check(c, name, params, res, opts)
  if not check then return nil, err end
  local t0, polls, progress = c.clock(), 0, opts.progress
  local function poll()
    polls = polls + 1
    local done, pct, perr, state = check()
    if progress and not perr then
      pcall(progress, pct, { polls = polls, state = state, done = done and true or false, elapsed = c.clock() - t0 })
    end
    return done, pct, perr
  end
  local wopts = {}
  for k, v in pairs(opts) do wopts[k] = v end
  wopts.progress = nil
  return c:wait(poll, wopts)
end

return M
