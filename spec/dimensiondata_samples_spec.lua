-- The samples printed in the Dimension Data API document, run through the client:
--   * every response sample decodes through the client's decode hook into a table that holds every
--     value (element text and attribute) of the sample;
--   * every documented request (XML bodies, the paging URLs of section 1.8.3, flag URLs, form bodies)
--     is what the client puts on the wire, captured with the `transport` option.
-- Fixtures: spec/fixtures/dimensiondata (REPAIRS.md says what was repaired and why).
local luacloud = require("luacloud")
local core = require("luacloud.core")
local simmod = require("luacloud.sim.dimensiondata") -- only for its independent pure-Lua XML parser
local values = require("spec.support.xml_values")

local DIR = "spec/fixtures/dimensiondata/"
local ORG = "1831c1a9-9c03-44df-a5a4-f2a4662d6bde"

local read = require("spec.support.sim").read

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
          if res == nil then
            -- only documented fault samples may fail
            assert.truthy(body:find("<[%w:]*result>ERROR<"), tostring(err))
            assert.equal("api", err.kind)
            res = { err.code, err.message, err.details }
          end
          assert.same({}, values.missing(body, res))
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

    it("reads the bare <Exists> answer as a boolean under the document's name", function()
      local r = assert(decode(c, "does_image_name_exist", fixture("does_image_name_exist.response.xml")))
      assert.same({ Exists = true }, r)
      r = assert(decode(c, "does_image_name_exist", '<ns2:Exists xmlns:ns2="http://oec.api.opsource.net/schemas/general">false</ns2:Exists>'))
      assert.same({ Exists = false }, r)
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

    -- element names, order, attributes, texts, and the namespace of every element when the sample
    -- prints one (the backup bodies are printed without; the client sends .../backup as the
    -- live service's clients do, see shared/notes/dimensiondata.md section 4)
    local function canon(node, with_ns)
      local t = { name = node.name, ns = with_ns and node.ns or nil, attrs = node.attrs, kids = {} }
      if #node.kids == 0 then t.text = (node.text:gsub("^%s+", ""):gsub("%s+$", "")) end
      for i, k in ipairs(node.kids) do t.kids[i] = canon(k, with_ns) end
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
    -- element -> a value its printed description allows
    local FILLED = {
      create_acl_rule = { action = "PERMIT" },
      create_probe = { name = "probe1", probeIntervalSeconds = "30", errorCountBeforeServerFail = "3",
        successCountBeforeServerEnable = "2", failedProbeIntervalSeconds = "45", maxReplyWaitSeconds = "10",
        lowerBound = "200", upperBound = "299", port = "8080", requestUrl = "/health", matchContent = "OK" },
    }
    local function fill_template(node, filled)
      if #node.kids == 0 and filled[node.name] then node.text = filled[node.name] end
      for _, k in ipairs(node.kids) do fill_template(k, filled) end
    end

    it("has a request sample for every operation with an XML body", function()
      local have = {}
      for _, f in ipairs(list_dir("%.request%.xml$")) do have[f:match("^([%w_]+)%.")] = true end
      local missing = {}
      for id, e in pairs(c.operations) do
        if e.body == "xml" and not have[id] then missing[#missing + 1] = id end
      end
      table.sort(missing)
      assert.same({}, missing)
    end)

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
          -- the same structure with values the descriptions allow
          fill_template(doc, FILLED[op])
          sent, res, err = capture(op, to_params(doc), { namespace = base })
        end
        assert.is_nil(err)
        assert.truthy(res)
        assert.equal("POST", sent.method)
        assert.equal("application/xml", sent.headers["Content-Type"])
        local wire = assert(simmod.xml_parse(sent.body))
        assert.same(canon(doc, doc.ns ~= nil), canon(wire, doc.ns ~= nil))
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

    -- a query as a multiset: the order of different parameters carries no meaning
    local function multiset(list)
      local out = {}
      for i, kv in ipairs(list) do out[i] = kv end
      table.sort(out, function(a, b) return a[1] .. "\0" .. a[2] < b[1] .. "\0" .. b[2] end)
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
        assert.same(multiset(query_pairs(want)), multiset(query_pairs(sent.url)))
        assert.equal("GET", sent.method)
      end)
    end

    it("repeats a filter for IN and sends action flags bare", function()
      local sent = capture("list_servers_with_backup", { _raw = { location = { "NA1", "NA2" } } })
      assert.same({ { "location", "NA1" }, { "location", "NA2" } }, query_pairs(sent.url))
      sent = capture("list_servers_with_backup", { location = { "NA1", "NA2" }, name = { "web", "db" } })
      assert.same(multiset({ { "location", "NA1" }, { "location", "NA2" }, { "name", "web" }, { "name", "db" } }),
        multiset(query_pairs(sent.url)))
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

  -- The "URL" and "Request Type" cells of every function section of the document
  -- (spec/fixtures/dimensiondata/sample_urls.tsv, extracted verbatim; checked against the seed below).
  describe("request URLs", function()
    local SEED = "../shared/seeds/dimensiondata-cloud-rest-api-0.9.txt"

    local function rows()
      local out = {}
      for line in (read(DIR .. "sample_urls.tsv") or ""):gmatch("[^\n]+") do
        local sec, method, lineno, cell = line:match("^([%d%.]+)\t(%u+)\t(%d+)\t(.*)$")
        if sec then out[sec] = { method = method, line = tonumber(lineno), cell = cell } end
      end
      return out
    end
    local ROWS = rows()

    -- templates and documented query keys of a URL cell; a bare flag (?delete) is a key without value
    local function parse_cell(cell)
      cell = cell:gsub("<Image Provider>", "{Image-Provider}"):gsub("<files%-account%-username>", "{files-account-username}")
      local t = { paths = {}, flags = {}, keys = {} }
      local seen = {}
      for u in cell:gmatch("https://<Cloud API URL>([^<\"%s]*)") do
        if not seen[u] then
          seen[u] = true
          local path, q = u:match("^([^?]*)%??(.*)$")
          t.paths[#t.paths + 1] = path
          local flags = {}
          for part in q:gmatch("[^&]+") do
            local k, eq = part:match("^([^=]+)(=?)")
            if eq == "" then flags[#flags + 1] = k else t.keys[k] = true end
          end
          t.flags[#t.paths] = flags
        end
      end
      for k in cell:gmatch("&([%w%.]+)=") do t.keys[k] = true end
      return t
    end

    local function esc(x) return (x:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end
    -- a Lua pattern for a URL template: {org-id} is the client's org id, other placeholders one segment
    local function template_pattern(path)
      local out, pos = {}, 1
      for a, ph, b in path:gmatch("()({[^}]*})()") do
        out[#out + 1] = esc(path:sub(pos, a - 1))
        out[#out + 1] = ph == "{org-id}" and esc(ORG) or "[^/]+"
        pos = b
      end
      out[#out + 1] = esc(path:sub(pos))
      return "^" .. table.concat(out) .. "$"
    end

    -- the smallest valid params: required ones only, each the first value its spec allows
    local function dummy(spec)
      if spec.enum then return spec.enum[1] end
      if spec.type == "integer" then return spec.min or 1 end
      if spec.type == "boolean" then return true end
      if spec.type == "array" then
        local n, a = spec.min_items or 1, {}
        for i = 1, n do a[i] = "v" .. i end
        return a
      end
      if spec.type == "table" then
        local t = {}
        for _, f in ipairs(spec.fields or {}) do if f.required then t[f.name] = dummy(f) end end
        return t
      end
      return string.rep("a", math.max(spec.min_len or 1, 1))
    end

    local function wire_of(op)
      local sent
      local cc = client(function(req)
        sent = req
        return { status = 200, headers = {}, body = "<Status><result>SUCCESS</result><resultCode>REASON_0</resultCode><resultDetail>ok</resultDetail></Status>" }
      end)
      local params = {}
      for _, spec in ipairs(cc.operations[op].params) do
        if spec.required or spec.location == "path" then
          params[spec.name] = (spec.location == "path" and not spec.enum) and ("P-" .. spec.name) or dummy(spec)
        end
      end
      local _, err = cc:call(op, params)
      return sent, err
    end

    it("every function section of the document is one row, as the seed prints it", function()
      local f = io.open(SEED, "rb")
      if not f then pending("the seed is not next to the repository (" .. SEED .. ")") return end
      local seed = {}
      for l in f:lines() do seed[#seed + 1] = l end
      f:close()
      local n = 0
      for sec, r in pairs(ROWS) do
        n = n + 1
        assert.equal("URL\t" .. r.cell, seed[r.line], sec)
        local typeline
        for i = r.line + 1, r.line + 6 do typeline = typeline or (seed[i]:match("^Request Type\tHTTP (%u+)")) end
        assert.equal(r.method, typeline, sec)
      end
      assert.equal(140, n)
    end)

    local ids = {}
    for id in pairs(require("luacloud.catalog.dimensiondata").operations) do ids[#ids + 1] = id end
    table.sort(ids)
    for _, op in ipairs(ids) do
      it("sends " .. op .. " to the document's URL with its method and flags", function()
        local entry = c.operations[op]
        local sec = entry.section:match("^([%d%.]+)")
        local row = assert(ROWS[sec], "no URL in the document for section " .. sec)
        local doc = parse_cell(row.cell)
        local sent, err = wire_of(op)
        assert.truthy(sent, "not sent: " .. tostring(err))
        assert.equal(row.method, sent.method)
        local rel = sent.url:sub(#"https://api-na.dimensiondata.com" + 1)
        local path, q = rel:match("^([^?]*)%??(.*)$")
        local which
        for i, p in ipairs(doc.paths) do which = which or (path:match(template_pattern(p)) and i) end
        assert.truthy(which, path .. " is none of " .. table.concat(doc.paths, " "))
        -- the query as a multiset: the document's bare flags sent bare, every other key documented
        local flags, keys = {}, {}
        for part in q:gmatch("[^&]+") do
          local k, eq = part:match("^([^=]+)(=?)")
          k = core.urldecode(k)
          if eq == "" then flags[#flags + 1] = k else keys[#keys + 1] = k end
        end
        table.sort(flags)
        local want = {}
        for i, fl in ipairs(doc.flags[which]) do want[i] = fl end
        table.sort(want)
        assert.same(want, flags)
        for _, k in ipairs(keys) do assert.truthy(doc.keys[k], "query key " .. k .. " is not in the document's URL") end
        -- section 1.5: XML bodies as application/xml, name-value modifications form-encoded, GETs bare
        local ctype = ({ xml = "application/xml", form = "application/x-www-form-urlencoded" })[entry.body]
        assert.equal(ctype, sent.headers["Content-Type"])
        if row.method == "GET" then assert.is_nil(sent.body) end
        if entry.body == "xml" then assert.truthy(simmod.xml_parse(sent.body)) end
        assert.equal("application/xml", sent.headers.Accept)
      end)
    end
  end)

  -- Beyond the values: the types the catalog promises, lists as arrays (also with one item or none)
  -- and every element that repeats in a sample promised as a list.
  describe("response shapes", function()
    local array_mt = core.array_mt

    local function each_pair(v, fn, path, seen)
      seen = seen or {}
      if type(v) ~= "table" or seen[v] then return end
      seen[v] = true
      for k, x in pairs(v) do
        local p = path and (path .. "." .. tostring(k)) or tostring(k)
        fn(k, x, p)
        each_pair(x, fn, p, seen)
      end
    end

    local function list_set(entry)
      local set = {}
      for _, l in ipairs(entry.response.lists or {}) do set[l:match("([^%.]+)$")] = true end
      if entry.response.items then set[entry.response.items:match("([^%.]+)$")] = true end
      return set
    end

    local function check_shape(entry, res)
      local lists = list_set(entry)
      each_pair(res, function(k, v, p)
        local t = type(v)
        if t == "number" then
          assert.truthy(p:match("^paging%.") or k == "code_number", "a number at " .. p)
        elseif t == "boolean" then
          assert.truthy(entry.response.text == "boolean" and p == entry.response.root, "a boolean at " .. p)
        elseif t ~= "string" and t ~= "table" then
          error("a " .. t .. " at " .. p)
        end
        if lists[k] and type(k) == "string" then
          assert.equal(array_mt, getmetatable(v), p .. " is a list of the catalog but not an array")
        end
      end)
    end

    local function copy_tree(n, keep)
      local t = { name = n.name, ns = n.ns, attrs = n.attrs, text = n.text, kids = {} }
      local seen = {}
      for _, k in ipairs(n.kids) do
        local ok = keep(k, seen[k.name])
        seen[k.name] = true
        if ok then t.kids[#t.kids + 1] = copy_tree(k, keep) end
      end
      return t
    end

    local function xesc(s) return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;")) end
    local function to_xml(n, parent_ns)
      local out = { "<" .. n.name }
      if n.ns and n.ns ~= parent_ns then out[#out + 1] = ' xmlns="' .. xesc(n.ns) .. '"' end
      local names = {}
      for k in pairs(n.attrs) do names[#names + 1] = k end
      table.sort(names)
      for _, k in ipairs(names) do out[#out + 1] = " " .. k .. '="' .. xesc(n.attrs[k]) .. '"' end
      out[#out + 1] = ">"
      if #n.kids == 0 then out[#out + 1] = xesc(n.text) end
      for _, k in ipairs(n.kids) do out[#out + 1] = to_xml(k, n.ns) end
      out[#out + 1] = "</" .. n.name .. ">"
      return table.concat(out)
    end

    local function repeated_names(n, out)
      out = out or {}
      local count = {}
      for _, k in ipairs(n.kids) do count[k.name] = (count[k.name] or 0) + 1 end
      for name, m in pairs(count) do if m > 1 then out[name] = true end end
      for _, k in ipairs(n.kids) do repeated_names(k, out) end
      return out
    end

    it("promises as lists every list element of the inventory (shared/operations/dimensiondata.tsv)", function()
      local f = io.open("../shared/operations/dimensiondata.tsv", "rb")
      if not f then pending("the inventory is not next to the repository") return end
      local missing = {}
      for line in f:lines() do
        local cols = {}
        for x in (line .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = x end
        local entry = c.operations[cols[1]]
        if entry and cols[11] and cols[11] ~= "" then
          local lists = list_set(entry)
          for l in cols[11]:gmatch("[^,%s]+") do
            if not lists[l:match("([^%.]+)$")] then missing[#missing + 1] = cols[1] .. ": " .. l end
          end
        end
      end
      f:close()
      assert.same({}, missing)
    end)

    for _, f in ipairs(list_dir("%.response%.xml$")) do
      local op = f:match("^(.-)%.response")
      local entry = c.operations[op]
      if entry then
        local body = fixture(f)
        local tree = simmod.xml_parse(body)

        it("decodes " .. f .. " into strings, arrays and the promised types", function()
          assert.truthy(tree, "the sample does not parse")
          local res, err = decode(c, op, body)
          if res == nil then assert.equal("api", err.kind) return end
          check_shape(entry, res)
          -- what repeats in the sample is a list of the catalog (else one item would not be an array)
          local lists = list_set(entry)
          local missing = {}
          for name in pairs(repeated_names(tree)) do if not lists[name] then missing[#missing + 1] = name end end
          table.sort(missing)
          assert.same({}, missing)
        end)

        local lists = list_set(entry)
        if tree and next(lists) and not body:find("<[%w:]*result>ERROR<") then
          it("keeps one-item lists of " .. f .. " as arrays of one", function()
            local one = to_xml(copy_tree(tree, function(k, again) return not (lists[k.name] and again) end))
            local res = assert(decode(c, op, one))
            check_shape(entry, res)
            -- at most one everywhere (a list absent under some parent is empty there), and the
            -- operation's items exactly one when the sample has any
            each_pair(res, function(k, v, p)
              if lists[k] and type(v) == "table" then assert.truthy(#v <= 1, p .. " has " .. #v) end
            end)
            local items = entry.response.items
            if items and body:find("<[%w]*:?" .. items:match("([^%.]+)$") .. "[%s>/]") then
              local v = res
              for key in items:gmatch("[^%.]+") do v = v[key] end
              assert.equal(1, #v, items)
            end
          end)

          local items = entry.response.items or (entry.response.status and "additionalInformation")
          if items then
            it("decodes " .. f .. " without any " .. items .. " into an empty array", function()
              local last = items:match("([^%.]+)$")
              local none = to_xml(copy_tree(tree, function(k) return k.name ~= last end))
              local res = assert(decode(c, op, none))
              local v = res
              for key in items:gmatch("[^%.]+") do v = v[key] end
              assert.equal(array_mt, getmetatable(v), items .. " is not an array")
              assert.equal(0, #v)
            end)
          end
        end
      end
    end
  end)
end)
