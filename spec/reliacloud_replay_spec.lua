-- ReliaCloud against answers shaped as real CloudStack servers give them (spec/fixtures/reliacloud/replay,
-- see its README): the server's own code and text reach err whatever the wrapper is called; job answers,
-- empty and one-item lists and JSON-typed values reach the result.
local luacloud = require "luacloud"
local core = require "luacloud.core"

local DIR = "spec/fixtures/reliacloud/replay/"

local function read(name)
  local f = assert(io.open(DIR .. name, "rb"), "missing fixture " .. name)
  local s = f:read("a")
  f:close()
  return s
end

-- A client answering every request with (status, fixture[, headers]); records what was sent.
local function client(status, file, opts, headers)
  local sent = {}
  local o = { api_key = "k", secret_key = "s", sleep = function() end,
    transport = function(req)
      sent[#sent + 1] = req
      local h = { ["content-type"] = file:match("%.json$") and "text/javascript" or "text/xml" }
      for k, v in pairs(headers or {}) do h[k] = v end
      return { status = status, headers = h, body = read(file) }
    end }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(luacloud.new("reliacloud", o)), sent
end

local DEPLOY = { zoneId = "1", serviceOfferingId = "104", templateId = "3", networkDomain = "example" }

describe("reliacloud replay: errors", function()
  for _, case in ipairs({
    { "deploy.431.json", "json", 4350 },
    { "deploy.431.bare.json", "json", nil },
    { "deploy.431.xml", "xml", 4350 },
  }) do
    it(case[1] .. ": err carries the server's text and code, the wrapper named after the command", function()
      local c, sent = client(431, case[1], { format = case[2] })
      local res, err = c:deploy_virtual_machine(DEPLOY)
      assert.is_nil(res)
      assert.are.equal(1, #sent) -- a deploy is never sent twice
      assert.are.equal("api", err.kind)
      assert.are.equal(431, err.status)
      assert.are.equal(431, err.code)
      assert.are.equal("Unable to find service offering: 104", err.message)
      assert.are.equal(case[3], err.details.cserrorcode)
      assert.are.equal(431, err.details.errorcode)
      assert.are.equal("deployvirtualmachineresponse", err.details.wrapper)
      -- the document's text for the status stays readable
      assert.are.equal("The parameters passed in was invalid.", err.details.doc)
      assert.truthy(tostring(err):find("Unable to find service offering: 104", 1, true))
      assert.is_false(err.retryable)
    end)
  end

  it("list_zones.530.json: a safe command is retried, then reports the server's text", function()
    local c, sent = client(530, "list_zones.530.json", { format = "json", retries = 2 })
    local res, err = c:list_zones {}
    assert.is_nil(res)
    assert.are.equal(3, #sent)
    assert.are.equal(530, err.code)
    assert.are.equal(9999, err.details.cserrorcode)
    assert.are.equal("Internal error executing command, please contact your system administrator", err.message)
    assert.is_true(err.retryable)
  end)

  it("list_zones.530.json on a deploy: not repeated", function()
    local c, sent = client(530, "list_zones.530.json", { format = "json" })
    local _, err = c:deploy_virtual_machine(DEPLOY)
    assert.are.equal(1, #sent)
    assert.are.equal(530, err.code)
  end)

  for _, file in ipairs({ "list_zones.401.json", "list_zones.401.html" }) do
    it(file .. ": an auth error with the server's text, the key never shown", function()
      local c = client(401, file, { format = file:match("json") and "json" or "xml", secret_key = "very-secret" })
      local _, err = c:list_zones {}
      assert.are.equal("auth", err.kind)
      assert.are.equal(401, err.code)
      assert.are.equal("unable to verify user credentials and/or request signature", err.message)
      assert.is_nil(tostring(err):find("very-secret", 1, true))
    end)
  end

  it("associate.431.header.json: a body without text falls back to X-Description", function()
    local c = client(431, "associate.431.header.json", { format = "json" },
      { ["x-description"] = "Unable to find zone: 99" })
    local _, err = c:associate_ip_address { zoneid = "99" }
    assert.are.equal("Unable to find zone: 99", err.message)
    assert.are.equal(4350, err.details.cserrorcode)
  end)

  it("an error body that is not the API's keeps the document's text", function()
    local sent = {}
    local c = assert(luacloud.new("reliacloud", { api_key = "k", secret_key = "s", transport = function(req)
      sent[#sent + 1] = req
      return { status = 431, headers = {}, body = "" }
    end }))
    local _, err = c:deploy_virtual_machine(DEPLOY)
    assert.are.equal("The parameters passed in was invalid.", err.message)
    assert.are.equal(431, err.code)
  end)
end)

describe("reliacloud replay: answers", function()
  it("deploy.job.json: an asynchronous-job answer reaches the result as sent", function()
    local c = client(200, "deploy.job.json", { format = "json" })
    local res = assert(c:deploy_virtual_machine(DEPLOY))
    assert.are.equal(17164, res.jobid)
    assert.are.equal(2602, res.id)
  end)

  it("start.job.json / disassociate.job.json: jobid as number or string", function()
    local c = client(200, "start.job.json", { format = "json" })
    assert.are.equal(17188, assert(c:start_virtual_machine { id = "2602" }).jobid)
    local c2 = client(200, "disassociate.job.json", { format = "json" })
    assert.are.equal("11112", assert(c2:disassociate_ip_address { ipAddress = "1.1.1.1" }).jobid)
  end)

  for _, file in ipairs({ "list_templates.empty.json", "list_templates.empty.xml" }) do
    it(file .. ": a left-out list is an empty array", function()
      local c = client(200, file, { format = file:match("%.(%a+)$") })
      local res = assert(c:list_templates {})
      assert.are.equal(0, #res.template)
      assert.are.equal(core.array_mt, getmetatable(res.template))
    end)
  end

  it("list_zones.one.json / .xml: one item is a one-item array, count kept", function()
    local j = assert(client(200, "list_zones.one.json", { format = "json" }):list_zones {})
    local x = assert(client(200, "list_zones.one.xml", { format = "xml" }):list_zones {})
    for _, r in ipairs({ j, x }) do
      assert.are.equal(core.array_mt, getmetatable(r.zone))
      assert.are.equal(1, #r.zone)
      assert.are.equal("Sydney", r.zone[1].name)
      assert.are.equal("Advanced", r.zone[1].networktype)
    end
    assert.are.equal(1, j.count)
    assert.are.equal("1", x.count)
    assert.are.equal(false, j.zone[1].securitygroupsenabled)
    assert.are.equal("false", x.zone[1].securitygroupsenabled)
  end)

  it("list_ip_address.typed.json: numbers and booleans keep their JSON types", function()
    local r = assert(client(200, "list_ip_address.typed.json", { format = "json" }):list_ip_address {})
    assert.are.equal(2, #r.allocatedipaddress)
    assert.are.equal(1, r.allocatedipaddress[1].zoneid)
    assert.are.equal(false, r.allocatedipaddress[1].issourcenat)
    assert.are.equal(true, r.allocatedipaddress[2].issourcenat)
    assert.are.equal("2011-06-20T04:08:34+0000", r.allocatedipaddress[2].allocated)
  end)
end)
