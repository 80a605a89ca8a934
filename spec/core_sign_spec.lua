-- Signing primitives and the test vectors of shared/notes/reliacloud.md section 4.4.
local core = require "luacloud.core"
local sign = require("luacloud.providers.reliacloud").signature

describe("HMAC-SHA1 and Base64", function()
  it("vector 0", function()
    local mac = core.hmac_sha1("testsecret", "apikey=testkey&command=listzones&response=json")
    assert.are.equal("a1fdd4e60ebb06a5d464c278c44d53a20654b79e", core.hex(mac))
    assert.are.equal("of3U5g67BqXUZMJ4xE1TogZUt54=", core.b64encode(mac))
    assert.are.equal(mac, core.b64decode("of3U5g67BqXUZMJ4xE1TogZUt54="))
  end)

  it("matches the RFC 2202 HMAC-SHA1 vectors (short, block-size and longer keys)", function()
    assert.are.equal("b617318655057264e28bc0b6fb378c8ef146be00", core.hex(core.hmac_sha1(string.rep("\11", 20), "Hi There")))
    assert.are.equal("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", core.hex(core.hmac_sha1("Jefe", "what do ya want for nothing?")))
    assert.are.equal("aa4ae5e15272d00e95705637ce8a3b55ed402112",
      core.hex(core.hmac_sha1(string.rep("\170", 80), "Test Using Larger Than Block-Size Key - Hash Key First")))
    assert.are.equal("fbdb1d1b18aa6c08324b7d64b71fb76370690e1d", core.hex(core.hmac_sha1("", "")))
  end)

  it("Base64 round-trips every length and rejects garbage", function()
    for n = 0, 40 do
      local s = string.rep("\255\0a", n):sub(1, n)
      assert.are.equal(s, core.b64decode(core.b64encode(s)))
    end
    assert.is_nil((core.b64decode("abc")))
    assert.is_nil((core.b64decode("ab!d")))
  end)

  it("builds HTTP Basic", function()
    assert.are.equal("Basic dXNlcjpwYXNz", core.basic_auth("user", "pass"))
    assert.has_error(function() core.basic_auth("a:b", "c") end)
  end)
end)

describe("ReliaCloud canonical signature", function()
  it("vector 0", function()
    local sig, canonical = sign("testsecret", { { "command", "listZones" }, { "apiKey", "testkey" }, { "response", "json" } })
    assert.are.equal("apikey=testkey&command=listzones&response=json", canonical)
    assert.are.equal("of3U5g67BqXUZMJ4xE1TogZUt54=", sig)
    assert.are.equal("of3U5g67BqXUZMJ4xE1TogZUt54%3D", core.pct(sig))
  end)

  it("vector A: lower-case names sort as the server does", function()
    local sig, canonical = sign("testsecret", {
      { "command", "createOrUpdateIpForwardingRule" }, { "publicip", "192.168.10.141" }, { "publicport", "22" },
      { "privateip", "10.1.1.2" }, { "privateport", "22" }, { "protocol", "TCP" }, { "apikey", "testkey" } })
    assert.are.equal("apikey=testkey&command=createorupdateipforwardingrule&privateip=10.1.1.2&privateport=22&protocol=tcp&publicip=192.168.10.141&publicport=22", canonical)
    assert.are.equal("yhAA/dEHlWVnUSb8xNHqLcXR4m0=", sig)
  end)

  it("vector A: mixed-case names sort case-sensitively before lower-casing", function()
    local sig = sign("testsecret", {
      { "command", "createOrUpdateIpForwardingRule" }, { "publicip", "192.168.10.141" }, { "publicPort", "22" },
      { "privateip", "10.1.1.2" }, { "privatePort", "22" }, { "Protocol", "TCP" }, { "apiKey", "testkey" } })
    assert.are.equal("sYN7N//W4zc0RZCql2BRbuZrqok=", sig)
  end)

  it("vector B: spaces are %20, never +", function()
    local sig, canonical = sign("testsecret", { { "command", "listTemplates" }, { "name", "Windows XP SP3" }, { "apiKey", "testkey" } })
    assert.are.equal("apikey=testkey&command=listtemplates&name=windows%20xp%20sp3", canonical)
    assert.are.equal("rl+JR1Tw4ozSnkLGJlj/Flek0JA=", sig)
    assert.are.equal("rl%2BJR1Tw4ozSnkLGJlj%2FFlek0JA%3D", core.pct(sig))
  end)
end)
