-- Fuzz xml_decode with mutated XML fixtures (and xml_encode with what it
-- decodes). Checks: no crash, no Lua error (data errors are nil, msg), the
-- decoded value is a table or a string, encode(decode(x)) decodes again.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local M = require "mutate"
local core = require "luacloud.core"
local iter, seed = M.args(20000)
local seeds = M.seeds({ "xml" })
seeds[#seeds + 1] = '<?xml version="1.0"?><a x="1" y="&amp;&#65;"><b>t<![CDATA[<c>]]></b><b/><c:d xmlns:c="u">x</c:d><!-- c --><?pi x?></a>'

-- a few large documents, so that mutations land on the 64 KiB chunk boundaries of the decoder
do
  local parts = {}
  for i = 1, #seeds do parts[#parts + 1] = (seeds[i]:gsub("^%s*<%?xml[^>]*>", "")) end
  local big = "<all>" .. table.concat(parts) .. "</all>"
  for i = 1, 3 do seeds[#seeds + 1] = big:sub(1, 65536 * i + 7) .. big:sub(-6) end
end

local fails = 0
local function fail(msg, input)
  fails = fails + 1
  io.stderr:write(("FAIL (seed %d): %s\ninput: %q\n"):format(seed, msg, input))
  if fails > 5 then os.exit(1) end
end

local function sanitize_names(v, depth)
  -- xml_encode does not validate element names (see known_bugs.lua): only
  -- re-encode trees whose keys are plain names
  if type(v) ~= "table" then return true end
  if depth > 60 then return false end
  for k, x in pairs(v) do
    if type(k) == "string" and not k:match("^[%a_][%w_.-]*$") then return false end
    if not sanitize_names(x, depth + 1) then return false end
  end
  return true
end

for n = 1, iter do
  local s = M.mutate(seeds[math.random(#seeds)], seeds)
  local opts
  if math.random(3) == 1 then
    opts = { lists = { item = true, server = true, b = true }, lower = math.random(2) == 1, max_depth = math.random(0, 300) }
  end
  local ok, v, root = pcall(core.xml_decode, s, opts)
  if not ok then fail("xml_decode raised: " .. tostring(v), s)
  elseif v == nil and type(root) ~= "string" then fail("xml_decode: nil without a message", s)
  elseif v ~= nil and (type(root) ~= "string" or (type(v) ~= "table" and type(v) ~= "string")) then
    fail("xml_decode: bad result types", s)
  elseif v ~= nil and sanitize_names(v, 0) then
    local ok2, e = pcall(core.xml_encode, root, v)
    if not ok2 then
      if not tostring(e):find("nested too deeply", 1, true) then fail("xml_encode raised: " .. tostring(e), s) end
    else
      local back, err = core.xml_decode(e)
      if back == nil and not err:find("nested too deeply", 1, true) and not err:find("Char 0x", 1, true)
        and not err:find("PCDATA invalid", 1, true) and not err:find("not allowed", 1, true) then
        fail("encode(decode(x)) does not decode: " .. err .. "\n" .. e:sub(1, 300), s)
      end
    end
  end
end
if fails > 0 then os.exit(1) end
print(("xml_fuzz: %d inputs, seed %d, ok"):format(iter, seed))
