--- The page walk of c:pages / c:each, driven by the catalog's paging data.
-- Under transports that do not yield (libcurl) the loop is core.pager (src/pager.c); under
-- cosockets a light thread cannot be waited for from inside a C function, so the same loop and
-- the same next-page rule run here, page n+1 on a light thread (transport.start).
-- The rule: docs/FILTERING.md, "Paging".
local core = require "luacloud.core"

local M = {}

--- The paging description of an entry: the catalog's answer fields and parameter names plus the
-- entry's default page size and orderBy fields, or nil when the operation is not paged.
function M.description(catalog, entry)
  local ep, cp = entry.paging, catalog.paging
  if type(ep) ~= "table" or type(cp) ~= "table" then return nil end
  return { number = cp.number, size = cp.size, total = cp.total, count = cp.count,
           number_param = cp.number_param, size_param = cp.size_param, order_param = cp.order_param,
           default_size = ep.default_page_size, order_by = ep.order_by, items = entry.response and entry.response.items }
end

local function num(v)
  return tonumber(v)
end

--- The number of the page after `res`, or nil when `res` was the last one.
function M.next_number(d, res, nitems)
  if type(res) ~= "table" then return nil end
  if d.stop_on_empty and nitems == 0 then return nil end
  local number, size = num(res[d.number or ""]), num(res[d.size or ""]) or d.default_size
  local total, count = num(res[d.total or ""]), num(res[d.count or ""]) or -1
  if not number or not size or size <= 0 or not total then return nil end
  if number * size >= total or count <= 0 then return nil end
  return math.floor(number) + 1, math.ceil(total / size)
end

local function items_of(res, path)
  local t = res
  for k in tostring(path or ""):gmatch("[^%.]+") do
    if type(t) ~= "table" then return nil end
    t = t[k]
  end
  return path and t or nil
end

--- The orderBy value against the operation's order_by fields (section 1.8: comma-separated
-- field names, each optionally suffixed .DESCENDING): nil when acceptable, else the bad field.
function M.bad_order(d, params)
  if not d or type(d.order_by) ~= "table" or not d.order_param then return nil end
  local v = params and params[d.order_param]
  if type(v) ~= "string" then return nil end
  local ok = {}
  for _, f in ipairs(d.order_by) do ok[f] = true end
  for field in (v .. ","):gmatch("([^,]*),") do
    local name = field:gsub("%.DESCENDING$", "")
    if not ok[name] then return field end
  end
end

--- The Lua loop (same contract as core.pager): opts as core.pager's.
function M.lua_pager(opts)
  local page, done, pending, handed = opts.first or 1, false, nil, 0
  local ahead, ahead_n, last = nil, nil, nil -- the page after the pending one (see core.pager)
  local p = {}
  function p.stats() return { pages = handed, in_flight = pending and page or nil, ahead = ahead_n, done = done } end
  function p.close() done = true; pending = nil; ahead = nil; ahead_n = nil end
  local function start(n)
    if opts.prefetch == false or not opts.start then return nil end
    local ok, f = pcall(opts.start, n)
    return ok and type(f) == "function" and f or nil
  end
  return setmetatable(p, { __call = function()
    if done then return nil end
    if pending and not ahead and last and page + 1 <= last then
      ahead = start(page + 1)
      ahead_n = ahead and page + 1 or nil
    end
    local res, err
    if pending then
      local finish = pending
      pending = nil
      local ok, r, e = pcall(finish)
      if ok then res, err = r, e else res, err = nil, r end
      if res == nil and type(err) == "table" and err.kind == "validation" then done = true end
    end
    if res == nil and not done then
      local ok, r, e = pcall(opts.fetch, page)
      if ok then res, err = r, e else res, err = nil, r end
    end
    if res == nil then
      done = true
      ahead, ahead_n = nil, nil
      if type(err) == "table" then err.page = page end
      return nil, err or "page walk failed"
    end
    local items = type(res) == "table" and items_of(res, opts.items)
    if type(items) ~= "table" then items = {} end
    local out = { result = res, items = items, number = page }
    handed = handed + 1
    local nextn
    nextn, last = M.next_number(opts, res, #items)
    if nextn then
      page = nextn
      if ahead_n == nextn then pending = ahead else pending = start(nextn) end
    else
      done = true
    end
    ahead, ahead_n = nil, nil
    return out
  end })
end

--- A pager: the C loop unless the transport yields (cosockets).
function M.new(opts, yields)
  if core.pager and not yields then return core.pager(opts) end
  return M.lua_pager(opts)
end

return M
