"""Batch AI parameters → the real azureml-core objects the backend builds (no server needed)."""

from __future__ import annotations

import json

import azureml.core  # noqa: F401  -- a test dependency: the run configuration tests build real objects
import pytest

from batchai_compat.backends import errors
from batchai_compat.backends.azureml import clusters, jobs, translate
from batchai_compat.backends.base import ClusterRef, JobRef

SUB, RG, WS = "sub", "rg", "ws"
REF = JobRef(SUB, RG, WS, "exp", "job")
CLUSTER_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/{WS}/clusters/gpu_c"


def provisioning(props, **kw):
    from azureml.core.compute import AmlCompute

    kwargs, notes = clusters.provisioning_kwargs(props, **kw)
    config = AmlCompute.provisioning_configuration(**kwargs)
    config.validate_configuration()
    return config, notes


def test_manual_scale_pins_min_and_max_and_warns_about_deallocation():
    config, notes = provisioning({"vmSize": "STANDARD_NC6", "vmPriority": "lowpriority",
                                  "scaleSettings": {"manual": {"targetNodeCount": 3}}})
    assert (config.vm_size, config.vm_priority) == ("STANDARD_NC6", "lowpriority")
    assert (config.scale_settings.minimum_node_count, config.scale_settings.maximum_node_count) == (3, 3)
    assert any("nodeDeallocationOption" in n for n in notes)


def test_auto_scale_and_initial_count_note():
    config, notes = provisioning({"vmSize": "STANDARD_D1_V2", "scaleSettings": {"autoScale": {
        "minimumNodeCount": 0, "maximumNodeCount": 4, "initialNodeCount": 2}}}, idle_seconds=300)
    ss = config.scale_settings
    assert (ss.minimum_node_count, ss.maximum_node_count, ss.idle_seconds_before_scaledown) == (0, 4, 300)
    assert any("initialNodeCount" in n for n in notes)


def test_zero_node_manual_cluster_gets_max_one():
    config, notes = provisioning({"vmSize": "STANDARD_D1_V2", "scaleSettings": {"manual": {
        "targetNodeCount": 0, "nodeDeallocationOption": "waitforjobcompletion"}}})
    assert (config.scale_settings.minimum_node_count, config.scale_settings.maximum_node_count) == (0, 1)
    assert notes and "max_nodes" in notes[0]


def test_user_account_subnet_and_remote_login():
    subnet = f"/subscriptions/{SUB}/resourceGroups/netrg/providers/Microsoft.Network/virtualNetworks/vn/subnets/s1"
    config, _ = provisioning({"vmSize": "STANDARD_D1_V2", "scaleSettings": {"manual": {"targetNodeCount": 1}},
                              "userAccountSettings": {"adminUserName": "demoUser",
                                                      "adminUserPassword": "Pa$$w0rd-x1"},
                              "subnet": {"id": subnet}})
    assert config.admin_username == "demoUser" and config.admin_user_password == "Pa$$w0rd-x1"
    assert config.remote_login_port_public_access == "Enabled"
    assert (config.vnet_resourcegroup_name, config.vnet_name, config.subnet_name) == ("netrg", "vn", "s1")


@pytest.mark.parametrize("props, code", [
    ({"nodeSetup": {"mountVolumes": {"fileServers": [{"fileServer": {"id": "x"}, "relativeMountPath": "nfs"}]}}},
     "FileServersNotSupported"),
    ({"nodeSetup": {"mountVolumes": {"unmanagedFileSystems": [{"mountCommand": "mount x", "relativeMountPath": "u"}]}}},
     "UnmanagedFileSystemsNotSupported"),
    ({"virtualMachineConfiguration": {"imageReference": {"publisher": "p", "offer": "o", "sku": "s",
                                                         "virtualMachineImageId": "/subscriptions/x/images/i"}}},
     "CustomImageNotSupported"),
])
def test_cluster_features_without_aml_counterpart_are_refused(props, code):
    props = dict(props, vmSize="STANDARD_D1_V2", scaleSettings={"manual": {"targetNodeCount": 1}})
    with pytest.raises(errors.NotSupported) as info:
        clusters.provisioning_kwargs(props)
    assert info.value.code == code and info.value.message


def test_setup_task_is_accepted_with_a_note():
    _, notes = provisioning({"vmSize": "STANDARD_D1_V2", "scaleSettings": {"manual": {"targetNodeCount": 1}},
                             "nodeSetup": {"setupTask": {"commandLine": "true", "stdOutErrPathPrefix": "/x"}}})
    assert any("setupTask" in n and "container" in n for n in notes)


def test_marketplace_image_is_ignored_with_a_note():
    _, notes = provisioning({"vmSize": "STANDARD_D1_V2", "scaleSettings": {"manual": {"targetNodeCount": 1}},
                             "virtualMachineConfiguration": {"imageReference": {
                                 "publisher": "microsoft-dsvm", "offer": "linux-data-science-vm-ubuntu",
                                 "sku": "linuxdsvmubuntu", "version": "latest"}}})
    assert any("imageReference" in n for n in notes)


@pytest.mark.parametrize("name", ["cluster", "c1", "gpu-cluster-0001"])
def test_valid_compute_names_are_kept(name):
    assert translate.compute_name(name) == name


@pytest.mark.parametrize("name", ["a", "demo_cluster", "local", "x" * 40, "9lives", "UPPER_case_name_long"])
def test_other_names_map_to_valid_deterministic_compute_names(name):
    import re

    mapped = translate.compute_name(name)
    assert re.match(r"^[A-Za-z][A-Za-z0-9-]{1,15}$", mapped) and mapped != "local"
    assert translate.compute_name(name) == mapped


def test_cluster_tags_round_trip_settings_without_secrets():
    props = {"vmSize": "STANDARD_D1_V2", "scaleSettings": {"autoScale": {"minimumNodeCount": 1,
                                                                          "maximumNodeCount": 3,
                                                                          "initialNodeCount": 2}},
             "userAccountSettings": {"adminUserName": "u", "adminUserPassword": "Secret-123"},
             "nodeSetup": {"mountVolumes": {"azureFileShares": [{
                 "accountName": "acc", "azureFileUrl": "https://acc.file.core.windows.net/share",
                 "credentials": {"accountKey": "KEY"}, "relativeMountPath": "afs"}] * 8}}}
    tags = translate.encode_tags("demo_cluster", props)
    assert all(len(v) <= 256 for v in tags.values()) and len(tags) > 2
    assert "Secret-123" not in json.dumps(tags) and "KEY" not in json.dumps(tags)
    back = translate.decode_tags(tags)
    assert back["scaleSettings"] == props["scaleSettings"]
    assert back["nodeSetup"]["mountVolumes"]["azureFileShares"][0]["credentials"] == {}


def test_cluster_body_from_status_facts():
    ref = ClusterRef(SUB, RG, WS, "demo_cluster")
    stored = {"vmSize": "STANDARD_D1_V2", "scaleSettings": {"manual": {"targetNodeCount": 2,
                                                                        "nodeDeallocationOption": "terminate"}}}
    facts = {"provisioning_state": "Succeeded", "vm_size": "STANDARD_D1_V2", "vm_priority": "dedicated",
             "min_nodes": 2, "max_nodes": 2, "tags": translate.encode_tags("demo_cluster", stored),
             "status": {"allocation_state": "Resizing", "current_node_count": 1,
                        "node_state_counts": {"idle_node_count": 1, "preempted_node_count": 1}}}
    body = translate.cluster_body(ref, facts)
    p = body["properties"]
    assert body["name"] == "demo_cluster" and body["id"].endswith("/clusters/demo_cluster")
    assert p["scaleSettings"] == stored["scaleSettings"]  # the original settings, from the tags
    # currentNodeCount is the sum of the counts, as on Batch AI (the preempted node is counted as unusable)
    assert (p["provisioningState"], p["allocationState"], p["currentNodeCount"]) == ("succeeded", "resizing", 2)
    assert p["nodeStateCounts"] == {"idleNodeCount": 1, "runningNodeCount": 0, "preparingNodeCount": 0,
                                    "unusableNodeCount": 1, "leavingNodeCount": 0}
    assert "errors" not in p
    # After clusters.update changed the live scale, the live settings win.
    facts.update(min_nodes=0, max_nodes=5)
    assert translate.cluster_body(ref, facts)["properties"]["scaleSettings"] == {
        "autoScale": {"minimumNodeCount": 0, "maximumNodeCount": 5, "initialNodeCount": 0}}


@pytest.mark.parametrize("status, state", [
    ("NotStarted", "queued"), ("Queued", "queued"), ("Preparing", "queued"), ("Provisioning", "queued"),
    ("Starting", "queued"), ("Running", "running"), ("Finalizing", "running"), ("NotResponding", "running"),
    ("CancelRequested", "terminating"), ("Completed", "succeeded"), ("Failed", "failed"), ("Canceled", "failed"),
    ("SomethingNew", "running")])
def test_run_status_to_execution_state(status, state):
    assert translate.execution_state(status) == state


def test_execution_info_per_terminal_state():
    run = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:01:00Z"}
    assert translate.execution_info("Completed", run, None)["exitCode"] == 0
    canceled = translate.execution_info("Canceled", run, None)
    assert canceled["errors"][0]["code"] == "JobTerminated" and "exitCode" not in canceled
    failed = translate.execution_info("Failed", dict(run, error_message="User process 'x' exited with status "
                                                                         "code 3. See logs"), None)
    assert failed["exitCode"] == 3 and failed["errors"][0]["code"] == "JobFailed"
    prep = translate.execution_info("Failed", run, {"exit_code": 2, "error_code": "JobPreparationFailed"})
    assert prep["exitCode"] == 2 and prep["errors"] == [{"code": "JobPreparationFailed", "message": translate.MESSAGES[
        "JobPreparationFailed"]}]
    assert translate.execution_info("Queued", run, None) is None


def job_props(**extra):
    props = {"cluster": {"id": CLUSTER_ID}, "nodeCount": 1, "stdOutErrPathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/afs",
             "customToolkitSettings": {"commandLine": "echo hi"}}
    props.update(extra)
    return translate.normalize_job(REF, props, "uid")


def build(props, cluster_props=None):
    plan = jobs.plan(REF, props, cluster_props or {"vmSize": "STANDARD_NC12"}, "run-1")
    config = jobs.script_run_config(plan, "/tmp", {})
    return plan, config


def test_building_the_run_configuration_logs_no_deprecation(caplog):
    """Every submission used to log azureml-core's "Property environment_variables is deprecated" (the public
    Environment setter); the Environment still has none of azureml's example variables."""
    import logging

    with caplog.at_level(logging.WARNING, logger="azureml"):
        _, config = build(job_props())
    assert [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()] == []
    assert config.run_config.environment.environment_variables == {}


def test_tensorflow_job_run_configuration():
    props = job_props(nodeCount=2, customToolkitSettings=None, tensorFlowSettings={
        "pythonScriptFilePath": "$AZ_BATCHAI_JOB_MOUNT_ROOT/afs/mnist.py", "workerCount": 2,
        "parameterServerCount": 1, "masterCommandLineArgs": "--m", "workerCommandLineArgs": "--w",
        "parameterServerCommandLineArgs": "--p"},
        containerSettings={"imageSourceRegistry": {"image": "tensorflow/tensorflow:1.8.0-gpu"}, "shmSize": "2g"},
        environmentVariables=[{"name": "LR", "value": "0.1"}], secrets=[{"name": "TOKEN", "value": "s3cr3t"}],
        constraints={"maxWallClockTime": "PT2H"})
    plan, config = build(props)
    rc = config.run_config
    # The node side runs under the Python the environment copies into the image (issue 12, finding 1).
    assert config.command.startswith("BATCHAI_PY=/opt/batchai_compat/python/bin/python3; ")
    assert config.command.endswith("exec $BATCHAI_PY -E -s -m batchai_compat._aml_node batchai/aml.json")
    assert rc.target == translate.compute_name("gpu_c") == "gpu-c-bd2d" and rc.node_count == 2
    # One process per node with TF_CONFIG, no MPI in the image needed (issue 12, finding 3).
    assert rc.framework == "TensorFlow" and rc.communicator == "ParameterServer"
    assert rc.tensorflow.worker_count == 2 and rc.tensorflow.parameter_server_count == 0
    assert rc.environment.docker.base_image is None
    assert "\nFROM tensorflow/tensorflow:1.8.0-gpu\n" in rc.environment.docker.base_dockerfile
    assert rc.environment.python.user_managed_dependencies is True
    assert rc.environment.python.interpreter_path == "/opt/batchai_compat/python/bin/python3"
    assert rc.environment.environment_variables == {}
    assert rc.docker.shm_size == "2g" and rc.docker.use_docker is True
    assert rc.environment_variables == {"LR": "0.1"}  # secrets are not in the run definition
    assert rc.max_run_duration_seconds == 7200
    assert plan["aml_spec"]["gpus_per_node"] is None  # the backend sets Azure ML's count (supported_vmsizes)
    vault_name = translate.secret_name("run-1", 0)
    assert plan["secrets"] == {"TOKEN": vault_name} and plan["secret_values"] == {vault_name: "s3cr3t"}
    assert "s3cr3t" not in json.dumps(plan["aml_spec"])
    tf = plan["aml_spec"]["job"]["properties"]["tensorFlowSettings"]
    assert tf["workerCount"] == 2 and tf["parameterServerCount"] == 1
    assert plan["notes"] == []  # spread over the nodes like on Batch AI: nothing to warn about
    # The nodes' launchers authenticate each other with a token of the job (a new one per submission).
    token = plan["aml_spec"]["group_token"]
    assert len(token) >= 32 and token != build(props)[0]["aml_spec"]["group_token"]


@pytest.mark.parametrize("settings, expected", [
    ({"pyTorchSettings": {"pythonScriptFilePath": "t.py", "communicationBackend": "gloo"}}, ["tcp://"]),
    ({"pyTorchSettings": {"pythonScriptFilePath": "t.py", "communicationBackend": "MPI"}}, []),
    ({"caffe2Settings": {"pythonScriptFilePath": "c.py"}}, ["AZ_BATCHAI_SHARED_JOB_TEMP"]),
    ({"customToolkitSettings": {"commandLine": "ls $AZ_BATCHAI_SHARED_JOB_TEMP"}}, ["AZ_BATCHAI_SHARED_JOB_TEMP"]),
    ({"horovodSettings": {"pythonScriptFilePath": "h.py"}}, []),
])
def test_multi_node_notes(settings, expected):
    props = job_props(nodeCount=2, **{"customToolkitSettings": None, **settings},
                      containerSettings={"imageSourceRegistry": {"image": "x"}})
    plan, _config = build(props)
    assert [e for e in expected if any(e in n for n in plan["notes"])] == expected and \
        len(plan["notes"]) == len(expected), plan["notes"]
    single, _config = build(dict(props, nodeCount=1))
    assert single["notes"] == [] and "group_token" not in single["aml_spec"]


def test_single_node_job_has_no_distribution_and_default_image_note():
    plan, config = build(job_props())
    rc = config.run_config
    assert rc.node_count == 1 and rc.communicator == "None"
    assert f"\nFROM {jobs.DEFAULT_IMAGE}\n" in rc.environment.docker.base_dockerfile
    assert rc.max_run_duration_seconds == 7 * 24 * 3600
    assert any("containerSettings" in n for n in plan["notes"])


def test_registry_credentials_go_to_the_environment_only():
    props = job_props(containerSettings={"imageSourceRegistry": {
        "serverUrl": "myreg.azurecr.io", "image": "myreg.azurecr.io/img:1",
        "credentials": {"username": "u", "password": "RegPass"}}})
    plan, config = build(props)
    registry = config.run_config.environment.docker.base_image_registry
    assert (registry.address, registry.username, registry.password) == ("myreg.azurecr.io", "u", "RegPass")
    assert "RegPass" not in json.dumps(plan["aml_spec"])


def test_mounts_become_data_references_and_file_servers_are_refused():
    props = job_props(mountVolumes={"azureBlobFileSystems": [{
        "accountName": "acc", "containerName": "data", "credentials": {"accountKey": "K"},
        "relativeMountPath": "bfs"}]})
    cluster = {"vmSize": "STANDARD_D1_V2", "nodeSetup": {"mountVolumes": {"azureFileShares": [{
        "accountName": "acc", "azureFileUrl": "https://acc.file.core.windows.net/share", "credentials": {},
        "relativeMountPath": "afs"}]}}}
    plan = jobs.plan(REF, props, cluster, "run-1")
    assert plan["aml_spec"]["mounts"] == {
        "cluster": [{"relative_mount_path": "afs", "kind": "azure_file_share", "reference": "bai_cshare0"}],
        "job": [{"relative_mount_path": "bfs", "kind": "azure_blob", "reference": "bai_jblob0"}]}
    assert plan["mounts"]["job"][0]["datastore"] == "bai_blob_acc_data"
    bad = job_props(mountVolumes={"fileServers": [{"fileServer": {"id": "x"}, "relativeMountPath": "nfs"}]})
    with pytest.raises(errors.NotSupported):
        jobs.plan(REF, bad, cluster, "run-1")


def test_stored_spec_has_no_secrets():
    props = job_props(secrets=[{"name": "A", "value": "v"}], mountVolumes={"azureFileShares": [{
        "accountName": "a", "azureFileUrl": "https://a.file.core.windows.net/s", "credentials": {"accountKey": "K"},
        "relativeMountPath": "m"}]}, containerSettings={"imageSourceRegistry": {"image": "i", "credentials": {
            "username": "u", "password": "P"}}})
    stored = translate.strip_job_secrets(props)
    text = json.dumps(stored)
    assert '"v"' not in text and '"K"' not in text and '"P"' not in text
    assert stored["secrets"] == [{"name": "A"}]
    assert stored["jobOutputDirectoryPathSegment"] == f"{SUB}/{RG}/workspaces/{WS}/experiments/exp/jobs/job/uid"


def test_workspace_mapping(tmp_path):
    from batchai_compat.backends.azureml.config import WorkspaceMapping
    from batchai_compat.backends.base import WorkspaceRef

    ref = WorkspaceRef("s", "rg", "bai")
    assert WorkspaceMapping().target(ref) == ("s", "rg", "bai")
    assert WorkspaceMapping(workspace_name="aml").target(ref) == ("s", "rg", "aml")
    assert WorkspaceMapping(workspace_map={"rg/bai": "other/aml"}).target(ref) == ("s", "other", "aml")
    assert WorkspaceMapping(workspace_map={"bai": {"workspace_name": "w2"}}).target(ref) == ("s", "rg", "w2")
    (tmp_path / ".azureml").mkdir()
    (tmp_path / ".azureml" / "config.json").write_text(json.dumps(
        {"subscription_id": "s9", "resource_group": "r9", "workspace_name": "w9"}))
    mapping = WorkspaceMapping(config=str(tmp_path))
    assert mapping.target(ref) == ("s9", "r9", "w9")
    assert mapping.batchai_name("s9", "r9", "w9") is None or mapping.batchai_name("s9", "r9", "w9") == "w9"


def test_credentials_map_to_azureml_authentication():
    from azureml.core.authentication import ServicePrincipalAuthentication, TokenAuthentication

    from batchai_compat.backends.azureml import auth
    from batchai_compat.credentials import ServicePrincipalCredentials

    class Token:
        token = "header.payload.sig"

    class Credential:  # azure-identity style
        def __init__(self):
            self.scopes = []

        def get_token(self, *scopes):
            self.scopes.extend(scopes)
            return Token()

    credential = Credential()
    built = auth.build_auth(credential)
    assert isinstance(built, TokenAuthentication)
    assert built._get_arm_token() == "header.payload.sig"
    assert credential.scopes == ["https://management.core.windows.net/.default"]
    sp = auth.build_auth(ServicePrincipalCredentials("app-id", "app-secret", tenant="tenant-id"))
    assert isinstance(sp, ServicePrincipalAuthentication)
    assert (sp._service_principal_id, sp._tenant_id) == ("app-id", "tenant-id")
    explicit = object()
    assert auth.build_auth(credential, explicit) is explicit
    assert "secret" not in auth.describe(ServicePrincipalCredentials("app-id", "app-secret", tenant="t"))
