-- The catalogs' waiters (catalog.waiters, read by luacloud.wait) against the catalogs and the
-- documents' samples: every asynchronous entry names a waiter that exists, each waiter polls an
-- operation of its catalog with that operation's parameters, and every path a waiter reads in an
-- answer (object, state, percent, done/failed/absent keys, failure text, list and key) is found in
-- at least one decoded sample answer of the polled operation (spec/fixtures/<provider>/).
local luacloud = require "luacloud"
local wait = require "luacloud.wait"

local CREDS = {
  reliacloud = { api_key = "k", secret_key = "s" },
  dimensiondata = { username = "u", password = "p", org_id = "1831c1a9-9c03-44df-a5a4-f2a4662d6bde" },
  centurylink = { api_key = "k", password = "p" },
  clodo = { user = "u", key = "k" },
}

local read = require("spec.support.sim").read

local function client(prov)
  local o = { transport = function() return { status = 200, headers = {}, body = "" } end, sleep = function() end }
  for k, v in pairs(CREDS[prov]) do o[k] = v end
  return assert(luacloud.new(prov, o))
end

-- every sample answer of `op`, decoded through the client
local function samples(c, prov, op)
  local out = {}
  for _, ext in ipairs { "xml", "json" } do
    for _, kind in ipairs { "response.repaired", "response" } do
      local body = read("spec/fixtures/" .. prov .. "/" .. op .. "." .. kind .. "." .. ext)
      if body then
        local ctype = ext == "json" and "application/json" or "application/xml"
        local res = c:receive(c.catalog.operations[op], { status = 200, headers = { ["content-type"] = ctype }, body = body })
        if type(res) == "table" then out[#out + 1] = res end
      end
    end
  end
  return out
end

-- the paths a waiter reads inside the polled object
local function object_paths(w)
  local paths = {}
  local function add(p) if p then paths[#paths + 1] = p end end
  add(w.state) add(w.percent)
  for k in pairs(w.done or {}) do add(k) end
  for k in pairs(w.failed or {}) do add(k) end
  for _, k in ipairs(w.absent or {}) do add(k) end
  add(w.failure and w.failure.text) add(w.failure and w.failure.id)
  if w.find then add(w.find.key) end
  return paths
end

-- the objects a waiter would look at in one answer
local function objects(w, res)
  if w.find then
    local list = wait.get(res, w.find.list)
    return type(list) == "table" and list or {}
  end
  local obj = wait.get(res, w.object)
  return type(obj) == "table" and { obj } or {}
end

-- `#` (the last item) and `*` (some item) stand for any item of a list in a sample
local function present(obj, path)
  local head, rest = path:match("^(.-)%.[#*]%.(.+)$")
  if not head then return wait.get(obj, path) ~= nil end
  local list = wait.get(obj, head)
  if type(list) ~= "table" then return false end
  for _, it in ipairs(list[1] and list or { list }) do
    if present(it, rest) then return true end
  end
  return false
end

describe("catalog waiters", function()
  for _, prov in ipairs(luacloud.providers) do
    describe(prov, function()
      local c = client(prov)
      local cat = c.catalog
      local waiters = cat.waiters or {}

      it("every asynchronous entry names one of the catalog's waiters", function()
        local bad = {}
        for id, e in pairs(cat.operations) do
          if e.async and not (type(e.async) == "table" and waiters[e.async.waiter]) then
            bad[#bad + 1] = id .. " -> " .. tostring(type(e.async) == "table" and e.async.waiter)
          end
        end
        table.sort(bad)
        assert.are.same({}, bad)
      end)

      it("every waiter polls an operation of the catalog with that operation's parameters", function()
        local bad = {}
        for name, w in pairs(waiters) do
          for _, poll in ipairs { w, w.progress } do
            local e = cat.operations[poll.op]
            if not e then bad[#bad + 1] = name .. ": no operation " .. tostring(poll.op) end
            local known = {}
            for _, p in ipairs(e and e.params or {}) do known[p.name] = true end
            local sets = poll.params or {}
            if sets[1] == nil then sets = { sets } end
            for _, set in ipairs(sets) do
              for k in pairs(set) do
                if not known[k] then bad[#bad + 1] = name .. ": " .. tostring(poll.op) .. " has no parameter " .. k end
              end
            end
          end
          if not w.match or not w.match[1] then bad[#bad + 1] = name .. ": matches no target key" end
        end
        table.sort(bad)
        assert.are.same({}, bad)
      end)

      it("every path a waiter reads is in a sample answer of the polled operation", function()
        local bad = {}
        for name, w in pairs(waiters) do
          local answers = samples(c, prov, w.op)
          if #answers == 0 then bad[#bad + 1] = name .. ": no sample answer for " .. w.op end
          local objs = {}
          for _, res in ipairs(answers) do
            for _, o in ipairs(objects(w, res)) do objs[#objs + 1] = o end
          end
          if #answers > 0 and #objs == 0 then
            bad[#bad + 1] = name .. ": no sample of " .. w.op .. " has " .. tostring(w.find and w.find.list or w.object)
          end
          for _, path in ipairs(object_paths(w)) do
            local found = false
            for _, o in ipairs(objs) do found = found or present(o, path) end
            if #objs > 0 and not found then bad[#bad + 1] = name .. ": " .. path .. " in no sample of " .. w.op end
          end
          if w.progress then
            local found = false
            for _, res in ipairs(samples(c, prov, w.progress.op)) do
              found = found or wait.get(res, w.progress.percent) ~= nil
            end
            if not found then bad[#bad + 1] = name .. ": " .. w.progress.percent .. " in no sample of " .. w.progress.op end
          end
        end
        table.sort(bad)
        assert.are.same({}, bad)
      end)
    end)
  end
end)

-- the generic check on the documents' own answers (each poll answered with one sample)
describe("wait.check on Dimension Data samples", function()
  local function dd(file)
    local body = assert(read("spec/fixtures/dimensiondata/" .. file))
    return assert(luacloud.new("dimensiondata", { username = "u", password = "p", org_id = CREDS.dimensiondata.org_id,
      transport = function() return { status = 200, headers = { ["content-type"] = "application/xml" }, body = body } end }))
  end

  it("an image copy in progress: not done, its percent from the target image's <status><step>", function()
    local c = dd("list_customer_image_copying_in_progress.response.xml")
    local done, pct, err = wait.check(c, { image_copy_id = "5272e328-eaca-11e1-8340-d93da27669ab" })
    assert.is_nil(err)
    assert.are.equal(false, done)
    assert.are.equal(50, pct)
    -- a copy no longer listed is done
    assert.are.equal(true, (wait.check(c, { image_copy_id = "gone" })))
  end)

  it("a server with a <failureReason> ends the wait with its state and the reason", function()
    local c = dd("list_servers_with_backup.response.repaired.xml")
    local done, pct, err = wait.check(c, { server_id = "c325fe04-7711-4968-962e-c88784eb2" })
    assert.is_nil(done)
    assert.are.equal(3, pct)
    assert.are.equal("api", err.kind)
    assert.are.equal("PENDING_CHANGE", err.code)
    assert.truthy(err.message:find("is PENDING_CHANGE: Message Value", 1, true), err.message)
  end)

  it("an account: done when some role is the primary administrator, waiting otherwise, gone when deleted", function()
    local c = dd("list_accounts.response.repaired.xml")
    local done, _, err, state = wait.check(c, { username = "primaryadminuser" })
    assert.is_nil(err)
    assert.are.equal("primaryadminuser", done.userName)
    assert.are.equal("primary", state)
    done, _, err, state = wait.check(c, { username = "subadminuser" })
    assert.is_nil(err)
    assert.are.equal(false, done)
    assert.are.equal("pending", state)
    assert.are.equal(true, (wait.check(c, { username = "nobody", deleted = true })))
  end)

  it("a target no waiter matches is refused, not polled", function()
    local c = dd("list_accounts.response.repaired.xml")
    local done, _, err = wait.check(c, { nothing = 1 })
    assert.is_nil(done)
    assert.are.equal("validation", err.kind)
  end)
end)
