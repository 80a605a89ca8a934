-- Fuzz the small codecs: csv_decode, b64encode/b64decode, urlencode/pct/
-- urldecode, query_decode, form_encode, gunzip, hmac/sha1/md5, basic_auth.
-- Checks: no crash, contracts (nil, msg on bad data), round trips.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local M = require "mutate"
local core = require "luacloud.core"
local iter, seed = M.args(20000)

local fails = 0
local function fail(msg, input)
  fails = fails + 1
  io.stderr:write(("FAIL (seed %d): %s\ninput: %q\n"):format(seed, msg, tostring(input)))
  if fails > 5 then os.exit(1) end
end

local csv_seeds = M.seeds({ "csv" })
csv_seeds[#csv_seeds + 1] = 'a,b,"c ""q"""\r\n1,"x,\ny",3\n\n4,5\n'
local gz_seeds = {
  "\31\139\8\0\0\0\0\0\2\3\203H\205\201\201W\200@\"\203\243\139rRPDF\197\135\1748\0`Qc\25\224\1\0\0",
  "x\156\171VJT\178\1386\2121\2101\142\213QJR\178R\170\168\172R\170\173\166\1610\0\245\164\31\25",
}
local text_seeds = { "a=1&b=%20x+y&a=2&c", "%41%4g%%zz+&&=&x==y", "", "key=v%E2%82%AC&k%00=1" }

local function rnd(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

for n = 1, iter do
  -- csv
  do
    local s = M.mutate(csv_seeds[math.random(#csv_seeds)], csv_seeds)
    local ok, rows, err = pcall(core.csv_decode, s)
    if not ok then fail("csv_decode raised: " .. tostring(rows), s)
    elseif rows == nil and type(err) ~= "string" then fail("csv_decode: nil without message", s)
    elseif rows ~= nil and type(rows) ~= "table" then fail("csv_decode: not a table", s) end
  end
  -- base64 round trip and hostile input
  do
    local raw = rnd(math.random(0, 40))
    local e = core.b64encode(raw)
    if core.b64decode(e) ~= raw then fail("b64 round trip", raw) end
    local m = M.mutate(e, nil)
    local ok, d, err = pcall(core.b64decode, m)
    if not ok then fail("b64decode raised: " .. tostring(d), m)
    elseif d == nil and type(err) ~= "string" then fail("b64decode: nil without message", m) end
  end
  -- percent codecs
  do
    local raw = rnd(math.random(0, 40))
    if core.urldecode(core.urlencode(raw)) ~= raw then fail("urlencode round trip", raw) end
    if core.urldecode(core.pct(raw)) ~= raw then fail("pct round trip", raw) end
    local enc = core.urlencode(raw)
    if enc:find("[^%w%-%._~%%]") then fail("urlencode kept a reserved byte", raw) end
    local m = M.mutate(text_seeds[math.random(#text_seeds)], text_seeds)
    local ok, t = pcall(core.query_decode, m)
    if not ok then fail("query_decode raised: " .. tostring(t), m) end
    local ok2, u = pcall(core.urldecode, m, true)
    if not ok2 then fail("urldecode raised: " .. tostring(u), m) end
  end
  -- form_encode -> query_decode round trip (string keys and values)
  do
    local t, nk = {}, math.random(0, 5)
    for _ = 1, nk do
      local k = rnd(math.random(1, 6)):gsub("%z", "")
      if k ~= "" then
        if math.random(3) == 1 then t[k] = { rnd(math.random(0, 5)), rnd(math.random(0, 5)) }
        else t[k] = rnd(math.random(0, 8)) end
      end
    end
    local f = core.form_encode(t)
    local back = core.query_decode(f)
    for k, v in pairs(t) do
      local b = back[k]
      if type(v) == "table" then
        if type(b) ~= "table" or b[1] ~= v[1] or b[2] ~= v[2] then fail("form round trip (array) " .. f, k) end
      elseif b ~= v then fail("form round trip " .. f, k) end
    end
  end
  -- query_encode / canonical_query (pairs in order; names are written as they are)
  if core.query_encode then
    local pairs_, np = {}, math.random(0, 6)
    for i = 1, np do
      local name = ("abcXYZ_"):sub(math.random(1, 7), math.random(1, 7))
      if name == "" then name = "k" end
      local v = math.random(4) == 1 and math.random(-1000, 1000) or rnd(math.random(0, 10))
      pairs_[i] = { name, v }
    end
    local ok, q = pcall(core.query_encode, pairs_)
    if not ok then fail("query_encode raised: " .. tostring(q), n) else
      local back = core.query_decode(q)
      for _, p in ipairs(pairs_) do
        local b = back[p[1]]
        local want = tostring(p[2])
        local found = b == want
        if type(b) == "table" then for _, x in ipairs(b) do if x == want then found = true end end end
        if not found then fail("query_encode round trip " .. q, p[1]) end
      end
    end
    local ok2, c = pcall(core.canonical_query, pairs_)
    if not ok2 then fail("canonical_query raised: " .. tostring(c), n)
    elseif c ~= c:lower() then fail("canonical_query not lower-cased", c) end
  end
  -- gunzip
  do
    local m = M.mutate(gz_seeds[math.random(#gz_seeds)], nil)
    local ok, d, err = pcall(core.gunzip, m, math.random(0, 1) == 0 and 100 or nil)
    if not ok then fail("gunzip raised: " .. tostring(d), m)
    elseif d == nil and type(err) ~= "string" then fail("gunzip: nil without message", m) end
  end
  -- digests
  do
    local k, s = rnd(math.random(0, 100)), rnd(math.random(0, 100))
    if #core.hmac_sha1(k, s) ~= 20 or #core.sha1(s) ~= 20 or #core.md5_hex(s) ~= 32 then fail("digest sizes", s) end
  end
end
if fails > 0 then os.exit(1) end
print(("codecs_fuzz: %d inputs, seed %d, ok"):format(iter, seed))
