-- Exercised under valgrind by .ci/run: every C entry point on good and bad
-- input, errors raised from inside the codecs, and the transport's failures.
package.cpath = (os.getenv("LUACLOUD_CPATH") or "build/?.so;") .. package.cpath
local core = require "luacloud.core"
for _ = 1, 3 do
  assert(core.xml_decode("<r a='1'><x>1</x><x>2</x><y/></r>", { lists = { x = true }, lower = true }))
  assert(not core.xml_decode("<r><x>"))
  assert(not core.xml_decode('<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'))
  assert(not core.xml_decode(string.rep("<a>", 100)))
  assert(core.xml_encode("r", { a = { "1", "2" }, b = { _attr = { k = "v" } } }, { ns = "urn:x" }))
  assert(not pcall(core.xml_encode, "r", { a = { b = print } }))
  assert(core.json_decode('{"a":[1,{"b":null}],"c":"x"}', { lists = { c = true } }))
  assert(not core.json_decode('{"a":'))
  assert(not core.json_decode(string.rep("[", 200) .. string.rep("]", 200)))
  assert(core.json_encode({ a = { 1, 2 }, b = core.null }))
  assert(not pcall(core.json_encode, { a = { b = { c = print } } }))
  assert(core.form_encode({ a = { "1", "2" }, b = "x y" }))
  assert(not pcall(core.form_encode, { [1] = "x" }))
  assert(core.csv_decode('a,b\n1,"2"\n'))
  assert(not core.csv_decode('a\n"x'))
  assert(core.b64decode(core.b64encode(core.hmac_sha1("k", "m"))))
  local s = core.session { timeout = 1, connect_timeout = 1 }
  local r, e = s:request { url = "http://127.0.0.1:9/" }
  assert(r == nil and e.kind == "connect")
  local b = s:batch({ { url = "http://127.0.0.1:9/a" }, { url = "http://127.0.0.1:9/b" } }, 1)
  assert(b[1].err and b[2].err)
  assert(not pcall(s.request, s, { url = "http://x/", headers = { ["a\nb"] = "c" } }))
  local pending = s:start { url = "http://127.0.0.1:9/p" }
  local pr, pe = pending:finish()
  assert(pr == nil and pe.kind == "connect")
  assert(not pcall(pending.finish, pending))
  local _ = s:start { url = "http://127.0.0.1:9/left-behind" } -- still out when the session closes
  s:close()
  local s2 = core.session {}   -- left to __gc
  local _ = s2:start { url = "http://127.0.0.1:9/gc" }
end
collectgarbage()
print("core workout ok")
