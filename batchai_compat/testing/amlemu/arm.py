"""ARM routes: workspaces (get/list/update/delete), discovery, usages, and what ``Workspace.create`` needs
(providers, resource groups, resource search, template deployments).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from .server import Request, Response
from .state import WS_PROVIDER, Workspace
from .util import HttpError, ci_get, iso, new_id, utcnow

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourceGroups/(?P<rg>[^/]+)"
SERVICE_KEYS = ("api", "catalog", "experimentation", "gallery", "history", "hyperdrive", "labeling",
                "modelmanagement", "pipelines", "studio", "cert", "mfe")


# (vCPUs, GPUs) of GPU sizes, from the sizes' documentation on learn.microsoft.com/azure/virtual-machines/:
# nc-series (K80), ncv3-series (V100), nct4-v3-series (T4), nc-a100-v4-series, nda100-v4-series, ndv2-series.
# The count is not derivable from the name (NC24ads_A100_v4 has 1 GPU, NC64as_T4_v3 4, ND96asr_v4 8).
GPU_SIZES = {
    "STANDARD_NC6": (6, 1), "STANDARD_NC12": (12, 2), "STANDARD_NC24": (24, 4),
    "STANDARD_NC6S_V3": (6, 1), "STANDARD_NC12S_V3": (12, 2), "STANDARD_NC24S_V3": (24, 4),
    "STANDARD_NC4AS_T4_V3": (4, 1), "STANDARD_NC8AS_T4_V3": (8, 1), "STANDARD_NC16AS_T4_V3": (16, 1),
    "STANDARD_NC64AS_T4_V3": (64, 4),
    "STANDARD_NC24ADS_A100_V4": (24, 1), "STANDARD_NC48ADS_A100_V4": (48, 2), "STANDARD_NC96ADS_A100_V4": (96, 4),
    "STANDARD_ND96ASR_V4": (96, 8), "STANDARD_ND40RS_V2": (40, 8),
}


class ArmRoutes:
    def __init__(self, emu: Any):
        self.emu = emu
        self.state = emu.state

    def register(self, r: Any) -> None:
        r.add("GET", "{WS}", self.get_workspace, "ARM GET workspace")
        r.add("PATCH", "{WS}", self.update_workspace, "ARM PATCH workspace")
        r.add("DELETE", "{WS}", self.delete_workspace, "ARM DELETE workspace")
        r.add("PUT", "{WS}", self.put_workspace, "ARM PUT workspace")
        r.add("GET", RG + r"/providers/Microsoft\.MachineLearningServices/workspaces", self.list_workspaces,
              "ARM list workspaces (resource group)")
        r.add("GET", SUB + r"/providers/Microsoft\.MachineLearningServices/workspaces", self.list_workspaces,
              "ARM list workspaces (subscription)")
        r.add("GET", r"/discovery/workspaces/(?P<wsid>[^/]+)", self.discovery, "discovery")
        r.add("GET", r"/discovery", self.discovery, "discovery (regional)")
        r.add("GET", SUB + r"/providers/Microsoft\.MachineLearningServices/locations/(?P<loc>[^/]+)/usages",
              self.usages, "ARM usages")
        r.add("GET", SUB + r"/providers/Microsoft\.MachineLearningServices/locations/(?P<loc>[^/]+)/vmSizes",
              self.vm_sizes, "ARM vmSizes")
        r.add("GET", SUB + r"/providers/Microsoft\.MachineLearningServices/locations/(?P<loc>[^/]+)/quotas",
              self.quotas, "ARM quotas")
        r.add("GET", r"/subscriptions", self.list_subscriptions, "ARM list subscriptions")
        r.add("POST", r"/(?P<tenant>[^/]+)/oauth2/token", self.aad_token, "AAD POST token")
        r.add("GET", SUB, self.get_subscription, "ARM GET subscription")
        # Workspace.create (HTTPS only: the track-2 ResourceManagementClient refuses bearer tokens over http).
        r.add("GET", SUB + r"/providers/(?P<ns>[^/]+)", self.get_provider, "ARM GET provider")
        r.add("POST", SUB + r"/providers/(?P<ns>[^/]+)/register", self.get_provider, "ARM register provider")
        r.add("GET", RG, self.get_resource_group, "ARM GET resource group")
        r.add("HEAD", RG, self.head_resource_group, "ARM HEAD resource group")
        r.add("PUT", RG, self.put_resource_group, "ARM PUT resource group")
        r.add("GET", SUB + r"/resources", self.list_resources, "ARM list resources")
        r.add("GET", RG + r"/resources", self.list_resources, "ARM list resources (resource group)")
        r.add("PUT", RG + r"/providers/Microsoft\.Resources/deployments/(?P<dep>[^/]+)", self.put_deployment,
              "ARM PUT deployment")
        r.add("GET", RG + r"/providers/Microsoft\.Resources/deployments/(?P<dep>[^/]+)", self.get_deployment,
              "ARM GET deployment")
        r.add("GET", RG + r"/providers/Microsoft\.Resources/deployments/(?P<dep>[^/]+)/operationStatuses/(?P<op>[^/]+)",
              self.get_deployment_status, "ARM GET deployment operation")
        r.add("GET", RG + r"/(?:deployments|providers/Microsoft\.Resources/deployments)/(?P<dep>[^/]+)/operations",
              self.list_deployment_operations, "ARM list deployment operations")
        subdep = SUB + r"/providers/Microsoft\.Resources/deployments"
        r.add("GET", subdep, self.list_deployments, "ARM list deployments (subscription)")
        r.add("PUT", subdep + r"/(?P<dep>[^/]+)", self.put_deployment, "ARM PUT deployment (subscription)")
        r.add("GET", subdep + r"/(?P<dep>[^/]+)", self.get_deployment, "ARM GET deployment (subscription)")
        r.add("DELETE", subdep + r"/(?P<dep>[^/]+)", self.delete_resource, "ARM DELETE deployment (subscription)")
        r.add("GET", subdep + r"/(?P<dep>[^/]+)/operationStatuses/(?P<op>[^/]+)", self.get_deployment_status,
              "ARM GET deployment operation (subscription)")
        r.add("GET", subdep + r"/(?P<dep>[^/]+)/operations", self.list_deployment_operations,
              "ARM list deployment operations (subscription)")
        r.add("DELETE", RG + r"/providers/(?P<ns>[^/]+)/(?P<kind>[^/]+)/(?P<name>[^/]+)", self.delete_resource,
              "ARM DELETE resource")
        r.add("GET", r"/providers/Microsoft\.MachineLearningServices/operations", self.list_operations,
              "ARM list provider operations")

    # -- workspaces ------------------------------------------------------------------------------
    def _ws(self, req: Request) -> Workspace:
        ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
        if ws is None:
            raise HttpError(404, "ResourceNotFound",
                            "The Resource '{}/workspaces/{}' under resource group '{}' was not found.".format(
                                WS_PROVIDER, req.params["ws"], req.params["rg"]))
        return ws

    def workspace_payload(self, ws: Workspace, base_url: str) -> Dict[str, Any]:
        account = ws.storage_account_name()
        return {
            "id": ws.arm_id,
            "name": ws.name,
            "type": WS_PROVIDER + "/workspaces",
            "location": ws.location,
            "tags": ws.tags,
            "sku": {"name": ws.sku, "tier": ws.sku},
            "identity": {"type": "SystemAssigned", "principalId": new_id(), "tenantId": new_id()},
            "properties": {
                "workspaceId": ws.workspace_id,
                "friendlyName": ws.friendly_name or ws.name,
                "description": ws.description,
                "creationTime": iso(ws.created),
                "storageAccount": ws.resource_id("Microsoft.Storage/storageAccounts", account),
                "keyVault": ws.resource_id("Microsoft.KeyVault/vaults", "kv" + account[3:21]),
                "applicationInsights": ws.resource_id("Microsoft.Insights/components", "ai" + account[3:21]),
                "containerRegistry": None,
                "hbiWorkspace": False,
                "provisioningState": "Succeeded",
                "discoveryUrl": f"{base_url}/discovery/workspaces/{ws.workspace_id}",
                "allowPublicAccessWhenBehindVnet": False,
                "v1LegacyMode": False,
                "systemDatastoresAuthMode": "accessKey",
            },
        }

    def get_workspace(self, req: Request) -> Any:
        with self.state.lock:
            return self.workspace_payload(self._ws(req), req.base_url)

    def update_workspace(self, req: Request) -> Any:
        body = req.json
        with self.state.lock:
            ws = self._ws(req)
            if isinstance(body.get("tags"), dict):
                ws.tags = {str(k): str(v) for k, v in body["tags"].items()}
            props = body.get("properties") or {}
            if "description" in props:
                ws.description = props["description"] or ""
            if "friendlyName" in props:
                ws.friendly_name = props["friendlyName"] or ""
            return self.workspace_payload(ws, req.base_url)

    def delete_workspace(self, req: Request) -> Any:
        with self.state.lock:
            ws = self._ws(req)
            for run in ws.runs.values():
                self.emu.executor.cancel(run, reason="workspace deleted")
            del self.state.workspaces[self.state.key(ws.subscription_id, ws.resource_group, ws.name)]
        return Response(200, None)

    def put_workspace(self, req: Request) -> Any:
        body = req.json
        with self.state.lock:
            ws = self.state.find_workspace(req.params["sub"], req.params["rg"], req.params["ws"])
            if ws is None:
                ws = self.emu.add_workspace(req.params["sub"], req.params["rg"], req.params["ws"],
                                            location=body.get("location") or "eastus")
            if isinstance(body.get("tags"), dict):
                ws.tags = dict(body["tags"])
            return Response(200, self.workspace_payload(ws, req.base_url))

    def list_workspaces(self, req: Request) -> Any:
        sub, rg = req.params["sub"].lower(), (req.params.get("rg") or "").lower()
        with self.state.lock:
            value = [self.workspace_payload(ws, req.base_url) for key, ws in sorted(self.state.workspaces.items())
                     if key[0] == sub and (not rg or key[1] == rg)]
        return {"value": value}

    def discovery(self, req: Request) -> Any:
        return dict.fromkeys(SERVICE_KEYS, req.base_url)

    # -- subscription-level ------------------------------------------------------------------------
    def usages(self, req: Request) -> Any:
        loc = req.params["loc"]
        with self.state.lock:
            cores = 0
            families: Dict[str, int] = {}
            for ws in self.state.workspaces.values():
                if ws.subscription_id.lower() != req.params["sub"].lower():
                    continue
                for compute in ws.computes.values():
                    compute.refresh(self.emu.monotonic(), self.emu.scale_down_after)
                    vcpus = self.emu.vcpus(compute.vm_size) * len(compute.nodes)
                    cores += vcpus
                    family = self.emu.vm_family(compute.vm_size)
                    families[family] = families.get(family, 0) + vcpus
        base = "/subscriptions/{}/providers/{}/locations/{}".format(req.params["sub"], WS_PROVIDER, loc)
        value: List[Dict[str, Any]] = [{
            "id": base + "/usages/totalCores", "type": WS_PROVIDER + "/totalCores", "unit": "Count",
            "currentValue": cores, "limit": self.emu.core_quota,
            "name": {"value": "Total Cluster Dedicated Regional vCPUs",
                     "localizedValue": "Total Cluster Dedicated Regional vCPUs"}}]
        for family in sorted(set(families) | set(self.emu.family_quotas)):
            value.append({
                "id": base + "/usages/" + family, "type": WS_PROVIDER + "/dedicatedCores", "unit": "Count",
                "currentValue": families.get(family, 0), "limit": self.emu.family_quotas.get(family, 24),
                "name": {"value": family, "localizedValue": family.replace("Family", " Family vCPUs")}})
        return {"value": value}

    def vm_sizes(self, req: Request) -> Any:
        """``GET .../locations/{loc}/vmSizes``: the shape ``AmlCompute.supported_vmsizes`` reads
        (azureml-core ``azureml/_compute/_util.py``, ``get_paginated_compute_supported_vms``: a top-level
        ``amlCompute`` list whose entries need ``name``, ``vCPUs``, ``gpus``, ``memoryGB`` and
        ``maxResourceVolumeMB``), with each size's real GPU count (:data:`GPU_SIZES`)."""
        names = {n.upper(): n for n in self.emu.vm_sizes}
        names.update({n.upper(): n for n in GPU_SIZES if n.upper() not in names})
        value = []
        for upper in sorted(names):
            name = names[upper]
            vcpus, gpus = GPU_SIZES.get(name, (self.emu.vcpus(name), 0))
            value.append({"name": name, "family": self.emu.vm_family(name), "vCPUs": vcpus, "gpus": gpus,
                          "osVhdSizeMB": 1047552, "maxResourceVolumeMB": 102400, "memoryGB": 7.0,
                          "lowPriorityCapable": True, "premiumIO": False, "supportedComputeTypes": ["AmlCompute"]})
        return {"amlCompute": value}

    def aad_token(self, req: Request) -> Any:
        """An Azure AD v1 token endpoint (``<authority>/oauth2/token``), so that credential classes that log in
        when constructed (msrestazure's ``ServicePrincipalCredentials``) can be built without the internet:
        point their authority at the emulator. Answers any client-credentials request with a fake token, in
        the v1 response shape (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
        "Successful response": ``token_type``, ``expires_in``, ``access_token``; v1 adds ``resource``)."""
        from urllib.parse import parse_qs

        from .auth import fake_jwt

        form = parse_qs((req.body or b"").decode("utf-8", "replace"))
        if (form.get("grant_type") or [""])[0] != "client_credentials" or not form.get("client_id"):
            raise HttpError(400, "invalid_request", "AADSTS900144: The request body must contain a client_id and "
                                                    "grant_type=client_credentials.")
        return {"token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
                "resource": (form.get("resource") or ["https://management.core.windows.net/"])[0],
                "access_token": fake_jwt()}

    def quotas(self, req: Request) -> Any:
        return {"value": []}

    def list_subscriptions(self, req: Request) -> Any:
        with self.state.lock:
            subs = sorted({ws.subscription_id for ws in self.state.workspaces.values()})
        return {"value": [self._sub_payload(s) for s in subs]}

    def get_subscription(self, req: Request) -> Any:
        return self._sub_payload(req.params["sub"])

    @staticmethod
    def _sub_payload(sub: str) -> Dict[str, Any]:
        return {"id": "/subscriptions/" + sub, "subscriptionId": sub, "displayName": sub, "state": "Enabled",
                "tenantId": "00000000-0000-0000-0000-000000000000"}

    def list_operations(self, req: Request) -> Any:
        return {"value": []}

    # -- what Workspace.create touches --------------------------------------------------------------
    def get_provider(self, req: Request) -> Any:
        ns = req.params["ns"]
        types = ["workspaces", "workspaces/computes", "locations", "locations/usages", "operations"]
        return {"id": "/subscriptions/{}/providers/{}".format(req.params["sub"], ns), "namespace": ns,
                "registrationState": "Registered",
                "resourceTypes": [{"resourceType": t, "locations": ["East US", "West Europe"],
                                   "apiVersions": ["2022-05-01", "2020-01-01"]} for t in types]}

    def _rg_payload(self, sub: str, rg: str, location: str) -> Dict[str, Any]:
        return {"id": f"/subscriptions/{sub}/resourceGroups/{rg}", "name": rg, "location": location,
                "type": "Microsoft.Resources/resourceGroups", "properties": {"provisioningState": "Succeeded"}}

    def _find_rg(self, req: Request) -> Any:
        key = (req.params["sub"].lower(), req.params["rg"].lower())
        rg = self.state.resource_groups.get(key)
        if rg is None and any(k[:2] == key for k in self.state.workspaces):
            rg = self._rg_payload(req.params["sub"], req.params["rg"], "eastus")
        return rg

    def get_resource_group(self, req: Request) -> Any:
        with self.state.lock:
            rg = self._find_rg(req)
        if rg is None:
            raise HttpError(404, "ResourceGroupNotFound",
                            "Resource group '{}' could not be found.".format(req.params["rg"]))
        return rg

    def head_resource_group(self, req: Request) -> Any:
        with self.state.lock:
            rg = self._find_rg(req)
        return Response(204 if rg else 404, None)

    def put_resource_group(self, req: Request) -> Any:
        body = req.json
        payload = self._rg_payload(req.params["sub"], req.params["rg"], body.get("location") or "eastus")
        with self.state.lock:
            self.state.resource_groups[(req.params["sub"].lower(), req.params["rg"].lower())] = payload
        return Response(201, payload)

    def list_resources(self, req: Request) -> Any:
        """Generic ARM resource listing: the emulated workspaces, filtered like ``$filter`` asks."""
        text = req.arg("$filter") or ""
        rtype = re.search(r"resourceType eq '([^']+)'", text, re.IGNORECASE)
        rgf = re.search(r"resourceGroup eq '([^']+)'", text, re.IGNORECASE)
        name = re.search(r"substringof\('([^']+)',\s*name\)", text, re.IGNORECASE)
        rg = req.params.get("rg") or (rgf.group(1) if rgf else None)
        out = []
        with self.state.lock:
            for key, ws in sorted(self.state.workspaces.items()):
                if key[0] != req.params["sub"].lower() or (rg and key[1] != rg.lower()):
                    continue
                if rtype and rtype.group(1).lower() != (WS_PROVIDER + "/workspaces").lower():
                    continue
                if name and name.group(1).lower() not in ws.name.lower():
                    continue
                out.append({"id": ws.arm_id, "name": ws.name, "type": WS_PROVIDER + "/workspaces",
                            "location": ws.location, "tags": ws.tags})
        return {"value": out}

    def list_deployments(self, req: Request) -> Any:
        with self.state.lock:
            value = [d for key, d in self.state.deployments.items()
                     if key[0] == req.params["sub"].lower() and key[1] == ""]
        return {"value": value}

    def put_deployment(self, req: Request) -> Any:
        """Run an ARM template deployment: create the workspaces it declares, ignore the other resources."""
        body = req.json
        props = body.get("properties") or {}
        template = props.get("template") or {}
        parameters = {k: (v or {}).get("value") for k, v in (props.get("parameters") or {}).items()}
        rg_name = req.params.get("rg") or ""
        created = []
        with self.state.lock:
            self.emu.deployment_requests.append({"name": req.params["dep"], "resource_group": rg_name,
                                                 "body": body})
            for res in self._template_resources(template.get("resources")):
                rtype = str(res.get("type", ""))
                if rtype.lower() == "microsoft.resources/resourcegroups":
                    name = self._resolve(res.get("name"), parameters)
                    if name:
                        self.state.resource_groups[(req.params["sub"].lower(), str(name).lower())] = \
                            self._rg_payload(req.params["sub"], str(name), res.get("location") or "eastus")
                    continue
                if rtype.lower() != (WS_PROVIDER + "/workspaces").lower() or not rg_name:
                    continue
                name = self._resolve(res.get("name"), parameters)
                location = self._resolve(res.get("location"), parameters) or parameters.get("location") or "eastus"
                if not name:
                    continue
                ws = self.state.find_workspace(req.params["sub"], rg_name, name)
                if ws is None:
                    ws = self.emu.add_workspace(req.params["sub"], rg_name, name, location=location)
                tags = self._resolve(res.get("tags"), parameters)
                if isinstance(tags, dict):
                    ws.tags = {str(k): str(v) for k, v in tags.items()}
                created.append(ws.name)
            scope = "/subscriptions/{}".format(req.params["sub"]) + (
                f"/resourceGroups/{rg_name}" if rg_name else "")
            dep_id = scope + "/providers/Microsoft.Resources/deployments/" + req.params["dep"]
            payload = {"id": dep_id, "name": req.params["dep"], "type": "Microsoft.Resources/deployments",
                       "properties": {"provisioningState": "Succeeded", "mode": props.get("mode", "Incremental"),
                                      "timestamp": iso(utcnow()), "outputs": {},
                                      "outputResources": [{"id": n} for n in created]}}
            self.state.deployments[(req.params["sub"].lower(), rg_name.lower(),
                                    req.params["dep"].lower())] = payload
        return Response(201, payload)

    def get_deployment(self, req: Request) -> Any:
        with self.state.lock:
            payload = self.state.deployments.get((req.params["sub"].lower(), (req.params.get("rg") or "").lower(),
                                                  req.params["dep"].lower()))
        if payload is None:
            raise HttpError(404, "DeploymentNotFound", "Deployment '{}' not found.".format(req.params["dep"]))
        return payload

    def get_deployment_status(self, req: Request) -> Any:
        return {"status": "Succeeded"}

    def list_deployment_operations(self, req: Request) -> Any:
        return {"value": []}

    def delete_resource(self, req: Request) -> Any:
        return Response(200, None)

    @staticmethod
    def _template_resources(resources: Any) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        if isinstance(resources, dict):           # languageVersion 2.0 templates use a dict
            resources = list(resources.values())
        for res in resources or []:
            if isinstance(res, dict):
                out.append(res)
                out.extend(ArmRoutes._template_resources(res.get("resources")))
                nested = ((res.get("properties") or {}).get("template") or {}).get("resources")
                out.extend(ArmRoutes._template_resources(nested))
        return out

    @staticmethod
    def _resolve(value: Any, parameters: Dict[str, Any]) -> Any:
        """Evaluate the tiny ARM expression subset used for names: ``[parameters('x')]``."""
        if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
            expr = value[1:-1].strip()
            if expr.startswith("parameters(") and expr.endswith(")"):
                return parameters.get(expr[len("parameters("):-1].strip().strip("'\""))
            return None
        return value


__all__ = ["ArmRoutes", "ci_get"]
