-- core.hmac_sha1 keeps the pad states of the last key (src/sign.c): a change of key, a key of
-- the same bytes in another string, a key longer than the block, the empty key and a failure
-- must never sign with another key's states.
local core = require "luacloud.core"

describe("core.hmac_sha1 with changing keys", function()
  -- RFC 2202 test cases 1, 2 and 6, the empty key and message
  local cases = {
    { string.rep("\11", 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
    { "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
    { string.rep("\170", 80), "Test Using Larger Than Block-Size Key - Hash Key First",
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
    { "", "", "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d" },
  }

  it("gives each key's own MAC in any order, repeated or not", function()
    math.randomseed(3)
    for _ = 1, 200 do
      local c = cases[math.random(#cases)]
      assert.are.equal(c[3], core.hex(core.hmac_sha1(c[1], c[2])))
    end
  end)

  it("signs with a key of the same bytes built anew, long or short", function()
    local long = string.rep("k", 100)
    local a = core.hmac_sha1(long, "m")
    local b = core.hmac_sha1(("k"):rep(50) .. ("k"):rep(50), "m")
    assert.are.equal(a, b)
    assert.are_not.equal(a, core.hmac_sha1(("k"):rep(99) .. "j", "m"))
    assert.are_not.equal(core.hmac_sha1("key", "m"), core.hmac_sha1("kez", "m"))
  end)

  it("a key of the same bytes as a number or a string signs alike", function()
    assert.are.equal(core.hmac_sha1("12", "m"), core.hmac_sha1(12, "m"))
    assert.are.equal(core.hmac_sha1(12, "m"), core.hmac_sha1("12", "m"))
  end)

  it("a bad argument leaves the last key's states for the next call", function()
    local c = cases[2]
    assert(core.hmac_sha1(c[1], c[2]))
    assert.has_error(function() core.hmac_sha1({}, "x") end)
    assert.has_error(function() core.hmac_sha1("other", {}) end)
    assert.are.equal(c[3], core.hex(core.hmac_sha1(c[1], c[2])))
    assert.are.equal(cases[1][3], core.hex(core.hmac_sha1(cases[1][1], cases[1][2])))
  end)
end)
