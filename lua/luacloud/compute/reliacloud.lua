--- ReliaCloud (CloudStack-like query API) onto the compute API.
-- The API names servers itself ("i-3-10-WC") and has no network objects: a network is the
-- deployVirtualMachine networkDomain. Commands answer synchronously (no jobs).
local compute = require "luacloud.compute"

local M = {}

-- listVirtualMachine states (seed: Running, Stopped, Stopping, Starting, Creating, Migrating, HA)
M.states = {
  Running = "running", Stopped = "stopped", Stopping = "pending", Starting = "pending",
  Creating = "pending", Migrating = "pending", HA = "rebooting", Destroyed = "terminated",
}

-- What this cloud is; which methods it has follows from the functions below and M.why
-- (luacloud.compute derives the capability table).
M.traits = {
  recipe_balancers = false, -- see why.recipe_balancers
  node_names = false, -- the API names servers; labels are remembered in opts.state
  networks = "implicit", -- a recipe network becomes the servers' networkDomain
  password = false, key = false,
}

M.why = {
  list_networks = "the API has no network objects (a network is a server's networkDomain)",
  create_network = "the API has no network objects (a network is a server's networkDomain)",
  destroy_network = "the API has no network objects",
  attach_ip = "the API has no static NAT; use forwarding or load-balancer rules",
  list_rules = "the API has port forwarding, not firewall rules",
  create_rule = "the API has port forwarding, not firewall rules",
  destroy_rule = "the API has port forwarding, not firewall rules",
  recipe_balancers = "a load-balancer rule takes one member: a second member on the same public port "
    .. "and algorithm is refused (568), so a recipe's balancer of several servers cannot be made",
}

local function node(cx, vm)
  local ips = {}
  if vm.ipaddress then ips[1] = vm.ipaddress end
  return cx:node({
    id = vm.id, name = vm.name, state = M.states[vm.state] or "unknown", provider_state = vm.state,
    public_ips = {}, private_ips = ips, image = vm.templateid, size = vm.serviceofferingid,
    location = vm.zoneid, created = vm.created, password = vm.password,
  }, vm)
end

function M.list_nodes(cx)
  local res, err = cx:call("list_virtual_machine", {})
  if not res then return nil, err end
  local out = {}
  for _, vm in ipairs(res.virtualmachine or {}) do
    if vm.state ~= "Destroyed" then out[#out + 1] = node(cx, vm) end
  end
  return out
end

function M.get_node(cx, id)
  local res, err = cx:call("list_virtual_machine", {})
  if not res then return nil, err end
  for _, vm in ipairs(res.virtualmachine or {}) do
    if tostring(vm.id) == tostring(id) then
      if vm.state == "Destroyed" then return cx:not_found("get_node", id) end
      return node(cx, vm)
    end
  end
  return cx:not_found("get_node", id)
end

local function listing(cx, op, key, map)
  local res, err = cx:call(op, op == "list_zones" and { available = "true" } or {})
  if not res then return nil, err end
  local out = {}
  for _, x in ipairs(res[key] or {}) do out[#out + 1] = map(x) end
  return out
end

function M.list_images(cx)
  return listing(cx, "list_templates", "template", function(t)
    return { id = t.id, name = t.name, extra = t }
  end)
end

function M.list_sizes(cx)
  return listing(cx, "list_service_offerings", "offering", function(o)
    return { id = o.id, name = o.name, ram = tonumber(o.memory), cpus = tonumber(o.cpunumber),
      disk = tonumber(o.storage) and tonumber(o.storage) / 1000, extra = o }
  end)
end

function M.list_locations(cx)
  return listing(cx, "list_zones", "zone", function(z) return { id = z.id, name = z.name, extra = z } end)
end

local function resolve(cx, kind, lister, want, default_first)
  local list, err = lister(cx)
  if not list then return nil, err end
  if want == nil and default_first then return list[1] end
  return cx:resolve(kind, want, list)
end

M.steps = {}

--- create: deployVirtualMachine (one write); the server's name is the API's; spec.name is kept as label.
function M.steps.create_node(cx, spec)
  if spec.password or spec.key then
    return cx:unsupported("create_node", "ReliaCloud generates the password (returned once by deploy); no keys")
  end
  if spec.name and not cx:labels() then
    return cx:unsupported("create_node", "ReliaCloud names servers itself: give the option state (a table or file) to keep the name as a label")
  end
  local image, err = resolve(cx, "image", M.list_images, spec.image, true)
  if not image then return nil, err end
  local size; size, err = resolve(cx, "size", M.list_sizes, spec.size, true)
  if not size then return nil, err end
  local zone; zone, err = resolve(cx, "location", M.list_locations, spec.location, true)
  if not zone then return nil, err end
  if not spec.network then
    return nil, cx:error { kind = "validation", op = "create_node", message = "reliacloud needs network (the server's networkDomain)" }
  end
  local params = { zone_id = zone.id, service_offering_id = size.id, template_id = image.id, network_domain = spec.network }
  return { call = { "deploy_virtual_machine", params }, finish = function(vm)
    if spec.name then cx:remember(vm.id, spec.name) end
    return node(cx, vm)
  end }
end


local id_of = compute.id_of

local function action(op) return compute.action(op, "id") end

M.reboot_node = action("reboot_virtual_machine")
M.start_node = action("start_virtual_machine")
M.stop_node = action("stop_virtual_machine")

function M.steps.destroy_node(cx, n)
  return { call = { "destroy_virtual_machine", { id = id_of(n) } }, finish = function()
    cx:remember(id_of(n), nil)
    return true
  end }
end


-- Public IPs: associateIPAddress allocates one in a zone; disassociate releases it.
local function ip(a) return { id = a.ipaddress, address = a.ipaddress, location = a.zoneid, extra = a } end

function M.list_ips(cx)
  local res, err = cx:call("list_ip_address", {})
  if not res then return nil, err end
  local out = {}
  for _, a in ipairs(res.allocatedipaddress or {}) do
    if tostring(a.issourcenat) ~= "true" then out[#out + 1] = ip(a) end
  end
  return out
end

function M.allocate_ip(cx, opts)
  opts = opts or {}
  local zone, err = resolve(cx, "location", M.list_locations, opts.location, true)
  if not zone then return nil, err end
  local a; a, err = cx:call("associate_ip_address", { zoneid = zone.id })
  if not a then return nil, err end
  return ip(a)
end

function M.release_ip(cx, a)
  local res, err = cx:call("disassociate_ip_address", { ipAddress = type(a) == "table" and a.address or a })
  if not res then return nil, err end
  return true
end

-- Load balancers: a public IP and port with one createOrUpdateLoadBalancerRule per member.
-- Balancer shape: { id = "ip:port", ip, port, backend_port, algorithm,
-- members = { { id = rule id, ip = private ip, port } }, extra = the rules }.
function M.list_balancers(cx)
  local ips, err = M.list_ips(cx)
  if not ips then return nil, err end
  local out, by = {}, {}
  for _, a in ipairs(ips) do
    local res; res, err = cx:call("list_load_balancer_rules", { publicip = a.address })
    if not res then return nil, err end
    for _, r in ipairs(res.loadbalancerrule or {}) do
      local key = a.address .. ":" .. tostring(r.publicport)
      local b = by[key]
      if not b then
        b = { id = key, ip = a.address, port = tonumber(r.publicport), backend_port = tonumber(r.privateport),
          algorithm = r.algorithm, members = {}, extra = {} }
        by[key] = b
        out[#out + 1] = b
      end
      b.members[#b.members + 1] = { id = r.id, ip = r.privateip, port = tonumber(r.privateport) }
      b.extra[#b.extra + 1] = r
    end
  end
  return out
end

local function rule_for(cx, b, member)
  local addr = type(member) == "table" and (member.private_ips and member.private_ips[1] or member.ip) or member
  return cx:call("create_or_update_load_balancer_rule", { publicip = b.ip, publicPort = b.port,
    privateip = addr, privatePort = b.backend_port or b.port, Algorithm = b.algorithm or "roundrobin" })
end

--- create_balancer{ ip (else one is allocated in location), port, backend_port, members = { nodes }, algorithm }
function M.create_balancer(cx, b)
  local spec = {}
  for k, v in pairs(b) do spec[k] = v end
  if not spec.ip then
    local a, err = M.allocate_ip(cx, { location = b.location })
    if not a then return nil, err end
    spec.ip = a.address
  end
  for _, member in ipairs(b.members or {}) do
    local res, err = rule_for(cx, spec, member)
    if not res then return nil, err end
  end
  local list, err = M.list_balancers(cx)
  if not list then return nil, err end
  for _, x in ipairs(list) do if x.ip == spec.ip and x.port == spec.port then return x end end
  return { id = spec.ip .. ":" .. tostring(spec.port), ip = spec.ip, port = spec.port, members = {} }
end

function M.balancer_attach(cx, b, member)
  local res, err = rule_for(cx, b, member)
  if not res then return nil, err end
  return true
end

function M.balancer_detach(cx, b, m)
  local res, err = cx:call("delete_load_balancer_rule", { id = m.id })
  if not res then return nil, err end
  return true
end

--- destroy_balancer(b): every member rule (the public IP stays: release_ip).
function M.destroy_balancer(cx, b)
  for _, m in ipairs(b.members or {}) do
    local ok, err = M.balancer_detach(cx, b, m)
    if not ok then return nil, err end
  end
  return true
end

return M
