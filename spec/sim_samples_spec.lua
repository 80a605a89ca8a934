-- Every documented sample response against the simulator's own answer, over HTTP (nginx):
-- each operation with a sample in spec/fixtures/<provider>/ is called after creating what it
-- needs, and the answer must hold every element and attribute name of the sample (local names,
-- same attribute-vs-element choice; JSON: every key path, arrays as arrays). Values are not
-- compared. A sample path that only appears in a state the call cannot reach (a failure
-- message, a locked server) is listed in the op's `absent` with the reason.
local support = require("spec.support.sim")
local shape = require("spec.support.shape")
local core = require("luacloud.core")
local luacloud = require("luacloud")

local root = support.root

local why = support.missing()
if why then -- pending, not failing
  return describe("document samples against the simulators", function()
    it("needs nginx", function() pending(why) end)
  end)
end

local read = require("spec.support.sim").read

-- op -> { file = ..., ext = "xml"|"json"|"csv" }: the repaired copy when there is one
local function samples(provider, ext)
  local dir = root .. "/spec/fixtures/" .. provider .. "/"
  local out = {}
  local p = io.popen('ls "' .. dir .. '"')
  for f in p:lines() do
    local op, kind = f:match("^([%w_]+)%.response%.(" .. ext .. ")$")
    if op then out[op] = out[op] or dir .. f end
    op = f:match("^([%w_]+)%.response%.repaired%." .. ext .. "$")
    if op then out[op] = dir .. f end
    local _ = kind
  end
  p:close()
  return out
end

-- A client whose transport keeps the last raw answer.
local function recording_client(provider, opts)
  local curl = require("luacloud.transport.curl").new({ timeout = 30 })
  local rec = {}
  local t = setmetatable({}, { __call = function(_, req)
    local resp, err = curl(req)
    rec.last = resp
    return resp, err
  end })
  t.sleep = core.sleep
  opts.transport = t
  opts.retries = 0
  local c = assert(luacloud.new(provider, opts))
  return c, rec
end

local function shape_of(text, fmt)
  if fmt == "xml" then return shape.xml(text) end
  if fmt == "csv" then return shape.csv(text) end
  local v, err = core.json_decode(text)
  if v == nil then return nil, err end
  return shape.json(v, core.null)
end

-- bodies: the answers of one or more calls of the op; their shapes are joined
local function check(sample_path, bodies, fmt, absent)
  local want = assert(shape_of(read(sample_path), fmt), "sample does not parse: " .. sample_path)
  local got = {}
  for _, body in ipairs(bodies) do
    local one, err = shape_of(body, fmt)
    assert(one, "the answer does not parse (" .. tostring(err) .. "): " .. tostring(body))
    for k, v in pairs(one) do if got[k] ~= "list" then got[k] = v end end
  end
  local allow = {}
  for p in pairs(absent or {}) do allow[p] = true end
  return shape.missing(want, got, allow)
end

---------------------------------------------------------------------------------------------
-- Dimension Data
---------------------------------------------------------------------------------------------

describe("Dimension Data samples against the simulator over HTTP", function()
  local sim, c, rec, ctx
  local answers = {} -- op -> raw body of its answer
  local first_answers = {} -- op -> raw body of its first answer (those made in setup)
  local W = { interval = 0.1, max_interval = 0.3, backoff = 1.5, timeout = 30 }

  local function call(op, params)
    local res, err = c:call(op, params or {})
    assert(res ~= nil, op .. ": " .. tostring(err))
    answers[op] = rec.last and rec.last.body
    first_answers[op] = first_answers[op] or answers[op]
    return res
  end
  local function speed(n)
    local _, st = sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=speed&n=" .. n)
    assert.equal(200, st)
  end
  local function deploy(name, img, started)
    call("deploy_server", { name = name, description = "samples", vlanResourcePath = "/oec/" .. c.org_id .. "/network/" .. ctx.net,
      imageResourcePath = "/oec/base/image/" .. img, administratorPassword = "Secret-123", isStarted = started })
  end
  local function ready(name)
    return assert(c:wait({ name = name, network_id = ctx.net }, W))
  end
  local function idle(id) return assert(c:wait({ server_id = id }, W)) end

  setup(function()
    sim = support.start()
    local cr = sim.credentials.dimensiondata
    c, rec = recording_client("dimensiondata", { endpoint = sim.endpoints.dimensiondata, username = cr.username,
      password = cr.password, format = "xml" })
    ctx = {}
    speed(20)
    call("get_my_account")
    call("create_network_with_location", { name = "samples", description = "samples net", location = "NA1" })
    for _, n in ipairs(call("list_networks_with_location").network) do
      if n.name == "samples" then ctx.net = n.id end
    end
    -- a failed deployment and a failed clone: their status carries the failureReason
    local seeded, st = sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=failures&n=1")
    assert(st == 200, tostring(seeded and seeded.error))
    ctx.failed_server = seeded.result.failed_deployments[1]
    ctx.failed_image = seeded.result.failed_images[1]
    local imgs = call("list_os_server_images_with_software_labels", { location_id = "NA1" }).DeployedImageWithSoftwareLabels
    ctx.img = imgs[1].id
    for _, i in ipairs(imgs) do if i.softwareLabel then ctx.label_img = i.id end end
    ctx.label_img = ctx.label_img or ctx.img
    deploy("s1", ctx.label_img, true)
    deploy("s2", ctx.img, false)
    deploy("s3", ctx.label_img, true)
    ctx.s1, ctx.s2, ctx.s3 = ready("s1").id, ready("s2").id, ready("s3").id
    local s1 = call("get_server_details", { server_id = ctx.s1 })
    ctx.prefix = s1.privateIPAddress:match("^(.*)%.%d+$")
    ctx.today = os.date("!%Y-%m-%d")
    call("create_nat_rule", { net_id = ctx.net, name = "s1-nat", sourceIp = s1.privateIPAddress })
    call("add_storage_to_server", { server_id = ctx.s1, amount = 20, speed = "STANDARD" })
    idle(ctx.s1)
    call("clone_server_to_customer_image", { server_id = ctx.s1, clone = "golden", desc = "samples image" })
    idle(ctx.s1)
    for _, i in ipairs(call("list_deployed_customer_images").DeployedImage) do
      if i.name == "golden" then ctx.cimg = i.id end
    end
    assert(c:wait({ image_id = ctx.cimg }, W))
    ctx.imported = call("import_customer_image", { ovfPackage = "MyCustomerImage.mf", location = "NA1", name = "imported",
      description = "from OVF" }).id
    assert(c:wait({ image_id = ctx.imported }, W))
    ctx.export = call("export_customer_image", { imageId = ctx.imported, ovfPackagePrefix = "first-export" }).id
    assert(c:wait({ image_export_id = ctx.export }, W))
    ctx.geo = call("list_multi_geography_data_centers_with_key").geo[1].id
    local cp = call("copy_ovf_package_from_remote_geo", { sourceGeoId = ctx.geo, sourceOvfPackage = "web.mf" })
    assert(c:wait({ remote_copy_id = cp.info["remoteOvfPackageCopy.copyId"] }, W))
    -- work left pending while the listings that show it are called (12 s at speed 1): a server
    -- deployed from the customer image (its additional disk and software label come along)
    speed(1)
    deploy("pending", ctx.cimg, true)
    call("clone_server_to_customer_image", { server_id = ctx.s3, clone = "pending-image", desc = "pending" })
    call("export_customer_image", { imageId = ctx.cimg, ovfPackagePrefix = "golden-export" })
    call("import_customer_image", { ovfPackage = "MyCustomerImage.mf", location = "NA3", name = "importing",
      description = "importing" })
    call("copy_customer_image_to_data_center", { sourceImageId = ctx.cimg, targetImageName = "copy",
      targetImageDescription = "copied", targetLocation = "NA3", ovfPackagePrefix = "copy" })
    call("copy_ovf_package_from_remote_geo", { sourceGeoId = ctx.geo, sourceOvfPackage = "web.mf" })
    for _, i in ipairs(call("list_pending_deployment_customer_images").PendingDeployImage) do
      if i.name == "pending-image" then ctx.pimg = i.id end
    end
    speed(20)
  end)

  teardown(function() if sim then sim.stop() end end)

  -- An image answered while its import/copy runs: what only a deployed image has, and a
  -- failure of work that has not failed, cannot be in it.
  local function pending_image(base, no_labels)
    local a = { [base .. "/deployedTime"] = "deployed images only", [base .. "/machineStatus"] = "deployed images only",
      [base .. "/status/failureReason"] = "the work is still running" }
    if no_labels then a[base .. "/softwareLabel"] = no_labels end
    return a
  end

  -- op -> params (a function of ctx) and absent paths; calls run in this order
  local STEPS = {
    { "get_my_account" },
    { "deploy_server", from_setup = true }, { "clone_server_to_customer_image", from_setup = true },
    -- the document's sample misspells the item "datascenter" (the same sample writes "opsOURCE")
    { "list_data_centers", nil, { ["/Datacenters/datascenter"] = "typo in the document" } }, { "list_data_centers_with_limits" },
    { "list_data_centers_with_maintenance_status" }, { "list_data_centers_with_parameters" },
    { "list_multi_geography_data_centers" }, { "list_multi_geography_data_centers_with_key" },
    { "list_software_labels" },
    { "list_os_server_images" }, { "list_os_server_images_in_location", { location_id = "NA1" } },
    { "list_os_server_images_with_software_labels", { location_id = "NA1" } },
    { "list_web_server_images", { image_provider = "opsource" } },
    { "list_partner_server_images" },
    { "list_pending_deployment_servers", nil },
    { "list_pending_deployment_servers_on_network", function() return { network_id = ctx.net } end },
    { "list_pending_deployment_servers_on_network_with_disks", function() return { network_id = ctx.net } end },
    { "list_deployed_servers", nil },
    { "list_deployed_servers_on_network", function() return { network_id = ctx.net } end },
    { "list_deployed_servers_on_network_with_status", function() return { network_id = ctx.net } end },
    { "list_deployed_servers_on_network_with_disks", function() return { network_id = ctx.net } end },
    { "list_deployed_servers_on_network_with_software_labels", function() return { network_id = ctx.net } end },
    { "list_servers" }, { "list_servers_on_network", function() return { network_id = ctx.net } end },
    { "list_servers_with_parameters", nil },
    { "get_server_details", function() return { server_id = ctx.s1 } end },
    { "list_customer_server_images" },
    { "list_deployed_customer_images", nil },
    { "list_deployed_customer_images_in_location", { location_id = "NA1" } },
    { "list_deployed_customer_images_with_software_labels", { location_id = "NA1" } },
    { "list_pending_deployment_customer_images", nil },
    { "list_pending_deployment_customer_images_in_location", { location_id = "NA1" } },
    { "get_server_image", function() return { { image_id = ctx.imported }, { image_id = ctx.pimg }, { image_id = ctx.cimg },
      { image_id = ctx.failed_image } } end, nil, "multi" },
    { "get_server_details", function() return { server_id = ctx.s1 } end },
    { "does_image_name_exist", { location = "NA1", imageName = "golden" } },
    { "modify_customer_server_image", function() return { image_id = ctx.cimg, description = "golden image" } end },
    { "clean_failed_customer_image", function() return { image_id = ctx.failed_image } end },
    { "clean_failed_server_deployment", function() return { server_id = ctx.failed_server } end },
    { "list_ovf_packages" },
    { "list_customer_image_imports_in_progress", nil, pending_image("/ServerImagesWithState/serverImageWithState",
      "an imported image has no software labels") },
    { "import_customer_image", { ovfPackage = "MyCustomerImage.mf", location = "NA5", name = "imported 2", description = "d" },
      pending_image("/ServerImageWithState", "an imported image has no software labels") },
    { "list_customer_image_exports_in_progress" },
    { "export_customer_image", function() return { imageId = ctx.imported, ovfPackagePrefix = "imported-export" } end },
    { "list_customer_image_export_history" },
    { "copy_customer_image_to_data_center", function() return { sourceImageId = ctx.imported, targetImageName = "copy 2",
      targetImageDescription = "copied", targetLocation = "NA5", ovfPackagePrefix = "copy2" } end,
      pending_image("/ImageCopy/targetImage", "a copy of an imported image (for its <source>) has no software labels; "
        .. "the copy of a labelled image is checked in list_customer_image_copying_in_progress") },
    { "list_customer_image_copying_in_progress", nil, pending_image("/ImageCopies/imageCopy/targetImage") },
    { "copy_ovf_package_from_remote_geo", function() return { sourceGeoId = ctx.geo, sourceOvfPackage = "web.mf" } end },
    { "list_remote_ovf_package_copying_in_progress" },
    { "list_remote_ovf_package_copy_history" },
    -- accounts
    { "add_sub_administrator_account", function() return { userName = "ops1", password = "password-1", fullName = "Op One",
      firstName = "Op", lastName = "One", emailAddress = "ops1@example.com", department = "IT", customDefined1 = "c1",
      customDefined2 = "c2", orgId = c.org_id, roles = { role = { { name = "network" }, { name = "server" } } } } end },
    { "list_accounts" },
    { "update_administrator_account", { userName = "ops1", fullName = "Op Uno", role = { "network", "backup" } } },
    -- networks
    { "create_network", { name = "legacy", description = "legacy net" } },
    { "list_networks" }, { "list_networks_with_location" }, { "list_networks_in_location", { location_id = "NA1" } },
    { "get_network_details", function() return { net_id = ctx.net } end },
    { "get_network_configuration", function() return { network_id = ctx.net } end },
    { "get_network_configuration_with_location", function() return { network_id = ctx.net } end },
    { "modify_network", function() return { network_id = ctx.net, name = "samples", description = "renamed" } end },
    { "set_multicast", function() return { network_id = ctx.net, enabled = true } end },
    { "create_network_with_location", { name = "spare", description = "spare", location = "NA1" } },
    { "create_acl_rule", function() return { network_id = ctx.net, name = "web", position = 200, action = "PERMIT",
      protocol = "TCP", sourceIpRange = { ipAddress = "10.0.0.0", netmask = "255.0.0.0" },
      destinationIpRange = { ipAddress = "10.1.1.1" }, portRange = { type = "RANGE", port1 = 8080, port2 = 8090 },
      type = "OUTSIDE_ACL" } end, nil, function(res) ctx.acl = res.id end },
    { "list_acl_rules", function() return { net_id = ctx.net } end },
    { "create_nat_rule", function() return { net_id = ctx.net, name = "spare-nat", sourceIp = ctx.prefix .. ".200" } end,
      nil, function(res) ctx.nat = res.id end },
    { "list_nat_rules", function() return { net_id = ctx.net } end },
    { "reserve_public_ip_block", function() return { net_id = ctx.net } end },
    { "reserve_public_ip_block_with_size", function() return { network_id = ctx.net } end, nil,
      function(res) ctx.block = res.info["ipBlock.id"] end },
    { "set_server_to_vip_connectivity", function() return { network_id = ctx.net, ipblock_id = ctx.block,
      serverToVipConnectivity = true } end },
    -- load balancing
    { "create_real_server", function() return { network_id = ctx.net, name = "ra", serverId = ctx.s1, inService = true } end,
      nil, function(res) ctx.rs = res.id end },
    { "create_real_server", function() return { network_id = ctx.net, name = "rb", serverId = ctx.s3, inService = true } end,
      nil, function(res) ctx.rs2 = res.id end, again = true },
    { "list_real_servers", function() return { network_id = ctx.net } end },
    { "modify_real_server", function() return { network_id = ctx.net, rserver_id = ctx.rs2, inService = false } end },
    { "create_probe", function() return { network_id = ctx.net, name = "http-check", type = "HTTP", probeIntervalSeconds = 30,
      errorCountBeforeServerFail = 3, successCountBeforeServerEnable = 2, failedProbeIntervalSeconds = 30,
      maxReplyWaitSeconds = 5, statusCodeRange = { lowerBound = 200, upperBound = 299 }, requestMethod = "GET",
      port = 80, requestUrl = "/health", matchContent = "ok" } end, nil, function(res) ctx.probe = res.id end },
    { "list_probes", function() return { network_id = ctx.net } end },
    { "modify_probe", function() return { network_id = ctx.net, probe_id = ctx.probe, probeIntervalSeconds = 60 } end },
    { "create_server_farm", function() return { network_id = ctx.net, name = "farm1", probeId = ctx.probe,
      predictor = "ROUND_ROBIN", realServer = { { id = ctx.rs, port = 80 } } } end, nil, function(res) ctx.farm = res.id end },
    { "list_server_farms", function() return { network_id = ctx.net } end },
    { "add_real_server_to_server_farm", function() return { network_id = ctx.net, server_farm_id = ctx.farm,
      realServerId = ctx.rs2, realServerPort = 80 } end },
    { "add_real_server_to_server_farm", function() return { network_id = ctx.net, server_farm_id = ctx.farm,
      realServerId = ctx.rs2, realServerPort = 8080 } end, again = true },
    { "remove_real_server_from_server_farm", function() return { network_id = ctx.net, server_farm_id = ctx.farm,
      realServerId = ctx.rs2, realServerPort = 8080 } end },
    { "create_probe", function() return { network_id = ctx.net, name = "tcp-check", type = "TCP", probeIntervalSeconds = 30,
      errorCountBeforeServerFail = 3, successCountBeforeServerEnable = 2, failedProbeIntervalSeconds = 30,
      maxReplyWaitSeconds = 5, port = 80 } end, nil, function(res) ctx.probe2 = res.id end, again = true },
    { "add_probe_to_server_farm", function() return { network_id = ctx.net, server_farm_id = ctx.farm, probeId = ctx.probe2 } end },
    { "get_server_farm_details", function() return { network_id = ctx.net, server_farm_id = ctx.farm } end },
    { "remove_probe_from_server_farm", function() return { network_id = ctx.net, server_farm_id = ctx.farm, probeId = ctx.probe2 } end },
    { "modify_server_farm_predictor", function() return { network_id = ctx.net, server_farm_id = ctx.farm,
      predictor = "LEAST_CONNECTIONS" } end },
    { "create_persistence_profile", function() return { network_id = ctx.net, name = "sticky", serverFarmId = ctx.farm,
      timeoutMinutes = 30, type = "HTTP_COOKIE", cookieName = "SESSION", cookieType = "COOKIE_INSERT" } end,
      nil },
    { "create_persistence_profile", function() return { network_id = ctx.net, name = "by-ip", serverFarmId = ctx.farm,
      timeoutMinutes = 10, type = "IP_NETMASK", direction = "SOURCE", netmask = "255.255.255.0" } end, again = true },
    { "list_persistence_profiles", function() return { network_id = ctx.net } end, nil, function(res)
      for _, pp in ipairs(res.PersistenceProfile) do
        if pp.name == "sticky" then ctx.profile = pp.id else ctx.profile2 = pp.id end
      end
    end },
    { "create_vip", function() return { network_id = ctx.net, name = "web", port = 80, protocol = "TCP",
      vipTargetType = "SERVER_FARM", vipTargetId = ctx.farm, replyToIcmp = true, inService = true } end,
      nil, function(res) ctx.vip = res.info and res.info["vip.id"] or res.id end },
    { "list_vips", function() return { network_id = ctx.net } end },
    { "modify_vip", function() return { network_id = ctx.net, vip_id = ctx.vip, inService = false } end },
    -- servers
    { "modify_server", function() return { server_id = ctx.s2, description = "edited", cpuCount = 2 } end, nil,
      function() idle(ctx.s2) end },
    { "notify_private_ip_address_change", function() return { server_id = ctx.s2, privateIp = ctx.prefix .. ".77" } end },
    { "start_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end },
    { "reboot_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end },
    { "reset_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end },
    { "restart_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end },
    { "update_vmware_tools", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end },
    { "shutdown_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end },
    { "start_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end, again = true },
    { "stop_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end },
    { "start_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end, again = true },
    { "power_off_server", function() return { server_id = ctx.s2 } end, nil, function() idle(ctx.s2) end },
    { "add_storage_to_server", function() return { server_id = ctx.s2, amount = 20, speed = "ECONOMY" } end, nil,
      function()
        idle(ctx.s2)
        for _, d in ipairs(call("list_servers_with_backup", { id = ctx.s2 }).server[1].disk) do
          if d.scsiId ~= "0" then ctx.disk = d.id end
        end
      end },
    { "change_server_disk_speed", function() return { server_id = ctx.s2, disk_id = ctx.disk, speed = "HIGHPERFORMANCE" } end,
      nil, function() idle(ctx.s2) end },
    { "remove_storage_from_server", function() return { server_id = ctx.s2, disk_id = ctx.disk } end, nil,
      function() idle(ctx.s2) end },
    { "create_server_anti_affinity_rule", function() return { serverId = { ctx.s1, ctx.s3 } } end },
    { "list_server_anti_affinity_rules", nil, nil, function(res) ctx.rule = res.antiAffinityRule[1].id end },
    -- backup
    { "enable_server_backup", function() return { server_id = ctx.s1, servicePlan = "Essentials" } end },
    { "change_backup_service_plan", function() return { server_id = ctx.s1, servicePlan = "Enterprise" } end },
    { "enable_server_backup", function() return { server_id = ctx.s3, servicePlan = "Advanced" } end, again = true },
    { "get_backup_client_types", function() return { server_id = ctx.s1 } end },
    { "get_storage_policies", function() return { server_id = ctx.s1 } end },
    { "get_schedule_policies", function() return { server_id = ctx.s1 } end },
    { "add_backup_client", function() return { server_id = ctx.s1, type = "FA.Linux", storagePolicyName = "14 Day Storage Policy",
      schedulePolicyName = "12AM - 6AM", alerting = { trigger = "ON_FAILURE", emailAddress = { "ops@example.com" } } } end,
      nil, function(res) ctx.client = res.info["backupClient.id"] end },
    { "add_backup_client", function() return { server_id = ctx.s3, type = "FA.Linux", storagePolicyName = "14 Day Storage Policy",
      schedulePolicyName = "12AM - 6AM" } end, again = true },
    { "modify_backup_client", function() return { server_id = ctx.s1, backup_client_id = ctx.client,
      storagePolicyName = "30 Day Storage Policy", schedulePolicyName = "6AM - 12PM",
      alerting = { trigger = "ON_SUCCESS", emailAddress = { "ops@example.com" } } } end },
    { "restore_file_system_backup_in_place", function() return { server_id = ctx.s1, backup_client_id = ctx.client } end },
    { "restore_file_system_backup_out_of_place", function() return { server_id = ctx.s1, backup_client_id = ctx.client,
      targetServerId = ctx.s3 } end },
    { "get_server_backup_details", function() return { server_id = ctx.s1 } end,
      { ["/BackupDetails/backupClient/times/@lastBackup"] = "a client added seconds ago has not run its first backup" } },
    { "get_servers_for_out_of_place_restore", function() return { server_id = ctx.s1, backup_client_type = "FA.Linux" } end },
    { "list_servers_with_backup" },
    -- files accounts
    { "create_files_account", { userName = "files1", password = "password-1", email = "files@example.com",
      allocatedStorageMb = 20480, displayName = "Files One", description = "samples", subAdminUserName = { "viewer" } } },
    { "list_files_accounts" },
    { "modify_files_account", { files_account_username = "files1", displayName = "Files Uno" } },
    -- reports (CSV: the sample's columns)
    { "summary_usage_report", function() return { startDate = ctx.today, endDate = ctx.today } end, format = "csv" },
    { "detailed_usage_report", function() return { startDate = ctx.today, endDate = ctx.today } end, format = "csv" },
    { "software_units_report", function() return { startDate = ctx.today, endDate = ctx.today } end, format = "csv" },
    { "administrator_logs_report", function() return { startDate = ctx.today, endDate = ctx.today } end, format = "csv" },
    { "backup_usage_report", function() return { datacenterId = "NA1", fromDate = ctx.today, toDate = ctx.today } end,
      format = "csv" },
    -- removals, last
    { "remove_backup_client", function() return { server_id = ctx.s1, backup_client_id = ctx.client } end },
    { "disable_server_backup", function() return { server_id = ctx.s1 } end },
    { "delete_server_anti_affinity_rule", function() return { rule_id = ctx.rule } end },
    { "delete_vip", function() return { network_id = ctx.net, vip_id = ctx.vip } end },
    { "delete_persistence_profile", function() return { network_id = ctx.net, persistence_profile_id = ctx.profile } end },
    { "delete_persistence_profile", function() return { network_id = ctx.net, persistence_profile_id = ctx.profile2 } end,
      again = true },
    { "delete_server_farm", function() return { network_id = ctx.net, server_farm_id = ctx.farm } end },
    { "delete_probe", function() return { network_id = ctx.net, probe_id = ctx.probe } end },
    { "delete_real_server", function() return { network_id = ctx.net, rserver_id = ctx.rs2 } end },
    { "delete_probe", function() return { network_id = ctx.net, probe_id = ctx.probe2 } end, again = true },
    { "release_public_ip_block", function() return { network_id = ctx.net, ipblock_id = ctx.block } end },
    { "delete_nat_rule", function() return { network_id = ctx.net, natrule_id = ctx.nat } end },
    { "delete_acl_rule", function() return { net_id = ctx.net, acl_id = ctx.acl } end },
    { "delete_customer_server_image", function() return { image_id = ctx.imported } end },
    { "delete_files_account", { files_account_username = "files1" } },
    { "delete_server", function() return { server_id = ctx.s2 } end },
    { "delete_network", function()
      for _, n in ipairs(call("list_networks_with_location").network) do
        if n.name == "spare" then return { network_id = n.id } end
      end
    end },
    { "delete_sub_administrator_account", { username = "ops2" }, nil, nil, before = function()
      call("add_sub_administrator_account", { userName = "ops2", password = "password-2", fullName = "Op Two",
        firstName = "Op", lastName = "Two", emailAddress = "ops2@example.com", orgId = c.org_id })
    end },
    { "designate_primary_administrator", { username = "ops1" } },
  }

  it("answers every sample's names", function()
    local dd = samples("dimensiondata", "xml")
    for op, f in pairs(samples("dimensiondata", "csv")) do dd[op] = f end
    local problems = {}
    for _, step in ipairs(STEPS) do
      local op, params, absent = step[1], step[2], step[3]
      step.multi = step.multi or (type(params) == "function" and step[4] == "multi")
      if type(step.before) == "function" then step.before() end
      if type(params) == "function" then params = params() end
      local bodies, ok, err = {}, true, nil
      if step.from_setup then bodies = { first_answers[op] } end
      for _, p in ipairs(step.from_setup and {} or step.multi and params or { params or {} }) do
        local res
        ok, res = pcall(call, op, p)
        if not ok then err = res break end
        if type(step[4]) == "function" then step[4](res) end
        bodies[#bodies + 1] = answers[op]
      end
      if not ok then
        problems[#problems + 1] = op .. ": call failed: " .. tostring(err)
      elseif step.again then -- a second call for what later steps need: its sample was checked
      elseif not dd[op] then
        problems[#problems + 1] = op .. ": no sample"
      else
        local miss = check(dd[op], bodies, step.format or "xml", absent)
        if #miss > 0 then problems[#problems + 1] = op .. ":\n    " .. table.concat(miss, "\n    ") end
      end
    end
    assert.equal("", table.concat(problems, "\n"))
  end)

  it("answers an error in the form of section 1.3.2", function()
    local res = c:call("delete_customer_server_image", { image_id = "no-such-image" })
    assert.is_nil(res)
    local miss = check(samples("dimensiondata", "xml").error_format, { rec.last.body }, "xml")
    assert.same({}, miss)
  end)

  it("calls every operation that has a sample", function()
    local called = {}
    for _, step in ipairs(STEPS) do called[step[1]] = true end
    local dd = samples("dimensiondata", "xml")
    for op in pairs(samples("dimensiondata", "csv")) do dd[op] = true end
    local missing = {}
    for op in pairs(dd) do
      -- error_format is section 1.3.2's example of an error, checked by the last test
      if not called[op] and op ~= "error_format" then missing[#missing + 1] = op end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)
end)

---------------------------------------------------------------------------------------------
-- Clodo (JSON and XML answers: each sample in its own format)
---------------------------------------------------------------------------------------------

describe("Clodo samples against the simulator over HTTP", function()
  local sim
  local clients = {} -- format -> { c, rec }
  local ctx = {}
  local W = { interval = 0.3, backoff = 1, timeout = 10 }

  local function client(fmt)
    if not clients[fmt] then
      local cr = sim.credentials.clodo
      local c, rec = recording_client("clodo", { endpoint = sim.endpoints.clodo, user = cr.user, key = cr.key,
        format = fmt, timeout = 10 })
      clients[fmt] = { c, rec }
    end
    return clients[fmt][1], clients[fmt][2]
  end
  local function call(fmt, op, params)
    local c, rec = client(fmt)
    local res, err = c:call(op, params or {})
    assert(res ~= nil, op .. " (" .. fmt .. "): " .. tostring(err))
    return res, rec.last and rec.last.body
  end

  -- the sample account again, with fresh rate-limit counters (60 GETs a minute) and fast work
  local function fresh()
    assert(sim.admin("POST", "/_sim/reset?provider=clodo").ok)
    assert(sim.admin("POST", "/_sim/seed?provider=clodo&kind=speed&n=50").ok)
    assert(sim.admin("POST", "/_sim/seed?provider=clodo&kind=tickets&n=1").ok)
    clients = {}
  end

  setup(function()
    sim = support.start()
  end)
  teardown(function() if sim then sim.stop() end end)

  local today = os.date("!%Y-%m-%d")
  local STEPS = {
    { "get_limits" }, { "list_servers" }, { "list_servers_detail" },
    -- the XML sample of Информация о VPS prints <vps_traf/>; its parameter list (and the detailed
    -- listing's sample) spell it vps_traff, as the simulator does
    { "get_server", { id = 60 }, absent = { ["/server/vps_traf"] = "typo in the document" } },
    { "get_server_stats", { id = 60, from = today .. " 00:00:00", to = today .. " 23:59:59" } },
    { "list_images" }, { "list_images_detail" }, { "list_presets" }, { "get_balance" },
    { "list_billing_operations" },
    { "list_backups", { id = 60 } },
    { "create_backup", { id = 60 }, after = function(res, fmt)
      ctx.req = res.req
      assert(client(fmt):wait(res, W))
    end },
    { "get_request_status", function() return { id = ctx.req } end },
    { "restore_backup", { id = 60, file = "2" }, after = function(res) ctx.restore = res.req end },
    { "get_restore_state", function() return { id = 60, req = tostring(ctx.restore) } end, after = function(_, fmt)
      assert(client(fmt):wait({ req = ctx.restore, server_id = 60 }, W))
    end },
    { "delete_backup", function(fmt)
      local files = call(fmt, "list_backups", { id = 60 }).backup
      return { id = 60, file = tostring(files[#files].file) }
    end, after = function(res, fmt) assert(client(fmt):wait(res, W)) end },
    { "list_ips", { id = 60 } }, { "list_subnets", { id = 60 } },
    { "list_storages" }, { "get_storage_detail", { id = 1 } },
    { "create_storage", function(fmt) return { title = "samples-" .. fmt } end },
    { "list_tickets" }, { "get_ticket", function() return { id = ctx.ticket } end },
    { "create_server", function(fmt) return { vps_title = "samples-" .. fmt,
      vps_type = "VirtualServer", vps_memory = 512, vps_hdd = 5, vps_admin = 1, vps_os = 541 } end,
      after = function(res) ctx.server = res.id end },
    -- the new server's log holds its installation
    { "get_server_log", function() return { id = ctx.server } end },
  }

  it("answers every sample's names, in JSON and in XML", function()
    local xml, json = samples("clodo", "xml"), samples("clodo", "json")
    local problems, seen = {}, {}
    for _, fmt in ipairs({ "json", "xml" }) do
      fresh()
      local tickets = call(fmt, "list_tickets").tickets.ticket
      ctx.ticket = tickets[#tickets].id -- the seeded one: answered, with paid work
      local set = fmt == "xml" and xml or json
      for _, step in ipairs(STEPS) do
        local op, params = step[1], step[2]
        seen[op] = true
        if set[op] then
          if type(params) == "function" then params = params(fmt) end
          local ok, res, body = pcall(call, fmt, op, params)
          if not ok then
            problems[#problems + 1] = op .. " (" .. fmt .. "): call failed: " .. tostring(res)
          else
            if step.after then step.after(res, fmt) end
            local miss = check(set[op], { body }, fmt, step.absent)
            if #miss > 0 then problems[#problems + 1] = op .. " (" .. fmt .. "):\n    " .. table.concat(miss, "\n    ") end
          end
        end
      end
    end
    for op in pairs(xml) do
      if not seen[op] and not op:find("^error") then problems[#problems + 1] = op .. ": no call" end
    end
    for op in pairs(json) do
      if not seen[op] and not op:find("^error") then problems[#problems + 1] = op .. ": no call" end
    end
    assert.equal("", table.concat(problems, "\n"))
  end)

  it("answers an unknown server in the form of the error samples", function()
    fresh()
    for _, fmt in ipairs({ "json", "xml" }) do
      local c, rec = client(fmt)
      assert.is_nil(c:call("get_server", { id = 999999 }))
      local f = root .. "/spec/fixtures/clodo/error.notfound." .. fmt
      assert.same({}, check(f, { rec.last.body }, fmt), fmt)
    end
  end)
end)

---------------------------------------------------------------------------------------------
-- CenturyLink (v1: JSON and XML answers, each sample in its own format)
---------------------------------------------------------------------------------------------

describe("CenturyLink samples against the simulator over HTTP", function()
  local sim, c, rec
  local ctx
  local W = { interval = 0.03, backoff = 1.2, max_interval = 0.2, timeout = 15 }

  local first -- op -> the answer of its first call (the setup's)
  local function call(op, params)
    local res, err = c:call(op, params or {})
    assert(res ~= nil, op .. ": " .. tostring(err))
    first[op] = first[op] or (rec.last and rec.last.body)
    return res, rec.last and rec.last.body
  end
  local function done(res)
    assert(c:wait(res, W))
    return res
  end

  setup(function() sim = support.start() end)
  teardown(function() if sim then sim.stop() end end)

  -- the sample account of the simulator, a group with a server of its own, a snapshot, a user
  local function prepare(fmt)
    assert(sim.admin("POST", "/_sim/reset?provider=centurylink").ok)
    assert(sim.admin("POST", "/_sim/seed?provider=centurylink&kind=speed&n=40").ok)
    local cr = sim.credentials.centurylink
    c, rec = recording_client("centurylink", { endpoint = sim.endpoints.centurylink, api_key = cr.api_key,
      password = cr.password, account_alias = cr.account_alias, format = fmt, timeout = 10 })
    ctx = { fmt = fmt }
    first = {}
    for _, g in ipairs(call("get_groups", { Location = "WA1" }).HardwareGroups) do
      if g.Name == "Default Group" then ctx.root = g.UUID end
    end
    ctx.net = call("get_deployable_networks").Networks[1].Name
    ctx.group = call("create_hardware_group", { AccountAlias = "DEMO", ParentUUID = ctx.root, Name = "Samples" }).Group.UUID
    local cfs = {}
    for _, f in ipairs(call("get_custom_fields", { AccountAlias = "DEMO" }).AccountCustomFields) do
      local opt = f.AccountCustomFieldOptions and f.AccountCustomFieldOptions[1]
      cfs[#cfs + 1] = { ID = f.UUID, Value = opt and opt.Value or (f.CustomFieldType == "Checkbox" and "true" or "x") }
    end
    done(call("create_server", { Template = "UBUNTU-14-64-TEMPLATE", Alias = "SMP", HardwareGroupUUID = ctx.group,
      ServerType = 1, ServiceLevel = 2, Cpu = 1, MemoryGB = 2, ExtraDriveGB = 10, Network = ctx.net, Password = "Secret!234",
      CustomFields = cfs }))
    ctx.server = call("get_servers", { HardwareGroupUUID = ctx.group }).Servers[1].Name
    done(call("add_public_ip_address", { ServerName = ctx.server, AllowSSH = true }))
    done(call("snapshot_server", { Name = ctx.server }))
    ctx.alias = call("create_alias").RelayAlias
    call("create_user", { UserName = "ann@demo.example", AccountAlias = "DEMO", EmailAddress = "ann@demo.example",
      FirstName = "Ann", LastName = "User", Roles = { 8 } })
  end

  local STEPS = {
    { "logon", function() return { APIKey = "demo-api-key", Password = "demo-password" } end },
    { "get_accounts" }, { "get_locations" },
    { "get_account_details", { AccountAlias = "DEM1" } },
    { "get_custom_fields", { AccountAlias = "DEMO" } },
    { "get_account_summary", { AccountAlias = "DEMO" } },
    { "get_billing_history", { AccountAlias = "DEMO" }, after = function(res)
      for _, e in ipairs(res.BillingHistory or {}) do if e.InvoiceID and e.InvoiceID ~= "" then ctx.invoice = e.InvoiceID end end
    end },
    { "get_invoice_details", function() return { AccountAlias = "DEMO", InvoiceID = ctx.invoice } end },
    { "get_group_summaries" },
    { "get_group_estimate", function() return { HardwareGroupUUID = ctx.group } end },
    { "get_server_estimate", function() return { ServerName = ctx.server } end },
    -- the sample account's own server: it has run for days
    { "get_server_hourly_charges", function() return { ServerName = "WA1DEMOWEB01",
      StartDate = os.date("!%Y-%m-%d", os.time() - 86400), EndDate = os.date("!%Y-%m-%d") } end },
    { "get_groups", { Location = "WA1" } },
    { "get_servers", function() return { HardwareGroupUUID = ctx.group } end },
    { "get_server", function() return { Name = ctx.server } end },
    { "get_all_servers", { Location = "WA1" } },
    { "get_all_servers_by_modified_dates", { Location = "WA1" } },
    { "get_all_servers_for_account_hierarchy", { Location = "WA1" } },
    { "get_all_servers_for_account_hierarchy_by_modified_dates", { Location = "WA1" } },
    { "get_servers_by_modified_dates", function() return { HardwareGroupUUID = ctx.group } end },
    { "get_server_credentials", function() return { Name = ctx.server } end },
    { "get_snapshots", function() return { Name = ctx.server } end },
    { "list_disks", function() return { Name = ctx.server, QueryGuestDiskNames = true } end },
    { "get_server_templates" }, { "list_available_server_templates", { Location = "WA1" } },
    { "get_networks" }, { "get_deployable_networks" },
    { "get_account_networks", { AccountAlias = "DEMO", Location = "WA1" } },
    { "get_network_details", function() return { Name = ctx.net } end },
    { "get_blueprints", { Visibility = 1 } }, { "get_blueprint_details", { ID = 1 } },
    { "get_blueprint_parameters", { ID = 1 } },
    { "get_packages", { Classification = 2, Visibility = 2 } },
    { "list_aliases" },
    { "get_invalid_addresses", function() return { DomainAlias = ctx.alias,
      StartDate = os.date("!%Y-%m-%d", os.time() - 30 * 86400), EndDate = os.date("!%Y-%m-%d", os.time() + 86400) } end },
    { "get_users", { AccountAlias = "DEMO" } },
    { "get_user_details", { AccountAlias = "DEMO", UserName = "ann@demo.example" } },
    { "list_queue_requests", { ItemStatusType = 1 } },
    -- what the setup made
    { "create_hardware_group", from_setup = true }, { "create_server", from_setup = true },
    { "snapshot_server", from_setup = true }, { "create_alias", from_setup = true },
    { "create_user", from_setup = true }, { "add_public_ip_address", from_setup = true },
    -- accounts and users
    { "create_account", { ParentAlias = "DEMO", AccountAlias = "SMPL", Location = "WA1", BusinessName = "Samples Co",
      Address1 = "1 Road", City = "Seattle", StateProvince = "WA", PostalCode = "98101", Country = "USA",
      Telephone = "206-555-0100", ShareParentNetworks = true, BillingResponsibilityID = 2, TimeZone = "Pacific Standard Time" } },
    { "update_account_details", { AccountAlias = "SMPL", BusinessName = "Samples Inc", Address1 = "2 Road", City = "Seattle",
      StateProvince = "WA", PostalCode = "98101", Country = "USA", Telephone = "1", TimeZone = "UTC",
      ShareParentNetworks = false } },
    { "suspend_account", { AccountAlias = "SMPL" }, after = done },
    { "enable_account", { AccountAlias = "SMPL" }, after = done },
    { "update_user", { UserName = "ann@demo.example", EmailAddress = "ann@demo.example", FirstName = "Ann",
      LastName = "Other", Title = "Boss" } },
    { "suspend_user", { UserName = "ann@demo.example" } }, { "unsuspend_user", { UserName = "ann@demo.example" } },
    { "delete_user", { UserName = "ann@demo.example" } },
    { "disable_alias", function() return { RelayAlias = ctx.alias } end },
    { "remove_alias", function() return { RelayAlias = ctx.alias } end },
    -- servers
    { "update_public_ip_address", function()
      local ip = call("get_server", { Name = ctx.server }).Servers[1].IPAddresses
      local public
      for _, a in ipairs(ip or {}) do if a.AddressType == "MIP" or a.AddressType == "NAT" then public = a.Address end end
      return { ServerName = ctx.server, PublicIPAddress = public, AllowRDP = true }
    end, after = done },
    { "change_password", function()
      return { Name = ctx.server, CurrentPassword = call("get_server_credentials", { Name = ctx.server }).Password,
        NewPassword = "newPassword" }
    end },
    { "power_off_server", function() return { Name = ctx.server } end, after = done },
    { "power_on_server", function() return { Name = ctx.server } end, after = done },
    { "reboot_server", function() return { Name = ctx.server } end, after = function(res)
      ctx.request = res.RequestID
      done(res)
    end },
    { "get_request_status", function() return { RequestID = ctx.request } end },
    { "reset_server", function() return { Name = ctx.server } end, after = done },
    { "shutdown_server", function() return { Name = ctx.server } end, after = done },
    { "power_on_server", function() return { Name = ctx.server } end, after = done, again = true },
    { "pause_server", function() return { Name = ctx.server } end, after = done },
    { "power_on_server", function() return { Name = ctx.server } end, after = done, again = true },
    { "server_maintenance", function() return { Name = ctx.server, Enable = true } end, after = done },
    { "server_maintenance", function() return { Name = ctx.server, Enable = false } end, after = done, again = true },
    { "configure_server", function() return { Name = ctx.server, HardwareGroupUUID = ctx.group, Cpu = 2, MemoryGB = 4 } end,
      after = done },
    { "revert_to_snapshot", function()
      return { Name = ctx.server, SnapshotName = call("get_snapshots", { Name = ctx.server }).Snapshots[1].Name }
    end },
    { "delete_snapshot", function()
      local snaps = call("get_snapshots", { Name = ctx.server }).Snapshots
      return { Name = ctx.server, SnapshotName = snaps[1].Name }
    end },
    { "resize_disk", function() return { Name = ctx.server, ScsiBusID = "0", ScsiDeviceID = "1", NewSizeGB = 100 } end,
      after = done },
    { "delete_disk", function() return { Name = ctx.server, ScsiBusID = "0", ScsiDeviceID = "1" } end, after = done },
    { "archive_server", function() return { Name = ctx.server } end, after = done },
    { "list_archived_servers", { Location = "WA1" } }, { "get_archive_servers" },
    { "restore_server", function() return { Name = ctx.server, HardwareGroupUUID = ctx.group } end, after = done },
    { "convert_server_to_template", function() return { Name = ctx.server, Password = "Secret!234", TemplateAlias = "Samples" } end,
      after = done },
    { "convert_template_to_server", function() return { Name = ctx.server, Password = "Secret!234",
      HardwareGroupUUID = ctx.group, Network = ctx.net } end, after = done },
    { "convert_server_to_template", function() return { Name = ctx.server, Password = "Secret!234", TemplateAlias = "T" } end,
      after = done, again = true },
    { "delete_template", function() return { Name = ctx.server } end, after = done },
    -- groups
    { "power_off_hardware_group", function() return { UUID = ctx.group } end, after = done },
    { "power_on_hardware_group", function() return { UUID = ctx.group } end, after = done },
    { "shutdown_hardware_group", function() return { UUID = ctx.group } end, after = done },
    { "reset_hardware_group", function() return { UUID = ctx.group } end, after = done },
    { "pause_hardware_group", function() return { UUID = ctx.group } end, after = done },
    { "reboot_hardware_group", function() return { UUID = ctx.group } end, after = done },
    { "hardware_group_maintenance", function() return { UUID = ctx.group, Enable = true } end, after = done },
    { "hardware_group_maintenance", function() return { UUID = ctx.group, Enable = false } end, after = done, again = true },
    { "archive_hardware_group", function() return { UUID = ctx.group } end, after = done },
    { "restore_hardware_group", function() return { UUID = ctx.group, ParentUUID = ctx.root } end, after = done },
    { "delete_hardware_group", function() return { UUID = ctx.group } end, after = done },
    -- blueprints and packages
    { "deploy_blueprint", function() return { ID = 1, LocationAlias = "WA1", Parameters = {
      { Name = "T3.BuildServerTask.Password", Value = "Secret!234" },
      { Name = "T3.BuildServerTask.Network", Value = ctx.net },
      { Name = "T3.BuildServerTask.PrimaryDNS", Value = "8.8.8.8" },
      { Name = "T3.BuildServerTask.SecondaryDNS", Value = "8.8.4.4" },
      { Name = "T3.BuildServerTask.GroupID", Value = ctx.root } } } end,
      after = function(res) ctx.deployment = res.RequestID end },
    { "get_deployment_status", function() return { RequestID = ctx.deployment, AccountAlias = "DEMO" } end },
    { "publish_package", { Classification = 2, Name = "setup.zip", OperatingSystems = { 35, 41 }, Visibility = 2 } },
    { "get_pending_packages" },
    -- the sample account's own server (the samples' server became a template and is gone)
    { "delete_server", { Name = "WA1DEMOWEB01" } },
  }

  local function run(fmt)
    prepare(fmt)
    local set = samples("centurylink", fmt)
    local problems = {}
    for _, step in ipairs(STEPS) do
      local op, params = step[1], step[2]
      if type(params) == "function" then params = params() end
      local ok, res, body
      if step.from_setup then
        ok, res, body = true, nil, first[op]
      else
        ok, res, body = pcall(call, op, params)
      end
      if step.again then
        if not ok then problems[#problems + 1] = op .. " (" .. fmt .. "): call failed: " .. tostring(res)
        elseif step.after then step.after(res) end
      elseif not ok then
        problems[#problems + 1] = op .. " (" .. fmt .. "): call failed: " .. tostring(res)
      elseif not set[op] then
        problems[#problems + 1] = op .. " (" .. fmt .. "): no sample"
      else
        if step.after and res then step.after(res) end
        local miss = check(set[op], { body }, fmt, step.absent)
        if #miss > 0 then problems[#problems + 1] = op .. " (" .. fmt .. "):\n    " .. table.concat(miss, "\n    ") end
      end
    end
    return problems
  end

  it("answers every sample's names in JSON", function()
    assert.equal("", table.concat(run("json"), "\n"))
  end)
  it("answers every sample's names in XML", function()
    assert.equal("", table.concat(run("xml"), "\n"))
  end)
  it("calls every operation that has a sample", function()
    local called, missing = {}, {}
    for _, step in ipairs(STEPS) do called[step[1]] = true end
    for _, fmt in ipairs({ "json", "xml" }) do
      for op in pairs(samples("centurylink", fmt)) do
        if not called[op] then missing[#missing + 1] = op .. " (" .. fmt .. ")" end
      end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)
end)

---------------------------------------------------------------------------------------------
-- ReliaCloud (XML samples, spec/fixtures/reliacloud/<op>.xml; the JSON one of "Response Format")
---------------------------------------------------------------------------------------------

describe("ReliaCloud samples against the simulator over HTTP", function()
  local sim, c, rec, ctx

  local function sample(op)
    local dir = root .. "/spec/fixtures/reliacloud/"
    return read(dir .. op .. ".repaired.xml") and dir .. op .. ".repaired.xml" or dir .. op .. ".xml"
  end
  local function call(op, params)
    local res, err = c:call(op, params or {})
    assert(res ~= nil, op .. ": " .. tostring(err))
    return res, rec.last and rec.last.body
  end

  setup(function() sim = support.start() end)
  teardown(function() if sim then sim.stop() end end)

  local STEPS = {
    { "list_zones", { available = true } }, { "list_templates" }, { "list_service_offerings" },
    { "deploy_virtual_machine", function() return { zoneId = ctx.zone, serviceOfferingId = ctx.offering,
      templateId = ctx.template, networkDomain = "example.test" } end, after = function(res) ctx.vm = res end },
    { "list_virtual_machine" },
    { "associate_ip_address", function() return { zoneid = ctx.zone } end, after = function(res) ctx.ip = res.ipaddress end },
    { "list_ip_address" },
    { "create_or_update_ip_forwarding_rule", function() return { publicip = ctx.ip, publicPort = 22,
      privateip = ctx.vm.ipaddress, privatePort = 22, Protocol = "tcp" } end, after = function(res) ctx.fw = res.id end },
    { "list_ip_forwarding_rules", function() return { publicip = ctx.ip } end },
    { "create_or_update_load_balancer_rule", function() return { publicip = ctx.ip, publicPort = 80,
      privateip = ctx.vm.ipaddress, privatePort = 8080, Algorithm = "roundrobin" } end,
      after = function(res) ctx.lb = res.id end },
    { "list_load_balancer_rules", function() return { publicip = ctx.ip } end },
    { "delete_ip_forwarding_rule", function() return { id = ctx.fw } end },
    { "delete_load_balancer_rule", function() return { id = ctx.lb } end },
    { "stop_virtual_machine", function() return { id = ctx.vm.id } end },
    { "change_service_for_virtual_machine", function() return { id = ctx.vm.id, serviceOfferingId = ctx.offering2 } end },
    { "start_virtual_machine", function() return { id = ctx.vm.id } end },
    { "reboot_virtual_machine", function() return { id = ctx.vm.id } end },
    { "enable_ha_for_virtual_machine", function() return { id = ctx.vm.id, haEnable = true } end },
    { "reset_password_for_virtual_machine", function() return { id = ctx.vm.id } end },
    { "list_events" }, { "list_account_statistics" },
    { "disassociate_ip_address", function() return { ipAddress = ctx.ip } end },
    { "destroy_virtual_machine", function() return { id = ctx.vm.id } end },
  }

  it("answers every sample's names (XML)", function()
    c, rec = recording_client("reliacloud", { endpoint = sim.endpoints.reliacloud, api_key = "demo-api-key",
      secret_key = "demo-secret-key", format = "xml" })
    ctx = {}
    ctx.zone = call("list_zones", { available = true }).zone[1].id
    ctx.template = call("list_templates").template[1].id
    local offerings = call("list_service_offerings").offering
    ctx.offering, ctx.offering2 = offerings[1].id, offerings[2].id
    local problems = {}
    for _, step in ipairs(STEPS) do
      local op, params = step[1], step[2]
      if type(params) == "function" then params = params() end
      local ok, res, body = pcall(call, op, params)
      if not ok then
        problems[#problems + 1] = op .. ": call failed: " .. tostring(res)
      else
        if step.after then step.after(res) end
        local miss = check(sample(op), { body }, "xml")
        if #miss > 0 then problems[#problems + 1] = op .. ":\n    " .. table.concat(miss, "\n    ") end
      end
    end
    assert.equal("", table.concat(problems, "\n"))
  end)

  it("answers login and logout (the session method) with the samples' names", function()
    local cr = sim.credentials.reliacloud
    c, rec = recording_client("reliacloud", { endpoint = sim.endpoints.reliacloud, username = cr.username,
      password = cr.password, format = "xml" })
    local _, body = call("login", { username = cr.username, password = cr.password })
    assert.same({}, check(sample("login"), { body }, "xml"))
    _, body = call("logout")
    assert.same({}, check(sample("logout"), { body }, "xml"))
  end)

  it("answers listIPAddress in JSON as the Response Format sample does", function()
    c, rec = recording_client("reliacloud", { endpoint = sim.endpoints.reliacloud, api_key = "demo-api-key",
      secret_key = "demo-secret-key", format = "json" })
    call("associate_ip_address", { zoneid = call("list_zones", { available = true }).zone[1].id })
    local _, body = call("list_ip_address")
    assert.same({}, check(root .. "/spec/fixtures/reliacloud/list_ip_address.json", { body }, "json"))
  end)
end)
