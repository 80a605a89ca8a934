-- luacloud.sim.util: the helpers every simulator shares (one copy each).
--
-- Lua 5.1-compatible (the simulators run under nginx's LuaJIT and under Lua 5.4) and pure Lua:
-- the simulator host loads it before it knows whether the C core is there.

local M = {}

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }

--- Escapes text for XML content and double-quoted attributes (& < > ").
function M.xml_escape(s)
  return (tostring(s):gsub('[&<>"]', ESC))
end

local ENT = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }
function M.xml_unescape(s)
  return (s:gsub("&(#?x?)(%w+);", function(kind, v)
    if kind == "" then return ENT[v] or ("&" .. v .. ";") end
    local n = kind == "#x" and tonumber(v, 16) or tonumber(v)
    if n and n < 128 then return string.char(n) end
    return "?"
  end))
end

-- An order- and namespace-keeping reader, not core.xml_decode: the Dimension Data simulator
-- refuses a request whose root is in a foreign namespace (REASON_60), and core.xml_decode
-- drops namespace URIs and the order of differently named children.
-- Returns the root node { name = local name, qname =, ns = namespace URI, attrs = {local = value},
-- kids = {...}, text = "" } or nil, message.
function M.xml_parse(s)
  if type(s) ~= "string" then return nil, "no body" end
  local pos = 1
  local root, stack = nil, {}
  local nsstack = { { xml = "http://www.w3.org/XML/1998/namespace" } }
  local function lookup(prefix)
    for i = #nsstack, 1, -1 do
      local v = nsstack[i][prefix]
      if v ~= nil then return v end
    end
    return nil
  end
  while true do
    local a = s:find("<", pos, true)
    if not a then
      if s:sub(pos):find("%S") then return nil, "text outside the root element" end
      break
    end
    local text = s:sub(pos, a - 1)
    if #stack > 0 then
      stack[#stack].text = stack[#stack].text .. M.xml_unescape(text)
    elseif text:find("%S") then
      return nil, "text outside the root element"
    end
    if s:sub(a, a + 3) == "<!--" then
      local e = s:find("-->", a + 4, true)
      if not e then return nil, "unterminated comment" end
      pos = e + 3
    elseif s:sub(a, a + 1) == "<?" then
      local e = s:find("?>", a + 2, true)
      if not e then return nil, "unterminated declaration" end
      pos = e + 2
    elseif s:sub(a, a + 8) == "<![CDATA[" then
      local e = s:find("]]>", a + 9, true)
      if not e or #stack == 0 then return nil, "bad CDATA" end
      stack[#stack].text = stack[#stack].text .. s:sub(a + 9, e - 1)
      pos = e + 3
    elseif s:sub(a, a + 1) == "</" then
      local name, e = s:match("^</%s*([%w_:%.%-]+)%s*>()", a)
      if not name then return nil, "bad end tag" end
      local top = table.remove(stack)
      if not top or top.qname ~= name then return nil, "mismatched end tag " .. name end
      table.remove(nsstack)
      pos = e
    elseif s:sub(a, a + 1) == "<!" then
      return nil, "DTDs are not accepted"
    else
      local name, rest = s:match("^<([%w_:%.%-]+)()", a)
      if not name then return nil, "bad start tag" end
      local attrs, decl = {}, {}
      local p = rest
      local closed, selfclose
      while true do
        local ws = s:match("^%s*()", p)
        p = ws
        if s:sub(p, p + 1) == "/>" then selfclose = true; p = p + 2; closed = true; break end
        if s:sub(p, p) == ">" then p = p + 1; closed = true; break end
        local an, _, av, e = s:match("^([%w_:%.%-]+)%s*=%s*([\"'])(.-)%2()", p)
        if not an then return nil, "bad attribute in <" .. name .. ">" end
        av = M.xml_unescape(av)
        if an == "xmlns" then decl[""] = av
        elseif an:sub(1, 6) == "xmlns:" then decl[an:sub(7)] = av
        else attrs[an] = av end
        p = e
      end
      if not closed then return nil, "unterminated start tag" end
      nsstack[#nsstack + 1] = decl
      local prefix, lname = name:match("^([^:]+):(.+)$")
      if not prefix then lname = name; prefix = "" end
      local ns = lookup(prefix)
      if prefix ~= "" and not ns then return nil, "undeclared prefix " .. prefix end
      local la = {}
      for k, v in pairs(attrs) do la[k:match(":(.+)$") or k] = v end
      local node = { name = lname, qname = name, ns = ns, attrs = la, kids = {}, text = "" }
      if #stack > 0 then
        local parent = stack[#stack]
        parent.kids[#parent.kids + 1] = node
      elseif root then
        return nil, "more than one root element"
      else
        root = node
      end
      if selfclose then table.remove(nsstack) else stack[#stack + 1] = node end
      pos = p
    end
  end
  if #stack > 0 or not root then return nil, "unterminated document" end
  return root
end

local function trim(s) return (tostring(s):gsub("^%s+", ""):gsub("%s+$", "")) end
M.trim = trim

-- A node of M.xml_parse as plain values: a text-only element is its trimmed text; otherwise a
-- table of attributes and children (a repeated child a list marked __list = true, text in _text).
local function values(node)
  local t
  for k, v in pairs(node.attrs) do t = t or {}; t[k] = v end
  for _, c in ipairs(node.kids) do
    t = t or {}
    local v, old = values(c), t[c.qname]
    if old == nil then
      t[c.qname] = v
    elseif type(old) == "table" and old.__list then
      old[#old + 1] = v
    else
      t[c.qname] = { __list = true, old, v }
    end
  end
  local txt = trim(node.text)
  if not t then return txt end
  if txt ~= "" then t._text = txt end
  return t
end

--- Parses an XML document into plain values: value, root name or nil, message.
function M.xml_values(s)
  local root, err = M.xml_parse(s)
  if not root then return nil, "xml: " .. tostring(err) end
  return values(root), root.qname
end

--- Decodes a query/form component (+ is a space).
function M.urldecode(s)
  s = s:gsub("%+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- A query or form string as an ordered list of { name, value } (value true for a bare flag).
function M.query_pairs(q)
  local list = {}
  for part in (q or ""):gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=(.*)$")
    if k then v = M.urldecode(v) else k, v = part, true end
    list[#list + 1] = { M.urldecode(k), v }
  end
  return list
end

--- A shallow copy.
function M.copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end

--- Days since 1970-01-01 of a civil date (proleptic Gregorian); dates are computed without
--- os.time, whose results depend on the local time zone.
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Arrays: the host's JSON decoder marks its arrays so that an empty one is written back as [].
M.array_mt = { __name = "luacloud.sim.array" }

function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

--- Whether t is written as a JSON array: marked by this module or by luacloud.core, or a sequence.
function M.is_array(t)
  local mt = getmetatable(t)
  if mt == M.array_mt then return true end
  local core = package.loaded["luacloud.core"]
  if mt and type(core) == "table" and mt == core.array_mt then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then return false end
    count = count + 1
  end
  return count == n
end

--- Request headers as the simulators see them: lower-case names, repeated values joined.
function M.lower_headers(h)
  local out = {}
  if type(h) ~= "table" then return out end
  for k, v in pairs(h) do
    if type(k) == "string" then
      local name = k:lower()
      local sep = name == "cookie" and "; " or ", "
      if type(v) == "table" then v = table.concat(v, sep) end
      if out[name] then
        out[name] = out[name] .. sep .. tostring(v)
      else
        out[name] = tostring(v)
      end
    end
  end
  return out
end

local JSON_ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

M.HEX = "0123456789abcdef"

local function json_char(c)
  return JSON_ESC[c] or string.format("\\u%04x", c:byte())
end

--- A JSON string literal: quotes, backslashes and control characters (DEL too) escaped.
function M.json_string(s)
  if not s:find('[%c"\\]') then return '"' .. s .. '"' end
  return '"' .. s:gsub('[%c"\\]', json_char) .. '"'
end

-- Random draws kept in the simulator (self.rng), not math.random: ids and passwords are
-- reproducible and no caller's generator is disturbed.

--- A linear congruential draw in 0..n-1 (exact in doubles and integers).
function M.lcg(self, n)
  self.rng = (self.rng * 1103515245 + 12345) % 2147483648
  return math.floor(self.rng / 65536) % n
end

--- A Park-Miller draw in 0..n-1 (exact in doubles and integers).
function M.park_miller(self, n)
  self.rng = (self.rng * 16807) % 2147483647
  return self.rng % n
end

--- len characters of alphabet, each chosen by draw(self, #alphabet) (a value in 0..#alphabet-1).
function M.pick(self, draw, alphabet, len)
  local out = {}
  for i = 1, len do
    local k = draw(self, #alphabet) + 1
    out[i] = alphabet:sub(k, k)
  end
  return table.concat(out)
end

return M
