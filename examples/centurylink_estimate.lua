#!/usr/bin/env lua5.4
-- CenturyLink Cloud (API v1): what the account costs. Account summary, the estimate of every group
-- of the data center with its servers, and the last invoice.
--
-- Against the simulator (default):  bin/luacloud-sim start
--                                    lua5.4 examples/centurylink_estimate.lua [location]
-- Against the real API:             LUACLOUD_CENTURYLINK_ENDPOINT=https://api.ctl.io \
--                                    LUACLOUD_CENTURYLINK_API_KEY=... LUACLOUD_CENTURYLINK_PASSWORD=... \
--                                    lua5.4 examples/centurylink_estimate.lua WA1
-- Options (env): LUACLOUD_CENTURYLINK_FORMAT=json|xml, LUACLOUD_CENTURYLINK_ACCOUNT_ALIAS (default: the API user's).
-- Runs from any directory: examples/lib/example.lua puts this checkout's lua/ and build/ first.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/lib/?.lua;" .. package.path
local example = require "example" -- the library of this checkout, options, must
local must = example.must
local env = os.getenv

local c = example.client("centurylink", { format = "json" })

-- money arrives as numbers (JSON) or decimal strings (XML)
local function money(v) return string.format("%10.2f", tonumber(v) or 0) end

local account = env("LUACLOUD_CENTURYLINK_ACCOUNT_ALIAS")
local details = must(c:get_account_details { AccountAlias = account or must(c:get_accounts()).Accounts[1].AccountAlias }).AccountDetails
account = details.AccountAlias
local location = arg[1] or details.Location
print(("%s (%s), data center %s"):format(details.BusinessName, account, location))

-- 1. Account summary.
local sum = must(c:get_account_summary { AccountAlias = account })
print(("  month to date %s   monthly estimate %s   current hour %s   previous hour %s"):format(
  money(sum.MonthToDate), money(sum.MonthlyEstimate), money(sum.CurrentHour), money(sum.PreviousHour)))

-- 2. Every group with servers: group estimate and the estimate of each server.
print(("\n%-24s %-16s %10s %10s"):format("group", "server", "month", "estimate"))
for _, g in ipairs(must(c:get_groups { AccountAlias = account, Location = location }).HardwareGroups) do
  local servers = must(c:get_servers { AccountAlias = account, HardwareGroupUUID = g.UUID }).Servers
  if #servers > 0 then
    local ge = must(c:get_group_estimate { AccountAlias = account, HardwareGroupUUID = g.UUID })
    print(("%-24s %-16s %s %s"):format(g.Name, "", money(ge.MonthToDate), money(ge.MonthlyEstimate)))
    for _, s in ipairs(servers) do
      local se = must(c:get_server_estimate { AccountAlias = account, ServerName = s.Name })
      print(("%-24s %-16s %s %s"):format("", s.Name, money(se.MonthToDate), money(se.MonthlyEstimate)))
    end
  end
end

-- 3. Billing history and the newest invoice.
local hist = must(c:get_billing_history { AccountAlias = account })
print(("\noutstanding balance %s"):format(money(hist.OutstandingBalance)))
local invoice
for _, e in ipairs(hist.BillingHistory) do
  if tonumber(e.Debit) and tonumber(e.Debit) > 0 and not invoice then invoice = e.InvoiceID end
end
if invoice then
  local inv = must(c:get_invoice_details { AccountAlias = account, InvoiceID = invoice })
  print(("invoice %s: %s"):format(invoice, money(inv.Invoice.TotalAmount)))
  for _, li in ipairs(inv.Invoice.LineItems) do
    print(("  %-32s %s x%s = %s"):format(li.Description, money(li.UnitCost), tostring(li.Quantity), money(li.ItemTotal)))
  end
end
c:logout()
