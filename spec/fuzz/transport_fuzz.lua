-- Lifetime stress of the libcurl transport: pending requests dropped without
-- finish, sessions closed with transfers out, batches that fail half-way
-- through their set-up, all collected in random order. Needs no network:
-- every URL points at a closed local port or is invalid, so transfers fail
-- fast (or a listener given as arg[3], e.g. http://127.0.0.1:18931/).
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local M = require "mutate"
local core = require "luacloud.core"
local iter, seed = M.args(300)
local base = arg[3] or "http://127.0.0.1:9/"
local urls = { base, base .. "cookies", base .. "big", "http://[::1", "notascheme://x", base .. "x?" .. ("a"):rep(3000) }

local fails = 0
local function fail(msg)
  fails = fails + 1
  io.stderr:write(("FAIL (seed %d): %s\n"):format(seed, msg))
  if fails > 5 then os.exit(1) end
end

local function req()
  local r = { url = urls[math.random(#urls)], timeout = 2, connect_timeout = 1 }
  local k = math.random(6)
  if k == 1 then r.method = "POST"; r.body = ("x"):rep(math.random(0, 70000))
  elseif k == 2 then r.method = "PUT"; r.body = "a\0b"
  elseif k == 3 then r.method = "HEAD"
  elseif k == 4 then r.headers = { ["X-A"] = "1", ["X-B"] = 2 } end
  return r
end

local function check(res, e)
  if res == nil then
    if type(e) ~= "table" or type(e.kind) ~= "string" or type(e.message) ~= "string" then fail("bad error object") end
  elseif type(res.status) ~= "number" or type(res.body) ~= "string" or type(res.headers) ~= "table" then
    fail("bad response")
  end
end

local live = {}
for n = 1, iter do
  local op = math.random(10)
  local s = live[math.random(#live + 1)]
  if not s or op == 1 then
    s = core.session { timeout = 2, max_response = math.random(0, 1) == 0 and 1000 or nil, cookie_jar = true }
    live[#live + 1] = s
  end
  local ok, e = pcall(function()
    if op <= 3 then
      check(s:request(req()))
    elseif op <= 5 then
      local reqs = {}
      for i = 1, math.random(0, 6) do reqs[i] = req() end
      if math.random(4) == 1 then reqs[#reqs + 1] = { method = "GET" } end -- no url: raises mid set-up
      local out = s:batch(reqs, math.random(0, 3))
      for _, r in ipairs(out) do if r.err then check(nil, r.err) else check(r) end end
    elseif op <= 8 then
      local p = s:start(req())
      if math.random(2) == 1 then check(p:finish()) end -- else: dropped unfinished
      if math.random(4) == 1 then s:close() end
      if math.random(3) == 1 then pcall(p.finish, p) end
    elseif op == 9 then
      s:cookies(); s:clear_cookies()
    else
      s:close()
      for i, x in ipairs(live) do if x == s then table.remove(live, i) break end end
    end
  end)
  if not ok and not tostring(e):find("needs a url", 1, true) and not tostring(e):find("session is closed", 1, true)
     and not tostring(e):find("already finished", 1, true) then
    fail("raised: " .. tostring(e))
  end
  if math.random(5) == 1 then collectgarbage() end
  if #live > 4 then table.remove(live, 1) end
end
live = nil
collectgarbage(); collectgarbage()
if fails > 0 then os.exit(1) end
print(("transport_fuzz: %d operations, seed %d, ok"):format(iter, seed))
