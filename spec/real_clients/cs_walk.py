#!/usr/bin/env python3
"""Drive the ReliaCloud simulator with python3-cs, the CloudStack client in Debian.

usage: cs_walk.py ENDPOINT API_KEY SECRET MODE [CA_FILE]
  MODE: v3-get | v3-post | legacy-get | legacy-post
  v3:     signatureVersion=3 with an expires time (cs's default)
  legacy: no expires, the original signature (expiration < 0)
Prints one JSON object: what each call answered (names and counts), or {"error": ...}.
"""
import json
import sys

from cs import CloudStack, CloudStackException


def main():
    endpoint, key, secret, mode = sys.argv[1:5]
    ca = sys.argv[5] if len(sys.argv) > 5 else None
    version, method = mode.split("-")
    cs = CloudStack(endpoint=endpoint, key=key, secret=secret, method=method, timeout=10, verify=ca,
                    expiration=600 if version == "v3" else -1, fetch_result=False,
                   )
    out = {}
    zones = cs.listZones(available="true")["zone"]
    out["zones"] = [z["name"] for z in zones]
    templates = cs.listTemplates(templatefilter="featured", zoneid=zones[0]["id"])["template"]
    out["templates"] = len(templates)
    # the ReliaCloud document names the items "offering" (CloudStack: "serviceoffering")
    listed = cs.listServiceOfferings()
    offerings = listed.get("offering") or listed.get("serviceoffering")
    out["offerings"] = len(offerings)
    job = cs.deployVirtualMachine(zoneid=zones[0]["id"], templateid=templates[0]["id"],
                                  serviceofferingid=offerings[0]["id"], name="cs-" + mode)
    # ReliaCloud answers deployments synchronously, the fields right in the response object
    vm = job.get("virtualmachine", job)
    out["deployed"] = {"id": vm["id"], "state": vm["state"], "name": vm.get("name")}
    stopped = cs.stopVirtualMachine(id=vm["id"])
    # ReliaCloud's stop answers {"success": "true"}; the machine's state is in the listing
    out["stopped"] = stopped.get("virtualmachine", stopped).get("state") or stopped.get("success")
    out["state_after_stop"] = [v.get("state") for v in cs.listVirtualMachines(id=vm["id"]).get("virtualmachine", [])]
    destroyed = cs.destroyVirtualMachine(id=vm["id"])
    out["destroyed"] = destroyed.get("virtualmachine", destroyed).get("state", destroyed.get("success"))
    out["listed_after"] = [v["id"] for v in cs.listVirtualMachines().get("virtualmachine", [])
                           if v["id"] == vm["id"] and v.get("state") != "Destroyed"]
    # a refused signature must be refused: a wrong secret
    bad = CloudStack(endpoint=endpoint, key=key, secret=secret + "x", method=method, timeout=10, verify=ca,
                     expiration=600 if version == "v3" else -1)
    try:
        bad.listZones()
        out["bad_secret"] = "accepted"
    except CloudStackException as e:
        resp = getattr(e, "response", None)
        out["bad_secret"] = "refused %s" % (resp.status_code if resp is not None else e)
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the spec shows whatever went wrong
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
