-- ClodoAPI 1.0 over real HTTP: every operation of the catalog against the nginx-hosted simulator
-- (bin/luacloud-sim) with the default libcurl transport, in JSON and in XML; documented error codes,
-- the simulator's real per-user rate limits, re-authentication and c:wait in real time (the simulator's
-- background work is sped up with the admin seed `kind=speed`). Pending when nginx is not installed.
--
-- Every op id called through a client is recorded; the last test checks that the recorded set is the
-- catalog's full set, so an operation added to the catalog without an HTTP test fails this spec.
local luacloud = require "luacloud"
local core = require "luacloud.core"
local catalog = require "luacloud.catalog.clodo"
local support = require "spec.support.sim"

local SPEED = 100 -- install 0.3 s, reboot 0.1 s, backup create 0.4 s, delete 0.1 s, restore 0.6 s

local why = support.missing()
if why then -- pending, not failing
  return describe("clodo over HTTP (nginx simulator)", function()
    it("needs nginx", function() pending(why .. ": skipping the clodo HTTP specs") end)
  end)
end

local function find(list, field, value)
  for _, x in ipairs(list or {}) do
    if tostring(x[field]) == tostring(value) then return x end
  end
  return nil
end

describe("clodo over HTTP (nginx simulator, libcurl)", function()
  local sim
  local exercised = {} -- op id -> true, for every call made through a client of this file

  setup(function() sim = support.start() end)
  teardown(function() if sim then sim.stop() end end)

  -- A fresh simulator state (sample account, rate-limit counters, tokens) with fast background work.
  local function fresh(speed)
    local res, st = sim.admin("POST", "/_sim/reset?provider=clodo")
    assert.are.equal(200, st, "reset")
    assert.is_true(res.ok)
    res, st = sim.admin("POST", "/_sim/seed?provider=clodo&kind=speed&n=" .. tostring(speed or SPEED))
    assert.are.equal(200, st, "seed speed: " .. tostring(res and res.error))
  end

  -- client(format, extra options) -> c, events (the `log` hook's events: one "response" per HTTP exchange)
  local function client(format, extra)
    local events = {}
    local creds = sim.credentials.clodo
    local o = { endpoint = sim.endpoints.clodo, user = creds.user, key = creds.key, format = format, timeout = 10,
                log = function(ev) events[#events + 1] = ev end }
    for k, v in pairs(extra or {}) do o[k] = v end
    local c = assert(luacloud.new("clodo", o))
    local call = c.call
    c.call = function(self, name, params)
      local id = self:resolve(name)
      if id then exercised[id] = true end
      return call(self, name, params)
    end
    return c, events
  end

  -- HTTP exchanges seen by the log hook: method, path below the endpoint (query dropped)
  local function sent(events, method, pattern)
    local n = 0
    for _, ev in ipairs(events) do
      if ev.event == "response" or ev.event == "transport_error" then
        local path = ev.url:gsub("^https?://[^/]+/clodo", ""):gsub("%?.*$", "")
        if (not method or ev.method == method) and (not pattern or path:find(pattern)) then n = n + 1 end
      end
    end
    return n
  end

  -- requests that reached nginx (its access log), e.g. "POST /clodo/v1/servers/60/action"
  local function access_count(needle)
    local f = io.open(sim.dir .. "/access.log", "rb")
    if not f then return nil end
    local n = 0
    for line in f:lines() do
      if line:find(needle, 1, true) then n = n + 1 end
    end
    f:close()
    return n
  end

  -- The per-minute windows of the simulator follow the wall clock: do not start a burst of requests in the
  -- last seconds of a minute (the counters would reset in the middle of it).
  local function away_from_minute_end(margin)
    local s = core.now() % 60
    if s > 60 - (margin or 4) then core.sleep(60 - s + 0.2) end
  end

  for _, fmt in ipairs({ "json", "xml" }) do
    describe("(" .. fmt .. ")", function()
      before_each(function() fresh() end)

      it("authenticates explicitly and reads the account: limits, servers, images, presets, billing, profile",
        function()
        local c, events = client(fmt)
        local a = assert(c:authenticate())
        assert.is_string(a.token)
        assert.are.equal(sim.endpoints.clodo .. "/v1", a.management_url)
        assert.are.equal(1, sent(events, "GET", "^/$"))

        local lim = assert(c:get_limits()).rate.limit
        assert.are.equal(5, #lim)
        local get = find(lim, "verb", "GET")
        assert.are.equal("60", tostring(get.value))
        assert.are.equal("MINUTE", get.unit)
        local day = find(lim, "unit", "DAY")
        assert.are.equal("50", tostring(day.value))
        assert.is_true(tonumber(get.resetTime) > os.time() - 1)

        local servers = assert(c:list_servers()).server
        assert.are.equal(2, #servers)
        local s60 = find(servers, "id", 60)
        assert.are.equal("main", s60.name)
        assert.are.equal("188.127.237.202", s60.addresses.public.ip[1].addr)
        local n = 0
        for s in c:each("list_servers") do n = n + 1; assert.is_not_nil(s.id) end
        assert.are.equal(2, n)
        local detail = assert(c:list_servers_detail()).server
        assert.is_string(find(detail, "id", 186).vps_root_pass)
        local g = assert(c:get_server { id = 60 })
        assert.are.equal("is_running", g.status)
        assert.are.equal("VirtualServer", g.type)
        assert.are.equal("2048", tostring(g.vps_memory))
        local log = assert(c:get_server_log { id = 60 })
        assert.is_table(log.log)

        local images = assert(c:list_images()).image
        assert.is_table(find(images, "id", 551))
        assert.is_nil(images[1].os_type)
        assert.are.equal("debian", find(assert(c:list_images_detail()).image, "id", 551).os_type)
        local presets = assert(c:list_presets()).preset
        local bitrix = find(presets, "name", "bitrix")
        assert.is_true(#bitrix.fields.field >= 4)
        assert.truthy(tostring(bitrix.description):find("<ul>", 1, true)) -- raw HTML kept as text in XML

        assert.are.equal("1234", tostring(assert(c:get_balance()).balance))
        local b = assert(c:list_billing_operations())
        assert.is_true(tonumber(b.total_debit_amount) > 0)
        assert.is_table(b.credits.credit)
        local now = os.time()
        local sb = assert(c:list_server_billing_operations { id = 60, from = tostring(now - 7200),
          to = tostring(now) })
        assert.is_table(sb.debits.vps)
        local st = assert(c:get_server_stats { id = 60, from = tostring(now - 600), to = tostring(now) })
        assert.is_true(#st.row >= 9)
        assert.is_not_nil(st.row[1].statdate)

        local p = assert(c:get_user_profile())
        assert.are.equal("demo", p.users_login)
        assert.are.equal(3, #p.dcs.dc)
        assert(c:update_user_profile { users_profile_jabber = "me@jabber.ru" })
        assert.are.equal("me@jabber.ru", assert(c:get_user_profile()).users_profile_jabber)
        -- GETs were counted by the server, /limits itself is not
        local get2 = find(assert(c:get_limits()).rate.limit, "verb", "GET")
        assert.is_true(tonumber(get2.remaining) < tonumber(get.remaining))
        -- one login for all these calls
        assert.are.equal(1, sent(events, "GET", "^/$"))
        -- what goes on the wire in this format (dry_run: the prepared request; nothing is sent, not even
        -- the login, so the token and management URL are placeholders)
        local dry = client(fmt, { dry_run = true })
        local req = assert(dry:update_server { id = 60, vps_hdd = 10 }).request
        assert.are.equal("PUT", req.method)
        assert.are.equal("{management-url}/servers/60", req.url)
        assert.are.equal("{token}", req.headers["X-Auth-Token"])
        assert.are.equal("application/" .. fmt, req.headers.Accept)
        assert.truthy(req.headers["Content-Type"]:find(fmt, 1, true))
        assert.truthy(req.body:match(fmt == "xml" and "^%s*<" or "^%s*{"))
        assert.is_string(req.headers["X-Auth-Token"])
      end)

      it("servers: create and wait until it runs, update, change type, actions, rebuild, delete", function()
        local c = client(fmt)
        local s = assert(c:create_server { name = "web", vps_type = "VirtualServer", vps_memory = 1024, vps_hdd = 10,
          vps_admin = 1, vps_os = 551, vps_pay_period = "m", vps_abonement = 3 })
        assert.is_not_nil(s.id)
        assert.is_string(s.adminPass)
        local got = assert(c:get_server { id = s.id })
        assert.are.equal("web", got.name)
        assert.are.equal("is_installing", got.status)
        local t0, polls = core.now(), 0
        local final = assert(c:wait(s, { interval = 0.05, backoff = 1, timeout = 10,
          progress = function() polls = polls + 1 end }))
        assert.are.equal("is_running", final.status)
        assert.is_true(polls >= 2)
        assert.is_true(core.now() - t0 < 5)
        assert.are.equal(tostring(s.adminPass), tostring(final.vps_root_pass))

        assert(c:update_server { id = s.id, vps_hdd = 20, vps_memory = 2048 })
        local u = assert(c:get_server { id = s.id })
        assert.are.equal("20", tostring(u.vps_hdd_max))
        assert.are.equal("2048", tostring(u.vps_memory))
        assert(c:update_server { id = s.id, modify_type = "params" })

        assert(c:change_server_type { id = s.id })
        assert.are.equal("ScaleServer", assert(c:get_server { id = s.id }).type)
        assert(c:change_server_type { id = s.id, pay_type = "3m" })
        assert.are.equal("VirtualServer", assert(c:get_server { id = s.id }).type)

        assert(c:server_action { id = s.id, action = "stop" })
        assert.are.equal("is_stopped", assert(c:get_server { id = s.id }).status)
        assert(c:server_action { id = s.id, action = "start" })
        assert.are.equal("is_running", assert(c:get_server { id = s.id }).status)
        assert(c:server_action { id = s.id, action = "reboot" })
        assert(c:wait({ id = s.id }, { interval = 0.05, backoff = 1, timeout = 10 }))
        assert(c:server_action { id = s.id, action = "rebuild", imageId = 27 })
        assert.are.equal("is_installing", assert(c:get_server { id = s.id }).status)
        assert(c:wait({ id = s.id }, { interval = 0.05, backoff = 1, timeout = 10 }))
        assert.are.equal("27", tostring(assert(c:get_server { id = s.id }).imageId))
        local log = assert(c:get_server_log { id = s.id }).log
        assert.is_true(#log >= 6)
        assert.are.equal("ОК", log[1].status)

        assert(c:delete_server { id = s.id })
        local res, err = c:get_server { id = s.id }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
      end)

      it("backups: create (request) and wait, schedule, description, delete and wait, restore with progress",
        function()
        local c = client(fmt)
        local before = #assert(c:list_backups { id = 60 }).backup
        local r = assert(c:create_backup { id = 60 })
        assert.is_not_nil(r.req)
        local st = assert(c:get_request_status { id = r.req })
        assert.are_not.equal("1", tostring(st.req_complete))
        assert.is_not_nil(st.req_inwork)
        local done = assert(c:wait(r, { interval = 0.05, backoff = 1, timeout = 10 }))
        assert.are.equal("1", tostring(done.req_complete))
        local list = assert(c:list_backups { id = 60 }).backup
        assert.are.equal(before + 1, #list)
        local newest = list[#list]
        assert(c:set_backup_schedule { id = 60, file = tostring(newest.file), backups_days = "1,3,5",
          backups_time = "03:30" })
        assert(c:set_backup_description { id = 60, file = tostring(newest.file), desc = "перед обновлением <&>" })
        local b = find(assert(c:list_backups { id = 60 }).backup, "file", newest.file)
        assert.are.equal("1,3,5", b.days)
        assert.are.equal("03:30", b.time)
        assert.are.equal("перед обновлением <&>", b.desc)
        local d = assert(c:delete_backup { id = 60, file = tostring(newest.file) })
        assert(c:wait(d, { interval = 0.05, backoff = 1, timeout = 10 }))
        assert.is_nil(find(assert(c:list_backups { id = 60 }).backup, "file", newest.file))

        local rr = assert(c:restore_backup { id = 60, file = "2" })
        local seen = {}
        assert(c:wait({ req = rr.req, server_id = 60 }, { interval = 0.1, backoff = 1, timeout = 10,
          progress = function(p) if p then seen[#seen + 1] = p end end }))
        assert.is_true(#seen >= 2)
        assert.is_true(seen[1] < seen[#seen])
        assert.are.equal(100, seen[#seen])
        assert.are.equal("100", tostring(assert(c:get_restore_state { id = 60, req = tostring(rr.req) }).progress))
        assert.are.equal("is_running", assert(c:get_server { id = 60 }).status)
      end)

      it("IP addresses: add in a subnet, list subnets, move an additional address, delete it", function()
        local c = client(fmt)
        assert(c:add_ip { id = 60, subnet = "62.76.178.*" })
        local added
        for _, ip in ipairs(assert(c:list_ips { id = 60 }).public.ip) do
          if ip.addr:match("^62%.76%.178%.") then added = ip end
        end
        assert.is_table(added)
        assert.is_false(added.is_primary)
        local nets = assert(c:list_subnets { id = 60 }).net
        assert.are.equal("1", tostring(find(nets, "ip_subnet", "62.76.178.*").current))
        assert(c:move_ip { id = 186, ip = added.addr })
        assert.is_table(find(assert(c:list_ips { id = 186 }).public.ip, "addr", added.addr))
        assert.is_nil(find(assert(c:list_ips { id = 60 }).public.ip, "addr", added.addr))
        assert(c:delete_ip { id = 186, ip = added.addr })
        assert.is_nil(find(assert(c:list_ips { id = 186 }).public.ip, "addr", added.addr))
      end)

      it("DNS: zone create, records add/edit/delete, zone delete", function()
        local c = client(fmt)
        local z = assert(c:create_dns_zone { newdomain = "shop.ru", newdomain_type = "MASTER" })
        assert.is_not_nil(z.id)
        local zones = assert(c:list_dns_zones())
        assert.is_table(find(zones.domains.domain, "name", "shop.ru"))
        assert(c:update_dns_zone { id = z.id, records = { { name = "www.shop.ru", type = "A", content = "10.1.1.1",
          ttl = 600 } } })
        local zone = assert(c:get_dns_zone { id = z.id })
        assert.is_true(#zone.record_types.record_type >= 5)
        local www = find(zone.records.record, "name", "www.shop.ru")
        assert.are.equal("10.1.1.1", www.content)
        assert.are.equal("600", tostring(www.ttl))
        assert(c:update_dns_zone { id = z.id, _raw = { ["content_" .. www.id] = "10.2.2.2" } })
        assert.are.equal("10.2.2.2", find(assert(c:get_dns_zone { id = z.id }).records.record, "id", www.id).content)
        local d1 = assert(c:delete_dns_record { id = z.id, delete_record = www.id })
        assert.is_not_nil(d1.new_soa)
        assert.is_nil(find(assert(c:get_dns_zone { id = z.id }).records.record, "id", www.id))
        assert(c:delete_dns_zone { id = z.id })
        local res, err = c:get_dns_zone { id = z.id }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
      end)

      it("helpdesk: open a ticket, add a message, read it back", function()
        local c = client(fmt)
        local before = #assert(c:list_tickets()).tickets.ticket
        assert(c:create_ticket { tickets_type = 1, tickets_subj = "Не загружается VPS", tickets_text = "Помогите",
          virtual_mashines_num = 60 })
        local list = assert(c:list_tickets()).tickets.ticket
        assert.are.equal(before + 1, #list)
        local t = find(list, "subject", "Не загружается VPS")
        assert(c:add_ticket_message { id = t.id, text = "Спасибо!" })
        local full = assert(c:get_ticket { id = t.id })
        assert.are.equal("Помогите", full.ticket.text)
        assert.are.equal("Спасибо!", full.events.event[1].ticket_events_text)
        assert.are.equal(0, #full.works.work)
      end)

      it("storage: create, detail, update (changes / no changes), list, delete", function()
        local c = client(fmt)
        local s = assert(c:create_storage { title = "media", cache_publicsearch = 1 })
        assert.is_not_nil(s.id)
        assert.is_string(s.storagekey)
        local d = assert(c:get_storage_detail { id = s.id })
        assert.are.equal("media", d.title)
        assert.are.equal(s.storagekey, d.key)
        local ch = assert(c:update_storage { id = s.id, title = "media2", cache_expires = "off" })
        assert.are.equal("media2", ch.title)
        assert.is_nil(ch.cache_expires)
        local none = assert(c:update_storage { id = s.id, title = "media2" })
        assert.is_nil(next(none))
        assert.is_table(find(assert(c:list_storages()).storage, "title", "media2"))
        assert(c:delete_storage { id = s.id })
        local res, err = c:get_storage_detail { id = s.id }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
      end)

      it("documented errors: authentication failure (401)", function()
        local c, events = client(fmt, { key = "wrong-key" })
        local res, err = c:list_servers()
        assert.is_nil(res)
        assert.are.equal("auth", err.kind)
        assert.are.equal(401, err.status)
        assert.are.equal(1, sent(events)) -- one authentication attempt, no management call
        res, err = c:authenticate()
        assert.is_nil(res)
        assert.are.equal("auth", err.kind)
        assert.are.equal(401, err.status)
        assert.are.equal("authenticate", err.op)
      end)

      it("documented errors: unknown objects (404 NotFound with the API's details)", function()
        local c = client(fmt)
        local function nf(op, params, details)
          local res, err = c:call(op, params)
          assert.is_nil(res, op)
          assert.are.equal(404, err.status, op)
          assert.are.equal("NotFound", err.code, op)
          assert.are.equal("api", err.kind, op)
          assert.is_false(err.retryable, op)
          assert.are.equal(op, err.op)
          if details then assert.are.equal(details, err.details.details, op) end
          assert.truthy(tostring(err):find("404", 1, true) or tostring(err):find("Not Found", 1, true), op)
        end
        nf("get_server", { id = 999 }, "сервер не найден")
        nf("list_backups", { id = 999 })
        nf("list_server_billing_operations", { id = 999 })
        nf("get_dns_zone", { id = 999 }, "зона не найдена")
        nf("get_ticket", { id = 1 })
        nf("get_storage_detail", { id = 999 })
        nf("get_request_status", { id = 1 })
        nf("delete_server", { id = 999 })
      end)

      it("documented errors: validation by the server (400 BadRequest, 405), by the client (nothing sent)",
        function()
        local c, events = client(fmt)
        local function bad(status, op, params)
          local res, err = c:call(op, params)
          assert.is_nil(res, op)
          assert.are.equal(status, err.status, op .. ": " .. tostring(err))
          assert.are.equal("api", err.kind, op)
          assert.is_false(err.retryable, op)
          return err
        end
        local e = bad(400, "create_server", { name = "x", vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5,
          vps_admin = 1, vps_os = 99999 })
        assert.are.equal("BadRequest", e.code)
        assert.are.equal("ОС не найдена", e.details.details)
        bad(400, "set_backup_schedule", { id = 60, file = "2", backups_days = "1,9", backups_time = "03:30" })
        bad(400, "move_ip", { id = 186, ip = "188.127.237.202" }) -- the primary address cannot move
        bad(400, "create_dns_zone", { newdomain = "slave.ru", newdomain_type = "SLAVE" })
        bad(400, "update_user_profile", { users_balance = "100000" })
        bad(404, "get_server_stats", { id = 60, from = "2030-01-01 00:00:00", to = "2030-01-02 00:00:00" })
        -- a server that is installing refuses commands: 405 "function temporarily unavailable"
        sim.admin("POST", "/_sim/seed?provider=clodo&kind=speed&n=1") -- the documented 30 s install
        local s = assert(c:create_server { name = "busy", vps_type = "ScaleServer", vps_memory = 512,
          vps_memory_max = 1024, vps_hdd = 5, vps_admin = 1, vps_os = 541 })
        local res, err = c:server_action { id = s.id, action = "reboot" }
        assert.is_nil(res)
        assert.are.equal(405, err.status)
        assert.are.equal("MethodNotAllowed", err.code)
        -- the client's own checks: nothing reaches the server
        local n = #events
        local checks = {
          { "get_server", { id = "abc" } },
          { "create_server", { vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5, vps_admin = 1, vps_os = 551 } },
          { "create_server", { name = "a", vps_type = "Mainframe", vps_memory = 512, vps_hdd = 5, vps_admin = 1,
            vps_os = 551 } },
          { "update_server", { id = 60, modify_type = "params", vps_hdd = 10 } },
          { "update_server", { id = 60, vps_swapsize = 100000 } },
          { "server_action", { id = 60, action = "reboot", imageId = 27 } },
          { "delete_dns_record", { id = 1 } },
          { "update_dns_zone", { id = 1, _raw = { owner_3 = "x" } } },
        }
        for _, ch in ipairs(checks) do
          local r, verr = c:call(ch[1], ch[2])
          assert.is_nil(r, ch[1])
          assert.are.equal("validation", verr.kind, ch[1])
        end
        assert.are.equal(n, #events)
      end)

      it("a maintenance answer (405) of the API is reported, not retried", function()
        local c, events = client(fmt)
        assert(c:get_server { id = 60 })
        local f, st = sim.admin("POST", "/_sim/fault", { provider = "clodo", kind = "maintenance", count = 1 })
        assert.are.equal(200, st, tostring(f and f.error))
        local res, err = c:update_server { id = 60, vps_hdd = 10 }
        assert.is_nil(res)
        assert.are.equal(405, err.status)
        assert.are.equal("MethodNotAllowed", err.code)
        assert.is_false(err.retryable)
        assert.are.equal(1, sent(events, "PUT", "^/v1/servers/60$"))
        assert(c:update_server { id = 60, vps_hdd = 10 }) -- the fault is used up
      end)

      it("an empty account answers 404 for the server lists: the client returns empty lists", function()
        local c = client(fmt)
        assert(c:delete_server { id = 60 })
        assert(c:delete_server { id = 186 })
        local res, err = c:list_servers()
        assert.is_nil(err)
        assert.are.same({}, res.server)
        local n = 0
        for _ in c:each("list_servers_detail") do n = n + 1 end
        assert.are.equal(0, n)
        assert.is_true(access_count("GET /clodo/v1/servers/detail HTTP") >= 1)
      end)

      it("re-authenticates once when the server forgot the token, and replays the call", function()
        local c, events = client(fmt)
        assert(c:list_servers())
        fresh() -- the simulator restarts from scratch: the token is unknown now
        local res = assert(c:list_servers())
        assert.are.equal(2, #res.server)
        assert.are.equal(2, sent(events, "GET", "^/$"))
        assert.are.equal(3, sent(events, "GET", "^/v1/servers$"))
      end)
    end)
  end

  describe("rate limits (the simulator's per-user limits, real time)", function()
    before_each(function() fresh() end)

    it("the 11th POST of a minute is refused with when to retry, and is not sent again", function()
      away_from_minute_end()
      local c, events = client("json")
      local log_before = #assert(c:get_server_log { id = 60 }).log
      for i = 1, 10 do
        assert(c:server_action { id = 60, action = "start" }, "POST " .. i)
      end
      local t = core.now()
      local res, err = c:server_action { id = 60, action = "start" }
      assert.is_nil(res)
      assert.are.equal(413, err.status)
      assert.are.equal("OverLimit", err.code)
      assert.is_true(err.rate_limited)
      assert.is_false(err.retryable)
      assert.is_number(err.retry_after)
      local expected = 60 - t % 60
      assert.is_true(math.abs(err.retry_after - expected) < 2, "retry_after " .. err.retry_after
        .. " expected about " .. expected)
      assert.are.equal("POST", err.details.limit.verb)
      assert.are.equal("MINUTE", err.details.limit.unit)
      assert.truthy(tostring(err):find("413", 1, true) or tostring(err):find("Over Limit", 1, true))
      -- exactly 11 POSTs went out (10 accepted, 1 refused), then one read of /limits
      assert.are.equal(11, sent(events, "POST", "^/v1/servers/60/action$"))
      assert.are.equal(11, access_count("POST /clodo/v1/servers/60/action HTTP"))
      assert.are.equal(1, sent(events, "GET", "^/v1/limits$"))
      assert.are.equal(log_before + 10, #assert(c:get_server_log { id = 60 }).log)
      -- other verbs have their own counters
      assert(c:get_server { id = 60 })
      local lim = find(assert(c:get_limits()).rate.limit, "verb", "POST")
      assert.are.equal(0, tonumber(lim.remaining))
      -- the daily limit (POST, regex ^/servers) matches /servers/60/action too: counted as well
      local day = find(c:get_limits().rate.limit, "unit", "DAY")
      assert.are.equal(40, tonumber(day.remaining))
    end)

    it("a refused safe POST (stats) reports retry_after and is not retried when the wait is too long", function()
      away_from_minute_end()
      local c, events = client("xml", { max_rate_wait = 0 })
      for _ = 1, 10 do assert(c:set_backup_description { id = 60, file = "2", desc = "x" }) end
      local now = os.time()
      local res, err = c:get_server_stats { id = 60, from = tostring(now - 600), to = tostring(now) }
      assert.is_nil(res)
      assert.are.equal(413, err.status)
      assert.is_true(err.retry_after > 0 and err.retry_after <= 60)
      assert.is_false(err.retryable)
      assert.are.equal(1, sent(events, "POST", "^/v1/stats/60$"))
    end)

    it("a refused GET is retried after the wait the server gives (sleep hook), else says when to come back",
      function()
      away_from_minute_end()
      local slept = {}
      -- the call's deadline (2 x timeout by default) must leave room for the announced wait
      local c, events = client("xml", { retries = 1, deadline = 120, sleep = function(s) slept[#slept + 1] = s end })
      for i = 1, 60 do assert(c:get_balance(), "GET " .. i) end
      local res, err = c:get_balance()
      assert.is_nil(res)
      assert.are.equal(413, err.status)
      assert.is_true(err.retryable)
      assert.is_true(err.retry_after > 0 and err.retry_after <= 60)
      assert.are.equal("GET", err.details.limit.verb)
      -- slept once for about the announced time, then sent the GET again (it is safe to repeat)
      assert.are.equal(1, #slept)
      assert.is_true(math.abs(slept[1] - err.retry_after) < 2)
      assert.are.equal(62, sent(events, "GET", "^/v1/billing/balance$"))
      -- without retries: no sleep, the error says when to come back
      local c0 = client("json", { retries = 0, sleep = function(s) slept[#slept + 1] = s end })
      local r0, e0 = c0:list_images()
      assert.is_nil(r0)
      assert.is_true(e0.retryable)
      assert.is_true(e0.retry_after > 0 and e0.retry_after <= 60)
      assert.are.equal(1, #slept)
      -- /limits stays readable
      assert.are.equal(0, tonumber(find(assert(c0:get_limits()).rate.limit, "verb", "GET").remaining))
    end)

    it("c:wait gives up with a timeout error in real time while the server is still installing", function()
      fresh(1) -- the documented 30 s install
      local c = client("json")
      local s = assert(c:create_server { name = "slow", vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5,
        vps_admin = 1, vps_os = 551 })
      local t0 = core.now()
      local res, err = c:wait(s, { timeout = 0.5, interval = 0.1, backoff = 1 })
      local dt = core.now() - t0
      assert.is_nil(res)
      assert.are.equal("timeout", err.kind)
      assert.is_true(dt >= 0.45 and dt < 3, "waited " .. dt)
      assert.are.equal("is_installing", assert(c:get_server { id = s.id }).status)
      local r, st = sim.admin("POST", "/_sim/seed?provider=clodo&kind=speed&n=0")
      assert.are.equal(400, st)
      assert.truthy(tostring(r.error):find("speed", 1, true))
    end)
  end)

  it("exercised every operation of the catalog over HTTP", function()
    local missing = {}
    for id in pairs(catalog.operations) do
      if not exercised[id] then missing[#missing + 1] = id end
    end
    table.sort(missing)
    assert.are.same({}, missing)
    local extra = {}
    for id in pairs(exercised) do
      if not catalog.operations[id] then extra[#extra + 1] = id end
    end
    assert.are.same({}, extra)
  end)
end)
