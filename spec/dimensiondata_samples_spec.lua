-- The samples printed in the Dimension Data API document, run through the client:
--   * every response sample decodes through the client's decode hook into a table that holds every
--     value (element text and attribute) of the sample;
--   * every documented request (XML bodies, the paging URLs of section 1.8.3, flag URLs, form bodies)
--     is what the client puts on the wire, captured with the `transport` option.
-- Fixtures: spec/fixtures/dimensiondata (REPAIRS.md says what was repaired and why).
local luacloud = require("luacloud")
local core = require("luacloud.core")
local simmod = require("luacloud.sim.dimensiondata") -- only for its independent pure-Lua XML parser

local DIR = "spec/fixtures/dimensiondata/"
local ORG = "1831c1a9-9c03-44df-a5a4-f2a4662d6bde"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- the repaired copy when there is one
local function fixture(base)
  local ext = base:match("%.(%w+)$")
  local repaired = base:gsub("%." .. ext .. "$", ".repaired." .. ext)
  return read(DIR .. repaired) or read(DIR .. base), read(DIR .. repaired) ~= nil
end

local function list_dir(pattern)
  local out = {}
  local p = io.popen('ls "' .. DIR .. '"')
  for f in p:lines() do
    if f:match(pattern) and not f:find(".repaired.", 1, true) then out[#out + 1] = f end
  end
  p:close()
  table.sort(out)
  return out
end

local ENT = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }
local function unescape(s)
  return (s:gsub("&(%a+);", function(e) return ENT[e] end))
end

-- Every value of an XML document (texts and attribute values, xmlns excluded), read with patterns
-- so that the check does not depend on the decoder under test.
local function sample_values(xml)
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

local function decoded_values(v, out, seen)
  out = out or {}
  seen = seen or {}
  if type(v) == "table" then
    if seen[v] then return out end
    seen[v] = true
    for _, x in pairs(v) do decoded_values(x, out, seen) end
  elseif type(v) == "string" then
    out[#out + 1] = v
  end
  return out
end

local function counts(list)
  local c = {}
  for _, v in ipairs(list) do c[v] = (c[v] or 0) + 1 end
  return c
end

local function client(transport, extra)
  local o = { username = "jpublic", password = "secret-pw", org_id = ORG, endpoint = "https://api-na.dimensiondata.com",
    transport = transport or function() return { status = 200, headers = {}, body = "" } end,
    sleep = function() end }
  for k, v in pairs(extra or {}) do o[k] = v end
  return assert(luacloud.new("dimensiondata", o))
end

local function decode(c, op, body, ctype)
  local entry = assert(c.operations[op], op)
  return c.hooks.decode(c, entry, { status = 200, headers = { ["content-type"] = ctype or "application/xml" }, body = body })
end

describe("dimensiondata document samples", function()
  local c = client()

  describe("responses", function()
    local files = list_dir("%.response%.xml$")

    it("has a sample for every documented operation with an XML response", function()
      local have = {}
      for _, f in ipairs(files) do have[f:match("^(.-)%.response")] = true end
      local missing = {}
      for id, e in pairs(c.operations) do
        if e.response.root and not have[id] and id ~= "list_db_server_images" then missing[#missing + 1] = id end
      end
      table.sort(missing)
      assert.same({}, missing)
    end)

    for _, f in ipairs(files) do
      local op = f:match("^(.-)%.response")
      if op ~= "error_format" then
        it("decodes " .. f .. " keeping every value", function()
          local body = fixture(f)
          local res, err = decode(c, op, body)
          local got
          if res == nil then
            -- only documented fault samples may fail
            assert.truthy(body:find("<[%w:]*result>ERROR<"), tostring(err))
            assert.equal("api", err.kind)
            got = decoded_values({ err.code, err.message, err.details })
          else
            got = decoded_values(res)
          end
          local have = counts(got)
          local missing = {}
          for v, n in pairs(counts(sample_values(body))) do
            if (have[v] or 0) < n then missing[#missing + 1] = v end
          end
          table.sort(missing)
          assert.same({}, missing)
        end)
      end
    end

    it("turns the general fault format (1.3.2) into an error carrying the REASON code", function()
      local res, err = decode(c, "delete_customer_server_image", fixture("error_format.response.xml"))
      assert.is_nil(res)
      assert.equal("REASON_390", err.code)
      assert.equal("Could not find server image for ID", err.message)
      assert.equal("Delete Server Image", err.details.operation)
      assert.equal(390, err.details.code_number)
    end)

    it("reads a Status with additionalInformation as a result with its values by name", function()
      local st = assert(decode(c, "copy_ovf_package_from_remote_geo", fixture("copy_ovf_package_from_remote_geo.response.xml")))
      assert.equal("RESULT_0", st.resultCode)
      assert.equal("26cafcd4-66ad-11e1-b5d6-0030487e0302", st.info["remoteOvfPackageCopy.copyId"])
      assert.equal("europe", st.info["remoteOvfPackageCopy.sourceGeoKey"])
      assert.equal(2, #st.additionalInformation)
    end)

    it("lists are arrays also with a single item, and paging attributes are numbers", function()
      local r = assert(decode(c, "list_remote_ovf_package_copying_in_progress",
        fixture("list_remote_ovf_package_copying_in_progress.response.xml")))
      assert.equal(1, #r.ovfCopy)
      assert.same({ totalCount = 1, pageCount = 1, pageNumber = 1, pageSize = 250 }, r.paging)
      local acc = assert(decode(c, "get_my_account", fixture("get_my_account.response.xml")))
      assert.equal(1, #acc.roles.role)
      assert.equal("1831c1a9-9c03-44df-a5a4-f2a4662d6bde", acc.orgId)
    end)

    it("reads the bare <Exists> answer as a boolean", function()
      local r = assert(decode(c, "does_image_name_exist", fixture("does_image_name_exist.response.xml")))
      assert.is_true(r.exists)
    end)

    it("takes the ids that creates return only inside resultDetail", function()
      local farm = assert(decode(c, "create_server_farm", fixture("create_server_farm.response.xml")))
      assert.truthy(farm.resultDetail:find(farm.id, 1, true))
      local vip = assert(decode(c, "create_vip", fixture("create_vip.response.xml")))
      assert.truthy(vip.id)
      assert.truthy(vip.resultDetail:find("(id:" .. vip.id, 1, true))
    end)

    local reports = {
      summary_usage_report = 20, detailed_usage_report = 23, software_units_report = 12,
      backup_usage_report = 19, administrator_logs_report = 11,
    }
    for op, ncol in pairs(reports) do
      it("reads the " .. op .. " CSV sample with its documented columns", function()
        local body = fixture(op .. ".response.csv")
        local r = assert(decode(c, op, body, "text/csv"))
        assert.equal(ncol, #r.columns)
        local nlines = select(2, body:gsub("\n", "\n"))
        assert.equal(nlines - 1, #r.rows)
        -- every value of the first data row is found in the decoded first row
        local first = body:match("\n([^\r\n]+)")
        local vals = {}
        for _, v in pairs(r.rows[1]) do vals[tostring(v)] = true end
        for field in (first .. ","):gmatch("([^,]*),") do
          field = field:gsub("^%s+", ""):gsub("%s+$", "")
          if field ~= "" and not field:find('"', 1, true) then
            local idx
            for i, col in ipairs(r.columns) do idx = idx or (r.rows[1][col] == field and i) end
            assert.truthy(vals[field] or idx, field)
          end
        end
      end)
    end
  end)

  describe("requests", function()
    -- builds params from a request sample: child elements become params (repeated ones arrays),
    -- attributes of the root become params too (NewBackup servicePlan="...")
    local function to_params(node)
      local p = {}
      for k, v in pairs(node.attrs) do p[k] = v end
      local counts_ = {}
      for _, k in ipairs(node.kids) do counts_[k.name] = (counts_[k.name] or 0) + 1 end
      for _, k in ipairs(node.kids) do
        local v
        if #k.kids > 0 then v = to_params(k) else v = (k.text:gsub("^%s+", ""):gsub("%s+$", "")) end
        if counts_[k.name] > 1 then
          p[k.name] = p[k.name] or {}
          table.insert(p[k.name], v)
        else
          p[k.name] = v
        end
      end
      return p
    end

    local function canon(node)
      local t = { name = node.name, attrs = node.attrs, kids = {} }
      if #node.kids == 0 then t.text = (node.text:gsub("^%s+", ""):gsub("%s+$", "")) end
      for i, k in ipairs(node.kids) do t.kids[i] = canon(k) end
      return t
    end

    local function capture(op, params, copts)
      local sent
      local cc = client(function(req)
        sent = req
        return { status = 200, headers = {}, body = '<Status><result>SUCCESS</result><resultDetail>ok</resultDetail><resultCode>REASON_0</resultCode></Status>' }
      end, copts)
      local entry = cc.operations[op]
      for _, spec in ipairs(entry.params) do
        if spec.location == "path" and params[spec.name] == nil then params[spec.name] = "x-" .. spec.name end
      end
      local res, err = cc:call(op, params)
      return sent, res, err
    end

    -- template samples whose printed values are descriptions, not values (the client validates them)
    local TEMPLATE = { create_acl_rule = "action", create_probe = "probeIntervalSeconds" }

    for _, f in ipairs(list_dir("%.request%.xml$")) do
      local op = f:match("^([%w_]+)%.")
      it("puts the " .. f .. " sample on the wire", function()
        local body = fixture(f)
        local doc = assert(simmod.xml_parse(body))
        local params = to_params(doc)
        -- the namespace base printed with the sample (opscale in most, opsource in 5.17)
        local base = doc.ns and doc.ns:match("^(.*/)[^/]+$") or "http://oec.api.opscale.net/schemas/"
        local sent, res, err = capture(op, params, { namespace = base })
        if TEMPLATE[op] then
          assert.is_nil(sent)
          assert.equal("validation", err.kind)
          assert.equal(TEMPLATE[op], err.param)
          return
        end
        assert.is_nil(err)
        assert.truthy(res)
        assert.equal("POST", sent.method)
        assert.equal("application/xml", sent.headers["Content-Type"])
        local wire = assert(simmod.xml_parse(sent.body))
        assert.same(canon(doc), canon(wire))
        if doc.ns then assert.equal(doc.ns, wire.ns) end
      end)
    end

    it("sends the backup bodies with the configured namespace base", function()
      local sent = capture("enable_server_backup", { servicePlan = "Advanced" })
      local wire = assert(simmod.xml_parse(sent.body))
      assert.equal("http://oec.api.opsource.net/schemas/backup", wire.ns)
      assert.equal("Advanced", wire.attrs.servicePlan)
      assert.same({}, wire.kids)
    end)

    local function query_pairs(url)
      local q = url:match("%?(.*)$") or ""
      local out = {}
      for part in q:gmatch("[^&]+") do
        local k, v = part:match("^([^=]*)=?(.*)$")
        out[#out + 1] = { core.urldecode(k), core.urldecode(v) }
      end
      return out
    end

    -- section 1.8.3 sample request URLs of List Servers (With Parameters) - Backup
    local URLS = {
      { "/oec/0.9/{org-id}/serverWithBackup", {} },
      { "/oec/0.9/{org-id}/serverWithBackup?pageSize=100&pageNumber=2", { pageSize = 100, pageNumber = 2 } },
      { "/oec/0.9/{org-id}/serverWithBackup?pageNumber=2&orderBy=location.DESCENDING,name",
        { pageNumber = 2, orderBy = "location.DESCENDING,name" } },
      { "/oec/0.9/{org-id}/serverWithBackup?orderBy=name&deployed=false&location=NA1",
        { orderBy = "name", deployed = false, location = "NA1" } },
      { "/oec/0.9/{org-id}/serverWithBackup?deployed=true&networkId=c01fce97-00c7-11e2-b29c-001517c4643e",
        { deployed = true, networkId = "c01fce97-00c7-11e2-b29c-001517c4643e" } },
    }
    for i, u in ipairs(URLS) do
      it("builds the sample paging URL #" .. i .. " of section 1.8.3", function()
        local sent = capture("list_servers_with_backup", u[2])
        local want = "https://api-na.dimensiondata.com" .. u[1]:gsub("{org%-id}", ORG)
        assert.equal(want:match("^[^?]*"), sent.url:match("^[^?]*"))
        assert.same(query_pairs(want), query_pairs(sent.url))
        assert.equal("GET", sent.method)
      end)
    end

    it("repeats a filter for IN and sends action flags bare", function()
      local sent = capture("list_servers_with_backup", { _raw = { location = { "NA1", "NA2" } } })
      assert.same({ { "location", "NA1" }, { "location", "NA2" } }, query_pairs(sent.url))
      sent = capture("add_storage_to_server", { server_id = "s1", amount = 10 })
      assert.equal("https://api-na.dimensiondata.com/oec/0.9/" .. ORG .. "/server/s1?addLocalStorage&amount=10", sent.url)
      sent = capture("delete_server", { server_id = "s1" })
      assert.equal("https://api-na.dimensiondata.com/oec/0.9/" .. ORG .. "/server/s1?delete", sent.url)
    end)

    it("percent-encodes the clone name and description (5.16)", function()
      local sent = capture("clone_server_to_customer_image", { server_id = "s1", clone = "My Image #1", desc = "web+db; v=2" })
      assert.same({ { "clone", "My Image #1" }, { "desc", "web+db; v=2" } }, query_pairs(sent.url))
      assert.falsy(sent.url:find(" ", 1, true))
      assert.falsy(sent.url:find("#", 1, true))
    end)

    it("sends modifications as form parameters, repeating role (2.3)", function()
      local sent = capture("update_administrator_account", { userName = "jpublic", role = { "create image", "server" } })
      assert.equal("application/x-www-form-urlencoded", sent.headers["Content-Type"])
      assert.same({ role = { "create image", "server" } }, core.query_decode(sent.body))
      assert.truthy(sent.url:match("/account/jpublic$"))
      sent = capture("modify_server", { server_id = "s1", memory = 2048, cpuCount = 2 })
      assert.same({ cpuCount = "2", memory = "2048" }, core.query_decode(sent.body))
    end)

    it("sends the Basic credentials pre-emptively", function()
      local sent = capture("list_software_labels", {})
      assert.equal("Basic " .. core.b64encode("jpublic:secret-pw"), sent.headers.Authorization)
    end)
  end)
end)
