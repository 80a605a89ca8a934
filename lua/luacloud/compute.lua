--- One compute API over the four clouds (modelled on Apache Libcloud's NodeDriver).
-- local cx = luacloud.compute("dimensiondata", { endpoint = ..., username = ..., password = ... })
-- local node = cx:create_node{ name = "web-1", image = "CentOS", location = "NA1", network = "net", password = "..." }
-- cx:wait_until(node, "running", { timeout = 600, progress = function(pct, info) end })
--
-- Every method goes through the engine (c:call / c:batch / c:wait) with catalog operations; the
-- per-provider mapping lives in luacloud/compute/<provider>.lua. A method a provider cannot do
-- returns nil, err with kind "unsupported". Node shape: see docs/COMPUTE.md.
local engine = require "luacloud.engine"
local Error = require "luacloud.error"

local M = {}
local unpack_ = table.unpack or unpack -- LuaJIT under nginx

M.STATES = { "pending", "running", "stopped", "rebooting", "terminated", "error", "unknown" }

local Compute = {}
Compute.__index = Compute

-- The methods that a driver may lack; their names are also the capability keys.
M.METHODS = { "list_nodes", "get_node", "create_node", "destroy_node", "reboot_node", "start_node",
  "stop_node", "list_images", "list_sizes", "list_locations", "list_networks", "create_network",
  "destroy_network", "allocate_ip", "attach_ip", "release_ip", "list_ips", "list_rules",
  "create_rule", "destroy_rule", "list_balancers", "create_balancer", "destroy_balancer",
  "balancer_attach", "balancer_detach" }

local function unsupported(self, what, why)
  return nil, Error.new { kind = "unsupported", provider = self.provider, op = what,
    message = self.provider .. " cannot " .. what:gsub("_", " ") .. (why and (": " .. why) or "") }
end
M.unsupported = unsupported

function Compute:error(fields)
  fields.provider = self.provider
  return Error.new(fields)
end

function Compute:unsupported(what, why) return unsupported(self, what, why) end

--- c:call through the engine; kept as one place so every driver call is visible here.
function Compute:call(op, params)
  return self.client:call(op, params)
end

--- The provider's value of a recipe/option field: a table keyed by provider names picks one.
function M.pick(v, provider)
  if type(v) == "table" and getmetatable(v) == nil and #v == 0 then
    local known = false
    for _, p in ipairs({ "reliacloud", "dimensiondata", "centurylink", "clodo" }) do
      if v[p] ~= nil then known = true end
    end
    if known then return v[provider] end
  end
  return v
end

--- Find an item of a list ({id, name}) by id, exact name, then case-insensitive name part.
function M.find(list, want)
  if want == nil then return nil end
  want = tostring(want)
  for _, x in ipairs(list) do if tostring(x.id) == want then return x end end
  for _, x in ipairs(list) do if x.name == want then return x end end
  local lw = want:lower()
  for _, x in ipairs(list) do
    if type(x.name) == "string" and x.name:lower():find(lw, 1, true) then return x end
  end
  return nil
end

--- Resolve a wanted image/size/location/network against a listing, or fail naming what exists.
function Compute:resolve(kind, want, list)
  local x = M.find(list, want)
  if x then return x end
  local names = {}
  for i, y in ipairs(list) do
    if i > 8 then names[#names + 1] = "..." break end
    names[#names + 1] = tostring(y.name or y.id)
  end
  return nil, self:error { kind = "validation", op = "create_node",
    message = string.format("no %s matches '%s' (have: %s)", kind, tostring(want), table.concat(names, ", ")) }
end

-- Labels: the name a caller gave a node, for providers whose servers cannot carry one
-- (ReliaCloud names them itself). Kept in opts.state: a table, or a JSON file path.
local function load_state(self)
  local st = self.opts.state
  if type(st) == "table" then return st end
  if type(st) ~= "string" then return nil end
  local core = require "luacloud.core"
  local f = io.open(st, "rb")
  if not f then return {} end
  local text = f:read("*a")
  f:close()
  local v = core.json_decode(text)
  return type(v) == "table" and v or {}
end

function Compute:labels()
  if not self._state then
    self._state = load_state(self)
    if not self._state then return nil end
  end
  local st = self._state
  if type(st.labels) ~= "table" then st.labels = {} end
  return st.labels
end

function Compute:save_state()
  local path = self.opts.state
  if type(path) ~= "string" or not self._state then return true end
  local core = require "luacloud.core"
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, self:error { kind = "validation", op = "state", message = "cannot write " .. tostring(err) } end
  f:write(core.json_encode(self._state) or "{}")
  f:close()
  os.rename(tmp, path)
  return true
end

function Compute:remember(id, label)
  local labels = self:labels()
  if not labels or id == nil then return end
  labels[tostring(id)] = label
  self:save_state()
end

function Compute:label_of(id)
  local labels = self:labels()
  return labels and labels[tostring(id)]
end

--- The one node shape: fills the common keys around the driver's mapping.
function Compute:node(fields, raw)
  local n = fields
  n.provider = self.provider
  n.state = n.state or "unknown"
  n.public_ips = n.public_ips or {}
  n.private_ips = n.private_ips or {}
  n.extra = raw
  if n.label == nil then n.label = self:label_of(n.id) or n.name end
  return n
end

--- wait_until(node | id, state, { timeout, interval, max_interval, progress }) -> node | nil, err
-- Polls get_node with the engine's one waiter (c:wait). A node in "error" ends the wait with an
-- error unless "error" is awaited; a node that vanished counts as "terminated".
function Compute:wait_until(node, want, opts)
  opts = opts or {}
  local id = type(node) == "table" and node.id or node
  if id == nil then return nil, self:error { kind = "validation", op = "wait_until", message = "no node id" } end
  local wopts = {}
  for k, v in pairs(opts) do wopts[k] = v end
  local last
  if opts.progress then
    wopts.progress = function(pct, info)
      info.state = last and last.state
      info.node = last
      return opts.progress(pct, info)
    end
  end
  return self.client:wait(function()
    local n, err = self:get_node(id)
    if not n then
      if err.kind == "not_found" then
        if want == "terminated" then return { id = id, state = "terminated", provider = self.provider }, 100 end
        return false
      end
      return nil, nil, err
    end
    last = n
    if n.state == want then return n, 100 end
    if n.state == "terminated" and want ~= "terminated" then
      return nil, nil, self:error { kind = "api", op = "wait_until", message = "node " .. tostring(id) .. " was terminated" }
    end
    if n.state == "error" and want ~= "error" then
      return nil, nil, self:error { kind = "api", op = "wait_until", code = n.provider_state,
        message = "node " .. tostring(id) .. " is in error (" .. tostring(n.provider_state) .. ")" }
    end
    return false, n.progress
  end, wopts)
end

--- What a call added to a list the API gives no id for in its answer: list, send op, list again
-- and return the first item whose key was not there before (method names the error).
function Compute:added(method, list, op, params, key)
  local before, err = list()
  if not before then return nil, err end
  local res; res, err = self:call(op, params)
  if not res then return nil, err end
  local after; after, err = list()
  if not after then return nil, err end
  local seen = {}
  for _, x in ipairs(before) do seen[x[key]] = true end
  for _, x in ipairs(after) do if not seen[x[key]] then return x end end
  return nil, self:error { kind = "api", op = method, message = "what " .. op .. " added is not listed" }
end

function Compute:not_found(what, id)
  return nil, self:error { kind = "not_found", op = what, message = "no node " .. tostring(id) }
end

--- The id of a node given as the node or as its id.
function M.id_of(n) return type(n) == "table" and n.id or n end

--- A driver method that sends op with the node's id as param `key` and answers true.
function M.action(op, key)
  return function(cx, n)
    local res, err = cx:call(op, { [key] = M.id_of(n) })
    if not res then return nil, err end
    return true
  end
end

-- Capability-gated dispatch: a driver function per method, or its step run now (a driver that
-- has steps.create_node needs no create_node of its own), or "unsupported".
for _, name in ipairs(M.METHODS) do
  Compute[name] = function(self, ...)
    local f = self.driver[name]
    local step = self.driver.steps and self.driver.steps[name]
    if not self.capabilities[name] or (type(f) ~= "function" and not step) then
      return unsupported(self, name, self.driver.why and self.driver.why[name])
    end
    if type(f) == "function" then return f(self, ...) end
    local s, err = step(self, ...)
    if not s then return nil, err end
    return self:run_step(s)
  end
end

--- Driver steps for the plan: (call = {op, params}, finish = fn(result) -> obj|nil, err) pairs
-- let c:batch put several writes on the wire at once. A driver without a step function for a
-- method is driven through the plain method instead.
function Compute:step(name, ...)
  if not self.capabilities[name] then return unsupported(self, name, self.driver.why and self.driver.why[name]) end
  local f = self.driver.steps and self.driver.steps[name]
  if f then return f(self, ...) end
  local args = { n = select("#", ...), ... }
  return { run = function() return self[name](self, unpack_(args, 1, args.n)) end }
end

--- Run one step now: returns the step's final result.
function Compute:run_step(step)
  if step.run then return step.run() end
  local res, err = self:call(step.call[1], step.call[2])
  if res == nil then return nil, err end
  if step.finish then return step.finish(res) end
  return res
end

-- A driver's capabilities: what it is (driver.traits: networks, node_names, password, key, ...)
-- and, per method, whether it has a function or a step for it. A method it lacks must say why
-- (driver.why), which the "unsupported" error then gives; one without a reason is a driver bug.
local function capabilities(driver, provider)
  local caps = {}
  for k, v in pairs(driver.traits or {}) do caps[k] = v end
  for _, m in ipairs(M.METHODS) do
    local has = type(driver[m]) == "function" or (driver.steps and driver.steps[m]) ~= nil
    local why = driver.why and driver.why[m]
    if has == (why ~= nil) then
      return nil, Error.new { kind = "internal", provider = tostring(provider), op = m, message = "compute driver "
        .. tostring(provider) .. ": " .. m .. (has and " is implemented but has a reason it is not"
        or " has neither a function nor a reason it is unsupported (driver.why)") }
    end
    caps[m] = has
  end
  return caps
end
M.capabilities = capabilities

--- luacloud.compute(provider, options) -> compute | nil, err
-- options: the client options of luacloud.new (or options.client = an existing client), plus
-- state (table or JSON file path: remembered node labels where the provider cannot name servers).
function M.compute(provider, opts)
  opts = opts or {}
  local c = opts.client
  if not c then
    local err
    c, err = engine.new(provider, opts)
    if not c then return nil, err end
  end
  local ok, driver = pcall(require, "luacloud.compute." .. tostring(c.provider))
  if not ok then
    return nil, Error.new { kind = "unsupported", provider = tostring(provider), message = "no compute mapping for " .. tostring(provider) }
  end
  local caps, cerr = capabilities(driver, c.provider)
  if not caps then return nil, cerr end
  local self = setmetatable({ provider = c.provider, client = c, driver = driver, opts = opts,
    capabilities = caps, states = driver.states, wait_opts = opts.wait }, Compute)
  return self
end

M.new = M.compute
M.Compute = Compute
return M
