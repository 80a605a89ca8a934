#!/usr/bin/env python3
"""Drive the Dimension Data simulator with Apache Libcloud (python3-libcloud, Debian).

usage: libcloud_dd_walk.py HOST PORT PATH_PREFIX USER PASSWORD CA_FILE SERVER_ID OTHER_SERVER_ID
Libcloud's Dimension Data drivers speak HTTPS only; the simulator's CA verifies it. Only what
Libcloud sends to the 0.9 API (/oec/0.9) is driven: account, networks, servers' 0.9 actions,
anti-affinity, backup (its backup driver) and the reports. Prints one JSON object.
"""
import json
import sys

import libcloud.security
from libcloud.backup.drivers.dimensiondata import DimensionDataBackupDriver
from libcloud.compute.base import Node
from libcloud.compute.drivers.dimensiondata import DimensionDataNodeDriver
from libcloud.compute.types import NodeState


def driver(cls, host, port, prefix, user, password):
    d = cls(user, password, secure=True, host=host, port=int(port), region=None)
    d.connection.request_path = prefix  # the simulator serves the API below a path
    return d


def locations_from_0_9(compute):
    """Libcloud 3.4 reads locations (and images, nodes) from CaaS 2.x only, which is not part of
    the 0.9 document the simulator serves; its network parser needs them: give it the 0.9
    List Data Centers answer, read through Libcloud's own connection."""
    from libcloud.compute.base import NodeLocation
    from libcloud.utils.xml import findall, findtext
    ns = "http://oec.api.opsource.net/schemas/datacenter"
    body = compute.connection.request_with_orgId_api_1("datacenter").object
    return [NodeLocation(id=findtext(d, "location", ns), name=findtext(d, "displayName", ns),
                         country=findtext(d, "country", ns), driver=compute)
            for d in findall(body, "datacenter", ns)]


def attempt(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - recorded for the spec
        return "refused: %s" % e


def main():
    host, port, prefix, user, password, ca, server_id, other_id = sys.argv[1:9]
    libcloud.security.CA_CERTS_PATH = ca
    compute = driver(DimensionDataNodeDriver, host, port, prefix, user, password)
    backup = driver(DimensionDataBackupDriver, host, port, prefix, user, password)
    out = {}

    locations = locations_from_0_9(compute)
    compute.list_locations = lambda ex_id=None: locations
    out["locations"] = sorted(loc.id for loc in locations)

    acct = compute.connection.get_account_details()
    out["account"] = {"user_name": acct.user_name, "email": acct.email, "org": compute.connection._get_orgId()}

    net = compute.ex_create_network("NA1", "libcloud-net", description="from libcloud")
    out["network"] = {"name": net.name, "location": net.location.id if hasattr(net.location, "id") else net.location}
    out["renamed"] = compute.ex_rename_network(net, "libcloud-net-2")
    out["networks"] = sorted(n.name for n in compute.list_networks())
    out["networks_na1"] = len(compute.list_networks(location="NA1"))

    node = Node(id=server_id, name="s", state=NodeState.RUNNING, public_ips=[], private_ips=[], driver=compute)
    other = Node(id=other_id, name="o", state=NodeState.RUNNING, public_ips=[], private_ips=[], driver=compute)
    out["update_node"] = compute.ex_update_node(node, name="libcloud-renamed", description="by libcloud")
    out["anti_affinity"] = compute.ex_create_anti_affinity_rule([node, other])

    target = backup.create_target("libcloud", server_id, extra={"servicePlan": "Enterprise"})
    out["backup_target"] = target.address
    types = backup.ex_list_available_client_types(target)
    storage = backup.ex_list_available_storage_policies(target)
    schedule = backup.ex_list_available_schedule_policies(target)
    out["client_types"] = [t.type for t in types]
    # the alerting trigger as an attribute, the way Libcloud writes it
    added = backup.ex_add_client_to_target(target, "FA.Linux", storage[0], schedule[0], "ON_FAILURE",
                                           "ops@example.com")
    out["client_added"] = added
    details = backup.ex_get_backup_details_for_target(target)
    out["backup_details"] = {"service_plan": details.service_plan,
                             "clients": [(c.type.type, c.alert.notify_list if c.alert else None) for c in details.clients]}
    # Libcloud removes a client with "?disable"; the document's Remove Backup Client is "?remove"
    out["client_removed"] = attempt(lambda: backup.ex_remove_client_from_target(target, details.clients[0]))
    # so the server keeps its client, and Disable Backup refuses (REASON_548)
    out["backup_disabled"] = attempt(lambda: backup.delete_target(target))

    # reports: the audit log over the document's longest range (end = start + 30 days)
    out["reports"] = {
        "summary": len(compute.ex_summary_usage_report("2024-01-01", "2024-01-02")),
        "detailed": len(compute.ex_detailed_usage_report("2024-01-01", "2024-01-02")),
        "software": len(compute.ex_software_usage_report("2024-01-01", "2024-01-02")),
        "audit": compute.ex_audit_log_report("2024-01-01", "2024-01-31")[0][:3],
        "backup": compute.ex_backup_usage_report("2024-01-01", "2024-01-02", "NA1")[0][:2],
    }
    out["network_deleted"] = compute.ex_delete_network(net)
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the spec shows whatever went wrong
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
