-- ReliaCloud API Reference Guide 1.0 (9 Dec 2009): operation catalog (data only).
-- Source: shared/seeds/reliacloud-api-reference-1.0.txt, shared/operations/reliacloud.tsv,
-- shared/notes/reliacloud.md. Format: docs/DESIGN.md "Catalog".
--
-- Provider-specific keys:
--   command          the command string actually put on the wire (notes §5: the document's capitalised
--                    headings StopVirtualMachine/RebootVirtualMachine/EnableHAForVirtualMachine and the
--                    singular listVirtualMachine are almost certainly not the server's names).
--   aliases          other accepted operation names (the document's spelling, plausible server spellings).
--   param.aliases    other accepted spellings of a parameter name (e.g. the document's "virtualMachineld").
--   param_case       "lower": parameter names go on the wire in lower case (notes §4.3; the server treats
--                    names case-insensitively, and lower case makes both signature sort readings agree).
--   (the answer's root element is not checked: a printed typo such as "createrrupdate..." is harmless)
--   idempotent, safe safe: a read (list*), always safe to repeat; idempotent: repeating it leaves the same
--                    state (start/stop, createOrUpdate rules). Every command is a GET, so the HTTP method
--                    says nothing about safety: deploy, reboot, destroy, associate... must not be re-sent
--                    blindly after a timeout or a 530.
--   timeout          seconds: the command answers synchronously and may take minutes (deploy/start/stop/reboot).

-- Error texts as printed in the document (section "Error Codes" of each command).
local T = {
  [401] = "Unauthorized user.",
  [430] = "Malformed parameters.",
  [431] = "The parameters passed in was invalid.",
  [530] = "Unknown server internal error.",
  [531] = "Unable to find the account.",
}

-- errors{codes..., [code] = "specific text"}: data helper, builds the code -> text map.
local function errors(t)
  local m = {}
  for _, code in ipairs(t) do m[code] = T[code] end
  for k, v in pairs(t) do
    if type(k) == "number" and type(v) == "string" and k > 100 then m[k] = v end
  end
  return m
end

local function p(name, required, type_, doc, extra)
  local e = { name = name, required = required, type = type_ or "string", doc = doc }
  if extra then for k, v in pairs(extra) do e[k] = v end end
  return e
end

local function ID_VM() return p("id", true, "string", "The id of the virtual machine.") end

return {
  provider = "reliacloud",
  title = "ReliaCloud API Reference Guide 1.0",
  formats = { "xml", "json" },
  default_format = "xml",
  format_param = "response",             -- "&response=json" selects JSON; XML is the default
  default_endpoint = "http://provisioning.reliacloud.com:8080/client/api",
  param_case = "lower",
  -- Dates: Java yyyy-MM-dd'T'HH:mm:ssZ, e.g. 2009-09-18T13:16:10-0700 (offset without colon).
  date_format = "yyyy-MM-dd'T'HH:mm:ssZ",
  -- transient failures (luacloud.retry): 530 "unknown server internal error", 503
  retry = { statuses = { 503, 530 } },
  operations = {
    deploy_virtual_machine = {
      name = "deployVirtualMachine",
      command = "deployVirtualMachine",
      aliases = { "deployvirtualmachine" },
      section = "Commands > deployVirtualMachine",
      method = "GET", path = "?command=deployVirtualMachine", body = "query",
      params = {
        p("zoneId", true, "string",
          "The id of the zone in which to deploy the virtual machine. "
          .. "Specifying -1 as the zone will use the default zone."),
        p("serviceOfferingId", true, "string",
          "The id of the service offering to use when creating the virtual machine."),
        p("templateId", true, "string", "The id of the template to use when creating the virtual machine."),
        -- Marked [required], yet its text says a default domain is used when not specified
        -- (document contradiction).
        p("networkDomain", true, "string",
          "The network domain to assign this virtual machine to. "
          .. "If not specified, a default domain will be specified."),
      },
      response = { root = "deployvirtualmachineresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      timeout = 600,
      errors = errors{ 401, 430, 431, 530, 531,
        [540] = "A server error occurred while trying to deploy the virtual machine." },
    },

    start_virtual_machine = {
      name = "startVirtualMachine",
      command = "startVirtualMachine",
      aliases = { "startvirtualmachine" },
      section = "Commands > startVirtualMachine",
      method = "GET", path = "?command=startVirtualMachine", body = "query",
      params = { ID_VM() },
      response = { root = "startvirtualmachineresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = true, safe = false,
      timeout = 600,
      errors = errors{ 401, 430, 431, 530,
        [543] = "A server occurred while trying to start the virtual machine." },
    },

    stop_virtual_machine = {
      name = "StopVirtualMachine",
      command = "stopVirtualMachine",
      aliases = { "stopVirtualMachine", "stopvirtualmachine" },
      section = "Commands > StopVirtualMachine",
      method = "GET", path = "?command=StopVirtualMachine", body = "query",
      params = { ID_VM() },
      response = { root = "stopvirtualmachineresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = true, safe = false,
      timeout = 600,
      errors = errors{ 401, 430, 431, 530,
        [544] = "A server error occurred while trying to stop the virtual machine." },
    },

    reboot_virtual_machine = {
      name = "RebootVirtualMachine",
      command = "rebootVirtualMachine",
      aliases = { "rebootVirtualMachine", "rebootvirtualmachine" },
      section = "Commands > RebootVirtualMachine",
      method = "GET", path = "?command=RebootVirtualMachine", body = "query",
      params = { ID_VM() },
      response = { root = "rebootvirtualmachineresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      timeout = 600,
      errors = errors{ 401, 430, 431, 530,
        [542] = "A server error occurred while trying to reboot the virtual machine." },
    },

    destroy_virtual_machine = {
      name = "destroyVirtualMachine",
      command = "destroyVirtualMachine",
      aliases = { "destroyvirtualmachine" },
      section = "Commands > destroyVirtualMachine",
      method = "GET", path = "?command=destroyVirtualMachine", body = "query",
      params = { ID_VM() },
      response = { root = "destroyvirtualmachineresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      errors = errors{ 401, 430, 431, 530,
        [541] = "A server error occurred while trying to destroy the virtual machine." },
    },

    change_service_for_virtual_machine = {
      name = "changeServiceForVirtualMachine",
      command = "changeServiceForVirtualMachine",
      aliases = { "changeserviceforvirtualmachine" },
      section = "Commands > changeServiceForVirtualMachine",
      method = "GET", path = "?command=changeServiceForVirtualMachine", body = "query",
      params = {
        ID_VM(),
        p("serviceOfferingId", true, "string", "The service offering to be changed to."),
      },
      response = { root = "changeserviceforvirtualmachineresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = true, safe = false,
      errors = errors{ 401, 430, 431, 530,
        [546] = "A server error occurred while trying to upgrade the virtual machine." },
    },

    enable_ha_for_virtual_machine = {
      name = "EnableHAForVirtualMachine",
      command = "enableHAForVirtualMachine",
      aliases = { "enableHAForVirtualMachine", "enableHaForVirtualMachine", "enablehaforvirtualmachine" },
      section = "Commands > EnableHAForVirtualMachine",
      method = "GET", path = "?command=EnableHAForVirtualMachine", body = "query",
      params = {
        ID_VM(),
        p("haEnable", true, "boolean", "True to enable HA, false to disable."),
      },
      response = { root = "enablehaforvirtualmachineresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = true, safe = false,
      errors = errors{ 401, 430, 431, 530 },
    },

    reset_password_for_virtual_machine = {
      name = "resetPasswordForVirtualMachine",
      command = "resetPasswordForVirtualMachine",
      aliases = { "resetpasswordforvirtualmachine" },
      section = "Commands > resetPasswordForVirtualMachine",
      method = "GET", path = "?command=resetPasswordForVirtualMachine", body = "query",
      params = { ID_VM() },
      response = { root = "resetpasswordforvirtualmachineresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      timeout = 600,
      errors = errors{ 401, 430, 431, 530,
        [545] = "A server error occurred while trying to reset the password for the virtual machine." },
    },

    list_virtual_machine = {
      name = "listVirtualMachine",
      command = "listVirtualMachines",
      aliases = { "listVirtualMachines", "listvirtualmachine", "listvirtualmachines" },
      section = "Commands > listVirtualMachine",
      method = "GET", path = "?command=listVirtualMachine", body = "query",
      params = {
        p("name", false, "string", "The name of the virtual machine."),
        p("state", false, "string",
          "The current state of the virtual machine (Running, Stopped, Stopping, Starting, Creating, Migrating, HA).",
          { enum = { "Running", "Stopped", "Stopping", "Starting", "Creating", "Migrating", "HA" } }),
        p("zoneId", false, "string", "The zone that the virtual machine belongs to."),
      },
      response = { root = "listvirtualmachinesresponse", lists = { "virtualmachine" }, items = "virtualmachine" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      errors = errors{ 401, 430, 530, 531,
        [547] = "A server error occurred while trying to list virtual machines." },
    },

    list_templates = {
      name = "listTemplates",
      command = "listTemplates",
      aliases = { "listtemplates" },
      section = "Commands > listTemplates",
      method = "GET", path = "?command=listTemplates", body = "query",
      params = {
        p("name", false, "string", "The name of the template."),
        p("isReady", false, "boolean",
          "Specify true if you want templates that are ready to be used. (default = true)."),
      },
      response = { root = "listtemplatesresponse", lists = { "template" }, items = "template" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      -- 544 is StopVirtualMachine's code too (VM_STOP_ERROR in Cloud.com code): printed as is.
      errors = errors{ 401, 430, 530,
        [544] = "A server error occurred while trying to list templates." },
    },

    list_service_offerings = {
      name = "listServiceOfferings",
      command = "listServiceOfferings",
      aliases = { "listserviceofferings" },
      section = "Commands > listServiceOfferings",
      method = "GET", path = "?command=listServiceOfferings", body = "query",
      params = {
        p("name", false, "string", "The name of the service offering."),
        -- printed "virtualMachineld" (lower-case L): a typo for virtualMachineId
        p("virtualMachineId", false, "string",
          "The virtual machine id. Specifying this will return a list of changeable service offerings based on "
          .. "the current service offering of the virtual machine.",
          { aliases = { "virtualMachineld" } }),
      },
      response = { root = "listserviceofferingsresponse", lists = { "offering" }, items = "offering" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      errors = errors{ 401, 430, 530, 531 },
    },

    associate_ip_address = {
      name = "associateIPAddress",
      command = "associateIPAddress",
      aliases = { "associateIpAddress", "associateipaddress" },
      section = "Commands > associateIPAddress",
      method = "GET", path = "?command=associateIPAddress", body = "query",
      params = {
        p("zoneid", true, "string", "The zone from which to retrieve the ip address from.",
          { aliases = { "zoneId" } }),
      },
      response = { root = "associateipaddressresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      errors = errors{ 401, 430, 431, 530,
        [560] = "A server error occurred while trying to associate an ip address." },
    },

    disassociate_ip_address = {
      name = "disassociateIPAddress",
      command = "disassociateIPAddress",
      aliases = { "disassociateIpAddress", "disassociateipaddress" },
      section = "Commands > disassociateIPAddress",
      method = "GET", path = "?command=disassociateIPAddress", body = "query",
      params = {
        p("ipAddress", true, "string", "The ip address to disassociate from."),
      },
      response = { root = "disassociateipaddressresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      -- The document prints 560 (Cloud.com code: 561 NET_IP_DIASSOC_ERROR); both are listed.
      errors = errors{ 401, 430, 431, 530,
        [560] = "A server error occurred while trying to disassociate an ip address.",
        [561] = "A server error occurred while trying to disassociate an ip address." },
    },

    list_ip_address = {
      name = "listIPAddress",
      command = "listIPAddresses",
      aliases = { "listIPAddresses", "listIpAddresses", "listipaddress", "listipaddresses" },
      section = "Commands > listIPAddress",
      method = "GET", path = "?command=listIPAddress", body = "query",
      params = {},
      response = { root = "listipaddressesresponse", lists = { "allocatedipaddress" }, items = "allocatedipaddress" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      errors = errors{ 401, 430, 431, 530,
        [570] = "A server error occurred while trying to list ip addresses." },
    },

    create_or_update_ip_forwarding_rule = {
      name = "createOrUpdateIpForwardingRule",
      command = "createOrUpdateIpForwardingRule",
      aliases = { "createorupdateipforwardingrule" },
      section = "Commands > createOrUpdateIpForwardingRule",
      method = "GET", path = "?command=createOrUpdateIpForwardingRule", body = "query",
      params = {
        p("publicip", true, "string", "The public ip address."),
        p("publicPort", true, "integer", "The public port (0-65535).", { min = 0, max = 65535 }),
        p("privateip", true, "string", "The private ip address."),
        p("privatePort", true, "integer", "The private port (0-65535).", { min = 0, max = 65535 }),
        p("Protocol", true, "string", "The ip forwarding protocol (TCP, UDP)",
          { enum = { "TCP", "UDP" } }),
      },
      -- root printed with the typo "createrr..." (for "createor...")
      response = { root = "createrrupdateipforwardingruleresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = true, safe = false,
      errors = errors{ 401, 430, 530,
        [432] = "The parameters passed in for the ip forwarding rule was invalid.",
        [562] = "A server error occurred while trying to create or update an ip forwarding rule.",
        [564] = "The rule conflicts with an existing load balancer rule." },
    },

    delete_ip_forwarding_rule = {
      name = "deleteIpForwardingRule",
      command = "deleteIpForwardingRule",
      aliases = { "deleteipforwardingrule" },
      section = "Commands > deleteIpForwardingRule",
      method = "GET", path = "?command=deleteIpForwardingRule", body = "query",
      params = { p("id", true, "string", "The ip forwarding rule id.") },
      response = { root = "deleteipforwardingruleresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      errors = errors{ 401, 430, 431, 530,
        [563] = "A server error occurred while trying to delete an ip forwarding rule." },
    },

    list_ip_forwarding_rules = {
      name = "listIpForwardingRules",
      command = "listIpForwardingRules",
      aliases = { "listipforwardingrules" },
      section = "Commands > listIpForwardingRules",
      method = "GET", path = "?command=listIpForwardingRules", body = "query",
      params = { p("publicip", true, "string", "The public ip address.") },
      response = { root = "listipforwardingrulesresponse", lists = { "ipforwardingrule" }, items = "ipforwardingrule" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      errors = errors{ 401, 430, 431, 530,
        [570] = "A server error occurred while trying to list ip forwarding rules." },
    },

    create_or_update_load_balancer_rule = {
      name = "createOrUpdateLoadBalancerRule",
      command = "createOrUpdateLoadBalancerRule",
      aliases = { "createorupdateloadbalancerrule" },
      section = "Commands > createOrUpdateLoadBalancerRule (heading printed twice)",
      method = "GET", path = "?command=createOrUpdateLoadBalancerRule", body = "query",
      params = {
        p("publicip", true, "string", "The public ip address."),
        p("publicPort", true, "integer", "The public port (0-65535).", { min = 0, max = 65535 }),
        p("privateip", true, "string", "The private ip address."),
        p("privatePort", true, "integer", "The private port (0-65535).", { min = 0, max = 65535 }),
        p("Algorithm", true, "string", "The load balancer algorithm (roundrobin, leastconn, source).",
          { enum = { "roundrobin", "leastconn", "source" } }),
      },
      -- root printed "createrrupdateloadbalancerruleresponse", closed as "...rulereponse" (mismatched tag)
      response = { root = "createrrupdateloadbalancerruleresponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = true, safe = false,
      errors = errors{ 401, 430, 530,
        [432] = "The parameters passed in for the load balancer was invalid.",
        [566] = "A server error occurred while trying to create or update a load balancer rule.",
        [568] = "The rule conflicts with an existing ip forwarding rule "
          .. "or with a load balancer rule of the same algorithm." },
    },

    delete_load_balancer_rule = {
      name = "deleteLoadBalancerRule",
      command = "deleteLoadBalancerRule",
      aliases = { "deleteloadbalancerrule" },
      section = "Commands > deleteLoadBalancerRule",
      method = "GET", path = "?command=deleteLoadBalancerRule", body = "query",
      params = { p("id", true, "string", "The load balancer rule id.") },
      -- root printed "deleteloadbalancerrulereponse" (missing 's')
      response = { root = "deleteloadbalancerrulereponse", lists = {}, items = nil },
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      -- The document lists 530 twice ("Unknown server internal error." and "A server error occurred while
      -- trying to delete a load balancer rule."); Cloud.com code has 567 for the latter.
      errors = errors{ 401, 430, 431, 530,
        [567] = "A server error occurred while trying to delete a load balancer rule." },
    },

    list_load_balancer_rules = {
      name = "listLoadBalancerRules",
      command = "listLoadBalancerRules",
      aliases = { "listloadbalancerrules" },
      section = "Commands > listLoadBalancerRules",
      method = "GET", path = "?command=listLoadBalancerRules", body = "query",
      params = { p("publicip", true, "string", "The public ip address.") },
      response = { root = "listloadbalancerrulesresponse", lists = { "loadbalancerrule" }, items = "loadbalancerrule" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      errors = errors{ 401, 430, 431, 530,
        [570] = "A server error occurred while trying to list load balancer rules." },
    },

    list_zones = {
      name = "listZones",
      command = "listZones",
      aliases = { "listzones" },
      section = "Commands > listZones",
      method = "GET", path = "?command=listZones", body = "query",
      params = {
        p("available", false, "boolean", "Set to true if you want to see all available zones."),
      },
      response = { root = "listzonesresponse", lists = { "zone" }, items = "zone" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      errors = errors{ 401, 430, 530 },
    },

    list_events = {
      name = "listEvents",
      command = "listEvents",
      aliases = { "listevents" },
      section = "Commands > listEvents",
      method = "GET", path = "?command=listEvents", body = "query",
      params = {
        p("type", false, "string", "List events by event type."),
        -- input date format not documented; Cloud.com 2010 code parsed yyyy-MM-dd
        p("startDate", false, "string", "List events by start date."),
        p("endDate", false, "string", "List events by end date."),
      },
      response = { root = "listeventsresponse", lists = { "event" }, items = "event" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      errors = errors{ 401, 430, 530, 531 },
    },

    list_account_statistics = {
      name = "listAccountStatistics",
      command = "listAccountStatistics",
      aliases = { "listaccountstatistics" },
      section = "Commands > listAccountStatistics",
      method = "GET", path = "?command=listAccountStatistics", body = "query",
      params = {},
      response = { root = "listaccountstatisticsresponse", lists = { "accountstat" }, items = "accountstat" },
      paging = false, async = false, deprecated = false, idempotent = true, safe = true,
      errors = errors{ 401, 430, 530, [531] = "Unable to find account." },
    },

    login = {
      name = "login",
      command = "login",
      aliases = {},
      section = "Commands > login",
      method = "GET", path = "?command=login", body = "query",
      params = {
        p("username", true, "string", "Username."),
        p("password", true, "string", "Password.", { secret = true }),
      },
      response = { root = "login", lists = {}, items = nil },
      auth = "none",                     -- not signed; the response sets the JSESSIONID cookie
      login = true,                      -- refused: wrong credentials, never re-authenticated
      paging = false, async = false, deprecated = false, idempotent = false, safe = false,
      errors = errors{ 401, 430, 530 },
    },

    logout = {
      name = "logout",
      command = "logout",
      aliases = {},
      section = "Commands > logout",
      method = "GET", path = "?command=logout", body = "query",
      params = {},
      response = { root = "logout", lists = {}, items = nil },
      auth = "session",
      paging = false, async = false, deprecated = false, idempotent = true, safe = false,
      errors = {},                       -- the document lists no error codes for logout
    },
  },
}
