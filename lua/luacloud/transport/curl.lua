--- The default transport: libcurl through the C core. One session (connection
-- pool) per client. A transport is a function(req) -> resp | nil, err, with
-- req = { method, url, headers, body, timeout } and resp = { status, headers, body }.
local core = require "luacloud.core"

local M = {}

function M.new(opts)
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
