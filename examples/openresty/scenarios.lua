-- Behaviour scenarios run once with the cosocket transport and once with
-- libcurl inside the same nginx (GET /selftest); the spec checks that both
-- give the same summaries. Summaries hold no timings, ids or other values
-- that legitimately differ between two runs.
local core = require "luacloud.core"

local M = {}

local function admin(c, base, path, body)
  return c:send { method = "POST", url = base .. path, headers = { ["Content-Type"] = "application/json" },
                  body = body and core.json_encode(body) or "" }
end

local function errsum(err)
  if not err then return false end
  return { kind = err.kind, status = err.status or false, code = err.code or false, param = err.param or false,
           retryable = err.retryable, has_retry_after = err.retry_after ~= nil }
end

function M.run(new, config)
  local base = config.base_url
  local out = {}

  -- errors: the API's own code, and validation before sending
  local rc = new("reliacloud")
  local _, e1 = rc:start_virtual_machine { id = "999999" }
  local _, e2 = rc:deploy_virtual_machine { zoneId = "1" }
  out.errors = { api = errsum(e1), validation = errsum(e2) }

  -- paging: c:each across pages gives exactly the listing's totalCount
  local dd = new("dimensiondata")
  local first = assert(dd:list_servers_with_backup { pageSize = 7 })
  local n, ids = 0, {}
  for s in dd:each("list_servers_with_backup", { pageSize = 7 }) do
    n = n + 1
    ids[s.id] = true
  end
  local distinct = 0
  for _ in pairs(ids) do distinct = distinct + 1 end
  out.paging = { total = tonumber(first.totalCount), walked = n, distinct = distinct,
                 pages = math.ceil(tonumber(first.totalCount) / 7) }

  -- waiting: polls with backoff through the transport's sleep
  local polls = 0
  local t0 = core.now()
  local res = rc:wait(function() polls = polls + 1 return polls >= 3 and "done", polls * 30 end,
                      { interval = 0.05, backoff = 1 })
  local slept_ok = core.now() - t0 >= 0.09
  out.waiting = { result = res, polls = polls, slept = slept_ok }

  -- session renewal: an expired session is renewed once, transparently
  local logins = 0
  local sc = new("reliacloud", { api_key = false, secret_key = false,
    log = function(e) if e.method == "POST" then logins = logins + 1 end end })
  local z1 = sc:list_zones { available = true }
  sc.cookies.items.JSESSIONID.value = "expired"
  local z2 = sc:list_zones { available = true }
  out.session = { first = z1 ~= nil, renewed = z2 ~= nil, logins = logins }

  -- rate limit: refused fast with an error that says when to retry
  local cl = new("clodo", { retries = 0 })
  assert(cl:list_servers {})
  admin(cl, base, "/_sim/fault", { provider = "clodo", kind = "rate_limit", count = 1 })
  local _, e3 = cl:list_servers {}
  admin(cl, base, "/_sim/fault", nil)
  out.rate_limit = errsum(e3)
  return out
end

return M
