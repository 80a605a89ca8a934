-- The CenturyLink document's REST samples under spec/fixtures/centurylink (REPAIRS.md): the
-- repaired copy of a sample when there is one, the verbatim one otherwise.
local catalog = require "luacloud.catalog.centurylink"

local M = { DIR = "spec/fixtures/centurylink/" }

function M.read(name)
  local f = io.open(M.DIR .. name, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- fixture(op, "request"|"response", "json"|"xml") -> text, file name | nil
function M.fixture(op, kind, ext)
  local name = op .. "." .. kind .. ".repaired." .. ext
  local s = M.read(name)
  if s then return s, name end
  name = op .. "." .. kind .. "." .. ext
  return M.read(name), name
end

--- The catalog's op ids, sorted (specs in a stable order).
function M.ids()
  local t = {}
  for id in pairs(catalog.operations) do t[#t + 1] = id end
  table.sort(t)
  return t
end

return M
