-- Every value of an XML document against every value of a decoded result, for the specs that check
-- that a sample's or a capture's values all reach the result. The document side is read with
-- patterns, so that the check does not depend on the decoder under test.
local M = {}

local ENT = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }
local function unescape(s)
  return (s:gsub("&(%a+);", function(e) return ENT[e] end))
end

--- Texts and attribute values of an XML document (xmlns declarations excluded).
function M.document(xml)
  local s = xml:gsub("<!%-%-.-%-%->", ""):gsub("<%?.-%?>", "")
  local out = {}
  for tag in s:gmatch("<([^/!?][^>]*)>") do
    for name, _, v in tag:gmatch("([%w_:%.%-]+)%s*=%s*([\"'])(.-)%2") do
      -- attribute-value normalization (XML 1.0 section 3.3.3): line breaks and tabs read as spaces
      if name ~= "xmlns" and not name:match("^xmlns:") then out[#out + 1] = unescape((v:gsub("\r?\n", " "):gsub("\t", " "))) end
    end
  end
  for text in s:gmatch(">([^<]+)<") do
    local t = text:gsub("^%s+", ""):gsub("%s+$", "")
    if t ~= "" then out[#out + 1] = unescape(t) end
  end
  return out
end

--- The string leaves of a decoded result (booleans as their text: a value the catalog promises as one).
function M.decoded(v, out, seen)
  out = out or {}
  seen = seen or {}
  if type(v) == "table" then
    if seen[v] then return out end
    seen[v] = true
    for _, x in pairs(v) do M.decoded(x, out, seen) end
  elseif type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "boolean" then
    out[#out + 1] = tostring(v)
  end
  return out
end

function M.counts(list)
  local c = {}
  for _, v in ipairs(list) do c[v] = (c[v] or 0) + 1 end
  return c
end

--- Values of the document that the result lacks (sorted; as often as they are missing).
function M.missing(xml, result)
  local have = M.counts(M.decoded(result))
  local out = {}
  for v, n in pairs(M.counts(M.document(xml))) do
    if (have[v] or 0) < n then out[#out + 1] = v end
  end
  table.sort(out)
  return out
end

return M
