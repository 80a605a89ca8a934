-- Retry-After as an HTTP-date (RFC 9110 10.2.3: `Retry-After: Fri, 31 Dec 1999 23:59:59 GMT`),
-- not only delta-seconds (issue 14). The date is counted from the answer's Date header, and the
-- wait stays under the call's deadline.
local retry = require "luacloud.retry"

describe("retry.http_date", function()
  it("reads the three forms RFC 9110 5.6.7 makes a recipient accept", function()
    -- 784111777 = 1994-11-06 08:49:37 UTC, the RFC's own example (date -u -d @784111777)
    assert.are.equal(784111777, retry.http_date("Sun, 06 Nov 1994 08:49:37 GMT"))
    assert.are.equal(784111777, retry.http_date("Sunday, 06-Nov-94 08:49:37 GMT"))
    assert.are.equal(784111777, retry.http_date("Sun Nov  6 08:49:37 1994"))
    assert.are.equal(1445412480, retry.http_date("Wed, 21 Oct 2015 07:28:00 GMT"))
    assert.are.equal(951782400, retry.http_date("Tue, 29 Feb 2000 00:00:00 GMT")) -- leap day
    assert.are.equal(0, retry.http_date("Thu, 01 Jan 1970 00:00:00 GMT"))
  end)
  it("refuses what is not an HTTP-date", function()
    for _, s in ipairs { "", "tomorrow", "Wed, 21 Oct 2015 07:28:00", "Wed, 21 Foo 2015 07:28:00 GMT",
                         "Wed, 21 Oct 2015 25:28:00 GMT", "Wed, 32 Oct 2015 07:28:00 GMT" } do
      assert.is_nil(retry.http_date(s), s)
    end
    assert.is_nil(retry.http_date(nil))
  end)
end)

describe("retry.retry_after", function()
  it("takes delta-seconds as they are", function()
    assert.are.equal(120, retry.retry_after("120"))
    assert.are.equal(0, retry.retry_after("0"))
  end)
  it("counts a date from the answer's Date header, then from now", function()
    local date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert.are.equal(30, retry.retry_after(date, "Wed, 21 Oct 2015 07:27:30 GMT"))
    assert.are.equal(90, retry.retry_after(date, nil, 1445412480 - 90))
    assert.are.equal(0, retry.retry_after(date, "Wed, 21 Oct 2015 08:00:00 GMT")) -- already past
  end)
  it("gives nil for anything else", function()
    assert.is_nil(retry.retry_after("soon"))
    assert.is_nil(retry.retry_after("-5"))
    assert.is_nil(retry.retry_after(nil))
  end)
end)

describe("an HTTP-date Retry-After on a call (socket-level fake server)", function()
  local core = require "luacloud.core"
  local luacloud = require "luacloud"
  local fake = require "spec.support.fake_server"
  local srv
  setup(function() srv = fake.start() end)
  teardown(function() if srv then srv.stop() end end)

  local function imf(t) return os.date("!%a, %d %b %Y %H:%M:%S GMT", t) end
  local function client(deadline)
    return assert(luacloud.new("reliacloud", { endpoint = srv.base .. "/client/api", api_key = "k", secret_key = "s",
                                              timeout = 2, deadline = deadline, retries = 1, retry_delay = 0.01 }))
  end

  it("is waited for on a safe read (a backoff of 0.01 s would not take a second)", function()
    srv.reset()
    srv.answer('{"errorresponse":{"errorcode":503,"errortext":"busy"}}', "application/json", 503,
               "Retry-After: " .. imf(os.time() + 2))
    local c = client(10)
    local t0 = core.now()
    local res, err = c:call("list_zones", {})
    local wall = core.now() - t0
    c:close()
    assert.is_nil(res)
    assert.are.equal(503, err.status)
    assert.are.equal(2, srv.counts().total)
    assert.is_true(wall >= 0.9 and wall < 5, string.format("waited %.2f s", wall))
  end)

  it("a date past the deadline is not waited for: the call gives up at once", function()
    srv.reset()
    srv.answer('{"errorresponse":{"errorcode":503,"errortext":"busy"}}', "application/json", 503,
               "Retry-After: " .. imf(os.time() + 86400))
    local c = client(3)
    local t0 = core.now()
    local _, err = c:call("list_zones", {})
    local wall = core.now() - t0
    c:close()
    assert.are.equal("deadline", err.gave_up)
    assert.is_true(err.retry_after >= 86000, tostring(err.retry_after))
    assert.are.equal(1, srv.counts().total)
    assert.is_true(wall < 2, string.format("took %.2f s", wall))
  end)
end)
