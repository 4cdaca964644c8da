"""Issue 12, finding 4: the service principal credentials legacy Batch AI code passes (msrestazure's /
``azure.common.credentials.ServicePrincipalCredentials``) are the identity the azureml backend uses, and
credentials that cannot be used raise a clear error instead of falling back to the Azure CLI login or an
interactive login (which waits forever on a headless machine).

msrestazure's class logs in when it is constructed (``set_token`` in ``__init__``): the tests point its
authority at the emulator's Azure AD token endpoint (an ADFS-style authority, which ADAL does not validate
against the internet), so building the real class makes no request beyond 127.0.0.1.
"""

from __future__ import annotations

import copy
import importlib

import pytest
from msrestazure.azure_exceptions import CloudError

from batchai_compat.backends.azureml import auth as authmod

from .conftest import RG, SUB, WS

pytestmark = [pytest.mark.azureml]
TENANT = "72f988bf-0000-4000-8000-2d7cd011db47"


@pytest.fixture
def https_emu(leak_proxy, tmp_path):
    from batchai_compat.testing import AzureMLEmulator

    # HTTPS: ADAL refuses an authority that is not https.
    with AzureMLEmulator(workspaces=[(SUB, RG, WS, "northeurope")], https=True, root=str(tmp_path / "emu")) as emu:
        yield emu
    assert emu.unrouted == [] and emu.errors == [] and leak_proxy.seen == []


def _cloud(emu):
    from msrestazure.azure_cloud import AZURE_PUBLIC_CLOUD

    cloud = copy.deepcopy(AZURE_PUBLIC_CLOUD)
    cloud.endpoints.active_directory = emu.url + "/adfs"
    return cloud


@pytest.mark.parametrize("module", ["msrestazure.azure_active_directory", "azure.common.credentials"])
def test_msrestazure_service_principal_is_the_identity_used(https_emu, module):
    from azureml.core.authentication import ServicePrincipalAuthentication

    cls = importlib.import_module(module).ServicePrincipalCredentials
    credentials = cls("app-client-id", "app-secret", tenant=TENANT, cloud_environment=_cloud(https_emu))
    assert credentials.token["access_token"]  # the constructor's login went to the emulator
    auth = authmod.build_auth(credentials)
    assert isinstance(auth, ServicePrincipalAuthentication)
    assert (auth._tenant_id, auth._service_principal_id) == (TENANT, "app-client-id")
    assert authmod.describe(credentials) == "a service principal"


def test_a_service_principal_without_a_tenant_is_refused_clearly(https_emu):
    from msrestazure.azure_active_directory import ServicePrincipalCredentials

    # msrestazure's default tenant is "common", which a client-credentials login refuses.
    credentials = ServicePrincipalCredentials("app-client-id", "app-secret", cloud_environment=_cloud(https_emu))
    with pytest.raises(authmod.CredentialsNotUsable) as info:
        authmod.build_auth(credentials)
    message = str(info.value)
    assert "'common'" in message and "tenant=" in message and "ServicePrincipalCredentials" in message
    assert "app-secret" not in message


def test_unusable_credentials_fail_the_call_instead_of_a_login_prompt(leak_proxy):
    from batchai_compat import BatchAIManagementClient

    class SomethingElse:
        """Neither a service principal nor a token credential."""

    client = BatchAIManagementClient(SomethingElse(), SUB, backend="azureml")
    with pytest.raises(CloudError) as info:
        client.workspaces.get(RG, WS)
    assert info.value.status_code == 401 and info.value.error.error == "InvalidCredentials"
    assert "SomethingElse" in str(info.value) and "get_token()" in str(info.value)
    assert leak_proxy.seen == []  # no login was attempted anywhere
    client.close()
