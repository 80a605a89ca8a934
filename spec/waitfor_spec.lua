-- luacloud.waitfor: every operation a catalog marks asynchronous has a waiter, and the waiter
-- follows the object that call created or changed. In-process against the simulators with a
-- fake clock shared by both sides (sleeping advances it).
local luacloud = require "luacloud"
local waitfor = require "luacloud.waitfor"

local function client(provider, sim_opts, opts)
  local clock = { t = 1356998400 }
  local sim = require("luacloud.sim." .. provider).new((function()
    local o = { now = function() return clock.t end }
    for k, v in pairs(sim_opts or {}) do o[k] = v end
    return o
  end)())
  local prefix = "/" .. provider
  local function transport(req)
    local path = req.url:gsub("^https?://[^/]+", ""):gsub("^" .. prefix, "")
    local h = {}
    for k, v in pairs(req.headers or {}) do h[k:lower()] = v end
    local status, rh, body = sim:handle({ method = req.method, path = path, headers = h, body = req.body })
    local lh = {}
    for k, v in pairs(rh or {}) do lh[k:lower()] = v end
    return { status = status, headers = lh, body = body }
  end
  local o = { endpoint = "http://127.0.0.1:8080" .. prefix, transport = transport,
              sleep = function(s) clock.t = clock.t + s end, clock = function() return clock.t end }
  for k, v in pairs(sim.credentials) do o[k] = v end
  o.org_id = nil
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(luacloud.new(provider, o)), sim, clock
end


-- call, then wait for its object; returns final, the call's result
local function call_wait(c, id, params)
  local before = waitfor.before(c, id, params)
  local res = assert(c:call(id, params))
  local final, err = waitfor.wait(c, id, params, res, { before = before, interval = 1, timeout = 600 })
  assert(final, tostring(err))
  return final, res
end

describe("luacloud.waitfor", function()
  it("has a waiter for every asynchronous operation of every catalog", function()
    local n = 0
    for _, p in ipairs(luacloud.providers) do
      local c = client(p)
      for id, e in pairs(c.catalog.operations) do
        if e.async then
          n = n + 1
          local f, err = waitfor.check(c, id, {}, {})
          assert.is_function(f, p .. " " .. id .. ": " .. tostring(err))
        end
      end
      -- and none for a synchronous one
      for id, e in pairs(c.catalog.operations) do
        if not e.async then
          local f, err = waitfor.check(c, id, {}, {})
          assert.is_nil(f)
          assert.are.equal("validation", err.kind)
          break
        end
      end
    end
    assert.is_true(n >= 60, tostring(n))
  end)

  describe("dimensiondata", function()
    local c, sim, nid
    local function deploy_params(name, started)
      return { name = name, description = "waitfor",
        vlanResourcePath = "/oec/" .. sim.credentials.org_id .. "/network/" .. nid,
        imageResourcePath = "/oec/base/image/" .. sim.images[1].id,
        administratorPassword = "Secret-123", isStarted = started ~= false }
    end
    before_each(function()
      c, sim = client("dimensiondata", { deploy_seconds = 30, action_seconds = 5 })
      assert(c:create_network_with_location({ name = "w", location = "NA1" }))
      for _, n in ipairs(assert(c:list_networks_with_location()).network) do
        if n.name == "w" then nid = n.id end
      end
    end)

    it("deploy_server: the server this call deployed, not an older one of the same name", function()
      local first = call_wait(c, "deploy_server", deploy_params("dup"))
      assert.are.equal("NORMAL", first.state)
      local second = call_wait(c, "deploy_server", deploy_params("dup"))
      assert.are.equal("dup", second.name)
      assert.are.equal("NORMAL", second.state)
      assert.are_not.equal(first.id, second.id)
    end)

    it("deploy_server without a look before the call: the server still deploying, not the finished one", function()
      local first = call_wait(c, "deploy_server", deploy_params("same"))
      local p = deploy_params("same")
      local res = assert(c:call("deploy_server", p))
      local second = assert(waitfor.wait(c, "deploy_server", p, res, { interval = 1 }))
      assert.are_not.equal(first.id, second.id)
      assert.are.equal("NORMAL", second.state)
    end)

    it("server actions wait for their power state, deletes until the server is gone, disks until idle", function()
      local s = call_wait(c, "deploy_server", deploy_params("act"))
      local p = { server_id = s.id }
      assert.are.equal("false", call_wait(c, "shutdown_server", p).isStarted)
      assert.are.equal("true", call_wait(c, "start_server", p).isStarted)
      assert.are.equal("true", call_wait(c, "reboot_server", p).isStarted)
      assert.are.equal("true", call_wait(c, "restart_server", p).isStarted)
      assert.are.equal("true", call_wait(c, "reset_server", p).isStarted)
      assert.are.equal("NORMAL", call_wait(c, "update_vmware_tools", p).state)
      local with_disk = call_wait(c, "add_storage_to_server", { server_id = s.id, amount = 20, speed = "ECONOMY" })
      assert.are.equal(2, #with_disk.disk)
      local disk = with_disk.disk[2]
      call_wait(c, "change_server_disk_speed", { server_id = s.id, disk_id = disk.id, speed = "HIGHPERFORMANCE" })
      assert.are.equal(1, #call_wait(c, "remove_storage_from_server", { server_id = s.id, disk_id = disk.id }).disk)
      assert.are.equal("false", call_wait(c, "power_off_server", p).isStarted)
      call_wait(c, "start_server", p)
      assert.are.equal("false", call_wait(c, "stop_server", p).isStarted)
      call_wait(c, "delete_server", p)
      assert.are.equal(0, #assert(c:list_servers_with_backup({ id = s.id })).server)
    end)

    it("images: clone, import, export, copy, remote OVF copy", function()
      local s = call_wait(c, "deploy_server", deploy_params("img"))
      local img = call_wait(c, "clone_server_to_customer_image", { server_id = s.id, clone = "Gold", desc = "g" })
      assert.are.equal("Gold", img.name)
      assert.are.equal("NORMAL", img.state)
      local imp = call_wait(c, "import_customer_image", { ovfPackage = "MyCustomerImage.mf", location = "NA1", name = "Imp" })
      assert.are.equal("Imp", imp.name)
      assert.are.equal("NORMAL", imp.state)
      local _, ex = call_wait(c, "export_customer_image", { imageId = imp.id, ovfPackagePrefix = "exp" })
      assert.are.equal(0, #(assert(c:list_customer_image_exports_in_progress()).ImageExport or {}), ex.id)
      local copy = call_wait(c, "copy_customer_image_to_data_center", { sourceImageId = imp.id,
        targetImageName = "Imp copy", targetLocation = "NA5" })
      assert.are.equal("Imp copy", copy.name)
      assert.are.equal("NORMAL", copy.state)
      local geos = assert(c:list_multi_geography_data_centers_with_key())
      local _, st = call_wait(c, "copy_ovf_package_from_remote_geo", { sourceGeoId = geos.geo[1].id, sourceOvfPackage = "web.mf" })
      local busy = assert(c:list_remote_ovf_package_copying_in_progress({ id = st.info["remoteOvfPackageCopy.copyId"] }))
      assert.are.equal(0, #(busy.ovfCopy or {}))
    end)

    it("backup: enable until NORMAL; a restore job until it leaves the backup details", function()
      local s = call_wait(c, "deploy_server", deploy_params("bk"))
      local b = call_wait(c, "enable_server_backup", { server_id = s.id, servicePlan = "Enterprise" })
      assert.are.equal("NORMAL", b.state)
      local types = assert(c:get_backup_client_types({ server_id = s.id }))
      local storage = assert(c:get_storage_policies({ server_id = s.id }))
      local schedule = assert(c:get_schedule_policies({ server_id = s.id }))
      local added = assert(c:add_backup_client({ server_id = s.id, type = types.backupClientType[1].type,
        storagePolicyName = storage.storagePolicy[1].name, schedulePolicyName = schedule.schedulePolicy[1].name }))
      local d = call_wait(c, "restore_file_system_backup_in_place",
        { server_id = s.id, backup_client_id = added.info["backupClient.id"] })
      assert.are.equal("Enterprise", d.servicePlan)
    end)

    it("accounts: a designated primary administrator until List Accounts shows the role; a deleted one until it leaves", function()
      assert(c:add_sub_administrator_account({ userName = "ops1", password = "password-1", fullName = "O P",
        firstName = "O", lastName = "P", emailAddress = "o@example.com", orgId = sim.credentials.org_id,
        roles = { role = { { name = "server" } } } }))
      call_wait(c, "delete_sub_administrator_account", { username = "ops1" })
      for _, a in ipairs(assert(c:list_accounts()).Account or {}) do assert.are_not.equal("ops1", a.userName) end
      assert(c:add_sub_administrator_account({ userName = "ops2", password = "password-2", fullName = "O Q",
        firstName = "O", lastName = "Q", emailAddress = "q@example.com", orgId = sim.credentials.org_id,
        roles = { role = { { name = "server" } } } }))
      local a = call_wait(c, "designate_primary_administrator", { username = "ops2" })
      assert.are.equal("ops2", a.userName)
    end)
  end)

  describe("centurylink and clodo", function()
    it("centurylink: the queued request of this call until Succeeded", function()
      local c = client("centurylink")
      local groups = assert(c:get_groups { Location = "WA1" }).HardwareGroups
      local uuid
      for _, g in ipairs(groups) do if g.Name == "Default Group" then uuid = g.UUID end end
      local p = { Template = "UBUNTU-14-64-TEMPLATE", Alias = "WF", HardwareGroupUUID = uuid, ServerType = 1,
        ServiceLevel = 2, Cpu = 1, MemoryGB = 2, ExtraDriveGB = 0,
        Network = assert(c:get_deployable_networks {}).Networks[1].Name, Password = "Secret!234" }
      local res0 = assert(c:call("create_server", p))
      local states = {}
      assert(waitfor.wait(c, "create_server", p, res0, { interval = 1,
        progress = function(_, info) states[#states + 1] = info.state end }))
      assert.are.equal("Succeeded", states[#states]) -- the last progress line names the final state
      local final, res = call_wait(c, "create_server", p)
      assert.are.equal("Succeeded", final.CurrentStatus)
      assert.are.equal(res.RequestID, final.RequestID)
      -- the Blueprint queue
      local bp = call_wait(c, "deploy_blueprint", { ID = 1, LocationAlias = "WA1", Parameters = {
        { Name = "T3.BuildServerTask.Password", Value = "Secret!234" }, { Name = "T3.BuildServerTask.Network", Value = p.Network } } })
      assert.are.equal("Succeeded", bp.CurrentStatus)
      assert.are.equal(1, #bp.Servers)
      call_wait(c, "publish_package", { Classification = 2, Name = "setup.zip", OperatingSystems = { 35, 41 }, Visibility = 2 })
      assert.are.equal(0, #assert(c:get_pending_packages()).Packages)
    end)

    it("clodo: a new server until running, a stop until stopped, a backup request until complete", function()
      local c = client("clodo")
      local s = call_wait(c, "create_server", { name = "wf", vps_type = "VirtualServer", vps_memory = 512,
        vps_hdd = 10, vps_admin = 1, vps_os = 1 })
      assert.are.equal("is_running", s.status)
      assert.are.equal("is_stopped", call_wait(c, "server_action", { id = s.id, action = "stop" }).status)
      assert.are.equal("is_running", call_wait(c, "server_action", { id = s.id, action = "start" }).status)
      assert.are.equal("1", tostring(call_wait(c, "create_backup", { id = s.id }).req_complete))
      local seen = {}
      local r = assert(c:restore_backup { id = 60, file = "2" })
      assert(waitfor.wait(c, "restore_backup", { id = 60, file = "2" }, r, { interval = 10,
        progress = function(pct) if pct then seen[#seen + 1] = pct end end }))
      assert.is_true(#seen >= 2) -- the restore's own progress (getstate), not only 100 at the end
      assert.are.equal(100, seen[#seen])
      assert.are.equal("is_running", assert(c:get_server { id = 60 }).status)
      local backups = assert(c:list_backups { id = 60 }).backup
      local file = tostring(backups[#backups].file)
      call_wait(c, "delete_backup", { id = 60, file = file })
      for _, b in ipairs(assert(c:list_backups { id = 60 }).backup) do assert.are_not.equal(file, tostring(b.file)) end
    end)
  end)

  it("reports progress with the state and the elapsed time", function()
    local c, sim = client("dimensiondata", { deploy_seconds = 30 })
    assert(c:create_network_with_location({ name = "p", location = "NA1" }))
    local nid = assert(c:list_networks_with_location()).network[1].id
    local p = { name = "p1", description = "d", vlanResourcePath = "/oec/" .. sim.credentials.org_id .. "/network/" .. nid,
      imageResourcePath = "/oec/base/image/" .. sim.images[1].id, administratorPassword = "Secret-123", isStarted = true }
    local before = waitfor.before(c, "deploy_server", p)
    local res = assert(c:deploy_server(p))
    local seen = {}
    assert(waitfor.wait(c, "deploy_server", p, res, { before = before, interval = 2, max_interval = 2,
      progress = function(pct, info) seen[#seen + 1] = { pct = pct, state = info.state, elapsed = info.elapsed } end }))
    assert.is_true(#seen >= 3)
    assert.are.equal("PENDING_ADD", seen[1].state)
    assert.are.equal("NORMAL", seen[#seen].state)
    assert.are.equal(100, seen[#seen].pct)
    assert.is_true(seen[#seen].elapsed >= 30)
    assert.is_number(seen[2].pct)
  end)
end)
