-- ClodoAPI 1.0 operations, in-process against the simulator (luacloud.sim.clodo) through the
-- `transport` option: both formats, token lifetime, rate limits, error codes, waiting.
local luacloud = require "luacloud"
local simmod = require "luacloud.sim.clodo"

local BASE = "http://sim.test/clodo"

-- env(format, opts) -> { c = client, sim = sim, clock = { t }, sent = { requests }, slept = { seconds } }
local function env(format, opts)
  opts = opts or {}
  local e = { clock = { t = 1325376000 }, sent = {}, slept = {} } -- 2012-01-01 00:00 UTC
  e.sim = simmod.new({ now = function() return e.clock.t end, base_url = BASE })
  local copts = {
    endpoint = BASE, user = opts.user or e.sim.credentials.user, key = opts.key or e.sim.credentials.key,
    format = format, retries = opts.retries, token_lifetime = opts.token_lifetime, token_margin = opts.token_margin,
    clock = function() return e.clock.t end,
    sleep = function(s) e.slept[#e.slept + 1] = s; e.clock.t = e.clock.t + s end,
    transport = function(req)
      local path = req.url:sub(#BASE + 1)
      e.sent[#e.sent + 1] = { method = req.method, path = path, headers = req.headers, body = req.body }
      local st, h, b = e.sim:handle({ method = req.method, path = path, headers = req.headers, body = req.body })
      local lh = {}
      for k, v in pairs(h) do lh[k:lower()] = v end
      return { status = st, headers = lh, body = b }
    end,
  }
  e.c = assert(luacloud.new("clodo", copts))
  return e
end

local function count_auth(e)
  local n = 0
  for _, r in ipairs(e.sent) do if r.path == "/" then n = n + 1 end end
  return n
end

local function find(list, field, value)
  for _, x in ipairs(list or {}) do
    if tostring(x[field]) == tostring(value) then return x end
  end
  return nil
end

describe("clodo client against the simulator", function()
  it("refuses to start without user and key", function()
    local c, err = luacloud.new("clodo", { endpoint = BASE, user = "demo" })
    assert.is_nil(c)
    assert.are.equal("validation", err.kind)
  end)

  it("wrong credentials: one authentication attempt, an auth error, no management call", function()
    local e = env("json", { key = "wrong" })
    local res, err = e.c:list_servers()
    assert.is_nil(res)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal(1, #e.sent)
    assert.are.equal("/", e.sent[1].path)
  end)

  for _, fmt in ipairs({ "json", "xml" }) do
    describe("(" .. fmt .. ")", function()
      it("sends Accept for the format and decodes the server list", function()
        local e = env(fmt)
        local res = assert(e.c:list_servers())
        assert.are.equal(2, #res.server)
        local s60 = find(res.server, "id", 60)
        assert.is_table(s60)
        assert.are.equal("main", s60.name)
        assert.are.equal("188.127.237.202", s60.addresses.public.ip[1].addr)
        local h = e.sent[#e.sent].headers
        assert.are.equal(fmt == "xml" and "application/xml" or "application/json", h.Accept)
        assert.truthy(e.sim.tokens[h["X-Auth-Token"]])
        -- c:each walks the same list
        local n = 0
        for s in e.c:each("list_servers") do n = n + 1; assert.is_not_nil(s.id) end
        assert.are.equal(2, n)
      end)

      it("creates a server and waits until it runs", function()
        local e = env(fmt)
        local s = assert(e.c:create_server { name = "web", vps_type = "VirtualServer", vps_memory = 1024, vps_hdd = 10,
          vps_admin = 1, vps_os = 551, vps_pay_period = "m", vps_abonement = 3 })
        assert.is_not_nil(s.id)
        assert.is_string(s.adminPass)
        local got = assert(e.c:get_server { id = s.id })
        assert.are.equal("web", got.name)
        assert.are_not.equal("is_running", got.status)
        local progress_calls = 0
        local final = assert(e.c:wait(s, { interval = 5,
          progress = function() progress_calls = progress_calls + 1 end }))
        assert.are.equal("is_running", final.status)
        assert.is_true(progress_calls >= 2)
        assert.is_true(#e.slept >= 1)
        assert.are.equal(tostring(s.adminPass), tostring(final.vps_root_pass))
      end)

      it("create_server: exactly one of name/vps_title and vps_os/vps_os_preset, checked before sending", function()
        local e = env(fmt)
        local res, err = e.c:create_server { vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5, vps_admin = 1,
          vps_os = 551 }
        assert.is_nil(res)
        assert.are.equal("validation", err.kind)
        res, err = e.c:create_server { name = "a", vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5,
          vps_admin = 1,
          vps_os = 551, vps_os_preset = 62 }
        assert.is_nil(res)
        assert.are.equal("validation", err.kind)
        res, err = e.c:create_server { name = "a", vps_type = "Mainframe", vps_memory = 512, vps_hdd = 5,
          vps_admin = 1, vps_os = 551 }
        assert.is_nil(res)
        assert.are.equal("validation", err.kind)
        assert.are.equal(0, #e.sent)
      end)

      it("server actions change the status; rebuild changes the OS", function()
        local e = env(fmt)
        assert(e.c:server_action { id = 60, action = "stop" })
        assert.are.equal("is_stopped", e.c:get_server { id = 60 }.status)
        assert(e.c:server_action { id = 60, action = "start" })
        assert.are.equal("is_running", e.c:get_server { id = 60 }.status)
        assert(e.c:server_action { id = 60, action = "reboot" })
        assert.are.equal("is_rebooting", e.c:get_server { id = 60 }.status)
        assert(e.c:wait({ id = 60 }, { interval = 3 }))
        assert(e.c:server_action { id = 60, action = "rebuild", imageId = 27 })
        assert(e.c:wait({ id = 60 }, { interval = 10 }))
        assert.are.equal("27", tostring(e.c:get_server { id = 60 }.imageId))
        local log = assert(e.c:get_server_log { id = 60 })
        assert.is_true(#log.log >= 4)
        assert.are.equal("ОК", log.log[1].status)
        local res, err = e.c:server_action { id = 60, action = "reboot", imageId = 27 }
        assert.is_nil(res)
        assert.are.equal("validation", err.kind)
      end)

      it("update_server: one additional setting per request, values reach the server", function()
        local e = env(fmt)
        assert(e.c:update_server { id = 60, vps_hdd = 10, vps_memory = 1024 })
        local s = e.c:get_server { id = 60 }
        assert.are.equal("10", tostring(s.vps_hdd_max))
        assert.are.equal("1024", tostring(s.vps_memory))
        local before = #e.sent
        local res, err = e.c:update_server { id = 60, modify_type = "params", vps_hdd = 10 }
        assert.is_nil(res)
        assert.are.equal("validation", err.kind)
        assert.are.equal(before, #e.sent)
        assert(e.c:update_server { id = 60, modify_type = "params" })
        res, err = e.c:update_server { id = 60, vps_swapsize = 100000 }
        assert.is_nil(res)
        assert.are.equal("validation", err.kind)
      end)

      it("change_server_type toggles the type (pay_type for VirtualServer)", function()
        local e = env(fmt)
        assert(e.c:change_server_type { id = 60 })
        assert.are.equal("ScaleServer", e.c:get_server { id = 60 }.type)
        assert(e.c:change_server_type { id = 60, pay_type = "3m" })
        assert.are.equal("VirtualServer", e.c:get_server { id = 60 }.type)
        local sent = e.sent[#e.sent - 1]
        assert.are.equal("GET", sent.method)
        assert.truthy(sent.body:find("3m", 1, true))
      end)

      it("delete_server then 404 NotFound with the API's details", function()
        local e = env(fmt)
        assert(e.c:delete_server { id = 186 })
        local res, err = e.c:get_server { id = 186 }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
        assert.are.equal("NotFound", err.code)
        assert.are.equal("сервер не найден", err.details.details)
        assert.are.equal("api", err.kind)
        assert.is_false(err.retryable)
        res, err = e.c:list_backups { id = 186 }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
      end)

      it("backups: create (request), wait, schedule, description, delete", function()
        local e = env(fmt)
        local before = #assert(e.c:list_backups { id = 60 }).backup
        local r = assert(e.c:create_backup { id = 60 })
        assert.is_not_nil(r.req)
        local st = assert(e.c:get_request_status { id = r.req })
        assert.are_not.equal("1", tostring(st.req_complete))
        assert.is_not_nil(st.req_inwork)
        local done = assert(e.c:wait(r, { interval = 5 }))
        assert.are.equal("1", tostring(done.req_complete))
        local list = assert(e.c:list_backups { id = 60 }).backup
        assert.are.equal(before + 1, #list)
        local newest = list[#list]
        assert(e.c:set_backup_schedule { id = 60, file = tostring(newest.file), backups_days = "1,3,5",
          backups_time = "03:30" })
        assert(e.c:set_backup_description { id = 60, file = tostring(newest.file), desc = "перед обновлением" })
        local b = find(e.c:list_backups { id = 60 }.backup, "file", newest.file)
        assert.are.equal("1,3,5", b.days)
        assert.are.equal("03:30", b.time)
        assert.are.equal("перед обновлением", b.desc)
        local res, err = e.c:set_backup_schedule { id = 60, file = tostring(newest.file), backups_days = "1,9",
          backups_time = "03:30" }
        assert.is_nil(res)
        assert.are.equal(400, err.status)
        assert.are.equal("BadRequest", err.code)
        local d = assert(e.c:delete_backup { id = 60, file = tostring(newest.file) })
        assert(e.c:wait(d, { interval = 5 }))
        assert.is_nil(find(e.c:list_backups { id = 60 }.backup, "file", newest.file))
      end)

      it("restore: progress from getstate while waiting, server runs afterwards", function()
        local e = env(fmt)
        local r = assert(e.c:restore_backup { id = 60, file = "2" })
        local seen = {}
        assert(e.c:wait({ req = r.req, server_id = 60 }, { interval = 10,
          progress = function(p) if p then seen[#seen + 1] = p end end }))
        assert.is_true(#seen >= 2)
        assert.is_true(seen[1] < seen[#seen])
        assert.are.equal(100, seen[#seen])
        assert.are.equal("100", tostring(e.c:get_restore_state { id = 60, req = tostring(r.req) }.progress))
        assert.are.equal("is_running", e.c:get_server { id = 60 }.status)
      end)

      it("IP addresses: add in a subnet, move an additional one, not the primary, delete", function()
        local e = env(fmt)
        assert(e.c:add_ip { id = 60, subnet = "62.76.178.*" })
        local ips = assert(e.c:list_ips { id = 60 }).public.ip
        local added
        for _, ip in ipairs(ips) do if ip.addr:match("^62%.76%.178%.") then added = ip end end
        assert.is_table(added)
        assert.is_false(added.is_primary)
        local nets = assert(e.c:list_subnets { id = 60 }).net
        assert.are.equal("1", tostring(find(nets, "ip_subnet", "62.76.178.*").current))
        assert(e.c:move_ip { id = 186, ip = added.addr })
        assert.is_table(find(e.c:list_ips { id = 186 }.public.ip, "addr", added.addr))
        assert.is_nil(find(e.c:list_ips { id = 60 }.public.ip, "addr", added.addr))
        local res, err = e.c:move_ip { id = 186, ip = "188.127.237.202" }
        assert.is_nil(res)
        assert.are.equal(400, err.status)
        assert(e.c:delete_ip { id = 186, ip = added.addr })
        assert.is_nil(find(e.c:list_ips { id = 186 }.public.ip, "addr", added.addr))
      end)

      it("DNS: zone create, records add/edit/delete with new SOA serial, zone delete", function()
        local e = env(fmt)
        local z = assert(e.c:create_dns_zone { newdomain = "shop.ru", newdomain_type = "MASTER" })
        assert.is_not_nil(z.id)
        local zones = assert(e.c:list_dns_zones())
        assert.is_table(find(zones.domains.domain, "name", "shop.ru"))
        assert.is_true(#zones.reverse.zone >= 1)
        assert(e.c:update_dns_zone { id = z.id, records = { { name = "www.shop.ru", type = "A", content = "10.1.1.1",
          ttl = 600 } } })
        local zone = assert(e.c:get_dns_zone { id = z.id })
        assert.is_true(#zone.record_types.record_type >= 5)
        local www = find(zone.records.record, "name", "www.shop.ru")
        assert.are.equal("10.1.1.1", www.content)
        assert.are.equal("600", tostring(www.ttl))
        -- documented dynamic names through _raw
        assert(e.c:update_dns_zone { id = z.id, _raw = { ["content_" .. www.id] = "10.2.2.2" } })
        assert.are.equal("10.2.2.2", find(e.c:get_dns_zone { id = z.id }.records.record, "id", www.id).content)
        local res, err = e.c:update_dns_zone { id = z.id, _raw = { ["owner_" .. www.id] = "x" } }
        assert.is_nil(res)
        assert.are.equal("validation", err.kind)
        local d1 = assert(e.c:delete_dns_record { id = z.id, delete_record = www.id })
        assert.is_not_nil(d1.new_soa)
        assert.is_nil(find(e.c:get_dns_zone { id = z.id }.records.record, "id", www.id))
        -- the record id is required: DELETE /dns/<id> without it would delete the zone
        local before = #e.sent
        res, err = e.c:delete_dns_record { id = z.id }
        assert.is_nil(res)
        assert.are.equal("validation", err.kind)
        assert.are.equal(before, #e.sent)
        assert.is_table(e.c:get_dns_zone { id = z.id })
        assert(e.c:delete_dns_zone { id = z.id })
        res, err = e.c:get_dns_zone { id = z.id }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
        assert.are.equal("зона не найдена", err.details.details)
        res, err = e.c:create_dns_zone { newdomain = "slave.ru", newdomain_type = "SLAVE" }
        assert.is_nil(res)
        assert.are.equal(400, err.status)
      end)

      it("helpdesk: open a ticket, add a message, read it back", function()
        local e = env(fmt)
        local before = #assert(e.c:list_tickets()).tickets.ticket
        assert(e.c:create_ticket { tickets_type = 1, tickets_subj = "Не загружается VPS", tickets_text = "Помогите",
          virtual_mashines_num = 60 })
        local list = e.c:list_tickets().tickets.ticket
        assert.are.equal(before + 1, #list)
        local t = find(list, "subject", "Не загружается VPS")
        assert(e.c:add_ticket_message { id = t.id, text = "Спасибо!" })
        local full = assert(e.c:get_ticket { id = t.id })
        assert.are.equal("Помогите", full.ticket.text)
        assert.are.equal("Спасибо!", full.events.event[1].ticket_events_text)
        assert.are.equal(0, #full.works.work)
        local res, err = e.c:get_ticket { id = 1 }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
      end)

      it("user profile: read, update, read-only fields refused", function()
        local e = env(fmt)
        local p = assert(e.c:get_user_profile())
        assert.are.equal("demo", p.users_login)
        assert.are.equal(3, #p.dcs.dc)
        assert(e.c:update_user_profile { users_profile_jabber = "me@jabber.ru" })
        assert.are.equal("me@jabber.ru", e.c:get_user_profile().users_profile_jabber)
        local res, err = e.c:update_user_profile { users_balance = "100000" }
        assert.is_nil(res)
        assert.are.equal(400, err.status)
      end)

      it("storage: create, detail, update (changes / no changes), delete", function()
        local e = env(fmt)
        local s = assert(e.c:create_storage { title = "media", cache_publicsearch = 1 })
        assert.is_not_nil(s.id)
        assert.is_string(s.storagekey)
        local d = assert(e.c:get_storage_detail { id = s.id })
        assert.are.equal("media", d.title)
        assert.are.equal(s.storagekey, d.key) -- create's storagekey is the Storage Key of list/detail
        local ch = assert(e.c:update_storage { id = s.id, title = "media2", cache_expires = "off" })
        assert.are.equal("media2", ch.title)
        assert.is_nil(ch.cache_expires) -- unchanged values are not reported
        local none = assert(e.c:update_storage { id = s.id, title = "media2" })
        assert.is_nil(next(none))
        assert.is_table(find(e.c:list_storages().storage, "title", "media2"))
        assert(e.c:delete_storage { id = s.id })
        local res, err = e.c:get_storage_detail { id = s.id }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
      end)

      it("billing, images, presets, stats", function()
        local e = env(fmt)
        assert.are.equal("1234", tostring(assert(e.c:get_balance()).balance))
        e.clock.t = e.clock.t + 7200
        local b = assert(e.c:list_billing_operations())
        assert.is_true(tonumber(b.total_debit_amount) > 0)
        assert.is_table(b.debits.vps)
        assert.is_table(b.credits.credit)
        assert(e.c:list_server_billing_operations { id = 60, from = tostring(e.clock.t - 3600),
          to = tostring(e.clock.t) })
        local res, err = e.c:list_server_billing_operations { id = 999 }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
        local images = assert(e.c:list_images()).image
        assert.is_table(find(images, "id", 551))
        assert.is_nil(images[1].os_type)
        assert.are.equal("debian", find(e.c:list_images_detail().image, "id", 551).os_type)
        local presets = assert(e.c:list_presets()).preset
        assert.is_true(#find(presets, "name", "bitrix").fields.field >= 4)
        local st = assert(e.c:get_server_stats { id = 60, from = tostring(e.clock.t - 600), to = tostring(e.clock.t) })
        assert.is_true(#st.row >= 9)
        assert.is_not_nil(st.row[1].statdate)
        res, err = e.c:get_server_stats { id = 60, from = "2030-01-01 00:00:00", to = "2030-01-02 00:00:00" }
        assert.is_nil(res)
        assert.are.equal(404, err.status)
      end)

      it("get_limits: the documented defaults, counted per request", function()
        local e = env(fmt)
        local l1 = assert(e.c:get_limits()).rate.limit
        local get1 = find(l1, "verb", "GET")
        assert.are.equal("60", tostring(get1.value))
        assert.are.equal("50", tostring(l1[2].value))
        assert.are.equal("DAY", l1[2].unit)
        e.c:list_servers()
        e.c:list_images()
        local get2 = find(assert(e.c:get_limits()).rate.limit, "verb", "GET")
        assert.are.equal(tonumber(get1.remaining) - 2, tonumber(get2.remaining))
      end)
    end)
  end

  describe("token lifetime", function()
    it("renews the token before its 20 minutes run out", function()
      local e = env("json")
      assert(e.c:list_servers())
      assert.are.equal(1, count_auth(e))
      e.clock.t = e.clock.t + 1000
      assert(e.c:list_servers())
      assert.are.equal(1, count_auth(e))
      e.clock.t = e.clock.t + 190 -- 1190 s after issue: inside the renewal margin
      assert(e.c:list_servers())
      assert.are.equal(2, count_auth(e))
      -- no 401 was ever answered
      for _, r in ipairs(e.sent) do assert.are_not.equal(nil, r.method) end
    end)

    it("re-authenticates once on a 401 and replays the call", function()
      local e = env("xml", { token_lifetime = 7200 }) -- the client believes the token lives longer
      assert(e.c:list_servers())
      e.clock.t = e.clock.t + 1500
      local res = assert(e.c:list_servers())
      assert.are.equal(2, #res.server)
      assert.are.equal(2, count_auth(e))
      local n = #e.sent
      assert.are.equal("/", e.sent[n - 1].path)
      assert.are.equal("/v1/servers", e.sent[n].path)
      assert.are.equal("/v1/servers", e.sent[n - 2].path)
    end)

    it("does not loop when the API keeps answering 401", function()
      local e = env("json")
      assert(e.c:list_servers())
      e.sim.users.demo.key = "changed" -- the key was revoked: re-authentication fails
      e.sim.tokens = {}
      local res, err = e.c:list_servers()
      assert.is_nil(res)
      assert.are.equal("auth", err.kind)
      assert.are.equal(2, count_auth(e))
    end)
  end)

  describe("rate limits", function()
    it("a refused POST carries retry_after from /limits and is not retried", function()
      local e = env("json")
      e.sim:set_limit("POST", ".*", 2)
      assert(e.c:server_action { id = 60, action = "stop" })
      assert(e.c:server_action { id = 60, action = "start" })
      local res, err = e.c:server_action { id = 60, action = "reboot" }
      assert.is_nil(res)
      assert.are.equal(413, err.status)
      assert.are.equal("OverLimit", err.code)
      assert.is_true(err.rate_limited)
      local expected = 60 - e.clock.t % 60
      assert.are.equal(expected, err.retry_after)
      assert.is_false(err.retryable)
      assert.are.equal(0, #e.slept)
      assert.are.equal("/v1/limits", e.sent[#e.sent].path)
      -- after the reset the call goes through
      e.clock.t = e.clock.t + err.retry_after
      assert(e.c:server_action { id = 60, action = "reboot" })
    end)

    it("a refused GET waits until the reset and is retried", function()
      local e = env("xml")
      e.sim:set_limit("GET", ".*", 3)
      e.clock.t = e.clock.t + 30 -- mid-minute
      assert(e.c:list_servers())
      assert(e.c:list_images())
      assert(e.c:get_balance())
      local res, err = e.c:get_server { id = 60 }
      assert.is_nil(err)
      assert.are.equal(60, tonumber(res.id))
      assert.are.equal(1, #e.slept)
      assert.are.equal(30, e.slept[1])
    end)

    it("without retries the GET error says when to come back", function()
      local e = env("json", { retries = 0 })
      e.sim:set_limit("GET", ".*", 1)
      assert(e.c:list_servers())
      local res, err = e.c:list_servers()
      assert.is_nil(res)
      assert.is_true(err.retryable)
      assert.is_true(err.retry_after > 0 and err.retry_after <= 60)
      assert.are.equal("GET", err.details.limit.verb)
    end)

    it("the daily server-creation limit is too far away to wait for", function()
      local e = env("json")
      e.sim:set_limit("POST", "^/servers", 1)
      local args = { name = "a", vps_type = "ScaleServer", vps_memory = 512, vps_memory_max = 1024, vps_hdd = 5,
        vps_admin = 1, vps_os = 541 }
      assert(e.c:create_server(args))
      local res, err = e.c:create_server(args)
      assert.is_nil(res)
      assert.are.equal(413, err.status)
      assert.is_true(err.retry_after > 60)
      assert.are.equal("DAY", err.details.limit.unit)
      assert.is_false(err.retryable)
    end)
  end)
  describe("empty lists", function()
    it("an account without servers answers 404, the client returns an empty list", function()
      local e = env("xml")
      assert(e.c:delete_server { id = 60 })
      assert(e.c:delete_server { id = 186 })
      local res, err = e.c:list_servers()
      assert.is_nil(err)
      assert.are.same({}, res.server)
      local n = 0
      for _ in e.c:each("list_servers_detail") do n = n + 1 end
      assert.are.equal(0, n)
      -- the raw API answer really is a 404
      local last = e.sent[#e.sent]
      local st = e.sim:handle({ method = "GET", path = last.path, headers = last.headers })
      assert.are.equal(404, st)
      -- a 404 naming a missing server stays an error
      local r2, err2 = e.c:list_backups { id = 60 }
      assert.is_nil(r2)
      assert.are.equal(404, err2.status)
    end)
  end)

  describe("waiting and options", function()
    it("c:wait gives up with a timeout error while the server is still installing", function()
      local e = env("json")
      e.sim.durations.install = 10000
      local s = assert(e.c:create_server { name = "slow", vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5,
        vps_admin = 1, vps_os = 551 })
      local res, err = e.c:wait(s, { timeout = 60, interval = 10 })
      assert.is_nil(res)
      assert.are.equal("timeout", err.kind)
      assert.is_true(e.clock.t >= 1325376000 + 60)
    end)

    it("a datacenter option selects that datacenter's API host", function()
      local urls = {}
      local c = assert(luacloud.new("clodo", { datacenter = "kh", user = "u", key = "k",
        transport = function(req) urls[#urls + 1] = req.url; return { status = 401, headers = {}, body = "" } end }))
      c:list_servers()
      assert.are.equal("https://api.kh.clodo.ru/", urls[1])
      local bad, err = luacloud.new("clodo", { datacenter = "mars", user = "u", key = "k" })
      assert.is_nil(bad)
      assert.are.equal("validation", err.kind)
    end)
  end)
end)

describe("clodo simulator protocol", function()
  local function raw(sim, method, path, headers, body)
    local st, h, b = sim:handle({ method = method, path = path, headers = headers or {}, body = body })
    return st, h, b
  end
  local function login(sim)
    local st, h = raw(sim, "GET", "/", { ["x-auth-user"] = "demo", ["x-auth-key"] = "demo-key" })
    assert.are.equal(204, st)
    return h["X-Auth-Token"], h["X-Server-Management-Url"]
  end

  it("authenticates with the demo credentials, answers 401 in the documented error shape otherwise", function()
    local sim = simmod.new({ now = function() return 1000 end, base_url = BASE })
    local token, url = login(sim)
    assert.is_string(token)
    assert.are.equal(BASE .. "/v1", url)
    local st, h, b = raw(sim, "GET", "/", { ["x-auth-user"] = "demo", ["x-auth-key"] = "nope",
      accept = "application/xml" })
    assert.are.equal(401, st)
    assert.truthy(h["Content-Type"]:find("xml", 1, true))
    local v, root = simmod.xml_parse(b)
    assert.are.equal("Unauthorized", root)
    assert.are.equal("401", v.code)
    assert.is_string(v.message)
    local st2, _, b2 = raw(sim, "GET", "/v1/servers", { accept = "application/json" })
    assert.are.equal(401, st2)
    assert.truthy(b2:find('"Unauthorized":{', 1, true))
  end)

  it("keeps the documented paths: trailing slashes matter, wrong methods get 405", function()
    local sim = simmod.new({ now = function() return 1000 end, base_url = BASE })
    local token = login(sim)
    local h = { ["x-auth-token"] = token, accept = "application/json" }
    assert.are.equal(200, (raw(sim, "GET", "/v1/dns/", h)))
    assert.are.equal(404, (raw(sim, "GET", "/v1/dns", h)))
    assert.are.equal(200, (raw(sim, "GET", "/v1/servers/60/log/", h)))
    assert.are.equal(404, (raw(sim, "GET", "/v1/servers/60/log", h)))
    assert.are.equal(404, (raw(sim, "GET", "/servers", h))) -- not under the management URL
    assert.are.equal(405, (raw(sim, "DELETE", "/v1/images", h)))
  end)

  it("reads XML and JSON bodies in the documented shapes, refuses malformed ones", function()
    local sim = simmod.new({ now = function() return 1000 end, base_url = BASE })
    local token = login(sim)
    local function h(ct) return { ["x-auth-token"] = token, accept = "application/json", ["content-type"] = ct } end
    local st = raw(sim, "POST", "/v1/servers/60/backup/setdesc", h("application/xml"),
      '<?xml version="1.0" encoding="UTF-8"?>\n<backup><file>2</file><desc>A &amp; B</desc></backup>')
    assert.are.equal(204, st)
    local _, _, b = raw(sim, "GET", "/v1/servers/60/backup/getlist", h())
    assert.truthy(b:find('"desc":"A & B"', 1, true))
    st = raw(sim, "POST", "/v1/servers/60/backup/setdesc", h("application/json"), '{"file":"2","desc":"x"}')
    assert.are.equal(204, st)
    st = raw(sim, "POST", "/v1/servers/60/backup/setdesc", h("application/xml"), "<backup><file>2</desc></backup>")
    assert.are.equal(400, st)
    st = raw(sim, "PUT", "/v1/servers/60", h("application/json"), '{"server":{"vps_hdd":')
    assert.are.equal(400, st)
  end)

  it("seed adds objects and reset restores the documented sample account", function()
    local sim = simmod.new({ now = function() return 1000 end, base_url = BASE })
    local before = 0
    for _ in pairs(sim.servers) do before = before + 1 end
    sim:seed("servers", 3)
    sim:seed("zones", 2)
    local n = 0
    for _ in pairs(sim.servers) do n = n + 1 end
    assert.are.equal(before + 3, n)
    sim:reset()
    n = 0
    for _ in pairs(sim.servers) do n = n + 1 end
    assert.are.equal(before, n)
    assert.has_error(function() sim:seed("spaceships", 1) end)
  end)

  it("runs under LuaJIT (Lua 5.1) as nginx does", function()
    local has = os.execute("command -v luajit >/dev/null 2>&1")
    if not has then return end
    local script = [=[
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      local t = 1000
      local sim = require("luacloud.sim.clodo").new({ now = function() return t end })
      local auth = { ["x-auth-user"] = "demo", ["x-auth-key"] = "demo-key" }
      local st, h = sim:handle({ method = "GET", path = "/", headers = auth })
      local hd = { ["x-auth-token"] = h["X-Auth-Token"], accept = "application/xml",
                   ["content-type"] = "application/xml" }
      local s1 = sim:handle({ method = "POST", path = "/v1/servers/60/action", headers = hd,
                              body = '<rebuild imageId="27"/>' })
      local s2, _, b = sim:handle({ method = "GET", path = "/v1/limits", headers = hd })
      t = t + 2000
      local s3 = sim:handle({ method = "GET", path = "/v1/servers", headers = hd })
      io.write(st, " ", s1, " ", s2, " ", s3, " ", b:find("<limit ", 1, true) and "limits" or "-")
    ]=]
    local f = assert(io.popen("luajit -e '" .. script:gsub("'", "'\\''") .. "' 2>&1"))
    local out = f:read("*a")
    f:close()
    assert.are.equal("204 204 200 401 limits", out)
  end)

  it("fault() gives the API's own rate-limit and maintenance answers", function()
    local sim = simmod.new({ now = function() return 1000 end, base_url = BASE })
    local st, _, b = sim:fault("rate_limit")
    assert.are.equal(413, st)
    assert.truthy(b:find("OverLimit", 1, true))
    st = sim:fault("maintenance")
    assert.are.equal(405, st)
  end)
end)
