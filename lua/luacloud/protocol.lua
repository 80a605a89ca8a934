--- Request bodies from catalog data: query, form, JSON and XML through the core's encoders, and
-- answers in XML shaped like the same API's JSON. A provider says how its bodies look with catalog
-- keys (docs/DESIGN.md "Catalog keys"), never with code: a hook that writes bodies itself is a
-- second engine that drifts from the first. One path for the four APIs:
--   entry.body = "query" | "form" | "json" | "xml" | "json|xml" (the call's format) | "none"
--   entry.body_root / xml_root / body_order, param.xml / attribute / multi: see M.encode
--   entry.request = { style = "wrapped"|"flat"|"single"|"action", root, xml_only, omit_empty }:
--     an API that writes the same params in either format (Clodo, notes section 3):
--       wrapped  XML <root><p>v</p>..</root>   JSON {"root":{"p":v}}
--       flat     XML <root><p>v</p>..</root>   JSON {"p":v}
--       single   XML <p>v</p>                  JSON {"p":v}        (exactly one body param)
--       action   XML <name a="v"/>             JSON {"name":{"a":v}} (name = the value of the
--                                                                 param with location "root")
--   param location "dynamic": names the document builds from data (see expand_dynamic)
local core = require "luacloud.core"
local util = require "luacloud.util"

local M = {}

local ARRAY = core.array_mt
local array, integer, is_empty = util.array, util.integer, util.is_empty

local DEFAULT_TYPES = {
  json = "application/json",
  xml = "application/xml",
  form = "application/x-www-form-urlencoded",
}

function M.content_type(catalog, fmt)
  return (catalog.content_types and catalog.content_types[fmt]) or DEFAULT_TYPES[fmt]
end

function M.xml_root(entry)
  return entry.body_root or entry.xml_root or entry.name
end

local function field_name(f) return type(f) == "table" and f.name or f end

-- a list param given one record (not a sequence) is a list of that one record
local function as_list(v)
  if v[1] == nil and next(v) ~= nil and getmetatable(v) ~= ARRAY then return { v } end
  return v
end

-- Per entry, built once (entries are immutable data): wire name -> spec, the XML order map,
-- the snake_case key of the param that selects the call's format.
local compiled = setmetatable({}, { __mode = "k" })
local function compile(entry, snake)
  local c = compiled[entry]
  if c then return c end
  c = { specs = {}, order = {} }
  for k, v in pairs(entry.body_order or {}) do c.order[k] = v end
  local names = {}
  for _, spec in ipairs(entry.params or {}) do
    local wire = spec.wire_name or spec.name
    c.specs[wire] = spec
    names[#names + 1] = wire
    if spec.selects_format then c.format_key = snake(spec.name) end
    if spec.location == "dynamic" or spec.location == "root" then c.shaping = true end
    -- records keep their documented field order too (as child elements or as attributes)
    local x = spec.xml or {}
    if spec.type == "array" and type(spec.fields) == "table" then
      local item = x.item or wire
      if not c.order[item] then
        local f = {}
        for i, field in ipairs(spec.fields) do f[i] = field_name(field) end
        c.order[item] = f
      end
    end
  end
  -- without a documented order, the params' order (the document's attribute tables) applies
  local root = M.xml_root(entry)
  if root and not c.order[root] then c.order[root] = names end
  compiled[entry] = c
  return c
end

--- Whether M.encode of the entry in style "query" or "none" only puts the params on the query
-- (M.add_query, in order) and the catalog's empty body: no dynamic names, no request shape.
function M.plain(entry, snake)
  return not compile(entry, snake).shaping and not entry.request
end

--- snake_case key of the param whose value picks the call's format (nil when none).
function M.format_key(entry, snake)
  return compile(entry, snake).format_key
end

local AS = {
  boolean = function(v)
    if v == "true" then return true elseif v == "false" then return false end
    return v
  end,
  integer = integer,
  number = function(v) return tonumber(v) or v end,
  string = function(v)
    if type(v) ~= "number" then return v end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
    return tostring(v)
  end,
}

local function as(t, v)
  local f = type(t) == "string" and AS[t]
  if f then return f(v) end
  return v
end

local function item_type(spec)
  local it = spec.items
  if type(it) == "table" then return it.type end
  return it
end

-- JSON values take the types the catalog gives (the validator hands over wire text)
local function json_value(spec, v)
  if not spec then return v end
  local t = spec.type or "string"
  if t == "array" and type(v) == "table" then
    local types = {}
    for _, f in ipairs(type(spec.fields) == "table" and spec.fields or {}) do
      if type(f) == "table" then types[f.name] = f.type end
    end
    local a = array()
    for i, it in ipairs(as_list(v)) do
      if type(it) == "table" then
        local rec = {}
        for k, x in pairs(it) do rec[k] = as(types[k], x) end
        a[i] = rec
      else
        a[i] = as(item_type(spec), it)
      end
    end
    return a
  end
  if type(v) == "table" then return v end
  return as(t, v)
end

-- XML shapes of a list param (spec.xml): { item = "OS" } a wrapper element holding one <OS> per
-- item; { attrs = true } records as attributes of their element; no item: the param's element
-- repeated once per item.
local function xml_value(spec, v)
  if not spec or spec.type ~= "array" or type(v) ~= "table" then return v end
  local x = spec.xml or {}
  local items = array()
  for i, it in ipairs(as_list(v)) do
    if type(it) == "table" and x.attrs then items[i] = { _attr = it } else items[i] = it end
  end
  if x.item then return { [x.item] = items } end
  return items
end

--- Append a {name, value} query pair (a list of a `multi` param repeats the name).
function M.add_query(query, p)
  if p.multi and type(p.value) == "table" then
    for _, each in ipairs(p.value) do query[#query + 1] = { p.name, each } end
  else
    query[#query + 1] = { p.name, p.value }
  end
end

local function encode_json(entry, params, c)
  local t = {}
  for _, p in ipairs(params) do t[p.name] = json_value(c.specs[p.name], p.value) end
  if entry.body_root then t = { [entry.body_root] = t } end
  local ok, js, msg = pcall(core.json_encode, t)
  if not ok or not js then return nil, "cannot encode the JSON body: " .. tostring(ok and msg or js) end
  return js
end

local function encode_xml(catalog, entry, params, c, ns)
  local t = {}
  for _, p in ipairs(params) do
    if p.attribute then
      t._attr = t._attr or {}
      t._attr[p.name] = p.value
    else
      t[p.name] = xml_value(c.specs[p.name], p.value)
    end
  end
  local root = M.xml_root(entry)
  local ok, xml = pcall(core.xml_encode, root, t, { ns = ns, order = c.order, decl = catalog.xml_declaration ~= false })
  if not ok then return nil, "cannot encode the XML body: " .. tostring(xml) end
  return xml
end

-- ------------------------------------------------------------------------------------------
-- Params whose names are data (Clodo's update_dns_zone <field>_<record id>, server_action's
-- element name): a "dynamic" param with `pattern` (its first capture a field) and `fields`
-- admits the raw names (_raw) it matches; one with `expand` = "{field}_{id}" turns records
-- { [id] = { field = v } }, or a list of records with `id` (none or 0: a new record, id 0),
-- into those names; the param with location "root" names the body's root element.
-- ------------------------------------------------------------------------------------------

local function expand_records(spec, records, out)
  local fields, known = spec.fields or {}, {}
  for _, f in ipairs(fields) do known[f] = true end
  local seen = {}
  local function one(id, rec)
    if type(rec) ~= "table" then return "records must be tables" end
    id = tostring(id)
    if not id:match("^%d+$") then return "record ids must be numbers (0 adds a record)" end
    if seen[id] then -- two records of one id would send the same names twice
      return id == "0" and "only one new record per call is documented (id 0)" or ("record " .. id .. " given twice")
    end
    seen[id] = true
    for k in pairs(rec) do
      if k ~= "id" and type(k) == "string" and not known[k] then
        return "unknown record field '" .. k .. "' (" .. table.concat(fields, ", ") .. ")"
      end
    end
    local n = #out
    for _, f in ipairs(fields) do
      if rec[f] ~= nil then
        out[#out + 1] = { name = (spec.expand:gsub("{field}", f):gsub("{id}", id)), value = tostring(rec[f]) }
      end
    end
    if #out == n then return "record " .. id .. " has no field to set" end
  end
  if util.is_array(records) then -- { [3] = r, [1] = r } is a map of record ids, not a list
    for _, rec in ipairs(records) do
      local id = type(rec) == "table" and rec.id
      local err = one((id == nil or tonumber(id) == 0) and 0 or id, rec)
      if err then return err end
    end
    return
  end
  local ids = {}
  for id in pairs(records) do ids[#ids + 1] = id end
  table.sort(ids, function(a, b) return tostring(a) < tostring(b) end)
  for _, id in ipairs(ids) do
    local err = one(id, records[id])
    if err then return err end
  end
end

-- a raw name not in the catalog must be one of a dynamic family's names
local function check_raw(entry, name)
  local families = {}
  for _, spec in ipairs(entry.params or {}) do
    if spec.location == "dynamic" and spec.pattern then
      local f = tostring(name):match(spec.pattern)
      for _, x in ipairs(spec.fields or {}) do if x == f then return end end
      families[#families + 1] = spec.name .. " (field: " .. table.concat(spec.fields or {}, ", ") .. ")"
    end
  end
  if #families > 0 then return "'" .. tostring(name) .. "' is not " .. table.concat(families, " or ") end
end

-- params -> (params with dynamic names expanded, the root element) | nil, message, param
local function expand_dynamic(entry, c, params)
  local out, root = {}, nil
  for _, p in ipairs(params) do
    local spec = c.specs[p.name]
    if spec and spec.location == "root" then
      root = tostring(p.value)
    elseif spec and spec.expand then
      local err = type(p.value) == "table" and expand_records(spec, p.value, out) or
        (type(p.value) ~= "table" and p.name .. " must be a table of records")
      if err then return nil, p.name .. ": " .. err, p.name end
    else
      local err = not spec and check_raw(entry, p.name)
      if err then return nil, err, p.name end
      out[#out + 1] = p
    end
  end
  return out, root
end

-- the entry as the body layer sees it for one request shape (built once per entry and shape)
local views = setmetatable({}, { __mode = "k" })
local function view(entry, key, fields)
  local per = views[entry]
  if not per then per = {}; views[entry] = per end
  local v = per[key]
  if not v then
    fields.request = false
    v = setmetatable(fields, { __index = entry })
    per[key] = v
  end
  return v
end

local function single_xml(catalog, p, req)
  local v = p.value
  local ok, s = pcall(core.xml_encode, p.name, type(v) == "table" and v or { _text = v },
    { decl = catalog.xml_declaration ~= false })
  if not ok then return nil, "cannot encode the XML body: " .. tostring(s) end
  req.body = s
  req.headers["Content-Type"] = M.content_type(catalog, "xml")
  return true
end

--- The wire format of an entry's body in the call's format: XML when only XML is documented.
function M.request_format(entry, wire)
  return entry.request and entry.request.xml_only and "xml" or wire
end

local encode_plain

-- entry.request's shape as body_root / xml_root of a view of the entry
local function encode_shaped(catalog, entry, wire, params, req, opts, root)
  local rq = entry.request
  if rq.omit_empty and #params == 0 then return true end
  wire = M.request_format(entry, wire)
  local style, shaped = rq.style or "flat"
  if style == "action" then
    if not root then return nil, "missing the body's root element (the 'root' parameter)" end
    shaped = view(entry, "action:" .. root, { body_root = root })
  elseif style == "single" then
    if #params ~= 1 then return nil, "this call takes exactly one body parameter" end
    if wire == "xml" then return single_xml(catalog, params[1], req) end
    shaped = view(entry, "single", { body_root = false })
  elseif style == "wrapped" then
    shaped = view(entry, "wrapped", { body_root = rq.root })
  elseif style == "flat" then
    shaped = view(entry, "flat", { body_root = false, xml_root = rq.root })
  else
    return nil, "unknown request style '" .. tostring(style) .. "'"
  end
  return encode_plain(catalog, shaped, wire, wire, params, req, opts)
end

--- Put the body params of a call on req in body style `style` (entry.body resolved for the
-- call) and wire format `wire`. Returns true or nil, message[, param].
-- opts: snake (name -> key), ns (XML namespace of the body).
function M.encode(catalog, entry, style, wire, params, req, opts)
  local c = compile(entry, opts.snake)
  local root
  if c.shaping then
    local param
    params, root, param = expand_dynamic(entry, c, params)
    if not params then return nil, root, param end
  end
  if entry.request then return encode_shaped(catalog, entry, wire, params, req, opts, root) end
  return encode_plain(catalog, entry, style, wire, params, req, opts)
end

encode_plain = function(catalog, entry, style, wire, params, req, opts)
  local c = compile(entry, opts.snake)
  local body
  if style == "query" or style == "none" then
    for _, p in ipairs(params) do M.add_query(req.query, p) end
    -- what an operation without body params still sends in this format (CenturyLink: "{}")
    local empty = style == "none" and catalog.empty_body and catalog.empty_body[wire]
    if not empty then return true end
    req.body = empty
    req.headers["Content-Type"] = M.content_type(catalog, wire)
    return true
  elseif style == "form" then
    local t = {}
    for _, p in ipairs(params) do t[p.name] = p.value end
    body = core.form_encode(t)
  elseif style == "json" then
    local err
    body, err = encode_json(entry, params, c)
    if not body then return nil, err end
  elseif style == "xml" then
    local err
    body, err = encode_xml(catalog, entry, params, c, opts.ns)
    if not body then return nil, err end
  else
    return nil, "unknown body style '" .. tostring(style) .. "'"
  end
  req.body = body
  req.headers["Content-Type"] = M.content_type(catalog, style)
  return true
end


-- ------------------------------------------------------------------------------------------
-- Answers in XML shaped like the same API's JSON, from the entry's response keys (xml_items,
-- xml_repeated, xml_rename) and the catalog's xml_types, so that both formats decode alike.
-- ------------------------------------------------------------------------------------------

-- decoded XML: a list is what the decoder marked as one
local function is_array(v) return type(v) == "table" and getmetatable(v) == ARRAY end

local list_sets = setmetatable({}, { __mode = "k" })
--- The element names the XML decoder must always read as lists for a response spec.
function M.xml_lists(r)
  local set = list_sets[r]
  if set then return set end
  set = {}
  for k in pairs(r.xml_repeated or {}) do set[k] = true end
  for _, item in pairs(r.xml_items or {}) do set[item] = true end
  list_sets[r] = set
  return set
end

local converters = setmetatable({}, { __mode = "k" })
--- field name -> converter, from catalog.xml_types = { integer = {..}, number = {..}, boolean = {..} }
-- (XML carries every value as text). Item elements of primitive lists (<int>) are fields too.
function M.xml_converters(catalog)
  local conv = converters[catalog]
  if conv then return conv end
  conv = {}
  local t = catalog.xml_types or {}
  for _, k in ipairs(t.integer or {}) do
    conv[k] = function(v) return (#v <= 15 and v:match("^%s*%-?%d+%s*$")) and integer(v) or v end
  end
  for _, k in ipairs(t.number or {}) do
    conv[k] = function(v) local n = tonumber(v) if n ~= nil then return n end return v end
  end
  for _, k in ipairs(t.boolean or {}) do
    conv[k] = function(v)
      local l = v:lower()
      if l == "true" then return true elseif l == "false" then return false end
      return v
    end
  end
  converters[catalog] = conv
  return conv
end

--- Convert the text of every field named in conv, at any depth.
function M.xml_convert(node, conv, depth)
  depth = depth or 0
  if type(node) ~= "table" or depth > 64 then return end
  for k, v in pairs(node) do
    if type(v) == "string" then
      local f = conv[k]
      if f then node[k] = f(v) end
    elseif type(v) == "table" then
      M.xml_convert(v, conv, depth + 1)
    end
  end
end

local shape
-- <Wrapper><Item/>..</Wrapper> -> the array of its items
local function unwrap(v, item, r, conv)
  local items = array()
  for _, w in ipairs(is_array(v) and v or { v }) do
    if type(w) == "table" then
      local its = w[item]
      if its ~= nil then
        for _, it in ipairs(is_array(its) and its or { its }) do
          if not is_empty(it) then
            local f = type(it) == "string" and conv[item]
            if f then items[#items + 1] = f(it) else items[#items + 1] = shape(it, r, conv) end
          end
        end
      elseif next(w) ~= nil then
        items[#items + 1] = shape(w, r, conv) -- an item written under the wrapper's name
      end
    end
  end
  return items
end

-- <Item/><Item/> without a wrapper -> an array; the same list written with a wrapper
-- (<IPAddresses><IPAddress/>..</IPAddresses>) gives its items
local function repeated(v, k, r, conv)
  local items = array()
  for _, it in ipairs(is_array(v) and v or { v }) do
    if not is_empty(it) and not (type(it) == "table" and next(it) == nil) then
      local only, n = nil, 0
      if type(it) == "table" then for kk in pairs(it) do only, n = kk, n + 1 end end
      local inner = n == 1 and it[only]
      if type(inner) == "table" and (is_array(inner) or only == k:gsub("es$", ""):gsub("s$", "")) then
        for _, x in ipairs(is_array(inner) and inner or { inner }) do items[#items + 1] = shape(x, r, conv) end
      else
        items[#items + 1] = shape(it, r, conv)
      end
    end
  end
  return items
end

--- Turn a decoded XML tree into the JSON shape of the same answer (in place).
shape = function(node, r, conv)
  if type(node) ~= "table" then return node end
  local xi, xr, ren = r.xml_items or {}, r.xml_repeated or {}, r.xml_rename or {}
  local keys = {}
  for k in pairs(node) do keys[#keys + 1] = k end
  for _, k in ipairs(keys) do
    local v = node[k]
    local name = ren[k] or k
    if xi[k] then
      node[k] = nil
      node[name] = unwrap(v, xi[k], r, conv)
    elseif xr[k] then
      node[k] = nil
      node[xr[k]] = repeated(v, k, r, conv)
    elseif type(v) == "table" then
      if is_array(v) then
        for i, it in ipairs(v) do v[i] = shape(it, r, conv) end
      else
        node[k] = shape(v, r, conv)
      end
      if name ~= k then node[name], node[k] = node[k], nil end
    elseif name ~= k then
      node[name], node[k] = v, nil
    end
  end
  return node
end
M.xml_shape = shape

-- ------------------------------------------------------------------------------------------
-- The one list normaliser (every provider: the engine's Client:normalize is this function). An
-- answer decoded to its JSON shape gets the lists its entry promises, from response keys alone:
-- * `items` and the dotted names of `lists`: paths whose last key is always a list (a plain list
--   name is the decoders' `lists` option); a list of containers met on the way is left as is;
-- * `list_paths`, in their place: paths in the shape of an API whose JSON leaves out a list's item
--   level ({"nets":[..]} for <nets><net/>..</nets>, Clodo): a list met where the path names a
--   container that is not one of `lists` (the answer's root too) stands for that container;
-- * a plain name of `lists` that the answer's root holds empty ("", null: CenturyLink's XML
--   <Capabilities/>) is an empty list, as the JSON decoder makes it;
-- * `field_alias` = { [path] = { json_key = "xml_key" } }, `booleans` (0|1, "1"|"", true|false
--   fields of the promised lists' items), `value` = true (the root element holds the value).
-- ------------------------------------------------------------------------------------------

local split, set_of = util.split, util.set

-- util.is_array, with the decoders' mark and an object's missing [1] answered without a walk
-- (this runs on every call of every provider)
local function is_list(v)
  if type(v) ~= "table" then return false end
  if getmetatable(v) == ARRAY then return true end
  return v[1] ~= nil and util.is_array(v)
end

-- make node[keys[i..]] a list
local NULL = core.null

local function ensure(node, keys, i, plan)
  if type(node) ~= "table" then return end
  if is_list(node) then -- a promised list on the way: each of its items holds the rest of the path
    for _, item in ipairs(node) do ensure(item, keys, i, plan) end
    return
  end
  local k = keys[i]
  local v = node[k]
  if i == #keys then
    if v == nil or v == "" or v == NULL then
      node[k] = setmetatable({}, ARRAY)
    elseif getmetatable(v) ~= ARRAY then -- the decoders' lists are marked already
      node[k] = is_list(v) and setmetatable(v, ARRAY) or setmetatable({ v }, ARRAY)
    end
    return
  end
  if v == nil or v == "" or v == NULL then -- a missing container of a promised list: the list is empty
    v = {}
    node[k] = v
  end
  if is_list(v) and not plan.lists[k] then
    if not plan.dropped then return end -- a list of containers: left as is
    node[k] = { [keys[i + 1]] = v } -- the container the JSON left out
    v = node[k]
  end
  ensure(v, keys, i + 1, plan)
end

local function each_item(node, keys, i, fn)
  if type(node) ~= "table" then return end
  if is_list(node) then
    for _, item in ipairs(node) do each_item(item, keys, i, fn) end
    return
  end
  if i > #keys then return fn(node) end
  each_item(node[keys[i]], keys, i + 1, fn)
end

local function to_bool(v)
  if v == true or v == 1 or v == "1" or v == "true" then return true end
  return false
end

-- what normalize does for an entry, read once (entries are immutable data)
local plans = setmetatable({}, { __mode = "k" })
local NO_RESPONSE = {}
local function plan_of(entry)
  local plan = plans[entry]
  if plan then return plan end
  local r = entry.response or NO_RESPONSE
  plan = { paths = {}, roots = {}, aliases = {}, lists = set_of(r.lists), dropped = r.list_paths ~= nil }
  for _, l in ipairs(r.lists or {}) do
    if l:find(".", 1, true) then
      if not r.list_paths then plan.paths[#plan.paths + 1] = split(l) end
    else
      plan.roots[#plan.roots + 1] = l
    end
  end
  for _, l in ipairs(r.list_paths or { r.items }) do plan.paths[#plan.paths + 1] = split(l) end
  -- the root itself is the items list when the JSON left out the root's level
  plan.root_items = plan.dropped and r.items and not r.items:find(".", 1, true) and r.items or nil
  for path, a in pairs(r.field_alias or {}) do plan.aliases[#plan.aliases + 1] = { split(path), a } end
  plan.booleans = r.booleans
  plan.value = r.value and r.root or nil
  plans[entry] = plan
  return plan
end

local function alias(aliases)
  return function(item)
    for from, to in pairs(aliases) do
      if item[to] == nil and item[from] ~= nil and type(item[from]) ~= "table" then item[to] = item[from] end
    end
  end
end

--- The answer `value` of `entry` with the lists, aliases and booleans its response keys promise
-- (in place where it is a table); an empty answer ("", null) is an empty table.
function M.normalize(entry, value)
  local plan = plans[entry] or plan_of(entry)
  if plan.value then return { [plan.value] = value } end
  if value == nil or value == "" or value == NULL then
    value = {}
  elseif type(value) ~= "table" then
    return value
  end
  if plan.root_items and is_list(value) then value = { [plan.root_items] = value } end
  local roots = plan.roots
  for i = 1, #roots do
    local v = value[roots[i]]
    if v == "" or v == NULL then value[roots[i]] = setmetatable({}, ARRAY) end
  end
  local paths = plan.paths
  local root_list -- is_list(value), asked once: ensure below writes string keys only
  for i = 1, #paths do
    local keys = paths[i]
    if #keys ~= 1 then
      ensure(value, keys, 1, plan)
    else -- ensure(value, keys, 1, plan) of a one-key path, inline (every listing of every provider)
      if root_list == nil then -- is_list(value) of a table, inline
        root_list = getmetatable(value) == ARRAY or (value[1] ~= nil and util.is_array(value))
      end
      local k = keys[1]
      local v = not root_list and value[k]
      if root_list then
        ensure(value, keys, 1, plan)
      elseif v == nil or v == "" or v == NULL then
        value[k] = setmetatable({}, ARRAY)
      elseif getmetatable(v) ~= ARRAY then -- the decoders' lists are marked already
        value[k] = is_list(v) and setmetatable(v, ARRAY) or setmetatable({ v }, ARRAY)
      end
    end
  end
  local aliases = plan.aliases
  for i = 1, #aliases do each_item(value, aliases[i][1], 1, alias(aliases[i][2])) end
  local booleans = plan.booleans
  if booleans then
    for i = 1, #paths do
      each_item(value, paths[i], 1, function(item)
        for _, b in ipairs(booleans) do
          if item[b] ~= nil then item[b] = to_bool(item[b]) end
        end
      end)
    end
  end
  return value
end

return M
