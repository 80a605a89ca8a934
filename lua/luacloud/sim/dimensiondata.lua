-- luacloud.sim.dimensiondata: a stateful simulator of the Dimension Data / OpSource Cloud
-- REST API 0.9 (shared/seeds/dimensiondata-cloud-rest-api-0.9.txt).
--
-- sim = require("luacloud.sim.dimensiondata").new{ now = function() return secs end }
-- status, headers, body = sim:handle{ method =, path = "/oec/0.9/...?q", headers = {}, body = }
--
-- What it models: pre-emptive HTTP Basic auth (401 without a body), accounts with roles (403
-- REASON_140 when a sub-administrator lacks the role), data centers, OS and customer images,
-- servers (deploy PENDING_ADD -> NORMAL after `deploy_seconds`, start/stop/reboot, disks,
-- clone), networks with ACL and NAT rules, public IP blocks, the VIP family (real servers,
-- probes, server farms, persistence profiles, VIPs), anti-affinity rules, CSV reports and the
-- paging/filtering rules of section 1.8 (REASON_70/71/72/73/320).
-- Every XML response is written with a namespace prefix chosen at random per response
-- (section 1.4: "do NOT hardcode references to the namespace prefix"); request bodies are
-- accepted with the namespace of the live service (oec.api.opsource.net), the one printed in
-- the document (oec.api.opscale.net), or none.
--
-- Lua 5.1-compatible: no goto, no integer division, no bit operators, no utf8 library.

local unpack = table.unpack or unpack

local M = {}

local ORG_ID = "8a8f6abc-2745-4d8a-9cbc-8dabe5a7d0e4"
local NS_LIVE = "http://oec.api.opsource.net/schemas/"
local NS_DOC = "http://oec.api.opscale.net/schemas/"
M.ORG_ID = ORG_ID

---------------------------------------------------------------------------------------------
-- small helpers
---------------------------------------------------------------------------------------------

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64R = {}
for i = 1, 64 do B64R[B64:sub(i, i)] = i - 1 end

local function b64decode(s)
  s = s:gsub("[^%w%+/=]", "")
  local out = {}
  for i = 1, #s, 4 do
    local a, b, c, d = B64R[s:sub(i, i)], B64R[s:sub(i + 1, i + 1)], B64R[s:sub(i + 2, i + 2)],
      B64R[s:sub(i + 3, i + 3)]
    if not a or not b then break end
    local n = a * 262144 + b * 4096 + (c or 0) * 64 + (d or 0)
    out[#out + 1] = string.char(math.floor(n / 65536) % 256)
    if c then out[#out + 1] = string.char(math.floor(n / 256) % 256) end
    if d then out[#out + 1] = string.char(n % 256) end
  end
  return table.concat(out)
end
M.b64decode = b64decode

local util = require("luacloud.sim.util")

-- Parses a query or form string into an ordered list of {name, value} (value true for a
-- bare flag) and a map lower-case name -> array of values.
local function parse_pairs(q)
  local list, map = util.query_pairs(q), {}
  for _, kv in ipairs(list) do
    local lk = kv[1]:lower()
    map[lk] = map[lk] or {}
    table.insert(map[lk], kv[2])
  end
  return list, map
end

local xml_escape, xml_parse = util.xml_escape, util.xml_parse
M.xml_parse = xml_parse

local function kid(node, name)
  for _, k in ipairs(node.kids) do if k.name == name then return k end end
end
local function kids(node, name)
  local out = {}
  for _, k in ipairs(node.kids) do if k.name == name then out[#out + 1] = k end end
  return out
end
local function ktext(node, name)
  local k = kid(node, name)
  if not k then return nil end
  return util.trim(k.text)
end

---------------------------------------------------------------------------------------------
-- XML writer with a random prefix per response
---------------------------------------------------------------------------------------------

-- Element constructor: E(name, attrs, children_or_text). attrs is an array of {k, v}.
local function E(name, attrs, body)
  return { name = name, attrs = attrs, body = body }
end

local function ser(node, pfx, out)
  out[#out + 1] = "<" .. pfx .. node.name
  if node.attrs then
    for _, kv in ipairs(node.attrs) do
      if kv[2] ~= nil then out[#out + 1] = " " .. kv[1] .. '="' .. xml_escape(kv[2]) .. '"' end
    end
  end
  if node.xmlns then out[#out + 1] = node.xmlns end
  local b = node.body
  if b == nil or (type(b) == "table" and #b == 0) then
    out[#out + 1] = "/>"
    return
  end
  out[#out + 1] = ">"
  if type(b) == "table" then
    for _, c in ipairs(b) do
      if c then ser(c, pfx, out) end
    end
  else
    out[#out + 1] = xml_escape(b)
  end
  out[#out + 1] = "</" .. pfx .. node.name .. ">"
end

local Sim = {}
Sim.__index = Sim

-- 1..n
function Sim:rand(n) return util.lcg(self, n) + 1 end

-- Serialises a response document. kind: schema name (server, network, ...).
function Sim:xml(root, kind)
  local ns = (self.ns_base or NS_LIVE) .. (kind or "general")
  local style = self:rand(4)
  local pfx, decl
  if style == 1 then
    pfx, decl = "", ' xmlns="' .. ns .. '"'
  else
    local n = self:rand(14) + 1
    if n == 2 then n = 16 end -- ns2 belongs to organization in the samples
    pfx = "ns" .. n .. ":"
    decl = ' xmlns:' .. pfx:sub(1, -2) .. '="' .. ns .. '"'
  end
  root.xmlns = ' xmlns:ns2="' .. (self.ns_base or NS_LIVE) .. 'organization"' .. decl
  local out = { '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' }
  ser(root, pfx, out)
  return table.concat(out)
end

local function xml_headers()
  return { ["Content-Type"] = "application/xml; charset=UTF-8" }
end

function Sim:status_doc(operation, result, detail, code, info)
  local body = {}
  if operation then body[#body + 1] = E("operation", nil, operation) end
  body[#body + 1] = E("result", nil, result)
  body[#body + 1] = E("resultDetail", nil, detail)
  body[#body + 1] = E("resultCode", nil, code)
  for _, kv in ipairs(info or {}) do
    body[#body + 1] = E("additionalInformation", { { "name", kv[1] } }, { E("value", nil, kv[2]) })
  end
  return self:xml(E("Status", nil, body), "general")
end

-- Errors are raised as tables and turned into a Status by handle().
local function fail(code, detail, status)
  error({ dd = true, code = code, detail = detail, status = status or 400 }, 0)
end

local function ok(self, operation, detail, info, code)
  return 200, xml_headers(), self:status_doc(operation, "SUCCESS", detail, code or "REASON_0", info)
end

---------------------------------------------------------------------------------------------
-- state
---------------------------------------------------------------------------------------------

local function iso(t)
  t = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", t) .. ".000Z"
end

function Sim:uuid()
  self.seq = self.seq + 1
  local function hex(n)
    local s = {}
    for i = 1, n do s[i] = string.format("%x", self:rand(16) - 1) end
    return table.concat(s)
  end
  return string.format("%s-%s-4%s-a%s-%012x", hex(8), hex(4), hex(3), hex(3), self.seq)
end

local DATACENTERS = {
  { location = "NA1", displayName = "US - East", city = "Ashburn", state = "Virginia", country = "US",
    vpnUrl = "https://na1.cloud-vpn.net", default = true },
  { location = "NA3", displayName = "US - West", city = "Santa Clara", state = "California",
    country = "US", vpnUrl = "https://na3.cloud-vpn.net", default = false },
  { location = "NA5", displayName = "US - East 2", city = "Ashburn", state = "Virginia", country = "US",
    vpnUrl = "https://na5.cloud-vpn.net", default = false },
}

local OS_IMAGES = {
  { name = "RedHat 6 64-bit 2 CPU", os = "REDHAT6/64", type = "UNIX", cpu = 2, mem = 4096, disk = 10 },
  { name = "Ubuntu 12.04 2 CPU", os = "UBUNTU12/64", type = "UNIX", cpu = 2, mem = 4096, disk = 10 },
  { name = "Win2008 Ent 64-bit R2 2 CPU", os = "WIN2008R2E/64", type = "WINDOWS", cpu = 2, mem = 4096,
    disk = 50, labels = { "MSSQL2008R2S" } },
  { name = "CentOS 6 64-bit 1 CPU", os = "CENTOS6/64", type = "UNIX", cpu = 1, mem = 2048, disk = 10 },
}


--- Creates a simulator. opts: now (function -> seconds), base_url, deploy_seconds (default 12),
--- action_seconds (default 3), namespace (base URI written on responses).
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({}, Sim)
  self.now = opts.now or os.time
  self.base_url = opts.base_url
  self.deploy_seconds = tonumber(opts.deploy_seconds) or 12
  self.action_seconds = tonumber(opts.action_seconds) or 3
  self.base_seconds = { deploy = self.deploy_seconds, action = self.action_seconds }
  self.ns_base = opts.namespace
  self.credentials = { username = "demo", password = "demo-password", org_id = ORG_ID,
    readonly_username = "viewer", readonly_password = "viewer-password" }
  self.rng = (math.floor((os.time() + os.clock() * 1000000)) % 2147483647) + 1
  if opts.seed_rng then self.rng = opts.seed_rng end
  self:reset()
  return self
end

function Sim:reset()
  self.seq = 0
  self.maintenance = false
  self.dc_maintenance = {}
  self.accounts = {
    { userName = "demo", password = "demo-password", fullName = "Demo Admin", firstName = "Demo",
      lastName = "Admin", emailAddress = "demo@example.com", roles = { "primary administrator" } },
    { userName = "viewer", password = "viewer-password", fullName = "Read Only", firstName = "Read",
      lastName = "Only", emailAddress = "viewer@example.com", roles = { "read only" } },
  }
  self.images = {}
  self.image_by_id = {}
  for _, dc in ipairs(DATACENTERS) do
    for i, spec in ipairs(OS_IMAGES) do
      local img = { id = string.format("%s-0000-4000-8000-%012d", ({ NA1 = "a0a0a0a1", NA3 = "a0a0a0a3",
        NA5 = "a0a0a0a5" })[dc.location], i), name = spec.name, description = spec.name .. " image",
        location = dc.location, os = spec.os, ostype = spec.type, cpuCount = spec.cpu,
        memoryMb = spec.mem, osStorageGb = spec.disk, base = true, state = "NORMAL", labels = spec.labels,
        created = iso(1325376000) }
      self.images[#self.images + 1] = img
      self.image_by_id[img.id] = img
    end
  end
  self.networks, self.network_by_id = {}, {}
  self.servers, self.server_by_id = {}, {}
  self.busy = {}
  self:changed()
  self.rules = {}
  self.audit = {}
  self.net_seq = 0
  self.block_seq = 0
  self.created_seq = 0
end

function Sim:record(user, typ, name, action, details, code)
  local t = self.now()
  self.audit[#self.audit + 1] = { uuid = self:uuid(), time = t, user = user, type = typ, name = name,
    action = action, details = details, code = code or "OK" }
end

---------------------------------------------------------------------------------------------
-- time: pending work completes when now() passes its deadline
---------------------------------------------------------------------------------------------

-- Finishes due pending work. Only the objects with pending work are visited (self.busy), so a
-- request costs the same with 100,000 idle servers as with ten.
function Sim:tick()
  local now = self.now()
  local due = {}
  for obj in pairs(self.busy) do
    local p = obj.pending
    if not p then self.busy[obj] = nil
    elseif now >= p.done then due[#due + 1] = obj end
  end
  if #due == 0 then return end
  -- in the order the work was started, as a scan of the lists did
  table.sort(due, function(a, b) return a.pending.seq < b.pending.seq end)
  local gone = {}
  for _, obj in ipairs(due) do
    local p = obj.pending
    obj.pending = nil
    self.busy[obj] = nil
    p.finish(obj)
    if obj.deleted and self.server_by_id[obj.id] == obj then gone[obj] = true end
  end
  if next(gone) then
    local kept = {}
    for _, x in ipairs(self.servers) do
      if gone[x] then self.server_by_id[x.id] = nil else kept[#kept + 1] = x end
    end
    self.servers = kept
  end
  self:changed()
end

function Sim:start_pending(obj, action, seconds, user, finish, state)
  local now = self.now()
  self.pending_seq = (self.pending_seq or 0) + 1
  obj.pending = { action = action, start = now, done = now + seconds, user = user, finish = finish,
    seq = self.pending_seq }
  obj.state = state or "PENDING_CHANGE"
  self.busy[obj] = true
end

-- Drops the cached list views (Sim:page): called on every request that may write.
function Sim:changed()
  self.gen = (self.gen or 0) + 1
  self.views = nil
end

local function progress_status(p, now)
  if p.failure then
    -- the last operation failed and left the object locked: the status stays, with the reason
    return E("status", nil, {
      E("action", nil, p.action), E("requestTime", nil, iso(p.start)), E("userName", nil, p.user),
      E("numberOfSteps", nil, "1"), E("updateTime", nil, iso(p.start)),
      E("step", nil, { E("name", nil, "WAIT_FOR_OPERATION"), E("number", nil, "1") }),
      E("failureReason", nil, p.failure),
    })
  end
  local pct = 100
  if p.done > p.start then pct = math.floor((now - p.start) / (p.done - p.start) * 100) end
  if pct > 99 then pct = 99 end
  if pct < 0 then pct = 0 end
  return E("status", nil, {
    E("action", nil, p.action), E("requestTime", nil, iso(p.start)), E("userName", nil, p.user),
    E("numberOfSteps", nil, "1"), E("updateTime", nil, iso(now)),
    E("step", nil, { E("name", nil, "WAIT_FOR_OPERATION"), E("number", nil, "1"),
      E("percentComplete", nil, tostring(pct)) }),
  })
end


---------------------------------------------------------------------------------------------
-- paging and filtering (section 1.8)
---------------------------------------------------------------------------------------------

-- "20120901T00:00:00Z", "20120901", "2012-09-01T00:00:00.000Z" -> "YYYYMMDDhhmmss" or nil
local function norm_date(v, upper)
  if type(v) ~= "string" then return nil end
  local d = v:gsub("[%-:]", "")
  local y, mo, da, rest = d:match("^(%d%d%d%d)(%d%d)(%d%d)(.*)$")
  if not y then return nil end
  if tonumber(mo) < 1 or tonumber(mo) > 12 or tonumber(da) < 1 or tonumber(da) > 31 then return nil end
  if rest == "" or rest == "Z" then return y .. mo .. da .. (upper and "235959" or "000000") end
  local h, mi, se = rest:match("^T(%d%d)(%d%d)(%d%d)")
  if not h then return nil end
  return y .. mo .. da .. h .. mi .. se
end

local function stamp(t) return os.date("!%Y%m%d%H%M%S", math.floor(t)) end

local function keep_item(it, filters, skip)
  for _, flt in ipairs(filters) do
    if flt ~= skip then
      local v = flt.f.get(it)
      local keep = false
      if flt.f.kind == "date" then
        v = stamp(v)
        if flt.op == "min" then keep = v >= flt.vals[1]
        elseif flt.op == "max" then keep = v <= flt.vals[1]
        else
          for _, w in ipairs(flt.vals) do if v:sub(1, 8) == w:sub(1, 8) then keep = true end end
        end
      else
        v = tostring(v)
        for _, w in ipairs(flt.vals) do if v == w then keep = true end end
      end
      if not keep then return false end
    end
  end
  return true
end

local function sort_key(v)
  if type(v) == "number" then return string.format("%020.3f", v) end
  return tostring(v)
end

local function in_order(list, order)
  for i = 2, #list do
    local a, b = list[i - 1], list[i]
    for _, o in ipairs(order) do
      local x, y = o.get(a), o.get(b)
      if type(x) ~= type(y) then x, y = sort_key(x), sort_key(y) end
      if x ~= y then
        if (x > y) ~= (o.desc or false) then return false end
        break
      end
    end
  end
  return true
end

-- Views of a list: per filter field an index (value -> items, in list order) and per query the
-- filtered, ordered result. They are built on first use and kept until the next write
-- (Sim:changed), so every page of a walk costs O(page size) and a filter reads only its matches.
function Sim:views_of(items)
  self.views = self.views or setmetatable({}, { __mode = "k" })
  local v = self.views[items]
  if not v then
    v = { index = {}, query = {} }
    self.views[items] = v
  end
  return v
end

function Sim:index_of(items, f)
  local v = self:views_of(items)
  local ix = v.index[f.name]
  if not ix then
    ix = {}
    for _, it in ipairs(items) do
      local k = tostring(f.get(it))
      local l = ix[k]
      if not l then l = {}; ix[k] = l end
      l[#l + 1] = it
    end
    v.index[f.name] = ix
  end
  return ix
end

-- The items that pass the filters, in list order: through the index of the most selective
-- exact-match filter when there is one.
function Sim:filtered(items, filters)
  if #filters == 0 then return items end
  local best, cands
  for _, flt in ipairs(filters) do
    if flt.f.kind ~= "date" then
      local ix = self:index_of(items, flt.f)
      local lists, n = {}, 0
      for _, w in ipairs(flt.vals) do
        local l = ix[w]
        if l then lists[#lists + 1] = l; n = n + #l end
      end
      if not cands or n < #cands then
        local merged = lists[1] or {}
        if #lists > 1 then -- several values: back into list order
          local want = {}
          for _, l in ipairs(lists) do for _, it in ipairs(l) do want[it] = true end end
          merged = {}
          for _, it in ipairs(items) do if want[it] then merged[#merged + 1] = it end end
        end
        best, cands = flt, merged
      end
    end
  end
  local out = {}
  for _, it in ipairs(cands or items) do
    if keep_item(it, filters, best) then out[#out + 1] = it end
  end
  return out
end

function Sim:view(items, spec, filters, order, q)
  local sig = {}
  for lk, vals in pairs(q) do
    if lk ~= "pagesize" and lk ~= "pagenumber" then
      local parts = {}
      for i, x in ipairs(vals) do parts[i] = tostring(x) end
      sig[#sig + 1] = lk .. "=" .. table.concat(parts, "\0")
    end
  end
  table.sort(sig)
  sig = table.concat(sig, "&")
  local v = self:views_of(items)
  if v.query[sig] then return v.query[sig] end
  local out = self:filtered(items, filters)
  if #order > 0 and not in_order(out, order) then
    if out == items then
      out = {}
      for i, it in ipairs(items) do out[i] = it end
    end
    local idx = {}
    for i, it in ipairs(out) do idx[it] = i end
    local keys = {}
    for _, o in ipairs(order) do
      local kv = {}
      for _, it in ipairs(out) do kv[it] = sort_key(o.get(it)) end
      keys[#keys + 1] = kv
    end
    table.sort(out, function(a, b)
      for i, o in ipairs(order) do
        local x, y = keys[i][a], keys[i][b]
        if x ~= y then
          if o.desc then return x > y end
          return x < y
        end
      end
      return idx[a] < idx[b]
    end)
  end
  v.query[sig] = out
  return out
end

-- spec: { filters = { lname = { name =, kind = "string"|"boolean"|"date", get = fn } },
--         order = { lname = getter }, default_order = { "created" }, max_page_size = n }
function Sim:page(q, spec, items)
  local size, number, order = 250, 1, nil
  local filters = {}
  for lk, vals in pairs(q) do
    if lk == "pagesize" or lk == "pagenumber" or lk == "orderby" then
      if #vals > 1 then fail("REASON_71", "Paging parameter " .. lk .. " supplied more than once.") end
      local v = vals[1]
      if lk == "orderby" then
        if type(v) ~= "string" or v == "" then fail("REASON_71", "Invalid orderBy value.") end
        order = {}
        for item in v:gmatch("[^,]+") do
          local f, kw = item:match("^%s*([%w_]+)%.?(%a*)%s*$")
          local lf = f and f:lower()
          kw = kw and kw:upper() or ""
          if not lf or not spec.order[lf] or (kw ~= "" and kw ~= "DESCENDING" and kw ~= "ASCENDING") then
            fail("REASON_71", "Invalid orderBy value: " .. item)
          end
          order[#order + 1] = { get = spec.order[lf], desc = kw == "DESCENDING" }
        end
      else
        local n = type(v) == "string" and v:match("^%d+$") and tonumber(v)
        if not n or n < 1 or (lk == "pagesize" and n > (spec.max_page_size or 1000)) then
          fail("REASON_71", "Invalid value for " .. lk .. ": " .. tostring(v))
        end
        if lk == "pagesize" then size = n else number = n end
      end
    else
      local field, op = lk:match("^([^%.]+)%.?(.*)$")
      local f = spec.filters[field]
      if not f then fail("REASON_70", "Unsupported Parameter on request: " .. lk) end
      if op ~= "" and not ((op == "min" or op == "max") and f.kind == "date") then
        fail("REASON_73", "Invalid comparative operator for " .. f.name .. ": " .. op)
      end
      if #vals > 10 then fail("REASON_72", "More than 10 values supplied for filter " .. f.name) end
      local norm = {}
      for i, v in ipairs(vals) do
        if type(v) ~= "string" or v == "" then fail("REASON_320", "Invalid value for filter " .. f.name) end
        if f.kind == "boolean" then
          local lv = v:lower()
          if lv ~= "true" and lv ~= "false" then fail("REASON_320", "Invalid value for filter " .. f.name .. ": " .. v) end
          norm[i] = lv
        elseif f.kind == "date" then
          local d = norm_date(v, op == "max")
          if not d then fail("REASON_320", "Invalid date for filter " .. f.name .. ": " .. v) end
          norm[i] = d
        else
          norm[i] = v
        end
      end
      if op ~= "" and #norm > 1 then fail("REASON_72", "Only one value allowed for " .. lk) end
      filters[#filters + 1] = { f = f, op = op, vals = norm }
    end
  end
  if not order then
    order = {}
    for _, k in ipairs(spec.default_order or {}) do order[#order + 1] = { get = spec.order[k] } end
  end
  local out = self:view(items, spec, filters, order, q)
  local total = #out
  local pages = math.max(1, math.ceil(total / size))
  if number > pages then number = pages end
  local first = (number - 1) * size + 1
  local page = {}
  for i = first, math.min(total, first + size - 1) do page[#page + 1] = out[i] end
  local attrs = { { "totalCount", tostring(total) }, { "pageCount", tostring(#page) },
    { "pageNumber", tostring(number) }, { "pageSize", tostring(size) } }
  return page, attrs
end

---------------------------------------------------------------------------------------------
-- XML views of the model
---------------------------------------------------------------------------------------------

local function bool(v) return v and "true" or "false" end

-- The NAT address of a server's private IP, if a NAT rule maps it (the listings' publicIp).
function Sim:public_ip_of(s)
  local n = self.network_by_id[s.networkId]
  for _, r in ipairs(n and n.nat or {}) do
    if r.sourceIp == s.privateIp then return r.natIp end
  end
end

-- VMware Tools status of a deployed server, as the listings' <machineStatus name=...><value>.
local function machine_status(s, only_running)
  if not s.isDeployed then return {} end
  local out = {}
  local st = { { "vmwareToolsVersionStatus", "CURRENT" },
    { "vmwareToolsRunningStatus", s.isStarted and "RUNNING" or "NOT_RUNNING" },
    { "vmwareToolsApiVersion", "8290" } }
  for _, x in ipairs(st) do
    if not only_running or x[1] == "vmwareToolsRunningStatus" then
      out[#out + 1] = E("machineStatus", { { "name", x[1] } }, { E("value", nil, x[2]) })
    end
  end
  return out
end

local function add_all(list, items)
  for _, x in ipairs(items) do list[#list + 1] = x end
end

local function storage_gb(s)
  local extra = 0
  for i = 2, #s.disks do extra = extra + s.disks[i].sizeGb end
  return s.disks[1].sizeGb, extra
end

-- The deprecated listings (section 11: Servers, DeployedServers, PendingDeployServers and
-- their ...WithDisks/...WithStatus/...WithSoftwareLabels forms) name their fields as their
-- samples do: an <id> element, <machineSpecification>, <privateIpAddress>, <status>.
function Sim:legacy_server_node(s, elname, with_status)
  local os_gb, extra_gb = storage_gb(s)
  local osnode = E("operatingSystem", nil, { E("type", nil, s.ostype), E("displayName", nil, s.os) })
  local body = { E("id", nil, s.id), E("name", nil, s.name), E("description", nil, s.description or "") }
  if elname == "Server" then
    add_all(body, {
      E("vlanResourcePath", nil, "/oec/" .. ORG_ID .. "/network/" .. s.networkId),
      E("imageResourcePath", nil, "/oec/base/image/" .. s.sourceImageId),
      osnode, E("cpuCount", nil, tostring(s.cpuCount)), E("memory", nil, tostring(s.memoryMb)),
      E("osStorage", nil, tostring(os_gb)), E("additionalLocalStorage", nil, tostring(extra_gb)),
      E("machineName", nil, s.machineName), E("privateIPAddress", nil, s.privateIp),
      E("isDeployed", nil, bool(s.isDeployed)), E("isStarted", nil, bool(s.isStarted)),
      E("created", nil, iso(s.created)),
    })
    return E(elname, nil, body)
  end
  add_all(body, {
    E("machineSpecification", nil, { E("cpuCount", nil, tostring(s.cpuCount)),
      E("memoryMb", nil, tostring(s.memoryMb)), E("osStorageGb", nil, tostring(os_gb)),
      E("additionalLocalStorageGb", nil, tostring(extra_gb)), osnode }),
    E("sourceImageId", nil, s.sourceImageId), E("networkId", nil, s.networkId),
    E("privateIpAddress", nil, s.privateIp),
  })
  local deployed = elname:find("^Deployed") ~= nil
  if deployed then
    local pub = self:public_ip_of(s)
    if pub then body[#body + 1] = E("publicIpAddress", nil, pub) end
    add_all(body, { E("machineName", nil, s.machineName), E("isStarted", nil, bool(s.isStarted)),
      E("deployedTime", nil, iso(s.deployedTime or s.created)) })
  end
  if s.pending or s.failed then body[#body + 1] = progress_status(s.pending or s.failed, self.now()) end
  local with_disks = elname:find("WithDisks", 1, true) ~= nil
  if deployed and (with_disks or elname:find("WithSoftwareLabels", 1, true) or with_status) then
    add_all(body, machine_status(s))
  end
  if with_disks or elname:find("WithSoftwareLabels", 1, true) then
    for _, l in ipairs(s.labels or {}) do body[#body + 1] = E("softwareLabel", nil, l) end
  end
  if with_disks then
    for i = 2, #s.disks do
      local d = s.disks[i]
      body[#body + 1] = E("additionalDisk", nil, { E("id", nil, d.id), E("scsiId", nil, tostring(d.scsiId)),
        E("diskSizeGb", nil, tostring(d.sizeGb)), E("state", nil, d.state) })
    end
  end
  return E(elname, nil, body)
end

function Sim:server_node(s, elname, with_backup)
  local now = self.now()
  local body = {
    E("name", nil, s.name), s.description and E("description", nil, s.description) or false,
    E("operatingSystem", { { "id", s.os }, { "displayName", s.os }, { "type", s.ostype } }),
    E("cpuCount", nil, tostring(s.cpuCount)), E("memoryMb", nil, tostring(s.memoryMb)),
  }
  for _, d in ipairs(s.disks) do
    body[#body + 1] = E("disk", { { "id", d.id }, { "scsiId", tostring(d.scsiId) },
      { "sizeGb", tostring(d.sizeGb) }, { "speed", d.speed }, { "state", d.state } })
  end
  for _, l in ipairs(s.labels or {}) do body[#body + 1] = E("softwareLabel", nil, l) end
  local pub = self:public_ip_of(s)
  local rest = {
    E("sourceImageId", nil, s.sourceImageId), E("networkId", nil, s.networkId),
    E("machineName", nil, s.machineName), E("privateIp", nil, s.privateIp),
    pub and E("publicIp", nil, pub) or false,
    E("created", nil, iso(s.created)), E("isDeployed", nil, bool(s.isDeployed)),
    E("isStarted", nil, bool(s.isStarted)), E("state", nil, s.state),
  }
  if elname ~= "server" or with_backup then add_all(rest, machine_status(s, true)) end
  add_all(rest, {
    (s.pending or s.failed) and progress_status(s.pending or s.failed, now) or false,
    (with_backup and s.backup) and E("backup", { { "assetId", s.backup.assetId },
      { "state", s.backup.state }, { "servicePlan", s.backup.servicePlan } }) or false,
  })
  for _, x in ipairs(rest) do body[#body + 1] = x end
  local clean = {}
  for _, x in ipairs(body) do if x then clean[#clean + 1] = x end end
  return E(elname, { { "id", s.id }, { "location", s.location } }, clean)
end

local compact
-- drops the false placeholders of optional elements (table.maxn is gone in 5.4)
compact = function(t)
  local n = 0
  for k in pairs(t) do if type(k) == "number" and k > n then n = k end end
  local out = {}
  for i = 1, n do if t[i] then out[#out + 1] = t[i] end end
  return out
end

function Sim:image_os(img)
  return E("operatingSystem", nil, { E("type", nil, img.ostype), E("displayName", nil, img.os) })
end

local function extra_gb(img)
  local n = 0
  for _, gb in ipairs(img.extra_disks or {}) do n = n + gb end
  return n
end

local function label_nodes(list, labels)
  for _, l in ipairs(labels or {}) do list[#list + 1] = E("softwareLabel", nil, l) end
end

function Sim:deployed_image_node(img, elname)
  local body = compact({
    E("id", nil, img.id), E("name", nil, img.name),
    img.description and E("description", nil, img.description) or false,
    E("machineSpecification", nil, {
      E("cpuCount", nil, tostring(img.cpuCount)), E("memoryMb", nil, tostring(img.memoryMb)),
      E("osStorageGb", nil, tostring(img.osStorageGb)), E("additionalLocalStorageGb", nil, tostring(extra_gb(img))),
      self:image_os(img),
    }),
    img.sourceServerId and E("sourceServerId", nil, img.sourceServerId) or false,
    img.pending and false or E("deployedTime", nil, img.created),
    E("location", nil, img.location),
    (img.pending or img.failed) and progress_status(img.pending or img.failed, self.now()) or false,
  })
  -- a deployed image being exported is locked, and its listings show that work
  local now = self.now()
  if img.failed_export then body[#body + 1] = progress_status(img.failed_export, now) end
  for _, ex in ipairs(not img.pending and self.exports or {}) do
    if ex.image == img and ex.done > now then
      body[#body + 1] = progress_status({ action = "IMAGE_EXPORT", start = ex.start, done = ex.done, user = ex.user }, now)
      break
    end
  end
  if elname:find("WithSoftwareLabels", 1, true) then label_nodes(body, img.labels) end
  return E(elname, nil, body)
end

-- The deprecated <ServerImage> of List OS/Customer/Web/DB/Partner Server Images (section 12).
function Sim:legacy_image_node(img)
  local owner = img.base and "base" or ORG_ID
  return E("ServerImage", nil, compact({
    E("id", nil, img.id), E("resourcePath", nil, "/oec/" .. owner .. "/image/" .. img.id),
    E("name", nil, img.name), E("description", nil, img.description or ""), self:image_os(img),
    E("location", nil, img.location or ""),
    img.sourceServerId and E("sourceResourcePath", nil, "/oec/" .. ORG_ID .. "/server/" .. img.sourceServerId) or false,
    E("cpuCount", nil, tostring(img.cpuCount)), E("memory", nil, tostring(img.memoryMb)),
    E("osStorage", nil, tostring(img.osStorageGb)), E("additionalLocalStorage", nil, tostring(extra_gb(img))),
    E("created", nil, img.created),
  }))
end

function Sim:image_state_node(img, elname)
  local body = compact({
    E("id", nil, img.id), E("location", nil, img.location), E("name", nil, img.name),
    img.description and E("description", nil, img.description) or false,
    self:image_os(img), E("cpuCount", nil, tostring(img.cpuCount)),
    E("memoryMb", nil, tostring(img.memoryMb)), E("osStorageGb", nil, tostring(img.osStorageGb)),
  })
  for i, gb in ipairs(img.extra_disks or {}) do
    body[#body + 1] = E("additionalDisk", nil, { E("id", nil, img.id:sub(1, 24) .. string.format("%012d", i)),
      E("scsiId", nil, tostring(i)), E("diskSizeGb", nil, tostring(gb)), E("state", nil, "NORMAL") })
  end
  label_nodes(body, img.labels)
  local src = img.source
  if src then
    local base = src.package:gsub("%.mf$", "")
    body[#body + 1] = E("source", { { "type", src.type } }, {
      E("artifact", { { "type", "MF" }, { "value", src.package }, { "date", src.date } }),
      E("artifact", { { "type", "OVF" }, { "value", base .. ".ovf" }, { "date", src.date } }),
      E("artifact", { { "type", "VMDK" }, { "value", base .. "-disk1.vmdk" }, { "date", src.date } }) })
  end
  body[#body + 1] = E("state", nil, img.state)
  if img.pending or img.failed then
    body[#body + 1] = progress_status(img.pending or img.failed, self.now())
  else
    body[#body + 1] = E("deployedTime", nil, img.created)
    add_all(body, machine_status({ isDeployed = true, isStarted = true }))
  end
  return E(elname or "ServerImageWithState", nil, body)
end

function Sim:network_node(n, with_location, elname)
  if with_location then
    return E(elname or "network", nil, {
      E("id", nil, n.id), E("name", nil, n.name), E("description", nil, n.description or ""),
      E("location", nil, n.location), E("privateNet", nil, n.privateNet),
      E("multicast", nil, bool(n.multicast)),
    })
  end
  return E(elname or "Network", nil, {
    E("id", nil, n.id), E("resourcePath", nil, "/oec/" .. ORG_ID .. "/network/" .. n.id),
    E("name", nil, n.name), E("description", nil, n.description or ""),
    E("multicast", nil, bool(n.multicast)),
  })
end

function Sim:datacenter_node(dc, style)
  local speeds = {
    { "STANDARD", "Standard", "STD", "Standard Disk Speed", true },
    { "HIGHPERFORMANCE", "High Performance", "HPF", "Faster than Standard.", false },
    { "ECONOMY", "Economy", "ECN", "Slower than Standard.", false },
  }
  local ds = {}
  for _, sp in ipairs(speeds) do
    ds[#ds + 1] = E("diskSpeed", { { "available", "true" }, { "default", bool(sp[5]) }, { "id", sp[1] } },
      { E("displayName", nil, sp[2]), E("abbreviation", nil, sp[3]), E("description", nil, sp[4]) })
  end
  local base = { E("displayName", nil, dc.displayName), E("city", nil, dc.city),
    E("state", nil, dc.state), E("country", nil, dc.country), E("vpnUrl", nil, dc.vpnUrl) }
  if style == "maintenance" then
    local m = self.dc_maintenance[dc.location] and "MAINTENANCE" or "NORMAL"
    base[#base + 1] = E("networking", { { "maintenanceStatus", "NORMAL" }, { "type", "CISCO" } },
      { E("property", { { "value", "20" }, { "name", "MAX_SERVER_TO_VIP_CONNECTIONS" } }) })
    local hv = ds
    hv[#hv + 1] = E("backup", { { "type", "COMMVAULT" }, { "maintenanceStatus", "NORMAL" } })
    local props = { { "MIN_DISK_SIZE_GB", "10" }, { "MAX_DISK_SIZE_GB", "1000" },
      { "MAX_TOTAL_ADDITIONAL_STORAGE_GB", "2500" }, { "MAX_CPU_COUNT", "16" },
      { "MIN_MEMORY_MB", "1024" }, { "MAX_MEMORY_MB", "131072" } }
    for _, p in ipairs(props) do hv[#hv + 1] = E("property", { { "value", p[2] }, { "name", p[1] } }) end
    base[#base + 1] = E("hypervisor", { { "maintenanceStatus", m }, { "type", "VMWARE" } }, hv)
    return E("datacenter", { { "location", dc.location }, { "default", bool(dc.default) } }, base)
  elseif style == "diskspeed" then
    base[#base + 1] = E("maxCpu", nil, "16")
    base[#base + 1] = E("maxRamMb", nil, "131072")
    for _, d in ipairs(ds) do base[#base + 1] = d end
    return E("datacenter", { { "location", dc.location }, { "default", bool(dc.default) } }, base)
  end
  table.insert(base, 1, E("location", nil, dc.location))
  base[#base + 1] = E("default", nil, bool(dc.default))
  if style == "limits" then
    base[#base + 1] = E("maxCpu", nil, "16")
    base[#base + 1] = E("maxRamMb", nil, "131072")
  end
  return E("datacenter", nil, base)
end

---------------------------------------------------------------------------------------------
-- lookups and checks
---------------------------------------------------------------------------------------------

local function find_dc(loc)
  for _, dc in ipairs(DATACENTERS) do if dc.location == loc then return dc end end
end

function Sim:need_location(loc)
  if not find_dc(loc) then fail("REASON_770", "Invalid location " .. tostring(loc) .. ".") end
end

function Sim:net(id)
  local n = self.network_by_id[id]
  if not n then fail("REASON_250", "Network " .. tostring(id) .. " does not exist for " .. ORG_ID .. ".") end
  return n
end

function Sim:server(id)
  local s = self.server_by_id[id]
  if not s then fail("REASON_395", "Could not find server with id " .. tostring(id) .. ".") end
  return s
end

function Sim:server_idle(s)
  if s.pending then fail("REASON_392", "An operation is already in progress on Server " .. s.id .. ".") end
end

function Sim:dc_check(loc)
  if self.dc_maintenance[loc] then
    fail("REASON_51", "The target Cloud data center " .. loc .. " is down for scheduled maintenance.")
  end
end

function Sim:need_role(role)
  local acc = self.user
  for _, r in ipairs(acc.roles) do
    if r == "primary administrator" or (role and r == role) then return end
  end
  fail("REASON_140", "Invalid role or {org-id} invalid (does not match credentials).", 403)
end

local function check_len(v, max, what, min)
  if v == nil or v == "" then
    if min and min > 0 then fail("REASON_320", what .. " is required.") end
    return
  end
  if #v > max or (min and #v < min) then fail("REASON_320", what .. " length is invalid.") end
end

local function need(v, what)
  if v == nil or v == "" then fail("REASON_320", "A required field is missing or does not contain a value: " .. what .. ".") end
  return v
end

local function is_ipv4(s)
  if type(s) ~= "string" then return false end
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  for _, x in ipairs({ a, b, c, d }) do if tonumber(x) > 255 then return false end end
  return true
end

local function parse_bool(v, what)
  if v == "true" then return true elseif v == "false" then return false end
  fail("REASON_320", what .. " must be true or false.")
end

function Sim:body_xml(req, roots)
  local node, err = xml_parse(req.body)
  if not node then fail("REASON_60", "Unexpected content in the message payload caused an XML unmarshalling error: " .. err) end
  local okname = false
  for _, r in ipairs(roots) do if node.name == r then okname = true end end
  if not okname then fail("REASON_60", "Unexpected element " .. node.name .. ".") end
  if node.ns and node.ns ~= "" then
    local base = node.ns:match("^(.*/schemas/)[%w]+$")
    if base ~= NS_LIVE and base ~= NS_DOC then
      fail("REASON_60", "Unexpected namespace " .. node.ns .. ".")
    end
  end
  return node
end

function Sim:form(req)
  local _, map = parse_pairs(req.body or "")
  local out = {}
  for k, v in pairs(map) do out[k] = v end
  return out
end

local function first(map, name)
  local v = map[name:lower()]
  if v then return v[1] end
end

---------------------------------------------------------------------------------------------
-- model operations
---------------------------------------------------------------------------------------------

function Sim:add_network(name, description, location)
  self.net_seq = self.net_seq + 1
  local n = { id = self:uuid(), name = name, description = description, location = location,
    multicast = false, privateNet = "10.162." .. (self.net_seq % 250) .. ".0", acl = {}, nat = {},
    blocks = {}, realServers = {}, probes = {}, farms = {}, profiles = {}, vips = {},
    next_ip = 11 }
  -- system ACL rules and default probes
  local defaults = { { 100, "PERMIT", "TCP", "EQUAL_TO", "22" }, { 101, "PERMIT", "TCP", "EQUAL_TO", "80" },
    { 102, "PERMIT", "TCP", "EQUAL_TO", "443" }, { 500, "DENY", "IP", "ALL" } }
  for _, d in ipairs(defaults) do
    n.acl[#n.acl + 1] = { id = self:uuid(), name = "default-" .. d[1], status = "NORMAL", position = d[1],
      action = d[2], protocol = d[3], portType = d[4], port1 = d[5], type = "OUTSIDE_ACL", system = true }
  end
  n.probes[1] = { id = self:uuid(), name = "tcp", type = "TCP", probeIntervalSeconds = "15",
    errorCountBeforeServerFail = "3", successCountBeforeServerEnable = "1",
    failedProbeIntervalSeconds = "15", maxReplyWaitSeconds = "10", default = true }
  n.probes[2] = { id = self:uuid(), name = "udp", type = "UDP", probeIntervalSeconds = "15",
    errorCountBeforeServerFail = "3", successCountBeforeServerEnable = "1",
    failedProbeIntervalSeconds = "15", maxReplyWaitSeconds = "10", default = true }
  self:add_block(n, 8, true)
  self.networks[#self.networks + 1] = n
  self.network_by_id[n.id] = n
  return n
end

function Sim:add_block(n, size, default)
  self.block_seq = self.block_seq + 1
  local b = { id = self:uuid(), baseIp = "165.180." .. (self.block_seq % 250) .. ".8",
    subnetSize = size, networkDefault = default, serverToVipConnectivity = false, used = {} }
  n.blocks[#n.blocks + 1] = b
  return b
end

function Sim:public_ip(n)
  for _, b in ipairs(n.blocks) do
    local a, bb, c, d = b.baseIp:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    for i = 0, b.subnetSize - 1 do
      local ip = a .. "." .. bb .. "." .. c .. "." .. (tonumber(d) + i)
      if not b.used[ip] then b.used[ip] = true; return ip end
    end
  end
  fail("REASON_310", "No public IP addresses available.")
end

function Sim:release_ip(n, ip)
  for _, b in ipairs(n.blocks) do b.used[ip] = nil end
end

function Sim:add_server(spec)
  local n = spec.network
  local img = spec.image
  self.created_seq = self.created_seq + 1
  local ip = n.privateNet:gsub("%.0$", "") .. "." .. n.next_ip
  n.next_ip = n.next_ip + 1
  local s = { id = self:uuid(), name = spec.name, description = spec.description,
    location = n.location, networkId = n.id, sourceImageId = img.id, os = img.os, ostype = img.ostype,
    cpuCount = img.cpuCount, memoryMb = img.memoryMb, privateIp = ip,
    machineName = "10-" .. ip:gsub("%.", "-"), created = spec.created or self.now(),
    isDeployed = false, isStarted = false, state = "PENDING_ADD", scsi = 0, disks = {} }
  s.disks[1] = { id = self:uuid(), scsiId = 0, sizeGb = img.osStorageGb, speed = "STANDARD", state = "NORMAL" }
  s.labels = img.labels
  for i, gb in ipairs(img.extra_disks or {}) do
    s.disks[#s.disks + 1] = { id = self:uuid(), scsiId = i, sizeGb = gb, speed = "STANDARD", state = "NORMAL" }
    s.scsi = i
  end
  self.servers[#self.servers + 1] = s
  self.server_by_id[s.id] = s
  return s
end

-- Seeds data: kind "servers" (n deployed servers on a network in NA1), "networks" (n networks).
-- Kind "speed" is a setting, not data: pending work (deploy, power actions, disks, image
-- import/export/copy) completes n times faster than configured (n = 1 restores the configured
-- delays; kept across reset) so real-time clients (nginx) can run long sequences quickly.
function Sim:seed(kind, n)
  self:changed()
  n = tonumber(n) or 1
  local now = self.now()
  if kind == "speed" then
    if n < 1 then error("speed must be >= 1", 0) end
    self.deploy_seconds = self.base_seconds.deploy / n
    self.action_seconds = self.base_seconds.action / n
    return { deploy_seconds = self.deploy_seconds, action_seconds = self.action_seconds }
  elseif kind == "failures" then
    -- n of each kind of failed operation that left a locked object behind (their status
    -- carries the failureReason): a failed deployment and a deployed server whose last action
    -- failed, on the newest network; a failed clone and a failed export of a deployed image
    local net = self.networks[#self.networks] or self:add_network("seed-failed", "seeded", "NA1")
    local out = { failed_deployments = {}, failed_actions = {}, failed_images = {}, failed_exports = {} }
    local function info(action, why) return { action = action, start = now, user = "demo", failure = why } end
    for _ = 1, n do
      local s = self:add_server({ network = net, image = self.images[1], name = "failed-" .. (#self.servers + 1),
        description = "seeded failure" })
      s.state, s.failed = "FAILED_ADD", info("DEPLOY_SERVER", "Guest OS customization failed")
      table.insert(out.failed_deployments, s.id)
      s = self:add_server({ network = net, image = self.images[1], name = "failed-" .. (#self.servers + 1),
        description = "seeded failure" })
      s.isDeployed, s.isStarted, s.state = true, true, "FAILED_CHANGE"
      s.failed = info("ADD_DISK", "Additional local storage could not be added because the datastore is full")
      table.insert(out.failed_actions, s.id)
      for _, what in ipairs({ "failed_images", "failed_exports" }) do
        local base = self.images[1]
        local img = { id = self:uuid(), name = what .. "-" .. (#self.images + 1), description = "seeded failure",
          location = net.location, os = base.os, ostype = base.ostype, cpuCount = base.cpuCount,
          memoryMb = base.memoryMb, osStorageGb = base.osStorageGb, created = iso(now) }
        if what == "failed_images" then
          img.state, img.failed = "FAILED_ADD", info("CLONE_SERVER", "Image clone failed")
        else
          img.state, img.failed_export = "NORMAL", info("IMAGE_EXPORT", "Image export failed because the disk is busy")
        end
        self.images[#self.images + 1] = img
        self.image_by_id[img.id] = img
        table.insert(out[what], img.id)
      end
    end
    return out
  elseif kind == "networks" then
    local out = {}
    for i = 1, n do out[i] = self:add_network("seed-net-" .. (#self.networks + 1), "seeded", DATACENTERS[(i - 1) % 3 + 1].location).id end
    return { networks = out }
  elseif kind == "servers" then
    local net = self.seed_net
    if not net or not self.network_by_id[net.id] then
      net = self:add_network("seed-servers-" .. (#self.networks + 1), "seeded servers", "NA1")
      self.seed_net = net
    end
    local img = self.images[1]
    local ids = {}
    for i = 1, n do
      local s = self:add_server({ network = net, image = img, name = string.format("seed-%04d", #self.servers + 1),
        description = "seeded", created = now - n + i })
      s.isDeployed, s.isStarted, s.state = true, (i % 2 == 0), "NORMAL"
      ids[i] = s.id
    end
    return { network_id = net.id, servers = ids }
  end
  error("dimensiondata sim: unknown seed kind " .. tostring(kind), 0)
end

-- The API's own error responses for host-level faults.
function Sim:fault(kind)
  if kind == "maintenance" then
    local h = xml_headers()
    h["Retry-After"] = "60"
    return 503, h, self:status_doc(nil, "ERROR", "System is down for scheduled maintenance.", "REASON_5")
  elseif kind == "rate_limit" then
    local h = xml_headers()
    h["Retry-After"] = "1"
    return 429, h, self:status_doc("Usage Report", "ERROR",
      "Too Many Requests: the concurrent report request limit has been reached.", "REASON_529")
  elseif kind == "expired_session" then
    -- Basic auth has no session: what expires is the credentials, refused as in section 1.3
    -- ("401 (Unauthorized) - Invalid request credentials."), the same answer as a wrong password
    return 401, { ["WWW-Authenticate"] = 'Basic realm="Cloud API"', ["Content-Type"] = "text/plain" },
      "Invalid request credentials.\n"
  elseif kind == "dc_maintenance" then
    return 400, xml_headers(), self:status_doc(nil, "ERROR",
      "The target Cloud data center is down for scheduled maintenance.", "REASON_51")
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- handlers; each returns status, headers, body (or raises fail(...))
---------------------------------------------------------------------------------------------

local H = {}

local function list_doc(self, root, kind, items, attrs)
  return 200, xml_headers(), self:xml(E(root, attrs, items), kind)
end

function H.myaccount(self)
  local a = self.user
  local roles = {}
  for _, r in ipairs(a.roles) do roles[#roles + 1] = E("role", nil, { E("name", nil, r) }) end
  return 200, xml_headers(), self:xml(E("Account", nil, {
    E("userName", nil, a.userName), E("fullName", nil, a.fullName), E("firstName", nil, a.firstName),
    E("lastName", nil, a.lastName), E("emailAddress", nil, a.emailAddress), E("orgId", nil, ORG_ID),
    E("roles", nil, roles) }), "directory")
end

function H.accounts(self)
  local items = {}
  for _, a in ipairs(self.accounts) do
    local roles = {}
    for _, r in ipairs(a.roles) do roles[#roles + 1] = E("role", nil, { E("name", nil, r) }) end
    items[#items + 1] = E("Account", nil, { E("userName", nil, a.userName), E("fullName", nil, a.fullName),
      E("firstName", nil, a.firstName), E("lastName", nil, a.lastName),
      E("emailAddress", nil, a.emailAddress), E("department", nil, a.department or ""),
      E("customDefined1", nil, a.customDefined1 or ""), E("customDefined2", nil, a.customDefined2 or ""),
      E("orgId", nil, ORG_ID), E("roles", nil, roles) })
  end
  return list_doc(self, "Accounts", "directory", items)
end

local VALID_ROLES = { network = true, server = true, backup = true, ["create image"] = true,
  storage = true, reports = true, ["read only"] = true }

function H.add_account(self, req)
  self:need_role(nil)
  local x = self:body_xml(req, { "Account" })
  local user = need(ktext(x, "userName"), "userName")
  if #user > 32 or not user:match("^[%w%._%-]+$") or user:sub(1, 1) == "-" then
    fail("REASON_121", "Invalid Username (check allowed characters).")
  end
  for _, a in ipairs(self.accounts) do
    if a.userName == user then fail("REASON_120", "Username already exists (must be unique).") end
  end
  local pw = need(ktext(x, "password"), "password")
  if #pw < 8 or #pw > 75 then fail("REASON_122", "Invalid Password.") end
  if ktext(x, "orgId") ~= ORG_ID then fail("REASON_320", "<orgId> in request body does not match {org-id} on URL.") end
  local roles = {}
  local rs = kid(x, "roles")
  for _, r in ipairs(rs and kids(rs, "role") or {}) do
    local name = ktext(r, "name")
    if not VALID_ROLES[name or ""] then fail("REASON_123", "Invalid Roles (check rules above).") end
    roles[#roles + 1] = name
  end
  if #roles == 0 then roles = { "read only" } end
  self.accounts[#self.accounts + 1] = { userName = user, password = pw, fullName = ktext(x, "fullName"),
    firstName = ktext(x, "firstName"), lastName = ktext(x, "lastName"),
    emailAddress = ktext(x, "emailAddress"), roles = roles, department = ktext(x, "department"),
    customDefined1 = ktext(x, "customDefined1"), customDefined2 = ktext(x, "customDefined2") }
  return ok(self, "Add Account", "Account " .. user .. " created")
end

function H.account_action(self, req, user)
  local acc, idx
  for i, a in ipairs(self.accounts) do if a.userName == user then acc, idx = a, i end end
  if req.method == "POST" then
    if self.user.userName ~= user then self:need_role(nil) end
    if not acc then fail("REASON_110", "Could not find user account.") end
    local f = self:form(req)
    local pw = first(f, "password")
    if pw then
      if #pw < 8 or #pw > 75 then fail("REASON_122", "Invalid Password.") end
      acc.password = pw
    end
    for _, k in ipairs({ "emailAddress", "fullName", "firstName", "lastName", "department", "customDefined1",
      "customDefined2" }) do
      local v = first(f, k)
      if v then acc[k] = v end
    end
    if f.role then
      local roles = {}
      for _, r in ipairs(f.role) do
        if not VALID_ROLES[r] then fail("REASON_123", "Invalid Roles (check rules above).") end
        roles[#roles + 1] = r
      end
      if acc.roles[1] == "primary administrator" then table.insert(roles, 1, "primary administrator") end
      acc.roles = roles
    end
    return ok(self, "Update Account", "Account " .. user .. " updated")
  end
  self:need_role(nil)
  if not acc then fail("REASON_110", "Could not find user account " .. user .. ".") end
  if req.flag == "delete" then
    if acc.roles[1] == "primary administrator" then fail("REASON_130", "Cannot delete Primary Administrator.") end
    table.remove(self.accounts, idx)
    return ok(self, "Delete Account", "Delete Account " .. user .. " submitted")
  elseif req.flag == "primary" then
    for _, a in ipairs(self.accounts) do
      if a.roles[1] == "primary administrator" then table.remove(a.roles, 1); if #a.roles == 0 then a.roles = { "read only" } end end
    end
    table.insert(acc.roles, 1, "primary administrator")
    return ok(self, "Designate Primary Admin Account", "Designate Primary Admin Account " .. user .. " submitted")
  end
  fail("REASON_420", "Unsupported action.")
end

local DC_PAGING = { filters = { location = { name = "location", kind = "string", get = function(d) return d.location end } },
  order = { location = function(d) return d.location end }, default_order = {} }

function H.datacenters_paged(self, req, style, root)
  local page, attrs = self:page(req.qmap, DC_PAGING, DATACENTERS)
  local items = {}
  for _, dc in ipairs(page) do items[#items + 1] = self:datacenter_node(dc, style) end
  return list_doc(self, root, "datacenter", items, attrs)
end

function H.datacenters(self, req, style)
  local items = {}
  for _, dc in ipairs(DATACENTERS) do items[#items + 1] = self:datacenter_node(dc, style) end
  return list_doc(self, "Datacenters", "datacenter", items)
end

function H.geos(self, req, with_key)
  local base = self.base_url or "https://api-na.dimensiondata.com"
  return list_doc(self, "Geos", "multigeo", { E("geo", nil, compact({
    E("id", nil, "4503ed6e-2e44-11e2-81d1-4b7e977ca8d3"), E("name", nil, "North America"),
    with_key and E("geoKey", nil, "northamerica") or false,
    E("cloudUiUrl", nil, "https://na.cloud.example"), E("cloudApiUrl", nil, base .. "/oec/0.9"),
    E("isHome", nil, "true"), E("productKey", nil, "NA"), E("pricingUrl", nil, "https://pricing.example"),
    E("state", nil, "ENABLED") })) })
end

function H.software_labels(self)
  return list_doc(self, "SoftwareLabels", "server", {
    E("softwareLabel", { { "id", "MSSQL2008R2S" } }, { E("displayName", nil, "MS SQL 2008 R2 Standard"),
      E("description", nil, "Microsoft SQL Server 2008 R2 Standard"), E("pricedPer", nil, "CPU"),
      E("runningUnits", nil, "4"), E("stoppedUnits", nil, "0") }) })
end

function H.os_images(self, req, loc, root, elname, style)
  if loc then self:need_location(loc) end
  local items = {}
  for _, img in ipairs(self.images) do
    if img.base and (not loc or img.location == loc) and (loc or img.location == "NA1") then
      if style == "server_image" then
        items[#items + 1] = self:legacy_image_node(img)
      else
        items[#items + 1] = self:deployed_image_node(img, elname)
      end
    end
  end
  return list_doc(self, root, "server", items)
end

-- Web, database and partner images (section 12.6-12.8): pre-built stacks, listed only.
local PROVIDER_IMAGES = {
  web = { { "Microsoft Windows Server 2008 IIS 7", "WIN2008/32", "WINDOWS", 2, 4096, 62 },
    { "RedHat 5 Apache 2.2 PHP 5", "REDHAT5/64", "UNIX", 1, 2048, 20 } },
  db = { { "Microsoft SQL Server 2008 Standard", "WIN2008/64", "WINDOWS", 4, 8192, 100 },
    { "RedHat 5 MySQL 5.1", "REDHAT5/64", "UNIX", 2, 4096, 50 } },
  partner = { { "Partner Appliance 1.0", "REDHAT5/64", "UNIX", 1, 2048, 20 } },
}

function H.provider_images(self, kind)
  local items = {}
  for i, x in ipairs(PROVIDER_IMAGES[kind]) do
    items[#items + 1] = self:legacy_image_node({ base = true, id = string.format("c055e1df-%04d-4000-8000-%012d", #kind, i),
      name = x[1], description = x[1] .. ", " .. x[4] .. " CPU, " .. math.floor(x[5] / 1024) .. " GB RAM, " .. x[6] .. " GB",
      os = x[2], ostype = x[3], cpuCount = x[4], memoryMb = x[5], osStorageGb = x[6], location = "",
      created = iso(1230000000) })
  end
  return list_doc(self, "ServerImages", "server", items)
end

function H.customer_images(self, req, loc, pending, root, elname)
  if loc then self:need_location(loc) end
  local items = {}
  for _, img in ipairs(self.images) do
    if not img.base and (not loc or img.location == loc) and (((img.pending or img.failed) ~= nil) == pending) then
      items[#items + 1] = elname == "ServerImage" and self:legacy_image_node(img) or self:deployed_image_node(img, elname)
    end
  end
  return list_doc(self, root, "server", items)
end

function H.name_exists(self, req)
  local x = self:body_xml(req, { "ImageNameExists" })
  local loc, name = ktext(x, "location"), ktext(x, "imageName")
  local found = false
  for _, img in ipairs(self.images) do
    if not img.base and img.location == loc and img.name == name then found = true end
  end
  return 200, xml_headers(), self:xml(E("Exists", nil, bool(found)), "general")
end

function H.image(self, req, id)
  local img = self.image_by_id[id]
  if not img then fail("REASON_390", "Could not find server image for ID " .. id) end
  if req.method == "POST" then
    self:need_role("create image")
    if img.base then fail("REASON_390", "Could not find customer image for ID " .. id) end
    if img.pending then fail("REASON_601", "Operation in progress on image " .. id .. ".") end
    local d = first(self:form(req), "description")
    check_len(d, 255, "description")
    img.description = d
    return ok(self, "Modify Image", "Image " .. id .. " modified")
  end
  if req.flag == "delete" or req.flag == "clean" then
    self:need_role("create image")
    if img.base then fail("REASON_390", "Could not find customer server image for ID " .. id) end
    if req.flag == "clean" and img.state ~= "FAILED_ADD" then fail("REASON_40", "Image is not in a failed state.") end
    if img.pending then fail("REASON_601", "Operation in progress on image " .. id .. ".") end
    for i, x in ipairs(self.images) do if x == img then table.remove(self.images, i) break end end
    self.image_by_id[id] = nil
    if req.flag == "clean" then return ok(self, "Clean Failed Image", "Successfully submitted clean failed image request") end
    return ok(self, "Delete Server Image", "Server Image " .. id .. " deleted")
  end
  if req.flag then fail("REASON_420", "Unsupported action " .. req.flag) end
  return 200, xml_headers(), self:xml(self:image_state_node(img), "server")
end

local function server_paging(self)
  local f = {}
  local function add(name, kind, get) f[name:lower()] = { name = name, kind = kind, get = get } end
  add("created", "date", function(s) return s.created end)
  add("deployed", "boolean", function(s) return bool(s.isDeployed) end)
  add("id", "string", function(s) return s.id end)
  add("location", "string", function(s) return s.location end)
  add("machineName", "string", function(s) return s.machineName end)
  add("name", "string", function(s) return s.name end)
  add("networkId", "string", function(s) return s.networkId end)
  add("privateIp", "string", function(s) return s.privateIp end)
  add("sourceImageId", "string", function(s) return s.sourceImageId end)
  local o = {
    id = function(s) return s.id end, location = function(s) return s.location end,
    networkid = function(s) return s.networkId end, sourceimageid = function(s) return s.sourceImageId end,
    deployed = function(s) return bool(s.isDeployed) end, name = function(s) return s.name end,
    created = function(s) return s.created end, state = function(s) return s.state end,
    started = function(s) return bool(s.isStarted) end, operatingsystemid = function(s) return s.os end,
  }
  return { filters = f, order = o, default_order = { "created" } }
end

function H.servers_paged(self, req, root, elname, with_backup)
  local spec = server_paging(self)
  local net = first(req.qmap, "networkId")
  if net and not self.network_by_id[net] then fail("REASON_250", "Network " .. net .. " not found for " .. ORG_ID .. ".") end
  local loc = first(req.qmap, "location")
  if loc and not req.qmap["location.min"] and not find_dc(loc) then fail("REASON_770", "Invalid location " .. loc .. ".") end
  local page, attrs = self:page(req.qmap, spec, self.servers)
  local items = {}
  for _, s in ipairs(page) do items[#items + 1] = self:server_node(s, elname, with_backup) end
  return list_doc(self, root, "server", items, attrs)
end

function H.servers_legacy(self, req, netid, deployed, root, elname, with_status)
  if netid then self:net(netid) end
  local items = {}
  for _, s in ipairs(self.servers) do
    if (not netid or s.networkId == netid) and (deployed == nil or s.isDeployed == deployed) then
      items[#items + 1] = self:legacy_server_node(s, elname, with_status)
    end
  end
  return list_doc(self, root, "server", items)
end

local function path_id(p, kind)
  if type(p) ~= "string" then return nil end
  if kind == "network" then return p:match("/network/([^/]+)/?$") end
  return p:match("/image/([^/]+)/?$")
end

function H.deploy(self, req)
  self:need_role("server")
  local x = self:body_xml(req, { "Server" })
  local name = need(ktext(x, "name"), "name")
  check_len(name, 75, "name", 1)
  check_len(ktext(x, "description"), 255, "description")
  local netid = path_id(need(ktext(x, "vlanResourcePath"), "vlanResourcePath"), "network")
  local imgid = path_id(need(ktext(x, "imageResourcePath"), "imageResourcePath"), "image")
  local n = self:net(netid or "?")
  local img = self.image_by_id[imgid or "?"]
  if not img then fail("REASON_390", "Could not find server image for ID " .. tostring(imgid)) end
  if img.location ~= n.location then fail("REASON_390", "Image " .. img.id .. " is not in data center " .. n.location .. ".") end
  self:dc_check(n.location)
  local pw = need(ktext(x, "administratorPassword"), "administratorPassword")
  local started = parse_bool(need(ktext(x, "isStarted"), "isStarted"), "isStarted")
  if #pw < 8 then fail("REASON_320", "administratorPassword is too short.") end
  local s = self:add_server({ network = n, image = img, name = name, description = ktext(x, "description") })
  local user = self.user.userName
  self:start_pending(s, "DEPLOY_SERVER", self.deploy_seconds, user, function(sv)
    sv.isDeployed, sv.isStarted, sv.state = true, started, "NORMAL"
    self:record(user, "SERVER", sv.name, "Deploy Server", "Deployed " .. sv.name)
  end, "PENDING_ADD")
  self:record(user, "SERVER", name, "Deploy Server", "ATTEMPT: Deploy " .. name, "")
  return ok(self, "Deploy Server", 'Server "Deploy" issued')
end

local SERVER_ACTIONS = {
  start = { "Start Server", "Start", function(s) return not s.isStarted end, function(s) s.isStarted = true end, "START_SERVER" },
  shutdown = { "Shutdown Server", "Graceful Shutdown", function(s) return s.isStarted end, function(s) s.isStarted = false end, "SHUTDOWN_SERVER" },
  poweroff = { "Power Off Server", "Power Off", function(s) return s.isStarted end, function(s) s.isStarted = false end, "POWER_OFF_SERVER" },
  stop = { "Stop Server", "Stop", function(s) return s.isStarted end, function(s) s.isStarted = false end, "POWER_OFF_SERVER" },
  reboot = { "Reboot Server", "Graceful Reboot", function(s) return s.isStarted end, function() end, "REBOOT_SERVER" },
  reset = { "Reset Server", "Reset", function(s) return s.isStarted end, function() end, "RESET_SERVER" },
  restart = { "Restart Server", "Restart", function(s) return s.isStarted end, function() end, "RESET_SERVER" },
  updateVMwareTools = { "Update VMware Tools", "update vmware tools", function() return true end, function() end, "UPDATE_VMWARE_TOOLS" },
}

function H.server(self, req, id)
  local s = self:server(id)
  local user = self.user.userName
  if req.method == "POST" then
    self:need_role("server")
    self:server_idle(s)
    local f = self:form(req)
    local pip = first(f, "privateIp")
    if pip then
      if f.name or f.cpucount or f.memory or f.description then fail("REASON_320", "privateIp cannot be combined with other fields.") end
      if not is_ipv4(pip) then fail("REASON_320", "Invalid IP address " .. pip) end
      local prefix = s.privateIp:match("^(.*)%.%d+$")
      local last = tonumber(pip:match("%.(%d+)$"))
      if pip:match("^(.*)%.%d+$") ~= prefix or last <= 10 then fail("REASON_240", "Private IP " .. pip .. " is not valid in this network.") end
      for _, o in ipairs(self.servers) do
        if o ~= s and o.privateIp == pip then fail("REASON_241", "IP address " .. pip .. " is already reserved.") end
      end
      s.privateIp = pip
      return ok(self, "Notify Server IP Change", "Server IP address updated")
    end
    local name, desc = first(f, "name"), first(f, "description")
    local cpu, mem = first(f, "cpuCount"), first(f, "memory")
    if name then check_len(name, 75, "name", 1) end
    if desc then check_len(desc, 255, "description") end
    if cpu and not (cpu:match("^%d+$") and tonumber(cpu) >= 1 and tonumber(cpu) <= 16) then fail("REASON_320", "Invalid cpuCount.") end
    if mem and not (mem:match("^%d+$") and tonumber(mem) % 1024 == 0 and tonumber(mem) > 0) then
      fail("REASON_320", "memory must be a whole number of GB in MB.")
    end
    if name then s.name = name end
    if desc then s.description = desc ~= "" and desc or nil end
    if cpu or mem then
      self:start_pending(s, "RECONFIGURE_SERVER", self.action_seconds, user, function(sv)
        if cpu then sv.cpuCount = tonumber(cpu) end
        if mem then sv.memoryMb = tonumber(mem) end
        sv.state = "NORMAL"
      end)
    end
    return ok(self, "Edit Server", "Server edited")
  end
  local flag = req.flag
  local clone = first(req.qmap, "clone")
  if clone then
    self:need_role("create image")
    self:server_idle(s)
    check_len(clone, 75, "clone", 1)
    local desc = first(req.qmap, "desc")
    check_len(desc, 255, "desc")
    if s.backup then fail("REASON_550", "Backup must be disabled first.") end
    for _, img in ipairs(self.images) do
      if not img.base and img.location == s.location and img.name == clone then
        fail("REASON_391", "Image name " .. clone .. " is already in use.")
      end
    end
    local src = self.image_by_id[s.sourceImageId] or self.images[1]
    local img = { id = self:uuid(), name = clone, description = desc, location = s.location, os = s.os,
      ostype = s.ostype, cpuCount = s.cpuCount, memoryMb = s.memoryMb, osStorageGb = src.osStorageGb,
      state = "PENDING_ADD", created = iso(self.now()), sourceServerId = s.id, labels = s.labels,
      extra_disks = {} }
    for i = 2, #s.disks do img.extra_disks[#img.extra_disks + 1] = s.disks[i].sizeGb end
    self.images[#self.images + 1] = img
    self.image_by_id[img.id] = img
    self:start_pending(img, "CLONE_SERVER", self.action_seconds * 2, user, function(im)
      im.state = "NORMAL"; im.created = iso(self.now())
    end, "PENDING_ADD")
    self:start_pending(s, "CLONE_SERVER", self.action_seconds * 2, user, function(sv) sv.state = "NORMAL" end)
    return ok(self, "Clone Server", 'Server "Clone" issued')
  end
  if not flag then
    -- deprecated Get Server Details
    return 200, xml_headers(), self:xml(E("Server", nil, {
      E("id", nil, s.id), E("name", nil, s.name), E("description", nil, s.description or ""),
      E("vlanResourcePath", nil, "/oec/" .. ORG_ID .. "/network/" .. s.networkId),
      E("imageResourcePath", nil, "/oec/base/image/" .. s.sourceImageId),
      self:image_os({ ostype = s.ostype, os = s.os }), E("cpuCount", nil, tostring(s.cpuCount)),
      E("memory", nil, tostring(s.memoryMb)), E("osStorage", nil, tostring(s.disks[1].sizeGb)),
      E("additionalLocalStorage", nil, "0"), E("machineName", nil, s.machineName),
      E("privateIPAddress", nil, s.privateIp), E("isDeployed", nil, bool(s.isDeployed)),
      E("isStarted", nil, bool(s.isStarted)), E("created", nil, iso(s.created)) }), "server")
  end
  self:need_role("server")
  self:dc_check(s.location)
  if flag == "clean" then
    if s.state ~= "FAILED_ADD" then fail("REASON_392", "Server " .. id .. " is not a failed deployment.") end
    s.deleted = true
    for i, x in ipairs(self.servers) do if x == s then table.remove(self.servers, i) break end end
    self.server_by_id[s.id] = nil
    return ok(self, "Clean Failed Server Deployment", "Successfully submitted clean failed server request")
  end
  self:server_idle(s)
  if flag == "delete" then
    if s.isStarted then fail("REASON_40", "Server must be stopped before it can be deleted.") end
    if s.backup then fail("REASON_550", "Backup must be disabled first.") end
    local net = self.network_by_id[s.networkId]
    for _, rs in ipairs(net and net.realServers or {}) do
      if rs.serverId == s.id then fail("REASON_393", "Server is associated with a Real Server.") end
    end
    for _, r in ipairs(self.rules) do
      if r.servers[1] == s.id or r.servers[2] == s.id then fail("REASON_692", "Server is in an anti-affinity rule.") end
    end
    self:start_pending(s, "DELETE_SERVER", self.action_seconds, user, function(sv) sv.deleted = true end, "PENDING_DELETE")
    return ok(self, "Delete Server", 'Server "Delete" issued')
  elseif flag == "addLocalStorage" then
    local amount = first(req.qmap, "amount")
    if not amount or not tostring(amount):match("^%d+$") or tonumber(amount) < 1 or tonumber(amount) > 1000 then
      fail("REASON_320", "Invalid amount.")
    end
    local speed = first(req.qmap, "speed") or "STANDARD"
    if speed ~= "STANDARD" and speed ~= "HIGHPERFORMANCE" and speed ~= "ECONOMY" then fail("REASON_320", "Invalid speed " .. speed) end
    if #s.disks >= 14 then fail("REASON_826", "Maximum number of disks reached.") end
    s.scsi = s.scsi + 1
    local d = { id = self:uuid(), scsiId = s.scsi, sizeGb = tonumber(amount), speed = speed, state = "PENDING_ADD" }
    s.disks[#s.disks + 1] = d
    self:start_pending(s, "ADD_DISK", self.action_seconds, user, function(sv) d.state = "NORMAL"; sv.state = "NORMAL" end)
    return ok(self, "Add Storage", 'Server "Add Storage" issued; new disk will have SCSI ID ' .. d.scsiId)
  end
  local a = SERVER_ACTIONS[flag]
  if not a then fail("REASON_420", "Unsupported action " .. tostring(flag)) end
  if not s.isDeployed then fail("REASON_40", "Server is not deployed.") end
  if not a[3](s) then fail("REASON_40", "INVALID_STATE_TRANSITION: server is " .. (s.isStarted and "running" or "stopped") .. ".") end
  self:start_pending(s, a[5], self.action_seconds, user, function(sv) a[4](sv); sv.state = "NORMAL" end)
  return ok(self, a[1], 'Server "' .. a[2] .. '" issued')
end

function H.disk(self, req, id, diskid, change)
  self:need_role("server")
  local s = self:server(id)
  self:server_idle(s)
  local d
  for i, x in ipairs(s.disks) do if x.id == diskid then d = x end end
  if not d then fail("REASON_394", "Disk " .. diskid .. " not found.") end
  if change then
    local x = self:body_xml(req, { "ChangeDiskSpeed" })
    local sp = ktext(x, "speed")
    if sp ~= "STANDARD" and sp ~= "HIGHPERFORMANCE" and sp ~= "ECONOMY" then fail("REASON_320", "Invalid speed.") end
    self:start_pending(s, "CHANGE_DISK_SPEED", self.action_seconds, self.user.userName, function(sv) d.speed = sp; sv.state = "NORMAL" end)
    return ok(self, "Change Disk Speed", "Change disk speed issued", nil, "RESULT_0")
  end
  if req.flag ~= "delete" then fail("REASON_420", "Unsupported action.") end
  if d.scsiId == 0 then fail("REASON_696", "The OS disk cannot be removed.") end
  d.state = "PENDING_DELETE"
  self:start_pending(s, "DELETE_DISK", self.action_seconds, self.user.userName, function(sv)
    for i, x in ipairs(sv.disks) do if x == d then table.remove(sv.disks, i) break end end
    sv.state = "NORMAL"
  end)
  return ok(self, "Remove Storage", 'Server "Disk Delete" issued')
end

local RULE_PAGING = {
  filters = { id = { name = "id", kind = "string", get = function(r) return r.id end },
    location = { name = "location", kind = "string", get = function(r) return r.location end },
    networkid = { name = "networkId", kind = "string", get = function(r) return r.networkId end } },
  order = { id = function(r) return r.id end, location = function(r) return r.location end,
    networkid = function(r) return r.networkId end, created = function(r) return r.created end },
  default_order = { "created" },
}

function H.anti_affinity(self, req, id)
  if id then
    self:need_role("server")
    for i, r in ipairs(self.rules) do
      if r.id == id then
        table.remove(self.rules, i)
        return ok(self, "Delete Anti Affinity Rule", "Anti Affinity Rule deleted", nil, "RESULT_0")
      end
    end
    fail("REASON_693", "Anti-affinity rule " .. id .. " not found.")
  end
  if req.method == "POST" then
    self:need_role("server")
    local x = self:body_xml(req, { "NewAntiAffinityRule" })
    local ids = kids(x, "serverId")
    if #ids ~= 2 then fail("REASON_320", "Exactly two serverId elements are required.") end
    local a, b = self:server(ids[1].text), self:server(ids[2].text)
    if a == b then fail("REASON_320", "The two servers must differ.") end
    if a.networkId ~= b.networkId then fail("REASON_691", "Servers must be on the same network.") end
    for _, r in ipairs(self.rules) do
      for _, sid in ipairs(r.servers) do
        if sid == a.id or sid == b.id then fail("REASON_692", "A server can only be in one anti-affinity rule.") end
      end
    end
    local r = { id = self:uuid(), servers = { a.id, b.id }, networkId = a.networkId, location = a.location,
      created = self.now(), state = "NORMAL" }
    self.rules[#self.rules + 1] = r
    return ok(self, "Create Anti Affinity Rule", "Anti Affinity Rule created", { { "antiaffinityrule.id", r.id } }, "RESULT_0")
  end
  local page, attrs = self:page(req.qmap, RULE_PAGING, self.rules)
  local items = {}
  for _, r in ipairs(page) do
    local ss = {}
    for _, sid in ipairs(r.servers) do
      local s = self.server_by_id[sid]
      local n = s and self.network_by_id[s.networkId]
      ss[#ss + 1] = E("serverSummary", { { "id", sid } }, { E("name", nil, s and s.name or ""),
        E("description", nil, s and s.description or ""), E("privateIp", nil, s and s.privateIp or ""),
        E("networkId", nil, r.networkId), E("networkName", nil, n and n.name or "") })
    end
    items[#items + 1] = E("antiAffinityRule", { { "location", r.location }, { "created", iso(r.created) },
      { "state", r.state }, { "id", r.id } }, ss)
  end
  return list_doc(self, "AntiAffinityRules", "server", items, attrs)
end

function H.backup(self, req, id, sub)
  local s = self:server(id)
  if req.method == "POST" and not sub then
    self:need_role("backup")
    local x = self:body_xml(req, { "NewBackup" })
    local plan = x.attrs.servicePlan
    if plan ~= "Essentials" and plan ~= "Advanced" and plan ~= "Enterprise" then fail("REASON_320", "Invalid servicePlan.") end
    if s.backup then fail("REASON_550", "Backup is already enabled.") end
    s.backup = { assetId = self:uuid(), state = "NORMAL", servicePlan = plan }
    return ok(self, "Enable Backup", "Backup enabled for Server " .. id, { { "assetId", s.backup.assetId } })
  elseif req.method == "POST" and sub == "modify" then
    self:need_role("backup")
    local x = self:body_xml(req, { "ModifyBackup" })
    local plan = x.attrs.servicePlan
    if plan ~= "Essentials" and plan ~= "Advanced" and plan ~= "Enterprise" then fail("REASON_320", "Invalid servicePlan.") end
    if not s.backup then fail("REASON_541", "Backup is not enabled for this server.") end
    s.backup.servicePlan = plan
    return ok(self, "Change Backup Service Plan", "Backup service plan changed")
  end
  if req.flag == "disable" then
    self:need_role("backup")
    if not s.backup then fail("REASON_541", "Backup is not enabled for this server.") end
    if s.backup.clients and #s.backup.clients > 0 then fail("REASON_548", "All Backup Clients must be removed first.") end
    s.backup = nil
    return ok(self, "Disable Backup", "Backup disabled for Server " .. id)
  end
  return self:backup_details(s)
end

function H.networks_with_location(self, req, loc)
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "NewNetworkWithLocation" })
    local name = need(ktext(x, "name"), "name")
    local desc = ktext(x, "description")
    local location = need(ktext(x, "location"), "location")
    if #name > 75 or (desc and #desc > 255) then fail("REASON_320", "Name exceeds 75 characters or description exceeds 255 characters.") end
    self:need_location(location)
    for _, n in ipairs(self.networks) do
      if n.name == name then fail("REASON_210", "Network name " .. name .. " is not unique.") end
    end
    local n = self:add_network(name, desc, location)
    self:record(self.user.userName, "NETWORK", name, "Add Network", "Network " .. n.id .. " added")
    return ok(self, "Add Network", "Network added")
  end
  if loc then self:need_location(loc) end
  local items = {}
  for _, n in ipairs(self.networks) do
    if not loc or n.location == loc then items[#items + 1] = self:network_node(n, true) end
  end
  return list_doc(self, "NetworkWithLocations", "network", items)
end

function H.networks_legacy(self, req)
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "Network" })
    local name = need(ktext(x, "name"), "name")
    local desc = ktext(x, "description")
    if #name > 75 or (desc and #desc > 255) then fail("REASON_320", "Name exceeds 75 characters or description exceeds 255 characters.") end
    for _, n in ipairs(self.networks) do
      if n.name == name then fail("REASON_210", "Network name " .. name .. " is not unique.") end
    end
    self:add_network(name, desc, "NA1")
    return ok(self, "Add Network", "Network added")
  end
  local items = {}
  for _, n in ipairs(self.networks) do
    if n.location == "NA1" then items[#items + 1] = self:network_node(n, false) end
  end
  return list_doc(self, "Networks", "network", items)
end

function H.network(self, req, id)
  local n = self:net(id)
  if req.method == "POST" then
    self:need_role("network")
    local f = self:form(req)
    local name, desc = first(f, "name"), first(f, "description")
    if name then
      check_len(name, 75, "name", 1)
      for _, o in ipairs(self.networks) do
        if o ~= n and o.name == name then fail("REASON_210", "Network name " .. name .. " already taken.") end
      end
    end
    if desc then check_len(desc, 255, "description") end
    if name then n.name = name end
    if desc then n.description = desc end
    return ok(self, "Edit Network", "Network edited")
  end
  if req.flag == "delete" then
    self:need_role("network")
    if n.multicast then fail("REASON_371", "Network is in Multicast mode.") end
    for _, s in ipairs(self.servers) do
      if s.networkId == id then
        if s.isDeployed then fail("REASON_380", "Network contains Server(s).") end
        fail("REASON_381", "Network contains Pending Deployment Server(s).")
      end
    end
    if #n.nat > 0 then fail("REASON_382", "Network contains NAT Rule(s).") end
    if #n.blocks > 1 then fail("REASON_384", "Network contains IP Block(s).") end
    if #n.realServers > 0 then fail("REASON_387", "Network contains Real Server(s).") end
    if #n.farms > 0 then fail("REASON_388", "Network contains Server Farm(s).") end
    if #n.vips > 0 then fail("REASON_389", "Network contains VIP(s).") end
    if #n.profiles > 0 then fail("REASON_397", "Network contains Persistence Profile(s).") end
    for i, x in ipairs(self.networks) do if x == n then table.remove(self.networks, i) break end end
    self.network_by_id[id] = nil
    self:record(self.user.userName, "NETWORK", n.name, "Delete Network", "Network " .. id .. " deleted")
    return ok(self, "Delete Network", "Network deleted successfully")
  end
  if req.flag then fail("REASON_420", "Unsupported action.") end
  return 200, xml_headers(), self:xml(self:network_node(n, false), "network")
end

function H.network_config(self, req, id, with_location)
  local n = self:net(id)
  local blocks = {}
  for _, b in ipairs(n.blocks) do
    blocks[#blocks + 1] = E("IpBlock", nil, compact({ E("id", nil, b.id), E("baseIp", nil, b.baseIp),
      E("subnetSize", nil, tostring(b.subnetSize)), E("networkDefault", nil, bool(b.networkDefault)),
      with_location and E("serverToVipConnectivity", nil, bool(b.serverToVipConnectivity)) or false }))
  end
  local ips = { E("subnetSize", nil, "256") }
  for _, s in ipairs(self.servers) do
    if s.networkId == id then ips[#ips + 1] = E("Ip", nil, s.privateIp) end
  end
  if with_location then
    return 200, xml_headers(), self:xml(E("NetworkConfigurationWithLocation", nil, {
      E("id", nil, n.id), E("name", nil, n.name), E("description", nil, n.description or ""),
      E("location", nil, n.location), E("privateNet", nil, n.privateNet), E("multicast", nil, bool(n.multicast)),
      E("privateSnat", nil, "10.162.0.0"), E("publicSnat", nil, "165.180.0.1"),
      E("publicIps", nil, blocks), E("privateIps", nil, ips) }), "network")
  end
  return 200, xml_headers(), self:xml(E("NetworkConfiguration", nil, {
    self:network_node(n, false, "network"), E("hostName", nil, "vpn-" .. n.location:lower()),
    E("agg", nil, "agg1"), E("location", nil, n.location:lower() .. "01"), E("context", nil, "ctx1"),
    E("acePair", nil, "ace1"), E("intVlan", nil, "100"), E("outVlan", nil, "200"),
    E("publicSnat", nil, "165.180.0.1"), E("privateSnat", nil, "10.162.0.0"),
    E("privateNet", nil, n.privateNet), E("publicIps", nil, blocks), E("privateIps", nil, ips) }), "network")
end

local function acl_node(r)
  local function range(name, ip, mask)
    if not ip then return E(name) end
    return E(name, nil, compact({ E("ipAddress", nil, ip), mask and E("netmask", nil, mask) or false }))
  end
  return E("AclRule", nil, {
    E("id", nil, r.id), E("name", nil, r.name), E("status", nil, r.status), E("position", nil, tostring(r.position)),
    E("action", nil, r.action), E("protocol", nil, r.protocol), range("sourceIpRange", r.srcIp, r.srcMask),
    range("destinationIpRange", r.dstIp, r.dstMask),
    E("portRange", nil, compact({ E("type", nil, r.portType), r.port1 and E("port1", nil, r.port1) or false,
      r.port2 and E("port2", nil, r.port2) or false })),
    E("type", nil, r.type) })
end

local function check_port(p)
  if p == nil then return end
  if not p:match("^%d+$") or tonumber(p) < 1 or tonumber(p) > 65535 then fail("REASON_291", "Invalid Port specified.") end
end

function H.acl(self, req, id, rid)
  local n = self:net(id)
  if rid then
    self:need_role("network")
    for i, r in ipairs(n.acl) do
      if r.id == rid then
        table.remove(n.acl, i)
        return ok(self, "Delete Acl Rule", "ACL Rule deleted")
      end
    end
    fail("REASON_280", "ACL rule " .. rid .. " does not exist.")
  end
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "AclRule" })
    local name = need(ktext(x, "name"), "name")
    if #name > 60 then fail("REASON_320", "Invalid Input Data.") end
    local pos = ktext(x, "position")
    if not pos or not pos:match("^%d+$") or tonumber(pos) < 100 or tonumber(pos) > 500 then
      fail("REASON_294", "Invalid ACL Rule position.")
    end
    pos = tonumber(pos)
    local action, proto = ktext(x, "action"), ktext(x, "protocol")
    if action ~= "PERMIT" and action ~= "DENY" then fail("REASON_320", "Invalid Input Data.") end
    if proto ~= "IP" and proto ~= "ICMP" and proto ~= "TCP" and proto ~= "UDP" then fail("REASON_320", "Invalid Input Data.") end
    local function rng(el)
      local k = kid(x, el)
      if not k then return nil end
      local ip, mask = ktext(k, "ipAddress"), ktext(k, "netmask")
      if ip and not is_ipv4(ip) then fail("REASON_320", "Invalid IP address " .. ip) end
      if mask and not is_ipv4(mask) then fail("REASON_320", "Invalid netmask " .. mask) end
      return ip, mask
    end
    local srcIp, srcMask = rng("sourceIpRange")
    local dstIp, dstMask = rng("destinationIpRange")
    local pr = kid(x, "portRange")
    if not pr then fail("REASON_320", "portRange is required.") end
    local ptype = ktext(pr, "type")
    local okt = { ALL = true, EQUAL_TO = true, RANGE = true, GREATER_THAN = true, LESS_THAN = true }
    if not okt[ptype or ""] then fail("REASON_320", "Invalid portRange type.") end
    local p1, p2 = ktext(pr, "port1"), ktext(pr, "port2")
    check_port(p1); check_port(p2)
    local typ = ktext(x, "type") or "OUTSIDE_ACL"
    if typ ~= "OUTSIDE_ACL" and typ ~= "INSIDE_ACL" then fail("REASON_320", "Invalid type.") end
    for _, r in ipairs(n.acl) do
      if r.position == pos and r.type == typ then fail("REASON_290", "A rule is already configured for the specified line.") end
      if r.name == name then fail("REASON_293", "ACL Rule already exists.") end
    end
    local r = { id = self:uuid(), name = name, status = "NORMAL", position = pos, action = action,
      protocol = proto, srcIp = srcIp, srcMask = srcMask, dstIp = dstIp, dstMask = dstMask,
      portType = ptype, port1 = p1, port2 = p2, type = typ }
    n.acl[#n.acl + 1] = r
    return 200, xml_headers(), self:xml(acl_node(r), "network")
  end
  local items = { E("name", nil, "ALL_ACL") }
  local sorted = {}
  for _, r in ipairs(n.acl) do sorted[#sorted + 1] = r end
  table.sort(sorted, function(a, b) return a.position < b.position end)
  for _, r in ipairs(sorted) do items[#items + 1] = acl_node(r) end
  return list_doc(self, "AclRuleList", "network", items)
end

function H.nat(self, req, id, rid)
  local n = self:net(id)
  local function node(r)
    return E("NatRule", nil, { E("id", nil, r.id), E("name", nil, r.name), E("natIp", nil, r.natIp),
      E("sourceIp", nil, r.sourceIp) })
  end
  if rid then
    self:need_role("network")
    for i, r in ipairs(n.nat) do
      if r.id == rid then
        table.remove(n.nat, i)
        self:release_ip(n, r.natIp)
        return ok(self, "Delete Nat Rule", "NAT Rule deleted")
      end
    end
    fail("REASON_260", "NAT rule " .. rid .. " does not exist.")
  end
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "NatRule" })
    local name = need(ktext(x, "name"), "name")
    local src = need(ktext(x, "sourceIp"), "sourceIp")
    if not is_ipv4(src) then fail("REASON_320", "sourceIp is not a valid IPv4 address.") end
    local prefix = n.privateNet:match("^(.*)%.0$")
    local last = tonumber(src:match("%.(%d+)$"))
    if src:match("^(.*)%.%d+$") ~= prefix or last <= 10 or last > 254 then
      fail("REASON_240", "Private IP " .. src .. " is not in network " .. id .. ".")
    end
    for _, r in ipairs(n.nat) do
      if r.sourceIp == src then fail("REASON_272", "A NAT rule is already in place on source IP " .. src .. ".") end
    end
    local r = { id = self:uuid(), name = name, sourceIp = src, natIp = self:public_ip(n) }
    n.nat[#n.nat + 1] = r
    return 200, xml_headers(), self:xml(node(r), "network")
  end
  local items = {}
  for _, r in ipairs(n.nat) do items[#items + 1] = node(r) end
  return list_doc(self, "NatRules", "network", items)
end

function H.publicip(self, req, id, bid)
  local n = self:net(id)
  self:need_role("network")
  if not bid then
    if req.flag == "reserveNewWithSize" or req.flag == "reserveNew" then
      local b = self:add_block(n, 2, false)
      if req.flag == "reserveNew" then
        return ok(self, "Reserve Public IP Block", "Public IP block with base IP " .. b.baseIp .. " is reserved")
      end
      return ok(self, "Reserve Public IP Block", "Public IP block reserved",
        { { "ipBlock.id", b.id }, { "ipBlock.baseIp", b.baseIp }, { "ipBlock.size", tostring(b.subnetSize) } })
    end
    fail("REASON_420", "Unsupported action.")
  end
  local b, idx
  for i, x in ipairs(n.blocks) do if x.id == bid then b, idx = x, i end end
  if not b then fail("REASON_370", "IP block " .. bid .. " not found in network.") end
  if req.method == "POST" then
    local v = first(self:form(req), "serverToVipConnectivity")
    if v ~= "true" and v ~= "false" then fail("REASON_320", "serverToVipConnectivity must be true or false.") end
    if (v == "true") == b.serverToVipConnectivity then fail("REASON_341", "Flag is already set to " .. v .. ".") end
    b.serverToVipConnectivity = v == "true"
    return ok(self, "Modify Server to VIP Connectivity", "Server to VIP connectivity set to " .. v)
  end
  if req.flag ~= "release" then fail("REASON_420", "Unsupported action.") end
  if b.networkDefault then fail("REASON_350", "Cannot release the default IP block.") end
  if next(b.used) then fail("REASON_360", "IPs are still in use in IP block.") end
  table.remove(n.blocks, idx)
  return ok(self, "Release Public IP Block", "Public IP block " .. bid .. " is released")
end

function H.multicast(self, req, id)
  local n = self:net(id)
  self:need_role("network")
  local v = first(self:form(req), "enabled")
  if v ~= "true" and v ~= "false" then fail("REASON_320", "{Enabled} missing or not true/false.") end
  if (v == "true") == n.multicast then fail("REASON_372", "Multicast flag already has that value.") end
  n.multicast = v == "true"
  return ok(self, "Set Multicast", "Multicast " .. (n.multicast and "enabled" or "disabled"))
end

-- VIP family (section 8) --------------------------------------------------------------------

local function vip_name(v)
  if not v or v == "" or #v > 64 or not v:match("^[%w_%-%.]+$") then
    fail("REASON_320", "Invalid name: alphanumeric, 64 characters max, no spaces.")
  end
  return v
end

local function find_in(list, id)
  for i, x in ipairs(list) do if x.id == id then return x, i end end
end

local function unique_name(list, name)
  for _, x in ipairs(list) do
    if x.name == name then fail("REASON_320", "Name " .. name .. " is not unique.") end
  end
end

function H.real_server(self, req, id, rid)
  local n = self:net(id)
  if rid then
    self:need_role("network")
    local rs, i = find_in(n.realServers, rid)
    if not rs then fail("REASON_610", "Real Server " .. rid .. " does not exist in network.") end
    if req.method == "POST" then
      local v = first(self:form(req), "inService")
      rs.inService = parse_bool(v, "inService")
      return ok(self, nil, "Real-Server (id:" .. rid .. ") modified")
    end
    if req.flag ~= "delete" then fail("REASON_420", "Unsupported action.") end
    for _, f in ipairs(n.farms) do
      for _, m in ipairs(f.members) do
        if m.id == rid then fail("REASON_615", "Real Server is associated with one or more Server Farms.") end
      end
    end
    table.remove(n.realServers, i)
    return ok(self, "Delete Real-Server", "Real-Server (id:" .. rid .. ") deleted")
  end
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "NewRealServer" })
    local name = vip_name(ktext(x, "name"))
    local sid = need(ktext(x, "serverId"), "serverId")
    local ins = parse_bool(need(ktext(x, "inService"), "inService"), "inService")
    unique_name(n.realServers, name)
    local s = self.server_by_id[sid]
    if not s or s.networkId ~= id or not s.isDeployed then
      fail("REASON_395", "serverId does not correspond to a deployed server within this network.")
    end
    for _, rs in ipairs(n.realServers) do
      if rs.serverId == sid then fail("REASON_393", "Server " .. sid .. " already has a Real Server.") end
    end
    local rs = { id = self:uuid(), name = name, serverId = sid, inService = ins }
    n.realServers[#n.realServers + 1] = rs
    return ok(self, nil, "Real-Server (id:" .. rs.id .. ") created")
  end
  local items = {}
  for _, rs in ipairs(n.realServers) do
    local s = self.server_by_id[rs.serverId]
    items[#items + 1] = E("realServer", nil, { E("id", nil, rs.id), E("name", nil, rs.name),
      E("serverId", nil, rs.serverId), E("serverName", nil, s and s.name or ""),
      E("serverIp", nil, s and s.privateIp or ""), E("inService", nil, bool(rs.inService)) })
  end
  return list_doc(self, "RealServers", "vip", items)
end

local PROBE_RANGES = {
  { "probeIntervalSeconds", 15 }, { "errorCountBeforeServerFail", 1 }, { "successCountBeforeServerEnable", 1 },
  { "failedProbeIntervalSeconds", 15 }, { "maxReplyWaitSeconds", 2 },
}
local function in_range(v, lo, hi, what)
  if not v or not v:match("^%d+$") or tonumber(v) < lo or tonumber(v) > hi then
    fail("REASON_320", "Invalid parameter data: " .. what .. ".")
  end
  return v
end

function H.probe(self, req, id, pid)
  local n = self:net(id)
  if pid then
    self:need_role("network")
    local p, i = find_in(n.probes, pid)
    if not p then fail("REASON_620", "Probe " .. pid .. " does not exist in network.") end
    if req.method == "POST" then
      local f = self:form(req)
      local any = false
      for _, r in ipairs(PROBE_RANGES) do
        local v = first(f, r[1])
        if v then p[r[1]] = in_range(v, r[2], 65535, r[1]); any = true end
      end
      if not any then fail("REASON_320", "No parameter supplied.") end
      return ok(self, nil, "Probe (id:" .. pid .. ") modified")
    end
    if req.flag ~= "delete" then fail("REASON_420", "Unsupported action.") end
    for _, f in ipairs(n.farms) do
      for _, fp in ipairs(f.probes) do
        if fp == pid then fail("REASON_625", "Probe is still associated with a Server Farm.") end
      end
    end
    table.remove(n.probes, i)
    return ok(self, nil, "Probe (id:" .. pid .. ") deleted")
  end
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "NewProbe" })
    local p = { id = self:uuid(), name = vip_name(ktext(x, "name")) }
    unique_name(n.probes, p.name)
    p.type = ktext(x, "type")
    local types = { TCP = true, UDP = true, HTTP = true, HTTPS = true, ICMP = true }
    if not types[p.type or ""] then fail("REASON_320", "Invalid probe type.") end
    for _, r in ipairs(PROBE_RANGES) do p[r[1]] = in_range(ktext(x, r[1]), r[2], 65535, r[1]) end
    if p.type == "HTTP" or p.type == "HTTPS" then
      local sc = kid(x, "statusCodeRange")
      if not sc then fail("REASON_320", "statusCodeRange is required for HTTP/HTTPS probes.") end
      in_range(ktext(sc, "lowerBound"), 0, 999, "lowerBound")
      in_range(ktext(sc, "upperBound"), 0, 999, "upperBound")
      local m = ktext(x, "requestMethod")
      if m ~= "GET" and m ~= "HEAD" then fail("REASON_320", "requestMethod must be GET or HEAD.") end
    end
    n.probes[#n.probes + 1] = p
    return ok(self, nil, "Probe (id:" .. p.id .. ") created")
  end
  local items = {}
  for _, p in ipairs(n.probes) do
    items[#items + 1] = E("Probe", nil, { E("id", nil, p.id), E("name", nil, p.name), E("type", nil, p.type),
      E("probeIntervalSeconds", nil, p.probeIntervalSeconds),
      E("errorCountBeforeServerFail", nil, p.errorCountBeforeServerFail),
      E("successCountBeforeServerEnable", nil, p.successCountBeforeServerEnable),
      E("failedProbeIntervalSeconds", nil, p.failedProbeIntervalSeconds),
      E("maxReplyWaitSeconds", nil, p.maxReplyWaitSeconds) })
  end
  return list_doc(self, "Probes", "vip", items)
end

local PREDICTORS = { LEAST_CONNECTIONS = true, ROUND_ROBIN = true }

function H.farm(self, req, id, fid, sub)
  local n = self:net(id)
  if fid then
    local f, i = find_in(n.farms, fid)
    if not f then fail("REASON_630", "Could not find Server Farm " .. fid .. ".") end
    if req.method == "GET" and not req.flag then
      local items = { E("id", nil, f.id), E("name", nil, f.name), E("predictor", nil, f.predictor) }
      for _, pid in ipairs(f.probes) do
        local p = find_in(n.probes, pid)
        if p then
          items[#items + 1] = E("probe", nil, { E("id", nil, p.id), E("name", nil, p.name),
            E("type", nil, p.type), E("probeIntervalSeconds", nil, p.probeIntervalSeconds) })
        end
      end
      for _, m in ipairs(f.members) do
        local rs = find_in(n.realServers, m.id)
        local s = rs and self.server_by_id[rs.serverId]
        items[#items + 1] = E("realServer", nil, compact({ E("id", nil, m.id), E("name", nil, rs and rs.name or ""),
          E("ipAddress", nil, s and s.privateIp or ""), m.port and E("port", nil, m.port) or false,
          E("inService", nil, bool(rs and rs.inService)) }))
      end
      return 200, xml_headers(), self:xml(E("ServerFarm", nil, items), "vip")
    end
    self:need_role("network")
    if req.flag == "delete" then
      for _, v in ipairs(n.vips) do
        if v.targetType == "SERVER_FARM" and v.targetId == fid then fail("REASON_635", "Server Farm is associated with a VIP.") end
      end
      for _, p in ipairs(n.profiles) do
        if p.serverFarmId == fid then fail("REASON_636", "Server Farm is associated with a Persistence Profile.") end
      end
      table.remove(n.farms, i)
      return ok(self, "Delete Server-Farm", "Server-Farm (id:" .. fid .. ") deleted")
    end
    local form = self:form(req)
    if sub == nil then
      local p = first(form, "predictor")
      if not PREDICTORS[p or ""] then fail("REASON_320", "Invalid predictor.") end
      f.predictor = p
      return ok(self, "Modify Server-Farm", "Server-Farm (id:" .. fid .. ") predictor modified")
    elseif sub == "addRealServer" or sub == "removeRealServer" then
      local rid = first(form, "realServerId")
      if not rid or rid == "" then fail("REASON_320", "realServerId must be supplied.") end
      local port = first(form, "realServerPort")
      if port then in_range(port, 1, 65535, "realServerPort") end
      if not find_in(n.realServers, rid) then fail("REASON_610", "Real Server " .. rid .. " is not in network.") end
      for j, m in ipairs(f.members) do
        if m.id == rid and m.port == port then
          if sub == "addRealServer" then fail("REASON_320", "Real Server is already in the Server Farm.") end
          table.remove(f.members, j)
          return ok(self, "Remove Real Server", "Real Server removed from Server-Farm")
        end
      end
      if sub == "removeRealServer" then fail("REASON_320", "The realServerId/realServerPort combination is not in the Server Farm.") end
      f.members[#f.members + 1] = { id = rid, port = port }
      return ok(self, "Add Real Server", "Real Server added to Server-Farm")
    elseif sub == "addProbe" or sub == "removeProbe" then
      local pid = first(form, "probeId")
      if not pid or pid == "" then fail("REASON_320", "A Probe ID must be supplied.") end
      if not find_in(n.probes, pid) then fail("REASON_620", "Probe " .. pid .. " is not valid in network.") end
      for j, x in ipairs(f.probes) do
        if x == pid then
          if sub == "addProbe" then fail("REASON_320", "The Server Farm already uses the probe.") end
          table.remove(f.probes, j)
          return ok(self, "Remove Probe", "Probe removed from Server-Farm")
        end
      end
      if sub == "removeProbe" then fail("REASON_320", "The Server Farm does not use the probe.") end
      f.probes[#f.probes + 1] = pid
      return ok(self, "Add Probe", "Probe added to Server-Farm")
    end
    fail("REASON_420", "Unsupported action.")
  end
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "NewServerFarm" })
    local name = vip_name(ktext(x, "name"))
    if name:lower() == "serverfarm" or name:lower() == "default" then fail("REASON_320", "Reserved name.") end
    unique_name(n.farms, name)
    local pred = ktext(x, "predictor")
    if not PREDICTORS[pred or ""] then fail("REASON_320", "Invalid predictor.") end
    local f = { id = self:uuid(), name = name, predictor = pred, members = {}, probes = {} }
    local pid = ktext(x, "probeId")
    if pid then
      if not find_in(n.probes, pid) then fail("REASON_620", "Probe " .. pid .. " is not in network.") end
      f.probes[1] = pid
    end
    local seen = {}
    for _, r in ipairs(kids(x, "realServer")) do
      local rid, port = ktext(r, "id"), ktext(r, "port")
      if not rid or not find_in(n.realServers, rid) then fail("REASON_610", "Real Server " .. tostring(rid) .. " is not in network.") end
      if port then in_range(port, 1, 65535, "port") end
      local key = rid .. ":" .. tostring(port)
      if seen[key] then fail("REASON_320", "Duplicate Real Server and port.") end
      seen[key] = true
      f.members[#f.members + 1] = { id = rid, port = port }
    end
    n.farms[#n.farms + 1] = f
    return ok(self, "Create Server-Farm", "Server-Farm (id: " .. f.id .. ") created")
  end
  local items = {}
  for _, f in ipairs(n.farms) do
    items[#items + 1] = E("serverFarm", nil, { E("id", nil, f.id), E("name", nil, f.name), E("predictor", nil, f.predictor) })
  end
  return list_doc(self, "ServerFarms", "vip", items)
end

function H.profile(self, req, id, pid)
  local n = self:net(id)
  if pid then
    self:need_role("network")
    local p, i = find_in(n.profiles, pid)
    if not p then fail("REASON_670", "Persistence Profile " .. pid .. " does not exist.") end
    for _, v in ipairs(n.vips) do
      if v.targetType == "PERSISTENCE_PROFILE" and v.targetId == pid then fail("REASON_675", "Persistence Profile is associated with one or more VIPs.") end
    end
    table.remove(n.profiles, i)
    return ok(self, "Delete Persistence-Profile", "Persistence Profile (id:" .. pid .. ") deleted")
  end
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "NewPersistenceProfile" })
    local p = { id = self:uuid(), name = vip_name(ktext(x, "name")), state = "NORMAL" }
    unique_name(n.profiles, p.name)
    if #n.profiles >= 25 then fail("REASON_602", "Maximum of 25 Persistence Profiles reached.") end
    local fid = need(ktext(x, "serverFarmId"), "serverFarmId")
    local f = find_in(n.farms, fid)
    if not f then fail("REASON_630", "Server Farm " .. fid .. " does not exist in network.") end
    if #f.members < 2 then fail("REASON_320", "The Server Farm must have at least 2 Real Servers.") end
    p.serverFarmId = fid
    p.timeout = in_range(ktext(x, "timeoutMinutes"), 1, 480, "timeoutMinutes")
    p.type = ktext(x, "type")
    if p.type == "IP_NETMASK" then
      p.direction = ktext(x, "direction")
      if p.direction ~= "SOURCE" and p.direction ~= "DESTINATION" and p.direction ~= "BOTH" then fail("REASON_320", "Invalid direction.") end
      p.netmask = ktext(x, "netmask")
      if not is_ipv4(p.netmask) then fail("REASON_320", "Invalid netmask.") end
    elseif p.type == "HTTP_COOKIE" then
      p.cookieName = ktext(x, "cookieName")
      if not p.cookieName or #p.cookieName > 64 or p.cookieName:find("%s") then fail("REASON_320", "Invalid cookieName.") end
      p.cookieType = ktext(x, "cookieType")
      local ct = { COOKIE_INSERT = true, COOKIE_INSERT_BROWSER_EXPIRE = true, NO_COOKIE_INSERT = true }
      if not ct[p.cookieType or ""] then fail("REASON_320", "Invalid cookieType.") end
    else
      fail("REASON_320", "Invalid type.")
    end
    n.profiles[#n.profiles + 1] = p
    return ok(self, "Create Persistence-Profile", "Persistence Profile (id:" .. p.id .. ") created")
  end
  local items = {}
  for _, p in ipairs(n.profiles) do
    local f = find_in(n.farms, p.serverFarmId)
    local body = { E("id", nil, p.id), E("state", nil, p.state), E("name", nil, p.name),
      E("serverFarmId", nil, p.serverFarmId), E("serverFarmName", nil, f and f.name or ""),
      E("timeout", nil, p.timeout), E("type", nil, p.type) }
    if p.type == "HTTP_COOKIE" then
      body[#body + 1] = E("cookieName", nil, p.cookieName); body[#body + 1] = E("cookieType", nil, p.cookieType)
    else
      body[#body + 1] = E("direction", nil, p.direction); body[#body + 1] = E("netmask", nil, p.netmask)
    end
    items[#items + 1] = E("PersistenceProfile", nil, body)
  end
  return list_doc(self, "PersistenceProfiles", "vip", items)
end

function H.vip(self, req, id, vid)
  local n = self:net(id)
  if vid then
    self:need_role("network")
    local v, i = find_in(n.vips, vid)
    if not v then fail("REASON_650", "VIP " .. vid .. " does not exist within network.") end
    if req.method == "POST" then
      local f = self:form(req)
      local ins, icmp = first(f, "inService"), first(f, "replyToIcmp")
      if not ins and not icmp then fail("REASON_320", "Neither inService nor replyToIcmp set.") end
      if ins then v.inService = parse_bool(ins, "inService") end
      if icmp then v.replyToIcmp = parse_bool(icmp, "replyToIcmp") end
      return ok(self, "Modify VIP", "VIP (id:" .. vid .. ") modified")
    end
    if req.flag ~= "delete" then fail("REASON_420", "Unsupported action.") end
    table.remove(n.vips, i)
    self:release_ip(n, v.ipAddress)
    return ok(self, "Delete VIP", "VIP (id:" .. vid .. ") deleted")
  end
  if req.method == "POST" then
    self:need_role("network")
    local x = self:body_xml(req, { "NewVip" })
    local v = { id = self:uuid(), name = vip_name(ktext(x, "name")) }
    unique_name(n.vips, v.name)
    v.port = in_range(ktext(x, "port"), 1, 65535, "port")
    v.protocol = ktext(x, "protocol")
    if v.protocol ~= "TCP" and v.protocol ~= "UDP" then fail("REASON_320", "Invalid protocol.") end
    v.targetType, v.targetId = ktext(x, "vipTargetType"), ktext(x, "vipTargetId")
    if v.targetType == "SERVER_FARM" then
      local f = find_in(n.farms, v.targetId or "")
      if not f then fail("REASON_630", "vipTargetId is not a Server Farm of this network.") end
      v.targetName = f.name
    elseif v.targetType == "PERSISTENCE_PROFILE" then
      local p = find_in(n.profiles, v.targetId or "")
      if not p then fail("REASON_670", "vipTargetId is not a Persistence Profile of this network.") end
      v.targetName = p.name
    else
      fail("REASON_320", "Invalid vipTargetType.")
    end
    v.replyToIcmp = parse_bool(ktext(x, "replyToIcmp"), "replyToIcmp")
    v.inService = parse_bool(ktext(x, "inService"), "inService")
    local ip = ktext(x, "ipAddress")
    if ip then
      if not is_ipv4(ip) then fail("REASON_320", "Invalid ipAddress.") end
      for _, o in ipairs(n.vips) do
        if o.ipAddress == ip and o.port == v.port and o.protocol == v.protocol then
          fail("REASON_320", "Port " .. v.port .. " is already used on " .. ip .. ".")
        end
      end
      v.ipAddress = ip
    else
      v.ipAddress = self:public_ip(n)
    end
    n.vips[#n.vips + 1] = v
    return ok(self, "Create VIP", "VIP (id:" .. v.id .. ") created")
  end
  local items = {}
  for _, v in ipairs(n.vips) do
    items[#items + 1] = E("vip", nil, { E("id", nil, v.id), E("name", nil, v.name), E("ipAddress", nil, v.ipAddress),
      E("port", nil, v.port), E("protocol", nil, v.protocol), E("vipTargetType", nil, v.targetType),
      E("vipTargetId", nil, v.targetId), E("vipTargetName", nil, v.targetName),
      E("replyToIcmp", nil, bool(v.replyToIcmp)), E("inService", nil, bool(v.inService)) })
  end
  return list_doc(self, "Vips", "vip", items)
end

-- Cloud Files (section 9) ---------------------------------------------------------------------

function H.storage(self, req, user)
  self.storage = self.storage or {}
  local function find(u)
    for i, a in ipairs(self.storage) do if a.userName == u then return a, i end end
  end
  if user then
    self:need_role("storage")
    local a, i = find(user)
    if not a then fail("REASON_680", "Storage account " .. user .. " does not exist for " .. ORG_ID .. ".") end
    if req.method == "POST" then
      local f = self:form(req)
      for _, k in ipairs({ "displayName", "description", "email" }) do
        local v = first(f, k)
        if v then a[k] = v end
      end
      local pw = first(f, "password")
      if pw then check_len(pw, 75, "password", 8); a.password = pw end
      local mb = first(f, "allocatedStorageMb")
      if mb then a.allocatedStorageMb = in_range(mb, 10241, 10485759, "allocatedStorageMb") end
      local subs = f.subadminusername
      if subs then
        a.subs = {}
        for _, s in ipairs(subs) do if s ~= "" then a.subs[#a.subs + 1] = s end end
      end
      return ok(self, "Modify Storage Account", "Storage account " .. user .. " modified")
    end
    if req.flag ~= "delete" then fail("REASON_420", "Unsupported action.") end
    table.remove(self.storage, i)
    return ok(self, "Delete Storage Account", "Storage account " .. user .. " deleted")
  end
  if req.method == "POST" then
    self:need_role("storage")
    local x = self:body_xml(req, { "NewStorageAccount" })
    local a = { userName = need(ktext(x, "userName"), "userName"), password = need(ktext(x, "password"), "password"),
      email = need(ktext(x, "email"), "email"), displayName = need(ktext(x, "displayName"), "displayName"),
      description = ktext(x, "description"), subs = {} }
    a.allocatedStorageMb = in_range(ktext(x, "allocatedStorageMb"), 10241, 10485759, "allocatedStorageMb")
    if not a.email:match("^[^@%s]+@[^@%s]+$") then fail("REASON_320", "Invalid email address.") end
    for _, o in ipairs(self.storage) do
      if o.userName == a.userName or o.email == a.email then fail("REASON_320", "userName and email must be unique.") end
    end
    for _, s in ipairs(kids(x, "subAdminUserName")) do
      local found = false
      for _, acc in ipairs(self.accounts) do if acc.userName == s.text then found = true end end
      if not found then fail("REASON_110", "Sub-Administrative user " .. s.text .. " not found.") end
      a.subs[#a.subs + 1] = s.text
    end
    self.storage[#self.storage + 1] = a
    return ok(self, "Create Storage Account", "Storage account " .. a.userName .. " created")
  end
  local items = {}
  for _, a in ipairs(self.storage) do
    local body = { E("userName", nil, a.userName), E("password", nil, a.password),
      E("allocatedStorageMb", nil, a.allocatedStorageMb), E("displayName", nil, a.displayName) }
    if a.description then body[#body + 1] = E("description", nil, a.description) end
    for _, s in ipairs(a.subs) do body[#body + 1] = E("subAdminUsername", nil, s) end
    items[#items + 1] = E("storageAccount", nil, body)
  end
  return list_doc(self, "StorageAccounts", "storage", items)
end

-- Reports (section 10): plain CSV ---------------------------------------------------------------

local days_from_civil = util.days_from_civil

local function parse_day(s)
  if type(s) ~= "string" then return nil end
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 or d > 31 then return nil end
  return days_from_civil(y, m, d) * 86400
end

local function csv_field(v)
  v = tostring(v == nil and "" or v)
  if v:find('[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

local function csv(rows, sep)
  local out = {}
  for _, r in ipairs(rows) do
    local f = {}
    for i, v in ipairs(r) do f[i] = csv_field(v) end
    out[#out + 1] = table.concat(f, sep or ",")
  end
  return table.concat(out, "\r\n") .. "\r\n"
end

local REPORT_COLUMNS = {
  usage = { "DAY", "Location", "CPU Hours", "RAM Hours", "Storage Hours", "Performance Storage Hours",
    "Bandwidth In", "Bandwidth Out", "Sub-Admin Hours", "Network Hours", "Public IP Hours",
    "Cloud Files Account Hours", "Cloud Files (GB Days)", "Software Units", "Essentials Client Days",
    "Advanced Client Days", "Enterprise Client Days", "Essentials Backups (GB)", "Advanced Backups (GB)",
    "Enterprise Backups (GB)" },
  usageDetailed = { "Name", "Type", "Location", "Private IP Address", "Status", "Start Time", "End Time",
    "Duration (Hours)", "CPU Count", "RAM (GB)", "Storage (GB)", "Performance Storage (GB)", "CPU Hours",
    "RAM Hours", "Storage Hours", "Performance Storage Hours", "Bandwidth-In (GB)", "Bandwidth-Out (GB)",
    "Subadmin Hours", "Network Hours", "Public IP Hours", "Cloud Files Account Hours", "Cloud Storage (GB)" },
  usageSoftwareUnits = { "Date", "Location", "Server", "Server ID", "CPU Count", "Software",
    "Units when Started", "Units when Stopped", "Per", "Running Hours", "Stopped Hours", "Software Units" },
  auditlog = { "UUID", "Time", "Create User", "Department", "Customer Defined 1", "Customer Defined 2",
    "Type", "Name", "Action", "Details", "Response Code" },
  backup = { "BackupClientID", "BackupClientType", "BackupPlan", "BackupSize", "CustomerAssetID", "Date",
    "EndTime", "Location", "PreviousBackupPlan", "PreviousSchedulePolicy", "PreviousStoragePolicy",
    "RestoreSize", "SchedulePolicy", "ServerID", "ServerName", "StartTime", "StoragePolicy",
    "TotalBackupSize", "UsageType" },
}
M.REPORT_COLUMNS = REPORT_COLUMNS

function H.report(self, req, kind)
  if self.user.roles[1] ~= "primary administrator" then
    fail("REASON_140", "Report API calls are restricted to the Primary Administrator.", 403)
  end
  local q = req.qmap
  local a_name, b_name = "startDate", "endDate"
  if kind == "backup" then
    a_name, b_name = "fromDate", "toDate"
    local dc = first(q, "datacenterId")
    if not dc or dc == "" then fail("REASON_320", "Mandatory parameter datacenterId is missing.") end
    self:need_location(dc)
  end
  local from, to = parse_day(first(q, a_name)), parse_day(first(q, b_name))
  if not from or not to or to < from then fail("REASON_520", "Invalid input date(s).") end
  local days = (to - from) / 86400 + 1
  local limit = kind == "auditlog" and 30 or 31
  -- section 10.5: the audit log refuses an end date that "exceeds 30 days from the start date"
  -- (so 2024-01-01..2024-01-31 is allowed); the usage reports cut their range instead
  if kind == "auditlog" then days = days - 1 end
  if days > limit then
    if kind == "usage" or kind == "backup" then
      to = from + (limit - 1) * 86400
    else
      fail("REASON_520", "Invalid input data: the date range exceeds " .. limit .. " days.")
    end
  end
  local rows = { REPORT_COLUMNS[kind] }
  local sep
  local t = from
  while t <= to do
    local dmy = os.date("!%d/%m/%Y", t)
    if kind == "usage" then
      for _, dc in ipairs(DATACENTERS) do
        local cpu, ram, sto = 0, 0, 0
        for _, s in ipairs(self.servers) do
          if s.location == dc.location and s.created < t + 86400 then
            cpu = cpu + s.cpuCount * 24; ram = ram + math.floor(s.memoryMb / 1024) * 24; sto = sto + s.disks[1].sizeGb * 24
          end
        end
        local nets = 0
        for _, n in ipairs(self.networks) do if n.location == dc.location then nets = nets + 24 end end
        rows[#rows + 1] = { dmy, dc.location, cpu, ram, sto, 0, 0, 0, 0, nets, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }
      end
    elseif kind == "usageDetailed" then
      for _, s in ipairs(self.servers) do
        if s.created < t + 86400 then
          rows[#rows + 1] = { s.name, "Server", s.location, s.privateIp, s.isStarted and "Running" or "Reserved",
            dmy .. " 00:00", dmy .. " 23:59", 24, s.cpuCount, math.floor(s.memoryMb / 1024), s.disks[1].sizeGb, 0,
            s.cpuCount * 24, math.floor(s.memoryMb / 1024) * 24, s.disks[1].sizeGb * 24, 0, 0, 0, 0, 0, 0, 0, 0 }
        end
      end
      rows[#rows + 1] = { "TOTAL for " .. os.date("!%Y-%m-%d", t) }
    elseif kind == "usageSoftwareUnits" then
      sep = ", "
    elseif kind == "backup" then
      sep = nil
    end
    t = t + 86400
  end
  if kind == "auditlog" then
    for _, e in ipairs(self.audit) do
      if e.time >= from and e.time < to + 86400 then
        rows[#rows + 1] = { e.uuid, os.date("!%d/%m/%Y %H:%M", e.time), e.user, "", "", "", e.type, e.name,
          e.action, e.details, e.code }
      end
    end
  end
  local body
  if kind == "usageSoftwareUnits" or kind == "backup" then
    body = table.concat(rows[1], ", ") .. "\r\n" .. (#rows > 1 and csv({ unpack(rows, 2) }, sep) or "")
  else
    body = csv(rows)
  end
  return 200, { ["Content-Type"] = "text/csv; charset=UTF-8" }, body
end

-- Backup clients (sections 6.4-6.13) ----------------------------------------------------------

local CLIENT_TYPES = {
  { "FA.Linux", "true", "Linux File system" }, { "FA.Win", "true", "Windows File system" },
  { "MySQL", "false", "MySQL Database Agent" },
}
local STORAGE_POLICIES = { { "14 Day Storage Policy", "14" }, { "30 Day Storage Policy", "30" },
  { "14 Day Storage Policy + Secondary Copy", "14", "US_WEST" } }
local SCHEDULE_POLICIES = { { "12AM - 6AM", "Daily backup will start between 12AM - 6AM" },
  { "6AM - 12PM", "Daily backup will start between 6AM - 12PM" } }

function Sim:backup_of(s)
  if not s.backup then fail("REASON_541", "Backup is not enabled for Server " .. s.id .. ".") end
  s.backup.clients = s.backup.clients or {}
  return s.backup
end

local function client_fields(x, need_type)
  local f = { type = ktext(x, "type"), storagePolicyName = ktext(x, "storagePolicyName"),
    schedulePolicyName = ktext(x, "schedulePolicyName") }
  if need_type then
    local okt = false
    for _, t in ipairs(CLIENT_TYPES) do if t[1] == f.type then okt = true end end
    if not okt then fail("REASON_320", "Invalid backup client type.") end
  end
  local okp, oks = false, false
  for _, p in ipairs(STORAGE_POLICIES) do if p[1] == f.storagePolicyName then okp = true end end
  for _, p in ipairs(SCHEDULE_POLICIES) do if p[1] == f.schedulePolicyName then oks = true end end
  if not okp then fail("REASON_320", "Invalid storagePolicyName.") end
  if not oks then fail("REASON_320", "Invalid schedulePolicyName.") end
  local al = kid(x, "alerting")
  if al then
    -- the trigger is a child element in the request samples and an attribute in the
    -- BackupDetails answer; Apache Libcloud sends the attribute form: both are accepted
    local trig = ktext(al, "trigger") or (al.attrs and al.attrs.trigger)
    if trig ~= "ON_FAILURE" and trig ~= "ON_SUCCESS" and trig ~= "ON_SUCCESS_OR_FAILURE" then
      fail("REASON_320", "Invalid alerting trigger.")
    end
    local emails, seen = {}, {}
    for _, e in ipairs(kids(al, "emailAddress")) do
      if seen[e.text] then fail("REASON_320", "Duplicate emailAddress.") end
      seen[e.text] = true
      emails[#emails + 1] = e.text
    end
    if #emails == 0 then fail("REASON_320", "alerting needs at least one emailAddress.") end
    f.alerting = { trigger = trig, emails = emails }
  end
  return f
end

function H.backup_client(self, req, id, sub, cid, action)
  local s = self:server(id)
  self:need_role("backup")
  local b = self:backup_of(s)
  local base = self.base_url or "http://127.0.0.1:8080/dimensiondata"
  if sub == "type" then
    local items = {}
    for _, t in ipairs(CLIENT_TYPES) do
      items[#items + 1] = E("backupClientType", { { "type", t[1] }, { "isFileSystem", t[2] }, { "description", t[3] } })
    end
    return list_doc(self, "BackupClientTypes", "backup", items)
  elseif sub == "storagePolicy" then
    local items = {}
    for _, p in ipairs(STORAGE_POLICIES) do
      items[#items + 1] = E("storagePolicy", { { "name", p[1] }, { "retentionPeriodInDays", p[2] }, { "secondaryLocation", p[3] } })
    end
    return list_doc(self, "BackupStoragePolicies", "backup", items)
  elseif sub == "schedulePolicy" then
    local items = {}
    for _, p in ipairs(SCHEDULE_POLICIES) do
      items[#items + 1] = E("schedulePolicy", { { "name", p[1] }, { "description", p[2] } })
    end
    return list_doc(self, "BackupSchedulePolicies", "backup", items)
  elseif sub == "restoreTarget" then
    local items = {}
    for _, o in ipairs(self.servers) do
      local has = false
      for _, bc in ipairs(o.backup and o.backup.clients or {}) do if bc.type == cid then has = true end end
      if o ~= s and o.networkId == s.networkId and has then
        items[#items + 1] = self:server_node(o, "server", true)
      end
    end
    return list_doc(self, "RestoreTargetServers", "backup", items)
  end
  if not cid then
    local x = self:body_xml(req, { "NewBackupClient" })
    local f = client_fields(x, true)
    for _, bc in ipairs(b.clients) do
      if bc.type == f.type then fail("REASON_320", "A Backup Client of type " .. f.type .. " already exists.") end
    end
    f.id = self:uuid()
    f.added = self.now()
    f.status = "Unregistered"
    f.downloadUrl = base .. "/backup-client/" .. f.id
    b.clients[#b.clients + 1] = f
    return ok(self, "Add Backup Client", "Backup Client added",
      { { "backupClient.id", f.id }, { "backupClient.downloadUrl", f.downloadUrl } })
  end
  local bc, idx
  for i, x in ipairs(b.clients) do if x.id == cid then bc, idx = x, i end end
  if not bc then fail("REASON_545", "Backup Client " .. cid .. " not found.") end
  if req.flag == "remove" then
    if bc.job then fail("REASON_547", "A job is running on the Backup Client.") end
    table.remove(b.clients, idx)
    return ok(self, "Remove Backup Client", "Backup Client removed")
  elseif action == "modify" then
    local x = self:body_xml(req, { "ModifyBackupClient" })
    local f = client_fields(x, false)
    bc.storagePolicyName, bc.schedulePolicyName, bc.alerting = f.storagePolicyName, f.schedulePolicyName, f.alerting
    return ok(self, "Modify Backup Client", "Backup Client modified",
      { { "backupClient.id", bc.id }, { "backupClient.downloadUrl", bc.downloadUrl } })
  elseif action == "restore" then
    local x = self:body_xml(req, { "RestoreBackup" })
    if b.servicePlan == "Essentials" then fail("REASON_555", "Restore is not available with the Essentials plan.") end
    if bc.type ~= "FA.Linux" and bc.type ~= "FA.Win" then fail("REASON_556", "Only File System clients can be restored.") end
    if not s.isStarted then fail("REASON_377", "Server must be powered on.") end
    local target = ktext(x, "targetServerId")
    if target then
      local t = self:server(target)
      if t == s then fail("REASON_320", "targetServerId must be another server.") end
      local match
      for _, o in ipairs(t.backup and t.backup.clients or {}) do if o.type == bc.type then match = o end end
      if not match then fail("REASON_552", "Target server has no Backup Client of type " .. bc.type .. ".") end
    end
    local job = self:uuid()
    return ok(self, "Restore Backup", "Restore of Backup Client " .. cid .. " issued",
      { { "backupClient.restoreJobId", job } })
  end
  fail("REASON_420", "Unsupported action.")
end

-- When a client's daily backup ran last and runs next: at the start of its schedule window
-- ("12AM - 6AM" -> 00:00 UTC); no lastBackup before its first window has passed.
function Sim:backup_times(bc)
  local now = self.now()
  local h, ampm = (bc.schedulePolicyName or ""):match("^%s*(%d+)(%a%a)")
  h = tonumber(h) or 0
  if h == 12 then h = 0 end
  if ampm == "PM" then h = h + 12 end
  local day = math.floor(now / 86400) * 86400
  local nxt = day + h * 3600
  if nxt <= now then nxt = nxt + 86400 end
  local attrs = {}
  local last = nxt - 86400
  if bc.added and bc.added <= last then attrs[#attrs + 1] = { "lastBackup", iso(last) } end
  attrs[#attrs + 1] = { "nextBackup", iso(nxt) }
  return E("times", attrs)
end

function Sim:backup_details(s)
  local b = self:backup_of(s)
  local items = {}
  for _, bc in ipairs(b.clients) do
    local body = { E("description", nil, bc.type .. " agent"), E("schedulePolicyName", nil, bc.schedulePolicyName),
      E("storagePolicyName", nil, bc.storagePolicyName) }
    if bc.alerting then
      local em = {}
      for _, e in ipairs(bc.alerting.emails) do em[#em + 1] = E("emailAddress", nil, e) end
      body[#body + 1] = E("alerting", { { "trigger", bc.alerting.trigger } }, em)
    end
    body[#body + 1] = self:backup_times(bc)
    body[#body + 1] = E("totalBackupSizeGb", nil, "0")
    body[#body + 1] = E("downloadUrl", nil, bc.downloadUrl)
    local fs = (bc.type == "FA.Linux" or bc.type == "FA.Win") and "true" or "false"
    items[#items + 1] = E("backupClient", { { "id", bc.id }, { "type", bc.type }, { "isFileSystem", fs },
      { "status", bc.status } }, body)
  end
  return 200, xml_headers(), self:xml(E("BackupDetails", { { "assetId", b.assetId },
    { "servicePlan", b.servicePlan }, { "state", b.state } }, items), "backup")
end

-- Image import / export / copy (section 4) ----------------------------------------------------------

function Sim:ovf_packages()
  if not self.ovf then
    local now = self.now()
    self.ovf = {
      { name = "MyCustomerImage.mf", timestamp = iso(now - 3600), expiry = iso(now + 14 * 86400), status = "VALID" },
      { name = "OldImage.mf", timestamp = iso(now - 30 * 86400), expiry = iso(now - 86400), status = "EXPIRED" },
    }
  end
  return self.ovf
end

local OVF_CHARS = "^[%w_%+=#%.,;%(%)%-]+$"

function H.ovf_list(self)
  local items = {}
  for _, p in ipairs(self:ovf_packages()) do
    items[#items + 1] = E("ovfPackage", { { "name", p.name }, { "timestamp", p.timestamp }, { "expiry", p.expiry },
      { "status", p.status } })
  end
  return list_doc(self, "OvfPackages", "server", items)
end

function Sim:unique_image_name(name, loc)
  for _, img in ipairs(self.images) do
    if not img.base and img.location == loc and img.name == name then
      fail("REASON_391", "Image name " .. name .. " is already in use at " .. loc .. ".")
    end
  end
end

function Sim:busy_count(action)
  local n = 0
  for _, img in ipairs(self.images) do if img.pending and img.pending.action == action then n = n + 1 end end
  return n
end

function H.image_import(self, req)
  if req.method == "GET" then
    local items = {}
    for _, img in ipairs(self.images) do
      if img.pending and img.pending.action == "IMAGE_IMPORT" then items[#items + 1] = self:image_state_node(img, "serverImageWithState") end
    end
    return list_doc(self, "ServerImagesWithState", "server", items)
  end
  self:need_role("create image")
  local x = self:body_xml(req, { "NewImageImport" })
  local pkg, loc, name = need(ktext(x, "ovfPackage"), "ovfPackage"), need(ktext(x, "location"), "location"), need(ktext(x, "name"), "name")
  if #pkg > 75 or not pkg:match(OVF_CHARS) or #name > 75 then fail("REASON_320", "Invalid ovfPackage or name.") end
  self:need_location(loc)
  self:dc_check(loc)
  local found
  for _, p in ipairs(self:ovf_packages()) do if p.name == pkg then found = p end end
  if not found then fail("REASON_431", "OVF Package " .. pkg .. " does not exist.") end
  if found.status ~= "VALID" then fail("REASON_432", "OVF Package " .. pkg .. " has expired.") end
  self:unique_image_name(name, loc)
  if self:busy_count("IMAGE_IMPORT") >= 2 then fail("REASON_430", "Maximum number of simultaneous imports reached.") end
  local img = { id = self:uuid(), name = name, description = ktext(x, "description"), location = loc, os = "REDHAT6/64",
    ostype = "UNIX", cpuCount = 1, memoryMb = 2048, osStorageGb = 10, state = "PENDING_ADD", created = iso(self.now()),
    source = { type = "IMPORT", package = pkg, date = iso(self.now()) }, extra_disks = { 10 } }
  self.images[#self.images + 1] = img
  self.image_by_id[img.id] = img
  self:start_pending(img, "IMAGE_IMPORT", self.action_seconds * 4, self.user.userName, function(im)
    im.state = "NORMAL"; im.created = iso(self.now())
  end, "PENDING_ADD")
  return 200, xml_headers(), self:xml(self:image_state_node(img), "server")
end

function H.image_export(self, req, history)
  self.exports = self.exports or {}
  local now = self.now()
  local function node(ex, elname)
    local img = ex.image
    local inner = compact({ E("name", nil, img.name),
      img.description and E("description", nil, img.description) or false, E("location", nil, img.location),
      E("operatingSystem", nil, img.os), E("cpuCount", nil, tostring(img.cpuCount)),
      E("memoryMb", nil, tostring(img.memoryMb)), E("osStorageGb", nil, tostring(img.osStorageGb)) })
    for i, gb in ipairs(img.extra_disks or {}) do
      inner[#inner + 1] = E("additionalDisk", { { "scsiId", tostring(i) }, { "sizeGb", tostring(gb) } })
    end
    local body = { E("image", { { "id", img.id } }, inner) }
    if elname == "imageExportRecord" then
      table.insert(body, 1, E("userName", nil, ex.user))
      body[#body + 1] = E("endDate", nil, os.date("!%Y-%m-%d %H:%M:%S", math.floor(ex.done)))
      body[#body + 1] = E("result", nil, "SUCCESS")
      body[#body + 1] = E("resultDetail", nil, "Image export completed")
      body[#body + 1] = E("resultCode", nil, "OK")
      for _, ft in ipairs({ "MF", "OVF", "VMDK" }) do
        body[#body + 1] = E("outputFile", { { "type", ft }, { "name", ex.prefix .. "." .. ft:lower() },
          { "date", iso(ex.done) }, { "expiryDate", iso(ex.done + 14 * 86400) }, { "sizeBytes", "1024" } })
      end
    else
      body[#body + 1] = progress_status({ action = "IMAGE_EXPORT", start = ex.start, done = ex.done, user = ex.user }, now)
    end
    return E(elname, { { "id", ex.id }, { "ovfPackagePrefix", ex.prefix }, { "startDate", iso(ex.start) } }, body)
  end
  if req.method == "GET" then
    local items = {}
    if history then
      local c = first(req.qmap, "count")
      if c and (not c:match("^%d+$") or tonumber(c) < 1 or tonumber(c) > 100) then fail("REASON_320", "count must be 1-100.") end
      c = tonumber(c) or 100
      for i = #self.exports, 1, -1 do
        local ex = self.exports[i]
        if ex.done <= now and #items < c then items[#items + 1] = node(ex, "imageExportRecord") end
      end
      return list_doc(self, "ImageExportHistory", "server", items)
    end
    for _, ex in ipairs(self.exports) do
      if ex.done > now then items[#items + 1] = node(ex, "ImageExport") end
    end
    return list_doc(self, "ImageExports", "server", items)
  end
  self:need_role("create image")
  local x = self:body_xml(req, { "NewImageExport" })
  local id, prefix = need(ktext(x, "imageId"), "imageId"), need(ktext(x, "ovfPackagePrefix"), "ovfPackagePrefix")
  if #prefix > 90 or not prefix:match(OVF_CHARS) then fail("REASON_320", "Invalid ovfPackagePrefix.") end
  local img = self.image_by_id[id]
  if not img or img.base then fail("REASON_390", "Could not find customer image " .. id .. ".") end
  if img.pending then fail("REASON_601", "Operation in progress on image " .. id .. ".") end
  local busy = 0
  for _, ex in ipairs(self.exports) do
    if ex.done > now then
      busy = busy + 1
      if ex.prefix == prefix then fail("REASON_460", "ovfPackagePrefix conflicts with an export in progress.") end
    end
  end
  if busy >= 2 then fail("REASON_430", "Maximum number of simultaneous exports reached.") end
  local ex = { id = self:uuid(), prefix = prefix, image = img, start = now, done = now + self.action_seconds * 4,
    user = self.user.userName }
  self.exports[#self.exports + 1] = ex
  return 200, xml_headers(), self:xml(node(ex, "ImageExport"), "server")
end

function H.image_copy(self, req)
  if req.method == "GET" then
    local items = {}
    for _, img in ipairs(self.images) do
      if img.pending and img.pending.action == "COPY_CUSTOMER_IMAGE" then
        items[#items + 1] = E("imageCopy", { { "imageCopyId", img.copy_id }, { "sourceLocation", img.copy_src.location },
          { "sourceImageId", img.copy_src.id }, { "sourceImageName", img.copy_src.name },
          { "ovfPackagePrefix", img.copy_prefix } },
          { self:image_state_node(img, "targetImage") })
      end
    end
    return list_doc(self, "ImageCopies", "server", items)
  end
  self:need_role("create image")
  local x = self:body_xml(req, { "NewImageCopy" })
  local sid = need(ktext(x, "sourceImageId"), "sourceImageId")
  local name = need(ktext(x, "targetImageName"), "targetImageName")
  local loc = need(ktext(x, "targetLocation"), "targetLocation")
  local src = self.image_by_id[sid]
  if not src or src.base then fail("REASON_390", "Could not find customer image " .. sid .. ".") end
  if src.pending then fail("REASON_601", "Operation in progress on image " .. sid .. ".") end
  self:need_location(loc)
  if loc == src.location then fail("REASON_770", "targetLocation must differ from the source data center.") end
  if #name > 75 then fail("REASON_320", "targetImageName is too long.") end
  self:unique_image_name(name, loc)
  if self:busy_count("COPY_CUSTOMER_IMAGE") >= 2 then fail("REASON_430", "Maximum number of simultaneous copies reached.") end
  local img = { id = self:uuid(), name = name, description = ktext(x, "targetImageDescription"), location = loc,
    os = src.os, ostype = src.ostype, cpuCount = src.cpuCount, memoryMb = src.memoryMb, osStorageGb = src.osStorageGb,
    state = "PENDING_CHANGE", created = iso(self.now()), copy_id = self:uuid(), copy_src = src,
    copy_prefix = ktext(x, "ovfPackagePrefix"), labels = src.labels, extra_disks = src.extra_disks, source = src.source }
  self.images[#self.images + 1] = img
  self.image_by_id[img.id] = img
  self:start_pending(img, "COPY_CUSTOMER_IMAGE", self.action_seconds * 4, self.user.userName, function(im)
    im.state = "NORMAL"; im.created = iso(self.now())
  end, "PENDING_CHANGE")
  return 200, xml_headers(), self:xml(E("ImageCopy", { { "imageCopyId", img.copy_id }, { "sourceLocation", src.location },
    { "sourceImageId", src.id }, { "sourceImageName", src.name }, { "ovfPackagePrefix", ktext(x, "ovfPackagePrefix") } },
    { self:image_state_node(img, "targetImage") }), "server")
end

local REMOTE_PAGING = {
  filters = { id = { name = "id", kind = "string", get = function(r) return r.id end },
    sourcegeokey = { name = "sourceGeoKey", kind = "string", get = function(r) return r.geo end },
    startdate = { name = "startDate", kind = "date", get = function(r) return r.start end },
    packagename = { name = "packageName", kind = "string", get = function(r) return r.name end } },
  order = { id = function(r) return r.id end, startdate = function(r) return r.start end,
    sourcegeokey = function(r) return r.geo end, packagename = function(r) return r.name end },
  default_order = { "startdate" },
}

function H.remote_copy(self, req, history)
  self.remote = self.remote or {}
  local now = self.now()
  if req.method == "GET" then
    local list = {}
    for _, r in ipairs(self.remote) do
      if (r.done <= now) == (history == true) then list[#list + 1] = r end
    end
    local page, attrs = self:page(req.qmap, REMOTE_PAGING, list)
    local items = {}
    for _, r in ipairs(page) do
      if history then
        items[#items + 1] = E("copyRemoteOvfPackageRecord", { { "sourceGeoKey", r.geo }, { "id", r.id } }, {
          E("mfFile", { { "sizeBytes", "120" }, { "name", r.name } }),
          E("ovfFile", { { "sizeBytes", "4096" }, { "name", (r.name:gsub("%.mf$", ".ovf")) } }),
          E("vmdkFile", { { "sizeBytes", "1048576" }, { "name", (r.name:gsub("%.mf$", "-disk1.vmdk")) } }),
          E("startDate", nil, iso(r.start)), E("endDate", nil, iso(r.done)), E("result", nil, "SUCCESS") })
      else
        items[#items + 1] = E("ovfCopy", { { "sourceGeoKey", r.geo }, { "remoteCopyId", r.id } }, {
          E("name", nil, r.name), E("state", nil, "PENDING_ADD"),
          progress_status({ action = "COPY_REMOTE_OVF_PACKAGE", start = r.start, done = r.done, user = r.user }, now) })
      end
    end
    return list_doc(self, history and "CopyRemoteOvfPackageHistory" or "OvfRemoteCopies", "server", items, attrs)
  end
  self:need_role("create image")
  local x = self:body_xml(req, { "NewRemoteOvfCopy" })
  local geo = need(ktext(x, "sourceGeoId"), "sourceGeoId")
  local pkg = need(ktext(x, "sourceOvfPackage"), "sourceOvfPackage")
  if geo ~= "4503ed6e-2e44-11e2-81d1-4b7e977ca8d3" and geo ~= "bf43kf30-2c83-11e1-9963-001517-45hj54" then
    fail("REASON_160", "Invalid sourceGeoId " .. geo .. ".")
  end
  if not pkg:lower():match("%.mf$") then fail("REASON_461", "OVF package " .. pkg .. " does not exist at the source geographic region.") end
  local busy = 0
  for _, r in ipairs(self.remote) do if r.done > now then busy = busy + 1 end end
  if busy >= 2 then fail("REASON_430", "Maximum number of allowed simultaneous copies has already been reached.") end
  local r = { id = self:uuid(), name = pkg, geo = "europe", start = now, done = now + self.action_seconds * 4,
    user = self.user.userName }
  self.remote[#self.remote + 1] = r
  return ok(self, "Copy Remote OVF Package",
    'Request to Copy OVF Package "' .. pkg .. '" has been issued - see additionalInformation for copy id',
    { { "remoteOvfPackageCopy.copyId", r.id }, { "remoteOvfPackageCopy.sourceGeoKey", r.geo } }, "RESULT_0")
end

---------------------------------------------------------------------------------------------
-- routing
---------------------------------------------------------------------------------------------

-- { method or "*", pattern, handler(self, req, captures...) , role for writes }
local ROUTES = {
  { "GET", "^/myaccount$", H.myaccount },
  { "GET", "^/{org}/account$", H.accounts },
  { "POST", "^/{org}/account$", H.add_account },
  { "*", "^/{org}/account/([^/]+)$", H.account_action },
  { "GET", "^/{org}/datacenterWithMaintenanceStatus$", function(s, r) return H.datacenters_paged(s, r, "maintenance", "DatacentersWithMaintenanceStatus") end },
  { "GET", "^/{org}/datacenterWithDiskSpeed$", function(s, r) return H.datacenters_paged(s, r, "diskspeed", "DatacentersWithDiskSpeedDetails") end },
  { "GET", "^/{org}/datacenterWithLimits$", function(s, r) return H.datacenters(s, r, "limits") end },
  { "GET", "^/{org}/datacenter$", function(s, r) return H.datacenters(s, r, "plain") end },
  { "GET", "^/{org}/multigeo$", function(s, r) return H.geos(s, r, true) end },
  { "GET", "^/{org}/geo$", function(s, r) return H.geos(s, r, false) end },
  { "GET", "^/{org}/softwarelabel$", H.software_labels },
  { "GET", "^/base/image/deployedWithSoftwareLabels/([^/]+)$", function(s, r, loc) return H.os_images(s, r, loc, "DeployedImagesWithSoftwareLabels", "DeployedImageWithSoftwareLabels") end },
  { "GET", "^/base/image$", function(s, r) return H.os_images(s, r, nil, "ServerImages", nil, "server_image") end },
  { "GET", "^/base/image/([^/]+)$", function(s, r, loc) return H.os_images(s, r, loc, "ServerImages", nil, "server_image") end },
  -- 12.8 List Partner Server Images: GET /oec/0.9/partner/image (no org id; the simulator has none)
  { "GET", "^/partner/image$", function(s) return H.provider_images(s, "partner") end },
  { "GET", "^/(%a+)/image/(%a+)$", function(s, r, prov, kind)
      if prov ~= "opsource" and prov ~= "ntta" and prov ~= "ntte" and prov ~= "partner" then fail("REASON_420", "Unknown image provider.") end
      if kind ~= "web" and kind ~= "db" then fail("REASON_420", "Unknown image list " .. kind .. ".") end
      return H.provider_images(s, kind) end, match_org = false },
  { "GET", "^/{org}/image/deployedWithSoftwareLabels/([^/]+)$", function(s, r, loc) return H.customer_images(s, r, loc, false, "DeployedImagesWithSoftwareLabels", "DeployedImageWithSoftwareLabels") end },
  { "GET", "^/{org}/image/pendingDeploy/([^/]+)$", function(s, r, loc) return H.customer_images(s, r, loc, true, "PendingDeployImages", "PendingDeployImage") end },
  { "GET", "^/{org}/image/pendingDeploy$", function(s, r) return H.customer_images(s, r, nil, true, "PendingDeployImages", "PendingDeployImage") end },
  { "GET", "^/{org}/image/deployed/([^/]+)$", function(s, r, loc) return H.customer_images(s, r, loc, false, "DeployedImages", "DeployedImage") end },
  { "GET", "^/{org}/image/deployed$", function(s, r) return H.customer_images(s, r, nil, false, "DeployedImages", "DeployedImage") end },
  { "GET", "^/{org}/image$", function(s, r) return H.customer_images(s, r, nil, false, "ServerImages", "ServerImage") end },
  { "POST", "^/{org}/image/nameExists$", H.name_exists },
  { "*", "^/{org}/image/([^/]+)$", H.image },
  { "GET", "^/{org}/ovfPackage$", H.ovf_list },
  { "*", "^/{org}/imageImport$", H.image_import },
  { "*", "^/{org}/imageExport$", function(s, r) return H.image_export(s, r, false) end },
  { "GET", "^/{org}/imageExportHistory$", function(s, r) return H.image_export(s, r, true) end },
  { "*", "^/{org}/copyCustomerImage$", H.image_copy },
  { "*", "^/{org}/remoteOvfPackageCopy$", function(s, r) return H.remote_copy(s, r, false) end },
  { "GET", "^/{org}/remoteOvfPackageCopyHistory$", function(s, r) return H.remote_copy(s, r, true) end },
  { "GET", "^/{org}/serverWithBackup$", function(s, r) return H.servers_paged(s, r, "ServersWithBackup", "server", true) end },
  { "GET", "^/{org}/serverWithState$", function(s, r) return H.servers_paged(s, r, "ServersWithState", "serverWithState", false) end },
  { "POST", "^/{org}/server$", H.deploy },
  { "GET", "^/{org}/server$", function(s, r) return H.servers_legacy(s, r, nil, nil, "Servers", "Server") end },
  { "GET", "^/{org}/server/deployed$", function(s, r) return H.servers_legacy(s, r, nil, true, "DeployedServers", "DeployedServer") end },
  { "GET", "^/{org}/server/pendingDeploy$", function(s, r) return H.servers_legacy(s, r, nil, false, "PendingDeployServers", "PendingDeployServer") end },
  { "*", "^/{org}/server/([^/]+)$", H.server },
  { "GET", "^/{org}/server/([^/]+)/disk/([^/]+)$", function(s, r, id, d) return H.disk(s, r, id, d, false) end },
  { "POST", "^/{org}/server/([^/]+)/disk/([^/]+)/changeSpeed$", function(s, r, id, d) return H.disk(s, r, id, d, true) end },
  { "*", "^/{org}/server/([^/]+)/backup$", function(s, r, id) return H.backup(s, r, id) end },
  { "POST", "^/{org}/server/([^/]+)/backup/modify$", function(s, r, id) return H.backup(s, r, id, "modify") end },
  { "GET", "^/{org}/server/([^/]+)/backup/client/(%a+)$", function(s, r, id, sub)
      if sub ~= "type" and sub ~= "storagePolicy" and sub ~= "schedulePolicy" then
        return H.backup_client(s, r, id, nil, sub) end
      return H.backup_client(s, r, id, sub) end },
  { "POST", "^/{org}/server/([^/]+)/backup/client$", function(s, r, id) return H.backup_client(s, r, id) end },
  { "GET", "^/{org}/server/([^/]+)/backup/client/([^/]+)/systemRestoreTarget$", function(s, r, id, t) return H.backup_client(s, r, id, "restoreTarget", t) end },
  { "GET", "^/{org}/server/([^/]+)/backup/client/([^/]+)$", function(s, r, id, cid) return H.backup_client(s, r, id, nil, cid) end },
  { "POST", "^/{org}/server/([^/]+)/backup/client/([^/]+)/(%a+)$", function(s, r, id, cid, a) return H.backup_client(s, r, id, nil, cid, a) end },
  { "*", "^/{org}/antiAffinityRule$", function(s, r) return H.anti_affinity(s, r) end },
  { "GET", "^/{org}/antiAffinityRule/([^/]+)$", H.anti_affinity },
  { "*", "^/{org}/networkWithLocation$", function(s, r) return H.networks_with_location(s, r) end },
  { "GET", "^/{org}/networkWithLocation/([^/]+)/config$", function(s, r, id) return H.network_config(s, r, id, true) end },
  { "GET", "^/{org}/networkWithLocation/([^/]+)$", H.networks_with_location },
  { "*", "^/{org}/network$", H.networks_legacy },
  { "*", "^/{org}/network/([^/]+)$", H.network },
  { "GET", "^/{org}/network/([^/]+)/config$", function(s, r, id) return H.network_config(s, r, id, false) end },
  { "*", "^/{org}/network/([^/]+)/aclrule$", H.acl },
  { "GET", "^/{org}/network/([^/]+)/aclrule/([^/]+)$", H.acl },
  { "*", "^/{org}/network/([^/]+)/natrule$", H.nat },
  { "GET", "^/{org}/network/([^/]+)/natrule/([^/]+)$", H.nat },
  { "GET", "^/{org}/network/([^/]+)/publicip$", H.publicip },
  { "*", "^/{org}/network/([^/]+)/publicip/([^/]+)$", H.publicip },
  { "POST", "^/{org}/network/([^/]+)/multicast$", H.multicast },
  { "*", "^/{org}/network/([^/]+)/realServer$", H.real_server },
  { "*", "^/{org}/network/([^/]+)/realServer/([^/]+)$", H.real_server },
  { "*", "^/{org}/network/([^/]+)/probe$", H.probe },
  { "*", "^/{org}/network/([^/]+)/probe/([^/]+)$", H.probe },
  { "*", "^/{org}/network/([^/]+)/serverFarm$", H.farm },
  { "*", "^/{org}/network/([^/]+)/serverFarm/([^/]+)$", H.farm },
  { "POST", "^/{org}/network/([^/]+)/serverFarm/([^/]+)/(%a+)$", H.farm },
  { "*", "^/{org}/network/([^/]+)/persistenceProfile$", H.profile },
  { "GET", "^/{org}/network/([^/]+)/persistenceProfile/([^/]+)$", H.profile },
  { "*", "^/{org}/network/([^/]+)/vip$", H.vip },
  { "*", "^/{org}/network/([^/]+)/vip/([^/]+)$", H.vip },
  { "GET", "^/{org}/network/([^/]+)/server$", function(s, r, id) return H.servers_legacy(s, r, id, nil, "Servers", "Server") end },
  { "GET", "^/{org}/network/([^/]+)/server/(%a+)$", function(s, r, id, kind)
      local map = { deployed = { true, "DeployedServers", "DeployedServer" },
        deployedWithStatus = { true, "DeployedServers", "DeployedServer", true },
        deployedWithDisks = { true, "DeployedServersWithDisks", "DeployedServerWithDisks" },
        deployedWithSoftwareLabels = { true, "DeployedServersWithSoftwareLabels", "DeployedServerWithSoftwareLabels" },
        pendingDeploy = { false, "PendingDeployServers", "PendingDeployServer" },
        pendingDeployWithDisks = { false, "PendingDeployServersWithDisks", "PendingDeployServerWithDisks" } }
      local m = map[kind]
      if not m then fail("REASON_420", "Unknown list " .. kind) end
      return H.servers_legacy(s, r, id, m[1], m[2], m[3], m[4]) end },
  { "*", "^/{org}/storageAccount$", function(s, r) return H.storage(s, r) end },
  { "*", "^/{org}/storageAccount/([^/]+)$", H.storage },
  { "GET", "^/{org}/report/usage$", function(s, r) return H.report(s, r, "usage") end },
  { "GET", "^/{org}/report/usageDetailed$", function(s, r) return H.report(s, r, "usageDetailed") end },
  { "GET", "^/{org}/report/usageSoftwareUnits$", function(s, r) return H.report(s, r, "usageSoftwareUnits") end },
  { "GET", "^/{org}/auditlog$", function(s, r) return H.report(s, r, "auditlog") end },
  { "GET", "^/{org}/backup/detailedUsageReport$", function(s, r) return H.report(s, r, "backup") end },
}
for _, r in ipairs(ROUTES) do
  r.org = r[2]:find("{org}", 1, true) ~= nil
  r.pat = r[2]:gsub("{org}", "([^/]+)")
end

-- What a refused request was (section 1.3.2: a fault's Status names the operation too), from
-- its resource, method and flag: "Delete Server Image", "Create VIP", "Start Server".
local RESOURCES = {
  image = "Server Image", server = "Server", network = "Network", networkWithLocation = "Network",
  aclrule = "Acl Rule", natrule = "Nat Rule", vip = "VIP", serverFarm = "Server-Farm", probe = "Probe",
  realServer = "Real-Server", persistenceProfile = "Persistence-Profile", account = "Account",
  publicip = "Public IP Block", antiAffinityRule = "Anti-Affinity Rule", backup = "Backup",
  client = "Backup Client", storageAccount = "Cloud Files Account", disk = "Disk", multicast = "Multicast",
  imageImport = "Image Import", imageExport = "Image Export", copyCustomerImage = "Image Copy",
  remoteOvfPackageCopy = "OVF Package Copy",
}
local function operation_of(method, rest, flag)
  local res, item
  for seg in rest:gmatch("[^/?]+") do
    if RESOURCES[seg] then res, item = RESOURCES[seg], false
    elseif res then item = true end
  end
  if not res then return nil end
  if flag then
    if flag == "delete" or flag == "clean" or flag == "remove" or flag == "disable" then
      return (flag == "clean" and "Clean Failed " or flag:sub(1, 1):upper() .. flag:sub(2) .. " ") .. res
    end
    return flag:sub(1, 1):upper() .. flag:sub(2) .. " " .. res
  end
  if method == "POST" then return (item and "Modify " or "Create ") .. res end
  return (item and "Get " or "List ") .. res
end

function Sim:error_response(e)
  local status = e.status or 400
  return status, xml_headers(), self:status_doc(self.op_name or self.req_operation, "ERROR", e.detail or "", e.code)
end

function Sim:handle(req)
  local method = tostring(req.method or "GET"):upper()
  local full = tostring(req.path or "/")
  local path, query = full:match("^([^?]*)%??(.*)$")
  self:tick()
  if self.maintenance then return self:fault("maintenance") end
  local rest = path:match("^/oec/0%.9(/.*)$")
  if not rest then
    return 404, xml_headers(), self:status_doc(nil, "ERROR", "Unknown URL " .. path, "REASON_420")
  end
  -- pre-emptive HTTP Basic authentication on every request
  local auth = util.lower_headers(req.headers).authorization
  local user
  if type(auth) == "string" then
    local b64 = auth:match("^[Bb]asic%s+(%S+)")
    if b64 then
      local u, p = b64decode(b64):match("^([^:]*):(.*)$")
      for _, a in ipairs(self.accounts) do
        if u and a.userName == u and a.password == p then user = a end
      end
    end
  end
  if not user then
    return 401, { ["WWW-Authenticate"] = 'Basic realm="Cloud API"', ["Content-Type"] = "text/plain" },
      "Invalid request credentials.\n"
  end
  local qlist, qmap = parse_pairs(query)
  local flag = (qlist[1] and qlist[1][2] == true) and qlist[1][1] or nil
  local r = { method = method, path = rest, qlist = qlist, qmap = qmap, flag = flag, body = req.body,
    headers = req.headers }
  self.user = user
  self.op_name = nil
  self.req_operation = operation_of(method, rest, flag)
  local matched
  for _, rt in ipairs(ROUTES) do
    if rt[1] == "*" or rt[1] == method then
      local caps = { rest:match(rt.pat) }
      if caps[1] ~= nil then
        matched = { rt, caps }
        break
      end
    end
  end
  if not matched then
    return 404, xml_headers(), self:status_doc(nil, "ERROR", "Unknown URL or method: " .. method .. " " .. rest, "REASON_420")
  end
  local rt, caps = matched[1], matched[2]
  if rt.org then
    local org = table.remove(caps, 1)
    if org ~= ORG_ID then
      return 400, xml_headers(), self:status_doc(nil, "ERROR", org .. " invalid (does not match credentials).", "REASON_100")
    end
  end
  -- a GET without flags only reads; anything else may write: cached list views are dropped
  local writes = method ~= "GET"
  for _, kv in ipairs(qlist) do if kv[2] == true then writes = true end end
  if writes then self:changed() end
  local res = { pcall(rt[3], self, r, unpack(caps)) }
  if writes then self:changed() end
  if not res[1] then
    local e = res[2]
    if type(e) == "table" and e.dd then return self:error_response(e) end
    error(e, 0)
  end
  return res[2], res[3], res[4]
end

return M
