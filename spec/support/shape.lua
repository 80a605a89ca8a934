-- The shape of an answer, to compare a simulator's answer with the document's sample:
-- every element and attribute path (local names, namespace prefixes dropped) of an XML
-- document, every key path of a JSON document. Values are ignored; lists are marked.
--   XML:  "/Root/child", "/Root/child/@attr"; an element that repeats among its siblings in the
--         sample is a list ("list" kind), the answer may hold it once or more.
--   JSON: "/key/sub", an array adds "[]": "/Items[]/Name"; kinds "object", "array", "scalar",
--         "null" (in a sample, any kind of value at that path fits).
local xml_parse = require("luacloud.sim.dimensiondata").xml_parse

local M = {}

local function xml_walk(node, prefix, out)
  local path = prefix .. "/" .. node.name
  local seen = {}
  for _, k in ipairs(node.kids or {}) do seen[k.name] = (seen[k.name] or 0) + 1 end
  if not out[path] then out[path] = "element" end
  for a in pairs(node.attrs or {}) do
    if a ~= "xmlns" and not a:find("^xmlns") then out[path .. "/@" .. a] = "attribute" end
  end
  for _, k in ipairs(node.kids or {}) do
    xml_walk(k, path, out)
    if seen[k.name] > 1 then out[path .. "/" .. k.name] = "list" end
  end
end

--- Paths of an XML document: { [path] = "element" | "list" | "attribute" }, or nil, err.
function M.xml(s)
  local root, err = xml_parse(s)
  if not root then return nil, err end
  local out = {}
  xml_walk(root, "", out)
  return out
end

local function json_walk(v, path, out, null)
  if v == null then -- a null says nothing of the value's kind
    out[path] = out[path] or "null"
    return
  end
  if type(v) ~= "table" then
    if out[path] == nil or out[path] == "null" then out[path] = "scalar" end
    return
  end
  local n, keys = #v, 0
  for _ in pairs(v) do keys = keys + 1 end
  local mt = getmetatable(v)
  local is_array = (n > 0 and n == keys) or (keys == 0 and mt and mt.__name and tostring(mt.__name):find("array"))
  if is_array then
    out[path] = "array"
    for _, x in ipairs(v) do json_walk(x, path .. "[]", out, null) end
  else
    out[path] = "object"
    for k, x in pairs(v) do json_walk(x, path .. "/" .. tostring(k), out, null) end
  end
end

--- Paths of a decoded JSON value (luacloud.core.json_decode): { [path] = kind }.
function M.json(value, null)
  local out = {}
  json_walk(value, "", out, null)
  return out
end

--- Columns of a CSV document's header line: { ["/name"] = "column" }.
function M.csv(s)
  local header = s:match("^([^\r\n]*)")
  if not header or header == "" then return nil, "no header line" end
  local out = {}
  for col in (header .. ","):gmatch("([^,]*),") do
    col = col:gsub("^%s+", ""):gsub("%s+$", "")
    if col ~= "" then out["/" .. col] = "column" end
  end
  return out
end

--- What the answer lacks: a sorted list of "path (kind)" of the sample that the answer does not
--- have with the same kind. An XML list may be a single element in the answer (it cannot
--- tell one from a list of one); `allow[path] = true` skips a path
--- and everything below it.
function M.missing(sample, answer, allow)
  allow = allow or {}
  local out = {}
  for path, kind in pairs(sample) do
    local skip = false
    for a in pairs(allow) do
      if path == a or path:sub(1, #a + 1) == a .. "/" or path:sub(1, #a + 2) == a .. "[]" then skip = true end
    end
    local got = answer[path]
    local fits = got == kind or (kind == "list" and got == "element") or (kind == "element" and got == "list")
      or (kind == "null" and got ~= nil) or (kind == "scalar" and got == "null")
    if not skip and not fits then
      out[#out + 1] = path .. " (" .. kind .. (got and (", answer has " .. got) or "") .. ")"
    end
  end
  table.sort(out)
  return out
end

return M
