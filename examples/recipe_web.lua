-- A desired-state recipe used unchanged on Dimension Data and CenturyLink (and on ReliaCloud
-- and Clodo, where the parts they lack are skipped and listed by the plan):
--   bin/luacloud plan examples/recipe_web.lua --provider dimensiondata
--   bin/luacloud apply examples/recipe_web.lua --provider centurylink
-- Everything this recipe creates is named (or labelled) "webdemo-..."; only such objects are
-- ever deleted. Values that differ per cloud are tables keyed by provider.
return {
  name = "webdemo",
  location = { dimensiondata = "NA1", centurylink = "WA1", reliacloud = "WC" },
  skip_unsupported = true,
  networks = {
    { name = "net" },
  },
  servers = {
    { name = "web", count = 2, network = "net",
      image = { reliacloud = "CentOS", dimensiondata = "CentOS", centurylink = "CENTOS", clodo = "CentOS" },
      size = { reliacloud = "Small", centurylink = "1x2", clodo = "512x5" },
      password = { dimensiondata = "Webdemo-P4ss", centurylink = "Webdemo-P4ss!" } },
  },
  firewall = {
    { name = "http", network = "net", protocol = "TCP", port = 80, action = "PERMIT" },
    { name = "ssh", network = "net", protocol = "TCP", port = 22, action = "PERMIT", source = "10.0.0.0/8" },
  },
  balancers = {
    { name = "lb", network = "net", port = 80, backend_port = 8080, servers = "web", algorithm = "roundrobin" },
  },
}
