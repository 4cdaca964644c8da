"""A mount of storage that does not exist fails as on the service, which never created storage
(``docs/service-behaviour.md`` §d.2, §f.2; issue #11 item 8): storage is made only by the storage
classes (``FileService.create_share``, ``BlockBlobService.create_container``) or ``file_servers.create``.

* job level: the job fails; an Azure File share gives ``AZFMountError`` / "Unable to mount Azure File"
  with a ``details`` entry ``Info`` and ``exitCode`` -1 (§f.2); a blob container ``MountFailed`` (the
  service's code was never recorded);
* cluster level: the nodes become ``unusable`` and the error is in ``Cluster.errors``;
* nothing is created in either case.
"""

from __future__ import annotations

import batchai_compat.models as models

from .helpers import RG, WS, blob_mount, job_parameters, share_mount, wait_for


def test_job_level_mount_of_a_missing_share_fails_the_job(ctx):
    cluster = ctx.create_cluster()
    mounts = models.MountVolumes(azure_file_shares=[share_mount("job_afs", share="nosuchshare")])
    job = ctx.run_job("job", job_parameters(cluster.id, "echo ran", mount_volumes=mounts))
    assert job.execution_state == "failed"
    assert job.execution_info.exit_code == -1
    (error,) = job.execution_info.errors
    assert (error.code, error.message) == ("AZFMountError", "Unable to mount Azure File")
    assert [d.name for d in error.details] == ["Info"] and "nosuchshare" in error.details[0].value
    assert not ctx.share_dir("nosuchshare").exists()
    # once the share is created (as Batch AI users had to), the same mount works on the same cluster
    ctx.create_storage(shares=["nosuchshare"])
    job = ctx.run_job("again", job_parameters(cluster.id, "echo a > $AZ_BATCHAI_JOB_MOUNT_ROOT/job_afs/a.txt",
                                              mount_volumes=mounts))
    assert job.execution_state == "succeeded", job.execution_info.errors
    assert (ctx.share_dir("nosuchshare") / "a.txt").read_text() == "a\n"


def test_job_level_mount_of_a_missing_container_fails_the_job(ctx):
    cluster = ctx.create_cluster()
    mounts = models.MountVolumes(azure_blob_file_systems=[blob_mount("job_bfs", "nosuchcontainer")])
    job = ctx.run_job("job", job_parameters(cluster.id, "echo ran", mount_volumes=mounts))
    assert job.execution_state == "failed"
    (error,) = job.execution_info.errors
    assert error.code == "MountFailed" and "nosuchcontainer" in error.details[0].value
    assert not ctx.container_dir("nosuchcontainer").exists()


def test_cluster_level_mount_of_a_missing_share_makes_the_nodes_unusable(ctx):
    ctx.create_cluster(target=2, wait=False, extra_shares=[share_mount("other", share="nosuchshare")])
    cluster = wait_for(lambda: (lambda c: c if c.node_state_counts.unusable_node_count == 2 else None)(
        ctx.client.clusters.get(RG, WS, "cluster")), message="2 unusable nodes")
    assert cluster.node_state_counts.idle_node_count == 0
    assert [e.code for e in cluster.errors] == ["AZFMountError"]
    assert "nosuchshare" in cluster.errors[0].message
    assert not ctx.share_dir("nosuchshare").exists()

