-- libFuzzer targets (fuzz/harness.c): one function per target, given the raw
-- input. A Lua error raised here is a finding. Decoders must return a value or
-- nil + a message for any bytes; encoders must give what the decoders read back.
local core = require "luacloud.core"

local T = {}

local function expect(cond, what) if not cond then error(what, 2) end end

-- nil + message, or a value: never a raise, never nil without a message
local function decoded(name, ok, v, msg)
  expect(ok, name .. " raised: " .. tostring(v))
  expect(v ~= nil or type(msg) == "string", name .. ": nil without a message")
  return v
end

local function same(a, b, depth)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" or (depth or 0) > 300 then return false end
  for k, v in pairs(a) do if not same(v, b[k], (depth or 0) + 1) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function valid_utf8(s)
  return utf8.len(s) ~= nil and not s:find("\0", 1, true) and not s:find("[\237][\160-\191]")
end

-- A cursor over the input: the bytes drive the shape of a Lua value.
local function cursor(s)
  local i = 0
  local c = {}
  function c.byte() i = i + 1 return s:byte(i) or 0 end
  function c.str()
    local n = c.byte() % 24
    local t = s:sub(i + 1, i + n)
    i = i + n
    return t
  end
  function c.left() return i < #s end
  return c
end

local NAMES = { "a", "b", "item", "Name", "x-y", "z.w", "_k", "server", "id" }

-- value: strings (raw bytes), integers, floats, booleans, null, arrays, objects
local function value(c, depth)
  local op = c.byte() % (depth > 6 and 5 or 8)
  if op == 0 or op == 1 then return c.str() end
  if op == 2 then return c.byte() * 256 + c.byte() - 30000 end
  if op == 3 then return (c.byte() - 128) / (c.byte() + 1) end
  if op == 4 then return c.byte() % 3 == 0 and core.null or c.byte() % 2 == 0 end
  local t = op == 5 and setmetatable({}, core.array_mt) or {}
  for k = 1, c.byte() % 6 do
    if not c.left() then break end
    local v = value(c, depth + 1)
    if op == 5 then t[k] = v
    else
      local name = c.byte() % 4 == 0 and c.str() or NAMES[c.byte() % #NAMES + 1]
      t[name] = v
    end
  end
  return t
end

local function has_text(v, pred, depth)
  depth = depth or 0
  if type(v) == "string" then return pred(v) end
  if type(v) ~= "table" or depth > 50 then return true end
  for k, x in pairs(v) do
    if type(k) == "string" and not pred(k) then return false end
    if not has_text(x, pred, depth + 1) then return false end
  end
  return true
end

---------------------------------------------------------------- decoders

function T.xml_decode(s)
  local b = s:byte(1) or 0
  local opts = b % 3 == 0 and { lists = { item = true, a = true }, lower = b % 2 == 0, max_depth = b % 80 } or nil
  local v = decoded("xml_decode", pcall(core.xml_decode, s, opts))
  if v ~= nil then expect(type(v) == "table" or type(v) == "string", "xml_decode gave a " .. type(v)) end
end

function T.json_decode(s)
  local b = s:byte(1) or 0
  local opts = b % 4 == 0 and { lists = { items = true, a = true }, max_depth = b % 200 } or nil
  local v = decoded("json_decode", pcall(core.json_decode, s, opts))
  if v == nil then return end
  -- whatever was accepted encodes, and reads back the same
  local ok, e = pcall(core.json_encode, v)
  expect(ok and type(e) == "string", "json_encode of a decoded value failed: " .. tostring(e))
  local back, err = core.json_decode(e)
  expect(back ~= nil, "json_decode of json_encode output failed: " .. tostring(err))
  expect(same(back, v), "decode(encode(decode(s))) differs")
end

-- The filtered decoders (c:call's where/fields): an item is decided from libxml2 events or
-- JSON text before it becomes a table. Property: the result's items are what the unfiltered
-- decode gives through f:apply (the same predicate on Lua tables). Byte 1 picks the predicate,
-- byte 2 the projection and the items name, the rest is the document.
local WHERE = {
  { id = "1" }, { name = { glob = "*a*" } }, { ["disk.speed"] = "FAST" }, { cpuCount = { ge = 2 } },
  { "not", { location = "NA1" } }, { "or", { id = { ["in"] = { "a", "2" } } }, { ["x._text"] = "y" } },
  { location = { ["not"] = { "NA1", "NA3" } }, ["a.b"] = { exists = false } },
  { name = { exists = true } }, { ["a.b"] = { prefix = "x" } }, { id = { ne = "2" }, isStarted = true }, {},
}
local FIELDS = { nil, { "id" }, { "name", "disk" }, { "a.b", "x._text", "id" } }
local ITEMS = { "item", "server", "a", "virtualmachine", "network", "image", "zone", "Server" }

local function filter_case(s)
  local b1, b2 = s:byte(1) or 0, s:byte(2) or 0
  local f = assert(core.filter(WHERE[b1 % #WHERE + 1], FIELDS[b2 % #FIELDS + 1]))
  local items = ITEMS[(b2 // #FIELDS) % #ITEMS + 1]
  return f, items, { [items] = true, disk = true, a = true }, s:sub(3), b1 % 2 == 0
end

-- the items list: at the root, or (JSON "*.name") under the one wrapper key
local function items_of(v, items, wrapped)
  if type(v) ~= "table" then return nil end
  if not wrapped then return v[items] end
  local key, x = next(v)
  if key == nil or next(v, key) ~= nil or type(x) ~= "table" then return nil end
  return x[items]
end

local function check_filtered(name, f, full, v, items, wrapped)
  if v == nil or full == nil then
    expect((v == nil) == (full == nil), name .. ": filtered and unfiltered decodes disagree on failing")
    return
  end
  local want, got = items_of(full, items, wrapped), items_of(v, items, wrapped)
  if type(want) ~= "table" then return end -- no list where the filter looked: nothing filtered
  if getmetatable(want) ~= core.array_mt then want = setmetatable({ want }, core.array_mt) end
  expect(same(f:apply(want), got or {}), name .. ": filtered items differ from f:apply of the full decode")
end

function T.xml_filter(s)
  local f, items, lists, doc, lower = filter_case(s)
  local v = decoded("xml_decode(filter)", pcall(core.xml_decode, doc, { lists = lists, filter = f, items = items, lower = lower }))
  local full = core.xml_decode(doc, { lists = lists, lower = lower })
  check_filtered("xml_decode", f, full, v, items)
end

function T.json_filter(s)
  local f, items, lists, doc, wrapped = filter_case(s)
  local path = wrapped and ("*." .. items) or items
  local v = decoded("json_decode(filter)", pcall(core.json_decode, doc, { lists = lists, filter = f, items = path }))
  local full = core.json_decode(doc, { lists = lists })
  check_filtered("json_decode", f, full, v, items, wrapped)
end

function T.csv_decode(s)
  local v = decoded("csv_decode", pcall(core.csv_decode, s))
  if v ~= nil then expect(type(v) == "table", "csv_decode gave a " .. type(v)) end
end

function T.query_decode(s)
  local v = decoded("query_decode", pcall(core.query_decode, s))
  expect(type(v) == "table", "query_decode gave a " .. type(v))
end

function T.urldecode(s)
  decoded("urldecode", pcall(core.urldecode, s))
  local ok, e = pcall(core.urlencode, s)
  expect(ok, "urlencode raised")
  expect(core.urldecode(e) == s, "urldecode(urlencode(s)) ~= s")
end

function T.gunzip(s)
  decoded("gunzip", pcall(core.gunzip, s, 1 << 20))
end

---------------------------------------------------------------- encoders

function T.json_encode(s)
  local v = value(cursor(s), 0)
  local ok, e = pcall(core.json_encode, v)
  if not ok then
    -- documented refusals: keys that are not strings, NUL in keys
    expect(tostring(e):find("^json_encode:"), "json_encode raised: " .. tostring(e))
    return
  end
  if e == nil or not has_text(v, valid_utf8) then return end
  local back, err = core.json_decode(e)
  expect(back ~= nil, "json_decode of json_encode output failed: " .. tostring(err) .. " " .. e:sub(1, 100))
end

function T.xml_encode(s)
  local c = cursor(s)
  local v = value(c, 0)
  local root = c.byte() % 5 == 0 and c.str() or "root"
  local ok, e = pcall(core.xml_encode, root, v)
  if not ok then
    expect(tostring(e):find("^xml_encode:"), "xml_encode raised: " .. tostring(e))
    return
  end
  if e == nil then return end
  expect(type(e) == "string", "xml_encode gave a " .. type(e))
  -- valid UTF-8 in, well-formed XML out (control characters are escaped or refused);
  -- an array at the top repeats the root element: not one document, by design
  -- (a prefixed name needs an xmlns:prefix attribute from the caller: not checked)
  local prefixed = e:find("<[^>%s]*:") or e:find("%s[^%s=]*:[^%s=]*=")
  if has_text(v, valid_utf8) and valid_utf8(root) and getmetatable(v) ~= core.array_mt and not prefixed then
    local back, err = core.xml_decode(e, { max_depth = 1000 })
    expect(back ~= nil, "xml_decode of xml_encode output failed: " .. tostring(err) .. " " .. e:sub(1, 120))
  end
end

function T.form_encode(s)
  local c = cursor(s)
  local t = {}
  for _ = 1, c.byte() % 8 do
    local k = c.str()
    if c.byte() % 3 == 0 then t[k] = { c.str(), c.str() } else t[k] = c.str() end
  end
  local ok, e = pcall(core.form_encode, t)
  local nul = false
  for k in pairs(t) do nul = nul or k:find("\0", 1, true) ~= nil end
  if nul then -- a NUL in a name is refused, never cut
    expect(not ok and tostring(e):find("NUL", 1, true), "form_encode with a NUL in a name: " .. tostring(e))
    return
  end
  expect(ok and type(e) == "string", "form_encode failed: " .. tostring(e))
  -- what was encoded decodes to the same names and values
  local back = core.query_decode(e)
  for k, v in pairs(t) do
    if k ~= "" then
      local b = back[k]
      if type(v) == "table" then expect(same(b, v), "form_encode list " .. k .. " did not read back")
      else expect(b == v, "form_encode value of " .. k .. " did not read back") end
    end
  end
end

function T.query_encode(s)
  local c = cursor(s)
  local pairs_ = {}
  for i = 1, c.byte() % 8 do pairs_[i] = { NAMES[c.byte() % #NAMES + 1], c.str() } end
  local ok, e = pcall(core.query_encode, pairs_)
  expect(ok and type(e) == "string", "query_encode failed: " .. tostring(e))
  local ok2, q = pcall(core.canonical_query, pairs_)
  expect(ok2 and type(q) == "string", "canonical_query failed: " .. tostring(q))
  expect(q == q:lower(), "canonical_query is not lower case")
  local back = core.query_decode(e)
  for _, kv in ipairs(pairs_) do
    local b = back[kv[1]]
    expect(b == kv[2] or (type(b) == "table" and (function()
      for _, x in ipairs(b) do if x == kv[2] then return true end end
    end)()), "query_encode value of " .. kv[1] .. " did not read back")
  end
end

---------------------------------------------------------------- signers

-- reference hex: a format per 512 bytes, not a Lua call per byte (the cost of the target)
local function hex_ref(s)
  local out = {}
  for i = 1, #s, 512 do
    local chunk = s:sub(i, i + 511)
    out[#out + 1] = ("%02x"):rep(#chunk):format(chunk:byte(1, -1))
  end
  return table.concat(out)
end

function T.sign(s)
  local cut = s:find("\0", 1, true) or (#s // 2)
  local key, msg = s:sub(1, cut), s:sub(cut + 1)
  expect(#core.hmac_sha1(key, msg) == 20, "hmac_sha1 length")
  expect(core.hmac_sha1(key, msg) == core.hmac_sha1(key, msg), "hmac_sha1 not deterministic")
  expect(#core.sha1(s) == 20, "sha1 length")
  local md5 = core.md5_hex(s)
  expect(#md5 == 32 and md5:match("^%x+$"), "md5_hex")
  expect(core.hex(s) == hex_ref(s), "hex")
  local b64 = core.b64encode(s)
  expect(core.b64decode(b64) == s, "b64decode(b64encode(s)) ~= s")
  decoded("b64decode", pcall(core.b64decode, s))
  key = key:gsub(":", "") -- a user name with ':' is refused (raises: a programming error)
  expect(core.basic_auth(key, msg) == "Basic " .. core.b64encode(key .. ":" .. msg), "basic_auth")
end

return T
