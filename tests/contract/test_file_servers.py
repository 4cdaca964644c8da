"""Behaviours 33-35 of ``docs/service-behaviour.md`` (g): file servers shared by clusters."""

from __future__ import annotations

import warnings

import pytest
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as models

from .helpers import IPV4, RG, WS, job_parameters


def _create_file_server(ctx, name="fileserver"):
    params = models.FileServerCreateParameters(
        vm_size="STANDARD_D1",
        ssh_configuration=models.SshConfiguration(user_account_settings=models.UserAccountSettings(
            admin_user_name="demoUser", admin_user_password="Pa$$w0rd")),
        data_disks=models.DataDisks(disk_size_in_gb=10, disk_count=2, storage_account_type="Standard_LRS"))
    return ctx.client.file_servers.create(RG, WS, name, params).result()


def test_33_create_file_server(ctx):
    server = _create_file_server(ctx)
    assert [s.name for s in ctx.client.file_servers.list_by_workspace(RG, WS)] == ["fileserver"]
    server = ctx.client.file_servers.get(RG, WS, "fileserver")
    assert server.provisioning_state == "succeeded"
    assert IPV4.match(server.mount_settings.file_server_public_ip)
    assert IPV4.match(server.mount_settings.file_server_internal_ip)
    assert server.mount_settings.mount_point == "/data"
    assert server.ssh_configuration.user_account_settings.admin_user_password is None
    assert server.data_disks.caching_type == "none"
    assert server.type == "Microsoft.BatchAI/workspaces/fileservers" and "/fileservers/" in server.id


def test_34_35_clusters_share_a_file_server(ctx):
    server = _create_file_server(ctx)
    mount = [models.FileServerReference(file_server=models.ResourceId(id=server.id), relative_mount_path="nfs",
                                        mount_options="rw")]
    cluster1 = ctx.create_cluster("cluster1", file_servers=mount)
    cluster2 = ctx.create_cluster("cluster2", file_servers=mount)
    assert cluster1.node_setup.mount_volumes.file_servers[0].file_server.id == server.id
    host = ctx.run_job("host", job_parameters(cluster1.id, "echo hi from host > $AZ_BATCHAI_MOUNT_ROOT/nfs/host.txt"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        container = ctx.run_job("container", job_parameters(
            cluster1.id, "echo hi from container >> $AZ_BATCHAI_MOUNT_ROOT/nfs/container.txt", image="ubuntu"))
    consumer = ctx.run_job("consumer", job_parameters(
        cluster2.id, "cat $AZ_BATCHAI_MOUNT_ROOT/nfs/host.txt $AZ_BATCHAI_MOUNT_ROOT/nfs/container.txt"))
    assert [j.execution_state for j in (host, container, consumer)] == ["succeeded"] * 3
    assert ctx.files("consumer", "stdouterr") == {"stdout.txt": "hi from host\nhi from container\n",
                                                  "stderr.txt": ""}
    # 35
    for name in ("cluster1", "cluster2"):
        ctx.client.clusters.delete(RG, WS, name).result()
    ctx.client.file_servers.delete(RG, WS, "fileserver").result()
    assert list(ctx.client.file_servers.list_by_workspace(RG, WS)) == []
    with pytest.raises(CloudError) as err:
        ctx.client.file_servers.get(RG, WS, "fileserver")
    assert err.value.status_code == 404 and err.value.error.error == "FileServerNotFound"


def test_source_directory_limits_the_mount(ctx):
    server = _create_file_server(ctx)
    mount = [models.FileServerReference(file_server=models.ResourceId(id=server.id), relative_mount_path="nfs",
                                        source_directory="/data/sub")]
    cluster = ctx.create_cluster(file_servers=mount)
    assert ctx.run_job("job", job_parameters(cluster.id, "echo x > $AZ_BATCHAI_MOUNT_ROOT/nfs/f.txt")
                       ).execution_state == "succeeded"
    export = ctx.home / "fileservers"
    assert [p.read_text() for p in export.rglob("sub/f.txt")] == ["x\n"]
