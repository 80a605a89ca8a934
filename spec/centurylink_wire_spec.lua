-- The bytes on the wire against the document's samples, structurally (spec/fixtures/centurylink holds
-- the REST samples of shared/seeds/centurylink-cloud-api-v1.txt, see REPAIRS.md):
-- * requests: every sample's values, given as call params, go out as the sample shows them: the XML
--   element order, repeated elements, attributes vs elements; JSON as decoded values in the
--   catalog's types. The sample is sent as printed: no dummy values fill in what it leaves out.
-- * answers: every leaf value of every sample answer reaches the result at the place the sample has
--   it, and the documented lists (empty and one-item too) are arrays.
local luacloud = require "luacloud"
local core = require "luacloud.core"
local catalog = require "luacloud.catalog.centurylink"
local samples = require "spec.support.centurylink_fixtures"
local xml_tree = require "spec.support.xml_tree"

local ENDPOINT = "https://api.ctl.io"
local ARRAY = core.array_mt
local fixture, ids = samples.fixture, samples.ids

-- an order-keeping reader (the core's decoder folds children into keys), apart from what it checks
local function parse_xml(text) return assert(xml_tree.parse(text)) end
local function same_tree(want, got, name)
  local d = xml_tree.diff(want, got)
  assert(d == nil, name .. ": " .. tostring(d))
end

---------------------------------------------------------------------------------------------
-- Requests
---------------------------------------------------------------------------------------------

local OK_JSON = '{"Success":true,"Message":"OK","StatusCode":0}'
local OK_XML = '<R Success="true" Message="OK" StatusCode="0" />'
local LOGON_OK = '{"Success":true,"Message":"Login Successful","StatusCode":0}'

-- a client that answers Logon and then `answer`, keeping what it sent
local function capturing(fmt, answer, sent, extra)
  local opts = { api_key = "key", password = "pw", endpoint = ENDPOINT, format = fmt,
    transport = function(req)
      sent[#sent + 1] = req
      if req.url:find("/REST/Auth/Logon/", 1, true) and answer ~= "LOGON" then
        return { status = 200, headers = { ["set-cookie"] = "Tier3.API.Cookie=S; path=/" }, body = LOGON_OK }
      end
      return { status = 200, headers = {}, body = answer == "LOGON" and LOGON_OK or answer }
    end }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(luacloud.new("centurylink", opts))
end

local function spec_of(entry, name)
  for _, p in ipairs(entry.params) do if p.name == name then return p end end
end

-- call params from an XML sample, read with the catalog's list shapes
local function params_from_xml(entry, doc)
  local p = {}
  for _, kid in ipairs(doc.children) do
    local spec = assert(spec_of(entry, kid.name), entry.name .. ": the sample has <" .. kid.name .. ">, the catalog not")
    if spec.type == "array" then
      p[kid.name] = p[kid.name] or {}
      local items = (spec.xml and spec.xml.item) and kid.children or { kid }
      for _, it in ipairs(items) do
        if next(it.attrs) then p[kid.name][#p[kid.name] + 1] = it.attrs
        elseif #it.children > 0 then
          local rec = {}
          for _, f in ipairs(it.children) do rec[f.name] = f.text end
          p[kid.name][#p[kid.name] + 1] = rec
        else p[kid.name][#p[kid.name] + 1] = it.text end
      end
    else
      p[kid.name] = kid.text
    end
  end
  return p
end

local JSON_TYPE = { integer = "number", number = "number", boolean = "boolean", string = "string" }

-- sample and wire agree value by value; the wire has the catalog's types (the samples quote some)
local function same_json(sample, wire, spec, where)
  if type(sample) == "table" then
    assert.is_table(wire, where)
    if getmetatable(sample) == ARRAY then
      assert.equal(#sample, #wire, where .. ": list length")
      for i, v in ipairs(sample) do
        local item = spec and spec.items and { type = spec.items } or nil
        same_json(v, wire[i], item, where .. "[" .. i .. "]")
      end
    else
      for k, v in pairs(sample) do
        if v ~= core.null then same_json(v, wire[k], nil, where .. "." .. k) end
      end
      for k in pairs(wire) do assert(sample[k] ~= nil, where .. ": " .. tostring(k) .. " is not in the sample") end
    end
    return
  end
  assert(wire ~= nil, where .. " is missing from the wire")
  assert.equal(tostring(sample), tostring(wire), where)
  local want = spec and JSON_TYPE[spec.type or "string"]
  if want then assert.equal(want, type(wire), where .. ": JSON type") end
end

local function expected_url(entry, fmt)
  if entry.format_segment == false then return ENDPOINT .. entry.path end
  return ENDPOINT .. entry.path:gsub("{format}", fmt:upper())
end

describe("centurylink wire: documented sample requests", function()
  for _, id in ipairs(ids()) do
    local entry = catalog.operations[id]
    local xml_text, xml_name = fixture(id, "request", "xml")
    if xml_text then
      it(xml_name .. " goes on the wire as printed", function()
        local doc = parse_xml(xml_text)
        local sent = {}
        local c = capturing("xml", id == "logon" and "LOGON" or OK_XML, sent)
        local params = params_from_xml(entry, doc)
        local _, err = c:call(id, params)
        assert.is_nil(err)
        local req = sent[#sent]
        assert.equal(expected_url(entry, "xml"), req.url)
        assert.equal("text/xml", req.headers["Content-Type"])
        same_tree(doc, parse_xml(req.body), xml_name)
      end)
    end
    local json_text, json_name = fixture(id, "request", "json")
    if json_text then
      it(json_name .. " goes on the wire as printed", function()
        local sample = assert(core.json_decode(json_text))
        local params = {}
        for k, v in pairs(sample) do if v ~= core.null then params[k] = v end end
        local sent = {}
        local c = capturing("json", id == "logon" and "LOGON" or OK_JSON, sent)
        local _, err = c:call(id, params)
        assert.is_nil(err)
        local req = sent[#sent]
        assert.equal(expected_url(entry, "json"), req.url)
        assert.equal("application/json; charset=utf-8", req.headers["Content-Type"])
        local wire = assert(core.json_decode(req.body))
        for k, v in pairs(sample) do
          if v ~= core.null then same_json(v, wire[k], spec_of(entry, k), json_name .. ":" .. k) end
        end
        for k in pairs(wire) do assert(sample[k] ~= nil and sample[k] ~= core.null, json_name .. ": " .. k .. " is not in the sample") end
      end)
    end
  end

  it("CreateServer and UpdateUser keep the XML sample's element order", function()
    for _, id in ipairs { "create_server", "update_user" } do
      local sent = {}
      local doc = parse_xml((fixture(id, "request", "xml")))
      assert(capturing("xml", OK_XML, sent):call(id, params_from_xml(catalog.operations[id], doc)))
      local names, want = {}, {}
      for i, k in ipairs(parse_xml(sent[#sent].body).children) do names[i] = k.name end
      for i, k in ipairs(doc.children) do want[i] = k.name end
      assert.same(want, names)
    end
  end)

  it("request lists are repeated children, one-item lists and single records too", function()
    local sent = {}
    local c = capturing("xml", OK_XML, sent)
    assert(c:create_user { UserName = "u", AccountAlias = "A", EmailAddress = "e", FirstName = "f", LastName = "l",
      Roles = { 8 } })
    local roles
    for _, k in ipairs(parse_xml(sent[#sent].body).children) do if k.name == "Roles" then roles = k end end
    assert.equal(1, #roles.children)
    same_tree({ name = "int", attrs = {}, children = {}, text = "8" }, roles.children[1], "Roles")
    assert(c:deploy_blueprint { ID = 1, Parameters = { Name = "T3.X", Value = "v" } })
    local doc = parse_xml(sent[#sent].body)
    assert.equal("Parameters", doc.children[2].name)
    assert.same({ Name = "T3.X", Value = "v" }, doc.children[2].children[1].attrs)
    assert(c:get_blueprints { OperatingSystems = {}, Visibility = 1 })
    doc = parse_xml(sent[#sent].body)
    assert.equal("OperatingSystems", doc.children[1].name)
    assert.equal(0, #doc.children[1].children)
  end)

  it("GetDeploymentStatus goes out without AccountAlias, as in the document's samples", function()
    local sent = {}
    assert(capturing("json", OK_JSON, sent):get_deployment_status { RequestID = 1, LocationAlias = "WA1" })
    assert.same({ RequestID = 1, LocationAlias = "WA1" }, core.json_decode(sent[#sent].body))
  end)

  it("a per-call format is the call's own: light threads sharing a client each keep theirs", function()
    local pending = {}
    local c = assert(luacloud.new("centurylink", { api_key = "k", password = "p", endpoint = ENDPOINT,
      transport = function(req)
        if req.url:find("/Auth/Logon/", 1, true) then
          return { status = 200, headers = { ["set-cookie"] = "Tier3.API.Cookie=S; path=/" }, body = LOGON_OK }
        end
        -- the answer comes back only after the other thread has sent its request
        coroutine.yield()
        local xml = req.url:find("/XML$") ~= nil
        pending[#pending + 1] = { url = req.url, ctype = req.headers["Content-Type"], body = req.body }
        return { status = 200, headers = {},
          body = xml and '<R Success="true" Message="x" StatusCode="0"><RequestID>7</RequestID></R>'
                     or '{"Success":true,"Message":"j","StatusCode":0,"RequestID":8}' }
      end }))
    assert(c:logon {})
    local res = {}
    local a = coroutine.create(function() res.a = { c:archive_server { Name = "S", format = "XML" } } end)
    local b = coroutine.create(function() res.b = { c:archive_server { Name = "S" } } end)
    assert(coroutine.resume(a))
    assert(coroutine.resume(b))
    assert(coroutine.resume(a))
    assert(coroutine.resume(b))
    assert.equal(7, res.a[1].RequestID)
    assert.equal(8, res.b[1].RequestID)
    assert.equal("text/xml", pending[1].ctype)
    assert.equal(catalog.operations.archive_server.xml_root, parse_xml(pending[1].body).name)
    assert.equal("application/json; charset=utf-8", pending[2].ctype)
    assert.same({ Name = "S" }, core.json_decode(pending[2].body))
  end)
end)

---------------------------------------------------------------------------------------------
-- Answers
---------------------------------------------------------------------------------------------

local function scalar_equal(sample, got)
  if got == nil then return false end
  if type(got) == "boolean" then return tostring(got) == tostring(sample):lower() end
  local a, b = tonumber(sample), tonumber(got)
  if a and b then return a == b end
  return tostring(sample) == tostring(got)
end

-- every leaf of a JSON sample is at the same place in the result; lists are arrays as long
local function walk_json(sample, got, where)
  if type(sample) ~= "table" then
    if sample == core.null then return end
    assert(scalar_equal(sample, got), ("%s: %s in the sample, %s in the result"):format(where, tostring(sample), tostring(got)))
    return
  end
  assert(type(got) == "table", where .. ": missing from the result")
  if getmetatable(sample) == ARRAY then
    assert(getmetatable(got) == ARRAY, where .. ": not an array")
    assert.equal(#sample, #got, where .. ": length")
  end
  for k, v in pairs(sample) do walk_json(v, got[k], where .. "." .. tostring(k)) end
end

-- the same for an XML sample, read with the catalog's answer shapes: attributes and leaf elements
-- are keys, xml_items wrappers and xml_repeated elements are arrays of their items
local function walk_xml(r, node, got, where)
  assert(type(got) == "table", where .. ": missing from the result")
  for k, v in pairs(node.attrs) do
    if not k:match("^xmlns") then
      assert(scalar_equal(v, got[k]), ("%s@%s: %q in the sample, %s in the result"):format(where, k, v, tostring(got[k])))
    end
  end
  local xi, xr, ren = r.xml_items or {}, r.xml_repeated or {}, r.xml_rename or {}
  local seen = {}
  for _, kid in ipairs(node.children) do
    local name = kid.name
    if xi[name] then
      local list = got[ren[name] or name]
      local at = where .. "." .. name
      assert(type(list) == "table" and getmetatable(list) == ARRAY, at .. ": not an array")
      local items = {}
      for _, it in ipairs(kid.children) do items[#items + 1] = it end
      if #items == 0 and next(kid.attrs) then items = { kid } end -- an item written under the wrapper's name
      assert.equal(#items, #list, at .. ": length")
      for i, it in ipairs(items) do
        if #it.children == 0 and not next(it.attrs) then
          assert(scalar_equal(it.text, list[i]), at .. "[" .. i .. "]")
        else
          walk_xml(r, it, list[i], at .. "[" .. i .. "]")
        end
      end
    elseif xr[name] then
      seen[name] = (seen[name] or 0) + 1
      local list = got[xr[name]]
      local at = where .. "." .. name .. "#" .. seen[name]
      assert(type(list) == "table" and getmetatable(list) == ARRAY, at .. ": not an array")
      if next(kid.attrs) or #kid.children > 0 then
        -- the wrapped spelling (<IPAddresses><IPAddress/>..</IPAddresses>) holds its items
        if not next(kid.attrs) and #kid.children > 0 and #kid.children[1].children == 0 and next(kid.children[1].attrs) then
          for i, it in ipairs(kid.children) do walk_xml(r, it, list[i], at .. "[" .. i .. "]") end
        else
          walk_xml(r, kid, list[seen[name]], at)
        end
      end
    elseif #kid.children == 0 and not next(kid.attrs) then
      local text = kid.text
      if text ~= "" then
        assert(scalar_equal(text, got[ren[name] or name]), ("%s.%s: %q in the sample, %s in the result"):format(
          where, name, text, tostring(got[ren[name] or name])))
      end
    else
      walk_xml(r, kid, got[ren[name] or name], where .. "." .. name)
    end
  end
end

describe("centurylink wire: documented sample answers", function()
  for _, id in ipairs(ids()) do
    local entry = catalog.operations[id]
    for _, fmt in ipairs { "json", "xml" } do
      local text, name = fixture(id, "response", fmt)
      if text and id ~= "logon" then
        it(name .. ": every value reaches the result", function()
          local c = capturing(fmt, text, {}, { dry_run = false })
          -- the answer is canned: the params only have to pass validation
          local params = {}
          for _, spec in ipairs(entry.params or {}) do
            if spec.required then
              params[spec.name] = spec.enum and spec.enum[1] or spec.type == "integer" and 1 or spec.type == "boolean" and true
                or spec.type == "array" and { 1 } or "X"
            end
          end
          if id == "deploy_blueprint" then params.Parameters = { { Name = "a", Value = "b" } } end
          local res, err = c:call(id, params)
          assert.is_nil(err)
          if fmt == "json" then
            walk_json(assert(core.json_decode(text)), res, name)
          else
            walk_xml(entry.response, parse_xml(text), res, name)
          end
        end)
      end
    end
  end

  it("lists of primitives are arrays of values: <Roles><int>8</int><int>9</int></Roles>, one item, none", function()
    local function roles(body)
      local res = assert(capturing("xml", body, {}):get_users { AccountAlias = "A" })
      return res.Users[1].Roles
    end
    local function users(inner)
      return '<UserListResponse Success="true" Message="m" StatusCode="0"><Users><UserDetails UserName="u">'
        .. inner .. '</UserDetails></Users></UserListResponse>'
    end
    local two = roles(users("<Roles><int>8</int><int>9</int></Roles>"))
    assert.same({ 8, 9 }, two)
    assert.equal(ARRAY, getmetatable(two))
    local one = roles(users("<Roles><int>8</int></Roles>"))
    assert.same({ 8 }, one)
    assert.equal(ARRAY, getmetatable(one))
    local none = roles(users("<Roles />"))
    assert.same({}, none)
    assert.equal(ARRAY, getmetatable(none))
  end)
end)

---------------------------------------------------------------------------------------------
-- The simulator reads requests as a DataContract server does
---------------------------------------------------------------------------------------------

describe("centurylink wire: the simulator reads the documented requests", function()
  local Sim = require "luacloud.sim.centurylink"
  local function sim_client(fmt)
    local sim = Sim.new { now = function() return 1354000000 end }
    local answers = {}
    local function transport(req)
      local h = {}
      for k, v in pairs(req.headers or {}) do h[k:lower()] = v end
      local status, _, body = sim:handle { method = req.method, path = req.url:gsub("^https?://[^/]+", ""),
        headers = h, body = req.body }
      answers[#answers + 1] = body
      return { status = status, headers = {}, body = body }
    end
    return assert(luacloud.new("centurylink", { api_key = "demo-api-key", password = "demo-password",
      endpoint = "http://sim.test", format = fmt, transport = transport, retries = 0 })), sim, answers
  end

  for _, id in ipairs(ids()) do
    local entry = catalog.operations[id]
    local text, name = fixture(id, "request", "xml")
    if text and id ~= "logon" then
      it(name .. ": the simulator takes the client's XML body (never 'Invalid Request Format')", function()
        local c = sim_client("xml")
        local _, err = c:call(id, params_from_xml(entry, parse_xml(text)))
        assert(not (err and err.code == 3), name .. ": " .. tostring(err))
      end)
    end
  end

  it("refuses an XML body under another root element than the operation's contract", function()
    local _, sim = sim_client("xml")
    local _, _, logon = sim:handle { method = "POST", path = "/REST/Auth/Logon/", headers = { ["content-type"] = "text/xml" },
      body = "<Logon><APIKey>demo-api-key</APIKey><Password>demo-password</Password></Logon>" }
    assert.truthy(logon:find('StatusCode="3"', 1, true))
    local status, headers, ok = sim:handle { method = "POST", path = "/REST/Auth/Logon/", headers = { ["content-type"] = "text/xml" },
      body = "<LogonRequest><APIKey>demo-api-key</APIKey><Password>demo-password</Password></LogonRequest>" }
    assert.equal(200, status)
    assert.truthy(ok:find('StatusCode="0"', 1, true))
    local cookie = (headers["Set-Cookie"] or headers["set-cookie"]):match("^([^;]+)")
    local _, _, wrong = sim:handle { method = "POST", path = "/REST/Group/GetGroups/XML",
      headers = { ["content-type"] = "text/xml", cookie = cookie }, body = "<GetGroups><Location>WA1</Location></GetGroups>" }
    assert.truthy(wrong:find('StatusCode="3"', 1, true))
    local _, _, right = sim:handle { method = "POST", path = "/REST/Group/GetGroups/XML",
      headers = { ["content-type"] = "text/xml", cookie = cookie },
      body = "<" .. catalog.operations.get_groups.xml_root .. "><Location>WA1</Location></" .. catalog.operations.get_groups.xml_root .. ">" }
    assert.truthy(right:find('StatusCode="0"', 1, true))
  end)
end)
