-- Shared helpers of the fuzz scripts: seed loading and a libFuzzer-style mutator.
-- Each fuzz script: `lua5.4 spec/fuzz/<name>.lua [iterations] [seed]`, LUA_CPATH pointing at core.so.
local M = {}

local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
M.root = dir .. "/../.."

function M.readfile(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- all fixtures whose name ends with one of exts
function M.seeds(exts)
  local out = {}
  local p = io.popen('ls ' .. M.root .. '/spec/fixtures/*/* 2>/dev/null')
  for path in p:lines() do
    for _, e in ipairs(exts) do
      if path:sub(-#e - 1) == "." .. e then
        local s = M.readfile(path)
        if s and #s < 200000 then out[#out + 1] = s end
      end
    end
  end
  p:close()
  return out
end

local interesting = {
  "\0", "\255", "\r", "\n", "\"", "\\", "<", ">", "&", "'", "=", "%", "+", ",", "]]>", "<!--", "-->",
  "<![CDATA[", "&amp;", "&#0;", "&#x10FFFF;", "&#xD800;", "&lt", "\\u0000", "\\ud800", "\\udc00\\ud800",
  "\\uD83D\\uDE00", "1e999", "-0", "0.0e-999", "123456789012345678901234567890", "[", "{", "}", "]",
  "null", "true", "\xEF\xBB\xBF", "\xC0\x80", "\xF4\x90\x80\x80", "<?xml version='1.0' encoding='UTF-16'?>",
  "<!DOCTYPE a [<!ENTITY e 'x'>]>", "xmlns:a='u'", "a:b", "\"\"", "%0", "%zz", "==", "=",
}

local function rnd_bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

function M.mutate(s, pool)
  local n = math.random(1, 4)
  for _ = 1, n do
    local len = #s
    local op = math.random(1, 10)
    local i = math.random(1, len + 1)
    if op == 1 and len > 0 then -- flip a byte
      s = s:sub(1, i - 1) .. string.char(math.random(0, 255)) .. s:sub(i + 1)
    elseif op == 2 and len > 0 then -- delete a range
      local j = math.min(len, i + math.random(0, 16))
      s = s:sub(1, i - 1) .. s:sub(j + 1)
    elseif op == 3 then -- insert random bytes
      s = s:sub(1, i - 1) .. rnd_bytes(math.random(1, 8)) .. s:sub(i)
    elseif op == 4 then -- insert a token
      s = s:sub(1, i - 1) .. interesting[math.random(#interesting)] .. s:sub(i)
    elseif op == 5 and len > 0 then -- duplicate a range
      local j = math.min(len, i + math.random(0, 64))
      s = s:sub(1, j) .. s:sub(i, j) .. s:sub(j + 1)
    elseif op == 6 then -- truncate
      s = s:sub(1, i - 1)
    elseif op == 7 and pool and #pool > 0 then -- splice with another seed
      local o = pool[math.random(#pool)]
      local k = math.random(1, #o + 1)
      s = s:sub(1, i - 1) .. o:sub(k, k + math.random(0, 200))
    elseif op == 8 and len > 1 then -- swap two bytes
      local j = math.random(1, len)
      local a, b = math.min(i, j), math.max(i, j)
      if a < b and b <= len then
        s = s:sub(1, a - 1) .. s:sub(b, b) .. s:sub(a + 1, b - 1) .. s:sub(a, a) .. s:sub(b + 1)
      end
    elseif op == 9 then -- repeat a token many times (depth / width)
      local tok = interesting[math.random(#interesting)]
      s = s:sub(1, i - 1) .. tok:rep(math.random(1, 300)) .. s:sub(i)
    else -- replace a byte with a digit / quote
      s = s:sub(1, i - 1) .. ("0123456789\"':/ "):sub(math.random(1, 15), math.random(1, 15)) .. s:sub(i + 1)
    end
  end
  return s
end

function M.args(default_iter)
  local iter = tonumber(arg and arg[1]) or default_iter
  local seed = tonumber(arg and arg[2]) or os.time()
  math.randomseed(seed)
  return iter, seed
end

return M
