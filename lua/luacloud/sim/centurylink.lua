-- CenturyLink Cloud API v1 simulator (stateful, in memory).
--
-- Behaviour follows shared/seeds/centurylink-cloud-api-v1.txt and shared/notes/centurylink.md:
-- * every method is POST /REST/<Group>/<Method>/<JSON|XML>; Auth/Logon/ and Auth/Logout/ have no
--   format segment (the Content-Type decides). Requests: flat JSON objects, or XML documents with one
--   child element per parameter (lists as <OperatingSystems><OS>..</OS></OperatingSystems>,
--   <Roles><int>..</int></Roles>, <Parameters><Parameter Name Value/></Parameters>, repeated
--   <CustomFields ID Value/>).
-- * Logon with the demo credentials writes the cookie Tier3.API.Cookie; any other call without a
--   valid cookie answers StatusCode 100. Sessions last SESSION_TTL seconds (sim:expire_sessions()).
-- * responses carry Success/Message/StatusCode (XML: root attributes), errors use the documented
--   StatusCodes with HTTP 200 (the document reports errors in the body only).
-- * long-running operations return a RequestID; the job progresses with the clock (opts.now) and its
--   effect is applied when it completes. Queue/GetRequestStatus and Blueprint/GetDeploymentStatus
--   both answer for every RequestID.
-- * billing figures are computed from the servers (hourly rates below).
--
-- Lua 5.1-compatible (runs under nginx's LuaJIT and under Lua 5.4).

local core = require("luacloud.core")
local util = require("luacloud.sim.util")
local catalog = require("luacloud.catalog.centurylink")

local M = {}

local Sim = {}
Sim.__index = Sim

local SESSION_TTL = 1800
local COOKIE = "Tier3.API.Cookie"
local USER_ALIAS = "DEMO"
local JOB_SECONDS = 4
local ALIAS_LIMIT = 400

M.CREDENTIALS = { api_key = "demo-api-key", password = "demo-password", account_alias = USER_ALIAS }

-- hourly rates (currency not documented)
local RATE = { cpu = 0.015, memory_gb = 0.02, storage_gb = { [1] = 0.0006, [2] = 0.0003 }, windows = 0.04 }
local WINDOWS_OS = { [2] = true, [3] = true, [4] = true, [5] = true, [15] = true, [16] = true, [17] = true,
  [18] = true, [24] = true, [26] = true, [27] = true, [28] = true, [43] = true, [44] = true, [45] = true, [46] = true }

local TEXT = {
  [2] = "Unknown Error - An application error occurred processing your request, contact support to resolve the issue.",
  [3] = "Invalid Request Format. This value indicates that the XML or JSON requests do not match the expected format.",
  [100] = "Authentication Failed - You must logon to the API prior to calling this method.",
  [101] = "Access Denied. You do not have access to the account specified.",
}

---------------------------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------------------------

local ARR = core.array_mt
local function arr(t) return setmetatable(t or {}, ARR) end
local NULL = core.null

local function fail(code, message)
  error({ clc = code, message = message }, 0)
end

local trim = util.trim

local function empty(v) return v == nil or v == NULL or (type(v) == "string" and trim(v) == "") end

local function str(v)
  if empty(v) then return nil end
  if type(v) == "number" and v == math.floor(v) then return string.format("%d", v) end
  return trim(tostring(v))
end

local function int(v)
  if empty(v) then return nil end
  local n = tonumber(v)
  if n and n == math.floor(n) then return n end
  return nil
end

local function bool(v)
  if v == true or v == false then return v end
  if type(v) == "string" then
    local l = trim(v):lower()
    if l == "true" or l == "1" then return true end
    if l == "false" or l == "0" then return false end
  end
  if v == 1 then return true elseif v == 0 then return false end
  return nil
end

local function round(x, d)
  local m = 10 ^ (d or 4)
  return math.floor(x * m + 0.5) / m
end

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return setmetatable(c, getmetatable(t))
end

-- Dates --------------------------------------------------------------------------------------

local DATE = { __name = "centurylink.date" }
local function D(t) return setmetatable({ t = t }, DATE) end
local function is_date(v) return type(v) == "table" and getmetatable(v) == DATE end

local days_from_civil = util.days_from_civil

local function epoch(y, m, d, hh, mm, ss)
  return days_from_civil(y, m, d) * 86400 + (hh or 0) * 3600 + (mm or 0) * 60 + (ss or 0)
end

local function iso(t)
  local s = math.floor(t)
  local ms = math.floor((t - s) * 1000 + 0.5)
  if ms >= 1000 then s, ms = s + 1, 0 end
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%03d", ms)
end

local function mdy(t)
  local d = os.date("!*t", math.floor(t))
  return string.format("%d/%d/%d", d.month, d.day, d.year)
end

--- Parses YYYY-MM-DD[THH:MM[:SS[.fff]]], \/Date(ms)\/ or M/D/YYYY. Returns epoch seconds or nil.
local function parse_date(v)
  if type(v) == "number" then return v end
  if type(v) ~= "string" then return nil end
  local ms = v:match("Date%((%-?%d+)")
  if ms then return tonumber(ms) / 1000 end
  local y, m, d, rest = v:match("^%s*(%d%d%d%d)[%-:](%d%d?)%-(%d%d?)(.*)$")
  if y then
    y, m, d = tonumber(y), tonumber(m), tonumber(d)
    if m < 1 or m > 12 or d < 1 or d > 31 then return nil end
    local hh, mi, ss = rest:match("^[T ](%d%d?):(%d%d):?(%d*%.?%d*)")
    if rest ~= "" and not hh then return nil end
    return epoch(y, m, d, tonumber(hh) or 0, tonumber(mi) or 0, tonumber(ss) or 0)
  end
  local mo, da, ye = v:match("^%s*(%d%d?)/(%d%d?)/(%d%d%d%d)%s*$")
  if mo then return epoch(tonumber(ye), tonumber(mo), tonumber(da)) end
  return nil
end

local function month_start(t)
  local d = os.date("!*t", math.floor(t))
  return epoch(d.year, d.month, 1)
end

local function day_start(t)
  return math.floor(t / 86400) * 86400
end

---------------------------------------------------------------------------------------------
-- Rendering
---------------------------------------------------------------------------------------------

local xml_escape = util.xml_escape

local function scalar(v, fmt)
  if is_date(v) then
    if fmt == "json" then return "/Date(" .. string.format("%d", math.floor(v.t * 1000 + 0.5)) .. ")/" end
    return iso(v.t)
  end
  if v == NULL then return fmt == "json" and NULL or "" end
  if fmt == "xml" then
    if v == true then return "true" elseif v == false then return "false" end
    if type(v) == "number" then
      if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
      return string.format("%.4f", v)
    end
  end
  return v
end

local function is_list(v)
  return type(v) == "table" and not is_date(v) and (getmetatable(v) == ARR or (#v > 0 and v[1] ~= nil))
end

local function to_json_value(v)
  if is_date(v) then return scalar(v, "json") end
  if type(v) ~= "table" or v == NULL then return v end
  local out = {}
  if is_list(v) then
    for i, x in ipairs(v) do out[i] = to_json_value(x) end
    return arr(out)
  end
  for k, x in pairs(v) do out[k] = to_json_value(x) end
  return out
end

local function json_body(payload)
  local s = core.json_encode(to_json_value(payload))
  -- the .NET serializer escapes the slashes of its dates: "\/Date(ms)\/"
  s = s:gsub('"/Date%((%-?%d+)%)/"', '"\\/Date(%1)\\/"')
  return s
end

-- XML shape: which scalars are child elements instead of attributes, by parent element.
local ELEMENTS = {
  AccountDetails = { BusinessName = 1, Address1 = 1, Address2 = 1, City = 1, StateProvince = 1, PostalCode = 1,
    Country = 1, Telephone = 1, Fax = 1 },
  BlueprintDetails = { Name = 1, Author = 1, Description = 1 },
  Snapshot = { Name = 1, Description = 1, DateCreated = 1 },
  BadAddress = { Address = 1, Reason = 1, Server = 1, LogDate = 1 },
  GetServerCredentialsResponse = { Username = 1, Password = 1 },
  GetBlueprintParamatersResponse = { ID = 1 },
  QueuedItemResponse = { RequestID = 1 },
}
-- XML shape: null strings the samples write as empty attributes (the JSON samples: null).
local EMPTY_ATTRS = {
  UserDetails = { AlternateEmailAddress = 1, Title = 1, OfficeNumber = 1, MobileNumber = 1, FaxNumber = 1 },
}
local FIRST = { Success = 1, Message = 2, StatusCode = 3 }

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local fa, fb = FIRST[a], FIRST[b]
    if fa or fb then return (fa or 99) < (fb or 99) end
    return a < b
  end)
  return keys
end

local function render_element(buf, name, node, shape, indent, elements)
  elements = elements or ELEMENTS[name] or {}
  local attrs, kids = {}, {}
  for _, k in ipairs(sorted_keys(node)) do
    local v = node[k]
    if type(v) == "table" and not is_date(v) and v ~= NULL then
      -- an empty list written as repeated elements leaves nothing behind
      if not (shape.repeated_back[k] and #v == 0) then kids[#kids + 1] = k end
    elseif v == NULL and not elements[k] then
      -- null attributes are left out (the samples omit them), but for those written empty
      if EMPTY_ATTRS[name] and EMPTY_ATTRS[name][k] then attrs[#attrs + 1] = k .. '=""' end
    elseif elements[k] then
      kids[#kids + 1] = k
    elseif v ~= nil then
      attrs[#attrs + 1] = k .. '="' .. xml_escape(scalar(v, "xml")) .. '"'
    end
  end
  local open = indent .. "<" .. name .. (#attrs > 0 and (" " .. table.concat(attrs, " ")) or "")
  if #kids == 0 then
    buf[#buf + 1] = open .. " />"
    return
  end
  buf[#buf + 1] = open .. ">"
  local sub = indent .. "  "
  for _, k in ipairs(kids) do
    local v = node[k]
    if type(v) ~= "table" or is_date(v) or v == NULL then
      local text = scalar(v, "xml")
      if text == "" then
        buf[#buf + 1] = sub .. "<" .. k .. " />"
      else
        buf[#buf + 1] = sub .. "<" .. k .. ">" .. xml_escape(text) .. "</" .. k .. ">"
      end
    elseif is_list(v) or (getmetatable(v) == ARR) then
      local wrapper = shape.rename_back[k] or k
      local item = shape.items[wrapper]
      local rep = shape.repeated_back[k]
      if rep then
        for _, it in ipairs(v) do
          if type(it) == "table" then render_element(buf, rep, it, shape, sub) else
            buf[#buf + 1] = sub .. "<" .. rep .. ">" .. xml_escape(scalar(it, "xml")) .. "</" .. rep .. ">"
          end
        end
      else
        item = item or "item"
        if #v == 0 then
          buf[#buf + 1] = sub .. "<" .. wrapper .. " />"
        else
          buf[#buf + 1] = sub .. "<" .. wrapper .. ">"
          for _, it in ipairs(v) do
            if type(it) == "table" and not is_date(it) then
              render_element(buf, item, it, shape, sub .. "  ")
            else
              buf[#buf + 1] = sub .. "  <" .. item .. ">" .. xml_escape(scalar(it, "xml")) .. "</" .. item .. ">"
            end
          end
          buf[#buf + 1] = sub .. "</" .. wrapper .. ">"
        end
      end
    else
      render_element(buf, k, v, shape, sub)
    end
  end
  buf[#buf + 1] = indent .. "</" .. name .. ">"
end

local shapes = {}
local function shape_of(entry)
  if entry and shapes[entry] then return shapes[entry] end
  local r = entry and entry.response or {}
  local s = { items = {}, rename_back = {}, repeated_back = {} }
  for w, i in pairs(r.xml_items or {}) do s.items[w] = i end
  for x, j in pairs(r.xml_rename or {}) do s.rename_back[j] = x end
  for x, j in pairs(r.xml_repeated or {}) do s.repeated_back[j] = x end
  if entry then shapes[entry] = s end
  return s
end

local function xml_body(root, payload, entry, elements)
  local buf = {}
  render_element(buf, root, payload, shape_of(entry), "", elements)
  return table.concat(buf, "\n") .. "\n"
end

---------------------------------------------------------------------------------------------
-- Request parsing
---------------------------------------------------------------------------------------------

-- The request lists of the catalog's params (param.xml): wrapper -> item element
-- (<OperatingSystems><OS>..), and elements repeated without a wrapper (<CustomFields ID=".."/>)
local WRAPPERS, REPEATED, XML_LISTS = {}, {}, {}
for _, e in pairs(catalog.operations) do
  for _, spec in ipairs(e.params or {}) do
    if spec.type == "array" and spec.xml then
      if spec.xml.item then
        WRAPPERS[spec.name] = spec.xml.item
        XML_LISTS[spec.xml.item] = true
      else
        REPEATED[spec.name] = true
        XML_LISTS[spec.name] = true
      end
    end
  end
end

local function flatten_xml(t)
  if type(t) ~= "table" then return t end
  for k, item in pairs(WRAPPERS) do
    local v = t[k]
    if type(v) == "table" and getmetatable(v) ~= ARR then
      local only, n = nil, 0
      for kk in pairs(v) do only = kk; n = n + 1 end
      if n == 1 and only == item and type(v[only]) == "table" and getmetatable(v[only]) == ARR then
        t[k] = v[only]
      end
    elseif v == "" then
      t[k] = arr()
    end
  end
  for k in pairs(REPEATED) do
    if type(t[k]) == "table" and getmetatable(t[k]) == ARR then
      local keep = arr()
      for _, cf in ipairs(t[k]) do if type(cf) == "table" and next(cf) then keep[#keep + 1] = cf end end
      t[k] = keep
    end
  end
  return t
end

-- A DataContract server reads an XML body only under its contract's root element (xml_root).
local function parse_body(body, fmt, entry)
  if body == nil or body:match("^%s*$") then return {} end
  local v
  if fmt == "xml" then
    local root
    v, root = core.xml_decode(body, { lists = XML_LISTS })
    local want = entry and entry.xml_root
    if v ~= nil and want and tostring(root):match("([^:]+)$") ~= want then return nil end
    if type(v) == "string" then v = {} end
    v = flatten_xml(v)
  else
    v = core.json_decode(body)
  end
  if type(v) ~= "table" then return nil end
  -- case-insensitive parameter names (the .NET binder ignores case)
  local p = {}
  for k, x in pairs(v) do
    if type(k) == "string" then
      if x == NULL then x = nil end
      p[k:lower()] = x
    end
  end
  return p
end

local function P(p, name) return p[name:lower()] end

---------------------------------------------------------------------------------------------
-- Simulator state
---------------------------------------------------------------------------------------------

local LOCATIONS = {
  { Alias = "WA1", Region = "US West" },
  { Alias = "UC1", Region = "US Central" },
  { Alias = "VA1", Region = "US East" },
  { Alias = "GB1", Region = "Great Britain" },
}

local TEMPLATES = {
  { ID = 1001, Name = "CENTOS-6-64-TEMPLATE", Description = "CentOS 6 | 64-bit", Cpu = 1, MemoryGB = 2, DiskCount = 1, TotalDiskSpaceGB = 16, OperatingSystem = 35 },
  { ID = 1002, Name = "UBUNTU-14-64-TEMPLATE", Description = "Ubuntu 14 | 64-bit", Cpu = 1, MemoryGB = 2, DiskCount = 1, TotalDiskSpaceGB = 16, OperatingSystem = 41 },
  { ID = 1003, Name = "DEBIAN-7-64-TEMPLATE", Description = "Debian 7 | 64-bit", Cpu = 1, MemoryGB = 1, DiskCount = 1, TotalDiskSpaceGB = 16, OperatingSystem = 37 },
  { ID = 1004, Name = "RHEL-7-64-TEMPLATE", Description = "RedHat Enterprise Linux 7 | 64-bit", Cpu = 1, MemoryGB = 2, DiskCount = 1, TotalDiskSpaceGB = 16, OperatingSystem = 42 },
  { ID = 1005, Name = "WIN2012R2DTC-64", Description = "Windows 2012 R2 Datacenter | 64-bit", Cpu = 2, MemoryGB = 4, DiskCount = 1, TotalDiskSpaceGB = 60, OperatingSystem = 28 },
  { ID = 1006, Name = "WIN2008R2STD-64", Description = "Windows 2008 R2 Standard | 64-bit", Cpu = 1, MemoryGB = 4, DiskCount = 1, TotalDiskSpaceGB = 40, OperatingSystem = 43 },
}

local BLUEPRINTS = {
  { ID = 1, Name = "LAMP Web Server", Visibility = 1, Status = 1, Author = "CenturyLink", CompanySize = 1,
    Description = "A single Linux web server with Apache, MySQL and PHP.", Capabilities = { "Web Applications" },
    OperatingSystems = { 7, 35 },
    Parameters = {
      { Name = "T3.BuildServerTask.Password", Type = 4, Required = true },
      { Name = "T3.BuildServerTask.Network", Type = 1, Required = true },
      { Name = "T3.ScriptTask.CacheSize", Type = 2, Required = false },
      { Name = "T3.ScriptTask.Edition", Type = 3, Required = false,
        Options = { { Name = "Standard", Value = "1" }, { Name = "Enterprise", Value = "2" } } },
    } },
  { ID = 2, Name = "Windows IIS Server", Visibility = 1, Status = 1, Author = "CenturyLink", CompanySize = 2,
    Description = "Windows 2012 R2 with IIS and the .NET framework.", Capabilities = { "Web Applications", "CDN" },
    OperatingSystems = { 28 },
    Parameters = {
      { Name = "T3.BuildServerTask.Password", Type = 4, Required = true },
      { Name = "T3.BuildServerTask.Network", Type = 1, Required = true },
    } },
  { ID = 3, Name = "Private Build Farm", Visibility = 2, Status = 1, Author = "demo@example.com", CompanySize = 3,
    Description = "Jenkins master with two agents.", Capabilities = { "Continuous Integration" },
    OperatingSystems = { 20, 41 },
    Parameters = { { Name = "T3.ScriptTask.Agents", Type = 2, Required = true } } },
}

local PACKAGES = {
  { ID = 2, Name = "Add Disk", Classification = 1, Visibility = 1 },
  { ID = 3, Name = "Add IP Address", Classification = 1, Visibility = 1 },
  { ID = 5, Name = "Snapshot Server", Classification = 1, Visibility = 1 },
  { ID = 6, Name = "Reboot Server", Classification = 1, Visibility = 1 },
  { ID = 20, Name = "Install IIS", Classification = 2, Visibility = 1 },
  { ID = 21, Name = "Harden SSH", Classification = 2, Visibility = 2 },
  { ID = 30, Name = "SQL Server 2012 Standard", Classification = 3, Visibility = 1 },
}

local PARAM_TYPE_NAMES = { "Network", "Numeric", "Option", "Password", "Server", "ServerIP", "String", "MultiSelect" }

function M.new(opts)
  opts = opts or {}
  local self = setmetatable({}, Sim)
  self.now = opts.now or os.time
  self.base_url = opts.base_url
  self.credentials = copy(M.CREDENTIALS)
  self.job_seconds = opts.job_seconds or JOB_SECONDS
  self.alias_limit = opts.alias_limit or ALIAS_LIMIT
  self:reset()
  return self
end

function Sim:clock() return self.now() end

Sim.random = util.park_miller

function Sim:hex(len) return util.pick(self, util.park_miller, util.HEX, len) end

function Sim:new_password()
  return util.pick(self, util.park_miller, "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 10) .. "!7"
end

--- Back to the initial state: accounts DEMO (the API user's) with sub account DEM1, an account XTRN
--- the user cannot see, their groups and networks, one server WA1DEMOWEB01, users, invoices.
function Sim:reset()
  self.rng = 20120913
  self.name_seq, self.seeded, self.seed_net, self.seed_vlans = {}, 0, nil, 0
  self.sessions = {}
  self.accounts = {}
  self.account_order = {}
  self.groups = {}
  self.group_seq = 100
  self.servers = {}
  self.server_order = {}
  self.networks = {}
  self.jobs = {}
  self.job_order = {}
  self.request_seq = 0
  self.templates = {}
  for i, t in ipairs(TEMPLATES) do self.templates[i] = copy(t) end
  self.template_seq = 2000
  self.blueprints = copy(BLUEPRINTS)
  self.packages = copy(PACKAGES)
  self.pending_packages = {}
  self.package_seq = 100
  self.aliases = {}
  self.alias_seq = 0
  self.users = {}
  self.public_ip_seq = 10
  local t0 = self:clock()
  self:add_account({ AccountAlias = "DEMO", ParentAlias = nil, Location = "WA1", BusinessName = "Demo Company",
    Address1 = "1100 112th Ave NE", City = "Bellevue", StateProvince = "WA", PostalCode = "98004",
    Country = "USA", Telephone = "877-388-4373", TimeZone = "Pacific Standard Time",
    ShareParentNetworks = false, BillingResponsibilityID = 1 })
  self:add_account({ AccountAlias = "DEM1", ParentAlias = "DEMO", Location = "UC1", BusinessName = "Demo Subsidiary",
    Address1 = "2 Main Street", City = "Chicago", StateProvince = "IL", PostalCode = "60601",
    Country = "USA", Telephone = "312-555-0100", TimeZone = "Central Standard Time",
    ShareParentNetworks = true, BillingResponsibilityID = 2 })
  self:add_account({ AccountAlias = "XTRN", ParentAlias = nil, Location = "VA1", BusinessName = "External Corp",
    Address1 = "1 Other Road", City = "Reston", StateProvince = "VA", PostalCode = "20190",
    Country = "USA", Telephone = "703-555-0100", TimeZone = "Eastern Standard Time",
    ShareParentNetworks = false, BillingResponsibilityID = 1 })
  -- the API user's account also has a group and network in UC1
  self:location_setup("DEMO", "UC1")
  local default = self:find_group_by_name("DEMO", "WA1", "Default Group")
  local s = self:add_server({ account = "DEMO", group = default, alias = "WEB", template = self.templates[1],
    Cpu = 2, MemoryGB = 4, ExtraDriveGB = 50, ServerType = 1, ServiceLevel = 2, Description = "Demo web server",
    Password = "Demo!Pass123" })
  s.Status, s.PowerState, s.created = "Active", "Started", t0 - 40 * 86400
  s.DateModified = t0 - 40 * 86400
  self.users = {
    ["user1@demo.example"] = { AccountAlias = "DEMO", UserName = "user1@demo.example", EmailAddress = "user1@demo.example",
      FirstName = "Ellie", LastName = "User", AlternateEmailAddress = "", Title = "", OfficeNumber = "", MobileNumber = "",
      AllowSMS = false, FaxNumber = "", SAMLUserName = NULL, TimeZoneID = "Pacific Standard Time", Roles = { 9 }, Status = "Active" },
  }
  self.user_order = { "user1@demo.example" }
  self.invoices = {
    ["DEMO0912A"] = { ID = "DEMO0912A", date = t0 - 60 * 86400, total = 358.56, items = {
      { Quantity = 1, Description = "Default Group", UnitCost = 103.58, ServiceLocation = "WA1", details = { { "WA1DEMOWEB01", 103.58 } } },
      { Quantity = 1, Description = "Build Group", UnitCost = 252.98, ServiceLocation = "WA1", details = { { "WA1DEMOAPP01", 252.98 } } },
      { Quantity = 1, Description = "External IP Address (WA1)", UnitCost = 2.0, ServiceLocation = "WA1", details = {} },
    } },
    ["DEMO1012A"] = { ID = "DEMO1012A", date = t0 - 30 * 86400, total = 361.2, items = {
      { Quantity = 1, Description = "Default Group", UnitCost = 106.22, ServiceLocation = "WA1", details = { { "WA1DEMOWEB01", 106.22 } } },
      { Quantity = 1, Description = "Build Group", UnitCost = 252.98, ServiceLocation = "WA1", details = { { "WA1DEMOAPP01", 252.98 } } },
      { Quantity = 1, Description = "External IP Address (WA1)", UnitCost = 2.0, ServiceLocation = "WA1", details = {} },
    } },
  }
  self.payments = { { date = t0 - 45 * 86400, amount = 358.56, ID = "PAY-1001" } }
  self.bad_addresses = {
    { Address = "user@xyz.net", Reason = "demo.example sender, but not from a demo.example-approved relay.",
      Server = "mail2.xyz.net", LogDate = t0 - 3 * 86400, DomainAlias = "demo.example" },
    { Address = "nobody@invalid.example", Reason = "Recipient address rejected: User unknown",
      Server = "mx.invalid.example", LogDate = t0 - 86400, DomainAlias = "demo.example" },
  }
  return self
end

-- Accounts, groups and networks --------------------------------------------------------------

function Sim:add_account(a)
  a.Status = a.Status or 1
  a.custom_fields = {
    { UUID = "dba67b15-6e77-4e1f-b413-ddfa3dc4ac1d", Name = "Cost Center", CustomFieldType = "Text", IsRequired = false },
    { UUID = "d61daab2-e99f-40c2-a4b5-820c3d97eea4", Name = "Tier", CustomFieldType = "Option", IsRequired = false,
      Options = { { Name = "Production", Value = "1" }, { Name = "Test", Value = "2" } } },
    { UUID = "de775088-8b94-4e9f-b64b-416623477cf8", Name = "Monitored", CustomFieldType = "Checkbox", IsRequired = false },
  }
  self.accounts[a.AccountAlias] = a
  self.account_order[#self.account_order + 1] = a.AccountAlias
  self:location_setup(a.AccountAlias, a.Location)
  return a
end

function Sim:new_group(account, location, name, parent, system, description)
  self.group_seq = self.group_seq + 1
  local g = { ID = self.group_seq, UUID = self:hex(32), Name = name, Description = description or name,
    ParentUUID = parent and parent.UUID or nil, ParentID = parent and parent.ID or nil,
    IsSystemGroup = system and true or false, account = account, location = location,
    Status = "Active", seq = self.group_seq }
  self.groups[g.UUID] = g
  return g
end

function Sim:location_setup(alias, location)
  for _, g in pairs(self.groups) do
    if g.account == alias and g.location == location and not g.ParentUUID then return g end
  end
  local root = self:new_group(alias, location, location .. " Hardware", nil, true)
  self:new_group(alias, location, "Archive", root, true)
  self:new_group(alias, location, "Templates", root, true)
  self:new_group(alias, location, "Default Group", root, false)
  -- one network per account and location
  local n = 0
  for _ in pairs(self.networks) do n = n + 1 end
  local third = 10 + n
  local net = { Name = string.format("vlan_%d_10.%d.%d", 1100 + n, 80 + (n % 100), third),
    Gateway = string.format("10.%d.%d.1", 80 + (n % 100), third), NetworkMask = "255.255.255.0",
    Location = location, AccountAlias = alias, prefix = string.format("10.%d.%d.", 80 + (n % 100), third), claimed = {} }
  net.Description = net.Name
  self.networks[net.Name] = net
  return root
end

function Sim:find_group_by_name(alias, location, name)
  for _, g in pairs(self.groups) do
    if g.account == alias and g.location == location and g.Name == name then return g end
  end
end

function Sim:in_hierarchy(alias, root)
  root = root or USER_ALIAS
  local a = self.accounts[alias]
  local guard = 0
  while a and guard < 50 do
    if a.AccountAlias == root then return true end
    a = a.ParentAlias and self.accounts[a.ParentAlias]
    guard = guard + 1
  end
  return false
end

function Sim:sub_accounts(alias)
  local out = { alias }
  for _, k in ipairs(self.account_order) do
    if k ~= alias and self:in_hierarchy(k, alias) then out[#out + 1] = k end
  end
  return out
end

function Sim:descendants(g)
  local out = { g }
  local i = 1
  while i <= #out do
    for _, x in pairs(self.groups) do
      if x.ParentUUID == out[i].UUID then out[#out + 1] = x end
    end
    i = i + 1
  end
  return out
end

function Sim:group_servers(g, deep)
  local set = {}
  for _, x in ipairs(deep and self:descendants(g) or { g }) do set[x.UUID] = true end
  local out = {}
  for _, name in ipairs(self.server_order) do
    local s = self.servers[name]
    if s and set[s.HardwareGroupUUID] then out[#out + 1] = s end
  end
  return out
end

function Sim:account_networks(alias, location)
  local out = {}
  for _, n in pairs(self.networks) do
    if n.AccountAlias == alias and (not location or n.Location == location) then out[#out + 1] = n end
  end
  table.sort(out, function(a, b) return a.Name < b.Name end)
  return out
end

-- A VLAN of the account with a free address, a new one when all are full (seeding only).
function Sim:seed_network(alias, location)
  local net = self.seed_net
  if net and (net.used or 0) < 239 then return net end
  for _, n in ipairs(self:account_networks(alias, location)) do
    if (n.used or 0) < 239 then self.seed_net = n return n end
  end
  local k = (self.seed_vlans or 0) + 1
  self.seed_vlans = k
  net = { Name = string.format("vlan_%d_10.%d.%d", 3000 + k, 100 + math.floor(k / 250), k % 250),
    Gateway = string.format("10.%d.%d.1", 100 + math.floor(k / 250), k % 250), NetworkMask = "255.255.255.0",
    Location = location, AccountAlias = alias, prefix = string.format("10.%d.%d.", 100 + math.floor(k / 250), k % 250),
    claimed = {}, used = 0 }
  net.Description = net.Name
  self.networks[net.Name] = net
  self.seed_net = net
  return net
end

function Sim:claim_ip(net, server)
  for i = 12, 250 do
    local ip = net.prefix .. i
    if not net.claimed[ip] then
      net.claimed[ip] = server
      net.used = (net.used or 0) + 1
      return ip
    end
  end
  fail(2, "Unknown Error - the network " .. net.Name .. " has no free address")
end

-- Servers ------------------------------------------------------------------------------------

function Sim:add_server(o)
  local acct = self.accounts[o.account]
  local g = o.group
  local prefix = g.location .. o.account .. o.alias:upper()
  -- the next free number of this name prefix: remembered, so an account of 100,000 servers
  -- does not rescan its names for every new one
  self.name_seq = self.name_seq or {}
  local seq = self.name_seq[prefix] or 1
  while self.servers[string.format("%s%02d", prefix, seq)] do seq = seq + 1 end
  self.name_seq[prefix] = seq + 1
  local name = string.format("%s%02d", prefix, seq)
  local nets = o.network or self:account_networks(o.account, g.location)[1]
  if not nets and acct.ParentAlias then nets = self:account_networks(acct.ParentAlias, g.location)[1] end
  local t = o.template
  local now = self:clock()
  local disks = { { Name = "[0:0]", ScsiBusID = "0", ScsiDeviceID = "0", SizeGB = t.TotalDiskSpaceGB } }
  if (o.ExtraDriveGB or 0) > 0 then
    disks[2] = { Name = "[0:1]", ScsiBusID = "0", ScsiDeviceID = "1", SizeGB = o.ExtraDriveGB }
  end
  local s = { Name = name, account = o.account, Location = g.location, HardwareGroupUUID = g.UUID,
    Description = o.Description or name, Cpu = o.Cpu, MemoryGB = o.MemoryGB, disks = disks,
    Status = "UnderConstruction", PowerState = "Stopped", InMaintenanceMode = false,
    OperatingSystem = t.OperatingSystem, ServerType = o.ServerType or 1, ServiceLevel = o.ServiceLevel or 2,
    IsTemplate = false, Password = o.Password or self:new_password(), snapshots = {},
    CustomFields = o.CustomFields or {}, created = now, DateModified = now, ModifiedBy = self.credentials.api_key,
    PrimaryDns = o.PrimaryDns, SecondaryDns = o.SecondaryDns, public_ips = {} }
  s.network = nets
  s.IPAddress = nets and self:claim_ip(nets, name) or ""
  s.name_prefix, s.name_seq = prefix, seq
  self.servers[name] = s
  self.server_order[#self.server_order + 1] = name
  return s
end

function Sim:remove_server(s)
  self.servers[s.Name] = nil
  for i, n in ipairs(self.server_order) do
    if n == s.Name then table.remove(self.server_order, i) break end
  end
  if s.network and s.IPAddress and s.network.claimed[s.IPAddress] then
    s.network.claimed[s.IPAddress] = nil
    s.network.used = (s.network.used or 1) - 1
  end
  -- its number is free again for the next server of the same prefix
  local hint = s.name_prefix and self.name_seq[s.name_prefix]
  if hint and s.name_seq < hint then self.name_seq[s.name_prefix] = s.name_seq end
end

function Sim:touch(s)
  s.DateModified = self:clock()
  s.ModifiedBy = self.credentials.api_key
end

local function total_disk(s)
  local n = 0
  for _, d in ipairs(s.disks) do n = n + d.SizeGB end
  return n
end

function Sim:server_view(s, acct_field)
  local ips = arr()
  if s.IPAddress and s.IPAddress ~= "" then ips[#ips + 1] = { Address = s.IPAddress, AddressType = "RIP" } end
  for _, p in ipairs(s.public_ips) do ips[#ips + 1] = { Address = p.Address, AddressType = "MIP" } end
  local cfs = arr()
  local acct = self.accounts[s.account]
  for _, cf in ipairs(s.CustomFields) do
    local name, typ = "", "Text"
    for _, def in ipairs(acct.custom_fields) do
      if def.UUID:gsub("%-", "") == tostring(cf.ID):gsub("%-", "") then name, typ = def.Name, def.CustomFieldType end
    end
    cfs[#cfs + 1] = { ID = cf.ID, CustomFieldID = -1, Name = name, Type = typ, Value = cf.Value }
  end
  local g = self.groups[s.HardwareGroupUUID]
  return {
    ID = -1, HardwareGroupID = g and g.ID or -1, HardwareGroupUUID = s.HardwareGroupUUID, Name = s.Name,
    Description = s.Description, DnsName = s.Name, IsTemplate = s.IsTemplate, IsHyperscale = false,
    Cpu = s.Cpu, MemoryGB = s.MemoryGB, DiskCount = #s.disks, TotalDiskSpaceGB = total_disk(s),
    Status = s.Status, ServerType = s.ServerType, ServiceLevel = s.ServiceLevel,
    OperatingSystem = s.OperatingSystem, PowerState = s.PowerState, InMaintenanceMode = s.InMaintenanceMode,
    Location = s.Location, IPAddress = s.IPAddress, IPAddresses = ips, CustomFields = cfs,
    DateModified = D(s.DateModified), ModifiedBy = s.ModifiedBy,
  }
end

-- Billing ------------------------------------------------------------------------------------

--- Cost components per hour of a server.
function Sim:hourly(s)
  local storage = total_disk(s) * (RATE.storage_gb[s.ServiceLevel] or RATE.storage_gb[2])
  if s.Status == "Archived" then
    return { cpu = 0, memory = 0, storage = storage, os = 0 }
  end
  return { cpu = s.Cpu * RATE.cpu, memory = s.MemoryGB * RATE.memory_gb, storage = storage,
    os = WINDOWS_OS[s.OperatingSystem] and RATE.windows or 0 }
end

local function sum_h(h) return h.cpu + h.memory + h.storage + h.os end

function Sim:estimate(servers)
  local now = self:clock()
  local ms = month_start(now)
  local hour = math.floor(now / 3600) * 3600
  local e = { MonthlyEstimate = 0, MonthToDate = 0, CurrentHour = 0, PreviousHour = 0 }
  for _, s in ipairs(servers) do
    if not s.IsTemplate then
      local h = sum_h(self:hourly(s))
      local from = math.max(ms, s.created)
      e.MonthToDate = e.MonthToDate + h * math.max(0, now - from) / 3600
      e.MonthlyEstimate = e.MonthlyEstimate + h * 720
      e.CurrentHour = e.CurrentHour + h * math.max(0, now - math.max(hour, s.created)) / 3600
      if s.created <= hour - 3600 then e.PreviousHour = e.PreviousHour + h end
    end
  end
  for k, v in pairs(e) do e[k] = round(v, 4) end
  return e
end

function Sim:account_servers(alias)
  local out = {}
  for _, name in ipairs(self.server_order) do
    local s = self.servers[name]
    if s.account == alias then out[#out + 1] = s end
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Queue
---------------------------------------------------------------------------------------------

--- Queues a job. apply(self, job) runs when it completes; an error raised there fails the job.
function Sim:queue(ctx, title, apply, o)
  o = o or {}
  self.request_seq = self.request_seq + 1
  local job = { RequestID = self.request_seq, title = title, apply = apply, created = self:clock(),
    duration = o.duration or self.job_seconds, account = ctx.account or USER_ALIAS, servers = o.servers or {},
    location = o.location, status = "Not Started", progress = "Queued", step = 0 }
  self.jobs[job.RequestID] = job
  self.job_order[#self.job_order + 1] = job.RequestID
  return job
end

function Sim:tick()
  local now = self:clock()
  for _, id in ipairs(self.job_order) do
    local job = self.jobs[id]
    if job.status ~= "Succeeded" and job.status ~= "Failed" then
      local elapsed = now - job.created
      if elapsed >= job.duration then
        job.finished = job.created + job.duration
        local ok, err = true, nil
        if job.fail then ok, err = false, { message = job.fail } end
        if ok and job.apply then ok, err = pcall(job.apply, self, job) end
        if ok then
          job.status, job.progress, job.pct = "Succeeded", "Request completed", 100
        else
          job.status, job.pct = "Failed", 0
          job.progress = type(err) == "table" and tostring(err.message) or tostring(err)
        end
        job.step = 0
      elseif elapsed > 0 then
        job.status = "Executing"
        job.pct = math.min(99, math.floor(elapsed / job.duration * 100))
        job.step = 1 + math.floor(job.pct / 34)
        job.progress = "Step " .. job.step .. ": " .. job.title
      else
        job.pct = 0
      end
    end
  end
end

function Sim:job_view(job)
  return { RequestID = job.RequestID, RequestTitle = job.title, ProgressDesc = job.progress,
    StatusDate = D(job.finished or self:clock()), PercentComplete = job.pct or 0,
    CurrentStatus = job.status, StepNumber = job.step or 0 }
end

---------------------------------------------------------------------------------------------
-- Handlers: H[op_id](self, ctx, p) -> payload [, message]
---------------------------------------------------------------------------------------------

local H = {}

-- Common parameter checks -------------------------------------------------------------------

--- The account a call acts on: AccountAlias (or the API user's account).
function Sim:account(ctx, p, o)
  o = o or {}
  local alias = str(P(p, "AccountAlias"))
  if not alias then
    if o.required then fail(o.missing or 1600, "Account Alias Required. You must provide an account alias when calling this method.") end
    alias = ctx.account
  end
  alias = alias:upper()
  local a = self.accounts[alias]
  if not a then fail(o.not_found or 5, o.not_found_text or ("Resource Not Found. Provided account alias " .. alias .. " does not exist.")) end
  if not self:in_hierarchy(alias, ctx.account) then fail(101, TEXT[101]) end
  return a
end

function Sim:server(ctx, p, o)
  o = o or {}
  local key = o.key or "Name"
  local name = str(P(p, key))
  local a = self:account(ctx, p, o.account)
  if not name then fail(o.missing or 1410, o.missing_text or "Name Required. You must provide a server name when calling this method.") end
  local s = self.servers[name:upper()]
  if not s or s.account ~= a.AccountAlias or (s.IsTemplate and not o.template) then
    fail(5, "Resource Not Found. A Server with the name " .. name .. " cannot be found.")
  end
  return s, a
end

local function require_active(s, text)
  if s.Status ~= "Active" then fail(6, text or "Invalid Operation. Server must be in an active state.") end
end

function Sim:group(ctx, p, key, o)
  o = o or {}
  local a = self:account(ctx, p, o.account)
  local uuid = str(P(p, key or "UUID"))
  if not uuid then fail(o.missing or 3, o.missing_text or (TEXT[3] .. " The " .. (key or "UUID") .. " attribute is required.")) end
  local g = self.groups[uuid:lower()]
  if not g or not self:in_hierarchy(g.account, a.AccountAlias) then
    fail(o.not_found or 5, o.not_found_text or ("Resource Not Found. A Group with the specified ID cannot be found."))
  end
  return g, a
end

local function queued(job, msg)
  return { RequestID = job.RequestID }, msg or "Success"
end

-- Auth ---------------------------------------------------------------------------------------

-- Logon and Logout are handled in Sim:handle (they set and clear the cookie).

-- Account ------------------------------------------------------------------------------------

local function account_view(a)
  return { AccountAlias = a.AccountAlias, ParentAlias = a.ParentAlias or NULL, Location = a.Location,
    BusinessName = a.BusinessName, Address1 = a.Address1, Address2 = a.Address2 or NULL, City = a.City,
    StateProvince = a.StateProvince, PostalCode = a.PostalCode, Country = a.Country, Telephone = a.Telephone,
    Fax = a.Fax or NULL, TimeZone = a.TimeZone, Status = a.Status, ShareParentNetworks = a.ShareParentNetworks }
end

local VALID_TZ = {}
for _, z in ipairs(catalog.timezones) do VALID_TZ[z] = true end

local ACCOUNT_FIELDS = {
  { "BusinessName", 1602, "Business Name Required. You must provide a business name when calling this method." },
  { "Address1", 1601, "Address Required. You must provide a primary address when calling this method." },
  { "City", 1603, "City Required. You must provide a city name when calling this method." },
  { "StateProvince", 1606, "State Province Required. You must provide a state or province name when calling this method." },
  { "PostalCode", 1605, "Postal Code Required. You must provide a postal code when calling this method." },
  { "Country", 1604, "Country Required. You must provide a country name when calling this method." },
  { "Telephone", 1607, "Telephone Required. You must provide a telephone number when calling this method." },
}

local function valid_location(loc)
  for _, l in ipairs(LOCATIONS) do if l.Alias == loc then return true end end
  return false
end

H.create_account = function(self, ctx, p)
  local parent_alias = str(P(p, "ParentAlias"))
  if not parent_alias then fail(1609, "Parent Alias Required. You must provide a parent alias when calling this method.") end
  local parent = self:account(ctx, { accountalias = parent_alias })
  local loc = str(P(p, "Location"))
  if not loc or not valid_location(loc:upper()) then
    fail(1610, "Postal Code Required. You must provide a primary location when calling this method.")
  end
  local a = { ParentAlias = parent.AccountAlias, Location = loc:upper() }
  for _, f in ipairs(ACCOUNT_FIELDS) do
    local v = str(P(p, f[1]))
    if not v then fail(f[2], f[3]) end
    a[f[1]] = v
  end
  a.Address2, a.Fax = str(P(p, "Address2")), str(P(p, "Fax"))
  local br = int(P(p, "BillingResponsibilityID"))
  if br ~= 1 and br ~= 2 then
    fail(1616, "Invalid Billing Responsibility. You must provide valid billing responsibilty when calling this method.")
  end
  a.BillingResponsibilityID = br
  a.ShareParentNetworks = bool(P(p, "ShareParentNetworks")) or false
  local tz = str(P(p, "TimeZone"))
  a.TimeZone = (tz and VALID_TZ[tz]) and tz or parent.TimeZone
  local alias = str(P(p, "AccountAlias"))
  if alias then
    alias = alias:upper()
    if #alias > 4 or not alias:match("^[%w]+$") then fail(3, TEXT[3] .. " AccountAlias must be at most four letters or digits.") end
  else
    local base = a.BusinessName:upper():gsub("[^A-Z]", "")
    base = (base .. "XXXX"):sub(1, 3)
    local n = 1
    repeat alias = base .. (n % 10); n = n + 1 until not self.accounts[alias] or n > 10
    if self.accounts[alias] then alias = "A" .. self:hex(3):upper() end
  end
  for _, k in ipairs(self.account_order) do
    if k == alias or self.accounts[k].BusinessName:lower() == a.BusinessName:lower() then
      fail(1611, "Duplicate Account. You must provide a unique alias and business name when calling this method.")
    end
  end
  a.AccountAlias = alias
  self:add_account(a)
  return { AccountDetails = account_view(a) }, "Account successfully created."
end

H.get_account_details = function(self, ctx, p)
  local a = self:account(ctx, p, { required = true })
  return { AccountDetails = account_view(a) }, "Account details successfully queried."
end

H.get_accounts = function(self, ctx)
  local out = arr()
  for _, k in ipairs(self:sub_accounts(ctx.account)) do
    local a = self.accounts[k]
    out[#out + 1] = { AccountAlias = a.AccountAlias, ParentAlias = a.ParentAlias or NULL, Location = a.Location,
      BusinessName = a.BusinessName, IsActive = a.Status == 1 }
  end
  return { Accounts = out }, "Accounts successfully queried."
end

H.get_custom_fields = function(self, ctx, p)
  local a = self:account(ctx, p)
  local out = arr()
  for _, cf in ipairs(a.custom_fields) do
    local opts = NULL
    if cf.Options then
      opts = arr()
      for i, o in ipairs(cf.Options) do opts[i] = { Name = o.Name, Value = o.Value } end
    end
    out[#out + 1] = { ID = -1, CustomFieldTypeID = -1, CustomFieldType = cf.CustomFieldType, Name = cf.Name,
      IsRequired = cf.IsRequired, UUID = cf.UUID, AccountCustomFieldOptions = opts }
  end
  return { AccountCustomFields = out }, "Custom Fields retrieved successfully."
end

H.get_locations = function(self)
  local out = arr()
  for i, l in ipairs(LOCATIONS) do out[i] = { Alias = l.Alias, Region = l.Region } end
  return { Locations = out }, "Locations successfully queried."
end

local function account_status_op(status, title, msg)
  return function(self, ctx, p)
    local a = self:account(ctx, p, { required = true })
    if a.AccountAlias == ctx.account then fail(6, "Invalid Operation. The API user's own account cannot be changed.") end
    local job = self:queue(ctx, title .. " " .. a.AccountAlias, function(sim) sim.accounts[a.AccountAlias].Status = status end)
    return queued(job, msg)
  end
end
H.enable_account = account_status_op(1, "Enabling account", "Account Enabled.")
H.suspend_account = account_status_op(2, "Suspending account", "Account Suspended.")

H.update_account_details = function(self, ctx, p)
  local a = self:account(ctx, p, { required = true })
  local upd = {}
  for _, f in ipairs(ACCOUNT_FIELDS) do
    local v = str(P(p, f[1]))
    if not v then fail(f[2], f[3]) end
    upd[f[1]] = v
  end
  local tz = str(P(p, "TimeZone"))
  if not tz then fail(1608, "TimeZone Required. You must provide a timezone value when calling this method.") end
  local share = bool(P(p, "ShareParentNetworks"))
  if share == nil then fail(3, TEXT[3] .. " ShareParentNetworks must be true or false.") end
  for k, v in pairs(upd) do a[k] = v end
  a.Address2, a.Fax = str(P(p, "Address2")), str(P(p, "Fax"))
  a.TimeZone = VALID_TZ[tz] and tz or a.TimeZone
  a.ShareParentNetworks = share
  return { AccountDetails = account_view(a) }, "Account details successfully updated."
end

-- Billing ------------------------------------------------------------------------------------

local function billing_account(self, ctx, p, required)
  return self:account(ctx, p, { required = required, not_found = 1800, not_found_text = "Account Not Found." })
end

H.get_account_summary = function(self, ctx, p)
  local a = billing_account(self, ctx, p, true)
  local e = self:estimate(self:account_servers(a.AccountAlias))
  e.OneTimeCharges = 0
  e.MonthToDateTotal = e.MonthToDate + e.OneTimeCharges
  return e, "OK"
end

function Sim:ledger(alias)
  local entries, balance = {}, 0
  local ids = {}
  for id in pairs(self.invoices) do ids[#ids + 1] = id end
  table.sort(ids)
  local events = {}
  for _, id in ipairs(ids) do
    local inv = self.invoices[id]
    events[#events + 1] = { date = inv.date, InvoiceID = inv.ID, Description = "Invoice " .. inv.ID, Debit = inv.total, Credit = 0 }
  end
  for _, pay in ipairs(self.payments) do
    events[#events + 1] = { date = pay.date, InvoiceID = pay.ID, Description = "Payment - Thank You", Debit = 0, Credit = pay.amount }
  end
  table.sort(events, function(x, y) return x.date < y.date end)
  for i, ev in ipairs(events) do
    balance = round(balance + ev.Debit - ev.Credit, 4)
    entries[i] = { InvoiceID = ev.InvoiceID, Date = D(ev.date), Description = ev.Description, Debit = ev.Debit,
      Credit = ev.Credit, OutstandingBalance = balance, ItemID = 240 + i, DisplayPrecedence = 1 }
  end
  -- newest first
  local out = arr()
  for i = #entries, 1, -1 do out[#out + 1] = entries[i] end
  return out, balance
end

H.get_billing_history = function(self, ctx, p)
  local a = billing_account(self, ctx, p, true)
  local entries, balance = arr(), 0
  if a.AccountAlias == USER_ALIAS then entries, balance = self:ledger(a.AccountAlias) end
  return { AccountAlias = a.AccountAlias, OutstandingBalance = balance, BillingHistory = entries }, "OK"
end

H.get_group_estimate = function(self, ctx, p)
  local g = self:group(ctx, p, "HardwareGroupUUID", { missing = 3,
    account = { not_found = 1800, not_found_text = "Account Not Found." },
    not_found = 541, not_found_text = "Hardware Group Not Found." })
  return self:estimate(self:group_servers(g, true)), "OK"
end

local function date_range(p, start_code, end_code, default_start, default_end)
  local s, e = P(p, "StartDate"), P(p, "EndDate")
  local st, en = default_start, default_end
  if not empty(s) then
    st = parse_date(s)
    if not st then fail(start_code, "Invalid Start Date.") end
  end
  if not empty(e) then
    en = parse_date(e)
    if not en then fail(end_code, "Invalid End Date.") end
  end
  if en < st then fail(end_code, "Invalid End Date. The end date is before the start date.") end
  return st, en
end

H.get_group_summaries = function(self, ctx, p)
  local a = billing_account(self, ctx, p, false)
  local now = self:clock()
  local st, en = date_range(p, 1801, 1802, month_start(now), day_start(now))
  local totals, summary = arr(), { MonthlyEstimate = 0, MonthToDate = 0, CurrentHour = 0, PreviousHour = 0 }
  local groups = {}
  for _, g in pairs(self.groups) do if g.account == a.AccountAlias then groups[#groups + 1] = g end end
  table.sort(groups, function(x, y) return x.seq < y.seq end)
  for _, g in ipairs(groups) do
    local servers = {}
    for _, s in ipairs(self:group_servers(g, false)) do
      if s.created <= en + 86400 then servers[#servers + 1] = s end
    end
    if #servers > 0 then
      local st_list = arr()
      for _, s in ipairs(servers) do
        local e = self:estimate({ s })
        e.ServerName = s.Name
        st_list[#st_list + 1] = e
      end
      local ge = self:estimate(servers)
      ge.GroupID, ge.GroupName, ge.LocationAlias, ge.ServerTotals = g.ID, g.Name, g.location, st_list
      totals[#totals + 1] = ge
      for k in pairs(summary) do summary[k] = round(summary[k] + ge[k], 4) end
    end
  end
  return { Summary = summary, AccountAlias = a.AccountAlias, StartDate = mdy(st), EndDate = mdy(en), GroupTotals = totals }, "Ok"
end

H.get_invoice_details = function(self, ctx, p)
  local a = billing_account(self, ctx, p, false)
  local id = str(P(p, "InvoiceID"))
  if not id then fail(1804, "Invoice ID Required.") end
  local inv = self.invoices[id:upper()]
  if not inv or a.AccountAlias ~= USER_ALIAS then fail(1805, "Invoice Not Found.") end
  local items = arr()
  for _, it in ipairs(inv.items) do
    local details = arr()
    for _, d in ipairs(it.details) do details[#details + 1] = { Description = d[1], Cost = d[2] } end
    items[#items + 1] = { Quantity = it.Quantity, Description = it.Description, UnitCost = it.UnitCost,
      ItemTotal = round(it.UnitCost * it.Quantity, 4), ServiceLocation = it.ServiceLocation, ItemDetails = details }
  end
  -- balances: everything billed before this invoice minus payments before it
  local opening = 0
  for _, other in pairs(self.invoices) do if other.date < inv.date then opening = opening + other.total end end
  local paid = 0
  for _, pay in ipairs(self.payments) do if pay.date < inv.date then paid = paid + pay.amount end end
  opening = round(opening - paid, 4)
  local _, current = self:ledger(a.AccountAlias)
  return { OpeningBalance = opening, NewCharges = inv.total, Payments = 0, EndingBalance = round(opening + inv.total, 4),
    CurrentOutstandingBalance = current,
    Invoice = { ID = inv.ID, Terms = "Upon Receipt", CompanyName = a.BusinessName, AccountAlias = a.AccountAlias,
      ParentAccountAlias = a.ParentAlias or NULL, Address1 = a.Address1, Address2 = a.Address2 or NULL, City = a.City,
      StateProvince = a.StateProvince, PostalCode = a.PostalCode, BillingContactEmail = "billing@demo.example",
      InvoiceCCEmail = "", TotalAmount = inv.total, InvoiceDate = D(inv.date), PONumber = NULL, LineItems = items } }, "Ok"
end

local function billing_server(self, ctx, p)
  local a = billing_account(self, ctx, p, false)
  local name = str(P(p, "ServerName"))
  if not name then fail(5, "Resource Does Not Exist. A server name is required.") end
  local s = self.servers[name:upper()]
  if not s or s.account ~= a.AccountAlias then fail(5, "Resource Does Not Exist. The server " .. name .. " cannot be found.") end
  return s, a
end

H.get_server_estimate = function(self, ctx, p)
  local s = billing_server(self, ctx, p)
  return self:estimate({ s }), "OK"
end

H.get_server_hourly_charges = function(self, ctx, p)
  local s, a = billing_server(self, ctx, p)
  local now = self:clock()
  local st, en = date_range(p, 1801, 1802, day_start(now), now)
  local charges = arr()
  local h = self:hourly(s)
  local hour = math.max(math.floor(st / 3600) * 3600, math.floor(s.created / 3600) * 3600)
  local last = math.min(en, now)
  local n = 0
  while hour < last and n < 24 * 62 do
    charges[#charges + 1] = { Hour = iso(hour):sub(1, 19), ProcessorCost = string.format("%.4f", h.cpu),
      MemoryCost = string.format("%.4f", h.memory), StorageCost = string.format("%.4f", h.storage),
      OSCost = string.format("%.4f", h.os) }
    hour, n = hour + 3600, n + 1
  end
  return { Summary = self:estimate({ s }), AccountAlias = a.AccountAlias, ServerName = s.Name,
    StartDate = D(st), EndDate = D(en), HourlyCharges = charges }, "OK"
end

-- Blueprint ----------------------------------------------------------------------------------

local function find_blueprint(self, p)
  local id = int(P(p, "ID"))
  if not id then fail(3, TEXT[3] .. " The Blueprint ID is required.") end
  for _, b in ipairs(self.blueprints) do if b.ID == id then return b end end
  fail(5, "Resource Not Found. A Blueprint with the specified ID cannot be found.")
end

H.get_blueprint_details = function(self, ctx, p)
  local b = find_blueprint(self, p)
  local caps = arr()
  for i, c in ipairs(b.Capabilities) do caps[i] = c end
  return { BlueprintDetails = { ID = b.ID, Name = b.Name, Visibility = b.Visibility, Status = b.Status,
    Author = b.Author, Capabilities = caps, Description = b.Description } }, "Success"
end

local function parameter_view(prm, fmt)
  local opts = arr()
  for i, o in ipairs(prm.Options or {}) do opts[i] = { Name = o.Name, Value = o.Value } end
  return { Name = prm.Name, Regex = NULL,
    Type = fmt == "xml" and PARAM_TYPE_NAMES[prm.Type] or prm.Type, Options = opts }
end

H.get_blueprint_parameters = function(self, ctx, p)
  local b = find_blueprint(self, p)
  local out = arr()
  for i, prm in ipairs(b.Parameters) do out[i] = parameter_view(prm, ctx.fmt) end
  return { ID = b.ID, Parameters = out }, "Success"
end

H.get_blueprints = function(self, ctx, p)
  local vis = int(P(p, "Visibility"))
  if not vis or vis < 1 or vis > 3 then fail(1201, "The Visibility value is missing or invalid.") end
  local size = int(P(p, "CompanySize"))
  local os_list = P(p, "OperatingSystems")
  local search = str(P(p, "Search"))
  local out = arr()
  for _, b in ipairs(self.blueprints) do
    local ok = b.Visibility == vis
    if ok and size then ok = b.CompanySize == size end
    if ok and type(os_list) == "table" and #os_list > 0 then
      local hit = false
      for _, want in ipairs(os_list) do
        for _, have in ipairs(b.OperatingSystems) do if int(want) == have then hit = true end end
      end
      ok = hit
    end
    if ok and search then
      local s = search:lower()
      ok = b.Name:lower():find(s, 1, true) ~= nil or b.Description:lower():find(s, 1, true) ~= nil
    end
    if ok then out[#out + 1] = { ID = b.ID, Name = b.Name } end
  end
  return { Blueprints = out }, "Success"
end

H.deploy_blueprint = function(self, ctx, p)
  local b = find_blueprint(self, p)
  local given = {}
  local params = P(p, "Parameters")
  if type(params) == "table" then
    for _, prm in ipairs(params) do
      if type(prm) == "table" then
        local n = prm.Name or prm.name
        if n then given[n] = prm.Value or prm.value end
      end
    end
  end
  for _, prm in ipairs(b.Parameters) do
    local v = given[prm.Name]
    if prm.Required and empty(v) then fail(1210, "A required Parameter is missing: " .. prm.Name) end
    if not empty(v) then
      if prm.Type == 2 and not tonumber(v) then fail(1212, "A Parameter type is invalid: " .. prm.Name .. " must be numeric.") end
      if prm.Type == 3 then
        local ok = false
        for _, o in ipairs(prm.Options or {}) do if o.Value == tostring(v) then ok = true end end
        if not ok then fail(1211, "A Parameter value is invalid: " .. prm.Name) end
      end
      if prm.Type == 1 and not self.networks[tostring(v)] then fail(1211, "A Parameter value is invalid: " .. prm.Name .. " (unknown network)") end
    end
  end
  local a = self.accounts[ctx.account]
  local loc = (str(P(p, "LocationAlias")) or a.Location):upper()
  if not valid_location(loc) then fail(3, TEXT[3] .. " Unknown LocationAlias " .. loc .. ".") end
  self:location_setup(a.AccountAlias, loc)
  local group = self:find_group_by_name(a.AccountAlias, loc, "Default Group")
  local servers = {}
  if given["T3.BuildServerTask.Password"] or given["T3.BuildServerTask.Network"] then
    local s = self:add_server({ account = a.AccountAlias, group = group, alias = "BP" .. b.ID,
      template = b.OperatingSystems[1] == 28 and self.templates[5] or self.templates[1], Cpu = 1, MemoryGB = 2,
      ExtraDriveGB = 0, Description = b.Name, Password = given["T3.BuildServerTask.Password"],
      network = given["T3.BuildServerTask.Network"] and self.networks[given["T3.BuildServerTask.Network"]] or nil })
    servers[1] = s.Name
  end
  local job = self:queue(ctx, "Deploying Blueprint " .. b.Name, function(sim)
    for _, n in ipairs(servers) do
      local s = sim.servers[n]
      if s then s.Status, s.PowerState = "Active", "Started"; sim:touch(s) end
    end
  end, { servers = servers, location = loc, duration = self.job_seconds * 2 })
  job.blueprint = true
  return queued(job)
end

H.get_deployment_status = function(self, ctx, p)
  local id = int(P(p, "RequestID"))
  if not id then fail(3, TEXT[3] .. " RequestID is required.") end
  self:account(ctx, p)
  local job = self.jobs[id]
  if not job or not self:in_hierarchy(job.account, ctx.account) then
    fail(5, "Resource Not Found. A Blueprint with the specified ID cannot be found.")
  end
  local servers = arr()
  for i, n in ipairs(job.servers) do servers[i] = n end
  local status = job.status == "Not Started" and "NotStarted" or job.status
  return { RequestID = job.RequestID, CurrentStatus = status, Description = job.progress or job.title,
    StatusDate = D(job.finished or self:clock()), Step = tostring(job.step or 0), PercentComplete = job.pct or 0,
    Servers = servers }, "Success"
end

local function package_filter(self, p)
  local cls = int(P(p, "Classification"))
  if not cls or cls < 1 or cls > 3 then fail(1200, "The Classification value is missing or invalid.") end
  local vis = int(P(p, "Visibility"))
  if not vis or vis < 1 or vis > 3 then fail(1201, "The Visibility value is missing or invalid.") end
  return cls, vis
end

H.get_packages = function(self, ctx, p)
  local cls, vis = package_filter(self, p)
  local out = arr()
  for _, pk in ipairs(self.packages) do
    if pk.Classification == cls and pk.Visibility == vis then
      out[#out + 1] = { ID = pk.ID, Name = pk.Name, Classification = pk.Classification }
    end
  end
  return { Packages = out }, "Success"
end

H.get_pending_packages = function(self)
  local out = arr()
  for _, pk in ipairs(self.pending_packages) do out[#out + 1] = { ID = 0, Name = pk.Name, Classification = 0 } end
  return { Packages = out }, "Success"
end

H.publish_package = function(self, ctx, p)
  local cls, vis = package_filter(self, p)
  local name = str(P(p, "Name"))
  if not name then fail(3, TEXT[3] .. " The package Name is required.") end
  local oses = P(p, "OperatingSystems")
  local list = {}
  if type(oses) == "table" then for _, o in ipairs(oses) do if int(o) then list[#list + 1] = int(o) end end end
  if #list == 0 or (type(oses) == "table" and #list ~= #oses) then
    fail(1202, "The supplied operating system values are missing or invalid.")
  end
  local pending = { Name = name, Classification = cls, Visibility = vis, OperatingSystems = list }
  self.pending_packages[#self.pending_packages + 1] = pending
  local job = self:queue(ctx, "Publishing package " .. name, function(sim)
    for i, pk in ipairs(sim.pending_packages) do
      if pk == pending then table.remove(sim.pending_packages, i) break end
    end
    sim.package_seq = sim.package_seq + 1
    sim.packages[#sim.packages + 1] = { ID = sim.package_seq, Name = name, Classification = cls, Visibility = vis }
  end)
  return queued(job)
end

-- Group --------------------------------------------------------------------------------------

local function group_view(g)
  return { ID = g.ID, UUID = g.UUID, ParentID = g.ParentID or NULL, ParentUUID = g.ParentUUID or NULL,
    Name = g.Name, IsSystemGroup = g.IsSystemGroup }
end

H.create_hardware_group = function(self, ctx, p)
  local a = self:account(ctx, p, { required = true })
  local parent_uuid = str(P(p, "ParentUUID"))
  local name = str(P(p, "Name"))
  if not name then fail(1310, "The Name attribute is missing.") end
  if not parent_uuid then fail(5, "Resource Not Found. The Parent Group cannot be found.") end
  local parent = self.groups[parent_uuid:lower()]
  if not parent or parent.account ~= a.AccountAlias or parent.Status ~= "Active" then
    fail(5, "Resource Not Found. The Parent Group cannot be found.")
  end
  local g = self:new_group(a.AccountAlias, parent.location, name, parent, false, str(P(p, "Description")))
  return { Group = group_view(g) }, "Success"
end

H.get_groups = function(self, ctx, p)
  local a = self:account(ctx, p)
  local loc = str(P(p, "Location"))
  if not loc then fail(3, TEXT[3] .. " Location is required.") end
  loc = loc:upper()
  local list = {}
  for _, g in pairs(self.groups) do
    if g.account == a.AccountAlias and g.location == loc and g.Status == "Active" then list[#list + 1] = g end
  end
  table.sort(list, function(x, y) return x.seq < y.seq end)
  local out = arr()
  for i, g in ipairs(list) do out[i] = group_view(g) end
  return { AccountAlias = a.AccountAlias, HardwareGroups = out }, "Success"
end

--- Group power actions: to the group "along with all child groups and servers".
local GROUP_POWER = {
  pause_hardware_group = { "Pausing", function(s) if s.PowerState == "Started" then s.PowerState = "Paused" end end },
  power_off_hardware_group = { "Powering off", function(s) s.PowerState = "Stopped" end },
  power_on_hardware_group = { "Powering on", function(s) s.PowerState = "Started" end },
  reboot_hardware_group = { "Rebooting", function(s) s.PowerState = "Started" end },
  reset_hardware_group = { "Resetting", function(s) s.PowerState = "Started" end },
  shutdown_hardware_group = { "Shutting down", function(s) s.PowerState = "Stopped" end },
}

local function active_group(self, ctx, p)
  local g, a = self:group(ctx, p, "UUID")
  if g.Status ~= "Active" then fail(6, "Invalid Operation. Group must be in an active state.") end
  return g, a
end

for op, spec in pairs(GROUP_POWER) do
  H[op] = function(self, ctx, p)
    local g = active_group(self, ctx, p)
    local job = self:queue(ctx, spec[1] .. " group " .. g.Name, function(sim)
      for _, s in ipairs(sim:group_servers(g, true)) do
        if s.Status == "Active" then spec[2](s); sim:touch(s) end
      end
    end)
    return queued(job)
  end
end

H.hardware_group_maintenance = function(self, ctx, p)
  local g = active_group(self, ctx, p)
  local enable = bool(P(p, "Enable"))
  if enable == nil then fail(3, TEXT[3] .. " Enable must be true or false.") end
  local job = self:queue(ctx, (enable and "Starting" or "Stopping") .. " maintenance of group " .. g.Name, function(sim)
    for _, s in ipairs(sim:group_servers(g, true)) do s.InMaintenanceMode = enable; sim:touch(s) end
  end)
  return queued(job)
end

H.archive_hardware_group = function(self, ctx, p)
  local g = active_group(self, ctx, p)
  if g.IsSystemGroup then fail(6, "Invalid Operation. A system group cannot be archived.") end
  local job = self:queue(ctx, "Archiving group " .. g.Name, function(sim)
    for _, x in ipairs(sim:descendants(g)) do x.Status = "Archived" end
    for _, s in ipairs(sim:group_servers(g, true)) do
      s.Status, s.PowerState = "Archived", "Stopped"; sim:touch(s)
    end
  end)
  return queued(job)
end

H.restore_hardware_group = function(self, ctx, p)
  local g, a = self:group(ctx, p, "UUID")
  if g.Status ~= "Archived" then fail(6, "Invalid Operation. Group must be in an archived state.") end
  local parent_uuid = str(P(p, "ParentUUID"))
  local parent = parent_uuid and self.groups[parent_uuid:lower()]
  if not parent or parent.account ~= a.AccountAlias or parent.Status ~= "Active" then
    fail(5, "Resource Not Found. The Parent Group cannot be found.")
  end
  local job = self:queue(ctx, "Restoring group " .. g.Name, function(sim)
    g.ParentUUID, g.ParentID = parent.UUID, parent.ID
    for _, x in ipairs(sim:descendants(g)) do x.Status = "Active" end
    for _, s in ipairs(sim:group_servers(g, true)) do s.Status = "Active"; sim:touch(s) end
  end)
  return queued(job)
end

H.delete_hardware_group = function(self, ctx, p)
  local g = active_group(self, ctx, p)
  if g.IsSystemGroup then fail(6, "Invalid Operation. A system group cannot be deleted.") end
  local job = self:queue(ctx, "Deleting group " .. g.Name, function(sim)
    for _, s in ipairs(sim:group_servers(g, true)) do sim:remove_server(s) end
    for _, x in ipairs(sim:descendants(g)) do sim.groups[x.UUID] = nil end
  end)
  return queued(job)
end

-- Network ------------------------------------------------------------------------------------

local FIREWALL = { "AllowHTTP", "AllowHTTPonPort8080", "AllowHTTPS", "AllowFTP", "AllowFTPS", "AllowSFTP", "AllowSSH", "AllowRDP" }

local function network_view(n)
  return { Name = n.Name, Description = n.Description, Gateway = n.Gateway, Location = n.Location, AccountAlias = n.AccountAlias }
end

local function networks_op(deployable)
  return function(self, ctx, p)
    local a = self:account(ctx, p)
    local loc = (str(P(p, "Location")) or a.Location):upper()
    local out = arr()
    for _, n in ipairs(self:account_networks(a.AccountAlias, loc)) do out[#out + 1] = network_view(n) end
    if deployable and a.ShareParentNetworks and a.ParentAlias then
      for _, n in ipairs(self:account_networks(a.ParentAlias, loc)) do out[#out + 1] = network_view(n) end
    end
    return { Networks = out }, "Networks successfully queried."
  end
end
H.get_networks = networks_op(false)
H.get_account_networks = networks_op(false)
H.get_deployable_networks = networks_op(true)

H.get_network_details = function(self, ctx, p)
  local a = self:account(ctx, p)
  local name = str(P(p, "Name"))
  if not name then fail(1510, "Name Required. You must provide a network name.") end
  local n = self.networks[name]
  local loc = str(P(p, "Location"))
  if not n or not self:in_hierarchy(a.AccountAlias, n.AccountAlias) and n.AccountAlias ~= a.AccountAlias
      or (loc and n.Location ~= loc:upper()) then
    fail(5, "Resource Not Found. A Network with the name " .. name .. " cannot be found.")
  end
  local ips = arr()
  for i = 2, 20 do
    local ip = n.prefix .. i
    local claimed = n.claimed[ip]
    ips[#ips + 1] = { Address = ip, AddressType = "RIP", IsClaimed = claimed ~= nil, ServerName = claimed or "" }
  end
  for i = 12, 250 do
    local ip = n.prefix .. i
    if n.claimed[ip] and i > 20 then
      ips[#ips + 1] = { Address = ip, AddressType = "RIP", IsClaimed = true, ServerName = n.claimed[ip] }
    end
  end
  return { NetworkDetails = { Name = n.Name, Description = n.Description, Gateway = n.Gateway,
    NetworkMask = n.NetworkMask, Location = n.Location, IPAddresses = ips } }, "Success"
end

local function ip_server(self, ctx, p)
  local s, a = self:server(ctx, p, { key = "ServerName", missing = 506,
    missing_text = "Server Name Required. You must provide a server name." })
  require_active(s)
  return s, a
end

local function firewall(p, into)
  for _, f in ipairs(FIREWALL) do
    local v = bool(P(p, f))
    if v ~= nil then into[f] = v elseif into[f] == nil then into[f] = false end
  end
  return into
end

H.add_public_ip_address = function(self, ctx, p)
  local s = ip_server(self, ctx, p)
  local internal = str(P(p, "IPAddress"))
  if internal and internal ~= s.IPAddress then
    fail(1000, "The IP Address provided is not configured on the Server.")
  end
  self.public_ip_seq = self.public_ip_seq + 1
  local public = string.format("65.39.%d.%d", 180 + math.floor(self.public_ip_seq / 250), 10 + self.public_ip_seq % 240)
  local rule = firewall(p, { Address = public, internal = internal or s.IPAddress })
  local job = self:queue(ctx, "Adding public IP address to " .. s.Name, function(sim)
    s.public_ips[#s.public_ips + 1] = rule
    sim:touch(s)
  end)
  return { RequestID = job.RequestID }, "Success"
end

H.update_public_ip_address = function(self, ctx, p)
  local s = ip_server(self, ctx, p)
  local public = str(P(p, "PublicIPAddress"))
  if not public then fail(1511, "Public IP Address Required.") end
  local rule
  for _, r in ipairs(s.public_ips) do if r.Address == public then rule = r end end
  if not rule then fail(1000, "The Public IP Address provided is not configured on the Server.") end
  local job = self:queue(ctx, "Updating public IP address " .. public, function(sim)
    firewall(p, rule)
    sim:touch(s)
  end)
  return { RequestID = job.RequestID }, "Success"
end

-- Queue --------------------------------------------------------------------------------------

H.get_request_status = function(self, ctx, p)
  local id = int(P(p, "RequestID"))
  if not id then fail(3, TEXT[3] .. " RequestID is required.") end
  local job = self.jobs[id]
  if not job or not self:in_hierarchy(job.account, ctx.account) then
    fail(3, TEXT[3] .. " No request with the ID " .. id .. " exists for your account.")
  end
  return { RequestDetails = self:job_view(job) }, "Request Status successfully retrieved."
end

H.list_queue_requests = function(self, ctx, p)
  local t = int(P(p, "ItemStatusType"))
  if not t or t < 1 or t > 4 then fail(901, "The ItemStatus value is invalid.") end
  local out = arr()
  for i = #self.job_order, 1, -1 do
    local job = self.jobs[self.job_order[i]]
    local st = job.status
    local keep = t == 1 or (t == 2 and st ~= "Succeeded" and st ~= "Failed") or (t == 3 and st == "Succeeded")
      or (t == 4 and st == "Failed")
    if keep and self:in_hierarchy(job.account, ctx.account) then out[#out + 1] = self:job_view(job) end
  end
  return { Requests = out }, #out .. " Queue requests were found for your account"
end

-- Server -------------------------------------------------------------------------------------

local function server_action(title, apply, check)
  return function(self, ctx, p)
    local s = self:server(ctx, p)
    if check then check(self, s, p) else require_active(s) end
    local job = self:queue(ctx, title .. " " .. s.Name, function(sim, job)
      if not sim.servers[s.Name] then error({ message = "the server no longer exists" }) end
      apply(sim, s, job)
      sim:touch(s)
    end)
    return queued(job)
  end
end

H.pause_server = server_action("Pausing server", function(_, s) if s.PowerState == "Started" then s.PowerState = "Paused" end end)
H.power_off_server = server_action("Powering off server", function(_, s) s.PowerState = "Stopped" end)
H.power_on_server = server_action("Powering on server", function(_, s) s.PowerState = "Started" end)
H.reboot_server = server_action("Rebooting server", function(_, s) s.PowerState = "Started" end)
H.reset_server = server_action("Resetting server", function(_, s) s.PowerState = "Started" end)
H.shutdown_server = server_action("Shutting down server", function(_, s) s.PowerState = "Stopped" end)

H.snapshot_server = server_action("Creating snapshot of server", function(sim, s, job)
  local t = job.created
  local name = os.date("!%Y-%m-%d-%H:%M:%S", math.floor(t))
  while true do
    local dup = false
    for _, x in ipairs(s.snapshots) do if x.Name == name then dup = true end end
    if not dup then break end
    t = t + 1
    name = os.date("!%Y-%m-%d-%H:%M:%S", math.floor(t))
  end
  s.snapshots[#s.snapshots + 1] = { Name = name, Description = "Snapshot (" .. name .. ")", DateCreated = job.created,
    state = { Cpu = s.Cpu, MemoryGB = s.MemoryGB, disks = copy(s.disks), PowerState = s.PowerState } }
end)

H.archive_server = server_action("Archiving server", function(sim, s)
  s.Status, s.PowerState = "Archived", "Stopped"
end, function(sim, s)
  require_active(s)
  s.Status = "QueuedForArchive"
end)

H.delete_server = server_action("Deleting server", function(sim, s)
  sim:remove_server(s)
end, function(sim, s)
  require_active(s)
  s.Status = "QueuedForDelete"
end)

H.restore_server = function(self, ctx, p)
  local s = self:server(ctx, p)
  if s.Status ~= "Archived" then fail(6, "Invalid Operation. Server must be in an archived state.") end
  local uuid = str(P(p, "HardwareGroupUUID"))
  local g = uuid and self.groups[uuid:lower()]
  if not g or g.account ~= s.account or g.Status ~= "Active" then
    fail(5, "Resource Not Found. A Hardware Group with the specified ID cannot be found.")
  end
  s.Status = "QueuedForRestore"
  local job = self:queue(ctx, "Restoring server " .. s.Name, function(sim)
    s.Status, s.HardwareGroupUUID = "Active", g.UUID
    sim:touch(s)
  end)
  return queued(job)
end

H.server_maintenance = function(self, ctx, p)
  local s = self:server(ctx, p)
  require_active(s)
  local enable = bool(P(p, "Enable"))
  if enable == nil then fail(3, TEXT[3] .. " Enable must be true or false.") end
  local job = self:queue(ctx, (enable and "Starting" or "Stopping") .. " maintenance of server " .. s.Name, function(sim)
    s.InMaintenanceMode = enable
    sim:touch(s)
  end)
  return queued(job)
end

local function check_cpu_memory(cpu, mem, allowed_cpu)
  if not cpu or cpu < 1 or cpu > 16 or (allowed_cpu and not allowed_cpu[cpu]) then fail(501, "Invalid CPU Value.") end
  if not mem or mem < 1 or mem > 128 or (allowed_cpu and mem > 16) then fail(500, "Invalid Memory Value.") end
end

local function strong_password(pw)
  return #pw >= 8 and pw:match("%u") and pw:match("%l") and (pw:match("%d") or pw:match("%p")) and true or false
end

local function custom_fields_of(self, a, p)
  local cfs = P(p, "CustomFields")
  local out = {}
  if type(cfs) == "table" then
    for _, cf in ipairs(cfs) do
      if type(cf) == "table" then
        local id = cf.ID or cf.id
        local def
        for _, d in ipairs(a.custom_fields) do
          if d.UUID:gsub("%-", "") == tostring(id or ""):gsub("%-", "") then def = d end
        end
        if not def then fail(3, TEXT[3] .. " Unknown custom field " .. tostring(id) .. ".") end
        local v = cf.Value or cf.value
        if def.CustomFieldType == "Checkbox" and v ~= "true" and v ~= "false" and v ~= true and v ~= false then
          fail(3, TEXT[3] .. " Checkbox values should be \"true\" or \"false\".")
        end
        out[#out + 1] = { ID = id, Value = tostring(v) }
      end
    end
  end
  return out
end

H.create_server = function(self, ctx, p)
  local a = self:account(ctx, p)
  local alias = str(P(p, "Alias"))
  if not alias then fail(502, "Alias Required.") end
  if #alias > 6 then fail(503, "Alias Length Exceeded.") end
  if not alias:match("^%w+$") then fail(3, TEXT[3] .. " The Alias may only hold letters and digits.") end
  local uuid = str(P(p, "HardwareGroupUUID"))
  if not uuid then fail(541, "Hardware Group ID Required.") end
  local g = self.groups[uuid:lower()]
  if not g or g.account ~= a.AccountAlias or g.Status ~= "Active" then
    fail(5, "Resource Not Found. A Hardware Group with the specified ID cannot be found.")
  end
  local loc = str(P(p, "LocationAlias"))
  if loc and loc:upper() ~= g.location then
    fail(5, "Resource Not Found. A Hardware Group with the specified ID cannot be found in " .. loc:upper() .. ".")
  end
  local tname = str(P(p, "Template"))
  local template
  for _, t in ipairs(self.templates) do if tname and t.Name:upper() == tname:upper() then template = t end end
  if not template then fail(5, "Resource Not Found. The Template " .. tostring(tname) .. " cannot be found.") end
  local cpu, mem = int(P(p, "Cpu")), int(P(p, "MemoryGB"))
  check_cpu_memory(cpu, mem)
  local extra = int(P(p, "ExtraDriveGB"))
  if not extra or extra < 0 then fail(3, TEXT[3] .. " ExtraDriveGB is required (0 for none).") end
  if extra > 1024 then fail(1413, "Extra Drive max storage size exceeded.") end
  local st, sl = int(P(p, "ServerType")), int(P(p, "ServiceLevel"))
  if st ~= 1 and st ~= 2 then fail(3, TEXT[3] .. " ServerType must be 1 (Standard) or 2 (Enterprise).") end
  if sl ~= 1 and sl ~= 2 then fail(3, TEXT[3] .. " ServiceLevel must be 1 (Premium) or 2 (Standard).") end
  local netname = str(P(p, "Network"))
  local nets = self:account_networks(a.AccountAlias, g.location)
  local net
  if netname then
    net = self.networks[netname]
    if not net or net.Location ~= g.location or not (net.AccountAlias == a.AccountAlias
        or (a.ShareParentNetworks and net.AccountAlias == a.ParentAlias)) then
      fail(1510, "Network Required. The network " .. netname .. " is not available in " .. g.location .. ".")
    end
  elseif #nets > 0 then
    fail(1510, "Network Required.")
  end
  local pw = str(P(p, "Password"))
  if pw and not strong_password(pw) then fail(1414, "Password does not meet strength requirements.") end
  local cfs = custom_fields_of(self, a, p)
  local s = self:add_server({ account = a.AccountAlias, group = g, alias = alias, template = template, Cpu = cpu,
    MemoryGB = mem, ExtraDriveGB = extra, ServerType = st, ServiceLevel = sl, Description = str(P(p, "Description")),
    Password = pw, network = net, CustomFields = cfs, PrimaryDns = str(P(p, "PrimaryDns")),
    SecondaryDns = str(P(p, "SecondaryDns")) })
  local job = self:queue(ctx, "Creating Server " .. s.Name, function(sim)
    if not sim.servers[s.Name] then error({ message = "the server was removed" }) end
    s.Status, s.PowerState = "Active", "Started"
    sim:touch(s)
  end, { servers = { s.Name }, location = g.location })
  return queued(job)
end

H.configure_server = function(self, ctx, p)
  local name = str(P(p, "Name"))
  if not name then fail(1310, "Name Required.") end
  local s, a = self:server(ctx, p)
  require_active(s)
  local uuid = str(P(p, "HardwareGroupUUID"))
  if not uuid then fail(541, "Hardware Group ID Required.") end
  local g = self.groups[uuid:lower()]
  if not g or g.account ~= a.AccountAlias then fail(5, "Resource Not Found. A Hardware Group with the specified ID cannot be found.") end
  local cpu, mem = int(P(p, "Cpu")), int(P(p, "MemoryGB"))
  check_cpu_memory(cpu, mem, { [1] = true, [2] = true, [4] = true })
  local add = int(P(p, "AdditionalStorageGB")) or 0
  if add < 0 then fail(3, TEXT[3] .. " AdditionalStorageGB must not be negative.") end
  if add > 1024 then fail(1413, "Additional Storage max size exceeded.") end
  local cfs = P(p, "CustomFields") and custom_fields_of(self, a, p)
  local job = self:queue(ctx, "Configuring server " .. s.Name, function(sim)
    s.Cpu, s.MemoryGB, s.HardwareGroupUUID = cpu, mem, g.UUID
    if add > 0 then
      local dev = #s.disks
      s.disks[#s.disks + 1] = { Name = "[0:" .. dev .. "]", ScsiBusID = "0", ScsiDeviceID = tostring(dev), SizeGB = add }
    end
    if cfs then s.CustomFields = cfs end
    sim:touch(s)
  end)
  return queued(job)
end

H.change_password = function(self, ctx, p)
  local s = self:server(ctx, p)
  require_active(s)
  local cur, new = str(P(p, "CurrentPassword")), str(P(p, "NewPassword"))
  if not cur or not new then fail(1411, "Password Required. Both current and new passwords are required.") end
  if cur ~= s.Password then fail(6, "Invalid Operation. The current password is not correct.") end
  -- no strength rule: ChangePassword documents none (no 1414) and its example is "newPassword"
  s.Password = new
  self:touch(s)
  return {}, "Success"
end

H.get_server_credentials = function(self, ctx, p)
  local s = self:server(ctx, p, { missing_text = "Server Name Required." })
  if s.Status ~= "Active" and s.Status ~= "UnderConstruction" then fail(6, "Invalid Operation. Server must be in an active state.") end
  return { Username = WINDOWS_OS[s.OperatingSystem] and "administrator" or "root", Password = s.Password }, "Success"
end

local function disk_op(self, ctx, p)
  local s = self:server(ctx, p)
  require_active(s)
  if #s.snapshots > 0 then fail(6, "Invalid Operation. Server must not have snapshots.") end
  local bus, dev = str(P(p, "ScsiBusID")), str(P(p, "ScsiDeviceID"))
  if not bus or not dev then fail(3, TEXT[3] .. " ScsiBusID and ScsiDeviceID are required.") end
  for i, d in ipairs(s.disks) do
    if d.ScsiBusID == bus and d.ScsiDeviceID == dev then return s, d, i end
  end
  fail(5, "Resource Not Found. The disk [" .. bus .. ":" .. dev .. "] cannot be found on " .. s.Name .. ".")
end

H.delete_disk = function(self, ctx, p)
  local s, d = disk_op(self, ctx, p)
  local override = bool(P(p, "OverrideFailsafes")) or false
  if d.ScsiBusID == "0" and d.ScsiDeviceID == "0" and not override then
    fail(6, "Invalid Operation. The disk is a primary operating system drive; set OverrideFailsafes to delete it.")
  end
  local job = self:queue(ctx, "Deleting disk " .. d.Name .. " of " .. s.Name, function(sim)
    for i, x in ipairs(s.disks) do if x == d then table.remove(s.disks, i) break end end
    sim:touch(s)
  end)
  return queued(job)
end

H.resize_disk = function(self, ctx, p)
  local s, d = disk_op(self, ctx, p)
  local size = int(P(p, "NewSizeGB"))
  if not size or size <= d.SizeGB then fail(3, TEXT[3] .. " NewSizeGB must be greater than the existing disk size.") end
  if size > 1024 then fail(1413, "Max storage size exceeded.") end
  local job = self:queue(ctx, "Resizing disk " .. d.Name .. " of " .. s.Name, function(sim)
    d.SizeGB = size
    sim:touch(s)
  end)
  return queued(job)
end

H.list_disks = function(self, ctx, p)
  local s = self:server(ctx, p)
  require_active(s)
  local out = arr()
  for i, d in ipairs(s.disks) do out[i] = { Name = d.Name, ScsiBusID = d.ScsiBusID, ScsiDeviceID = d.ScsiDeviceID, SizeGB = d.SizeGB } end
  return { Server = s.Name, HasSnapshot = #s.snapshots > 0, Disks = out }, "OK"
end

local function find_snapshot(self, ctx, p)
  local s = self:server(ctx, p)
  require_active(s)
  local sn = str(P(p, "SnapshotName"))
  if not sn then fail(1412, "SnapshotName Required.") end
  for i, x in ipairs(s.snapshots) do if x.Name == sn then return s, x, i end end
  fail(5, "Resource Not Found. The snapshot " .. sn .. " cannot be found.")
end

H.delete_snapshot = function(self, ctx, p)
  local s, _, i = find_snapshot(self, ctx, p)
  table.remove(s.snapshots, i)
  self:touch(s)
  return {}, "Success"
end

H.revert_to_snapshot = function(self, ctx, p)
  local s, x = find_snapshot(self, ctx, p)
  s.Cpu, s.MemoryGB, s.disks, s.PowerState = x.state.Cpu, x.state.MemoryGB, copy(x.state.disks), x.state.PowerState
  self:touch(s)
  return {}, "Success"
end

H.get_snapshots = function(self, ctx, p)
  local s = self:server(ctx, p)
  local out = arr()
  for i, x in ipairs(s.snapshots) do out[i] = { Name = x.Name, Description = x.Description, DateCreated = D(x.DateCreated) } end
  -- the JSON samples of these read answers carry an (undocumented) RequestID
  return { Snapshots = out, RequestID = ctx.fmt == "json" and 0 or nil }, "Successfully retrieved snapshots"
end

H.get_server = function(self, ctx, p)
  local s = self:server(ctx, p, { template = true })
  return { Servers = arr({ self:server_view(s) }) }, "Successfully retrieved servers"
end

local function live(s) return s.Status ~= "Archived" and not s.IsTemplate end

local function modified_filter(self, p)
  local now = self:clock()
  local b, e = P(p, "BeginDate"), P(p, "EndDate")
  local from, to = now - 86400, now
  if not empty(b) then from = parse_date(b) or fail(3, TEXT[3] .. " BeginDate is not a date.") end
  if not empty(e) then to = parse_date(e) or fail(3, TEXT[3] .. " EndDate is not a date.") end
  return function(s) return s.DateModified >= from and s.DateModified <= to end
end

local function servers_in_group(self, ctx, p, deep, filter)
  local g = self:group(ctx, p, "HardwareGroupUUID", { missing = 541, missing_text = "Hardware Group UUID Required." })
  local out = arr()
  for _, s in ipairs(self:group_servers(g, deep)) do
    if live(s) and (not filter or filter(s)) then out[#out + 1] = self:server_view(s) end
  end
  return { Servers = out }, "Successfully retrieved servers"
end

H.get_servers = function(self, ctx, p) return servers_in_group(self, ctx, p, false) end
H.get_servers_by_modified_dates = function(self, ctx, p)
  return servers_in_group(self, ctx, p, false, modified_filter(self, p))
end

local function all_servers(self, ctx, p, filter)
  local a = self:account(ctx, p)
  if not empty(P(p, "HardwareGroupUUID")) then return servers_in_group(self, ctx, p, true, filter) end
  local loc = (str(P(p, "Location")) or a.Location):upper()
  local out = arr()
  for _, s in ipairs(self:account_servers(a.AccountAlias)) do
    if live(s) and s.Location == loc and (not filter or filter(s)) then out[#out + 1] = self:server_view(s) end
  end
  return { Servers = out }, "Successfully retrieved servers"
end

H.get_all_servers = function(self, ctx, p) return all_servers(self, ctx, p) end
H.get_all_servers_by_modified_dates = function(self, ctx, p) return all_servers(self, ctx, p, modified_filter(self, p)) end

local function hierarchy(self, ctx, p, filter)
  local a = self:account(ctx, p)
  local loc = (str(P(p, "Location")) or a.Location):upper()
  local groups = arr()
  for _, alias in ipairs(self:sub_accounts(a.AccountAlias)) do
    local list = arr()
    for _, s in ipairs(self:account_servers(alias)) do
      if live(s) and s.Location == loc and (not filter or filter(s)) then list[#list + 1] = self:server_view(s) end
    end
    groups[#groups + 1] = { AccountAlias = alias, Servers = list }
  end
  return { AccountServers = groups }, "Successfully retrieved deep view of servers"
end

H.get_all_servers_for_account_hierarchy = function(self, ctx, p) return hierarchy(self, ctx, p) end
H.get_all_servers_for_account_hierarchy_by_modified_dates = function(self, ctx, p)
  return hierarchy(self, ctx, p, modified_filter(self, p))
end

local function archived(self, ctx, p)
  local a = self:account(ctx, p)
  local loc = str(P(p, "Location"))
  local out = arr()
  for _, s in ipairs(self:account_servers(a.AccountAlias)) do
    if s.Status == "Archived" and (not loc or s.Location == loc:upper()) then
      out[#out + 1] = { ID = -1, Name = s.Name, Description = s.Description }
    end
  end
  return { Servers = out }, "Success"
end
H.get_archive_servers = archived
H.list_archived_servers = archived

local function template_list(self, ctx, p)
  local a = self:account(ctx, p)
  local loc = str(P(p, "Location"))
  local out = arr()
  for _, t in ipairs(self.templates) do
    if (not t.account or self:in_hierarchy(a.AccountAlias, t.account) or t.account == a.AccountAlias)
        and (not loc or not t.Location or t.Location == loc:upper()) then
      out[#out + 1] = { ID = t.ID, Name = t.Name, Description = t.Description, Cpu = t.Cpu, MemoryGB = t.MemoryGB,
        DiskCount = t.DiskCount, TotalDiskSpaceGB = t.TotalDiskSpaceGB, OperatingSystem = t.OperatingSystem }
    end
  end
  return { Templates = out, RequestID = ctx.fmt == "json" and 0 or nil }, "Success"
end
H.get_server_templates = template_list
H.list_available_server_templates = template_list

H.convert_server_to_template = function(self, ctx, p)
  local s = self:server(ctx, p)
  require_active(s)
  local pw = str(P(p, "Password"))
  if not pw then fail(1411, "Password Required.") end
  local talias = str(P(p, "TemplateAlias"))
  if not talias then fail(3, TEXT[3] .. " TemplateAlias is required.") end
  local job = self:queue(ctx, "Converting server " .. s.Name .. " to a template", function(sim)
    s.IsTemplate, s.PowerState, s.Password = true, "Stopped", pw
    sim.template_seq = sim.template_seq + 1
    sim.templates[#sim.templates + 1] = { ID = sim.template_seq, Name = s.Name, Description = talias,
      Cpu = s.Cpu, MemoryGB = s.MemoryGB, DiskCount = #s.disks, TotalDiskSpaceGB = total_disk(s),
      OperatingSystem = s.OperatingSystem, Location = s.Location, account = s.account, server = s.Name }
    sim:touch(s)
  end)
  return queued(job)
end

local function find_template_server(self, ctx, p)
  local s = self:server(ctx, p, { template = true })
  if not s.IsTemplate then fail(5, "Resource Not Found. The template " .. s.Name .. " cannot be found.") end
  return s
end

H.convert_template_to_server = function(self, ctx, p)
  local s = find_template_server(self, ctx, p)
  if s.Status ~= "Active" then fail(6, "Invalid Operation. Template must be in an active state.") end
  local pw = str(P(p, "Password"))
  if not pw then fail(1411, "Password Required.") end
  local g = self:group(ctx, p, "HardwareGroupUUID", { missing = 5, not_found = 5,
    not_found_text = "Resource Not Found. A Hardware Group with the specified ID cannot be found." })
  local netname = str(P(p, "Network"))
  if not netname or not self.networks[netname] then fail(1510, "Network Required.") end
  local job = self:queue(ctx, "Converting template " .. s.Name .. " to a server", function(sim)
    s.IsTemplate, s.PowerState, s.Password, s.HardwareGroupUUID = false, "Started", pw, g.UUID
    for i, t in ipairs(sim.templates) do if t.server == s.Name then table.remove(sim.templates, i) break end end
    sim:touch(s)
  end)
  return queued(job)
end

H.delete_template = function(self, ctx, p)
  local s = find_template_server(self, ctx, p)
  local job = self:queue(ctx, "Deleting template " .. s.Name, function(sim)
    for i, t in ipairs(sim.templates) do if t.server == s.Name then table.remove(sim.templates, i) break end end
    sim:remove_server(s)
  end)
  return queued(job)
end

-- SMTP Relay ---------------------------------------------------------------------------------

H.create_alias = function(self, ctx)
  local n = 0
  for _, al in pairs(self.aliases) do if al.account == ctx.account and al.Status ~= "Deleted" then n = n + 1 end end
  if n >= self.alias_limit then fail(400, "You have reached the SMTP Relay Alias limit set on your account.") end
  self.alias_seq = self.alias_seq + 1
  local alias = string.format("%s%d-relay@t3mx.com", ctx.account, self.alias_seq)
  local al = { Alias = alias, Password = self:new_password(), Status = "Active", account = ctx.account, seq = self.alias_seq }
  self.aliases[alias] = al
  -- mail relayed through the new alias already met a rejecting server: GetInvalidAddresses
  -- answers it for the alias (its full name or the part before "@"), which ListAliases reveals
  self.bad_addresses[#self.bad_addresses + 1] = { Address = "nobody@unknown.example",
    Reason = "Recipient address rejected: User unknown in virtual mailbox table", Server = "mx.unknown.example",
    LogDate = self:clock(), DomainAlias = alias }
  return { RelayAlias = al.Alias, Password = al.Password }, "Alias has been created."
end

local function find_alias(self, ctx, p)
  local name = str(P(p, "RelayAlias"))
  if not name then fail(401, "RelayAlias attribute is required.") end
  local al = self.aliases[name]
  if not al or al.account ~= ctx.account then fail(5, "SMTP Relay alias does not exist for your account.") end
  return al
end

H.disable_alias = function(self, ctx, p)
  local al = find_alias(self, ctx, p)
  if al.Status == "Deleted" then fail(402, "Relay alias was previously deleted.") end
  if al.Status == "Disabled" then fail(403, "Relay alias has already been disabled.") end
  al.Status = "Disabled"
  return {}, "Alias has been disabled."
end

H.remove_alias = function(self, ctx, p)
  local al = find_alias(self, ctx, p)
  if al.Status == "Deleted" then fail(402, "Relay alias has already been deleted.") end
  al.Status = "Deleted"
  return {}, "Alias has been deleted."
end

H.list_aliases = function(self, ctx)
  local list = {}
  for _, al in pairs(self.aliases) do if al.account == ctx.account then list[#list + 1] = al end end
  table.sort(list, function(x, y) return x.seq < y.seq end)
  local out = arr()
  for i, al in ipairs(list) do out[i] = { Alias = al.Alias, Password = al.Password, Status = al.Status } end
  return { SMTPRelayAliases = out }, "ListAliases completed successfully"
end

H.get_invalid_addresses = function(self, ctx, p)
  local domain = str(P(p, "DomainAlias"))
  if not domain then fail(3, TEXT[3] .. " DomainAlias is required.") end
  local st, en = parse_date(P(p, "StartDate")), parse_date(P(p, "EndDate"))
  if not st or not en then fail(3, TEXT[3] .. " StartDate and EndDate are required dates.") end
  en = en + (type(P(p, "EndDate")) == "string" and #P(p, "EndDate") <= 10 and 86400 or 0) -- inclusive day
  local out = arr()
  for _, b in ipairs(self.bad_addresses) do
    local local_part = b.DomainAlias:match("^([^@]+)@")
    if (b.DomainAlias == domain or local_part == domain) and b.LogDate >= st and b.LogDate < en then
      out[#out + 1] = { Address = b.Address, Reason = b.Reason, Server = b.Server, LogDate = D(b.LogDate) }
    end
  end
  return { BadAddresses = out }, "GetInvalidAddresses completed successfully"
end

-- User ---------------------------------------------------------------------------------------

local VALID_ROLES = { [2] = true, [3] = true, [8] = true, [9] = true, [10] = true, [12] = true, [13] = true, [14] = true, [15] = true }

local function user_view(u, with_alias)
  local roles = arr()
  for i, r in ipairs(u.Roles) do roles[i] = r end
  return { AccountAlias = with_alias == false and NULL or u.AccountAlias, UserName = u.UserName,
    EmailAddress = u.EmailAddress, FirstName = u.FirstName, LastName = u.LastName,
    AlternateEmailAddress = u.AlternateEmailAddress or NULL, Title = u.Title or NULL,
    OfficeNumber = u.OfficeNumber or NULL, MobileNumber = u.MobileNumber or NULL, AllowSMS = u.AllowSMS or false,
    FaxNumber = u.FaxNumber or NULL, SAMLUserName = u.SAMLUserName or NULL, TimeZoneID = u.TimeZoneID or NULL,
    Roles = roles }
end

local function roles_of(p, required)
  local r = P(p, "Roles")
  if r == nil then
    if required then fail(1706, "Invalid User Roles. You must provide at least one valid user role.") end
    return nil
  end
  if type(r) ~= "table" then r = { r } end
  local out = {}
  for _, x in ipairs(r) do
    local n = int(x)
    if not n or not VALID_ROLES[n] then fail(1706, "Invalid User Roles. You must provide valid user roles.") end
    out[#out + 1] = n
  end
  if required and #out == 0 then fail(1706, "Invalid User Roles. You must provide at least one valid user role.") end
  return out
end

local function user_fields(self, a, p, u)
  local email = str(P(p, "EmailAddress"))
  if not email then fail(1700, "Email Address Required.") end
  if not email:match("^[^@%s]+@[^@%s]+%.[^@%s]+$") then fail(1707, "Invalid Email Address.") end
  local first, last = str(P(p, "FirstName")), str(P(p, "LastName"))
  if not first then fail(1702, "First Name Required.") end
  if not last then fail(1703, "Last Name Required.") end
  u.EmailAddress, u.FirstName, u.LastName = email, first, last
  for _, k in ipairs { "AlternateEmailAddress", "Title", "OfficeNumber", "MobileNumber", "FaxNumber", "SAMLUserName" } do
    local v = P(p, k)
    if v ~= nil then u[k] = str(v) end
  end
  local sms = bool(P(p, "AllowSMSAlerts"))
  if sms ~= nil then u.AllowSMS = sms end
  local tz = str(P(p, "TimeZoneID"))
  if tz then u.TimeZoneID = VALID_TZ[tz] and tz or a.TimeZone end
  u.TimeZoneID = u.TimeZoneID or a.TimeZone
  return u
end

local function find_user(self, ctx, p)
  local name = str(P(p, "UserName"))
  if not name then fail(1704, "Username Required.") end
  local u = self.users[name:lower()]
  if not u or u.Status == "Deleted" or not self:in_hierarchy(u.AccountAlias, ctx.account) then
    fail(1705, "User Not Found.")
  end
  return u
end

H.create_user = function(self, ctx, p)
  local a = self:account(ctx, p, { required = true })
  local name = str(P(p, "UserName"))
  if not name then fail(1704, "Username Required.") end
  local existing = self.users[name:lower()]
  if existing and existing.Status ~= "Deleted" then fail(1701, "User Already Exists.") end
  local u = { AccountAlias = a.AccountAlias, UserName = name, Status = "Active" }
  user_fields(self, a, p, u)
  u.Roles = roles_of(p, true)
  if not existing then self.user_order[#self.user_order + 1] = name:lower() end
  self.users[name:lower()] = u
  return { UserDetails = user_view(u) }, "User successfully created."
end

H.get_user_details = function(self, ctx, p)
  local a = self:account(ctx, p, { required = true })
  local u = find_user(self, ctx, p)
  if u.AccountAlias ~= a.AccountAlias then fail(1705, "User Not Found.") end
  return { UserDetails = user_view(u) }, "User successfully located."
end

H.get_users = function(self, ctx, p)
  local a = self:account(ctx, p, { required = true })
  local out = arr()
  for _, k in ipairs(self.user_order) do
    local u = self.users[k]
    if u and u.AccountAlias == a.AccountAlias and u.Status ~= "Deleted" then out[#out + 1] = user_view(u) end
  end
  return { Users = out }, "Users successfully located."
end

H.update_user = function(self, ctx, p)
  local u = find_user(self, ctx, p)
  local a = self.accounts[u.AccountAlias]
  local upd = copy(u)
  user_fields(self, a, p, upd)
  local roles = roles_of(p, false)
  if roles then upd.Roles = roles end
  self.users[u.UserName:lower()] = upd
  return { UserDetails = user_view(upd) }, "User successfully updated."
end

local function user_status(status, msg)
  return function(self, ctx, p)
    local u = find_user(self, ctx, p)
    u.Status = status
    return {}, msg
  end
end
H.delete_user = user_status("Deleted", "User deleted.")
H.suspend_user = user_status("Disabled", "User suspended.")
H.unsuspend_user = user_status("Active", "User unsuspended.")

M.HANDLERS = H

---------------------------------------------------------------------------------------------
-- Dispatch
---------------------------------------------------------------------------------------------

local ROUTES = {}
for id, e in pairs(catalog.operations) do ROUTES[e.name:lower()] = id end

local function content_format(headers)
  local ct = (headers["content-type"] or ""):lower()
  if ct:find("xml", 1, true) then return "xml" end
  return "json"
end

function Sim:render(fmt, entry, op, code, message, payload, status, extra_headers)
  payload = payload or {}
  payload.Success = code == 0
  payload.Message = message or (code == 0 and "Success" or TEXT[code] or "Error")
  payload.StatusCode = code
  local headers = { ["Content-Type"] = fmt == "xml" and "text/xml; charset=utf-8" or "application/json; charset=utf-8" }
  for k, v in pairs(extra_headers or {}) do headers[k] = v end
  local body
  if fmt == "xml" then
    local root = entry and entry.response and entry.response.root or "APIResponse"
    if op == "logout" then root = "LogoutResponse" end
    local elements
    if root == "QueuedItemResponse" and (op == "add_public_ip_address" or op == "update_public_ip_address") then
      elements = {} -- the Network samples carry RequestID as an attribute
    end
    body = xml_body(root, payload, entry, elements)
  else
    body = json_body(payload)
  end
  return status or 200, headers, body
end

function Sim:session_of(req)
  local cookie = req.headers.cookie
  if not cookie then return nil end
  local sid = cookie:match(COOKIE:gsub("%.", "%%.") .. "=([^;%s]+)")
  local s = sid and self.sessions[sid]
  if s and s.expires > self:clock() then return s, sid end
  if s then self.sessions[sid] = nil end
  return nil
end

function Sim:logon(req, fmt, entry)
  local p = parse_body(req.body, fmt, entry)
  if not p then return self:render(fmt, entry, "logon", 3, TEXT[3]) end
  local key, pw = str(P(p, "APIKey")), str(P(p, "Password"))
  if key ~= self.credentials.api_key or pw ~= self.credentials.password then
    return self:render(fmt, entry, "logon", 100,
      "Authentication Failed - The APIKey & Password combination were not valid. Verify that the values provided in your message match the values given to you by CenturyLink Cloud.")
  end
  local sid = "Seed=" .. self:hex(32)
  self.sessions[sid] = { account = USER_ALIAS, expires = self:clock() + SESSION_TTL }
  return self:render(fmt, entry, "logon", 0, "Login Successful", {}, 200,
    { ["Set-Cookie"] = COOKIE .. "=" .. sid .. "; path=/; HttpOnly" })
end

--- Ends every session (the next call answers StatusCode 100).
function Sim:expire_sessions()
  self.sessions = {}
end

function Sim:handle(req)
  req = { method = req.method, path = req.path, headers = util.lower_headers(req.headers), body = req.body }
  local path = (req.path or "/"):gsub("%?.*$", "")
  local group, method, seg = path:match("^/[Rr][Ee][Ss][Tt]/([^/]+)/([^/]+)/?([^/]*)/?$")
  local fmt = content_format(req.headers)
  if seg and seg ~= "" then
    local l = seg:lower()
    if l ~= "json" and l ~= "xml" then
      return 404, { ["Content-Type"] = "text/plain" }, "Unknown format segment '" .. seg .. "' (JSON or XML)\n"
    end
    fmt = l
  end
  local op = group and ROUTES[(group .. "/" .. method):lower()]
  if not op then
    return self:render(fmt, nil, nil, 3, "Invalid Request Format. Unknown method " .. path, {}, 404)
  end
  local entry = catalog.operations[op]
  if (req.method or "GET"):upper() ~= "POST" then
    return self:render(fmt, entry, op, 3, "Invalid Request Format. Methods are called with POST.", {}, 405,
      { Allow = "POST" })
  end
  if op == "logon" then return self:logon(req, fmt, entry) end
  local session, sid = self:session_of(req)
  if op == "logout" then
    if sid then self.sessions[sid] = nil end
    return self:render(fmt, entry, op, 0, "Logout was successful", {}, 200,
      { ["Set-Cookie"] = COOKIE .. "=; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/; HttpOnly" })
  end
  if not session then return self:render(fmt, entry, op, 100, TEXT[100]) end
  local p = parse_body(req.body, fmt, entry)
  if not p then return self:render(fmt, entry, op, 3, TEXT[3]) end
  self:tick()
  local ctx = { fmt = fmt, account = session.account, op = op, entry = entry }
  local handler = H[op]
  local ok, payload, message = pcall(handler, self, ctx, p)
  if not ok then
    local err = payload
    if type(err) == "table" and err.clc then
      return self:render(fmt, entry, op, err.clc, err.message)
    end
    return self:render(fmt, entry, op, 2, TEXT[2] .. " (" .. tostring(err) .. ")", {}, 500)
  end
  return self:render(fmt, entry, op, 0, message, payload)
end

--- The API's own answer to a fault: "maintenance" (HTTP 503) or "rate_limit" (HTTP 429).
function Sim:fault(kind, fmt)
  fmt = fmt or "json"
  if kind == "rate_limit" then
    return self:render(fmt, nil, nil, 2, "Too many requests. Please retry later.", {}, 429, { ["Retry-After"] = "2" })
  end
  return self:render(fmt, nil, nil, 2, "The API is unavailable for scheduled maintenance. Please retry later.", {}, 503,
    { ["Retry-After"] = "30" })
end

--- Adds n objects of a kind: "servers" (active servers in DEMO's WA1 Default Group), "groups",
--- "users", "aliases", "failed_requests" (queue requests that end Failed).
--- Settings (not objects): "speed" n (n >= 1) makes queued jobs n times faster than the default
--- (job seconds = default / n; n = 1 restores it), "alias_limit" n sets the SMTP relay alias limit.
--- Settings outlive reset().
function Sim:seed(kind, n)
  n = tonumber(n) or 1
  if kind == "speed" then
    if n < 1 then error("speed must be >= 1", 0) end
    self.base_job_seconds = self.base_job_seconds or self.job_seconds
    self.job_seconds = self.base_job_seconds / n
    return self.job_seconds
  elseif kind == "alias_limit" then
    self.alias_limit = n
    return n
  end
  local ctx = { account = USER_ALIAS }
  local default = self:find_group_by_name(USER_ALIAS, "WA1", "Default Group")
  for i = 1, n do
    if kind == "servers" then
      -- names carry two digits (99 a prefix) and a VLAN 239 addresses: a big account spreads
      -- over aliases S00000.. and over VLANs of its own
      self.seeded = (self.seeded or 0) + 1
      local s = self:add_server({ account = USER_ALIAS, group = default,
        alias = self.seeded <= 99 and "SEED" or string.format("S%05d", math.floor(self.seeded / 99)),
        template = self.templates[1 + (i % 4)], Cpu = 1 + (i % 2), MemoryGB = 2, ExtraDriveGB = 0,
        network = self:seed_network(USER_ALIAS, "WA1") })
      s.Status, s.PowerState = "Active", "Started"
    elseif kind == "groups" then
      local root = self:find_group_by_name(USER_ALIAS, "WA1", "WA1 Hardware")
      self:new_group(USER_ALIAS, "WA1", "Seeded Group " .. self.group_seq + 1, root, false)
    elseif kind == "users" then
      local name = string.format("seed%d@demo.example", #self.user_order + 1)
      self.users[name] = { AccountAlias = USER_ALIAS, UserName = name, EmailAddress = name, FirstName = "Seed",
        LastName = "User " .. i, Roles = { 10 }, Status = "Active", TimeZoneID = "Pacific Standard Time", AllowSMS = false }
      self.user_order[#self.user_order + 1] = name
    elseif kind == "aliases" then
      H.create_alias(self, ctx)
    elseif kind == "failed_requests" then
      local job = self:queue(ctx, "Seeded failing request", nil)
      job.fail = "Seeded failure"
    else
      error("unknown seed kind '" .. tostring(kind) .. "' (servers, groups, users, aliases, failed_requests, speed, alias_limit)", 0)
    end
  end
  return n
end

M.Sim = Sim
return M
