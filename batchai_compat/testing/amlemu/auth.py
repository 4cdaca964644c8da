"""A fake ``azureml.core.authentication.AbstractAuthentication`` that points ARM at the emulator.

The class is built on first use so that importing :mod:`batchai_compat.testing` never imports azureml.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from typing import Any, Iterable, Optional

TENANT_ID = "00000000-0000-0000-0000-000000000000"
OBJECT_ID = "11111111-1111-1111-1111-111111111111"

_auth_class: Optional[type] = None


def fake_jwt(ttl: int = 24 * 3600) -> str:
    """An unsigned JWT; azureml only decodes ``exp`` and ``tid`` from it."""
    def b64(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return "{}.{}.c2ln".format(b64({"alg": "none", "typ": "JWT"}),
                               b64({"exp": now + ttl, "iat": now, "nbf": now, "tid": TENANT_ID, "oid": OBJECT_ID,
                                    "upn": "emulator@example.invalid", "aud": "https://management.azure.com/"}))


def emulator_auth_class() -> type:
    """Return (building it once) the ``EmulatorAuthentication`` class."""
    global _auth_class
    if _auth_class is not None:
        return _auth_class
    from azureml._vendor.azure_cli_core.azureml_cloud import _Clouds
    from azureml.core.authentication import AbstractAuthentication, _SubscriptionInfo

    class EmulatorAuthentication(AbstractAuthentication):
        """Authentication for the Azure ML emulator: a fake bearer token and ARM at ``arm_url``.

        :param arm_url: the emulator's base URL (``http://127.0.0.1:PORT/``)
        :param subscriptions: subscription ids reported as accessible (callable or iterable)
        """

        def __init__(self, arm_url: str, subscriptions: Any = ()):
            # A known cloud name: anything else makes azureml download cloud metadata from the internet.
            super().__init__(cloud="AzureCloud")
            cloud = copy.deepcopy(_Clouds.get_cloud_or_default("AzureCloud"))
            cloud.endpoints.resource_manager = arm_url.rstrip("/") + "/"
            self._cloud_type = cloud
            self._token = fake_jwt()
            self._subscriptions = subscriptions

        def _subs(self) -> Iterable[str]:
            subs = self._subscriptions() if callable(self._subscriptions) else self._subscriptions
            return list(subs)

        def _get_arm_token(self) -> str:
            return self._token

        def _get_graph_token(self) -> str:
            return self._token

        def _get_azureml_client_token(self) -> str:
            return self._token

        def _get_all_subscription_ids(self):
            return [_SubscriptionInfo(s, s) for s in self._subs()], TENANT_ID

        def _check_if_subscription_exists(self, subscription_id, subscription_id_list, tenant_id):
            return True

        def _get_workspace(self, subscription_id, resource_group, name):
            return None

    _auth_class = EmulatorAuthentication
    return _auth_class


def make_auth(arm_url: str, subscriptions: Any = ()) -> Any:
    return emulator_auth_class()(arm_url, subscriptions)
