"""Mechanical parity of the client surface with azure-mgmt-batchai 2.0.0 (the test-only oracle)."""

from __future__ import annotations

import inspect

import azure.mgmt.batchai as original
import pytest

import batchai_compat
from batchai_compat import operations as our_operations

GROUPS = ["operations", "usages", "workspaces", "experiments", "jobs", "file_servers", "clusters"]


class _Creds:
    """Any object serves as credentials for the local backend."""


@pytest.fixture()
def clients(tmp_path):
    ours = batchai_compat.BatchAIManagementClient(_Creds(), "00000000-0000-0000-0000-000000000000", home=tmp_path)
    theirs = original.BatchAIManagementClient(_Creds(), "00000000-0000-0000-0000-000000000000")
    return ours, theirs


def _public_methods(obj):
    return {name: member for name, member in inspect.getmembers(obj, inspect.ismethod) if not name.startswith("_")}


def test_every_operation_has_the_original_signature(clients):
    ours, theirs = clients
    compared = 0
    for group in GROUPS:
        our_methods = _public_methods(getattr(ours, group))
        their_methods = _public_methods(getattr(theirs, group))
        assert sorted(our_methods) == sorted(their_methods), group
        for name, method in their_methods.items():
            assert inspect.signature(our_methods[name]) == inspect.signature(method), f"{group}.{name}"
            compared += 1
    print(f"{compared} operations compared")
    assert compared == 29


def test_operation_group_classes_are_exported_like_the_original():
    import azure.mgmt.batchai.operations as their_operations

    assert sorted(our_operations.__all__) == sorted(their_operations.__all__)
    for module in [
        "operations",
        "usages_operations",
        "workspaces_operations",
        "experiments_operations",
        "jobs_operations",
        "file_servers_operations",
        "clusters_operations",
    ]:
        __import__(f"batchai_compat.operations.{module}")


def test_client_surface_matches(clients):
    ours, theirs = clients
    assert batchai_compat.__version__ == original.__version__ == "2.0.0"
    assert ours.api_version == theirs.api_version == "2018-05-01"
    assert ours.config.subscription_id == theirs.config.subscription_id
    assert ours.config.long_running_operation_timeout == theirs.config.long_running_operation_timeout
    for token in ("azure-mgmt-batchai/2.0.0", "Azure-SDK-For-Python"):
        assert token in ours.config.user_agent
    assert set(original.__all__) <= set(batchai_compat.__all__)


@pytest.mark.parametrize("args", [(None, "sub"), (_Creds(), None)])
def test_constructor_rejects_missing_arguments_like_the_original(args, tmp_path):
    with pytest.raises(ValueError) as ours:
        batchai_compat.BatchAIManagementClient(*args, home=tmp_path)
    with pytest.raises(ValueError) as theirs:
        original.BatchAIManagementClient(*args)
    assert str(ours.value) == str(theirs.value)
