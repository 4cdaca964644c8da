"""The azureml-independent plan (the door to an SDK v2 adapter) and the node side's view of the process
layout it asks for (issue 12, findings 1 and 3)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from batchai_compat.backends.azureml import nodeside
from batchai_compat.backends.azureml import plan as plan_mod
from batchai_compat.backends.base import JobRef
from batchai_compat.backends.errors import NotSupported


def test_plan_module_imports_no_azureml():
    code = ("import sys, batchai_compat.backends.azureml.plan as p\n"
            "ref = p.JobRef('s', 'rg', 'ws', 'exp', 'job')\n"
            "props = {'nodeCount': 2, 'cluster': {'id': '/subscriptions/s/resourceGroups/rg/providers/"
            "Microsoft.BatchAI/workspaces/ws/clusters/c'}, 'tensorFlowSettings': {'pythonScriptFilePath': 'x.py'},"
            " 'containerSettings': {'imageSourceRegistry': {'image': 'tensorflow/tensorflow:1.8.0-gpu'}}}\n"
            "job = p.plan(ref, props, {'vmSize': 'STANDARD_NC6'}, 'run-1')\n"
            "print(job['distribution'], p.runtime_dockerfile(job['image']).splitlines()[1])\n"
            "print(sorted(m for m in sys.modules if m == 'azureml' or m.startswith(('azureml.', 'azure.ai.ml'))))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    first, modules = out.splitlines()
    assert "'kind': 'tensorflow'" in first and "FROM tensorflow/tensorflow:1.8.0-gpu" in first
    assert modules == "[]"


def test_jobref_is_the_one_plan_takes():
    assert plan_mod.JobRef is JobRef


@pytest.mark.parametrize("tool, settings, kind", [
    ("tensorflow", {}, "tensorflow"), ("pytorch", {"communicationBackend": "gloo"}, "tensorflow"),
    ("pytorch", {"communicationBackend": "MPI"}, "mpi"), ("caffe2", {}, "tensorflow"),
    ("custom", {}, "tensorflow"), ("mpi", {}, "mpi"), ("horovod", {}, "mpi"), ("cntk", {}, "mpi"),
    ("chainer", {}, "mpi"), ("caffe", {}, "mpi"),
])
def test_distribution_needs_mpi_only_for_mpi_toolkits(tool, settings, kind):
    assert plan_mod.distribution(tool, 2, settings)["kind"] == kind
    assert plan_mod.distribution(tool, 1, settings) is None


@pytest.mark.parametrize("image", ["alpine", "alpine:3.8", "python:3.7-alpine", "library/busybox:1.36",
                                   "mcr.microsoft.com/windows/servercore:ltsc2019",
                                   "mcr.microsoft.com/windows/nanoserver"])
def test_images_that_cannot_start_the_node_side(image):
    with pytest.raises(NotSupported):
        plan_mod.check_image(image)


@pytest.mark.parametrize("image", ["tensorflow/tensorflow:1.8.0-gpu", "ubuntu:16.04", "busybox:glibc",
                                   "myregistry.azurecr.io/team/alpinist:1", "pytorch/pytorch:0.4_cuda9_cudnn7"])
def test_glibc_images_are_accepted(image):
    plan_mod.check_image(image)


def test_node_addresses_and_index_from_tf_config():
    cluster = {"worker": ["10.0.0.4:2222", "10.0.0.5:2222", "10.0.0.6:2222"]}
    env = {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 2}})}
    assert nodeside.node_addresses(3, env) == ["10.0.0.4", "10.0.0.5", "10.0.0.6"]
    assert nodeside.spread_index(3, env) == 2
    chief = {"chief": ["10.0.0.4:1"], "worker": ["10.0.0.5:1"]}
    env = {"TF_CONFIG": json.dumps({"cluster": chief, "task": {"type": "worker", "index": 0}})}
    assert nodeside.node_addresses(2, env) == ["10.0.0.4", "10.0.0.5"] and nodeside.spread_index(2, env) == 1
    assert nodeside.node_addresses(3, env) is None             # not every node listed
    mpi = {"AZ_BATCH_HOST_LIST": "10.0.0.4,10.0.0.5", "OMPI_COMM_WORLD_RANK": "1"}
    assert nodeside.node_addresses(2, mpi) == ["10.0.0.4", "10.0.0.5"] and nodeside.spread_index(2, mpi) == 1


def test_secrets_need_the_run_environment():
    with pytest.raises(RuntimeError, match="AZUREML_RUN_TOKEN"):
        nodeside.resolve_secrets({"A": "batchai-x-0"}, {"AZUREML_SERVICE_ENDPOINT": "http://127.0.0.1:9"})
    assert nodeside.resolve_secrets({}, {}) == {}
