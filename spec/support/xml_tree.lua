-- A small XML reader for specs, independent of the core's decoder: it keeps what the decoder folds
-- away (element order, attributes apart from child elements, prefixes and xmlns declarations), so
-- a request can be compared with a document's sample structurally.
-- node = { name = "a", attrs = { k = v }, children = { node... }, text = "trimmed text" }
local M = {}

local ENT = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }
local function unescape(s)
  return (s:gsub("&(#?x?)(%w+);", function(kind, v)
    if kind == "" then return ENT[v] end
    local n = tonumber(v, kind == "#x" and 16 or 10)
    return n and utf8.char(n) or nil
  end))
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function attrs_of(s)
  local a = {}
  for k, q, v in s:gmatch("([%w_:%.%-]+)%s*=%s*([\"'])(.-)%2") do
    local _ = q
    a[k] = unescape(v)
  end
  return a
end

--- parse(text) -> root node | nil, message
function M.parse(text)
  local s = text:gsub("^\239\187\191", ""):gsub("<%?.-%?>", ""):gsub("<!%-%-.-%-%->", "")
  local root, stack, texts = nil, {}, {}
  local pos = 1
  while true do
    local a, b, close, name, rest, selfclose = s:find("<(/?)([%w_:%.%-]+)(.-)(/?)>", pos)
    if not a then break end
    local between = s:sub(pos, a - 1)
    local top = stack[#stack]
    if top then
      local cdata = between
      texts[top] = (texts[top] or "") .. cdata
    elseif between:match("%S") then
      return nil, "text outside the root element"
    end
    if close == "/" then
      if not top or top.name ~= name then return nil, "mismatched </" .. name .. ">" end
      top.text = trim(unescape(texts[top] or ""))
      stack[#stack] = nil
    else
      local node = { name = name, attrs = attrs_of(rest), children = {}, text = "" }
      if top then top.children[#top.children + 1] = node
      elseif root then return nil, "two root elements"
      else root = node end
      if selfclose ~= "/" then stack[#stack + 1] = node end
    end
    pos = b + 1
  end
  if #stack > 0 then return nil, "unclosed <" .. stack[#stack].name .. ">" end
  if not root then return nil, "no element" end
  if s:sub(pos):match("%S") then return nil, "text after the root element" end
  return root
end

local function esc(v, attr)
  v = tostring(v):gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;")
  if attr then v = v:gsub('"', "&quot;") end
  return v
end

--- serialize(node) -> text (attributes sorted by name)
function M.serialize(node)
  local keys = {}
  for k in pairs(node.attrs) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = { "<", node.name }
  for _, k in ipairs(keys) do out[#out + 1] = " " .. k .. '="' .. esc(node.attrs[k], true) .. '"' end
  out[#out + 1] = ">"
  for _, c in ipairs(node.children) do out[#out + 1] = M.serialize(c) end
  if #node.children == 0 then out[#out + 1] = esc(node.text) end
  out[#out + 1] = "</" .. node.name .. ">"
  return table.concat(out)
end

--- diff(expected, got) -> nil when the same tree, else a message naming the first difference:
-- element names and order, attributes (as a set), leaf texts.
function M.diff(e, g, where)
  where = (where or "") .. "/" .. e.name
  if e.name ~= g.name then return where .. ": element <" .. g.name .. "> where <" .. e.name .. "> is expected" end
  for k, v in pairs(e.attrs) do
    if g.attrs[k] ~= v then
      return where .. ": attribute " .. k .. "=" .. string.format("%q", v) .. " expected, got "
        .. (g.attrs[k] and string.format("%q", g.attrs[k]) or "none")
    end
  end
  for k in pairs(g.attrs) do
    if e.attrs[k] == nil then return where .. ": unexpected attribute " .. k end
  end
  local n = math.max(#e.children, #g.children)
  for i = 1, n do
    local ec, gc = e.children[i], g.children[i]
    if not ec then return where .. ": unexpected element <" .. gc.name .. "> at position " .. i end
    if not gc then return where .. ": missing element <" .. ec.name .. "> at position " .. i end
    local d = M.diff(ec, gc, where)
    if d then return d end
  end
  if #e.children == 0 and e.text ~= g.text then
    return where .. ": text " .. string.format("%q", e.text) .. " expected, got " .. string.format("%q", g.text)
  end
  return nil
end

--- Nodes at a slash path below the root ("public/ip"), with their parents.
function M.find(root, path)
  local level = { { node = root } }
  for step in path:gmatch("[^/]+") do
    local nextl = {}
    for _, it in ipairs(level) do
      for _, c in ipairs(it.node.children) do
        if c.name == step then nextl[#nextl + 1] = { node = c, parent = it.node } end
      end
    end
    level = nextl
  end
  return level
end

return M
