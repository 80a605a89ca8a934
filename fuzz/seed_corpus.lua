-- Write the starting corpus of every libFuzzer target into DIR/<target>/:
-- the samples of the API documents (../shared/seeds: XML and JSON bodies,
-- query strings) and the spec fixtures. Usage: lua5.4 fuzz/seed_corpus.lua DIR
local dir = assert(arg[1], "usage: seed_corpus.lua DIR")
local root = (arg[0]:match("^(.*)/fuzz/[^/]*$")) or "."
local seeds_dir = os.getenv("LUACLOUD_SEEDS") or (root .. "/../shared/seeds")

local function list(cmd)
  local out, p = {}, io.popen(cmd .. " 2>/dev/null")
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local counts = {}
local function add(target, data)
  if not data or #data == 0 or #data > 256 * 1024 then return end
  counts[target] = (counts[target] or 0) + 1
  if counts[target] > 600 then return end
  local f = assert(io.open(("%s/%s/seed-%04d"):format(dir, target, counts[target]), "wb"))
  f:write(data)
  f:close()
end

-- a document for a decoder and for its filtered target, which reads two bytes (predicate;
-- projection and items name) before the document: a few such pairs per document
local FILTERED = { xml_decode = "xml_filter", json_decode = "json_filter" }
local function add_doc(target, data)
  add(target, data)
  if not data then return end
  for _, p in ipairs { "\0\4", "\3\5", "\2\21", "\8\14" } do add(FILTERED[target], p .. data) end
end

-- balanced {...} / [...] from position i, strings skipped
local function json_block(s, i)
  local depth, j, in_str = 0, i, false
  while j <= #s do
    local c = s:sub(j, j)
    if in_str then
      if c == "\\" then j = j + 1 elseif c == '"' then in_str = false end
    elseif c == '"' then in_str = true
    elseif c == "{" or c == "[" then depth = depth + 1
    elseif c == "}" or c == "]" then
      depth = depth - 1
      if depth == 0 then return s:sub(i, j) end
    end
    j = j + 1
  end
end

local function xml_blocks(s, emit)
  local pos = 1
  while true do
    local a, _, name = s:find("\n%s*<%??([%a_][%w_:.-]*)", pos)
    if not a then return end
    local start = s:find("<", a, true)
    if name == "xml" then -- declaration: the root element follows
      local _, _, first = s:find("<([%a_][%w_:.-]*)", s:find("?>", start, true) or start + 1)
      name = first
    end
    local close = name and s:find("</" .. name:gsub("%p", "%%%0") .. "%s*>", start)
    if close then
      local e = s:find(">", close, true)
      emit(s:sub(start, e))
      pos = e
    else
      pos = start + 1
    end
  end
end

for _, t in ipairs({ "xml_decode", "json_decode", "xml_filter", "json_filter", "csv_decode", "query_decode", "urldecode", "gunzip",
                     "json_encode", "xml_encode", "form_encode", "query_encode", "sign" }) do
  os.execute(("mkdir -p '%s/%s'"):format(dir, t))
end

for _, path in ipairs(list("ls " .. seeds_dir .. "/*")) do
  local s = read(path) or ""
  xml_blocks(s, function(x) add_doc("xml_decode", x) end)
  for i in s:gmatch("()\n%s*[{%[]") do
    local b = json_block(s, s:find("[{%[]", i))
    if b and #b > 2 then add_doc("json_decode", b) end
  end
  for q in s:gmatch("%?([%w_%%&=.~+-]+=[%w_%%&=.~+-]*)") do
    add("query_decode", q)
    add("urldecode", q)
    add("query_encode", q)
    add("form_encode", q)
  end
end

local ext_target = { xml = "xml_decode", json = "json_decode", csv = "csv_decode" }
for _, path in ipairs(list("find " .. root .. "/spec/fixtures -type f")) do
  local data = read(path)
  local t = ext_target[path:match("%.(%w+)$") or ""]
  if t then (FILTERED[t] and add_doc or add)(t, data) end
  add(path:find("%.xml$") and "xml_encode" or "json_encode", data and data:sub(1, 512))
  add("sign", data and data:sub(1, 256))
end

for t, n in pairs(counts) do io.write(("%s: %d seeds\n"):format(t, math.min(n, 600))) end
