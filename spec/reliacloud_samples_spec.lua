-- The document's samples through the client: every sample response decodes, through the
-- client's decode path of its operation, into a table holding every value of the sample; the
-- signing example and the test vectors of the notes (§4.4) are what the client puts on the wire.
local luacloud = require "luacloud"
local core = require "luacloud.core"
local catalog = require "luacloud.catalog.reliacloud"

local DIR = "spec/fixtures/reliacloud/"
local DOC_ENDPOINT = "http://provisioning.reliacloud.com:8080/client/api"

local function read(name)
  local f = io.open(DIR .. name, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Independent reading of a sample (no XML parser): every leaf element as {lower name, trimmed text}.
local function xml_leaves(text)
  local out = {}
  for name, value in text:gmatch("<(%w+)>([^<]*)</%1>") do out[#out + 1] = { name:lower(), trim(value) } end
  return out
end

local function json_leaves(text)
  local out = {}
  for name, value in text:gmatch('"(%w+)"%s*:%s*"([^"]*)"') do out[#out + 1] = { name:lower(), value } end
  return out
end

-- Every (name, value) pair found anywhere in a decoded result, as a multiset.
local function flatten(t, bag)
  bag = bag or {}
  for k, v in pairs(t) do
    if type(v) == "table" then
      flatten(v, bag)
    elseif type(k) == "string" then
      local key = k:lower() .. "\0" .. tostring(v)
      bag[key] = (bag[key] or 0) + 1
    end
  end
  return bag
end

local function count_elements(text, name)
  local n = 0
  for _ in text:gmatch("<" .. name .. ">") do n = n + 1 end
  return n
end

-- Dummy values for the required parameters of an entry (the answer is canned anyway).
local function dummy_params(entry)
  local p = {}
  for _, spec in ipairs(entry.params) do
    if spec.required then
      if spec.enum then p[spec.name] = spec.enum[1]
      elseif spec.type == "integer" then p[spec.name] = 22
      elseif spec.type == "boolean" then p[spec.name] = true
      else p[spec.name] = "1" end
    end
  end
  return p
end

-- A client whose transport records the requests and answers `body` with status 200.
local function canned_client(body, opts)
  local sent = {}
  local o = { api_key = "demo-api-key", secret_key = "demo-secret-key", sleep = function() end,
    transport = function(req)
      sent[#sent + 1] = req
      return { status = 200, headers = { ["content-type"] = "text/xml" }, body = body or "" }
    end }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(luacloud.new("reliacloud", o)), sent
end

local function op_ids()
  local ids = {}
  for id in pairs(catalog.operations) do ids[#ids + 1] = id end
  table.sort(ids)
  return ids
end

local function check_holds(result, leaves, label)
  local bag = flatten(result)
  for _, kv in ipairs(leaves) do
    local key = kv[1] .. "\0" .. kv[2]
    assert(bag[key] and bag[key] > 0,
      label .. ": the decoded result lacks <" .. kv[1] .. "> = '" .. kv[2] .. "'")
    bag[key] = bag[key] - 1
  end
end

describe("reliacloud samples", function()
  it("cover all 25 operations (27 samples with the Response Format section's two)", function()
    local n = 0
    for _, id in ipairs(op_ids()) do
      assert.is_string(read(id .. ".xml"), "no sample fixture for " .. id)
      n = n + 1
    end
    assert.are.equal(25, n)
    assert.is_string(read("list_ip_address.response_format.xml"))
    assert.is_string(read("list_ip_address.json"))
  end)

  for _, id in ipairs(op_ids()) do
    local entry = catalog.operations[id]
    local fixture = read(id .. ".repaired.xml") and (id .. ".repaired.xml") or (id .. ".xml")
    it("decodes " .. fixture .. " through " .. id, function()
      local text = assert(read(fixture))
      local c, sent = canned_client(text)
      local res, err = c:call(id, dummy_params(entry))
      assert(res, tostring(err))
      assert.are.equal(1, #sent)
      local leaves = xml_leaves(text)
      assert.is_true(#leaves > 0)
      check_holds(res, leaves, fixture)
      local item = entry.response.items
      if item then
        local list = res[item]
        assert.is_table(list, "no list " .. item)
        assert.are.equal(count_elements(text, item), #list)
        assert.are.equal(core.array_mt, getmetatable(list))
      end
    end)
  end

  it("decodes the well-formed samples with the '>>' typo as printed", function()
    for _, id in ipairs(op_ids()) do
      local text = read(id .. ".xml")
      if read(id .. ".repaired.xml") and core.xml_decode(text) then
        local c = canned_client(text)
        local res = assert(c:call(id, dummy_params(catalog.operations[id])))
        check_holds(res, xml_leaves(text), id .. ".xml")
      end
    end
  end)

  it("reports the ill-formed load balancer sample as a decode error", function()
    local c = canned_client(read("create_or_update_load_balancer_rule.xml"))
    local res, err = c:call("create_or_update_load_balancer_rule",
      dummy_params(catalog.operations.create_or_update_load_balancer_rule))
    assert.is_nil(res)
    assert.are.equal("decode", err.kind)
  end)

  it("decodes the Response Format section's XML and JSON samples through listIPAddress", function()
    local xml = read("list_ip_address.response_format.xml")
    local c = canned_client(xml)
    local res = assert(c:list_ip_address {})
    check_holds(res, xml_leaves(xml), "response_format.xml")
    assert.are.equal(1, #res.allocatedipaddress)

    local json = read("list_ip_address.json")
    local cj, sent = canned_client(json, { format = "json" })
    local jres = assert(cj:list_ip_address {})
    local leaves = json_leaves(json)
    assert.are.equal(5, #leaves)
    check_holds(jres, leaves, "list_ip_address.json")
    assert.are.equal("192.168.10.141", jres.allocatedipaddress[1].ipaddress)
    assert.matches("[?&]response=json", sent[1].url)
    -- both samples carry the same values
    assert.are.same(res.allocatedipaddress[1], jres.allocatedipaddress[1])
  end)
end)

-- Splits a URL's query into ordered {name, raw value} pairs.
local function query_pairs(url)
  local q = url:match("%?(.*)$") or ""
  local out = {}
  for piece in q:gmatch("[^&]+") do
    local k, v = piece:match("^([^=]*)=?(.*)$")
    out[#out + 1] = { k, v }
  end
  return out
end

local function query_map(url)
  local m = {}
  for _, kv in ipairs(query_pairs(url)) do m[kv[1]:lower()] = kv[2] end
  return m
end

describe("reliacloud requests on the wire", function()
  it("follow the document's signing example (startVirtualMachine, id=1)", function()
    local c, sent = canned_client(read("start_virtual_machine.repaired.xml"),
      { api_key = "the-api-key", secret_key = "the-secret" })
    assert(c:start_virtual_machine { id = "1" })
    local url = sent[1].url
    -- step 2: the sorted, lower-cased parameter set of the document
    local signed = "apikey=the-api-key&command=startvirtualmachine&id=1"
    local sig = core.b64encode(core.hmac_sha1("the-secret", signed))
    -- step 3: the final URL of the document, with the signature Base64- then URL-encoded
    assert.are.equal(DOC_ENDPOINT .. "?command=startVirtualMachine&id=1&apiKey=the-api-key&signature="
      .. core.pct(sig), url)
    assert.are.equal("GET", sent[1].method)
  end)

  it("match test vector 0 (listZones, response=json)", function()
    local c, sent = canned_client('{"listzonesresponse":{}}',
      { api_key = "testkey", secret_key = "testsecret", format = "json" })
    assert(c:list_zones {})
    local url = sent[1].url
    assert.are.equal(DOC_ENDPOINT, url:match("^[^?]*"))
    local m = query_map(url)
    assert.are.same({ command = "listZones", apikey = "testkey", response = "json",
      signature = "of3U5g67BqXUZMJ4xE1TogZUt54%3D" }, m)
  end)

  it("match test vector A (mixed-case names sent in lower case)", function()
    local c, sent = canned_client(read("create_or_update_ip_forwarding_rule.xml"),
      { api_key = "testkey", secret_key = "testsecret" })
    assert(c:create_or_update_ip_forwarding_rule { publicip = "192.168.10.141", publicPort = 22,
      privateip = "10.1.1.2", privatePort = 22, Protocol = "TCP" })
    local pairs_ = query_pairs(sent[1].url)
    for _, kv in ipairs(pairs_) do
      if kv[1] ~= "apiKey" then assert.are.equal(kv[1]:lower(), kv[1]) end
    end
    assert.are.same({ command = "createOrUpdateIpForwardingRule", publicip = "192.168.10.141", publicport = "22",
      privateip = "10.1.1.2", privateport = "22", protocol = "TCP", apikey = "testkey",
      signature = "yhAA%2FdEHlWVnUSb8xNHqLcXR4m0%3D" }, query_map(sent[1].url))
  end)

  it("match test vector B (a space is %20, never +)", function()
    local c, sent = canned_client(read("list_templates.repaired.xml"),
      { api_key = "testkey", secret_key = "testsecret" })
    assert(c:list_templates { name = "Windows XP SP3" })
    local url = sent[1].url
    assert.matches("[?&]name=Windows%%20XP%%20SP3&", url)
    assert.are.equal("rl%2BJR1Tw4ozSnkLGJlj%2FFlek0JA%3D", query_map(url).signature)
  end)

  it("send the likely real command names by default (notes §5)", function()
    local expect = {
      stop_virtual_machine = "stopVirtualMachine", reboot_virtual_machine = "rebootVirtualMachine",
      enable_ha_for_virtual_machine = "enableHAForVirtualMachine", list_virtual_machine = "listVirtualMachines",
    }
    for id, cmd in pairs(expect) do
      local c, sent = canned_client(read(id .. ".xml"))
      assert(c:call(id, dummy_params(catalog.operations[id])))
      assert.are.equal(cmd, query_map(sent[1].url).command)
    end
  end)

  it("send virtualMachineld (sic) as virtualmachineid", function()
    local c, sent = canned_client(read("list_service_offerings.xml"))
    assert(c:list_service_offerings { virtualMachineld = "4" })
    local m = query_map(sent[1].url)
    assert.are.equal("4", m.virtualmachineid)
    assert.is_nil(m.virtualmachineld)
  end)
end)

-- issue 13: every sample list cut to one item and to none; every command's query as a multiset
local xml_tree = require "spec.support.xml_tree"

local function cut(text, item, keep)
  local root = xml_tree.parse(text)
  if not root then return nil end
  local out, kept = {}, 0
  for _, ch in ipairs(root.children) do
    if ch.name ~= item then out[#out + 1] = ch
    elseif kept < keep then out[#out + 1] = ch; kept = kept + 1 end
  end
  root.children = out
  return xml_tree.serialize(root)
end

describe("reliacloud sample lists cut to one item and to none", function()
  for _, id in ipairs(op_ids()) do
    local entry = catalog.operations[id]
    local item = entry.response.items
    local fixture = read(id .. ".repaired.xml") and (id .. ".repaired.xml") or (id .. ".xml")
    if item then
      for _, keep in ipairs({ 1, 0 }) do
        it(fixture .. " with " .. keep .. " <" .. item .. ">: an array of that size holding the item's values", function()
          local text = assert(cut(assert(read(fixture)), item, keep))
          local c = canned_client(text)
          local res = assert(c:call(id, dummy_params(entry)))
          assert.are.equal(core.array_mt, getmetatable(res[item]))
          assert.are.equal(keep, #res[item])
          if keep > 0 then check_holds(res, xml_leaves(text), fixture .. " cut to " .. keep) end
        end)
      end
    end
  end

  it("the JSON sample with one item and with the list left out (as servers drop empty lists)", function()
    local c = canned_client('{ "listipaddressesresponse" : { } }', { format = "json" })
    local res = assert(c:list_ip_address {})
    assert.are.equal(core.array_mt, getmetatable(res.allocatedipaddress))
    assert.are.equal(0, #res.allocatedipaddress)
    local one = '{ "listipaddressesresponse" : { "allocatedipaddress" : { "ipaddress" : "192.168.10.141" } } }'
    res = assert(canned_client(one, { format = "json" }):list_ip_address {})
    assert.are.equal(1, #res.allocatedipaddress)
    assert.are.equal("192.168.10.141", res.allocatedipaddress[1].ipaddress)
  end)
end)

describe("reliacloud queries on the wire, as multisets", function()
  local function multiset(url)
    local m = {}
    for _, kv in ipairs(query_pairs(url)) do
      local k = kv[1] .. "=" .. kv[2]
      m[k] = (m[k] or 0) + 1
    end
    return m
  end

  for _, id in ipairs(op_ids()) do
    local entry = catalog.operations[id]
    if entry.command ~= "login" and entry.command ~= "logout" then
      it(id .. ": command, every given param once (lower-case name), apiKey and signature; nothing else", function()
        local c, sent = canned_client(read(id .. ".repaired.xml") or read(id .. ".xml"))
        local params = dummy_params(entry)
        c:call(id, params)
        assert.are.equal(1, #sent)
        local got = multiset(sent[1].url)
        local sig = query_map(sent[1].url).signature
        local want = { ["command=" .. entry.command] = 1, ["apiKey=demo-api-key"] = 1, ["signature=" .. sig] = 1 }
        for _, spec in ipairs(entry.params) do
          local v = params[spec.name]
          if v ~= nil then
            local key = (spec.wire_name or spec.name):lower() .. "=" .. core.pct(tostring(v))
            want[key] = (want[key] or 0) + 1
          end
        end
        assert.are.same(want, got)
      end)
    end
  end
end)
