-- luacloud.sim.clodo: a stateful simulator of ClodoAPI 1.0 (Clodo.ru).
--
-- Lua 5.1-compatible (runs under nginx's LuaJIT and under Lua 5.4). No C core needed:
-- JSON comes from the simulator host (luacloud.sim), XML is written here and read by luacloud.sim.util.
--
-- Paths seen by `sim:handle` have the provider prefix stripped:
--   GET /                 authentication (X-Auth-User / X-Auth-Key -> 204, X-Auth-Token, X-Server-Management-Url)
--   /v1/...               management calls (X-Auth-Token required), base_url .. "/v1" is the management URL
-- Behaviour taken from the document (shared/seeds/clodo-api-1.0.md), with the choices below where it is silent:
--   * token valid 20 minutes from issue (opts.now), expired/unknown token -> 401 Unauthorized;
--   * per-user rate limits of the document's table (10 POST/min, 50 POST ^/servers per day, 10 PUT/min,
--     60 DELETE/min, 60 GET/min); a refused request gets 413 <OverLimit> (the document names no status),
--     GET /limits itself is not counted so that a client can always read when to retry;
--   * server status: is_installing -> is_running (create, rebuild), is_rebooting -> is_running, is_stopped;
--   * backup create/delete/restore return `req`; the work completes after a delay, /requests/<id> reports
--     req_complete 1 afterwards (0 before), getstate reports restore progress;
--   * error bodies: <Name code="N"><message/><details/></Name> or {"Name":{"code":N,"message":..,"details":..}}.

-- luacheck: ignore 212/self
local unpack = table.unpack or unpack

local M = {}

local CREDENTIALS = { user = "demo", key = "demo-key" }
local TOKEN_LIFETIME = 1200
local MSK = 3 * 3600 -- Moscow time offset for dates and the DAY limit reset

local DEFAULT_LIMITS = {
  { verb = "POST", uri = "*", regex = ".*", value = 10, unit = "MINUTE" },
  { verb = "POST", uri = "*/servers", regex = "^/servers", value = 50, unit = "DAY" },
  { verb = "PUT", uri = "*", regex = ".*", value = 10, unit = "MINUTE" },
  { verb = "DELETE", uri = "*", regex = ".*", value = 60, unit = "MINUTE" },
  { verb = "GET", uri = "*", regex = ".*", value = 60, unit = "MINUTE" },
}

local ERRORS = {
  [400] = { "BadRequest", "Bad Request" },
  [401] = { "Unauthorized", "Unauthorized" },
  [403] = { "Forbidden", "Forbidden" },
  [404] = { "NotFound", "Not Found" },
  [405] = { "MethodNotAllowed", "Method Not Allowed" },
  [413] = { "OverLimit", "Over Limit" },
  [500] = { "InternalServerError", "Internal Server Error" },
}

---------------------------------------------------------------------------------------------
-- JSON (from the host module, pure Lua) and XML
---------------------------------------------------------------------------------------------

local host_mod
local function host()
  if not host_mod then host_mod = require("luacloud.sim") end
  return host_mod
end

local function array(t) return host().array(t or {}) end


local util = require("luacloud.sim.util")
local xml_escape, is_array = util.xml_escape, util.is_array

-- XML node: { name = , attrs = { {k, v}, ... }, children = { node... } | text = string, raw = string }
local function xml_node(out, node, indent)
  local pad = string.rep("  ", indent)
  local a = {}
  for _, kv in ipairs(node.attrs or {}) do
    a[#a + 1] = " " .. kv[1] .. '="' .. xml_escape(kv[2] == nil and "" or kv[2]) .. '"'
  end
  local open = pad .. "<" .. node.name .. table.concat(a)
  if node.children and #node.children > 0 then
    out[#out + 1] = open .. ">"
    for _, c in ipairs(node.children) do xml_node(out, c, indent + 1) end
    out[#out + 1] = pad .. "</" .. node.name .. ">"
  elseif node.raw then
    out[#out + 1] = open .. ">" .. node.raw .. "</" .. node.name .. ">"
  elseif node.text ~= nil and node.text ~= "" then
    out[#out + 1] = open .. ">" .. xml_escape(node.text) .. "</" .. node.name .. ">"
  else
    out[#out + 1] = open .. "/>"
  end
end

local function xml_doc(node)
  local out = { '<?xml version="1.0" encoding="UTF-8"?>' }
  xml_node(out, node, 0)
  return table.concat(out, "\n") .. "\n"
end

-- Element with scalar children in the given key order.
local function el(name, tbl, keys)
  local node = { name = name, children = {} }
  for _, k in ipairs(keys) do
    local v = tbl[k]
    if type(v) == "table" then
      node.children[#node.children + 1] = v
    else
      if v == true then v = "1" elseif v == false then v = "" end
      node.children[#node.children + 1] = { name = k, text = v ~= nil and tostring(v) or "" }
    end
  end
  return node
end

local xml_parse = util.xml_values
M.xml_parse = xml_parse

---------------------------------------------------------------------------------------------
-- Helpers
---------------------------------------------------------------------------------------------

local copy = util.copy

local function fmt_date(t, style)
  t = math.floor(t + MSK)
  if style == "ru" then return os.date("!%d.%m.%Y %H:%M:%S", t) end
  if style == "day" then return os.date("!%d.%m.%Y", t) end
  return os.date("!%Y-%m-%d %H:%M:%S", t)
end

-- "YYYY-MM-DD HH:MM:SS" (Moscow) or a unix timestamp -> unix seconds
local function parse_time(v)
  if v == nil or v == "" then return nil end
  if type(v) == "number" then return v end
  v = tostring(v)
  if v:match("^%d+$") then return tonumber(v) end
  local y, mo, d, h, mi, s = v:match("^(%d%d%d%d)-(%d%d)-(%d%d)[ T](%d%d):(%d%d):?(%d*)$")
  if not y then
    y, mo, d = v:match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
    h, mi, s = "0", "0", "0"
  end
  if not y then return nil end
  -- a civil date in UTC, then shifted from Moscow time
  local days = util.days_from_civil(tonumber(y), tonumber(mo), tonumber(d))
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + (tonumber(s) or 0) - MSK
end
M.parse_time = parse_time

local function truthy(v)
  return v == true or v == 1 or v == "1" or v == "true"
end

local function sorted_ids(t)
  local ids = {}
  for k in pairs(t) do ids[#ids + 1] = k end
  table.sort(ids)
  return ids
end

local function rand_string(self, n, prefix)
  return (prefix or "") .. util.pick(self, util.lcg, "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", n)
end

local function hex(self, n) return util.pick(self, util.lcg, util.HEX, n) end

---------------------------------------------------------------------------------------------
-- The simulator
---------------------------------------------------------------------------------------------

local Sim = {}
Sim.__index = Sim

function M.new(opts)
  opts = opts or {}
  local self = setmetatable({
    now = opts.now or os.time,
    base_url = (opts.base_url and tostring(opts.base_url) or "http://127.0.0.1:8080/clodo"):gsub("/+$", ""),
    credentials = { user = CREDENTIALS.user, key = CREDENTIALS.key },
    durations = {
      install = 30, reboot = 10, backup_create = 40, backup_delete = 10, backup_restore = 60,
    },
  }, Sim)
  if type(opts.durations) == "table" then
    for k, v in pairs(opts.durations) do self.durations[k] = v end
  end
  self.base_durations = copy(self.durations) -- seed("speed", n) divides these
  self:reset()
  return self
end

function Sim:management_url()
  return self.base_url .. "/v1"
end

local IMAGES = {
  { id = 1, name = "Debian 5.0.6 64 bits", vps_type = "VirtualServer", os_type = "debian", os_bits = 64 },
  { id = 3, name = "CentOS 5.5 32 bits", vps_type = "VirtualServer", os_type = "centos", os_bits = 32 },
  { id = 381, name = "Debian 5.0.6 64 bits", vps_type = "ScaleServer", os_type = "debian", os_bits = 64 },
  { id = 531, name = "Debian 6 32 bits", vps_type = "ScaleServer", os_type = "debian", os_bits = 32 },
  { id = 541, name = "Debian 6 64 bits", vps_type = "ScaleServer", os_type = "debian", os_bits = 64 },
  { id = 551, name = "Debian 6 64 bits", vps_type = "VirtualServer", os_type = "debian", os_bits = 64 },
  { id = 561, name = "Debian 6 64 bits", vps_type = "VirtualServer", os_type = "debian", os_bits = 64 },
  { id = 27, name = "CentOS 6 64 bits", vps_type = "VirtualServer", os_type = "centos", os_bits = 64 },
}

local PRESET_FIELDS = {
  { title = "Логин администратора", name = "login", type = "login", req = 1 },
  { title = "Пароль администратора", name = "pass", type = "password", req = 1 },
  { title = "Почта администратора", name = "email", type = "email", req = 1 },
  { title = "Домен", name = "domain", type = "domain", req = 1 },
}

local PRESETS = {
  { id = 62, name = "bitrix", title = "Bitrix", os = 561,
    description = "<p>«1С-Битрикс: Управление сайтом» - профессиональная система управления веб-проектами</p>"
      .. "<ul><li>корпоративных сайтов</li><li>интернет-магазинов</li></ul>",
    extra = { { title = "Название сайта", name = "title", type = "string", req = 1 },
              { title = "Лицензия", name = "license", type = "string", req = 1 } } },
  { id = 322, name = "gitlabhq", title = "Gitlabhq", os = 561, description = "gitlabhq", extra = {} },
}

function Sim:reset()
  local now = self.now()
  self.rng = 12345
  self.tokens = {}
  self.users = {
    [CREDENTIALS.user] = { key = CREDENTIALS.key, id = 123, limits = {}, counters = {} },
  }
  for i, l in ipairs(DEFAULT_LIMITS) do self.users[CREDENTIALS.user].limits[i] = copy(l) end
  self.next_id = { server = 300, request = 3120121, zone = 10, record = 1000, ticket = 445823,
                   event = 3848243, storage = 10, log = 86097443 }
  self.servers = {}
  self.requests = {}
  self.busy, self.open_requests = {}, {}
  self.zones = {}
  self.tickets = {}
  self.storages = {}
  self.balance = 1234
  self.credits = {}
  self.profile = {
    users_id = 123, users_login = CREDENTIALS.user, users_last_visit = fmt_date(now - 3600),
    users_added = "2010-11-01 12:00:00", users_family = "Иванов", users_firstname = "Иван",
    users_lastname = "Иванович", users_profile_jabber = "", users_profile_email = "demo@example.ru",
    users_profile_phone = "", users_profile_icq = "", users_profile_skype = "",
    users_profile_facetype = "физ. лицо", users_profile_disableannounces = 0, users_profile_authsms = 0,
    default_vps_num = 60, default_storage_num = 1, scale_exists = 1, allow_change_facetype = 1,
  }
  -- documented sample data
  self:add_server({ id = 60, name = "main", imageId = 561, type = "VirtualServer", vps_memory = 2048,
    vps_memory_max = 2048, vps_hdd = 5, vps_admin = 1, status = "is_running",
    ips = { { addr = "188.127.237.202", primary = true }, { addr = "188.127.237.203" } },
    created = now - 86400 * 60 })
  self:add_server({ id = 186, name = "scale", imageId = 531, type = "ScaleServer", vps_memory = 512,
    vps_memory_max = 512, vps_hdd = 5, vps_admin = 1, status = "is_running",
    ips = { { addr = "188.127.245.119", primary = true }, { addr = "188.127.245.120" } },
    created = now - 86400 * 50 })
  local s60 = self.servers[60]
  s60.backups[2] = { file = 2, date = fmt_date(now - 86400), price = 0.05, size = 5, desc = "",
                     days = "1,2,3,4,5,6,7", time = "04:00", os_type = "debian" }
  s60.backups[3] = { file = 3, date = fmt_date(now - 86400 * 30), price = 0.05, size = 5, desc = "",
                     days = "", time = "00:00", os_type = "debian" }
  self.zones[1] = { id = 1, name = "example.ru", type = "MASTER", serial = 2012010101, records = {
    [1] = { id = 1, name = "example.ru", type = "SOA", content = "ns1.clodo.ru hostmaster.clodo.ru 2012010101",
      ttl = 86400, prio = 0 },
    [2] = { id = 2, name = "example.ru", type = "NS", content = "ns1.clodo.ru", ttl = 86400, prio = 0 },
    [3] = { id = 3, name = "www.example.ru", type = "A", content = "188.127.237.202", ttl = 3600, prio = 0 },
  } }
  self.tickets[299442] = { id = 299442, subject = "test req", text = "test", type_name = "Общие вопросы",
    status = "Обрабатывается", status_id = 1, open_date = "2011-09-26 16:45:19", operator_name = "Иван Петров",
    sla = 0, vote = 0, events = {}, works = {} }
  self.storages[1] = { id = 1, title = "storage", login = "storage_123_1", cluster = "cs1.clodo.ru:80",
    key = "CLODO_440233b83e04c723727aa2116f10a781", size = 19282934228,
    token = "CLODO_2f5e4af28424687f3f63047d581f36f2", is_default = 1, cache_xomcc = "0",
    cache_expires = "off", cache_bypass = "X-Cache-Bypass-xjKRssBE", cache_refererfilter = "",
    cache_publicsearch = 1, public_url = "", public_url_checked = "" }
end

function Sim:add_server(s)
  local now = self.now()
  local id = s.id
  if not id then
    id = self.next_id.server
    self.next_id.server = id + 1
  end
  local srv = {
    id = id, name = s.name or ("vps" .. id), imageId = s.imageId or 561, type = s.type or "VirtualServer",
    status = s.status or "is_running", until_t = s.until_t, next_status = s.next_status,
    vps_memory = s.vps_memory or 512, vps_memory_max = s.vps_memory_max or s.vps_memory or 512,
    vps_hdd = s.vps_hdd or 5, vps_admin = s.vps_admin or 1, created = s.created or now,
    vps_root_pass = rand_string(self, 10), vps_user_pass = rand_string(self, 10), vps_vnc_pass = rand_string(self, 10),
    ips = {}, backups = {}, log = {}, settings = {},
    vps_pay_period = s.vps_pay_period, vps_abonement = s.vps_abonement,
  }
  for i, ip in ipairs(s.ips or {}) do
    srv.ips[i] = { addr = ip.addr, primary = ip.primary and true or false, isp = false }
  end
  if #srv.ips == 0 then
    local n = id % 200 + 10
    srv.ips[1] = { addr = "62.76.176." .. n, primary = true, isp = false }
  end
  self.servers[id] = srv
  if srv.until_t then self.busy[srv] = true end
  return srv
end

--- seed(kind, n): adds n objects of a kind: "servers", "backups" (on the first server), "zones",
--- "records" (in the first zone), "tickets", "storages".
--- seed("speed", n): background work (install, reboot, backups, restore) runs n times faster in real
--- time (HTTP specs); seed("speed", 1) restores the documented delays. Not undone by reset().
function Sim:seed(kind, n)
  n = tonumber(n) or 1
  if kind == "speed" then
    if n < 1 then error("clodo sim: speed must be >= 1", 0) end
    for k, v in pairs(self.base_durations or {}) do self.durations[k] = v / n end
    return true
  end
  local first = sorted_ids(self.servers)[1]
  for _ = 1, n do
    if kind == "servers" or kind == "server" then
      self:add_server({})
    elseif kind == "backups" or kind == "backup" then
      local srv = self.servers[first] or self:add_server({})
      local f = #sorted_ids(srv.backups) + 2
      while srv.backups[f] do f = f + 1 end
      srv.backups[f] = { file = f, date = fmt_date(self.now()), price = 0.05, size = srv.vps_hdd, desc = "",
                         days = "", time = "00:00", os_type = "debian" }
    elseif kind == "zones" or kind == "zone" then
      local id = self.next_id.zone
      self.next_id.zone = id + 1
      self.zones[id] = { id = id, name = "zone" .. id .. ".ru", type = "MASTER", serial = 1, records = {} }
    elseif kind == "records" or kind == "record" then
      local zid = sorted_ids(self.zones)[1]
      local z = self.zones[zid]
      local rid = self.next_id.record
      self.next_id.record = rid + 1
      z.records[rid] = { id = rid, name = "h" .. rid .. "." .. z.name, type = "A", content = "10.0.0.1", ttl = 3600,
        prio = 0 }
    elseif kind == "tickets" or kind == "ticket" then
      local id = self.next_id.ticket
      self.next_id.ticket = id + 1
      -- a ticket an operator has answered and worked on (billed work, not yet accepted)
      local date = fmt_date(self.now())
      self.tickets[id] = { id = id, subject = "ticket " .. id, text = "seeded", type_name = "Общие вопросы",
        status = "Обрабатывается", status_id = 1, open_date = date, operator_name = "Иван Петров",
        sla = 0, vote = 0, new_events = true,
        events = { { ticket_events_id = id * 10 + 1, ticket_events_date = date, ticket_events_user_id = 54,
          ticket_events_text = "operator message", ticket_events_new_user = 0, users_name = "Иван Петров",
          is_user_msg = "", is_file = "" } },
        works = { { ticket_events_id = id * 10 + 2, ticket_events_date = date, ticket_events_user_id = 54,
          ticket_events_text = "work done", ticket_events_new_user = 0, users_name = "Иван Петров",
          is_user_msg = "", is_file = "", works_time = 2, works_cost = 1700, works_user_accept = -1,
          works_actions = "" } } }
    elseif kind == "storages" or kind == "storage" then
      self:create_storage_obj({ title = "storage" .. self.next_id.storage })
    else
      error("clodo sim: cannot seed " .. tostring(kind), 0)
    end
  end
  return true
end

---------------------------------------------------------------------------------------------
-- Responses
---------------------------------------------------------------------------------------------

local function want_xml(req)
  local a = req.headers and req.headers["accept"] or ""
  return a:find("xml", 1, true) ~= nil and a:find("json", 1, true) == nil
end

local function xml_headers()
  return { ["Content-Type"] = "application/xml; charset=UTF-8" }
end
local function json_headers()
  return { ["Content-Type"] = "application/json; charset=UTF-8" }
end

function Sim:error_response(xml, status, details)
  local e = ERRORS[status] or { "Error", "Error" }
  if xml then
    return status, xml_headers(), xml_doc({ name = e[1], attrs = { { "code", status } }, children = {
      { name = "message", text = e[2] }, { name = "details", text = details or "" } } })
  end
  local body = {}
  body[e[1]] = { code = status, message = e[2], details = details or "" }
  return status, json_headers(), host().json_encode(body)
end

-- ok(xml, json_table, xml_node): 200 with a body in the wanted format
local function ok(ctx, json_value, xml_node_value)
  if ctx.xml then
    return 200, xml_headers(), xml_doc(xml_node_value)
  end
  return 200, json_headers(), host().json_encode(json_value)
end

local function no_content()
  return 204, { ["Content-Type"] = "text/plain; charset=UTF-8" }, ""
end

--- Ages every token past its 20 minutes (the "expired_session" fault): "Срок действия данного
--- токена - 20 минут. По истечении данного времени необходимо заново произвести авторизацию"
--- (section 1); the next call answers 401 as an expired token does.
function Sim:expire_sessions()
  for _, t in pairs(self.tokens) do t.issued = self.now() - TOKEN_LIFETIME - 1 end
end

function Sim:fault(kind)
  if kind == "rate_limit" then
    return self:error_response(false, 413, "Превышен лимит запросов")
  elseif kind == "maintenance" then
    return self:error_response(false, 405, "функция временно недоступна")
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- Time-driven state
---------------------------------------------------------------------------------------------

-- Finishes due work. Only servers with work under way (self.busy) and open requests are
-- visited, so a request costs the same at 100,000 servers as at ten.
function Sim:settle()
  local now = self.now()
  for srv in pairs(self.busy) do
    if not srv.until_t then
      self.busy[srv] = nil
    elseif now >= srv.until_t then
      srv.status = srv.next_status or "is_running"
      srv.until_t, srv.next_status = nil, nil
      if srv.status == "is_running" then srv.started = srv.until_done or now end
      self.busy[srv] = nil
    end
  end
  for _, id in ipairs(sorted_ids(self.open_requests)) do
    local r = self.requests[id]
    if not r or r.done then
      self.open_requests[id] = nil
    elseif now >= r.started + r.duration then
      r.done = true
      r.done_at = r.started + r.duration
      if r.apply then r.apply(self) end
      r.apply = nil
      self.open_requests[id] = nil
    end
  end
end

function Sim:new_request(vps, kind, apply)
  local id = self.next_id.request
  self.next_id.request = id + 1
  self.requests[id] = { id = id, vps_num = vps, kind = kind, started = self.now(),
    duration = self.durations[kind] or 10, apply = apply }
  self.open_requests[id] = true
  return id
end

function Sim:log(srv, command)
  local id = self.next_id.log
  self.next_id.log = id + 1
  table.insert(srv.log, 1, { id = id, command = command, user = "Cloud API", date = fmt_date(self.now(), "ru"),
    status = "ОК" })
end

---------------------------------------------------------------------------------------------
-- Rate limits
---------------------------------------------------------------------------------------------

local function window(now, unit)
  if unit == "DAY" then
    local start = math.floor((now + MSK) / 86400) * 86400 - MSK
    return start, start + 86400
  elseif unit == "HOUR" then
    local start = math.floor(now / 3600) * 3600
    return start, start + 3600
  end
  local start = math.floor(now / 60) * 60
  return start, start + 60
end

local function rule_matches(rule, method, path)
  if rule.verb ~= method then return false end
  local re = rule.regex:gsub("^%s+", "")
  if re == ".*" or re == "" then return true end
  if re:sub(1, 1) == "^" then
    local lit = re:sub(2)
    return path:sub(1, #lit) == lit
  end
  return path:find(re, 1, true) ~= nil
end

-- remaining for rule i of a user now
function Sim:remaining(user, i)
  local rule = user.limits[i]
  local now = self.now()
  local start, reset = window(now, rule.unit)
  local c = user.counters[i]
  if not c or c.start ~= start then
    c = { start = start, n = 0 }
    user.counters[i] = c
  end
  return rule.value - c.n, reset
end

-- Returns nil when allowed (and counts), or the reset time of the exhausted rule.
function Sim:take(user, method, path)
  local matched = {}
  for i, rule in ipairs(user.limits) do
    if rule_matches(rule, method, path) then
      local rem, reset = self:remaining(user, i)
      if rem <= 0 then return reset, rule end
      matched[#matched + 1] = i
    end
  end
  for _, i in ipairs(matched) do
    user.counters[i].n = user.counters[i].n + 1
  end
  return nil
end

--- set_limit(verb, regex, value): changes one limit of the demo user (tests, support requests).
function Sim:set_limit(verb, regex, value, user_name)
  local user = self.users[user_name or CREDENTIALS.user]
  for _, rule in ipairs(user.limits) do
    if rule.verb == verb and rule.regex == regex then rule.value = value; return true end
  end
  return false
end

---------------------------------------------------------------------------------------------
-- Request bodies
---------------------------------------------------------------------------------------------

-- Returns params (flat table) and root name, or nil, message. Wrapped bodies ({"server":{..}},
-- <server>..</server>) are unwrapped; a single-parameter body (<file>2</file>, {"file":"2"}) gives
-- { file = "2" }; an action body (<rebuild imageId="27"/>, {"rebuild":{..}}) gives params + root.
local function parse_body(req)
  local body = req.body
  if body == nil or body:match("^%s*$") then return {}, nil end
  local ct = req.headers["content-type"] or ""
  local is_xml
  if ct:find("xml", 1, true) then is_xml = true
  elseif ct:find("json", 1, true) then is_xml = false
  else is_xml = body:match("^%s*<") ~= nil end
  if is_xml then
    local v, root = xml_parse(body)
    if v == nil then return nil, root end
    -- an empty wrapper (<dns/>, <dns></dns>: an update that changes nothing) holds no
    -- parameters; only a root with text is a single-parameter body (<file>2</file>)
    if type(v) == "string" and v:match("^%s*$") then return {}, root end
    if type(v) ~= "table" then
      local t = {}
      t[root] = v
      return t, root
    end
    local t = {}
    for k, x in pairs(v) do
      if type(x) == "table" and x.__list then x.__list = nil; t[k] = x else t[k] = x end
    end
    return t, root
  end
  local v, err = host().json_decode(body)
  if v == nil then return nil, err or "json: bad body" end
  if type(v) ~= "table" or is_array(v) then return nil, "json: expected an object" end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  if #keys == 1 and type(v[keys[1]]) == "table" and not is_array(v[keys[1]]) then
    return v[keys[1]], keys[1]
  end
  return v, nil
end
M.parse_body = parse_body

---------------------------------------------------------------------------------------------
-- Views
---------------------------------------------------------------------------------------------

local function server_ip_nodes(srv)
  local nodes, list = {}, array()
  for _, ip in ipairs(srv.ips) do
    local attrs = { { "addr", ip.addr } }
    local j = { ip = ip.addr }
    if ip.primary then
      attrs[2] = { "primary_ip", "1" }
      j.primary_ip = "1"
    end
    nodes[#nodes + 1] = { name = "ip", attrs = attrs }
    list[#list + 1] = j
  end
  return { name = "addresses", children = { { name = "public", children = nodes } } }, { public = list }
end

function Sim:image(id)
  for _, im in ipairs(IMAGES) do
    if im.id == tonumber(id) then return im end
  end
  return nil
end

local SUMMARY_KEYS = { "id", "name", "imageId", "type", "status", "os_type", "os_bits", "addresses" }
local DETAIL_KEYS = { "vps_memory", "vps_memory_max", "vps_mem_load", "vps_cpu_load", "vps_disk_load",
  "vps_os_title", "vps_os_version", "vps_os_bits", "vps_os_type", "id", "name", "imageId", "type", "status",
  "vps_vnc", "vps_cpu_max", "vps_cpu_1h_min", "vps_cpu_1h_max", "vps_mem_1h_min", "vps_mem_1h_max",
  "vps_hdd_load", "vps_hdd_max", "addresses", "vps_root_pass", "vps_user_pass", "vps_vnc_pass",
  "vps_createdate", "vps_billingdate", "vps_update", "vps_update_days", "vps_traff", "vps_traff_used",
  "vps_traff_free", "vps_traff_used_free" }

function Sim:server_view(srv, detail)
  local im = self:image(srv.imageId) or IMAGES[1]
  local now = self.now()
  local xaddr, jaddr = server_ip_nodes(srv)
  local v = { id = srv.id, name = srv.name, imageId = srv.imageId, type = srv.type, status = srv.status }
  if not detail then
    v.os_type, v.os_bits = im.os_type, im.os_bits
    local j = copy(v)
    j.addresses = jaddr
    v.addresses = xaddr
    return el("server", v, SUMMARY_KEYS), j
  end
  local started = srv.started or srv.created
  local days = math.floor((now - started) / 86400)
  local d = {
    vps_memory = srv.vps_memory, vps_memory_max = srv.vps_memory_max, vps_mem_load = "6.76",
    vps_cpu_load = srv.status == "is_running" and "1.67" or "0.00", vps_disk_load = 34,
    vps_os_title = im.name:match("^(%S+)"), vps_os_version = im.name:match("^%S+%s+(%S+)"),
    vps_os_bits = im.os_bits, vps_os_type = im.os_type, id = srv.id, name = srv.name, imageId = srv.imageId,
    type = srv.type, status = srv.status, vps_vnc = "188.127.239.206:59" .. string.format("%02d", srv.id % 100),
    vps_cpu_max = 2267, vps_cpu_1h_min = "0.00", vps_cpu_1h_max = "1.67", vps_mem_1h_min = "138.39",
    vps_mem_1h_max = "138.39", vps_hdd_load = 1694, vps_hdd_max = srv.vps_hdd,
    vps_root_pass = srv.vps_root_pass, vps_user_pass = srv.vps_user_pass, vps_vnc_pass = srv.vps_vnc_pass,
    vps_createdate = fmt_date(srv.created, "ru"),
    vps_billingdate = srv.type == "VirtualServer" and fmt_date(srv.created + 86400 * 30, "ru") or "",
    vps_update = fmt_date(started, "ru"), vps_update_days = "(" .. days .. " дн.)",
    vps_traff = srv.settings.vps_traff or "", vps_traff_used = srv.settings.vps_traff or "",
    vps_traff_free = "", vps_traff_used_free = "",
  }
  local j = copy(d)
  j.addresses = jaddr
  d.addresses = xaddr
  return el("server", d, DETAIL_KEYS), j
end

---------------------------------------------------------------------------------------------
-- Handlers
---------------------------------------------------------------------------------------------

local H = {}   -- routes: { method, pattern, handler }
local function route(methods, pattern, fn)
  for m in methods:gmatch("[^|]+") do H[#H + 1] = { m, "^" .. pattern .. "$", fn } end
end

local function need_server(self, ctx, id)
  local srv = self.servers[tonumber(id)]
  if not srv then return nil, { self:error_response(ctx.xml, 404, "VPS не найдена") } end
  return srv
end

local function int(v)
  if type(v) == "number" then return v end
  if type(v) == "string" and v:match("^%-?%d+$") then return tonumber(v) end
  return nil
end

route("GET", "/limits", function(self, ctx)
  local rates, nodes = array(), {}
  for i, rule in ipairs(ctx.user.limits) do
    local rem, reset = self:remaining(ctx.user, i)
    rates[i] = { verb = rule.verb, URI = rule.uri, regex = rule.regex, value = tostring(rule.value),
                 remaining = rem, unit = rule.unit, resetTime = reset }
    nodes[i] = { name = "limit", attrs = { { "verb", rule.verb }, { "URI", rule.uri }, { "regex", rule.regex },
      { "value", rule.value }, { "remaining", rem }, { "unit", rule.unit }, { "resetTime", reset } } }
  end
  return ok(ctx, { limits = { rate = rates } },
    { name = "limits", children = { { name = "rate", children = nodes } } })
end)

local function list_servers(self, ctx, detail)
  local ids = sorted_ids(self.servers)
  if #ids == 0 then return self:error_response(ctx.xml, 404, "серверов не найдено") end
  local nodes, list = {}, array()
  for i, id in ipairs(ids) do
    nodes[i], list[i] = self:server_view(self.servers[id], detail)
  end
  return ok(ctx, { servers = list }, { name = "servers", children = nodes })
end
route("GET", "/servers", function(self, ctx) return list_servers(self, ctx, false) end)
route("GET", "/servers/detail", function(self, ctx) return list_servers(self, ctx, true) end)

route("GET", "/servers/(%d+)", function(self, ctx, id)
  local srv = self.servers[tonumber(id)]
  if not srv then return self:error_response(ctx.xml, 404, "сервер не найден") end
  local x, j = self:server_view(srv, true)
  return ok(ctx, { server = j }, x)
end)

local VALID_ABON = { [1] = true, [3] = true, [6] = true, [12] = true }

route("POST", "/servers", function(self, ctx)
  local p = ctx.params
  local name = p.name or p.vps_title
  local mem, hdd, admin = int(p.vps_memory), int(p.vps_hdd), int(p.vps_admin)
  local os_id = int(p.vps_os)
  local preset
  if p.vps_os_preset ~= nil then
    for _, pr in ipairs(PRESETS) do
      if pr.id == int(p.vps_os_preset) then preset = pr end
    end
    if not preset then return self:error_response(ctx.xml, 400, "пресет не найден") end
    os_id = preset.os
  end
  if not name or name == "" then return self:error_response(ctx.xml, 400, "не указано название VPS") end
  if p.vps_type ~= "VirtualServer" and p.vps_type ~= "ScaleServer" then
    return self:error_response(ctx.xml, 400, "некорректный тип VPS")
  end
  if not mem or mem < 128 then return self:error_response(ctx.xml, 400, "некорректный размер памяти") end
  if not hdd or hdd < 1 then return self:error_response(ctx.xml, 400, "некорректный размер диска") end
  if admin ~= 1 and admin ~= 3 then return self:error_response(ctx.xml, 400, "некорректный тип поддержки") end
  if not os_id or not self:image(os_id) then return self:error_response(ctx.xml, 400, "ОС не найдена") end
  if p.vps_pay_period ~= nil and p.vps_pay_period ~= "h" and p.vps_pay_period ~= "m" then
    return self:error_response(ctx.xml, 400, "некорректный период оплаты")
  end
  local abon = p.vps_abonement ~= nil and int(p.vps_abonement) or nil
  if p.vps_abonement ~= nil and (not abon or not VALID_ABON[abon] or (p.vps_pay_period == "h" and abon ~= 1)) then
    return self:error_response(ctx.xml, 400, "некорректное количество периодов оплаты")
  end
  local now = self.now()
  local srv = self:add_server({ name = name, imageId = os_id, type = p.vps_type, vps_memory = mem,
    vps_memory_max = int(p.vps_memory_max) or mem, vps_hdd = hdd, vps_admin = admin, status = "is_installing",
    until_t = now + self.durations.install, next_status = "is_running",
    vps_pay_period = p.vps_pay_period, vps_abonement = abon })
  srv.ips[1].addr = "62.76.177." .. (srv.id % 250 + 1)
  self:log(srv, "Создание")
  return ok(ctx, { server = { id = srv.id, name = srv.name, imageId = srv.imageId, adminPass = srv.vps_root_pass } },
    el("server", { id = srv.id, name = srv.name, imageId = srv.imageId, adminPass = srv.vps_root_pass },
      { "id", "name", "imageId", "adminPass" }))
end)

local UPDATE_RANGES = {
  vps_memory = { 128, 65536 }, vps_memory_max = { 128, 65536 }, vps_hdd = { 1, 2000 }, vps_admin = { 1, 3 },
  vps_daylimit = { 0, 1e9 }, vps_swapsize = { 128, 6144 }, vps_hddshaper = { 0, 1 }, vps_traff = { 1, 100000 },
  vps_memblocksize = { 1, 2048 }, vps_minfreebytes = { 1, 1024 }, vps_meminterval = { 1, 86400 },
  vps_abonement = { 1, 12 }, newconfig_date = { 0, 23 }, vps_abonement_disabled = { 0, 1 },
}
local EXCLUSIVE = { modify_type = true, newconfig_date = true, vps_abonement_disabled = true }

route("PUT", "/servers/(%d+)", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local p, n, excl = ctx.params, 0, 0
  for k, v in pairs(p) do
    n = n + 1
    if EXCLUSIVE[k] then excl = excl + 1 end
    if k == "modify_type" then
      if v ~= "params" and v ~= "period" then return self:error_response(ctx.xml, 400, "некорректный modify_type") end
    elseif k == "vps_pay_period" then
      if v ~= "h" and v ~= "m" then return self:error_response(ctx.xml, 400, "некорректный период оплаты") end
    elseif UPDATE_RANGES[k] then
      local x = tonumber(v)
      if not x or x < UPDATE_RANGES[k][1] or x > UPDATE_RANGES[k][2] then
        return self:error_response(ctx.xml, 400, "некорректное значение " .. k)
      end
    else
      return self:error_response(ctx.xml, 400, "неизвестный параметр " .. tostring(k))
    end
  end
  if n == 0 then return self:error_response(ctx.xml, 400, "нет параметров") end
  if excl > 0 and n > 1 then
    return self:error_response(ctx.xml, 400, "дополнительные настройки изменяются по одному параметру за запрос")
  end
  for k, v in pairs(p) do
    if k == "vps_memory" or k == "vps_memory_max" or k == "vps_hdd" or k == "vps_admin" then
      srv[k] = tonumber(v)
    else
      srv.settings[k] = v
    end
  end
  self:log(srv, "Изменение параметров")
  return no_content()
end)

route("DELETE", "/servers/(%d+)", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  self.servers[srv.id] = nil
  return no_content()
end)

local PAY_TYPES = { ["1h"] = true, ["1m"] = true, ["3m"] = true, ["6m"] = true, ["12m"] = true }
route("GET", "/servers/(%d+)/change_type/", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local pt = ctx.params.pay_type
  if srv.type == "ScaleServer" then
    if pt == nil or not PAY_TYPES[pt] then
      return self:error_response(ctx.xml, 400, "некорректный период оплаты (pay_type)")
    end
    srv.type = "VirtualServer"
    srv.vps_pay_period = pt
  else
    srv.type = "ScaleServer"
  end
  self:log(srv, "Смена типа")
  return no_content()
end)

route("POST", "/servers/(%d+)/action", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local action = ctx.root
  local now = self.now()
  if srv.status == "is_installing" then
    return self:error_response(ctx.xml, 405, "функция временно недоступна: идет установка")
  end
  if action == "start" then
    srv.status, srv.started = "is_running", now
    self:log(srv, "Старт")
  elseif action == "stop" then
    srv.status = "is_stopped"
    self:log(srv, "Выключение")
  elseif action == "reboot" then
    srv.status, srv.until_t, srv.next_status = "is_rebooting", now + self.durations.reboot, "is_running"
    self.busy[srv] = true
    srv.started = now
    self:log(srv, "Перезагрузка")
  elseif action == "rebuild" then
    local image = int(ctx.params.imageId) or srv.imageId
    if not self:image(image) then return self:error_response(ctx.xml, 400, "ОС не найдена") end
    srv.imageId = image
    srv.status, srv.until_t, srv.next_status = "is_installing", now + self.durations.install, "is_running"
    self.busy[srv] = true
    if truthy(ctx.params.vps_isp) then srv.ips[1].isp = true end
    self:log(srv, "Переустановка ОС")
  else
    return self:error_response(ctx.xml, 400, "неизвестная команда " .. tostring(action))
  end
  return no_content()
end)

route("POST", "/stats/(%d+)", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local from, to = parse_time(ctx.params.from), parse_time(ctx.params.to)
  if not from or not to or to < from then return self:error_response(ctx.xml, 400, "некорректный период") end
  local now = self.now()
  if to > now then to = now end
  local first = math.max(from, srv.created)
  first = math.ceil(first / 60) * 60
  if first > to then return self:error_response(ctx.xml, 404, "записей не найдено") end
  if (to - first) / 60 > 1440 then first = to - 1440 * 60; first = math.ceil(first / 60) * 60 end
  local rows, nodes = array(), {}
  local keys = { "statdate", "cpu_sec", "cpu_perc", "mem_current", "mem_used", "net_rx", "net_tx", "hdd_read",
    "hdd_write" }
  local t = first
  while t <= to do
    local k = (t / 60) % 7
    local r = { statdate = t, cpu_sec = k % 2, cpu_perc = string.format("%.2f", k * 0.33),
      mem_current = srv.vps_memory * 1024, mem_used = 140000 + k * 100, net_rx = 10 + k, net_tx = 5 + k,
      hdd_read = 0, hdd_write = 30 + k }
    rows[#rows + 1] = r
    nodes[#nodes + 1] = el("row", r, keys)
    t = t + 60
  end
  return ok(ctx, { stats = { row = rows } }, { name = "stats", children = nodes })
end)

route("GET", "/servers/(%d+)/log/", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local list, nodes = array(), {}
  for i, l in ipairs(srv.log) do
    list[i] = copy(l)
    nodes[i] = el("log", l, { "id", "command", "user", "date", "status" })
  end
  return ok(ctx, { logs = list }, { name = "logs", children = nodes })
end)

-- Backups -----------------------------------------------------------------------------------

local BACKUP_KEYS = { "file", "date", "price", "size", "desc", "days", "time", "os_type" }

route("GET", "/servers/(%d+)/backup/getlist", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local list, nodes = array(), {}
  for _, f in ipairs(sorted_ids(srv.backups)) do
    local b = srv.backups[f]
    list[#list + 1] = { file = tostring(b.file), date = b.date, price = b.price, size = tostring(b.size),
      desc = b.desc, days = b.days, time = b.time, os_type = b.os_type }
    nodes[#nodes + 1] = el("backup", b, BACKUP_KEYS)
  end
  return ok(ctx, { backups = { backup = list } }, { name = "backups", children = nodes })
end)

local function req_response(ctx, root, id)
  local j = {}
  j[root] = { req = id }
  return ok(ctx, j, el(root, { req = id }, { "req" }))
end

route("GET|POST", "/servers/(%d+)/backup/create", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local file = ctx.params.file
  if file ~= nil and file ~= "" then
    file = int(file)
    if not file or not srv.backups[file] then return self:error_response(ctx.xml, 400, "резервная копия не найдена") end
  else
    file = 2
    while srv.backups[file] do file = file + 1 end
  end
  local im = self:image(srv.imageId) or IMAGES[1]
  local rid = self:new_request(srv.id, "backup_create", function(sim)
    local s = sim.servers[srv.id]
    if not s then return end
    local old = s.backups[file] or {}
    s.backups[file] = { file = file, date = fmt_date(sim.now()), price = 0.05, size = s.vps_hdd,
      desc = old.desc or "", days = old.days or "", time = old.time or "00:00", os_type = im.os_type }
  end)
  self:log(srv, "Создание резервной копии")
  return req_response(ctx, "backup_create", rid)
end)

route("POST", "/servers/(%d+)/backup/delete", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local file = int(ctx.params.file)
  if not file or not srv.backups[file] then return self:error_response(ctx.xml, 400, "резервная копия не найдена") end
  local rid = self:new_request(srv.id, "backup_delete", function(sim)
    local s = sim.servers[srv.id]
    if s then s.backups[file] = nil end
  end)
  return req_response(ctx, "backup_delete", rid)
end)

route("POST", "/servers/(%d+)/backup/restore", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local file = int(ctx.params.file)
  if not file or not srv.backups[file] then return self:error_response(ctx.xml, 400, "резервная копия не найдена") end
  local now = self.now()
  srv.status, srv.until_t, srv.next_status = "is_restoring", now + self.durations.backup_restore, "is_running"
  self.busy[srv] = true
  local rid = self:new_request(srv.id, "backup_restore", nil)
  self.requests[rid].restore = true
  self:log(srv, "Восстановление из резервной копии")
  return req_response(ctx, "backup_restore", rid)
end)

route("GET", "/servers/(%d+)/backup/getstate", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local r = self.requests[int(ctx.params.req) or -1]
  if not r or not r.restore or r.vps_num ~= srv.id then
    return self:error_response(ctx.xml, 400, "запрос на восстановление не найден")
  end
  local progress = r.done and 100 or math.floor((self.now() - r.started) * 100 / r.duration)
  return ok(ctx, { restore_state = { progress = progress } }, el("restore_state", { progress = progress },
    { "progress" }))
end)

local function valid_days(s)
  if type(s) ~= "string" then return false end
  if s == "" then return true end
  for d in (s .. ","):gmatch("([^,]*),") do
    if not d:match("^[1-7]$") then return false end
  end
  return true
end

route("POST", "/servers/(%d+)/backup/setcal", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local p = ctx.params
  local b = srv.backups[int(p.file) or -1]
  if not b then return self:error_response(ctx.xml, 400, "резервная копия не найдена") end
  local days = p.backups_days ~= nil and tostring(p.backups_days) or nil
  local h, m = tostring(p.backups_time or ""):match("^(%d%d?):(%d%d)$")
  if not valid_days(days) then return self:error_response(ctx.xml, 400, "некорректный список дней") end
  if not h or tonumber(h) > 23 or tonumber(m) > 59 then return self:error_response(ctx.xml, 400,
    "некорректное время") end
  b.days, b.time = days, string.format("%02d:%s", tonumber(h), m)
  return no_content()
end)

route("POST", "/servers/(%d+)/backup/setdesc", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local b = srv.backups[int(ctx.params.file) or -1]
  if not b then return self:error_response(ctx.xml, 400, "резервная копия не найдена") end
  if ctx.params.desc == nil then return self:error_response(ctx.xml, 400, "не указано описание") end
  b.desc = tostring(ctx.params.desc)
  return no_content()
end)

-- IPs ---------------------------------------------------------------------------------------

route("GET", "/servers/(%d+)/ips", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local list, nodes = array(), {}
  for i, ip in ipairs(srv.ips) do
    list[i] = { ip = ip.addr, is_primary = ip.primary, isp = ip.isp }
    nodes[i] = { name = "ip", attrs = { { "addr", ip.addr }, { "is_primary", ip.primary and "1" or "" },
                                        { "isp", ip.isp and "1" or "" } } }
  end
  return ok(ctx, { addresses = { public = list } },
    { name = "addresses", children = { { name = "public", children = nodes } } })
end)

function Sim:ip_owner(addr)
  for _, srv in pairs(self.servers) do
    for i, ip in ipairs(srv.ips) do
      if ip.addr == addr then return srv, i end
    end
  end
  return nil
end

route("PUT", "/servers/(%d+)/ips", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local subnet = ctx.params.subnet
  local prefix = "62.76.176."
  if subnet ~= nil and subnet ~= "" then
    prefix = tostring(subnet):match("^(%d+%.%d+%.%d+%.)%*$")
    if not prefix then return self:error_response(ctx.xml, 400, "некорректная подсеть") end
  end
  for n = 2, 254 do
    if not self:ip_owner(prefix .. n) then
      srv.ips[#srv.ips + 1] = { addr = prefix .. n, primary = false, isp = false }
      return no_content()
    end
  end
  return self:error_response(ctx.xml, 400, "нет свободных адресов в подсети")
end)

route("DELETE", "/servers/(%d+)/ips", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local owner, i = self:ip_owner(ctx.params.ip)
  if owner ~= srv then return self:error_response(ctx.xml, 400, "адрес не найден") end
  if srv.ips[i].primary then return self:error_response(ctx.xml, 400, "нельзя удалить основной адрес") end
  table.remove(srv.ips, i)
  return no_content()
end)

route("GET", "/servers/(%d+)/ips/moveip/", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local owner, i = self:ip_owner(ctx.params.ip)
  if not owner then return self:error_response(ctx.xml, 400, "адрес не найден") end
  if owner.ips[i].primary then
    return self:error_response(ctx.xml, 400, "Переносится могут только дополнительные адреса сервера!")
  end
  if owner ~= srv then
    local ip = table.remove(owner.ips, i)
    srv.ips[#srv.ips + 1] = ip
  end
  return no_content()
end)

route("GET", "/servers/(%d+)/ips/getsubnets/", function(self, ctx, id)
  local srv, err = need_server(self, ctx, id)
  if not srv then return unpack(err) end
  local list, nodes = array(), {}
  for _, net in ipairs({ "62.76.176.*", "62.76.177.*", "62.76.178.*", "188.127.237.*" }) do
    local prefix = net:sub(1, -2)
    local cur = "0"
    for _, ip in ipairs(srv.ips) do
      if ip.addr:sub(1, #prefix) == prefix then cur = "1" end
    end
    list[#list + 1] = { ip_subnet = net, current = cur }
    nodes[#nodes + 1] = el("net", { ip_subnet = net, current = cur }, { "ip_subnet", "current" })
  end
  return ok(ctx, { nets = list }, { name = "nets", children = nodes })
end)

-- DNS ---------------------------------------------------------------------------------------

local RECORD_TYPES = { "A", "AAAA", "CNAME", "MX", "NS", "TXT", "SRV", "PTR", "SOA" }
local RECORD_KEYS = { "id", "domain_id", "name", "type", "content", "ttl", "prio" }

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

route("GET", "/dns/", function(self, ctx)
  local rev, revn, doms, domn = array(), {}, array(), {}
  for _, sid in ipairs(sorted_ids(self.servers)) do
    local srv = self.servers[sid]
    for _, ip in ipairs(srv.ips) do
      local a, b, c, d = ip.addr:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
      local r = { ip_value = ip.addr, virtual_mashines_title = srv.name,
        reverse_value = srv.name .. ".clodo.ru", domain_value = c .. "." .. b .. "." .. a .. ".in-addr.arpa" }
      rev[#rev + 1] = r
      revn[#revn + 1] = el("zone", r, { "ip_value", "virtual_mashines_title", "reverse_value", "domain_value" })
      local _ = d
    end
  end
  for _, zid in ipairs(sorted_ids(self.zones)) do
    local z = self.zones[zid]
    local d = { id = z.id, name = z.name, type = z.type, records_count = count(z.records) }
    doms[#doms + 1] = d
    domn[#domn + 1] = el("domain", d, { "id", "name", "type", "records_count" })
  end
  return ok(ctx, { dns = { reverse = rev, domains = doms } },
    { name = "dns", children = { { name = "reverse", children = revn }, { name = "domains", children = domn } } })
end)

route("PUT", "/dns/", function(self, ctx)
  local p = ctx.params
  local name = p.newdomain
  if type(name) ~= "string" or not name:match("^[%w%-%.]+%.[%a]+%.?$") then
    return self:error_response(ctx.xml, 400, "некорректное имя зоны")
  end
  if p.newdomain_type ~= "MASTER" and p.newdomain_type ~= "SLAVE" then
    return self:error_response(ctx.xml, 400, "некорректный тип зоны")
  end
  if p.newdomain_type == "SLAVE" and (p.slave_addr == nil or p.slave_addr == "") then
    return self:error_response(ctx.xml, 400, "не указан адрес мастер-сервера")
  end
  for _, z in pairs(self.zones) do
    if z.name == name then return self:error_response(ctx.xml, 400, "зона уже существует") end
  end
  local id = self.next_id.zone
  self.next_id.zone = id + 1
  local serial = tonumber(os.date("!%Y%m%d", math.floor(self.now())) .. "01")
  self.zones[id] = { id = id, name = name, type = p.newdomain_type, master = p.slave_addr, serial = serial,
    records = {} }
  if p.newdomain_type == "MASTER" then
    local rid = self.next_id.record
    self.next_id.record = rid + 2
    self.zones[id].records[rid] = { id = rid, name = name, type = "SOA",
      content = "ns1.clodo.ru hostmaster.clodo.ru " .. serial, ttl = 86400, prio = 0 }
    self.zones[id].records[rid + 1] = { id = rid + 1, name = name, type = "NS", content = "ns1.clodo.ru", ttl = 86400,
      prio = 0 }
  end
  return ok(ctx, { dns = { id = id } }, el("dns", { id = id }, { "id" }))
end)

local function need_zone(self, ctx, id)
  local z = self.zones[tonumber(id)]
  if not z then return nil, { self:error_response(ctx.xml, 404, "зона не найдена") } end
  return z
end

route("GET", "/dns/(%d+)", function(self, ctx, id)
  local z, err = need_zone(self, ctx, id)
  if not z then return unpack(err) end
  local types, tnodes = array(), {}
  for i, t in ipairs(RECORD_TYPES) do
    types[i] = t
    tnodes[i] = { name = "record_type", text = t }
  end
  local recs, rnodes = array(), {}
  for _, rid in ipairs(sorted_ids(z.records)) do
    local r = copy(z.records[rid])
    r.domain_id = z.id
    recs[#recs + 1] = r
    rnodes[#rnodes + 1] = el("record", r, RECORD_KEYS)
  end
  return ok(ctx, { dns = { record_types = types, records = recs } },
    { name = "dns", children = { { name = "record_types", children = tnodes }, { name = "records",
      children = rnodes } } })
end)

local VALID_TYPE = {}
for _, t in ipairs(RECORD_TYPES) do VALID_TYPE[t] = true end

route("POST", "/dns/(%d+)", function(self, ctx, id)
  local z, err = need_zone(self, ctx, id)
  if not z then return unpack(err) end
  local changes, new = {}, {}
  for k, v in pairs(ctx.params) do
    local field, rid = tostring(k):match("^(%l+)_(%d+)$")
    if k == "domain_master" then
      if z.type ~= "SLAVE" then return self:error_response(ctx.xml, 400, "зона не является SLAVE-зоной") end
    elseif field == "name" or field == "type" or field == "content" or field == "ttl" or field == "prio" then
      local bucket = rid:sub(1, 1) == "0" and new or changes
      bucket[rid] = bucket[rid] or {}
      bucket[rid][field] = v
    else
      return self:error_response(ctx.xml, 400, "неизвестный параметр " .. tostring(k))
    end
  end
  for rid, ch in pairs(changes) do
    if not z.records[tonumber(rid)] then return self:error_response(ctx.xml, 400, "запись " .. rid .. " не найдена") end
    if ch.type and not VALID_TYPE[ch.type] then return self:error_response(ctx.xml, 400, "некорректный тип записи") end
    if ch.ttl and not tonumber(ch.ttl) then return self:error_response(ctx.xml, 400, "некорректный TTL") end
  end
  for _, ch in pairs(new) do
    if not ch.name or not ch.type or not ch.content then
      return self:error_response(ctx.xml, 400, "для новой записи нужны name, type и content")
    end
    if not VALID_TYPE[ch.type] then return self:error_response(ctx.xml, 400, "некорректный тип записи") end
  end
  if ctx.params.domain_master then z.master = ctx.params.domain_master end
  for rid, ch in pairs(changes) do
    local r = z.records[tonumber(rid)]
    for f, v in pairs(ch) do r[f] = (f == "ttl" or f == "prio") and tonumber(v) or v end
  end
  for _, rid in ipairs(sorted_ids(new)) do
    local ch = new[rid]
    local nid = self.next_id.record
    self.next_id.record = nid + 1
    z.records[nid] = { id = nid, name = ch.name, type = ch.type, content = ch.content,
      ttl = tonumber(ch.ttl) or 3600, prio = tonumber(ch.prio) or 0 }
  end
  z.serial = z.serial + 1
  return no_content()
end)

route("DELETE", "/dns/(%d+)", function(self, ctx, id)
  local z, err = need_zone(self, ctx, id)
  if not z then return unpack(err) end
  local rec = ctx.params.delete_record
  if rec == nil then
    self.zones[z.id] = nil
    return no_content()
  end
  if not z.records[int(rec) or -1] then return self:error_response(ctx.xml, 400, "запись не найдена") end
  z.records[int(rec)] = nil
  z.serial = z.serial + 1
  return ok(ctx, { dns = { new_soa = z.serial } }, el("dns", { new_soa = z.serial }, { "new_soa" }))
end)

-- Helpdesk ----------------------------------------------------------------------------------

local EVENT_KEYS = { "ticket_events_id", "ticket_events_date", "ticket_events_user_id", "ticket_events_text",
  "ticket_events_new_user", "users_name", "is_user_msg", "is_file" }
-- paid work an operator did on a ticket: an event plus its time, cost and the user's acceptance
local WORK_KEYS = { "ticket_events_id", "ticket_events_date", "ticket_events_user_id", "ticket_events_text",
  "ticket_events_new_user", "users_name", "is_user_msg", "is_file", "works_time", "works_cost",
  "works_user_accept", "works_actions" }

route("GET", "/helpdesk/", function(self, ctx)
  local list, nodes = array(), {}
  for _, id in ipairs(sorted_ids(self.tickets)) do
    local t = self.tickets[id]
    local v = { id = t.id, subject = t.subject, status = t.status, type_name = t.type_name,
      open_date = t.open_date, status_id = t.status_id, is_new_events = t.new_events and "1" or "" }
    list[#list + 1] = v
    nodes[#nodes + 1] = el("ticket", v, { "id", "subject", "status", "type_name", "open_date", "status_id",
      "is_new_events" })
  end
  return ok(ctx, { helpdesk = { tickets = list } },
    { name = "helpdesk", children = { { name = "tickets", children = nodes } } })
end)

route("GET", "/helpdesk/(%d+)", function(self, ctx, id)
  local t = self.tickets[tonumber(id)]
  if not t then return self:error_response(ctx.xml, 404, "запрос не найден") end
  local tv = { id = t.id, text = t.text, subject = t.subject, status = t.status, status_id = t.status_id,
    type_name = t.type_name, open_date = t.open_date, operator_name = t.operator_name, sla = t.sla, vote = t.vote }
  local ev, evn = array(), {}
  for i, e in ipairs(t.events) do
    ev[i] = copy(e)
    evn[i] = el("event", e, EVENT_KEYS)
  end
  local wk, wkn = array(), {}
  for i, w in ipairs(t.works) do
    wk[i] = copy(w)
    wkn[i] = el("work", w, WORK_KEYS)
  end
  t.new_events = false
  return ok(ctx, { helpdesk = { ticket = tv, events = ev, works = wk } },
    { name = "helpdesk", children = {
      el("ticket", tv, { "id", "text", "subject", "status", "status_id", "type_name", "open_date", "operator_name",
        "sla", "vote" }),
      { name = "events", children = evn }, { name = "works", children = wkn } } })
end)

route("POST", "/helpdesk/", function(self, ctx)
  local p = ctx.params
  if not int(p.tickets_type) or not p.tickets_subj or p.tickets_subj == "" or not p.tickets_text
    or p.tickets_text == "" then
    return self:error_response(ctx.xml, 400, "не указан раздел, тема или текст сообщения")
  end
  local vps = int(p.virtual_mashines_num)
  if vps and vps ~= 0 and not self.servers[vps] then return self:error_response(ctx.xml, 400, "VPS не найдена") end
  local id = self.next_id.ticket
  self.next_id.ticket = id + 1
  self.tickets[id] = { id = id, subject = p.tickets_subj, text = p.tickets_text, type_name = "Общие вопросы",
    status = "Обрабатывается", status_id = 1, open_date = fmt_date(self.now()), operator_name = "",
    sla = truthy(p.tickets_sla_type) and 1 or 0, vote = 0, events = {}, works = {}, vps = vps }
  return no_content()
end)

route("POST", "/helpdesk/(%d+)", function(self, ctx, id)
  local t = self.tickets[tonumber(id)]
  if not t then return self:error_response(ctx.xml, 404, "запрос не найден") end
  local text = ctx.params.text
  if type(text) ~= "string" or text == "" then return self:error_response(ctx.xml, 400, "пустое сообщение") end
  local eid = self.next_id.event
  self.next_id.event = eid + 1
  t.events[#t.events + 1] = { ticket_events_id = eid, ticket_events_date = fmt_date(self.now()),
    ticket_events_user_id = 123, ticket_events_text = text, ticket_events_new_user = 0,
    users_name = self.profile.users_firstname .. " " .. self.profile.users_family, is_user_msg = "1", is_file = "" }
  return no_content()
end)

-- User --------------------------------------------------------------------------------------

local READ_ONLY = { users_id = true, users_login = true, users_last_visit = true, users_added = true,
  users_balance = true, scale_exists = true, allow_change_facetype = true }

route("GET", "/user/", function(self, ctx)
  local p = copy(self.profile)
  p.users_balance = self.balance
  local keys = sorted_ids(p)
  local dcs = array({ { id = 1, apihost = "api.oversun.clodo.ru", title = "Oversun" },
    { id = 2, apihost = "api.kh.clodo.ru", title = "KIAE House" }, { id = 3, apihost = "api.mn.clodo.ru",
      title = "Miran" } })
  local ips = array({ { ip = "127.0.0.1" } })
  local log = array({ { auth_date = fmt_date(self.now() - 3600), auth_ip = "127.0.0.1", auth_status = "ОК" } })
  local node = el("user", p, keys)
  local function list(name, item, rows, ks)
    local n = { name = name, children = {} }
    for i, r in ipairs(rows) do n.children[i] = el(item, r, ks) end
    node.children[#node.children + 1] = n
  end
  list("dcs", "dc", dcs, { "id", "apihost", "title" })
  list("auth_ips", "auth_ip", ips, { "ip" })
  list("auth_log", "auth", log, { "auth_date", "auth_ip", "auth_status" })
  local j = copy(p)
  j.dcs, j.auth_ips, j.auth_log = dcs, ips, log
  return ok(ctx, { user = j }, node)
end)

route("POST", "/user/update", function(self, ctx)
  local n = 0
  for k, v in pairs(ctx.params) do
    if READ_ONLY[k] then return self:error_response(ctx.xml, 400, "параметр " .. k .. " не изменяется") end
    if not (k:match("^users_") or k == "default_vps_num" or k == "default_storage_num") then
      return self:error_response(ctx.xml, 400, "неизвестный параметр " .. k)
    end
    if type(v) == "table" then return self:error_response(ctx.xml, 400, "некорректное значение " .. k) end
    n = n + 1
  end
  if n == 0 then return self:error_response(ctx.xml, 400, "нет параметров") end
  for k, v in pairs(ctx.params) do self.profile[k] = v end
  return no_content()
end)

-- Storage -----------------------------------------------------------------------------------

local STORAGE_SETTINGS = { "title", "cache_xomcc", "cache_expires", "cache_bypass", "cache_refererfilter",
  "cache_publicsearch" }
local STORAGE_DETAIL = { "id", "title", "login", "cluster", "key", "size", "is_default", "cache_xomcc", "cache_expires",
  "cache_bypass", "cache_refererfilter", "cache_publicsearch", "public_url", "public_url_checked" }

function Sim:create_storage_obj(p)
  local id = self.next_id.storage
  self.next_id.storage = id + 1
  local s = { id = id, title = p.title, login = "storage_123_" .. id, cluster = "cs1.clodo.ru:80",
    key = "CLODO_" .. hex(self, 32), apikey = "CLODO_" .. hex(self, 32), size = 0, token = "CLODO_" .. hex(self, 32),
    is_default = 0, cache_xomcc = p.cache_xomcc or "0", cache_expires = p.cache_expires or "off",
    cache_bypass = p.cache_bypass or "", cache_refererfilter = p.cache_refererfilter or "",
    cache_publicsearch = p.cache_publicsearch or 0, public_url = "", public_url_checked = "" }
  self.storages[id] = s
  return s
end

route("GET", "/storage/", function(self, ctx)
  local list, nodes = array(), {}
  local keys = { "id", "title", "login", "cluster", "key", "size", "token" }
  for _, id in ipairs(sorted_ids(self.storages)) do
    local s = self.storages[id]
    local v = {}
    for _, k in ipairs(keys) do v[k] = s[k] end
    list[#list + 1] = v
    nodes[#nodes + 1] = el("storage", v, keys)
  end
  return ok(ctx, { storages = list }, { name = "storages", children = nodes })
end)

route("GET", "/storage/(%d+)/detail", function(self, ctx, id)
  local s = self.storages[tonumber(id)]
  if not s then return self:error_response(ctx.xml, 404, "хранилище не найдено") end
  local v = {}
  for _, k in ipairs(STORAGE_DETAIL) do v[k] = s[k] end
  return ok(ctx, { storage = v }, el("storage", v, STORAGE_DETAIL))
end)

local function check_storage_params(p)
  for k, v in pairs(p) do
    local known = false
    for _, s in ipairs(STORAGE_SETTINGS) do if s == k then known = true end end
    if not known or type(v) == "table" then return "неизвестный параметр " .. tostring(k) end
  end
  if p.cache_publicsearch ~= nil and tostring(p.cache_publicsearch) ~= "0"
    and tostring(p.cache_publicsearch) ~= "1" then
    return "некорректное значение cache_publicsearch"
  end
  if p.title ~= nil and (type(p.title) ~= "string" or p.title == "") then return "некорректное название" end
  return nil
end

route("POST", "/storage/(%d+)", function(self, ctx, id)
  local s = self.storages[tonumber(id)]
  if not s then return self:error_response(ctx.xml, 404, "хранилище не найдено") end
  local bad = check_storage_params(ctx.params)
  if bad then return self:error_response(ctx.xml, 400, "ошибка сохранения изменений: " .. bad) end
  local changed, keys = {}, {}
  for _, k in ipairs(STORAGE_SETTINGS) do
    local v = ctx.params[k]
    if v ~= nil and tostring(v) ~= tostring(s[k]) then
      s[k] = v
      changed[k] = v
      keys[#keys + 1] = k
    end
  end
  if #keys == 0 then return no_content() end
  return ok(ctx, { storage = changed }, el("storage", changed, keys))
end)

route("PUT", "/storage/", function(self, ctx)
  local bad = check_storage_params(ctx.params)
  if bad or not ctx.params.title then
    return self:error_response(ctx.xml, 400, "ошибка создания хранилища" .. (bad and (": " .. bad) or ""))
  end
  local s = self:create_storage_obj(ctx.params)
  local v = { id = s.id, login = s.login, cluster = s.cluster, key = s.apikey, storagekey = s.key }
  return ok(ctx, { storage = v }, el("storage", v, { "id", "login", "cluster", "key", "storagekey" }))
end)

route("DELETE", "/storage/(%d+)", function(self, ctx, id)
  if not self.storages[tonumber(id)] then return self:error_response(ctx.xml, 404, "хранилище не найдено") end
  self.storages[tonumber(id)] = nil
  return no_content()
end)

-- Requests, billing, images ----------------------------------------------------------------

route("GET", "/requests/(%d+)", function(self, ctx, id)
  local r = self.requests[tonumber(id)]
  if not r then return self:error_response(ctx.xml, 404, "запрос не найден") end
  local v = { vps_num = r.vps_num or "", req_complete = r.done and 1 or 0,
    req_complete_date = r.done and fmt_date(r.done_at) or "", req_requests_inwork = fmt_date(r.started) }
  return ok(ctx, { request = v }, el("request", v, { "vps_num", "req_complete", "req_complete_date",
    "req_requests_inwork" }))
end)

route("GET", "/billing/balance", function(self, ctx)
  return ok(ctx, { balance = self.balance }, { name = "balance", text = tostring(self.balance) })
end)

local function billing(self, ctx, id)
  if id and not self.servers[tonumber(id)] then return self:error_response(ctx.xml, 404, "записей не найдено") end
  local now = self.now()
  local day_start = math.floor((now + MSK) / 86400) * 86400 - MSK
  local from = ctx.params.from ~= nil and parse_time(ctx.params.from) or day_start
  local to = ctx.params.to ~= nil and parse_time(ctx.params.to) or now
  if not from or not to or to < from then return self:error_response(ctx.xml, 400, "некорректный период") end
  local servers = {}
  for _, sid in ipairs(sorted_ids(self.servers)) do
    if not id or sid == tonumber(id) then
      local s = self.servers[sid]
      local a, b = math.max(from, s.created), math.min(to, now)
      if b > a then servers[#servers + 1] = { s, (b - a) / 3600 } end
    end
  end
  if #servers == 0 then return self:error_response(ctx.xml, 404, "записей не найдено") end
  local debits, order = {}, {}
  local total = 0
  local function add(kind, amount, cnt)
    if not debits[kind] then
      debits[kind] = { debits_amount = 0, debits_count = 0 }
      order[#order + 1] = kind
    end
    debits[kind].debits_amount = debits[kind].debits_amount + amount
    debits[kind].debits_count = debits[kind].debits_count + cnt
    total = total + amount
  end
  for _, e in ipairs(servers) do
    local s, hours = e[1], e[2]
    if s.type == "VirtualServer" then
      add("vps", hours * 1.35, hours)
    else -- a ScaleServer pays for the memory and the CPU it used (the sample's mem and cpu groups)
      add("mem", hours * s.vps_memory / 1000, hours * 100)
      add("cpu", hours * 0.025, hours * 60)
    end
    add("vbd", hours * 0.0158 * s.vps_hdd, hours * 30)
    local nb = count(s.backups)
    if nb > 0 then add("backup", hours * 0.05 * nb, hours * 5 * nb) end
  end
  -- cloud storage: by the size held over the period (at least 1 GB per storage)
  local span = (math.min(to, now) - from) / 3600
  if not id and span > 0 then
    for _, sid in ipairs(sorted_ids(self.storages)) do
      local gb = math.max(1, (tonumber(self.storages[sid].size) or 0) / 1073741824)
      add("cloudstoragesize", span * gb * 0.01, span * gb)
    end
  end
  local function r2(x) return math.floor(x * 100 + 0.5) / 100 end
  local jd, dnodes = {}, {}
  for _, k in ipairs(order) do
    jd[k] = { debits_amount = r2(debits[k].debits_amount), debits_count = r2(debits[k].debits_count) }
    dnodes[#dnodes + 1] = el(k, jd[k], { "debits_amount", "debits_count" })
  end
  local credits, cnodes = array(), {}
  for i, c in ipairs(self.credits) do
    credits[i] = copy(c)
    cnodes[i] = el("credit", c, { "date", "amount" })
  end
  local v = { total_debit_amount = r2(total), total_credit_amount = 0, period = fmt_date(from, "day") }
  local node = el("billing", v, { "total_debit_amount", "total_credit_amount", "period" })
  node.children[#node.children + 1] = { name = "debits", children = dnodes }
  node.children[#node.children + 1] = { name = "credits", children = cnodes }
  v.debits, v.credits = jd, credits
  return ok(ctx, { billing = v }, node)
end
route("GET|POST", "/billing", function(self, ctx) return billing(self, ctx, nil) end)
route("GET|POST", "/billing/(%d+)", function(self, ctx, id) return billing(self, ctx, id) end)

local function images(_, ctx, detail)
  local list, nodes = array(), {}
  for _, im in ipairs(IMAGES) do
    local v = { id = im.id, name = im.name, vps_type = im.vps_type, status = "ACTIVE" }
    local node = { name = "image", attrs = { { "id", im.id }, { "name", im.name }, { "vps_type", im.vps_type },
      { "status", "ACTIVE" } } }
    if detail then
      v.os_type, v.os_bits, v.os_hvm = im.os_type, im.os_bits, 0
      node.children = { { name = "os_type", text = im.os_type }, { name = "os_bits", text = tostring(im.os_bits) },
        { name = "os_hvm", text = "0" } }
    end
    list[#list + 1] = v
    nodes[#nodes + 1] = node
  end
  return ok(ctx, { images = list }, { name = "images", children = nodes })
end
route("GET", "/images", function(self, ctx) return images(self, ctx, false) end)
route("GET", "/images/detail", function(self, ctx) return images(self, ctx, true) end)

route("GET", "/images/presets", function(_, ctx)
  local list, nodes = array(), {}
  for _, pr in ipairs(PRESETS) do
    local fields, fnodes = array(), {}
    local all = {}
    for _, f in ipairs(PRESET_FIELDS) do all[#all + 1] = f end
    for _, f in ipairs(pr.extra) do all[#all + 1] = f end
    for i, f in ipairs(all) do
      fields[i] = copy(f)
      fnodes[i] = el("field", f, { "title", "name", "type", "req" })
    end
    list[#list + 1] = { id = pr.id, name = pr.name, title = pr.title, description = pr.description, fields = fields }
    nodes[#nodes + 1] = { name = "preset", children = {
      { name = "id", text = tostring(pr.id) }, { name = "name", text = pr.name }, { name = "title", text = pr.title },
      { name = "description", raw = pr.description }, { name = "fields", children = fnodes } } }
  end
  return ok(ctx, { presets = list }, { name = "presets", children = nodes })
end)

---------------------------------------------------------------------------------------------
-- Dispatch
---------------------------------------------------------------------------------------------

function Sim:authenticate(req)
  local user = self.users[req.headers["x-auth-user"] or ""]
  local key = req.headers["x-auth-key"]
  if not user or key == nil or key ~= user.key then
    return self:error_response(want_xml(req), 401, "ошибка авторизации")
  end
  local token = string.format("%s-%s-%s-%s-%s", hex(self, 8), hex(self, 4), hex(self, 4), hex(self, 4), hex(self, 12))
  self.tokens[token] = { user = req.headers["x-auth-user"], issued = self.now() }
  return 204, {
    ["X-Server-Management-Url"] = self:management_url(),
    ["X-Auth-Token"] = token,
    ["Content-Type"] = "text/plain; charset=UTF-8",
  }, ""
end

function Sim:handle(req)
  local headers = util.lower_headers(req.headers)
  req = { method = (req.method or "GET"):upper(), path = req.path or "/", headers = headers, body = req.body }
  local path = req.path:match("^([^?#]*)")
  local xml = want_xml(req)
  if path == "/" or path == "" then
    if req.method ~= "GET" then return self:error_response(xml, 405, "метод не поддерживается") end
    return self:authenticate(req)
  end
  local rel = path:match("^/v1(/.*)$")
  if not rel then return self:error_response(xml, 404, "Модуль не найден") end
  local tok = self.tokens[headers["x-auth-token"] or ""]
  if not tok then return self:error_response(xml, 401, "ошибка авторизации") end
  if self.now() >= tok.issued + TOKEN_LIFETIME then
    self.tokens[headers["x-auth-token"]] = nil
    return self:error_response(xml, 401, "срок действия токена истек")
  end
  local user = self.users[tok.user]
  self:settle()
  local handler, captures, path_known
  for _, r in ipairs(H) do
    local caps = { rel:match(r[2]) }
    if #caps > 0 then
      path_known = true
      if r[1] == req.method then
        handler = r[3]
        if not r[2]:find("(", 1, true) then caps = {} end
        captures = caps
        break
      end
    end
  end
  if not handler then
    if path_known then return self:error_response(xml, 405, "метод не поддерживается") end
    return self:error_response(xml, 404, "Модуль не найден")
  end
  if rel ~= "/limits" then
    local reset = self:take(user, req.method, rel)
    if reset then
      return self:error_response(xml, 413, "Превышен лимит запросов; сброс счетчика: " .. tostring(reset))
    end
  end
  local params, root = parse_body(req)
  if not params then return self:error_response(xml, 400, "некорректный запрос: " .. tostring(root)) end
  local ctx = { xml = xml, user = user, params = params, root = root, req = req }
  return handler(self, ctx, unpack(captures))
end

return M
