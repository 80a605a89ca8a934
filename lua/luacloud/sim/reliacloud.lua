-- luacloud.sim.reliacloud: a stateful simulator of the ReliaCloud API 1.0 (query API, 25 commands).
--
-- Behaviour follows shared/seeds/reliacloud-api-reference-1.0.txt and shared/notes/reliacloud.md:
-- * GET or POST (form body) to /client/api with command=<name> and the command's parameters.
-- * Auth: apiKey + signature (verified exactly like the CloudStack server: every parameter except
--   `signature`, names sorted case-sensitively as received, values re-encoded keeping A-Za-z0-9.-*_
--   with %20 for a space, the whole string lower-cased, HMAC-SHA1 keyed with the secret, Base64,
--   compared with the decoded signature), or the JSESSIONID cookie of a login (1800 s of inactivity).
--   Failure: 401.
-- * Commands are looked up case-sensitively; the document's spelling and the likely real one
--   are both accepted (stopVirtualMachine and StopVirtualMachine, listVirtualMachine(s), ...).
--   Parameter names are case-insensitive (Cloud.com lower-cases them); `command`, `response`,
--   `username` and `password` are read with exact lower-case names, as the servlet does.
-- * XML by default, JSON with response=json. Root names as printed in the document (including
--   `createrrupdate...` and `deleteloadbalancerrulereponse`), without the document's mismatched
--   closing tag and `>>` typos. JSON scalars are all strings; lists are arrays.
-- * Errors: the HTTP status is the API error code (401, 430, 431, 432, 530, 56x ...), with a body
--   <errorresponse><errorcode>..</errorcode><description>..</description></errorresponse> (or JSON).
--
-- Lua 5.1-compatible (runs under nginx's LuaJIT and under Lua 5.4).

local core = require("luacloud.core")

local M = {}

local Sim = {}
Sim.__index = Sim

local ACCOUNT_ID = "3"
local SESSION_TIMEOUT = 1800
local DEFAULT_NETWORK_DOMAIN = "reliacloud.internal"
local INVALID = "The parameters passed in was invalid: "
local AUTH_FAILED = "unable to verify user credentials and/or request signature"

M.CREDENTIALS = {
  api_key = "demo-api-key",
  secret_key = "demo-secret-key",
  username = "demo",
  password = "demo-password",
}

---------------------------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------------------------

local util = require("luacloud.sim.util")

-- Parses "a=1&b=2" into params (first value of a repeated name wins, as the servlet's
-- getParameter does) and order (names as received, first occurrence).
local function parse_query(s, params, order)
  for _, kv in ipairs(util.query_pairs(s)) do
    local name = kv[1]
    if name ~= "" and params[name] == nil then
      params[name] = kv[2] == true and "" or kv[2]
      order[#order + 1] = name
    end
  end
end

-- Byte-wise (ordinal) comparison, like Java's String.compareTo on ASCII names.
local function ordinal_less(a, b)
  local n = #a
  if #b < n then n = #b end
  for i = 1, n do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local xml_escape = util.xml_escape

local json_string = util.json_string

local function str(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if type(v) == "number" then
    if v == math.floor(v) then return string.format("%d", v) end
    return tostring(v)
  end
  return tostring(v)
end

local days_from_civil = util.days_from_civil

-- Java "yyyy-MM-dd'T'HH:mm:ssZ" in UTC, e.g. 2009-09-18T20:16:10+0000.
local function fmt_date(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. "+0000"
end

-- Input dates of listEvents (undocumented; Cloud.com parsed yyyy-MM-dd): "yyyy-MM-dd",
-- optionally followed by " HH:mm:ss" or "THH:mm:ss". Returns seconds (UTC) or nil.
local function parse_date(s)
  local y, m, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 or d > 31 then return nil end
  local t = days_from_civil(y, m, d) * 86400
  if rest == "" then return t, true end
  local hh, mm, ss = rest:match("^[T ](%d%d):(%d%d):(%d%d)")
  if not hh then return nil end
  return t + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss), false
end

---------------------------------------------------------------------------------------------
-- Response bodies. A body model is { root = name, fields = {{k, v}, ...} } (one object) or
-- { root = name, item = name, items = { fields, ... } } (a list).
---------------------------------------------------------------------------------------------

local function xml_fields(buf, fields, indent)
  local n = #buf
  for _, kv in ipairs(fields) do
    local name = kv[1]
    buf[n + 1] = indent .. "<" .. name .. ">"
    buf[n + 2] = xml_escape(str(kv[2]))
    buf[n + 3] = "</" .. name .. ">\n"
    n = n + 3
  end
end

local function render_xml(model)
  local buf = { '<?xml version="1.0" encoding="UTF-8"?>\n', "<" .. model.root .. ">\n" }
  if model.item then
    for _, fields in ipairs(model.items) do
      buf[#buf + 1] = "  <" .. model.item .. ">\n"
      xml_fields(buf, fields, "    ")
      buf[#buf + 1] = "  </" .. model.item .. ">\n"
    end
  else
    xml_fields(buf, model.fields, "  ")
  end
  buf[#buf + 1] = "</" .. model.root .. ">\n"
  return table.concat(buf)
end

-- element names are few: their quoted forms are cached
local json_keys = setmetatable({}, { __index = function(t, k)
  local q = json_string(k) .. ":"
  t[k] = q
  return q
end })

local function json_fields(buf, fields)
  local n = #buf
  buf[n + 1] = "{"
  n = n + 1
  for i, kv in ipairs(fields) do
    if i > 1 then n = n + 1; buf[n] = "," end
    buf[n + 1] = json_keys[kv[1]]
    buf[n + 2] = json_string(str(kv[2]))
    n = n + 2
  end
  buf[n + 1] = "}"
end

local function render_json(model)
  local buf = { "{", json_string(model.root), ":" }
  if model.item then
    -- Cloud.com's buildResponse drops an empty list entirely: {"root":{}}
    if #model.items == 0 then
      buf[#buf + 1] = "{}"
    else
      buf[#buf + 1] = "{" .. json_string(model.item) .. ":["
      for i, fields in ipairs(model.items) do
        if i > 1 then buf[#buf + 1] = "," end
        json_fields(buf, fields)
      end
      buf[#buf + 1] = "]}"
    end
  else
    json_fields(buf, model.fields)
  end
  buf[#buf + 1] = "}"
  return table.concat(buf)
end

local CT_XML = "text/xml; charset=UTF-8"
local CT_JSON = "text/javascript; charset=UTF-8"

local function render(model, fmt, status, extra_headers)
  local headers = { ["content-type"] = fmt == "json" and CT_JSON or CT_XML }
  if extra_headers then for k, v in pairs(extra_headers) do headers[k] = v end end
  local body = fmt == "json" and render_json(model) or render_xml(model)
  return status or 200, headers, body
end

local function error_response(code, message, fmt)
  return render({ root = "errorresponse",
    fields = { { "errorcode", code }, { "description", message } } }, fmt, code)
end
M.error_response = error_response

-- Handlers signal API errors with error({ code = n, message = s }) -> caught in handle().
local function fail(code, message)
  error({ api_error = true, code = code, message = message }, 0)
end

---------------------------------------------------------------------------------------------
-- Parameter access (names already lower-cased)
---------------------------------------------------------------------------------------------

local function required(p, name)
  local v = p[name]
  if v == nil or v == "" then fail(430, "Malformed parameters: missing parameter " .. name) end
  return v
end

local function check_id(v, name)
  if v ~= nil and not v:match("^%-?%d+$") then
    fail(430, "Malformed parameters: " .. name .. " must be an integer id, got '" .. v .. "'")
  end
  return v
end

local function check_bool(v, name)
  if v == nil then return nil end
  local l = v:lower()
  if l == "true" then return true end
  if l == "false" then return false end
  fail(430, "Malformed parameters: " .. name .. " must be true or false, got '" .. v .. "'")
end

-- Port: not an integer -> 430 malformed; out of range -> `code` (432 for the rule commands).
local function check_port(v, name, code)
  if not v:match("^%d+$") then
    fail(430, "Malformed parameters: " .. name .. " must be an integer, got '" .. v .. "'")
  end
  local n = tonumber(v)
  if n > 65535 then fail(code, name .. " must be between 0 and 65535, got " .. v) end
  return n
end

---------------------------------------------------------------------------------------------
-- Construction and state
---------------------------------------------------------------------------------------------

local ZONES = {
  { id = "4", name = "WC", public = 10, private = 1 },
  { id = "5", name = "EC", public = 20, private = 2 },
  { id = "6", name = "MN", public = 30, private = 3 },
}

local TEMPLATES = {
  { id = "3", name = "Centos 5.2(x86_64) GUI", ispublic = true, requireshvm = false, bits = 64,
    created = "2009-09-17T10:16:16-0700", isready = true, passwordenabled = true },
  { id = "6", name = "Windows XP SP3", ispublic = true, requireshvm = true, bits = 32,
    created = "2009-09-17T10:16:16-0700", isready = true, passwordenabled = true },
  { id = "7", name = "Ubuntu 9.10(x86_64)", ispublic = true, requireshvm = false, bits = 64,
    created = "2009-11-02T09:12:40-0700", isready = false, passwordenabled = false },
}

local OFFERINGS = {
  { id = "1", name = "Small Instance",
    displaytext = "Small Instance [500MHZ CPU, 512MB MEM, 16GB Disk] - $0.10 per hour",
    cpunumber = 1, cpuspeed = 500, memory = 512, storage = 16000, created = "2009-09-20T17:54:50-0700" },
  { id = "2", name = "Medium Instance",
    displaytext = "Medium Instance [500MHZ CPU, 1GB MEM, 32GB Disk] - $0.20 per hour",
    cpunumber = 1, cpuspeed = 512, memory = 1024, storage = 32000, created = "2009-09-20T17:54:50-0700" },
  { id = "3", name = "Large Instance",
    displaytext = "Large Instance [2GHZ CPU, 4GB MEM, 64GB Disk] - $0.30 per hour",
    cpunumber = 2, cpuspeed = 2000, memory = 4096, storage = 64000, created = "2009-09-20T17:54:50-0700" },
}

local copy = util.copy

--- Creates a simulator. opts.now: function -> seconds (default os.time); opts.base_url.
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({
    now = opts.now or os.time,
    base_url = opts.base_url,
    credentials = copy(M.CREDENTIALS),
  }, Sim)
  self:reset()
  return self
end

--- Back to the initial state: seeded zones, templates and offerings; no VMs, IPs, rules,
--- sessions or events.
function Sim:reset()
  self.zones, self.zone_by_id = {}, {}
  for i, z in ipairs(ZONES) do
    local c = copy(z)
    c.ip_count, c.vm_count = 0, 0
    self.zones[i] = c
    self.zone_by_id[c.id] = c
  end
  self.templates, self.template_by_id = {}, {}
  for i, t in ipairs(TEMPLATES) do
    self.templates[i] = copy(t)
    self.template_by_id[t.id] = self.templates[i]
  end
  self.offerings, self.offering_by_id = {}, {}
  for i, o in ipairs(OFFERINGS) do
    self.offerings[i] = copy(o)
    self.offering_by_id[o.id] = self.offerings[i]
  end
  self.vms, self.vm_list = {}, {}          -- id -> vm; creation order (destroyed ones removed lazily)
  self.zone_vms = {}                       -- zone id -> live machines
  self.ips, self.ip_list = {}, {}          -- address -> ip; allocation order
  self.rules, self.rule_list = {}, {}      -- id -> rule (ip forwarding and load balancer share ids)
  self.events = {}
  self.sessions = {}
  self.stats = {}                          -- zone id -> { rx, tx }
  self.stats_order = {}
  self.next_vm_id = 10
  self.next_rule_id = 1
  self.rng = 20091209
  self.last_accrual = nil
  self.requests = 0
end

Sim.random = util.park_miller

local PW_CHARS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

function Sim:password(len) return util.pick(self, util.park_miller, PW_CHARS, len or 8) end

function Sim:hex(len) return util.pick(self, util.park_miller, util.HEX, len) end

function Sim:event(etype, description)
  local t = self.now()
  self.events[#self.events + 1] = { type = etype, level = "INFO", description = description,
    created = fmt_date(t), t = t }
end

-- Network traffic counters: every Running VM receives 2048 and sends 512 bytes per second.
function Sim:accrue()
  local now = self.now()
  local last = self.last_accrual or now
  self.last_accrual = now
  local dt = now - last
  if dt <= 0 then return end
  for _, vm in ipairs(self.vm_list) do
    if vm.state == "Running" and not vm.destroyed then
      local s = self.stats[vm.zone.id]
      s.rx = s.rx + math.floor(dt * 2048)
      s.tx = s.tx + math.floor(dt * 512)
    end
  end
end

local function live_vms(self)
  local out = {}
  for _, vm in ipairs(self.vm_list) do
    if not vm.destroyed then out[#out + 1] = vm end
  end
  return out
end

function Sim:compact_vms()
  self.vm_list = live_vms(self)
end

-- IP addresses ------------------------------------------------------------------------------

function Sim:allocate_ip(zone, sourcenat)
  local n = 139 + zone.ip_count
  zone.ip_count = zone.ip_count + 1
  local third = zone.public + math.floor(n / 250)
  if third > 255 then fail(560, "A server error occurred while trying to associate an ip address: "
    .. "no free public ip address in zone " .. zone.id) end
  local addr = "192.168." .. third .. "." .. (2 + n % 250)
  local ip = { address = addr, zone = zone, sourcenat = sourcenat or false, allocated = fmt_date(self.now()) }
  self.ips[addr] = ip
  self.ip_list[#self.ip_list + 1] = ip
  self:event("NET.IPASSIGN", "assigned a public ip: " .. addr)
  return ip
end

function Sim:release_ip(ip)
  for _, r in ipairs(self.rule_list) do
    if r.publicip == ip.address then self:remove_rule(r) end
  end
  self.ips[ip.address] = nil
  for i, x in ipairs(self.ip_list) do
    if x == ip then table.remove(self.ip_list, i) break end
  end
  self:event("NET.IPRELEASE", "released a public ip: " .. ip.address)
end

function Sim:source_nat(zone)
  for _, ip in ipairs(self.ip_list) do
    if ip.zone == zone and ip.sourcenat then return ip end
  end
end

local function ip_fields(ip)
  return {
    { "ipaddress", ip.address }, { "allocated", ip.allocated }, { "zoneid", ip.zone.id },
    { "zonename", ip.zone.name }, { "issourcenat", ip.sourcenat },
  }
end

-- Rules ---------------------------------------------------------------------------------------

function Sim:remove_rule(r)
  if r.removed then return end
  r.removed = true
  self.rules[r.id] = nil
  local kept = {}
  for _, x in ipairs(self.rule_list) do
    if not x.removed then kept[#kept + 1] = x end
  end
  self.rule_list = kept
  self:event(r.kind == "lb" and "LB.DELETE" or "NET.RULEDELETE",
    "deleted " .. (r.kind == "lb" and "load balancer" or "ip forwarding") .. " rule " .. r.id
    .. " (" .. r.publicip .. ":" .. r.publicport .. " -> " .. r.privateip .. ":" .. r.privateport .. ")")
end

local function rule_fields(r, with_enabled)
  local f = { { "id", r.id }, { "publicip", r.publicip }, { "publicport", r.publicport },
    { "privateip", r.privateip }, { "privateport", r.privateport } }
  if with_enabled then f[#f + 1] = { "isenabled", true } end
  if r.kind == "lb" then f[#f + 1] = { "algorithm", r.algorithm }
  else f[#f + 1] = { "protocol", r.protocol } end
  return f
end

-- Virtual machines ---------------------------------------------------------------------------

function Sim:create_vm(zone, template, offering, domain)
  local id = tostring(self.next_vm_id)
  self.next_vm_id = self.next_vm_id + 1
  local n = zone.vm_count
  zone.vm_count = zone.vm_count + 1
  local vm = {
    id = id,
    name = "i-" .. ACCOUNT_ID .. "-" .. id .. "-" .. zone.name,
    created = fmt_date(self.now()),
    zone = zone, template = template, offering = offering,
    domain = domain or DEFAULT_NETWORK_DOMAIN,
    ipaddress = "10." .. zone.private .. "." .. (1 + math.floor(n / 250)) .. "." .. (2 + n % 250),
    state = "Running",
    haenable = false,
    consoleport = 5900 + (tonumber(id) % 100),
    consolepassword = self:hex(16),
  }
  if template.passwordenabled then vm.password = self:password(8) end
  self.vms[id] = vm
  self.vm_list[#self.vm_list + 1] = vm
  self.zone_vms[zone.id] = (self.zone_vms[zone.id] or 0) + 1
  if not self.stats[zone.id] then
    self.stats[zone.id] = { rx = 0, tx = 0 }
    self.stats_order[#self.stats_order + 1] = zone.id
  end
  -- The account's source-NAT address in the zone exists as soon as a VM does.
  if not self:source_nat(zone) then self:allocate_ip(zone, true) end
  self:event("VM.CREATE", "successfully created VM instance : " .. vm.name)
  self:event("VM.START", "successfully started VM instance : " .. vm.name)
  return vm
end

local function console_fields(f, vm)
  if vm.state ~= "Running" then return end
  f[#f + 1] = { "consolehost", "192.168.1.231" }
  f[#f + 1] = { "consoleport", vm.consoleport }
  f[#f + 1] = { "consoleimageurl", "https://192-168-10-140.realhostip.com:8000" }
  f[#f + 1] = { "consolepassword", vm.consolepassword }
  f[#f + 1] = { "consoleproxyhost", "192-168-10-140.realhostip.com" }
  f[#f + 1] = { "consoleproxyport", 5999 }
end

local function offering_fields(f, o)
  f[#f + 1] = { "cpunumber", o.cpunumber }
  f[#f + 1] = { "cpuspeed", o.cpuspeed }
  f[#f + 1] = { "memory", o.memory }
  f[#f + 1] = { "storage", o.storage }
end

-- The deploy sample's fields.
local function vm_deploy_fields(vm)
  local f = {
    { "id", vm.id }, { "name", vm.name },
  }
  if vm.password then f[#f + 1] = { "password", vm.password } end
  local rest = {
    { "created", vm.created }, { "zoneid", vm.zone.id }, { "zonename", vm.zone.name },
    { "ipaddress", vm.ipaddress }, { "haenable", vm.haenable }, { "state", vm.state },
    { "templateid", vm.template.id }, { "templatename", vm.template.name },
    { "passwordenabled", vm.template.passwordenabled },
    { "serviceofferingid", vm.offering.id }, { "serviceofferingname", vm.offering.name },
  }
  for _, kv in ipairs(rest) do f[#f + 1] = kv end
  offering_fields(f, vm.offering)
  console_fields(f, vm)
  return f
end

-- The start sample's fields (it prints <zonenumber> where the others print <zonename>;
-- both are sent).
local function vm_start_fields(vm)
  local f = {
    { "id", vm.id }, { "name", vm.name }, { "zoneid", vm.zone.id }, { "zonenumber", vm.zone.name },
    { "zonename", vm.zone.name }, { "ipaddress", vm.ipaddress }, { "serviceofferingid", vm.offering.id },
    { "haenable", vm.haenable }, { "state", vm.state }, { "templateid", vm.template.id },
    { "account", ACCOUNT_ID },
  }
  console_fields(f, vm)
  return f
end

-- The listVirtualMachine sample's fields.
local function vm_list_fields(vm)
  local f = {
    { "id", vm.id }, { "name", vm.name }, { "created", vm.created }, { "ipaddress", vm.ipaddress },
    { "state", vm.state }, { "haenable", vm.haenable }, { "zoneid", vm.zone.id },
    { "zonename", vm.zone.name }, { "templateid", vm.template.id },
    { "templatename", vm.template.name }, { "templatedisplaytext", vm.template.name },
    { "osarchitecture", vm.template.bits }, { "serviceofferingid", vm.offering.id },
    { "serviceofferingname", vm.offering.name },
  }
  offering_fields(f, vm.offering)
  console_fields(f, vm)
  return f
end

function Sim:get_vm(p)
  local id = check_id(required(p, "id"), "id")
  local vm = self.vms[id]
  if not vm or vm.destroyed then
    fail(431, INVALID .. "unable to find virtual machine with id " .. id)
  end
  return vm
end

local function success(root)
  return { root = root, fields = { { "success", true } } }
end

---------------------------------------------------------------------------------------------
-- Commands (p: parameters with lower-cased names; ctx: { session = ... })
---------------------------------------------------------------------------------------------

local H = {}

function H.deployVirtualMachine(self, p)
  local zid = check_id(required(p, "zoneid"), "zoneId")
  local oid = check_id(required(p, "serviceofferingid"), "serviceOfferingId")
  local tid = check_id(required(p, "templateid"), "templateId")
  -- networkDomain is marked [required] but "If not specified, a default domain will be
  -- specified": the simulator accepts its absence.
  if zid == "-1" then zid = self.zones[1].id end
  local zone = self.zone_by_id[zid]
  if not zone then fail(431, INVALID .. "unknown zone " .. zid) end
  local offering = self.offering_by_id[oid]
  if not offering then fail(431, INVALID .. "unknown service offering " .. oid) end
  local template = self.template_by_id[tid]
  if not template then fail(431, INVALID .. "unknown template " .. tid) end
  if not template.isready then fail(431, INVALID .. "template " .. tid .. " is not ready") end
  local vm = self:create_vm(zone, template, offering, p.networkdomain)
  return { root = "deployvirtualmachineresponse", fields = vm_deploy_fields(vm) }
end

function H.startVirtualMachine(self, p)
  local vm = self:get_vm(p)
  if vm.state ~= "Running" then
    vm.state = "Running"
    self:event("VM.START", "successfully started VM instance : " .. vm.name)
  end
  return { root = "startvirtualmachineresponse", fields = vm_start_fields(vm) }
end

function H.stopVirtualMachine(self, p)
  local vm = self:get_vm(p)
  if vm.state ~= "Stopped" then
    vm.state = "Stopped"
    self:event("VM.STOP", "successfully stopped VM instance : " .. vm.name)
  end
  return success("stopvirtualmachineresponse")
end

function H.rebootVirtualMachine(self, p)
  local vm = self:get_vm(p)
  -- The document says "returns an error if the machine is already running"; a reboot needs a
  -- running machine, so the error is for a machine that is not running.
  if vm.state ~= "Running" then
    fail(431, INVALID .. "virtual machine " .. vm.id .. " is not running")
  end
  self:event("VM.REBOOT", "successfully rebooted VM instance : " .. vm.name)
  return success("rebootvirtualmachineresponse")
end

function H.destroyVirtualMachine(self, p)
  local vm = self:get_vm(p)
  vm.destroyed = true
  vm.state = "Destroyed"
  self.vms[vm.id] = nil
  self.zone_vms[vm.zone.id] = self.zone_vms[vm.zone.id] - 1
  self:compact_vms()
  for _, r in ipairs(self.rule_list) do
    if r.privateip == vm.ipaddress then self:remove_rule(r) end
  end
  self:event("VM.DESTROY", "successfully destroyed VM instance : " .. vm.name)
  -- The last VM of the zone is gone: the source-NAT address goes with it.
  if self.zone_vms[vm.zone.id] == 0 then
    local snat = self:source_nat(vm.zone)
    if snat then self:release_ip(snat) end
  end
  return success("destroyvirtualmachineresponse")
end

function H.changeServiceForVirtualMachine(self, p)
  local vm = self:get_vm(p)
  local oid = check_id(required(p, "serviceofferingid"), "serviceOfferingId")
  local offering = self.offering_by_id[oid]
  if not offering then fail(431, INVALID .. "unknown service offering " .. oid) end
  if vm.state ~= "Stopped" then
    fail(431, INVALID .. "virtual machine " .. vm.id
      .. " must be Stopped to change its service offering (state " .. vm.state .. ")")
  end
  if offering == vm.offering then
    fail(431, INVALID .. "virtual machine " .. vm.id
      .. " already has service offering " .. oid)
  end
  vm.offering = offering
  self:event("VM.UPGRADE", "upgraded VM instance : " .. vm.name .. " to " .. offering.name)
  return success("changeserviceforvirtualmachineresponse")
end

function H.enableHAForVirtualMachine(self, p)
  local vm = self:get_vm(p)
  local on = check_bool(required(p, "haenable"), "haEnable")
  vm.haenable = on
  self:event("VM.UPDATE", (on and "enabled" or "disabled") .. " HA for VM instance : " .. vm.name)
  return success("enablehaforvirtualmachineresponse")
end

function H.resetPasswordForVirtualMachine(self, p)
  local vm = self:get_vm(p)
  if not vm.template.passwordenabled then
    fail(431, INVALID .. "template " .. vm.template.id .. " is not password enabled")
  end
  vm.password = self:password(8)
  self:event("VM.RESETPASSWORD", "reset password for VM instance : " .. vm.name)
  if vm.state == "Running" then
    self:event("VM.REBOOT", "successfully rebooted VM instance : " .. vm.name)
  end
  return { root = "resetpasswordforvirtualmachineresponse",
    fields = { { "id", vm.id }, { "password", vm.password } } }
end

function H.listVirtualMachines(self, p)
  local name, state = p.name, p.state
  local zid = check_id(p.zoneid, "zoneId")
  local items = {}
  for _, vm in ipairs(self.vm_list) do
    if not vm.destroyed
      and (name == nil or name == "" or vm.name == name)
      and (state == nil or state == "" or vm.state:lower() == state:lower())
      and (zid == nil or vm.zone.id == zid) then
      items[#items + 1] = vm_list_fields(vm)
    end
  end
  return { root = "listvirtualmachinesresponse", item = "virtualmachine", items = items }
end

function H.listTemplates(self, p)
  local ready = check_bool(p.isready, "isReady")
  if ready == nil then ready = true end
  local items = {}
  for _, t in ipairs(self.templates) do
    if (p.name == nil or p.name == "" or t.name == p.name) and (not ready or t.isready) then
      items[#items + 1] = {
        { "id", t.id }, { "name", t.name }, { "displaytext", t.name }, { "ispublic", t.ispublic },
        { "requireshvm", t.requireshvm }, { "bits", t.bits }, { "created", t.created },
        { "isready", t.isready }, { "passwordenabled", t.passwordenabled },
      }
    end
  end
  return { root = "listtemplatesresponse", item = "template", items = items }
end

function H.listServiceOfferings(self, p)
  local vm
  local vmid = check_id(p.virtualmachineid or p.virtualmachineld, "virtualMachineId")
  if vmid then
    vm = self.vms[vmid]
    if not vm then fail(431, INVALID .. "unable to find virtual machine with id " .. vmid) end
  end
  local items = {}
  for _, o in ipairs(self.offerings) do
    if (p.name == nil or p.name == "" or o.name == p.name) and (not vm or vm.offering ~= o) then
      local f = { { "id", o.id }, { "name", o.name }, { "displaytext", o.displaytext } }
      offering_fields(f, o)
      f[#f + 1] = { "created", o.created }
      items[#items + 1] = f
    end
  end
  return { root = "listserviceofferingsresponse", item = "offering", items = items }
end

function H.associateIPAddress(self, p)
  local zid = check_id(required(p, "zoneid"), "zoneid")
  local zone = self.zone_by_id[zid]
  if not zone then fail(431, INVALID .. "unknown zone " .. zid) end
  local ip = self:allocate_ip(zone, false)
  return { root = "associateipaddressresponse", fields = ip_fields(ip) }
end

function H.disassociateIPAddress(self, p)
  local addr = required(p, "ipaddress")
  local ip = self.ips[addr]
  if not ip then fail(431, INVALID .. "ip address " .. addr .. " is not associated with the account") end
  if ip.sourcenat then
    fail(431, INVALID .. "ip address " .. addr .. " is the source nat address of zone " .. ip.zone.id)
  end
  self:release_ip(ip)
  return success("disassociateipaddressresponse")
end

function H.listIPAddresses(self)
  local items = {}
  for _, ip in ipairs(self.ip_list) do items[#items + 1] = ip_fields(ip) end
  return { root = "listipaddressesresponse", item = "allocatedipaddress", items = items }
end

-- Common validation of the two rule commands; `code` is the command's invalid-parameter code (432).
function Sim:rule_params(p, code, what)
  local publicip = required(p, "publicip")
  local publicport = check_port(required(p, "publicport"), "publicPort", code)
  local privateip = required(p, "privateip")
  local privateport = check_port(required(p, "privateport"), "privatePort", code)
  local ip = self.ips[publicip]
  if not ip then
    fail(code, "The parameters passed in for the " .. what .. " was invalid: public ip "
      .. publicip .. " is not associated with the account")
  end
  local target
  for _, vm in ipairs(self.vm_list) do
    if not vm.destroyed and vm.ipaddress == privateip and vm.zone == ip.zone then target = vm break end
  end
  if not target then
    fail(code, "The parameters passed in for the " .. what .. " was invalid: private ip "
      .. privateip .. " is not a virtual machine of the account in zone " .. ip.zone.id)
  end
  return publicip, publicport, privateip, privateport
end

function Sim:add_rule(r)
  r.id = tostring(self.next_rule_id)
  self.next_rule_id = self.next_rule_id + 1
  self.rules[r.id] = r
  self.rule_list[#self.rule_list + 1] = r
  return r
end

function H.createOrUpdateIpForwardingRule(self, p)
  local publicip, publicport, privateip, privateport = self:rule_params(p, 432, "ip forwarding rule")
  local proto = required(p, "protocol"):upper()
  if proto ~= "TCP" and proto ~= "UDP" then
    fail(432, "The parameters passed in for the ip forwarding rule was invalid: protocol must be TCP or UDP, got "
      .. p.protocol)
  end
  local existing
  for _, r in ipairs(self.rule_list) do
    if r.publicip == publicip and r.publicport == publicport then
      if r.kind == "lb" then
        fail(564, "The rule conflicts with an existing load balancer rule (id " .. r.id .. ").")
      elseif r.protocol == proto then
        existing = r
      end
    end
  end
  local rule
  if existing then
    existing.privateip, existing.privateport = privateip, privateport
    rule = existing
    self:event("NET.RULEMODIFY", "modified ip forwarding rule " .. rule.id)
  else
    rule = self:add_rule({ kind = "ipfw", publicip = publicip, publicport = publicport,
      privateip = privateip, privateport = privateport, protocol = proto })
    self:event("NET.RULEADD", "created ip forwarding rule " .. rule.id .. " (" .. publicip .. ":"
      .. publicport .. " -> " .. privateip .. ":" .. privateport .. " " .. proto .. ")")
  end
  return { root = "createrrupdateipforwardingruleresponse", fields = rule_fields(rule, true) }
end

function H.deleteIpForwardingRule(self, p)
  local id = check_id(required(p, "id"), "id")
  local r = self.rules[id]
  if not r or r.kind ~= "ipfw" then
    fail(431, INVALID .. "unable to find ip forwarding rule " .. id)
  end
  self:remove_rule(r)
  return success("deleteipforwardingruleresponse")
end

function Sim:list_rules(p, kind, root, item)
  local publicip = required(p, "publicip")
  if not self.ips[publicip] then
    fail(431, INVALID .. "public ip " .. publicip .. " is not associated with the account")
  end
  local items = {}
  for _, r in ipairs(self.rule_list) do
    if r.kind == kind and r.publicip == publicip then items[#items + 1] = rule_fields(r, false) end
  end
  return { root = root, item = item, items = items }
end

function H.listIpForwardingRules(self, p)
  return self:list_rules(p, "ipfw", "listipforwardingrulesresponse", "ipforwardingrule")
end

local ALGORITHMS = { roundrobin = true, leastconn = true, source = true }

function H.createOrUpdateLoadBalancerRule(self, p)
  local publicip, publicport, privateip, privateport = self:rule_params(p, 432, "load balancer")
  local alg = required(p, "algorithm"):lower()
  if not ALGORITHMS[alg] then
    fail(432, "The parameters passed in for the load balancer was invalid: algorithm must be roundrobin, "
      .. "leastconn or source, got " .. p.algorithm)
  end
  local existing
  for _, r in ipairs(self.rule_list) do
    if r.publicip == publicip and r.publicport == publicport then
      if r.kind ~= "lb" then
        fail(568, "The rule conflicts with an existing ip forwarding rule (id " .. r.id .. ").")
      elseif r.privateip == privateip and r.privateport == privateport then
        existing = r            -- same rule: update its algorithm
      elseif r.algorithm == alg then
        -- As documented: "conflicts ... with a load balancer rule of the same algorithm".
        fail(568, "The rule conflicts with a load balancer rule of the same algorithm (id " .. r.id .. ").")
      end
    end
  end
  local rule
  if existing then
    existing.algorithm = alg
    rule = existing
    self:event("LB.UPDATE", "modified load balancer rule " .. rule.id)
  else
    rule = self:add_rule({ kind = "lb", publicip = publicip, publicport = publicport,
      privateip = privateip, privateport = privateport, algorithm = alg })
    self:event("LB.CREATE", "created load balancer rule " .. rule.id .. " (" .. publicip .. ":"
      .. publicport .. " -> " .. privateip .. ":" .. privateport .. " " .. alg .. ")")
  end
  return { root = "createrrupdateloadbalancerruleresponse", fields = rule_fields(rule, true) }
end

function H.deleteLoadBalancerRule(self, p)
  local id = check_id(required(p, "id"), "id")
  local r = self.rules[id]
  if not r or r.kind ~= "lb" then
    fail(431, INVALID .. "unable to find load balancer rule " .. id)
  end
  self:remove_rule(r)
  return success("deleteloadbalancerrulereponse")
end

function H.listLoadBalancerRules(self, p)
  return self:list_rules(p, "lb", "listloadbalancerrulesresponse", "loadbalancerrule")
end

function H.listZones(self, p)
  local all = check_bool(p.available, "available")
  local items = {}
  for _, z in ipairs(self.zones) do
    if all or (self.zone_vms[z.id] or 0) > 0 then items[#items + 1] = { { "id", z.id }, { "name", z.name } } end
  end
  return { root = "listzonesresponse", item = "zone", items = items }
end

function H.listEvents(self, p)
  local from, to
  if p.startdate and p.startdate ~= "" then
    from = parse_date(p.startdate)
    if not from then fail(430, "Malformed parameters: startDate must be yyyy-MM-dd, got '" .. p.startdate .. "'") end
  end
  if p.enddate and p.enddate ~= "" then
    local day
    to, day = parse_date(p.enddate)
    if not to then fail(430, "Malformed parameters: endDate must be yyyy-MM-dd, got '" .. p.enddate .. "'") end
    if day then to = to + 86399 end        -- a date alone includes the whole day
  end
  local etype = p.type ~= "" and p.type or nil
  local items = {}
  for _, e in ipairs(self.events) do
    if (not etype or e.type:lower() == etype:lower())
      and (not from or e.t >= from) and (not to or e.t <= to + 0.999) then
      items[#items + 1] = { { "type", e.type }, { "level", e.level },
        { "description", e.description }, { "created", e.created } }
    end
  end
  return { root = "listeventsresponse", item = "event", items = items }
end

function H.listAccountStatistics(self)
  local items = {}
  for _, zid in ipairs(self.stats_order) do
    local s, z = self.stats[zid], self.zone_by_id[zid]
    -- <zoneId> is camel-case in the document's sample, unlike every other element.
    items[#items + 1] = { { "zoneId", z.id }, { "zonename", z.name },
      { "receivedbytes", s.rx }, { "sentbytes", s.tx } }
  end
  return { root = "listaccountstatisticsresponse", item = "accountstat", items = items }
end

-- Accepted command strings (case-sensitive) -> handler name. Both the document's spelling and
-- the likely real one (notes §5).
local COMMANDS = {
  deployVirtualMachine = "deployVirtualMachine",
  startVirtualMachine = "startVirtualMachine",
  stopVirtualMachine = "stopVirtualMachine", StopVirtualMachine = "stopVirtualMachine",
  rebootVirtualMachine = "rebootVirtualMachine", RebootVirtualMachine = "rebootVirtualMachine",
  destroyVirtualMachine = "destroyVirtualMachine",
  changeServiceForVirtualMachine = "changeServiceForVirtualMachine",
  enableHAForVirtualMachine = "enableHAForVirtualMachine", EnableHAForVirtualMachine = "enableHAForVirtualMachine",
  resetPasswordForVirtualMachine = "resetPasswordForVirtualMachine",
  listVirtualMachines = "listVirtualMachines", listVirtualMachine = "listVirtualMachines",
  listTemplates = "listTemplates",
  listServiceOfferings = "listServiceOfferings",
  associateIPAddress = "associateIPAddress", associateIpAddress = "associateIPAddress",
  disassociateIPAddress = "disassociateIPAddress", disassociateIpAddress = "disassociateIPAddress",
  listIPAddresses = "listIPAddresses", listIPAddress = "listIPAddresses", listIpAddresses = "listIPAddresses",
  createOrUpdateIpForwardingRule = "createOrUpdateIpForwardingRule",
  deleteIpForwardingRule = "deleteIpForwardingRule",
  listIpForwardingRules = "listIpForwardingRules",
  createOrUpdateLoadBalancerRule = "createOrUpdateLoadBalancerRule",
  deleteLoadBalancerRule = "deleteLoadBalancerRule",
  listLoadBalancerRules = "listLoadBalancerRules",
  listZones = "listZones",
  listEvents = "listEvents",
  listAccountStatistics = "listAccountStatistics",
  login = "login",
  logout = "logout",
}
M.COMMANDS = COMMANDS

---------------------------------------------------------------------------------------------
-- Authentication
---------------------------------------------------------------------------------------------

--- The signature the server expects for a parameter set (params: name -> value, order: names).
--- Exposed for tests: M.signature(secret, params, names).
function M.signature(secret, params, names)
  local sorted = {}
  for _, n in ipairs(names) do
    if n:lower() ~= "signature" then sorted[#sorted + 1] = n end
  end
  table.sort(sorted, ordinal_less)
  local parts = {}
  for i, n in ipairs(sorted) do parts[i] = n .. "=" .. core.pct(params[n]) end
  local s = table.concat(parts, "&"):lower()
  return core.b64encode(core.hmac_sha1(secret, s)), s
end

local function cookie_value(headers, name)
  local c = headers and headers.cookie
  if type(c) == "table" then c = table.concat(c, "; ") end
  if type(c) ~= "string" then return nil end
  for pair in c:gmatch("[^;]+") do
    local k, v = pair:match("^%s*([^=]-)%s*=%s*(.-)%s*$")
    if k == name then return v end
  end
end

function Sim:session(headers)
  local id = cookie_value(headers, "JSESSIONID")
  if not id then return nil end
  local s = self.sessions[id]
  if not s then return nil end
  local now = self.now()
  if now - s.last > s.timeout then
    self.sessions[id] = nil
    return nil
  end
  s.last = now
  return s, id
end

-- Returns true, or nil + message.
function Sim:verify(params, order)
  local key, sig
  for _, n in ipairs(order) do
    local l = n:lower()
    if l == "apikey" then key = params[n] elseif l == "signature" then sig = params[n] end
  end
  if not key or not sig then return nil, AUTH_FAILED .. " (no session, no apiKey/signature)" end
  if key ~= self.credentials.api_key then return nil, AUTH_FAILED .. " (unknown apiKey)" end
  local expect = M.signature(self.credentials.secret_key, params, order)
  if expect ~= sig then return nil, AUTH_FAILED end
  return true
end

--- Ages every login session past its timeout (the "expired_session" fault): the next command
--- with its JSESSIONID is refused as the document says (401 "Unauthorized user.").
function Sim:expire_sessions()
  local now = self.now()
  for _, s in pairs(self.sessions) do s.last = now - s.timeout - 1 end
end

function Sim:login(params, fmt)
  local user, pass = params.username, params.password
  if not user or user == "" or not pass or pass == "" then
    return error_response(430, "Malformed parameters: username and password are required", fmt)
  end
  local c = self.credentials
  -- The document does not say whether the password is plain text; Cloud.com 2010 expected its
  -- MD5 hex digest. Both are accepted.
  local ok = user == c.username and (pass == c.password or pass:lower() == core.md5_hex(c.password))
  if not ok then
    return error_response(401, "failed to authenticate user " .. user .. ": " .. AUTH_FAILED, fmt)
  end
  local id = self:hex(32):upper()
  self.sessions[id] = { user = user, last = self.now(), timeout = SESSION_TIMEOUT }
  self:event("USER.LOGIN", "user has logged in")
  return render({ root = "login", fields = { { "description", "success" }, { "timeout", SESSION_TIMEOUT } } },
    fmt, 200, { ["set-cookie"] = "JSESSIONID=" .. id .. "; Path=/; HttpOnly" })
end

function Sim:logout(headers, fmt)
  local s, id = self:session(headers)
  local extra
  if s then
    self.sessions[id] = nil
    self:event("USER.LOGOUT", "user has logged out")
    extra = { ["set-cookie"] = "JSESSIONID=" .. id .. "; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT" }
  end
  return render({ root = "logout", fields = { { "description", "success" } } }, fmt, 200, extra)
end

---------------------------------------------------------------------------------------------
-- Entry points
---------------------------------------------------------------------------------------------

--- Handles one request: req = { method, path ("/client/api?..."), headers (lower-case), body }.
--- Returns status, headers, body.
function Sim:handle(req)
  self.requests = self.requests + 1
  local method = (req.method or "GET"):upper()
  local path, query = (req.path or "/"):match("^([^?]*)%??(.*)$")
  local headers = util.lower_headers(req.headers)
  local params, order = {}, {}
  parse_query(query, params, order)
  if method == "POST" and req.body and req.body ~= "" then
    local ct = headers["content-type"] or ""
    if ct == "" or ct:lower():find("application/x-www-form-urlencoded", 1, true) then
      parse_query(req.body, params, order)
    end
  end
  local fmt = (params.response and params.response:lower() == "json") and "json" or "xml"

  if path ~= "/client/api" and path ~= "/client/api/" and path ~= "" and path ~= "/" then
    return error_response(404, "not found: " .. path .. " (the API is at /client/api)", fmt)
  end
  if method ~= "GET" and method ~= "POST" then
    local s, h, b = error_response(405, "method " .. method .. " not allowed (GET or POST)", fmt)
    h["allow"] = "GET, POST"
    return s, h, b
  end

  local command = params.command
  if not command or command == "" then
    return error_response(430, "Malformed parameters: missing parameter command", fmt)
  end
  local hname = COMMANDS[command]
  if not hname then
    -- Cloud.com's permission check runs before the lookup: an unknown (or wrongly cased)
    -- command is refused as an authentication failure.
    return error_response(401, AUTH_FAILED .. " (unknown command '" .. command .. "')", fmt)
  end
  if hname == "login" then return self:login(params, fmt) end
  if hname == "logout" then return self:logout(headers, fmt) end

  if not self:session(headers) then
    local ok, msg = self:verify(params, order)
    if not ok then return error_response(401, msg, fmt) end
  end

  local p = {}
  for _, n in ipairs(order) do
    local l = n:lower()
    if p[l] == nil then p[l] = params[n] end
  end

  -- traffic accrues over the time the set of running machines held; a listing does not change
  -- it, so it need not walk every machine (100,000 of them) first
  if hname ~= "listZones" and hname ~= "listTemplates" and hname ~= "listServiceOfferings"
    and hname ~= "listVirtualMachines" and hname ~= "listIPAddresses" and hname ~= "listEvents"
    and hname ~= "listIpForwardingRules" and hname ~= "listLoadBalancerRules" then
    self:accrue()
  end
  local ok, model = pcall(H[hname], self, p)
  if not ok then
    local e = model
    if type(e) == "table" and e.api_error then return error_response(e.code, e.message, fmt) end
    return error_response(530, "Unknown server internal error: " .. tostring(e), fmt)
  end
  return render(model, fmt, 200)
end

--- The API's own answer to a fault. ReliaCloud documents no maintenance mode and no rate limit;
--- both are answered with its generic server error, 530 "Unknown server internal error.".
function Sim:fault(kind, fmt) -- luacheck: no unused args
  if kind == "maintenance" then
    return error_response(530, "Unknown server internal error. (the service is under maintenance)", fmt)
  elseif kind == "rate_limit" then
    -- The API has no rate limit and no "too many requests" code: a refusal can only be a 530.
    return error_response(530, "Unknown server internal error. (too many requests)", fmt)
  end
  return nil
end

local SEED_KINDS = {
  virtualmachine = "vm", virtualmachines = "vm", vm = "vm", server = "vm",
  ipaddress = "ip", ip = "ip", publicip = "ip",
  event = "event", events = "event",
}

--- Creates n objects of a kind ("virtualmachine", "ipaddress" or "event"); returns their ids.
function Sim:seed(kind, n)
  local k = SEED_KINDS[tostring(kind):lower()]
  if not k then error("unknown kind '" .. tostring(kind) .. "' (virtualmachine, ipaddress, event)", 0) end
  n = tonumber(n) or 1
  local ids = {}
  for i = 1, n do
    if k == "vm" then
      local zone = self.zones[(i - 1) % #self.zones + 1]
      local vm = self:create_vm(zone, self.templates[1], self.offerings[1], DEFAULT_NETWORK_DOMAIN)
      ids[i] = vm.id
    elseif k == "ip" then
      local ok, ip = pcall(self.allocate_ip, self, self.zones[1], false)
      if not ok then error("no free public ip address", 0) end
      ids[i] = ip.address
    else
      self:event("USER.LOGIN", "user has logged in")
      ids[i] = #self.events
    end
  end
  return ids
end

return M
