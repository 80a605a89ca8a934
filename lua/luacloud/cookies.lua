--- A per-client cookie jar kept by the engine, so cookies behave the same with
-- every transport (libcurl, nginx cosockets, in-process). Cookies are only ever
-- sent back to the client's own endpoint.
local Jar = {}
Jar.__index = Jar

local function parse_expiry(attrs, now)
  local max_age = attrs:match("[Mm]ax%-[Aa]ge=(%-?%d+)")
  if max_age then return now + tonumber(max_age) end
  return nil -- session cookie (Expires dates are not parsed: the session ends with the client)
end

function Jar.new(clock)
  return setmetatable({ items = {}, clock = clock or os.time }, Jar)
end

--- Store the cookies of a `set-cookie` header (lines joined by newlines).
function Jar:store(header)
  if not header then return end
  local now = self.clock()
  for line in tostring(header):gmatch("[^\n]+") do
    local name, value, attrs = line:match("^%s*([^=;%s]+)=([^;]*)(.*)$")
    if name then
      local expires = parse_expiry(attrs or "", now)
      if expires and expires <= now then
        self.items[name] = nil
      else
        self.items[name] = { value = value, expires = expires }
      end
    end
  end
end

--- The Cookie header value, or nil.
function Jar:header()
  local now, parts = self.clock(), {}
  for name, c in pairs(self.items) do
    if c.expires and c.expires <= now then
      self.items[name] = nil
    else
      parts[#parts + 1] = name .. "=" .. c.value
    end
  end
  if #parts == 0 then return nil end
  table.sort(parts)
  return table.concat(parts, "; ")
end

function Jar:get(name)
  local c = self.items[name]
  return c and c.value
end

function Jar:clear()
  self.items = {}
end

return Jar
