--- Dimension Data (OEC 0.9, XML) onto the compute API.
-- Servers live on networks (VLANs) of a data center; the image fixes CPU and memory (no sizes).
-- Deploy answers only "issued": the server is found by name afterwards (names are ours).
local compute = require "luacloud.compute"

local M = {}

-- List Servers states (seed: NORMAL, PENDING_ADD, PENDING_CHANGE, PENDING_DELETE, FAILED_ADD,
-- FAILED_DELETE, PENDING_CLEAN, REQUIRES_SUPPORT); NORMAL is split by isStarted.
M.states = {
  PENDING_ADD = "pending", PENDING_CHANGE = "pending", PENDING_DELETE = "pending", PENDING_CLEAN = "pending",
  FAILED_ADD = "error", FAILED_DELETE = "error", FAILED_CHANGE = "error", REQUIRES_SUPPORT = "error",
  NORMAL = "running", -- with isStarted=false: "stopped"
}

-- What this cloud is; which methods it has follows from the functions below and M.why
-- (luacloud.compute derives the capability table).
M.traits = { node_names = true, networks = "objects", password = true, key = false }

M.why = {
  list_sizes = "the image fixes CPU and memory (no server sizes)",
}

local function state_of(s)
  local st = s.state
  if st == "NORMAL" then
    if s.status ~= nil and type(s.status) == "table" then
      return (s.status.action == "REBOOT_SERVER" or s.status.action == "RESTART_SERVER") and "rebooting" or "pending"
    end
    return s.isStarted == "true" and "running" or "stopped"
  end
  return M.states[st] or "unknown"
end

local function node(cx, s)
  local os_ = type(s.operatingSystem) == "table" and s.operatingSystem or {}
  local pct
  if type(s.status) == "table" and type(s.status.step) == "table" and s.status.step[1] then
    pct = tonumber(s.status.step[#s.status.step].percentComplete)
  end
  return cx:node({
    id = s.id, name = s.name, state = state_of(s),
    provider_state = tostring(s.state) .. (s.isStarted and ("/" .. (s.isStarted == "true" and "started" or "stopped")) or ""),
    public_ips = {}, private_ips = { s.privateIp }, image = s.sourceImageId, size = os_.id,
    location = s.location, network = s.networkId, created = s.created, progress = pct,
  }, s)
end

local function servers(cx, filter)
  local out = {}
  local pages = cx.client:pages("list_servers_with_parameters", filter or {})
  while true do
    local page, err = pages()
    if not page then
      if err then return nil, err end
      return out
    end
    for _, s in ipairs(page.items) do out[#out + 1] = node(cx, s) end
  end
end

function M.list_nodes(cx) return servers(cx, {}) end

function M.get_node(cx, id)
  local list, err = servers(cx, { id = { tostring(id) } })
  if not list then return nil, err end
  if not list[1] then return cx:not_found("get_node", id) end
  return list[1]
end

local function find_by_name(cx, name)
  local list, err = servers(cx, { name = name })
  if not list then return nil, err end
  return list[1]
end

function M.list_images(cx, location)
  local res, err
  if location then
    res, err = cx:call("list_os_server_images_in_location", { location_id = location })
  else
    res, err = cx:call("list_os_server_images", {})
  end
  if not res then return nil, err end
  local out = {}
  for _, im in ipairs(res.ServerImage or {}) do
    out[#out + 1] = { id = im.id, name = im.name, location = im.location, cpus = tonumber(im.cpuCount),
      ram = tonumber(im.memory), extra = im }
  end
  return out
end

function M.list_locations(cx)
  local res, err = cx:call("list_data_centers", {})
  if not res then return nil, err end
  local out = {}
  for _, d in ipairs(res.datacenter or {}) do
    out[#out + 1] = { id = d.location, name = d.displayName, country = d.country, extra = d }
  end
  return out
end

local function network(n)
  return { id = n.id, name = n.name, location = n.location, cidr = n.privateNet and (n.privateNet .. "/24"), extra = n }
end

function M.list_networks(cx)
  local res, err = cx:call("list_networks_with_location", {})
  if not res then return nil, err end
  local out = {}
  for _, n in ipairs(res.network or {}) do out[#out + 1] = network(n) end
  return out
end

M.steps = {}

--- create_network{ name, location, description }: synchronous; found by name afterwards.
function M.steps.create_network(cx, spec)
  if not spec.location then
    return nil, cx:error { kind = "validation", op = "create_network", message = "dimensiondata networks need a location" }
  end
  return { call = { "create_network_with_location", { name = spec.name, location = spec.location,
    description = spec.description or "luacloud" } }, finish = function()
    local list, err = M.list_networks(cx)
    if not list then return nil, err end
    for _, n in ipairs(list) do if n.name == spec.name then return n end end
    return nil, cx:error { kind = "api", op = "create_network", message = "network " .. spec.name .. " not listed after creation" }
  end }
end


function M.steps.destroy_network(cx, n)
  return { call = { "delete_network", { network_id = type(n) == "table" and n.id or n } }, finish = function() return true end }
end


--- create_node{ name, image, network, password [, location] }: Deploy Server, started.
function M.steps.create_node(cx, spec)
  if spec.key then return cx:unsupported("create_node", "no SSH keys; give a password") end
  if spec.size then return cx:unsupported("create_node", "the image fixes CPU and memory (no size)") end
  if not spec.name or not spec.password then
    return nil, cx:error { kind = "validation", op = "create_node", message = "dimensiondata needs name and password" }
  end
  local nets, err = M.list_networks(cx)
  if not nets then return nil, err end
  local net
  if spec.network then
    net, err = cx:resolve("network", type(spec.network) == "table" and spec.network.id or spec.network, nets)
    if not net then return nil, err end
  else
    for _, n in ipairs(nets) do if not net and (not spec.location or n.location == spec.location) then net = n end end
    if not net then return nil, cx:error { kind = "validation", op = "create_node", message = "dimensiondata servers need a network" } end
  end
  local images; images, err = M.list_images(cx, net.location)
  if not images then return nil, err end
  local image
  if spec.image then
    image, err = cx:resolve("image", spec.image, images)
    if not image then return nil, err end
  else
    image = images[1]
  end
  return { call = { "deploy_server", { name = spec.name, description = spec.description or "luacloud",
    vlanResourcePath = "/oec/" .. tostring(cx.client.org_id) .. "/network/" .. net.id,
    imageResourcePath = "/oec/base/image/" .. image.id, administratorPassword = spec.password,
    isStarted = spec.started ~= false } }, finish = function()
    local n, ferr = find_by_name(cx, spec.name)
    if not n then return nil, ferr or cx:error { kind = "api", op = "create_node", message = "server " .. spec.name .. " not listed after deploy" } end
    return n
  end }
end


local id_of = compute.id_of

local function action(op) return compute.action(op, "server_id") end

M.reboot_node = action("reboot_server")
M.start_node = action("start_server")
--- stop: graceful Shutdown Server; { force = true }: Power Off Server.
function M.stop_node(cx, n, opts)
  return action((opts and opts.force) and "power_off_server" or "shutdown_server")(cx, n)
end

--- destroy: Delete Server needs a stopped server: { force = true } powers it off first and waits.
function M.destroy_node(cx, n, opts)
  opts = opts or {}
  if opts.force then
    local cur, err = M.get_node(cx, id_of(n))
    if not cur then return nil, err end
    if cur.state ~= "stopped" then
      if cur.state == "pending" or cur.state == "rebooting" then
        cur, err = cx:wait_until(cur, "running", opts.wait)
        if not cur then return nil, err end
      end
      local ok; ok, err = M.stop_node(cx, cur, { force = true })
      if not ok then return nil, err end
      ok, err = cx:wait_until(cur, "stopped", opts.wait)
      if not ok then return nil, err end
    end
  end
  local res, err = cx:call("delete_server", { server_id = id_of(n) })
  if not res then return nil, err end
  return true
end

-- Public IPs: a reserved block of the network; attach = a NAT rule to the server's private IP.
function M.list_ips(cx, net)
  local res, err = cx:call("get_network_configuration", { network_id = type(net) == "table" and net.id or net })
  if not res then return nil, err end
  local out = {}
  local blocks = type(res.publicIps) == "table" and res.publicIps.IpBlock or {}
  for _, b in ipairs(blocks) do
    out[#out + 1] = { id = b.id, address = b.baseIp, size = tonumber(b.subnetSize), network = type(net) == "table" and net.id or net,
      default = b.networkDefault == "true", extra = b }
  end
  return out
end

function M.allocate_ip(cx, opts)
  local net = opts and opts.network
  if not net then return nil, cx:error { kind = "validation", op = "allocate_ip", message = "dimensiondata reserves IPs on a network: give network" } end
  return cx:added("allocate_ip", function() return M.list_ips(cx, net) end, "reserve_public_ip_block",
    { net_id = type(net) == "table" and net.id or net }, "id")
end

function M.release_ip(cx, ip)
  local res, err = cx:call("release_public_ip_block", { network_id = ip.network, ipblock_id = ip.id })
  if not res then return nil, err end
  return true
end

function M.attach_ip(cx, n, opts)
  local cur, err = M.get_node(cx, id_of(n))
  if not cur then return nil, err end
  local rule; rule, err = cx:call("create_nat_rule", { net_id = cur.network, name = (opts and opts.name) or ("nat-" .. cur.name),
    sourceIp = cur.private_ips[1] })
  if not rule then return nil, err end
  return { id = rule.id, address = rule.natIp, node_id = cur.id, network = cur.network, extra = rule }
end

-- Firewall: ACL rules of a network (positions 100-500).
local function rule(r, net)
  local pr = type(r.portRange) == "table" and r.portRange or {}
  return { id = r.id, name = r.name, network = net, protocol = r.protocol, action = r.action,
    port = tonumber(pr.port1), port_to = tonumber(pr.port2), position = tonumber(r.position), extra = r }
end

function M.list_rules(cx, net)
  local nid = type(net) == "table" and net.id or net
  local res, err = cx:call("list_acl_rules", { net_id = nid })
  if not res then return nil, err end
  local out = {}
  for _, r in ipairs(res.AclRule or {}) do out[#out + 1] = rule(r, nid) end
  return out
end

function M.steps.create_rule(cx, r)
  local pr = r.port and { type = r.port_to and "RANGE" or "EQUAL_TO", port1 = r.port, port2 = r.port_to } or { type = "ALL" }
  local params = { network_id = r.network, name = r.name, position = r.position or 200,
    action = (r.action or "PERMIT"):upper(), protocol = (r.protocol or "TCP"):upper(), portRange = pr,
    type = r.type or "OUTSIDE_ACL" }
  if r.source then
    local ip, bits = tostring(r.source):match("^([^/]+)/?(%d*)$")
    params.sourceIpRange = { ipAddress = ip, netmask = bits ~= "" and M.netmask(tonumber(bits)) or nil }
  end
  return { call = { "create_acl_rule", params }, finish = function(res) return rule(res, r.network) end }
end

function M.netmask(bits)
  local parts = {}
  for i = 1, 4 do
    local b = math.max(0, math.min(8, bits - (i - 1) * 8))
    parts[i] = string.format("%d", 256 - 2 ^ (8 - b))
  end
  return table.concat(parts, ".")
end

function M.create_rule(cx, r) return cx:run_step(M.steps.create_rule(cx, r)) end

function M.steps.destroy_rule(cx, r)
  return { call = { "delete_acl_rule", { net_id = r.network, acl_id = r.id } }, finish = function() return true end }
end

function M.destroy_rule(cx, r) return cx:run_step(M.steps.destroy_rule(cx, r)) end

-- Load balancers: a VIP on a server farm of real servers (one per member server), probed by
-- the network's built-in "tcp" probe unless balancer.probe names another.
-- Balancer shape: { id = VIP id, name, ip, port, protocol, network, farm_id, algorithm,
-- members = { { id = real server id, node_id, ip, port } }, extra = VIP }.

local function net_id(n) return type(n) == "table" and n.id or n end

local function created_id(res) return type(res) == "table" and res.id or nil end

local function farm_members(cx, nid, farm_id)
  local f, err = cx:call("get_server_farm_details", { network_id = nid, server_farm_id = farm_id })
  if not f then return nil, err end
  local rs; rs, err = cx:call("list_real_servers", { network_id = nid })
  if not rs then return nil, err end
  local node_of = {}
  for _, r in ipairs(rs.realServer or {}) do node_of[r.id] = r.serverId end
  local out = {}
  for _, r in ipairs(f.realServer or {}) do
    out[#out + 1] = { id = r.id, name = r.name, node_id = node_of[r.id], ip = r.ipAddress, port = tonumber(r.port) }
  end
  return out, f
end

function M.list_balancers(cx, nets)
  if nets == nil then
    local err
    nets, err = M.list_networks(cx)
    if not nets then return nil, err end
  elseif type(nets) ~= "table" or nets.id then
    nets = { nets }
  end
  local out = {}
  for _, n in ipairs(nets) do
    local nid = net_id(n)
    local vips, err = cx:call("list_vips", { network_id = nid })
    if not vips then return nil, err end
    for _, v in ipairs(vips.vip or {}) do
      local b = { id = v.id, name = v.name, ip = v.ipAddress, port = tonumber(v.port), protocol = v.protocol,
        network = nid, extra = v, members = {} }
      if v.vipTargetType == "SERVER_FARM" then
        local members, farm = farm_members(cx, nid, v.vipTargetId)
        if not members then return nil, farm end
        b.farm_id, b.members = v.vipTargetId, members
        b.algorithm = farm.predictor == "LEAST_CONNECTIONS" and "leastconn" or "roundrobin"
        b.backend_port = members[1] and members[1].port
      end
      out[#out + 1] = b
    end
  end
  return out
end

local function real_server(cx, nid, name, member)
  local res, err = cx:call("create_real_server", { network_id = nid, name = name, serverId = id_of(member), inService = true })
  if not res then return nil, err end
  return created_id(res)
end

--- create_balancer{ network, name, port, backend_port, members = { nodes }, algorithm
--  ("roundrobin" | "leastconn"), protocol, probe (name, default "tcp") }
function M.create_balancer(cx, b)
  local nid = net_id(b.network)
  if not nid or not b.name or not b.port then
    return nil, cx:error { kind = "validation", op = "create_balancer", message = "a balancer needs network, name and port" }
  end
  local probes, err = cx:call("list_probes", { network_id = nid })
  if not probes then return nil, err end
  local probe
  for _, pr in ipairs(probes.Probe or {}) do if pr.name == (b.probe or "tcp") then probe = pr.id end end
  if not probe then return nil, cx:error { kind = "validation", op = "create_balancer", message = "no probe " .. tostring(b.probe or "tcp") } end
  local reals = {}
  for _, member in ipairs(b.members or {}) do
    local rid; rid, err = real_server(cx, nid, b.name .. "-" .. tostring(member.name or id_of(member)), member)
    if not rid then return nil, err end
    reals[#reals + 1] = { id = rid, port = b.backend_port or b.port }
  end
  local farm; farm, err = cx:call("create_server_farm", { network_id = nid, name = b.name, probeId = probe,
    predictor = b.algorithm == "leastconn" and "LEAST_CONNECTIONS" or "ROUND_ROBIN", realServer = reals })
  if not farm then return nil, err end
  local vip; vip, err = cx:call("create_vip", { network_id = nid, name = b.name, port = b.port,
    protocol = (b.protocol or "TCP"):upper(), vipTargetType = "SERVER_FARM", vipTargetId = created_id(farm),
    replyToIcmp = true, inService = true })
  if not vip then return nil, err end
  local list; list, err = M.list_balancers(cx, nid)
  if not list then return nil, err end
  for _, x in ipairs(list) do if x.id == created_id(vip) then return x end end
  return nil, cx:error { kind = "api", op = "create_balancer", message = "the VIP is not listed" }
end

--- destroy_balancer(b): the VIP, its server farm, then the farm's real servers.
function M.destroy_balancer(cx, b)
  local res, err = cx:call("delete_vip", { network_id = b.network, vip_id = b.id })
  if not res then return nil, err end
  if b.farm_id then
    res, err = cx:call("delete_server_farm", { network_id = b.network, server_farm_id = b.farm_id })
    if not res then return nil, err end
  end
  for _, m in ipairs(b.members or {}) do
    res, err = cx:call("delete_real_server", { network_id = b.network, rserver_id = m.id })
    if not res then return nil, err end
  end
  return true
end

--- balancer_attach(b, member): a real server for the member, added to the farm.
function M.balancer_attach(cx, b, member)
  local rid, err = real_server(cx, b.network, b.name .. "-" .. tostring(member.name or id_of(member)), member)
  if not rid then return nil, err end
  local res; res, err = cx:call("add_real_server_to_server_farm", { network_id = b.network, server_farm_id = b.farm_id,
    realServerId = rid, realServerPort = b.backend_port or b.port })
  if not res then return nil, err end
  return true
end

--- balancer_detach(b, member): out of the farm, and the real server deleted.
function M.balancer_detach(cx, b, m)
  local res, err = cx:call("remove_real_server_from_server_farm", { network_id = b.network, server_farm_id = b.farm_id,
    realServerId = m.id, realServerPort = m.port })
  if not res then return nil, err end
  res, err = cx:call("delete_real_server", { network_id = b.network, rserver_id = m.id })
  if not res then return nil, err end
  return true
end

return M
