--- CenturyLink (Tier 3 API v1) onto the compute API.
-- The API names servers (location + account + Alias + number), so a node's label is its
-- Description. Power actions and deletion are queued: the methods wait for their request.
-- Networks exist per account and location; the API cannot create them.
local compute = require "luacloud.compute"

local M = {}

-- Status (seed: Active, Archived, Deleted, UnderConstruction, QueuedForArchive, QueuedForDelete,
-- QueuedForRestore) and PowerState (Started, Stopped, Paused).
M.states = {
  UnderConstruction = "pending", QueuedForArchive = "pending", QueuedForDelete = "pending",
  QueuedForRestore = "pending", Deleted = "terminated", Archived = "stopped",
  Active = "running", -- refined by PowerState: Started running, Stopped/Paused stopped
}

-- What this cloud is; which methods it has follows from the functions below and M.why
-- (luacloud.compute derives the capability table).
M.traits = { node_names = "description", networks = "existing", password = true, key = false }

M.why = {
  list_sizes = "sizes are free: give size = \"<cpus>x<memory GB>\"",
  create_network = "networks are provisioned outside the API (Get Networks lists them)",
  destroy_network = "networks are provisioned outside the API",
  allocate_ip = "Add Public IP Address allocates and attaches in one step (use attach_ip)",
  release_ip = "the API has no call to release a public IP",
  list_ips = "public IPs are listed on their server (node.public_ips)",
  list_rules = "no firewall calls (public IP Allow* flags only)",
  create_rule = "no firewall calls (public IP Allow* flags only)",
  destroy_rule = "no firewall calls",
  list_balancers = "no load-balancer calls", create_balancer = "no load-balancer calls",
  destroy_balancer = "no load-balancer calls", balancer_attach = "no load-balancer calls",
  balancer_detach = "no load-balancer calls",
}

local function state_of(s)
  if s.Status == "Active" then
    if s.PowerState == "Started" then return "running" end
    if s.PowerState == "Stopped" or s.PowerState == "Paused" then return "stopped" end
    return "unknown"
  end
  return M.states[s.Status] or "unknown"
end

local function node(cx, s)
  local pub, priv = {}, {}
  for _, a in ipairs(s.IPAddresses or {}) do
    if a.AddressType == "RIP" then priv[#priv + 1] = a.Address else pub[#pub + 1] = a.Address end
  end
  return cx:node({
    id = s.Name, name = s.Name, label = s.Description, state = state_of(s),
    provider_state = tostring(s.Status) .. "/" .. tostring(s.PowerState),
    public_ips = pub, private_ips = priv, image = s.OperatingSystem,
    size = (s.Cpu and s.MemoryGB) and (tostring(s.Cpu) .. "x" .. tostring(s.MemoryGB)) or nil,
    location = s.Location, group = s.HardwareGroupUUID, created = s.DateModified,
  }, s)
end

local function account(cx) return cx.client.opts.account_alias end

function M.list_nodes(cx)
  local res, err = cx:call("get_all_servers", { AccountAlias = account(cx) })
  if not res then return nil, err end
  local out = {}
  for _, s in ipairs(res.Servers or {}) do
    if s.Status ~= "Deleted" then out[#out + 1] = node(cx, s) end
  end
  return out
end

function M.get_node(cx, id)
  local res, err = cx:call("get_server", { AccountAlias = account(cx), Name = tostring(id) })
  if not res then
    -- the API's "not found" is StatusCode 5 (Resource Not Found)
    if err.code == 5 or tostring(err.code) == "5" then return cx:not_found("get_node", id) end
    return nil, err
  end
  local s = (res.Servers or {})[1]
  if not s or s.Status == "Deleted" then return cx:not_found("get_node", id) end
  return node(cx, s)
end

local function default_location(cx)
  local res, err = cx:call("get_accounts", {})
  if not res then return nil, err end
  for _, a in ipairs(res.Accounts or {}) do
    if a.AccountAlias == account(cx) then return a.Location end
  end
  return res.Accounts and res.Accounts[1] and res.Accounts[1].Location
end

function M.list_locations(cx)
  local res, err = cx:call("get_locations", {})
  if not res then return nil, err end
  local out = {}
  for _, l in ipairs(res.Locations or {}) do out[#out + 1] = { id = l.Alias, name = l.Region, extra = l } end
  return out
end

function M.list_images(cx, location)
  local res, err = cx:call("list_available_server_templates", { Location = location })
  if not res then return nil, err end
  local out = {}
  for _, t in ipairs(res.Templates or {}) do
    out[#out + 1] = { id = t.Name, name = t.Name, description = t.Description, cpus = t.Cpu, ram = t.MemoryGB and t.MemoryGB * 1024, extra = t }
  end
  return out
end

function M.list_networks(cx, location)
  if not location then
    local err
    location, err = default_location(cx)
    if not location then return nil, err end
  end
  local res, err = cx:call("get_deployable_networks", { AccountAlias = account(cx), Location = location })
  if not res then return nil, err end
  local out = {}
  for _, n in ipairs(res.Networks or {}) do
    out[#out + 1] = { id = n.Name, name = n.Name, location = n.Location, gateway = n.Gateway, extra = n }
  end
  return out
end

local function group_uuid(cx, location, want)
  local res, err = cx:call("get_groups", { AccountAlias = account(cx), Location = location })
  if not res then return nil, err end
  local groups = {}
  for _, g in ipairs(res.HardwareGroups or {}) do groups[#groups + 1] = { id = g.UUID, name = g.Name } end
  local g; g, err = cx:resolve("hardware group", want or "Default Group", groups)
  if not g then return nil, err end
  return g.id
end

local function find_by_label(cx, label)
  local list, err = M.list_nodes(cx)
  if not list then return nil, err end
  for _, n in ipairs(list) do if n.label == label then return n end end
  return nil
end

M.steps = {}

--- create_node{ name (kept as Description), image (template), size "CPUxGB", location, network,
-- password, group (hardware group name, default "Default Group"), alias (<= 6 letters) }
function M.steps.create_node(cx, spec)
  if spec.key then return cx:unsupported("create_node", "no SSH keys; give a password") end
  local location, err = spec.location
  if not location then
    location, err = default_location(cx)
    if not location then return nil, err end
  end
  local images; images, err = M.list_images(cx, location)
  if not images then return nil, err end
  local image = images[1]
  if spec.image then
    image, err = cx:resolve("image", spec.image, images)
    if not image then return nil, err end
  end
  local cpu, mem = tostring(spec.size or ""):match("^(%d+)%s*[xX:]%s*(%d+)$")
  cpu, mem = tonumber(cpu) or image.cpus or 1, tonumber(mem) or (image.ram and image.ram / 1024) or 2
  local group; group, err = group_uuid(cx, location, spec.group)
  if not group then return nil, err end
  local net = spec.network
  if not net then
    local nets; nets, err = M.list_networks(cx, location)
    if not nets then return nil, err end
    net = nets[1] and nets[1].name
  end
  local alias = spec.alias or tostring(spec.name or "SRV"):gsub("[^%w]", ""):sub(1, 6):upper()
  if alias == "" then alias = "SRV" end
  return { call = { "create_server", { AccountAlias = account(cx), LocationAlias = location, Template = image.name,
    Alias = alias, Description = spec.name, HardwareGroupUUID = group, ServerType = 1, ServiceLevel = 2,
    Cpu = math.floor(cpu), MemoryGB = math.floor(mem), ExtraDriveGB = 0, Network = net, Password = spec.password } },
    finish = function(queued)
      local n, ferr
      if spec.name then n, ferr = find_by_label(cx, spec.name) end
      if n then n.request_id = queued.RequestID return n end
      if ferr then return nil, ferr end
      -- not listed yet: the queued request names it when done
      local done; done, ferr = cx.client:wait(queued, cx.wait_opts)
      if not done then return nil, ferr end
      if spec.name then n, ferr = find_by_label(cx, spec.name) end
      if not n then return nil, ferr or cx:error { kind = "api", op = "create_node", message = "the new server is not listed" } end
      return n
    end }
end


local id_of = compute.id_of

-- A queued action: send it and wait for its request (the API's own progress).
local function queued(op)
  return function(cx, n, opts)
    local res, err = cx:call(op, { AccountAlias = account(cx), Name = id_of(n) })
    if not res then return nil, err end
    local ok; ok, err = cx.client:wait(res, (opts and opts.wait) or cx.wait_opts)
    if not ok then return nil, err end
    return true
  end
end

M.reboot_node = queued("reboot_server")
M.start_node = queued("power_on_server")
function M.stop_node(cx, n, opts)
  return queued((opts and opts.force) and "power_off_server" or "shutdown_server")(cx, n, opts)
end

function M.steps.destroy_node(cx, n)
  return { call = { "delete_server", { AccountAlias = account(cx), Name = id_of(n) } }, finish = function(res)
    local ok, err = cx.client:wait(res, cx.wait_opts)
    if not ok then return nil, err end
    return true
  end }
end


--- attach_ip(node, { ports = { "SSH", "HTTP", ... } }): Add Public IP Address (allocates too).
function M.attach_ip(cx, n, opts)
  opts = opts or {}
  local p = { AccountAlias = account(cx), ServerName = id_of(n) }
  for _, port in ipairs(opts.ports or {}) do p["Allow" .. port] = true end
  local res, err = cx:call("add_public_ip_address", p)
  if not res then return nil, err end
  local ok; ok, err = cx.client:wait(res, cx.wait_opts)
  if not ok then return nil, err end
  local cur; cur, err = M.get_node(cx, id_of(n))
  if not cur then return nil, err end
  return { address = cur.public_ips[#cur.public_ips], node_id = cur.id }
end

return M
