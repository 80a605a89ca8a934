-- s:request reuses one batch per session (src/transport.c take_single): a request that raises
-- half-way through its set-up, or one sent from inside another's set-up (a metamethod of the
-- request table), must not share or spoil the reused one.
local core = require "luacloud.core"
local support = require "spec.support.sim"

describe("transport (libcurl): s:request's reused batch", function()
  local sim, s
  setup(function()
    sim = support.start()
    s = core.session { timeout = 10 }
  end)
  teardown(function()
    if s then s:close() end
    if sim then sim.stop() end
  end)

  local function echo(q) return sim.base .. "/echo" .. q end
  local function path(r) return core.json_decode(r.body).path end

  it("a request that raised during its set-up leaves the next ones whole", function()
    for i = 1, 5 do
      assert.has_error(function() s:request { url = echo("?bad=" .. i), headers = { X = "a\r\nB: 1" } } end)
      assert.has_error(function() s:request { url = echo("?bad=" .. i), timeout = "soon" } end)
      local r = assert(s:request { url = echo("?good=" .. i) })
      assert.are.equal("/?good=" .. i, path(r))
    end
  end)

  it("a request sent while another one is being set up gets its own", function()
    local inner
    local req = setmetatable({ url = echo("?outer=1") }, {
      __index = function(_, k)
        if k == "method" and not inner then inner = assert(s:request { url = echo("?inner=1") }) end
        return nil
      end,
    })
    local r = assert(s:request(req))
    assert.are.equal("/?outer=1", path(r))
    assert.are.equal("/?inner=1", path(inner))
    assert.are.equal("/?after=1", path(assert(s:request { url = echo("?after=1") })))
  end)

  it("a closed session refuses, and another session's reused batch is its own", function()
    local a, b = core.session { timeout = 10 }, core.session { timeout = 10 }
    assert.are.equal("/?a=1", path(assert(a:request { url = echo("?a=1") })))
    assert.are.equal("/?b=1", path(assert(b:request { url = echo("?b=1") })))
    a:close()
    assert.has_error(function() a:request { url = echo("?a=2") } end)
    assert.are.equal("/?b=2", path(assert(b:request { url = echo("?b=2") })))
    b:close()
    collectgarbage()
    collectgarbage()
  end)
end)
