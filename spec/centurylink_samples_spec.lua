-- The document's REST samples through the client (spec/fixtures/centurylink, REPAIRS.md):
-- * every sample response decodes, through the client's decode path of its operation and in its
--   own format, into a table holding every value of the sample (read independently of the client),
--   with the documented lists as arrays of the right length;
-- * the request samples are checked structurally in centurylink_wire_spec.lua; here the Logon body.
local luacloud = require "luacloud"
local core = require "luacloud.core"
local catalog = require "luacloud.catalog.centurylink"
local samples = require "spec.support.centurylink_fixtures"

local ENDPOINT = "https://api.ctl.io"
local fixture, ids = samples.fixture, samples.ids

local LOGON_OK = '{"Success":true,"Message":"Login Successful","StatusCode":0}'

-- A client whose transport answers Logon, then `body` for every other call; sent requests are kept.
local function client_with(fmt, body, sent)
  return assert(luacloud.new("centurylink", {
    api_key = "key", password = "pw", endpoint = ENDPOINT, format = fmt,
    transport = function(req)
      sent[#sent + 1] = req
      if req.url:find("/REST/Auth/Logon/", 1, true) and body ~= "LOGON" then
        return { status = 200, headers = { ["set-cookie"] = "Tier3.API.Cookie=Seed=abc; path=/; HttpOnly" }, body = LOGON_OK }
      end
      return { status = 200, headers = {}, body = body == "LOGON" and LOGON_OK or body }
    end,
  }))
end

-- Dummy values for the required parameters of an entry (the answer is canned).
local function dummy_params(entry)
  local p = {}
  for _, spec in ipairs(entry.params or {}) do
    if spec.required then
      if spec.enum then p[spec.name] = spec.enum[1]
      elseif spec.type == "integer" then p[spec.name] = 1
      elseif spec.type == "boolean" then p[spec.name] = true
      elseif spec.type == "array" then
        p[spec.name] = spec.fields and { { [spec.fields[1]] = "a", [spec.fields[2]] = "b" } } or { 2 }
      else p[spec.name] = "X" end
    end
  end
  return p
end

-- numbers compare by value: XML "1722.4500" is the JSON 1722.45
local function norm(v)
  local n = tonumber(v)
  if n and type(v) ~= "boolean" then return tostring(n) end
  return tostring(v)
end

-- Every (name, value) pair anywhere in a decoded result, as a multiset; scalar list items count as ("[]", value).
local function flatten(t, bag)
  bag = bag or {}
  for k, v in pairs(t) do
    if type(v) == "table" and v ~= core.null then
      flatten(v, bag)
    elseif v ~= core.null then
      local key = (type(k) == "string" and k or "[]") .. "\0" .. norm(v)
      bag[key] = (bag[key] or 0) + 1
    end
  end
  return bag
end

local function unescape(s)
  return (s:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&apos;", "'"):gsub("&amp;", "&"))
end

-- Independent reading of an XML sample (patterns, no parser): attributes and leaf elements.
local function xml_pairs(text)
  local out = {}
  text = text:gsub("<%?.-%?>", "")
  for tag in text:gmatch("<(%w[^>]*)>") do
    for name, value in tag:gmatch('([%w:]+)%s*=%s*"([^"]*)"') do out[#out + 1] = { name, unescape(value) } end
  end
  for name, value in text:gmatch("<(%w+)>([^<]*)</%1>") do
    local v = unescape(value):gsub("^%s+", ""):gsub("%s+$", "")
    if v ~= "" then out[#out + 1] = { (name == "string" or name == "int") and "[]" or name, v } end
  end
  return out
end

-- Independent reading of a JSON sample: scalar pairs of the plainly decoded document.
local function json_pairs(text)
  local v = assert(core.json_decode(text))
  local bag = flatten(v)
  local out = {}
  for key, n in pairs(bag) do
    local name, value = key:match("^(.-)%z(.*)$")
    for _ = 1, n do out[#out + 1] = { name, value } end
  end
  return out
end

local function get_path(t, path)
  for k in path:gmatch("[^%.]+") do
    if type(t) ~= "table" then return nil end
    t = t[k]
  end
  return t
end

-- how many items the sample lists at the entry's items path
local function sample_count(entry, text, fmt)
  local r = entry.response
  if fmt == "json" then
    local v = assert(core.json_decode(text))
    local list = get_path(v, r.items)
    if list == core.null or list == nil then return 0 end
    return #list
  end
  local wrapper = r.items:match("([^%.]+)$")
  for xml_name, json_name in pairs(r.xml_rename or {}) do if json_name == wrapper then wrapper = xml_name end end
  local item = r.xml_items and r.xml_items[wrapper]
  local body = text:match("<" .. wrapper .. "%s*>(.-)</" .. wrapper .. ">")
  if not body then return 0 end
  local n = 0
  for _ in body:gmatch("<" .. item .. "[%s/>]") do n = n + 1 end
  return n
end

describe("centurylink samples: responses", function()
  for _, id in ipairs(ids()) do
    local entry = catalog.operations[id]
    for _, fmt in ipairs { "json", "xml" } do
      local text, name = fixture(id, "response", fmt)
      if text then
        it(name .. " decodes through " .. id .. " holding every value", function()
          local sent = {}
          local c = client_with(fmt, id == "logon" and "LOGON" or text, sent)
          local params = dummy_params(entry)
          if id == "logon" then params = { APIKey = "key", Password = "pw" } end
          local res, err = c:call(id, params)
          assert.is_nil(err)
          assert.is_table(res)
          -- the call went to the operation's URL in the sample's format
          local last = sent[#sent]
          if entry.format_segment ~= false then
            assert.equal(ENDPOINT .. entry.path:gsub("{format}", fmt:upper()), last.url)
          end
          assert.equal(fmt == "xml" and "text/xml" or "application/json; charset=utf-8", last.headers["Content-Type"])
          if id ~= "logon" then
            local bag = flatten(res)
            local expected = fmt == "xml" and xml_pairs(text) or json_pairs(text)
            assert.is_true(#expected > 0)
            for _, pv in ipairs(expected) do
              local key = pv[1] .. "\0" .. norm(pv[2])
              assert(bag[key] and bag[key] > 0,
                ("%s: value %s=%q of the sample is missing from the result"):format(name, pv[1], pv[2]))
              bag[key] = bag[key] - 1
            end
            assert.is_true(res.Success)
            assert.equal(0, res.StatusCode)
            -- documented lists are arrays, as long as in the sample
            if entry.response.items then
              local list = get_path(res, entry.response.items)
              assert.is_table(list)
              assert.equal(core.array_mt, getmetatable(list))
              assert.equal(sample_count(entry, text, fmt), #list)
            end
          else
            assert.equal("Login Successful", res.Message)
          end
        end)
      end
    end
  end

  it("XML wrapper/item lists and unwrapped repeats become arrays like the JSON ones", function()
    local sent = {}
    local x = client_with("xml", (fixture("get_servers", "response", "xml")), sent)
    local j = client_with("json", (fixture("get_servers", "response", "json")), sent)
    local rx = assert(x:get_servers { HardwareGroupUUID = "g" })
    local rj = assert(j:get_servers { HardwareGroupUUID = "g" })
    assert.equal(#rj.Servers, #rx.Servers)
    for i = 1, #rx.Servers do
      assert.equal(rj.Servers[i].Name, rx.Servers[i].Name)
      assert.equal(#rj.Servers[i].IPAddresses, #rx.Servers[i].IPAddresses)
      assert.equal(#rj.Servers[i].CustomFields, #rx.Servers[i].CustomFields)
    end
    assert.equal(0, #rx.Servers[2].CustomFields) -- <CustomFields /> is an empty list
    local roles = assert(client_with("xml", (fixture("get_user_details", "response", "xml")), sent):get_user_details {
      AccountAlias = "A", UserName = "u" })
    assert.same({ 8 }, roles.UserDetails.Roles)
    local q = assert(client_with("xml", (fixture("get_request_status", "response", "xml")), sent):get_request_status {
      RequestID = 50 })
    assert.equal(100, q.RequestDetails.PercentComplete)
    assert.equal(50, q.RequestDetails.RequestID)
  end)

  it("XML values get the JSON types of their fields", function()
    local sent = {}
    local x = assert(client_with("xml", (fixture("get_servers", "response", "xml")), sent):get_servers {
      HardwareGroupUUID = "g" }).Servers[1]
    assert.equal(2, x.Cpu)
    assert.equal(math.type and "integer" or "number", math.type and math.type(x.Cpu) or type(x.Cpu))
    assert.is_false(x.IsTemplate)
    assert.equal("Active", x.Status)
    assert.equal("9f4150b68d4340cca652a209a4b32c34", x.CustomFields[1].ID)
    local sum = assert(client_with("xml", (fixture("get_account_summary", "response", "xml")), sent):get_account_summary {
      AccountAlias = "A" })
    assert.equal(161.87, sum.MonthlyEstimate)
    assert.equal(0.2236, sum.CurrentHour)
    local acct = assert(client_with("xml", (fixture("get_account_details", "response", "xml")), sent):get_account_details {
      AccountAlias = "A" }).AccountDetails
    assert.equal(2, acct.Status)
    assert.is_true(acct.ShareParentNetworks)
    assert.equal("1001", acct.AccountAlias)
  end)

  it("hierarchy IPAddresses decode in the sample's unwrapped form and in the wrapped form", function()
    local body = [[<GetAccountHierarchyServersResponse Success="true" Message="m" StatusCode="0"><AccountServers>
      <AccountServerGroup AccountAlias="A"><Servers>
        <Server Name="S1"><IPAddresses><IPAddress Address="1.1.1.1" AddressType="RIP"/><IPAddress Address="2.2.2.2" AddressType="MIP"/></IPAddresses></Server>
        <Server Name="S2"><IPAddresses Address="3.3.3.3" AddressType="RIP"/><IPAddresses Address="4.4.4.4" AddressType="MIP"/></Server>
      </Servers></AccountServerGroup></AccountServers></GetAccountHierarchyServersResponse>]]
    local r = assert(client_with("xml", body, {}):get_all_servers_for_account_hierarchy {})
    local s = r.AccountServers[1].Servers
    assert.same({ "1.1.1.1", "2.2.2.2" }, { s[1].IPAddresses[1].Address, s[1].IPAddresses[2].Address })
    assert.same({ "3.3.3.3", "4.4.4.4" }, { s[2].IPAddresses[1].Address, s[2].IPAddresses[2].Address })
  end)

  it("RequestID is read both as a child element and as an attribute", function()
    local sent = {}
    local a = assert(client_with("xml", (fixture("archive_server", "response", "xml")), sent):archive_server { Name = "S" })
    local b = assert(client_with("xml", (fixture("add_public_ip_address", "response", "xml")), sent):add_public_ip_address {
      ServerName = "S" })
    assert.equal(1, a.RequestID)
    assert.equal(1, b.RequestID)
  end)
end)

describe("centurylink samples: requests on the wire", function()
  it("Logon puts the documented JSON and XML bodies on the wire", function()
    for _, fmt in ipairs { "json", "xml" } do
      local sent = {}
      local c = client_with(fmt, fmt == "xml" and '<R Success="true" Message="OK" StatusCode="0" />'
        or '{"Success":true,"Message":"OK","StatusCode":0}', sent)
      assert(c:get_locations())
      local logon = sent[1]
      assert.equal(ENDPOINT .. "/REST/Auth/Logon/", logon.url)
      if fmt == "json" then
        assert.same({ APIKey = "key", Password = "pw" }, core.json_decode(logon.body))
      else
        assert.equal("<LogonRequest><APIKey>key</APIKey><Password>pw</Password></LogonRequest>", logon.body)
      end
      assert.equal("Tier3.API.Cookie=Seed=abc", sent[2].headers.Cookie)
    end
  end)
end)
