-- Dimension Data calls replayed against answers in the shapes the live service sends
-- (spec/fixtures/dimensiondata/replay/README.md): prefixed and re-prefixed namespaces, in-progress
-- refusals, CloudControl's <response> errors, lists with two, one and no items, paging. Every call
-- goes through the whole client (org-id discovery, build, prepare, decode); every request is recorded.
local luacloud = require("luacloud")
local core = require("luacloud.core")
local values = require("spec.support.xml_values")

local DIR = "spec/fixtures/dimensiondata/replay/"
local HOST = "https://api.opsourcecloud.net"
local ORG = "5f2c1d3e-7a61-4b0e-9c1a-2d3e4f5a6b7c" -- the orgId of myaccount.xml

local function read(name)
  local f = assert(io.open(DIR .. name, "rb"), name)
  local s = f:read("*a")
  f:close()
  return s
end

-- routes: { ["GET /oec/0.9/{org}/server/11?delete"] = { 400, "server_delete.392.xml" } }; the path
-- as sent, {org} standing for the org id; myaccount.xml answers the discovery unless routed.
local function replay(routes, extra)
  local wire = {}
  local transport = function(req)
    local rel = req.method .. " " .. req.url:sub(#HOST + 1)
    wire[#wire + 1] = rel
    local key = rel:gsub(ORG:gsub("%-", "%%-"), "{org}")
    local r = routes[key] or (key == "GET /oec/0.9/myaccount" and { 200, "myaccount.xml" })
    if not r then return { status = 404, headers = {}, body = "no route for " .. key } end
    return { status = r[1], headers = { ["content-type"] = "application/xml;charset=UTF-8" }, body = read(r[2]) }
  end
  local o = { username = "replay-admin", password = "replay-pw", vendor = "opsource", region = "na",
    transport = transport, sleep = function() end, retry_delay = 0 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return assert(luacloud.new("dimensiondata", o)), wire
end

local function is_array(v, n)
  assert.equal(core.array_mt, getmetatable(v), "not an array")
  if n then assert.equal(n, #v) end
end

describe("dimensiondata replayed against the live service's answer shapes", function()
  describe("operation in progress", function()
    it("a busy server's delete is sent once and fails with the server's REASON_392 and text", function()
      local c, wire = replay({ ["GET /oec/0.9/{org}/server/11?delete"] = { 400, "server_delete.392.xml" } })
      local res, err = c:delete_server({ server_id = "11" })
      assert.is_nil(res)
      assert.same({ "GET /oec/0.9/myaccount", "GET /oec/0.9/" .. ORG .. "/server/11?delete" }, wire)
      assert.same({ "api", 400, "REASON_392", "Operation in progress on Server with Id 11." },
        { err.kind, err.status, err.code, err.message })
      assert.equal("Delete Server", err.details.operation)
      assert.is_true(err.details.in_progress)
      assert.is_true(err.details.documented ~= nil)
    end)

    it("so is a busy server's power-off (namespace declarations over several lines)", function()
      local c, wire = replay({ ["GET /oec/0.9/{org}/server/11?poweroff"] = { 400, "server_poweroff.392.xml" } },
        { org_id = ORG, retries = 4 })
      local _, err = c:power_off_server({ server_id = "11" })
      assert.same({ "GET /oec/0.9/" .. ORG .. "/server/11?poweroff" }, wire)
      assert.same({ "REASON_392", "Operation in progress on Server 11" }, { err.code, err.message })
    end)

    it("a busy image's delete: REASON_601, sent once", function()
      local c, wire = replay({ ["GET /oec/0.9/{org}/image/7d1e?delete"] = { 400, "image_delete.601.xml" } })
      local _, err = c:delete_customer_server_image({ image_id = "7d1e" })
      assert.equal(2, #wire)
      assert.same({ "REASON_601", "Operation in progress on Server Image 7d1e." }, { err.code, err.message })
      assert.is_true(err.details.in_progress)
    end)

    it("CloudControl's RESOURCE_BUSY <response>, its requestId broken over a line", function()
      local c, wire = replay({ ["GET /oec/0.9/{org}/server/11?delete"] = { 400, "response.busy.xml" } })
      local _, err = c:delete_server({ server_id = "11" })
      assert.equal(2, #wire)
      assert.same({ "api", "RESOURCE_BUSY", "Server is already busy", "DELETE_SERVER" },
        { err.kind, err.code, err.message, err.details.operation })
      assert.equal("NA9/2016-02- 11T09:12:44.120-05:00/0c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5", err.details.requestId)
    end)
  end)

  describe("errors", function()
    it("the server's REASON_692 and its text, from a Status prefixed ns5", function()
      local c = replay({ ["POST /oec/0.9/{org}/antiAffinityRule"] = { 400, "antiaffinity_create.692.xml" } })
      local _, err = c:create_server_anti_affinity_rule({ serverId = { "3a1b", "4c2d" } })
      assert.equal("REASON_692", err.code)
      assert.equal("Server 'replay-web' (id 3a1b) is already used in another Anti-Affinity Rule (id 9c8d).", err.message)
      assert.equal("Create Anti Affinity Rule", err.details.operation)
      assert.equal(692, err.details.code_number)
    end)

    it("the server's REASON_693 for a state-changing GET", function()
      local c, wire = replay({ ["GET /oec/0.9/{org}/antiAffinityRule/9c8d?delete"] = { 400, "antiaffinity_delete.693.xml" } })
      local _, err = c:delete_server_anti_affinity_rule({ rule_id = "9c8d" })
      assert.same({ "REASON_693", "Could not find Anti Affinity Rule with Id 9c8d" }, { err.code, err.message })
      assert.equal(2, #wire)
    end)

    it("CloudControl's RESOURCE_NOT_FOUND <response>", function()
      local c = replay({ ["GET /oec/0.9/{org}/image/7d1e"] = { 400, "response.not_found.xml" } })
      local _, err = c:get_server_image({ image_id = "7d1e" })
      assert.same({ "api", 400, "RESOURCE_NOT_FOUND", "Server Image 7d1e not found." },
        { err.kind, err.status, err.code, err.message })
    end)
  end)

  describe("results", function()
    it("a SUCCESS Status with one additionalInformation: an array of one, and the value by name", function()
      local c = replay({ ["POST /oec/0.9/{org}/antiAffinityRule"] = { 200, "antiaffinity_create.ok.xml" } })
      local st = assert(c:create_server_anti_affinity_rule({ serverId = { "3a1b", "4c2d" } }))
      is_array(st.additionalInformation, 1)
      assert.equal("0b9e4c2a-1f3d-4e5b-8a7c-6d5e4f3a2b1c", st.info["antiaffinityrule.id"])
      assert.same({}, values.missing(read("antiaffinity_create.ok.xml"), st))
    end)

    it("a create's new id from the live service's resultDetail wording (Network ID: ...)", function()
      local c = replay({ ["POST /oec/0.9/{org}/networkWithLocation"] = { 200, "network_create.ok.xml" } })
      local st = assert(c:create_network_with_location({ name = "replay-net-c", location = "NA1" }))
      assert.equal("3c4d5e6f-e2f7-11e1-9153-001b21cfdbe0", st.id)
      assert.equal("Add Network", st.operation)
    end)

    it("a Status that declares only its own prefix", function()
      local c = replay({ ["POST /oec/0.9/{org}/server/s1"] = { 200, "server_modify.ok.xml" } })
      local st = assert(c:modify_server({ server_id = "s1", memory = 4096 }))
      assert.same({ "SUCCESS", "Server edited", "Edit Server" }, { st.result, st.resultDetail, st.operation })
      is_array(st.additionalInformation, 0)
    end)

    for _, case in ipairs({ { "two", 2 }, { "one", 1 }, { "empty", 0 } }) do
      it("a prefixed list with " .. case[1] .. " item(s) is an array of " .. case[2], function()
        local file = "networks_with_location." .. case[1] .. ".xml"
        local c = replay({ ["GET /oec/0.9/{org}/networkWithLocation"] = { 200, file } })
        local r = assert(c:list_networks_with_location())
        is_array(r.network, case[2])
        assert.same({}, values.missing(read(file), r))
        if case[2] > 0 then assert.same({ "replay-net-a", "NA5", "false" }, { r.network[1].name, r.network[1].location, r.network[1].multicast }) end
      end)
    end

    it("a list root prefixed ns8 under another default namespace", function()
      local c = replay({ ["GET /oec/0.9/{org}/datacenter"] = { 200, "datacenters.two.xml" } })
      local r = assert(c:list_data_centers())
      is_array(r.datacenter, 2)
      assert.same({ "NA9", "false" }, { r.datacenter[2].location, r.datacenter[2].default })
      assert.same({}, values.missing(read("datacenters.two.xml"), r))
    end)

    it("an unprefixed list with one item keeps nested values and unescapes text", function()
      local c = replay({ ["GET /oec/0.9/{org}/server/deployed"] = { 200, "deployed_servers.one.xml" } })
      local r = assert(c:list_deployed_servers())
      is_array(r.DeployedServer, 1)
      local s = r.DeployedServer[1]
      assert.equal("replay web server & cache", s.description)
      assert.equal("REDHAT5/64", s.machineSpecification.operatingSystem.displayName)
      assert.same({}, values.missing(read("deployed_servers.one.xml"), r))
    end)

    it("pages through a paged list (c:each), one-item lists inside items as arrays", function()
      local c, wire = replay({
        ["GET /oec/0.9/{org}/serverWithBackup?pageSize=2"] = { 200, "servers_with_backup.page1.xml" },
        ["GET /oec/0.9/{org}/serverWithBackup?pageSize=2&pageNumber=2"] = { 200, "servers_with_backup.page2.xml" },
      })
      local got = {}
      for s in c:each("list_servers_with_backup", { pageSize = 2 }) do got[#got + 1] = s end
      assert.equal(3, #got)
      assert.same({ "replay-web", "replay-db", "replay-app" }, { got[1].name, got[2].name, got[3].name })
      is_array(got[1].disk, 1)
      is_array(got[2].disk, 2)
      is_array(got[3].disk, 1)
      is_array(got[1].softwareLabel, 1)
      is_array(got[1].machineStatus, 1)
      is_array(got[1].status.step, 1)
      assert.equal("40", got[1].status.step[1].percentComplete)
      assert.same({ "Essentials", "NORMAL" }, { got[1].backup.servicePlan, got[1].backup.state })
      assert.equal("HIGHPERFORMANCE", got[2].disk[2].speed)
      assert.same({ "GET /oec/0.9/myaccount", "GET /oec/0.9/" .. ORG .. "/serverWithBackup?pageSize=2",
        "GET /oec/0.9/" .. ORG .. "/serverWithBackup?pageSize=2&pageNumber=2" }, wire)
    end)

    it("keeps every value of each page", function()
      local c = replay({ ["GET /oec/0.9/{org}/serverWithBackup?pageSize=2"] = { 200, "servers_with_backup.page1.xml" },
        ["GET /oec/0.9/{org}/serverWithBackup?pageSize=2&pageNumber=2"] = { 200, "servers_with_backup.page2.xml" } })
      local p1 = assert(c:list_servers_with_backup({ pageSize = 2 }))
      assert.same({ totalCount = 3, pageCount = 2, pageNumber = 1, pageSize = 2 }, p1.paging)
      local p2 = assert(c:list_servers_with_backup({ pageSize = 2, pageNumber = 2 }))
      for file, r in pairs({ ["servers_with_backup.page1.xml"] = p1, ["servers_with_backup.page2.xml"] = p2 }) do
        local copy = {}
        for k, v in pairs(r) do if k ~= "paging" then copy[k] = v end end
        assert.same({}, values.missing(read(file), copy), file)
      end
    end)

    it("learns the org id from a prefixed Account, once", function()
      local c, wire = replay({ ["GET /oec/0.9/{org}/networkWithLocation"] = { 200, "networks_with_location.one.xml" },
        ["GET /oec/0.9/{org}/datacenter"] = { 200, "datacenters.two.xml" } })
      assert(c:list_networks_with_location())
      assert(c:list_data_centers())
      assert.equal(ORG, c.org_id)
      assert.same({ "GET /oec/0.9/myaccount", "GET /oec/0.9/" .. ORG .. "/networkWithLocation",
        "GET /oec/0.9/" .. ORG .. "/datacenter" }, wire)
    end)
  end)
end)
