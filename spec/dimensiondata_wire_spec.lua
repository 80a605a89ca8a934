-- Every request Dimension Data's client puts on the wire, recorded by a capturing transport:
--   * a state-changing GET refused as "operation in progress" (REASON_392) is sent once, and the
--     server's code and resultDetail reach err;
--   * wherever a request is built again (retry, org-id discovery, waiter polls, prefetched pages,
--     c:batch's fallback), it is byte for byte the first one, and no URL has an empty org id;
--   * the server's own code and message reach err whatever the error document's root.
-- The answers are shaped as the real service sends them (prefixed Status, additionalInformation),
-- see spec/fixtures/dimensiondata/replay/README.md.
local luacloud = require("luacloud")

local ORG = "8a8f6abc-2745-4d8a-9cbc-8dabe5a7d0e4"
local HOST = "https://api-na.dimensiondata.com"
local BASE_OP = "list_os_server_images_with_software_labels"

local ACCOUNT = [[<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns3:Account xmlns:ns3="http://oec.api.opsource.net/schemas/directory"><ns3:userName>tester</ns3:userName>
<ns3:fullName>Test Er</ns3:fullName><ns3:firstName>Test</ns3:firstName><ns3:lastName>Er</ns3:lastName>
<ns3:emailAddress>t@example.com</ns3:emailAddress><ns3:orgId>]] .. ORG .. [[</ns3:orgId>
<ns3:roles><ns3:role><ns3:name>server</ns3:name></ns3:role></ns3:roles></ns3:Account>]]

local function status(result, code, detail, op)
  return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    .. '<ns4:Status xmlns="http://oec.api.opsource.net/schemas/server" xmlns:ns4="http://oec.api.opsource.net/schemas/general">'
    .. '<ns4:operation>%s</ns4:operation><ns4:result>%s</ns4:result><ns4:resultDetail>%s</ns4:resultDetail>'
    .. '<ns4:resultCode>%s</ns4:resultCode></ns4:Status>'):format(op or "Server Action", result, detail, code)
end

local function xml(code, body) return { status = code, headers = { ["content-type"] = "application/xml" }, body = body } end
local OK = xml(200, status("SUCCESS", "REASON_0", 'Server "Action" issued'))
local BUSY_DETAIL = "Operation in progress on Server with Id 11."
local BUSY = xml(400, status("ERROR", "REASON_392", BUSY_DETAIL))
local MAINTENANCE = xml(503, status("ERROR", "REASON_5", "System is down for scheduled maintenance."))

local function copy(req)
  local h = {}
  for k, v in pairs(req.headers or {}) do h[k] = v end
  return { method = req.method, url = req.url, headers = h, body = req.body }
end

-- answer(req, n) -> response | nil, transport error; myaccount answered with ACCOUNT unless answer does
local function recorder(answer, async)
  local wire = {}
  local function respond(req)
    wire[#wire + 1] = copy(req)
    local r, e = answer(req, #wire)
    if r == nil and e == nil and req.url:find("/oec/0.9/myaccount", 1, true) then return xml(200, ACCOUNT) end
    return r, e
  end
  local t = setmetatable({}, { __call = function(_, req) return respond(req) end })
  if async then
    t.start = function(req)
      local r, e = respond(req)
      return { finish = function() return r, e end }
    end
  end
  return t, wire
end

local function client(transport, extra)
  local o = { username = "tester", password = "pw-secret", endpoint = HOST, transport = transport,
    sleep = function() end, retry_delay = 0 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return assert(luacloud.new("dimensiondata", o))
end

local function urls(wire)
  local out = {}
  for i, r in ipairs(wire) do out[i] = r.method .. " " .. r.url:gsub("^" .. HOST:gsub("%p", "%%%0"), "") end
  return out
end

local function no_empty_org(wire)
  for _, r in ipairs(wire) do assert.falsy(r.url:find("/oec/0.9//", 1, true), r.url) end
end

-- all requests after the discovery are the same request
local function all_same(wire, from)
  for i = from + 1, #wire do assert.same(wire[from], wire[i]) end
end

describe("dimensiondata requests on the wire", function()
  describe("a state-changing GET refused as in progress (REASON_392)", function()
    local FLAGS = { delete_server = "delete", power_off_server = "poweroff", restart_server = "restart",
      shutdown_server = "shutdown", start_server = "start" }
    for op, flag in pairs(FLAGS) do
      it("is sent once: " .. op .. " (?" .. flag .. ")", function()
        local t, wire = recorder(function(req)
          if req.url:find("/server/11?", 1, true) then return BUSY end
        end)
        local c = client(t)
        local res, err = c:call(op, { server_id = "11" })
        assert.is_nil(res)
        assert.same({ "GET /oec/0.9/myaccount", "GET /oec/0.9/" .. ORG .. "/server/11?" .. flag }, urls(wire))
        assert.equal("REASON_392", err.code)
        assert.equal(BUSY_DETAIL, err.message)
        assert.equal("api", err.kind)
        assert.equal(400, err.status)
        assert.equal(op, err.op)
        assert.is_true(err.details.in_progress)
        assert.is_false(err.retryable)
      end)
    end

    it("is sent once also when the org id is known and retries are many", function()
      local t, wire = recorder(function() return BUSY end)
      local _, err = client(t, { org_id = ORG, retries = 5 }):delete_server({ server_id = "11" })
      assert.same({ "GET /oec/0.9/" .. ORG .. "/server/11?delete" }, urls(wire))
      assert.equal("REASON_392", err.code)
    end)

    -- the document's other "in progress" refusals: a disk of the server (379), a backup job (547)
    for op, case in pairs({ remove_storage_from_server = { "REASON_379", { server_id = "11", disk_id = "d1" } },
        remove_backup_client = { "REASON_547", { server_id = "11", backup_client_id = "b1" } } }) do
      it("is sent once, marked in progress: " .. case[1] .. " for " .. op, function()
        local t, wire = recorder(function() return xml(400, status("ERROR", case[1], "An operation is in progress.")) end)
        local _, err = client(t, { org_id = ORG, retries = 5 }):call(op, case[2])
        assert.equal(1, #wire)
        assert.equal(case[1], err.code)
        assert.is_true(err.details.in_progress)
      end)
    end

    it("is sent once in c:batch too (the early send is not repeated by the full path)", function()
      local t, wire = recorder(function(req)
        if req.url:find("/server/11?", 1, true) then return BUSY end
        if not req.url:find("myaccount", 1, true) then return OK end
      end, true)
      local out = client(t):batch({ { "delete_server", { server_id = "11" } }, { "start_server", { server_id = "12" } } })
      assert.equal("REASON_392", out[1].err.code)
      assert.equal(BUSY_DETAIL, out[1].err.message)
      assert.truthy(out[2].result)
      assert.same({ "GET /oec/0.9/myaccount", "GET /oec/0.9/" .. ORG .. "/server/11?delete",
        "GET /oec/0.9/" .. ORG .. "/server/12?start" }, urls(wire))
    end)

    it("CloudControl's RESOURCE_BUSY <response> is the same refusal", function()
      local t, wire = recorder(function(req)
        if req.url:find("/server/") then
          return xml(400, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            .. '<response xmlns="urn:didata.com:api:cloud:types" requestId="NA9/2015-03-08T05:49:07.774-04:00/f0a5">'
            .. '<operation>DELETE_SERVER</operation><responseCode>RESOURCE_BUSY</responseCode>'
            .. '<message>Server is already busy</message></response>')
        end
      end)
      local _, err = client(t):delete_server({ server_id = "11" })
      assert.equal(2, #wire)
      assert.equal("RESOURCE_BUSY", err.code)
      assert.equal("Server is already busy", err.message)
      assert.equal("api", err.kind)
      assert.equal("DELETE_SERVER", err.details.operation)
      assert.equal("NA9/2015-03-08T05:49:07.774-04:00/f0a5", err.details.requestId)
      assert.is_true(err.details.in_progress)
    end)
  end)

  describe("a request built again equals the first", function()
    local CASES = {
      { "list_servers_with_backup", { location = { "NA1", "NA3" }, pageSize = 50 }, MAINTENANCE },
      { "list_servers_with_backup", {}, { status = 503, headers = {}, body = "Service Unavailable" } },
      { "deploy_server", { name = "web", description = "d", vlanResourcePath = "/oec/" .. ORG .. "/network/n1",
          imageResourcePath = "/oec/base/image/i1", administratorPassword = "Secret-123", isStarted = true }, MAINTENANCE },
      { "modify_server", { server_id = "s1", memory = 4096, cpuCount = 2 }, MAINTENANCE },
      { "enable_server_backup", { server_id = "s1", servicePlan = "Advanced" }, MAINTENANCE },
      { "delete_server", { server_id = "s1" }, MAINTENANCE }, -- refused, so not applied: may be sent again
    }
    for _, case in ipairs(CASES) do
      it("after a retry: " .. case[1] .. " answered " .. case[3].status .. (case[3].body:find("<", 1, true) and " (Status)" or " (bare)"), function()
        local t, wire = recorder(function(req, n)
          if req.url:find("myaccount", 1, true) then return nil end
          if n == 2 then return case[3] end
          return OK
        end)
        local c = client(t)
        assert(c:call(case[1], case[2]))
        assert.equal(3, #wire)
        assert.truthy(wire[2].url:find("/oec/0.9/" .. ORG .. "/", 1, true) or case[1] == "get_my_account")
        assert.same(wire[2], wire[3])
        no_empty_org(wire)
      end)
    end

    it("after a timeout of a list (a read is safe to repeat)", function()
      local t, wire = recorder(function(req, n)
        if n == 2 then return nil, { kind = "timeout", message = "timed out" } end
        if not req.url:find("myaccount", 1, true) then return OK end
      end)
      assert(client(t):list_servers_with_backup({ name = "web" }))
      assert.equal(3, #wire)
      all_same(wire, 2)
      no_empty_org(wire)
    end)

    it("never after a timeout of a state-changing GET (it may have been done)", function()
      local t, wire = recorder(function(req)
        if not req.url:find("myaccount", 1, true) then return nil, { kind = "timeout", message = "timed out" } end
      end)
      local _, err = client(t, { retries = 5 }):delete_server({ server_id = "s1" })
      assert.equal("timeout", err.kind)
      assert.same({ "GET /oec/0.9/myaccount", "GET /oec/0.9/" .. ORG .. "/server/s1?delete" }, urls(wire))
    end)

    it("never after a timeout of Clone Server, a GET that creates an image", function()
      local t, wire = recorder(function() return nil, { kind = "timeout", message = "timed out" } end)
      local _, err = client(t, { org_id = ORG, retries = 5 }):clone_server_to_customer_image({ server_id = "s1", clone = "gold" })
      assert.equal("timeout", err.kind)
      assert.same({ "GET /oec/0.9/" .. ORG .. "/server/s1?clone=gold" }, urls(wire))
    end)

    it("every GET that changes state is marked so in the catalog (a flag or Clone Server's ?clone=)", function()
      for id, e in pairs(client(recorder(function() end), { org_id = ORG }).operations) do
        if e.method == "GET" and (e.path:find("?", 1, true) or id == "clone_server_to_customer_image") then
          assert.is_false(e.safe, id)
        end
      end
    end)

    it("never after a refused login: no re-login for Basic credentials, one request", function()
      local t, wire = recorder(function() return { status = 401, headers = {}, body = "" } end)
      local _, err = client(t, { org_id = ORG }):list_servers_with_backup({})
      assert.equal("auth", err.kind)
      assert.equal(1, #wire)
    end)

    it("learns the org id once, before the first URL is built, and only when a path needs it", function()
      local t, wire = recorder(function(req) if not req.url:find("myaccount", 1, true) then return OK end end)
      local c = client(t)
      c:call(BASE_OP, { location_id = "NA1" }) -- /oec/0.9/base/...: no org id needed
      local _, verr = c:delete_server({})
      assert.equal("validation", verr.kind)
      assert(c:delete_server({ server_id = "s1" }))
      assert(c:start_server({ server_id = "s1" }))
      local list = urls(wire)
      assert.equal("GET /oec/0.9/base/image/deployedWithSoftwareLabels/NA1", list[1])
      assert.equal("GET /oec/0.9/myaccount", list[2])
      local discoveries = 0
      for _, u in ipairs(list) do if u == "GET /oec/0.9/myaccount" then discoveries = discoveries + 1 end end
      assert.equal(1, discoveries)
      assert.equal("GET /oec/0.9/" .. ORG .. "/server/s1?start", list[#list])
      no_empty_org(wire)
    end)

    it("retries a discovery the system was too busy for, then builds the call once", function()
      local t, wire = recorder(function(req, n)
        if n == 1 then return MAINTENANCE end
        if not req.url:find("myaccount", 1, true) then return OK end
      end)
      assert(client(t):delete_server({ server_id = "s1" }))
      assert.same({ "GET /oec/0.9/myaccount", "GET /oec/0.9/myaccount", "GET /oec/0.9/" .. ORG .. "/server/s1?delete" },
        urls(wire))
      assert.same(wire[1], wire[2])
    end)

    it("sends nothing with an empty org id when the discovery is refused", function()
      local t, wire = recorder(function(req)
        if req.url:find("myaccount", 1, true) then return { status = 401, headers = {}, body = "" } end
        return OK
      end)
      local res, err = client(t):delete_server({ server_id = "s1" })
      assert.is_nil(res)
      assert.equal("auth", err.kind)
      assert.same({ "GET /oec/0.9/myaccount" }, urls(wire))
    end)

    it("in a dry run: never a URL with an empty org id", function()
      local t, wire = recorder(function() end)
      local r = assert(client(t, { dry_run = true }):delete_server({ server_id = "s1" }))
      -- the org id learned (a discovery request), or a readable placeholder when a dry run sends nothing
      local org = r.request.url:match("^" .. HOST:gsub("%p", "%%%0") .. "/oec/0%.9/([^/]+)/server/s1%?delete$")
      assert.truthy(org == ORG or org == "{org-id}", r.request.url)
      for _, u in ipairs(urls(wire)) do assert.equal("GET /oec/0.9/myaccount", u) end
    end)

    it("for every poll of a waiter", function()
      local polls = 0
      local t, wire = recorder(function(req)
        if req.url:find("myaccount", 1, true) then return nil end
        polls = polls + 1
        local state = polls < 3 and "PENDING_CHANGE" or "NORMAL"
        local st = polls < 3 and "<status><action>START_SERVER</action><step><name>S</name><number>1</number>"
          .. "<percentComplete>" .. (polls * 30) .. "</percentComplete></step></status>" or ""
        return xml(200, '<ServersWithBackup xmlns="http://oec.api.opsource.net/schemas/server" pageNumber="1"'
          .. ' pageCount="1" totalCount="1" pageSize="250"><server id="s1" location="NA1"><name>web</name>'
          .. "<isDeployed>true</isDeployed><isStarted>true</isStarted><state>" .. state .. "</state>"
          .. st .. "</server></ServersWithBackup>")
      end)
      local s = assert(client(t):wait({ server_id = "s1" }, { interval = 0, max_interval = 0, timeout = 30 }))
      assert.equal("NORMAL", s.state)
      assert.equal(4, #wire)
      assert.equal("GET /oec/0.9/" .. ORG .. "/serverWithBackup?id=s1", urls(wire)[2])
      all_same(wire, 2)
    end)

    local function page(n, of)
      local items = {}
      for i = 1, 2 do items[#items + 1] = ('<server id="p%d-%d" location="NA1"><name>s</name></server>'):format(n, i) end
      return xml(200, ('<ServersWithBackup xmlns="http://oec.api.opsource.net/schemas/server" pageNumber="%d"'
        .. ' pageCount="2" totalCount="%d" pageSize="2">%s</ServersWithBackup>'):format(n, of * 2, table.concat(items)))
    end

    local function by_page(list) -- the login first, then the pages by number (a stable sort)
      local key = {}
      for i, u in ipairs(list) do
        key[u] = key[u] or (u:find("myaccount", 1, true) and 0 or tonumber(u:match("pageNumber=(%d+)")) or 1) * 100 + i
      end
      local out = { table.unpack(list) }
      table.sort(out, function(a, b) return key[a] < key[b] end)
      return out
    end

    it("for prefetched pages (c:each), also when a prefetch fails and is sent again", function()
      local failed = false
      local t, wire = recorder(function(req)
        if req.url:find("myaccount", 1, true) then return nil end
        local n = tonumber(req.url:match("pageNumber=(%d+)")) or 1
        if n == 2 and not failed then failed = true return MAINTENANCE end
        return page(n, 3)
      end, true)
      local c = client(t)
      local got = {}
      for s in c:each("list_servers_with_backup", { pageSize = 2, name = "s" }) do got[#got + 1] = s.id end
      assert.same({ "p1-1", "p1-2", "p2-1", "p2-2", "p3-1", "p3-2" }, got)
      local list = urls(wire)
      local base = "GET /oec/0.9/" .. ORG .. "/serverWithBackup?"
      -- page 3 goes out (ahead, core.pager) before page 2's answer is read: compare in page order
      assert.same({ "GET /oec/0.9/myaccount", base .. "pageSize=2&name=s",
        base .. "pageSize=2&pageNumber=2&name=s", base .. "pageSize=2&pageNumber=2&name=s",
        base .. "pageSize=2&pageNumber=3&name=s" }, by_page(list))
      local second = {}
      for _, r in ipairs(wire) do if r.url:find("pageNumber=2", 1, true) then second[#second + 1] = r end end
      assert.equal(2, #second)
      assert.same(second[1], second[2])
    end)

    it("in c:batch: the early send and the full path's retry are the same request", function()
      local seen = {}
      local t, wire = recorder(function(req)
        if req.url:find("myaccount", 1, true) then return nil end
        seen[req.url] = (seen[req.url] or 0) + 1
        if seen[req.url] == 1 and req.url:find("s2", 1, true) then return MAINTENANCE end
        return OK
      end, true)
      local c = client(t)
      local out = c:batch({ { "start_server", { server_id = "s1" } }, { "start_server", { server_id = "s2" } },
        { "delete_server", { server_id = "s3" } } })
      for i = 1, 3 do assert.truthy(out[i].result, tostring(out[i].err)) end
      local list = urls(wire)
      assert.equal("GET /oec/0.9/myaccount", list[1])
      assert.equal(5, #list)
      local s2 = {}
      for _, r in ipairs(wire) do if r.url:find("s2", 1, true) then s2[#s2 + 1] = r end end
      assert.equal(2, #s2)
      assert.same(s2[1], s2[2])
      no_empty_org(wire)
    end)
  end)

  describe("the server's code and message reach err", function()
    local function answer_with(resp)
      local t = recorder(function() return resp end)
      return client(t, { org_id = ORG })
    end

    it("from a prefixed Status (any prefix, default namespace elsewhere)", function()
      local _, err = answer_with(xml(400, status("ERROR", "REASON_692",
        "Server 'a' (id 22f3) is already used in another Anti-Affinity Rule (id 07e3).", "Create Anti Affinity Rule")))
        :create_server_anti_affinity_rule({ serverId = { "a", "b" } })
      assert.equal("REASON_692", err.code)
      assert.equal("Server 'a' (id 22f3) is already used in another Anti-Affinity Rule (id 07e3).", err.message)
      assert.equal("Create Anti Affinity Rule", err.details.operation)
    end)

    it("says whether the work may have been done: a refusal did nothing, REASON_20/292 may have", function()
      local _, refused = answer_with(xml(400, status("ERROR", "REASON_40", "Server is not stopped.")))
        :delete_server({ server_id = "x" })
      assert.equal("no", refused.applied)
      local _, timeout = answer_with(xml(400, status("ERROR", "REASON_20", "Unrecoverable failure caused by a timeout.")))
        :delete_network({ network_id = "n1" })
      assert.equal("REASON_20", timeout.code)
      assert.equal("maybe", timeout.applied)
      assert.is_falsy(timeout.details.not_applied)
      local _, pending = answer_with(xml(400, status("ERROR", "REASON_292", "ACL rule pending.")))
        :delete_acl_rule({ net_id = "n1", acl_id = "a1" })
      assert.equal("maybe", pending.applied)
    end)

    it("from a Status with an empty resultDetail: the document's text for the code", function()
      local _, err = answer_with(xml(400, status("ERROR", "REASON_395", ""))):delete_server({ server_id = "x" })
      assert.equal("REASON_395", err.code)
      assert.equal("Could not find server {server-id} for {org-id}.", err.message)
    end)

    it("from a Status answered with HTTP 200 but result ERROR", function()
      local _, err = answer_with(xml(200, status("ERROR", "REASON_40", "Server is not stopped.")))
        :delete_server({ server_id = "x" })
      assert.equal("REASON_40", err.code)
      assert.equal("Server is not stopped.", err.message)
    end)

    it("from CloudControl's <response> document", function()
      local _, err = answer_with(xml(400, '<response xmlns="urn:didata.com:api:cloud:types" requestId="na/1">'
        .. "<operation>GET_CUSTOMER_IMAGE</operation><responseCode>RESOURCE_NOT_FOUND</responseCode>"
        .. "<message>Server Image 2ffa not found.</message></response>")):get_server_image({ image_id = "2ffa" })
      assert.equal("RESOURCE_NOT_FOUND", err.code)
      assert.equal("Server Image 2ffa not found.", err.message)
      assert.equal("api", err.kind)
      assert.equal(400, err.status)
    end)

    it("a Status answering an operation that does not expect one keeps additionalInformation a list", function()
      local c = client(recorder(function() end), { org_id = ORG })
      local st = assert(c.hooks.decode(c, c.operations.get_my_account, xml(200,
        '<Status><operation>X</operation><result>SUCCESS</result><resultDetail>ok</resultDetail><resultCode>REASON_0</resultCode>'
        .. '<additionalInformation name="a.id"><value>42</value></additionalInformation></Status>')))
      assert.equal(require("luacloud.core").array_mt, getmetatable(st.additionalInformation))
      assert.equal(1, #st.additionalInformation)
      assert.equal("42", st.info["a.id"])
    end)

    it("from an error document without a code: the status, and the document's message", function()
      local _, err = answer_with(xml(500, "<error><message>internal failure</message></error>"))
        :get_server_image({ image_id = "2ffa" })
      assert.equal(500, err.code)
      assert.equal("internal failure", err.message)
      assert.equal("http", err.kind)
    end)
  end)
end)
