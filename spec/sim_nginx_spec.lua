-- The simulators inside the real nginx, started through bin/luacloud-sim on a free port:
-- /_sim/info over HTTP, state across requests, TLS verification with the generated CA,
-- latency and the connection-level faults.  Skipped (pending) when nginx or its lua module
-- is not installed.

local simhost = require("luacloud.sim")
local json_decode = simhost.json_decode

local root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$")) or "."
local script = root .. "/bin/luacloud-sim"

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs a shell command; returns its output (stdout + stderr) and exit code.
local function sh(cmd)
  local p = assert(io.popen("{ " .. cmd .. " ; } 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return out:gsub("__rc=%d+%s*$", ""), rc
end

local read_file = require("spec.support.sim").read

-- curl(url, extra_args) -> { status, body, headers (lower-case), time, rc }
local function curl(url, extra)
  local bodyf, headf = os.tmpname(), os.tmpname()
  local out, rc = sh("curl -sS --max-time 10 -o " .. q(bodyf) .. " -D " .. q(headf)
    .. " -w '\\n%{http_code} %{time_total}\\n' " .. (extra or "") .. " " .. q(url))
  local code, t = out:match("(%d+) ([%d%.]+)%s*$")
  local res = {
    rc = rc, out = out, status = tonumber(code), time = tonumber(t),
    body = read_file(bodyf) or "", headers = {},
  }
  for line in (read_file(headf) or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then res.headers[k:lower()] = v end
  end
  os.remove(bodyf)
  os.remove(headf)
  return res
end

math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)

-- Starts an instance on a free port; returns { port, dir, base, out, info }.
local function start(flags)
  local dir = sh("mktemp -d"):gsub("%s+$", "")
  for _ = 1, 5 do
    local port = 18080 + math.random(0, 3000)
    local out, rc = sh(q(script) .. " start --json --port " .. port .. " --state-dir " .. q(dir)
      .. " " .. (flags or ""))
    if rc == 0 then
      local json = out:match("(%b{})%s*$")
      return { port = port, dir = dir, out = out, info = json and json_decode(json) }
    end
    if not out:find("already in use", 1, true) then
      error("luacloud-sim start failed (rc " .. tostring(rc) .. "):\n" .. out)
    end
  end
  error("no free port found")
end

local function stop(inst)
  if inst then
    sh(q(script) .. " stop --port " .. inst.port .. " --state-dir " .. q(inst.dir))
    sh("rm -rf " .. q(inst.dir))
  end
end

local function admin(inst, method, path, json)
  local extra = "-X " .. method
  if json then extra = extra .. " -H 'Content-Type: application/json' --data-binary " .. q(json) end
  local r = curl("http://127.0.0.1:" .. inst.port .. path, extra)
  return r.status, json_decode(r.body), r
end

local why = require("spec.support.sim").missing()
if why then -- pending, not failing
  return describe("luacloud-sim under nginx", function()
    it("needs nginx", function() pending(why .. ": skipping the nginx simulator specs") end)
  end)
end

describe("luacloud-sim under nginx", function()
  local inst, base

  setup(function()
    inst = start("")
    base = "http://127.0.0.1:" .. inst.port
  end)

  teardown(function()
    stop(inst)
  end)

  before_each(function()
    admin(inst, "POST", "/_sim/reset")
  end)

  it("start --json prints the endpoints and credentials from /_sim/info", function()
    assert.is_table(inst.info, inst.out)
    assert.is_table(inst.info.endpoints)
    assert.is_table(inst.info.credentials)
    assert.are.equal(base, inst.info.base_url)
  end)

  it("status exits 0 while running and prints the URL", function()
    local out, rc = sh(q(script) .. " status --port " .. inst.port .. " --state-dir " .. q(inst.dir))
    assert.are.equal(0, rc, out)
    assert.matches(base, out, 1, true)
  end)

  it("serves /_sim/info with the documented endpoint of each provider", function()
    local status, info = admin(inst, "GET", "/_sim/info")
    assert.are.equal(200, status)
    assert.are.equal(base .. "/reliacloud/client/api", info.providers.reliacloud.endpoint)
    assert.are.equal(base .. "/dimensiondata", info.providers.dimensiondata.endpoint)
    assert.are.equal(base .. "/centurylink", info.providers.centurylink.endpoint)
    assert.are.equal(base .. "/clodo/v1", info.providers.clodo.management_url)
    assert.are.equal(base .. "/echo", info.diagnostics.echo)
  end)

  it("routes to a provider and keeps its state across requests (one host per worker)", function()
    local r1 = curl(base .. "/echo/a/b?x=1", "-X POST -H 'X-Test: yes' --data-binary 'hello'")
    assert.are.equal(200, r1.status, r1.out)
    local e1 = json_decode(r1.body)
    assert.are.equal("POST", e1.method)
    assert.are.equal("/a/b?x=1", e1.path)
    assert.are.equal("yes", e1.headers["x-test"])
    assert.are.equal("hello", e1.body)
    local e2 = json_decode(curl(base .. "/echo/").body)
    assert.are.equal(e1.count + 1, e2.count)
    admin(inst, "POST", "/_sim/reset?provider=echo")
    assert.are.equal(1, json_decode(curl(base .. "/echo/").body).count)
  end)

  it("passes request bodies larger than the in-memory buffer", function()
    local f = os.tmpname()
    local fh = assert(io.open(f, "wb"))
    local big = string.rep("0123456789abcdef", 2 * 65536) -- 2 MiB
    fh:write(big)
    fh:close()
    local r = curl(base .. "/echo/big", "-X PUT --data-binary @" .. q(f))
    os.remove(f)
    assert.are.equal(200, r.status, r.out)
    assert.are.equal(#big, #json_decode(r.body).body)
  end)

  it("answers 404 for an unknown provider", function()
    local r = curl(base .. "/nosuchcloud/x")
    assert.are.equal(404, r.status)
  end)

  it("drop closes the connection without an answer", function()
    assert.are.equal(200, (admin(inst, "POST", "/_sim/fault", '{"provider":"echo","kind":"drop"}')))
    local r = curl(base .. "/echo/")
    assert.are.equal(52, r.rc, r.out) -- curl: empty reply from server
    assert.are.equal(200, curl(base .. "/echo/").status)
  end)

  it("truncate announces the full length, sends half and closes", function()
    admin(inst, "POST", "/_sim/fault", '{"provider":"echo","kind":"truncate"}')
    local r = curl(base .. "/echo/truncated")
    assert.are.equal(18, r.rc, r.out) -- curl: transfer closed with outstanding read data
    assert.is_true(#r.body < tonumber(r.headers["content-length"]))
    assert.are.equal(200, curl(base .. "/echo/").status)
  end)

  it("malformed answers a complete but corrupt body", function()
    admin(inst, "POST", "/_sim/fault", '{"provider":"echo","kind":"malformed"}')
    local r = curl(base .. "/echo/")
    assert.are.equal(0, r.rc, r.out)
    assert.are.equal(200, r.status)
    assert.are.equal(#r.body, tonumber(r.headers["content-length"]))
    assert.is_nil(json_decode(r.body))
    assert.is_table(json_decode(curl(base .. "/echo/").body))
  end)

  it("http503 answers 503 for `count` requests", function()
    admin(inst, "POST", "/_sim/fault", '{"kind":"http503","count":2}')
    assert.are.equal(503, curl(base .. "/echo/").status)
    assert.are.equal(503, curl(base .. "/echo/").status)
    assert.are.equal(200, curl(base .. "/echo/").status)
  end)

  it("delay holds the answer back by `ms`", function()
    admin(inst, "POST", "/_sim/fault", '{"kind":"delay","ms":300}')
    local r = curl(base .. "/echo/")
    assert.are.equal(200, r.status)
    assert.is_true(r.time >= 0.3, "took " .. tostring(r.time))
  end)

  it("refuses a second start on the same port, loudly", function()
    local out, rc = sh(q(script) .. " start --port " .. inst.port .. " --state-dir " .. q(inst.dir .. "-other"))
    sh("rm -rf " .. q(inst.dir .. "-other"))
    assert.are_not.equal(0, rc)
    assert.matches("in use", out, 1, true)
  end)

  it("shows drop, truncate and malformed to luacloud.core sessions as transport errors or bad bodies", function()
    local ok, core = pcall(require, "luacloud.core")
    if not ok or type(core.session) ~= "function" then
      pending("luacloud.core is not built: " .. tostring(core))
      return
    end
    local sess = core.session{ timeout = 10 }
    local url = base .. "/echo/x"
    admin(inst, "POST", "/_sim/fault", '{"provider":"echo","kind":"drop"}')
    local resp, err = sess:request{ method = "GET", url = url }
    assert.is_nil(resp)
    assert.are.equal("transport", err.kind)
    admin(inst, "POST", "/_sim/fault", '{"provider":"echo","kind":"truncate"}')
    resp, err = sess:request{ method = "GET", url = url }
    assert.is_nil(resp)
    assert.are.equal("transport", err.kind)
    admin(inst, "POST", "/_sim/fault", '{"provider":"echo","kind":"malformed"}')
    resp = assert(sess:request{ method = "GET", url = url })
    assert.are.equal(200, resp.status)
    assert.is_nil(core.json_decode(resp.body))
    resp = assert(sess:request{ method = "GET", url = url })
    assert.is_table(core.json_decode(resp.body))
    sess:close()
  end)

  it("runs the reliacloud simulator when it is available", function()
    local _, info = admin(inst, "GET", "/_sim/info")
    local p = info.providers.reliacloud
    if not p.available then
      pending("reliacloud simulator not available under nginx: " .. tostring(p.error))
      return
    end
    local r = curl(p.endpoint .. "?command=listZones")
    assert.are_not.equal(404, r.status)
    assert.are_not.equal(500, r.status, r.body)
  end)
end)

describe("luacloud-sim --tls --latency under nginx", function()
  local inst, base

  setup(function()
    inst = start("--tls --latency 250")
    base = "https://127.0.0.1:" .. inst.port
  end)

  teardown(function()
    stop(inst)
  end)

  it("reports the CA file that signed the server certificate", function()
    assert.is_table(inst.info, inst.out)
    assert.are.equal(base, inst.info.base_url)
    assert.is_string(inst.info.ca_file)
    assert.is_truthy(read_file(inst.info.ca_file))
  end)

  it("is verified with the CA for 127.0.0.1 and localhost, refused without it", function()
    local ca = "--cacert " .. q(inst.info.ca_file)
    assert.are.equal(200, curl(base .. "/_sim/info", ca).status)
    assert.are.equal(200, curl("https://localhost:" .. inst.port .. "/_sim/info", ca).status)
    local r = curl(base .. "/_sim/info")
    assert.are.equal(60, r.rc, r.out) -- curl: peer certificate cannot be authenticated
  end)

  it("is verified by luacloud.core sessions given the CA, refused without it", function()
    local ok, core = pcall(require, "luacloud.core")
    if not ok or type(core.session) ~= "function" then
      pending("luacloud.core is not built: " .. tostring(core))
      return
    end
    local good = core.session{ ca_file = inst.info.ca_file, timeout = 10 }
    local resp, err = good:request{ method = "GET", url = base .. "/_sim/info" }
    assert.is_table(resp, err and err.message)
    assert.are.equal(200, resp.status)
    assert.are.equal(base, json_decode(resp.body).base_url)
    good:close()
    local bad = core.session{ timeout = 10 }
    resp, err = bad:request{ method = "GET", url = base .. "/_sim/info" }
    assert.is_nil(resp)
    assert.are.equal("tls", err.kind)
    bad:close()
  end)

  it("delays provider answers by the latency", function()
    local r = curl(base .. "/echo/", "--cacert " .. q(inst.info.ca_file))
    assert.are.equal(200, r.status)
    assert.is_true(r.time >= 0.25, "took " .. tostring(r.time))
  end)

  it("restart keeps TLS, the latency and the same CA", function()
    local ca_before = read_file(inst.info.ca_file)
    local out, rc = sh(q(script) .. " restart --port " .. inst.port .. " --state-dir " .. q(inst.dir))
    assert.are.equal(0, rc, out)
    assert.are.equal(ca_before, read_file(inst.info.ca_file))
    local r = curl(base .. "/echo/", "--cacert " .. q(inst.info.ca_file))
    assert.are.equal(200, r.status, r.out)
    assert.is_true(r.time >= 0.25, "took " .. tostring(r.time))
  end)

  it("stops: status then exits 3 and the port is closed", function()
    local out, rc = sh(q(script) .. " stop --port " .. inst.port .. " --state-dir " .. q(inst.dir))
    assert.are.equal(0, rc, out)
    out, rc = sh(q(script) .. " status --port " .. inst.port .. " --state-dir " .. q(inst.dir))
    assert.are.equal(3, rc, out)
    local r = curl(base .. "/_sim/info", "-k")
    assert.are.equal(7, r.rc, r.out) -- curl: failed to connect
  end)
end)
