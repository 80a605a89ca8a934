--- The default transport: libcurl through the C core. One session (connection
-- pool) per client. A transport is a function(req) -> resp | nil, err, with
-- req = { method, url, headers, body, timeout } and resp = { status, headers, body }.
local core = require "luacloud.core"

local M = {}

local INSECURE = "luacloud: verify_tls = false: TLS certificates are not checked, so anyone on the network path "
  .. "can read and change this client's requests, credentials included"
local warned = false

--- The warning for verify_tls = false: to the client's log hook (event "warning")
-- when it has one, else once per process to `write` (stderr by default).
function M.warn_insecure(opts, write)
  if opts.verify_tls ~= false then return end
  if type(opts.log) == "function" then
    pcall(opts.log, { event = "warning", message = INSECURE })
  elseif not warned then
    warned = true
    if write then write(INSECURE) else io.stderr:write(INSECURE, "\n") end
  end
end

function M.new(opts)
  M.warn_insecure(opts)
  local session = core.session {
    timeout = opts.timeout, connect_timeout = opts.connect_timeout,
    verify_tls = opts.verify_tls, ca_file = opts.ca_file, proxy = opts.proxy,
    max_response = opts.max_response, user_agent = opts.user_agent or ("luacloud/" .. core.version),
  }
  local t = setmetatable({ session = session }, {
    __call = function(self, req) return self.session:request(req) end,
  })
  --- Several requests concurrently, results in input order: { resp | {err=...} }.
  function t.batch(reqs, concurrency) return session:batch(reqs, concurrency) end
  --- Send now, complete later: returns an object with :finish() -> resp | nil, err.
  function t.start(req) return session:start(req) end
  function t.close() session:close() end
  t.sleep = core.sleep
  return t
end

return M
