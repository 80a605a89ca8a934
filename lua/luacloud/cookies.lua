--- A per-client cookie jar kept by the engine, so cookies behave the same with
-- every transport (libcurl, nginx cosockets, in-process). It follows RFC 6265
-- where a client SDK needs it: a cookie is sent back only to the host that set
-- it (or the hosts its Domain attribute covers), under its Path, over https
-- only when Secure, and not after Expires / Max-Age.
-- Without a URL (the dry-run placeholder of a session cookie) a cookie belongs
-- to no particular host and `header()` without a URL gives every live cookie.
local Jar = {}
Jar.__index = Jar

local MONTHS = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8, sep = 9, oct = 10, nov = 11, dec = 12 }

local floor = math.floor -- no // : the jar runs under LuaJIT too

local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end

--- An HTTP date in any of the forms RFC 6265 5.1.1 accepts -> epoch seconds, or nil.
local function parse_date(s)
  local h, mi, sec, day, mon, year
  for tok in s:gmatch("[^%s,;%-/]+") do
    local a, b, c = tok:match("^(%d%d?):(%d%d?):(%d%d?)")
    if not h and a then
      h, mi, sec = tonumber(a), tonumber(b), tonumber(c)
    elseif not day and tok:match("^%d%d?$") then
      day = tonumber(tok)
    elseif not mon and MONTHS[tok:sub(1, 3):lower()] then
      mon = MONTHS[tok:sub(1, 3):lower()]
    elseif not year and tok:match("^%d%d%d?%d?$") then
      year = tonumber(tok)
    end
  end
  if not (h and day and mon and year) then return nil end
  if year < 70 then year = year + 2000 elseif year < 100 then year = year + 1900 end
  if day < 1 or day > 31 or year < 1601 or h > 23 or mi > 59 or sec > 59 then return nil end
  return days_from_civil(year, mon, day) * 86400 + h * 3600 + mi * 60 + sec
end
Jar.parse_date = parse_date

--- scheme, host (lower case), path of a URL; nil for what is not one.
local function split_url(url)
  if type(url) ~= "string" then return nil end
  local scheme, host, rest = url:match("^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if not scheme then return nil end
  host = host:gsub("^.*@", ""):gsub(":%d*$", ""):lower()
  local path = rest:match("^[^?#]*")
  if path == "" or path:sub(1, 1) ~= "/" then path = "/" end
  return scheme:lower(), host, path
end

local function domain_match(host, domain)
  if host == domain then return true end
  if host:match("^[%d.]+$") or host:find(":", 1, true) then return false end -- IP addresses match only exactly
  return #host > #domain and host:sub(-#domain - 1) == "." .. domain
end

local function path_match(req_path, cpath)
  if req_path == cpath then return true end
  if req_path:sub(1, #cpath) ~= cpath then return false end
  return cpath:sub(-1) == "/" or req_path:sub(#cpath + 1, #cpath + 1) == "/"
end

local function default_path(path)
  local dir = path:match("^(.*)/[^/]*$")
  if not dir or dir == "" then return "/" end
  return dir
end

-- items: "name;domain;path" -> cookie; items.NAME finds a cookie by name
local function by_name(items, name)
  for _, c in pairs(items) do
    if type(c) == "table" and c.name == name then return c end
  end
  return nil
end

function Jar.new(clock)
  return setmetatable({ items = setmetatable({}, { __index = by_name }), clock = clock or os.time, seq = 0 }, Jar)
end

--- One Set-Cookie line received from `url` -> cookie, or nil when it must be ignored.
local function parse_line(line, url, now)
  local name, value, attrs = line:match("^%s*([^=;%s]+)%s*=%s*([^;]-)%s*(;.*)$")
  if not name then name, value = line:match("^%s*([^=;%s]+)%s*=%s*([^;]-)%s*$") attrs = "" end
  if not name then return nil end
  local scheme, host, path = split_url(url)
  local c = { name = name, value = value, secure = false, host_only = true, domain = host, expires = nil }
  local max_age, expires
  for attr in attrs:gmatch(";%s*([^;]*)") do
    local k, v = attr:match("^([^=]-)%s*=%s*(.-)%s*$")
    k = (k or attr:match("^(.-)%s*$")):lower()
    if k == "secure" then
      c.secure = true
    elseif k == "domain" and v and v ~= "" then
      c.domain_attr = v:gsub("^%.", ""):lower()
    elseif k == "path" and v and v:sub(1, 1) == "/" then
      c.path = v
    elseif k == "max-age" and v and v:match("^%-?%d+$") then
      max_age = tonumber(v)
    elseif k == "expires" and v then
      expires = parse_date(v)
    end
  end
  if host then
    if c.domain_attr then
      -- a Domain must cover the host that set it, and be more than a bare top-level label
      if not domain_match(host, c.domain_attr) or not (c.domain_attr:find(".", 1, true) or c.domain_attr == host) then
        return nil
      end
      c.domain, c.host_only = c.domain_attr, false
    end
    -- a plain-http answer may not set (or overwrite) a Secure cookie
    if c.secure and scheme ~= "https" then return nil end
  end
  c.domain_attr = nil
  c.path = c.path or (path and default_path(path)) or "/"
  if max_age then c.expires = now + max_age elseif expires then c.expires = expires end
  return c
end

--- Store the cookies of a `set-cookie` header (lines joined by newlines) received from `url`.
function Jar:store(header, url)
  if not header then return end
  local now = self.clock()
  for line in tostring(header):gmatch("[^\n]+") do
    local c = parse_line(line, url, now)
    if c then
      local key = c.name .. ";" .. tostring(c.domain) .. ";" .. c.path
      local old = rawget(self.items, key)
      if c.expires and c.expires <= now then
        self.items[key] = nil
      else
        self.seq = self.seq + 1
        c.seq = old and old.seq or self.seq -- creation order survives an update
        self.items[key] = c
      end
    end
  end
end

local function sendable(c, scheme, host, path)
  if not host then return true end
  if c.domain then
    if c.host_only and c.domain ~= host then return false end
    if not c.host_only and not domain_match(host, c.domain) then return false end
  end
  if c.secure and scheme ~= "https" then return false end
  return path_match(path, c.path)
end

--- The Cookie header value for a request to `url` (every live cookie without a URL), or nil.
function Jar:header(url)
  if next(self.items) == nil then return nil end -- the usual case (API-key clients): no URL parsing per request
  local now, list = self.clock(), {}
  local scheme, host, path = split_url(url)
  for key, c in pairs(self.items) do
    if c.expires and c.expires <= now then
      self.items[key] = nil
    elseif sendable(c, scheme, host, path) then
      list[#list + 1] = c
    end
  end
  if #list == 0 then return nil end
  -- RFC 6265 5.4: longer paths first, then earlier creation
  table.sort(list, function(a, b)
    if #a.path ~= #b.path then return #a.path > #b.path end
    if a.seq ~= b.seq then return a.seq < b.seq end
    return a.name < b.name
  end)
  local parts = {}
  for i, c in ipairs(list) do parts[i] = c.name .. "=" .. c.value end
  return table.concat(parts, "; ")
end

function Jar:get(name)
  local c = self.items[name]
  return c and c.value
end

function Jar:clear()
  self.items = setmetatable({}, { __index = by_name })
end

return Jar
