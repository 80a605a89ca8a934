--- The provider registry: the one list of the APIs luacloud drives, with where each part lives.
-- The engine, luacloud.providers, the CLI, the docs generator and the simulator host read it;
-- adding a provider is a catalog, a hook file and one entry here.
-- Lua 5.1-compatible (the simulator host runs under nginx's LuaJIT).
local M = {}

-- In a fixed order (CLI listings, docs, the simulator host).
M.names = { "reliacloud", "dimensiondata", "centurylink", "clodo" }

M.info = {
  reliacloud = {
    title = "ReliaCloud",
    sim = { path = "/reliacloud/client/api", note = "query API: append ?command=...&apiKey=...&signature=..." },
  },
  dimensiondata = {
    title = "Dimension Data",
    sim = { path = "/dimensiondata", note = "append the client paths /oec/0.9/..." },
  },
  centurylink = {
    title = "CenturyLink",
    sim = { path = "/centurylink", note = "append /REST/..." },
  },
  clodo = {
    title = "Clodo",
    sim = { path = "/clodo", auth_path = "/clodo/", management_path = "/clodo/v1",
            note = "authenticate at /clodo/ (the root); the management URL is /clodo/v1" },
  },
}

local known = {}
for _, name in ipairs(M.names) do known[name] = true end

--- Is `name` a provider?
function M.is(name)
  return type(name) == "string" and known[name] == true
end

--- The names joined for messages ("reliacloud, dimensiondata, ...").
function M.list()
  return table.concat(M.names, ", ")
end

--- Module names of a provider's parts.
function M.modules(name)
  return { catalog = "luacloud.catalog." .. name, hooks = "luacloud.providers." .. name, sim = "luacloud.sim." .. name }
end

return M
