-- Deterministic reproducers of the bugs found by the fuzz runs (review of
-- 2026-11-28). Exits non-zero while any of them is present. Crashing cases run
-- in a child interpreter so one crash does not hide the others.
--   LUA_CPATH="build/?.so;;" lua5.4 spec/fuzz/known_bugs.lua
--   LUA_CPATH="build-luajit/?.so;;" luajit spec/fuzz/known_bugs.lua
-- The Set-Cookie check needs python3 (a one-shot local HTTP server); it is
-- skipped without it.
local core = require "luacloud.core"
local interp = arg[-1] or "lua5.4"
local failed = 0
local function check(name, ok, detail)
  if ok then print("ok    " .. name)
  else failed = failed + 1; print("FAIL  " .. name .. (detail and ("  (" .. detail .. ")") or "")) end
end

-- run `code` in a child interpreter; true when it exits 0
local function child(code)
  local f = os.tmpname()
  local h = io.open(f, "w"); h:write(code); h:close()
  local ok, _, n = os.execute(("%s %s >/dev/null 2>&1"):format(interp, f))
  os.remove(f)
  if type(ok) == "number" then return ok == 0 end -- Lua 5.1 / LuaJIT without 5.2 compat
  return ok == true and n == 0
end

-- 1. xml.c encode_children: a non-string entry of opts.order gives lua_tostring() == NULL,
--    then strlen(NULL) in encode_elem -> SIGSEGV
check("xml_encode: non-string order entry does not crash", child [[
  local core = require "luacloud.core"
  pcall(core.xml_encode, "r", { [true] = "x" }, { order = { r = { true } } })
  pcall(core.xml_encode, "r", { [1.5] = "x" }, { order = { r = { 1.5 } } })
]])

-- 2. jsondec.c: recursion bounded only by lua_checkstack (1,000,000 slots in 5.4) ->
--    C stack overflow with a caller-supplied max_depth
check("json_decode: deep document with a large max_depth does not crash", child [[
  local core = require "luacloud.core"
  local n = 200000
  core.json_decode(("["):rep(n) .. ("]"):rep(n), { max_depth = 1e6 })
]])

-- 3. json.c: cJSON strings are NUL-terminated: embedded NULs are cut (values and keys)
check("json_encode keeps embedded NUL in strings", core.json_encode("a\0b") == '"a\\u0000b"', core.json_encode("a\0b"))
do
  -- keeping the NUL or refusing the key are both fine; silently cutting it is not
  local ok, s = pcall(core.json_encode, { ["k\0x"] = 1 })
  check("json_encode keeps or refuses embedded NUL in keys", (ok and s == '{"k\\u0000x":1}') or (not ok and tostring(s):find("NUL")), tostring(s))
end

-- 4. json.c: cJSON prints numbers with %1.15g and accepts it when it is within DBL_EPSILON
--    (relative), so doubles and integers near 2^53 do not round-trip
for _, v in ipairs { 9007199254740989, 2 ^ 53, 0.1 + 0.2 } do
  local s = core.json_encode(v)
  check(("json_encode(%.17g) round-trips"):format(v), core.json_decode(s) == v, s)
end

-- 5. json.c l_json_decode (cJSON decoder): depth_ok() counts containers, push_value()
--    counts scalars too, so a document that passes the check raises a Lua error
do
  local ok, v = pcall(core._json_decode_cjson, "[[1]]", { max_depth = 1 })
  check("_json_decode_cjson returns nil, msg (no raise) on max_depth", ok, tostring(v))
end

-- 6. sign.c l_b64decode: EVP_DecodeBlock strips trailing whitespace, so the '=' count is
--    taken from the wrong end; and '=' inside the data is accepted
do
  local v = core.b64decode("QQ==\r\n\r\n")
  check("b64decode('QQ==\\r\\n\\r\\n') is 'A' or an error", v == "A" or v == nil, ("%q"):format(tostring(v)))
  v = core.b64decode("QQ==QQ==")
  check("b64decode rejects '=' inside the data", v == nil, ("%q"):format(tostring(v)))
end

-- 7. encode.c / xml.c: numbers are formatted with tostring (%.14g): LuaJIT corrupts
--    integers of 15+ digits, Lua 5.4 writes 5.0 for integral floats
do
  local f = core.form_encode { id = 123456789012345 }
  check("form_encode keeps a 15-digit integer", f == "id=123456789012345", f)
  f = core.form_encode { n = 10 / 2 }
  check("form_encode writes 10/2 as 5 on every runtime", f == "n=5", f)
  local x = core.xml_encode("r", { id = 123456789012345 }, { decl = false })
  check("xml_encode keeps a 15-digit integer", x == "<r><id>123456789012345</id></r>", x)
end

-- 8. xml.c add_escaped: \n \r \t in attributes are not written as character references,
--    so every parser normalises them to spaces
do
  local v = core.xml_decode(core.xml_encode("r", { _attr = { a = "l1\nl2\tz" } }))
  check("xml attribute with newline/tab round-trips", v and v.a == "l1\nl2\tz", v and ("%q"):format(v.a))
end

-- 9. xml.c: element and attribute names are written unchecked -> malformed XML
do
  local ok, s = pcall(core.xml_encode, "r", { ["a b"] = "x" }, { decl = false })
  check("xml_encode refuses an invalid element name", not ok or core.xml_decode(s) ~= nil, tostring(s))
end

-- 10. gzip.c l_gunzip: only the first member of a multi-member gzip stream is returned
do
  local two = "\31\139\8\0\0\0\0\0\2\3\203\207\75\5\0\241\134\108\122\3\0\0\0" ..
              "\31\139\8\0\0\0\0\0\2\3\43\41\207\7\0\102\138\202\17\3\0\0\0"
  local v, e = core.gunzip(two)
  check("gunzip returns every gzip member", v == "onetwo", tostring(v or e))
end

-- 12. xml.c checkout_ctxt/checkin_ctxt (parser context kept between calls): the context's
--     name dictionary keeps every name of every earlier document until it hits libxml2's
--     10 MB dictionary limit, then a valid document fails ("Memory allocation failed");
--     the same document parses when retried on a fresh context
do
  local function doc(round)
    local t = { "<r>" }
    for i = 1, 20000 do t[#t + 1] = ("<n%d_%d%s/>"):format(round, i, ("x"):rep(100)) end
    t[#t + 1] = "</r>"
    return table.concat(t)
  end
  local bad
  for round = 1, 20 do
    local v, e = core.xml_decode(doc(round))
    if not v then bad = ("document %d: %s"):format(round, e) break end
  end
  check("xml_decode does not fail on a valid document after earlier ones", not bad, bad)
end

-- 11. transport.c push_headers: strcmp(key, "set-cookie") on a key buffer that is not
--     NUL-terminated: a previous longer header ("Set-Cookie2") leaves a byte at key[10]
--     and repeated Set-Cookie lines are joined with ", " instead of "\n"
do
  local py = io.popen("command -v python3 2>/dev/null"):read("l")
  if not py then print("skip  set-cookie join (no python3)") else
    local port = 18000 + math.random(0, 999)
    local srv = [[
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", PORT)); s.listen(1)
print("ready", flush=True)
c,_=s.accept(); c.recv(65536)
c.sendall(b"HTTP/1.1 200 OK\r\nSet-Cookie2: z=0\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
c.close()
]]
    local f = os.tmpname()
    local h = io.open(f, "w"); h:write((srv:gsub("PORT", tostring(port)))); h:close()
    local p = io.popen("timeout 10 python3 " .. f, "r")
    p:read("l")
    local s = core.session {}
    local r, e = s:request { url = ("http://127.0.0.1:%d/"):format(port), timeout = 5 }
    p:close(); os.remove(f); s:close()
    local sc = r and r.headers["set-cookie"]
    check("repeated Set-Cookie headers are joined with newlines", sc == "a=1\nb=2", ("%q"):format(tostring(sc or (e and e.message))))
  end
end

if failed > 0 then print(failed .. " known bug(s) present"); os.exit(1) end
print("no known bug present")
