--- Clodo (ClodoAPI 1.0) onto the compute API.
-- A server is created from an OS image with memory and disk given freely (size "MEMORYxDISK",
-- MB and GB); the API chooses the password. No network objects; public IPs belong to a server.
local compute = require "luacloud.compute"

local M = {}

-- Server status: the document shows only is_running; the others are what the service
-- (and the simulator) report while work is in progress.
M.states = {
  is_running = "running", is_installing = "pending", is_rebooting = "rebooting",
  is_restoring = "pending", is_stopped = "stopped", is_disabled = "stopped",
}

-- What this cloud is; which methods it has follows from the functions below and M.why
-- (luacloud.compute derives the capability table).
M.traits = { node_names = true, networks = false, password = false, key = false }

M.why = {
  list_sizes = "sizes are free: give size = \"<memory MB>x<disk GB>\"",
  list_locations = "one endpoint per data center (choose it with the endpoint option)",
  list_networks = "the API has no network objects", create_network = "the API has no network objects",
  destroy_network = "the API has no network objects",
  allocate_ip = "Add IP allocates and attaches in one step (use attach_ip)",
  list_rules = "no firewall calls", create_rule = "no firewall calls", destroy_rule = "no firewall calls",
  list_balancers = "no load-balancer calls", create_balancer = "no load-balancer calls",
  destroy_balancer = "no load-balancer calls", balancer_attach = "no load-balancer calls",
  balancer_detach = "no load-balancer calls",
}

local function ips_of(list)
  local out = {}
  for _, ip in ipairs(type(list) == "table" and list or {}) do out[#out + 1] = ip.addr or ip.ip end
  return out
end

local function node(cx, s)
  local a = type(s.addresses) == "table" and s.addresses or {}
  local pub = type(a.public) == "table" and a.public.ip or {}
  local priv = type(a.private) == "table" and a.private.ip or {}
  return cx:node({
    id = s.id, name = s.name, state = M.states[s.status] or "unknown", provider_state = s.status,
    public_ips = ips_of(pub), private_ips = ips_of(priv), image = s.imageId,
    size = s.vps_memory and (tostring(s.vps_memory) .. "x" .. tostring(s.vps_hdd_max)) or nil,
    created = s.vps_createdate, password = s.adminPass or s.vps_root_pass,
  }, s)
end

function M.list_nodes(cx)
  local res, err = cx:call("list_servers", {})
  if not res then return nil, err end
  local out = {}
  for _, s in ipairs(res.server or {}) do out[#out + 1] = node(cx, s) end
  return out
end

function M.get_node(cx, id)
  local res, err = cx:call("get_server", { id = id })
  if not res then
    if err.status == 404 then return cx:not_found("get_node", id) end
    return nil, err
  end
  return node(cx, res)
end

function M.list_images(cx)
  local res, err = cx:call("list_images", {})
  if not res then return nil, err end
  local out = {}
  for _, im in ipairs(res.image or {}) do
    if im.status == nil or im.status == "ACTIVE" then
      out[#out + 1] = { id = im.id, name = im.name, type = im.vps_type, extra = im }
    end
  end
  return out
end

M.steps = {}

--- create_node{ name, image, size "MBxGB" (default 512x5), type ("VirtualServer" | "ScaleServer") }
function M.steps.create_node(cx, spec)
  if spec.password or spec.key then return cx:unsupported("create_node", "Clodo chooses the root password (returned as adminPass)") end
  if spec.location then return cx:unsupported("create_node", "one endpoint per data center: choose it with the endpoint option") end
  local vtype = spec.type or "VirtualServer"
  local images, err = M.list_images(cx)
  if not images then return nil, err end
  local of_type = {}
  for _, im in ipairs(images) do if im.type == vtype then of_type[#of_type + 1] = im end end
  local image = of_type[1]
  if spec.image then
    image, err = cx:resolve("image", spec.image, of_type)
    if not image then return nil, err end
  end
  if not image then return nil, cx:error { kind = "validation", op = "create_node", message = "no image for " .. vtype } end
  local mem, hdd = tostring(spec.size or "512x5"):match("^(%d+)%s*[xX:/]%s*(%d+)$")
  if not mem then
    return nil, cx:error { kind = "validation", op = "create_node", message = "clodo size is \"<memory MB>x<disk GB>\", got " .. tostring(spec.size) }
  end
  return { call = { "create_server", { vps_title = spec.name, vps_type = vtype, vps_memory = tonumber(mem),
    vps_hdd = tonumber(hdd), vps_admin = 1, vps_os = image.id } }, finish = function(res)
    local n = node(cx, res)
    if n.state == "unknown" then n.state, n.provider_state = "pending", n.provider_state or "created" end
    return n
  end }
end


local id_of = compute.id_of

local function action(what)
  return function(cx, n)
    local res, err = cx:call("server_action", { id = id_of(n), action = what })
    if not res then return nil, err end
    return true
  end
end

M.reboot_node = action("reboot")
M.start_node = action("start")
M.stop_node = action("stop")

function M.steps.destroy_node(cx, n)
  return { call = { "delete_server", { id = id_of(n) } }, finish = function() return true end }
end


function M.list_ips(cx, n)
  local res, err = cx:call("list_ips", { id = id_of(n) })
  if not res then return nil, err end
  local out = {}
  local pub = type(res.public) == "table" and res.public.ip or {}
  for _, ip in ipairs(pub) do
    out[#out + 1] = { id = ip.ip or ip.addr, address = ip.ip or ip.addr, node_id = id_of(n), primary = tostring(ip.primary_ip) == "1", extra = ip }
  end
  return out
end

--- attach_ip(node): Add IP (a new public address on the server).
function M.attach_ip(cx, n)
  return cx:added("attach_ip", function() return M.list_ips(cx, n) end, "add_ip", { id = id_of(n) }, "address")
end

function M.release_ip(cx, ip)
  local res, err = cx:call("delete_ip", { id = ip.node_id, ip = ip.address })
  if not res then return nil, err end
  return true
end

return M
