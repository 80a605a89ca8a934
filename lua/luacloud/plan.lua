--- Desired state: a recipe (a Lua table) says what must exist; plan() reads the live state and
-- lists the changes (nothing is written); apply() makes them in dependency order with c:batch.
-- local p = assert(luacloud.plan(recipe, { provider = "dimensiondata", endpoint = ..., ... }))
-- for _, ch in ipairs(p.changes) do print(ch.action, ch.kind, ch.name, ch.reason) end
-- local report, err = luacloud.apply(p, { progress = function(ev) end })
-- Recipe shape and ownership rules: docs/COMPUTE.md.
local compute = require "luacloud.compute"
local Error = require "luacloud.error"

local M = {}

local pick = compute.pick

-- Apply order: deletions of dependants first, creations of dependencies first.
-- (A balancer's members leave it before their servers go, and join it once they exist.)
local LEVELS = {
  { "delete", "balancer" }, { "change", "balancer", "detach" }, { "delete", "rule" }, { "delete", "server" },
  { "create", "network" }, { "change", "server" }, { "create", "server" }, { "create", "rule" },
  { "create", "balancer" }, { "change", "balancer", "attach" }, { "delete", "network" },
}
local LEVEL_OF = {}
for i, l in ipairs(LEVELS) do LEVEL_OF[table.concat(l, " ")] = i end

local function bad(msg) return nil, Error.new { kind = "validation", op = "plan", message = msg } end

local function starts(s, prefix) return type(s) == "string" and s:sub(1, #prefix) == prefix end

--- The servers a recipe entry declares: names = {...}, or name-1 .. name-count.
local function server_names(s)
  if type(s.names) == "table" then return s.names end
  local n = s.count or 1
  if type(n) ~= "number" or n ~= math.floor(n) or n < 0 then return nil end
  local out = {}
  for i = 1, n do out[i] = s.name .. "-" .. i end
  return out
end

local function check(recipe)
  if type(recipe) ~= "table" then return bad("a recipe is a table") end
  if type(recipe.name) ~= "string" or not recipe.name:match("^[%w][%w%-]*$") then
    return bad("the recipe needs a name (letters, digits, '-'): it prefixes every object it owns")
  end
  for _, kind in ipairs({ "networks", "servers", "firewall", "balancers" }) do
    local list = recipe[kind]
    if list ~= nil and type(list) ~= "table" then return bad(kind .. " must be a list") end
    for i, x in ipairs(list or {}) do
      if type(x) ~= "table" or type(x.name) ~= "string" or x.name == "" then
        return bad(kind .. "[" .. i .. "] needs a name")
      end
      if kind == "servers" and not server_names(x) then return bad("servers[" .. i .. "].count must be an integer >= 0") end
    end
  end
  return true
end

local function add(p, ch)
  local key = ch.action .. " " .. ch.kind
  ch.level = LEVEL_OF[key .. " " .. tostring(ch.op)] or LEVEL_OF[key]
  p.changes[#p.changes + 1] = ch
end

-- A part the provider cannot do: an error, or (skip_unsupported) an entry in plan.skipped.
local function cannot(p, kind, name, why)
  if not p.recipe.skip_unsupported then
    return nil, Error.new { kind = "unsupported", provider = p.provider, op = "plan",
      message = p.provider .. " cannot make " .. kind .. " '" .. name .. "': " .. why
        .. " (set skip_unsupported = true in the recipe to plan without it)" }
  end
  p.skipped[#p.skipped + 1] = { kind = kind, name = name, reason = why }
  return true
end

local function why(cx, method)
  return (cx.driver.why and cx.driver.why[method]) or ("no " .. method)
end

-- Networks -------------------------------------------------------------------------------------

local function plan_networks(p, cx)
  local recipe, prefix = p.recipe, p.prefix
  local mode = cx.capabilities.networks
  p.network_of = {} -- recipe network name -> what a server's `network` becomes on this provider
  local declared = {}
  for _, n in ipairs(recipe.networks or {}) do
    local full = prefix .. n.name
    declared[full] = true
    local use = pick(n.use, p.provider)
    if mode == "objects" then
      p.network_of[n.name] = full
    elseif mode == "implicit" then
      p.network_of[n.name] = use or full
      p.notes[#p.notes + 1] = "network " .. n.name .. ": " .. p.provider .. " has no network objects; it is the servers' network domain " .. (use or full)
    elseif mode == "existing" then
      local nets, err = cx:list_networks(pick(n.location or recipe.location, p.provider))
      if not nets then return nil, err end
      local found = use and compute.find(nets, use) or compute.find(nets, full) or (not use and nets[1])
      if not found then return cannot(p, "network", n.name, "networks are provisioned outside the API and none matches") end
      p.network_of[n.name] = found.name
      p.notes[#p.notes + 1] = "network " .. n.name .. ": uses the existing network " .. found.name
    else
      local ok, err = cannot(p, "network", n.name, why(cx, "create_network"))
      if not ok then return nil, err end
    end
  end
  if mode ~= "objects" then return true end
  local live, err = cx:list_networks()
  if not live then return nil, err end
  p.live.networks = live
  local have = {}
  for _, n in ipairs(live) do have[n.name] = n end
  for _, n in ipairs(recipe.networks or {}) do
    local full = prefix .. n.name
    if not have[full] then
      add(p, { action = "create", kind = "network", name = full, reason = "declared and absent",
        spec = { name = full, location = pick(n.location or recipe.location, p.provider), description = "luacloud recipe " .. recipe.name } })
    end
  end
  for _, n in ipairs(live) do
    if starts(n.name, prefix) and not declared[n.name] then
      add(p, { action = "delete", kind = "network", name = n.name, id = n.id, current = n,
        reason = "owned by the recipe (prefix " .. prefix .. ") and no longer declared" })
    end
  end
  return true
end

-- Servers --------------------------------------------------------------------------------------

local function server_spec(p, s, name)
  local prov = p.provider
  local net = s.network and (p.network_of[s.network] or pick(s.network, prov))
  return { name = name, image = pick(s.image, prov), size = pick(s.size, prov),
    location = pick(s.location or (p.compute.capabilities.networks ~= "objects" and p.recipe.location or nil), prov),
    network = net, password = pick(s.password, prov), group = pick(s.group, prov) }
end

local function plan_servers(p, cx)
  local recipe, prefix = p.recipe, p.prefix
  if cx.capabilities.node_names == false and not cx:labels() then
    return nil, Error.new { kind = "unsupported", provider = p.provider, op = "plan",
      message = p.provider .. " names servers itself: give the option state (a table or a JSON file) so the recipe remembers which servers it owns" }
  end
  local nodes, err = cx:list_nodes()
  if not nodes then return nil, err end
  p.live.nodes = nodes
  local owned = {}
  for _, n in ipairs(nodes) do
    if starts(n.label, prefix) and n.state ~= "terminated" then owned[n.label] = owned[n.label] or n end
  end
  local declared = {}
  for _, s in ipairs(recipe.servers or {}) do
    for _, short in ipairs(server_names(s)) do
      local full = prefix .. short
      declared[full] = true
      local cur = owned[full]
      if not cur then
        add(p, { action = "create", kind = "server", name = full, reason = "declared and absent", spec = server_spec(p, s, full) })
      elseif cur.state == "stopped" and s.running ~= false then
        add(p, { action = "change", kind = "server", name = full, id = cur.id, current = cur, op = "start",
          reason = "stopped (" .. tostring(cur.provider_state) .. "); the recipe wants it running" })
      elseif cur.state == "error" then
        add(p, { action = "change", kind = "server", name = full, id = cur.id, current = cur, op = "replace",
          spec = server_spec(p, s, full), reason = "in error (" .. tostring(cur.provider_state) .. "): replaced" })
      end
    end
  end
  for label, n in pairs(owned) do
    if not declared[label] then
      add(p, { action = "delete", kind = "server", name = label, id = n.id, current = n,
        reason = "owned by the recipe (prefix " .. prefix .. ") and no longer declared" })
    end
  end
  return true
end

-- Firewall rules (per network) -----------------------------------------------------------------

local function same_rule(a, d)
  return tostring(a.protocol):upper() == tostring(d.protocol or "TCP"):upper()
    and tostring(a.action):upper() == tostring(d.action or "PERMIT"):upper()
    and a.port == d.port and a.port_to == d.port_to
end

local function plan_rules(p, cx)
  local recipe, prefix = p.recipe, p.prefix
  local rules = recipe.firewall or {}
  if not cx.capabilities.list_rules then
    for _, r in ipairs(rules) do
      local ok, err = cannot(p, "firewall rule", r.name, why(cx, "create_rule"))
      if not ok then return nil, err end
    end
    return true
  end
  local by_net = {}
  for _, n in ipairs(p.live.networks or {}) do
    if starts(n.name, prefix) then by_net[n.name] = { net = n, rules = {} } end
  end
  for full, slot in pairs(by_net) do
    local list, err = cx:list_rules(slot.net)
    if not list then return nil, err end
    slot.rules = list
    by_net[full] = slot
  end
  local declared = {}
  for i, r in ipairs(rules) do
    local netname = r.network and p.network_of[r.network] or (recipe.networks and recipe.networks[1] and p.network_of[recipe.networks[1].name])
    if not netname then return bad("firewall rule " .. r.name .. " needs a network of the recipe") end
    local full = prefix .. r.name
    declared[netname .. "/" .. full] = true
    local spec = { name = full, network_name = netname, protocol = r.protocol, port = r.port, port_to = r.port_to,
      action = r.action, source = r.source, position = r.position or (300 + i) }
    local slot = by_net[netname]
    local cur
    for _, x in ipairs(slot and slot.rules or {}) do if x.name == full then cur = x end end
    if not cur then
      add(p, { action = "create", kind = "rule", name = full, reason = "declared and absent", spec = spec })
    elseif not same_rule(cur, r) then
      add(p, { action = "delete", kind = "rule", name = full, id = cur.id, current = cur, reason = "differs from the recipe: replaced" })
      add(p, { action = "create", kind = "rule", name = full, reason = "differs from the recipe: replaced", spec = spec })
    end
  end
  for netname, slot in pairs(by_net) do
    for _, x in ipairs(slot.rules) do
      if starts(x.name, prefix) and not declared[netname .. "/" .. x.name] then
        add(p, { action = "delete", kind = "rule", name = x.name, id = x.id, current = x,
          reason = "owned by the recipe (prefix " .. prefix .. ") and no longer declared" })
      end
    end
  end
  return true
end

-- Load balancers -------------------------------------------------------------------------------
-- A balancer (named with the prefix) on a network of the recipe, its members the servers of a
-- recipe server entry (`servers = "web"`, default: all).

local function member_labels(p, b)
  local out = {}
  for _, s in ipairs(p.recipe.servers or {}) do
    if b.servers == nil or b.servers == s.name then
      for _, short in ipairs(server_names(s)) do out[#out + 1] = p.prefix .. short end
    end
  end
  return out
end

local function plan_balancer(p, b, cur, label_of)
  local full = p.prefix .. b.name
  local first = p.recipe.networks and p.recipe.networks[1] and p.recipe.networks[1].name
  local netname = p.network_of[b.network or first]
  if not netname then return bad("balancer " .. b.name .. " needs a network of the recipe") end
  local spec = { name = full, network_name = netname, port = b.port, backend_port = b.backend_port or b.port,
    algorithm = b.algorithm, protocol = b.protocol, members = member_labels(p, b) }
  if type(b.port) ~= "number" then return bad("balancer " .. b.name .. " needs a port") end
  if not cur then
    add(p, { action = "create", kind = "balancer", name = full, reason = "declared and absent", spec = spec })
    return true
  end
  if cur.port ~= spec.port or (cur.backend_port and cur.backend_port ~= spec.backend_port) then
    add(p, { action = "delete", kind = "balancer", name = full, id = cur.id, current = cur, reason = "ports differ from the recipe: replaced" })
    add(p, { action = "create", kind = "balancer", name = full, reason = "ports differ from the recipe: replaced", spec = spec })
    return true
  end
  local want, have, remove, join = {}, {}, {}, {}
  for _, label in ipairs(spec.members) do want[label] = true end
  for _, m in ipairs(cur.members or {}) do
    local label = label_of[m.node_id]
    if label and want[label] then have[label] = true else remove[#remove + 1] = m end
  end
  for _, label in ipairs(spec.members) do if not have[label] then join[#join + 1] = label end end
  if #remove > 0 then
    add(p, { action = "change", kind = "balancer", name = full, id = cur.id, current = cur, op = "detach", remove = remove,
      reason = #remove .. " member(s) not among the recipe's servers" })
  end
  if #join > 0 then
    add(p, { action = "change", kind = "balancer", name = full, id = cur.id, current = cur, op = "attach", join = join,
      reason = "members missing: " .. table.concat(join, ", ") })
  end
  return true
end

local function plan_balancers(p, cx)
  local decl = p.recipe.balancers or {}
  local caps = cx.capabilities
  if not caps.create_balancer or caps.recipe_balancers == false then
    for _, b in ipairs(decl) do
      local ok, err = cannot(p, "load balancer", b.name, why(cx, caps.create_balancer and "recipe_balancers" or "create_balancer"))
      if not ok then return nil, err end
    end
    return true
  end
  local nets = {}
  for _, n in ipairs(p.live.networks or {}) do if starts(n.name, p.prefix) then nets[#nets + 1] = n end end
  local live = {}
  if #nets > 0 then
    local err
    live, err = cx:list_balancers(nets)
    if not live then return nil, err end
  end
  local by_name = {}
  for _, b in ipairs(live) do if starts(b.name, p.prefix) then by_name[b.name] = b end end
  local label_of = {}
  for _, n in ipairs(p.live.nodes or {}) do label_of[n.id] = n.label end
  local declared = {}
  for _, b in ipairs(decl) do
    declared[p.prefix .. b.name] = true
    local ok, err = plan_balancer(p, b, by_name[p.prefix .. b.name], label_of)
    if not ok then return nil, err end
  end
  for name, b in pairs(by_name) do
    if not declared[name] then
      add(p, { action = "delete", kind = "balancer", name = name, id = b.id, current = b,
        reason = "owned by the recipe (prefix " .. p.prefix .. ") and no longer declared" })
    end
  end
  return true
end

--- plan(recipe, opts) -> plan | nil, err. opts: the options of luacloud.compute (provider,
-- credentials, state, wait) or opts.compute = an existing compute object. Reads only.
function M.plan(recipe, opts)
  opts = opts or {}
  local ok, err = check(recipe)
  if not ok then return nil, err end
  local cx = opts.compute
  if not cx then
    local provider = opts.provider or recipe.provider
    cx, err = compute.compute(provider, opts)
    if not cx then return nil, err end
  end
  local p = setmetatable({ provider = cx.provider, recipe = recipe, prefix = recipe.prefix or (recipe.name .. "-"),
    compute = cx, changes = {}, skipped = {}, notes = {}, live = {} }, { __index = M })
  for _, step in ipairs({ plan_networks, plan_servers, plan_rules, plan_balancers }) do
    ok, err = step(p, cx)
    if not ok then return nil, err end
  end
  table.sort(p.changes, function(a, b)
    if a.level ~= b.level then return a.level < b.level end
    return a.name < b.name
  end)
  return p
end

--- One line per change, for people.
function M.describe(p)
  local lines = {}
  for _, ch in ipairs(p.changes) do
    lines[#lines + 1] = string.format("%-6s %-7s %s: %s", ch.action, ch.kind, ch.name, ch.reason)
  end
  for _, s in ipairs(p.skipped) do lines[#lines + 1] = string.format("skip   %-7s %s: %s", s.kind, s.name, s.reason) end
  for _, n in ipairs(p.notes) do lines[#lines + 1] = "note   " .. n end
  if #p.changes == 0 then lines[#lines + 1] = "no changes: " .. p.provider .. " matches the recipe " .. p.recipe.name end
  return table.concat(lines, "\n")
end

-- Apply ------------------------------------------------------------------------------------------

local function find_network(cx, name)
  local list, err = cx:list_networks()
  if not list then return nil, err end
  for _, n in ipairs(list) do if n.name == name then return n end end
  return nil, cx:error { kind = "api", op = "apply", message = "network " .. name .. " is not listed" }
end

local function nodes_by_label(cx)
  local nodes, err = cx:list_nodes()
  if not nodes then return nil, err end
  local by = {}
  for _, n in ipairs(nodes) do if n.label and n.state ~= "terminated" then by[n.label] = n end end
  return by
end

--- A balancer change: create (with the members that exist), delete, or members in / out.
function M.balancer_step(cx, ch)
  if ch.action == "delete" then return cx:destroy_balancer(ch.current) end
  if ch.op == "detach" then
    for _, m in ipairs(ch.remove) do
      local ok, err = cx:balancer_detach(ch.current, m)
      if not ok then return nil, err end
    end
    return true
  end
  local by, err = nodes_by_label(cx)
  if not by then return nil, err end
  if ch.op == "attach" then
    for _, label in ipairs(ch.join) do
      if not by[label] then return nil, cx:error { kind = "api", op = "apply", message = "no server " .. label .. " to add" } end
      local ok; ok, err = cx:balancer_attach(ch.current, by[label])
      if not ok then return nil, err end
    end
    return true
  end
  local net; net, err = find_network(cx, ch.spec.network_name)
  if not net then return nil, err end
  local members = {}
  for _, label in ipairs(ch.spec.members) do members[#members + 1] = by[label] end
  return cx:create_balancer { network = net.id, name = ch.spec.name, port = ch.spec.port,
    backend_port = ch.spec.backend_port, algorithm = ch.spec.algorithm, protocol = ch.spec.protocol, members = members }
end

-- The driver step of a change (built at apply time: earlier levels made what it refers to).
local function step_of(cx, ch, wopts)
  if ch.kind == "network" then
    if ch.action == "create" then return cx:step("create_network", ch.spec) end
    return cx:step("destroy_network", ch.current)
  elseif ch.kind == "server" then
    if ch.action == "create" then return cx:step("create_node", ch.spec) end
    if ch.action == "delete" then return cx:step("destroy_node", ch.current, { force = true, wait = wopts }) end
    if ch.op == "start" then return cx:step("start_node", ch.current) end
    return { run = function()
      local ok, err = cx:destroy_node(ch.current, { force = true, wait = wopts })
      if not ok then return nil, err end
      ok, err = cx:wait_until(ch.current, "terminated", wopts)
      if not ok then return nil, err end
      return cx:create_node(ch.spec)
    end }
  elseif ch.kind == "rule" then
    if ch.action == "delete" then return cx:step("destroy_rule", ch.current) end
    local net, err = find_network(cx, ch.spec.network_name)
    if not net then return nil, err end
    local spec = {}
    for k, v in pairs(ch.spec) do spec[k] = v end
    spec.network = net.id
    return cx:step("create_rule", spec)
  elseif ch.kind == "balancer" then
    return { run = function() return M.balancer_step(cx, ch) end }
  end
  return nil, cx:error { kind = "unsupported", op = "apply", message = "no step for " .. ch.action .. " " .. ch.kind }
end

-- After the writes of a level: servers are waited for (running, or gone).
local function settle(cx, ch, result, wopts, progress)
  if ch.kind ~= "server" then return result end
  local want = ch.action == "delete" and "terminated" or "running"
  local id = ch.action == "delete" and ch.current or result
  if ch.action == "change" and ch.op == "start" then id = ch.current end
  local w = {}
  for k, v in pairs(wopts or {}) do w[k] = v end
  w.progress = function(pct, info)
    progress { phase = "waiting", change = ch, pct = pct, state = info.state, polls = info.polls }
  end
  return cx:wait_until(id, want, w)
end

local function run_level(cx, changes, wopts, progress, report)
  local steps, calls, where = {}, {}, {}
  for i, ch in ipairs(changes) do
    progress { phase = "start", change = ch }
    local st, err = step_of(cx, ch, wopts)
    if not st then return nil, ch, err end
    steps[i] = st
    if st.call then
      calls[#calls + 1] = st.call
      where[i] = #calls
    end
  end
  local results = #calls > 0 and cx.client:batch(calls, report.concurrency) or {}
  local first_err, failed
  for i, ch in ipairs(changes) do
    local st, res, err = steps[i], nil, nil
    if st.call then
      local r = results[where[i]]
      if r.err then err = r.err
      elseif st.finish then res, err = st.finish(r.result)
      else res = r.result end
    else
      res, err = st.run()
    end
    if res ~= nil then res, err = settle(cx, ch, res, wopts, progress) end
    if res ~= nil then
      report.done[#report.done + 1] = ch
      progress { phase = "done", change = ch, result = res }
    else
      report.failed[#report.failed + 1] = { change = ch, error = err }
      progress { phase = "failed", change = ch, error = err }
      first_err, failed = first_err or err, failed or ch
    end
  end
  if first_err then return nil, failed, first_err end
  return true
end

--- apply(plan, opts) -> report | nil, err, report
-- opts: progress = function(event) (event.phase: "start", "waiting", "done", "failed"; event.change),
-- wait = c:wait options for servers, concurrency (c:batch limit, default 8).
-- The levels run in order; within one, the writes go out together through c:batch. The first
-- failing level ends the run: report.done, report.failed ({change, error}) and report.not_done.
function M.apply(p, opts)
  opts = opts or {}
  if type(p) ~= "table" or type(p.changes) ~= "table" or not p.compute then
    return nil, Error.new { kind = "validation", op = "apply", message = "apply takes the result of plan()" }
  end
  local cx = p.compute
  local user_progress = opts.progress
  local function progress(ev)
    if user_progress then pcall(user_progress, ev) end
  end
  local report = { ok = true, provider = p.provider, done = {}, failed = {}, not_done = {}, concurrency = opts.concurrency }
  local wopts = opts.wait or cx.wait_opts
  local by_level = {}
  for _, ch in ipairs(p.changes) do
    by_level[ch.level] = by_level[ch.level] or {}
    table.insert(by_level[ch.level], ch)
  end
  for level = 1, #LEVELS do
    local changes = by_level[level]
    if changes then
      local ok, failed, err = run_level(cx, changes, wopts, progress, report)
      if not ok then
        report.ok, report.error = false, err
        local listed = {}
        for _, ch in ipairs(report.done) do listed[ch] = true end
        for _, f in ipairs(report.failed) do listed[f.change] = true end
        if #report.failed == 0 then report.failed[1] = { change = failed, error = err } listed[failed] = true end
        for _, ch in ipairs(p.changes) do
          if not listed[ch] then report.not_done[#report.not_done + 1] = ch end
        end
        local e = Error.new { kind = err and err.kind or "api", provider = p.provider, op = "apply",
          status = err and err.status, code = err and err.code,
          message = string.format("%s %s %s failed: %s (%d done, %d not done)", failed.action, failed.kind, failed.name,
            err and err.message or "?", #report.done, #report.not_done), details = { report = report, cause = err } }
        return nil, e, report
      end
    end
  end
  return report
end

-- CLI: luacloud plan FILE | luacloud apply FILE ------------------------------------------------

local function load_recipe(file)
  if type(file) ~= "string" or file == "" then return bad("usage: luacloud plan|apply FILE (a Lua file returning a recipe)") end
  local chunk, err = loadfile(file, "t")
  if not chunk then return bad("cannot load the recipe: " .. tostring(err)) end
  local ok, recipe = pcall(chunk)
  if not ok then return bad("the recipe failed: " .. tostring(recipe)) end
  if type(recipe) ~= "table" then return bad("the recipe file must return a table") end
  return recipe
end

-- Client options: the recipe's `options`, then LUACLOUD_<PROVIDER>_* (luacloud.config), then flags.
local function cli_options(recipe, provider, flags, file)
  local o = {}
  for k, v in pairs(type(recipe.options) == "table" and recipe.options or {}) do o[k] = v end
  local okc, config = pcall(require, "luacloud.config")
  if okc and type(config) == "table" then
    if config.profile then
      local prof = config.profile(flags.profile, provider)
      for k, v in pairs(type(prof) == "table" and prof or {}) do if o[k] == nil then o[k] = v end end
    end
    for k, v in pairs(config.from_env and config.from_env(provider) or {}) do o[k] = v end
  end
  for _, k in ipairs({ "endpoint", "api_key", "secret_key", "username", "password", "user", "key", "org_id",
    "account_alias", "format", "timeout" }) do
    if flags[k] ~= nil then o[k] = flags[k] end
  end
  if o.timeout then o.timeout = tonumber(o.timeout) end
  o.provider = provider
  o.state = flags.state or recipe.state or (file:gsub("%.lua$", "") .. ".state.json")
  return o
end

--- cli(args) -> exit code (0 ok: planned, or applied completely; 1 error or a failed apply).
-- args: { command = "plan"|"apply", file = FILE, flags = { provider, state, ... } } (bin/luacloud),
-- or an argv array { "plan"|"apply", FILE, "--provider", P, "--state", F }.
-- Output (to `out`, default stdout): plan prints one line per change; apply prints progress
-- lines and a summary. Errors go to `errout` (default stderr).
function M.cli(args, out, errout)
  out, errout = out or io.stdout, errout or io.stderr
  args = type(args) == "table" and args or {}
  local cmd, file, flags = args.command, args.file, args.flags or {}
  if cmd == nil then
    flags = {}
    cmd, file = args[1], args[2]
    local i = 3
    while args[i] do
      local k = tostring(args[i]):match("^%-%-([%w_-]+)$")
      if k then flags[k:gsub("-", "_")] = args[i + 1]; i = i + 2 else i = i + 1 end
    end
  end
  local function fail(err)
    errout:write("luacloud " .. tostring(cmd) .. ": " .. tostring(err) .. "\n")
    return 1
  end
  if cmd ~= "plan" and cmd ~= "apply" then return fail("the command is plan or apply") end
  local recipe, err = load_recipe(file)
  if not recipe then return fail(err) end
  local provider = flags.provider or recipe.provider
  if not provider then return fail("which provider? give provider = ... in the recipe or --provider") end
  local p
  p, err = M.plan(recipe, cli_options(recipe, provider, flags, file))
  if not p then return fail(err) end
  out:write(M.describe(p), "\n")
  if cmd == "plan" or #p.changes == 0 then return 0 end
  local report
  report, err = M.apply(p, { progress = function(ev)
    if ev.phase == "done" or ev.phase == "failed" then
      out:write(string.format("%-6s %s %s %s\n", ev.phase, ev.change.action, ev.change.kind, ev.change.name))
    end
  end })
  if not report then
    local r = err.details and err.details.report or {}
    out:write(string.format("stopped: %d done, %d failed, %d not done\n", #(r.done or {}), #(r.failed or {}), #(r.not_done or {})))
    return fail(err)
  end
  out:write(string.format("applied: %d changes\n", #report.done))
  return 0
end

M.LEVELS = LEVELS
return M
