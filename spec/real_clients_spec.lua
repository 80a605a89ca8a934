-- Real clients of the simulated APIs, from Debian, against the simulators over HTTPS:
--   python3-cs (a CloudStack client) drives ReliaCloud in both of its signing modes;
--   python3-libcloud (Apache Libcloud 3.4) drives Dimension Data where it speaks the 0.9 API.
-- The clients run as the python3 scripts of spec/real_clients/; each prints one JSON object.
-- Pending when the packages are missing (bin/setup-deps installs them).
local support = require("spec.support.sim")
local core = require("luacloud.core")

local root = support.root
local PY = "/usr/bin/python3"

local function have(module)
  local _, rc = support.sh(PY .. " -c 'import " .. module .. "'")
  return rc == 0
end

local function run(script, args)
  local cmd = PY .. " " .. root .. "/spec/real_clients/" .. script
  for _, a in ipairs(args) do cmd = cmd .. " '" .. tostring(a) .. "'" end
  local out, rc = support.sh(cmd)
  local res = core.json_decode(out:match("(%b{})%s*$") or "")
  assert(res, "no JSON from " .. script .. ": " .. out)
  assert(rc == 0 and not res.error, script .. ": " .. tostring(res.error or out))
  return res
end

local ok_nginx = os.execute("command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx")
if not ok_nginx or not have("cs") or not have("libcloud") then
  describe("real clients", function()
    it("need nginx, python3-cs and python3-libcloud", function()
      pending("install them with bin/setup-deps")
    end)
  end)
  return
end

describe("real clients against the simulators (HTTPS)", function()
  local sim
  setup(function() sim = support.start({ tls = true }) end)
  teardown(function() if sim then sim.stop() end end)

  describe("python3-cs on ReliaCloud", function()
    for _, mode in ipairs({ "v3-get", "v3-post", "legacy-get", "legacy-post" }) do
      it("lists, deploys, stops and destroys a machine, signing " .. mode, function()
        local r = run("cs_walk.py", { sim.endpoints.reliacloud, "demo-api-key", "demo-secret-key", mode, sim.ca_file })
        assert.same({ "WC", "EC", "MN" }, r.zones)
        assert.is_true(r.templates > 0)
        assert.is_true(r.offerings > 0)
        assert.equal("Running", r.deployed.state)
        assert.same({ "Stopped" }, r.state_after_stop)
        assert.same({}, r.listed_after)
        assert.equal("refused 401", r.bad_secret)
      end)
    end
  end)

  describe("Apache Libcloud on Dimension Data (0.9)", function()
    it("account, locations, networks, servers, anti-affinity, backup and reports", function()
      local cr = sim.credentials.dimensiondata
      assert(sim.admin("POST", "/_sim/reset?provider=dimensiondata").ok)
      local seeded = sim.admin("POST", "/_sim/seed?provider=dimensiondata&kind=servers&n=2")
      local host, port = sim.base:match("^https://([^:/]+):(%d+)")
      local r = run("libcloud_dd_walk.py", { host, port, "/dimensiondata", cr.username, cr.password, sim.ca_file,
        seeded.result.servers[1], seeded.result.servers[2] })
      assert.same({ user_name = "demo", email = "demo@example.com", org = cr.org_id }, r.account)
      assert.same({ "NA1", "NA3", "NA5" }, r.locations)
      assert.same({ name = "libcloud-net", location = "NA1" }, r.network)
      assert.is_true(r.renamed)
      assert.truthy(r.networks[1] == "libcloud-net-2" or r.networks[2] == "libcloud-net-2")
      assert.is_true(r.update_node)
      assert.is_true(r.anti_affinity)
      assert.equal(seeded.result.servers[1], r.backup_target)
      assert.same({ "FA.Linux", "FA.Win", "MySQL" }, r.client_types)
      -- the alerting trigger as an attribute (Libcloud's form) is accepted, its address kept
      assert.is_true(r.client_added)
      assert.same({ { "FA.Linux", { "ops@example.com" } } }, r.backup_details.clients)
      assert.equal("Enterprise", r.backup_details.service_plan)
      -- Libcloud removes a client with ?disable where the document says ?remove: refused
      assert.matches("^refused", r.client_removed)
      assert.matches("All Backup Clients must be removed first", r.backup_disabled, 1, true)
      assert.equal("UUID", r.reports.audit[1]) -- 2024-01-01..2024-01-31: 30 days after the start
      assert.equal("BackupClientID", r.reports.backup[1])
      assert.is_true(r.reports.summary > 1)
      assert.is_true(r.network_deleted)
    end)
  end)
end)
