"""Request bodies and reads of the 2018-05-01 scenario, shared by the clients whose models are the 2018-05-01
ones (azure-mgmt-batchai 2.0.0 and 7.0.0): the two packages' ``models`` modules and the reads used here have the
same names and signatures, so each script hands its own ``models`` and client to :class:`Scenario2018`.
Standard library only, like _scenario.py: each script runs in its client's own environment.
"""

from __future__ import annotations

import itertools
from typing import Any, Dict

from _scenario import ADMIN_PASSWORD, ADMIN_USER, BLOB_MOUNT, PREP_COMMAND, SHARE_MOUNT, check, value


class Scenario2018:
    def __init__(self, models: Any, client: Any, cfg: Dict[str, Any], rg: str, ws: str, exp: str,
                 cluster: str) -> None:
        self.models, self.client, self.cfg = models, client, cfg
        self.rg, self.ws, self.exp, self.cluster = rg, ws, exp, cluster

    def storage_credentials(self) -> Any:
        return self.models.AzureStorageCredentialsInfo(account_key=self.cfg["account_key"])

    def cluster_parameters(self) -> Any:
        models, cfg = self.models, self.cfg
        return models.ClusterCreateParameters(
            vm_size="STANDARD_D1", vm_priority="lowpriority",
            scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
            user_account_settings=models.UserAccountSettings(admin_user_name=ADMIN_USER,
                                                             admin_user_password=ADMIN_PASSWORD),
            node_setup=models.NodeSetup(mount_volumes=models.MountVolumes(
                azure_file_shares=[models.AzureFileShareReference(
                    account_name=cfg["account"], credentials=self.storage_credentials(),
                    relative_mount_path=SHARE_MOUNT,
                    azure_file_url=f"https://{cfg['account']}.file.core.windows.net/{cfg['share']}")],
                azure_blob_file_systems=[models.AzureBlobFileSystemReference(
                    account_name=cfg["account"], container_name=cfg["container"],
                    credentials=self.storage_credentials(), relative_mount_path=BLOB_MOUNT)])))

    def to_zero(self) -> Any:
        return self.models.ScaleSettings(manual=self.models.ManualScaleSettings(target_node_count=0))

    def cluster_shrunk(self) -> bool:
        cluster = self.client.clusters.get(self.rg, self.ws, self.cluster)
        return value(cluster.allocation_state) == "steady" and cluster.current_node_count == 0

    def job_parameters(self, cluster_id: str, command: str, prep: bool) -> Any:
        models = self.models
        return models.JobCreateParameters(
            cluster=models.ResourceId(id=cluster_id), node_count=1,
            std_out_err_path_prefix=f"$AZ_BATCHAI_MOUNT_ROOT/{SHARE_MOUNT}",
            job_preparation=models.JobPreparation(command_line=PREP_COMMAND) if prep else None,
            output_directories=[
                models.OutputDirectory(id="OUTPUTS", path_prefix=f"$AZ_BATCHAI_MOUNT_ROOT/{SHARE_MOUNT}",
                                       path_suffix="files"),
                models.OutputDirectory(id="MODELS", path_prefix=f"$AZ_BATCHAI_MOUNT_ROOT/{BLOB_MOUNT}")],
            custom_toolkit_settings=models.CustomToolkitSettings(command_line=command))

    def output_files(self, job: str, output_id: str, page_size: int = 1000) -> dict:
        """Every file of the listing; a small ``page_size`` makes the client follow ``nextLink`` page by page."""
        options = self.models.JobsListOutputFilesOptions(outputdirectoryid=output_id, max_results=page_size)
        files = list(itertools.islice(self.client.jobs.list_output_files(self.rg, self.ws, self.exp, job, options),
                                      100))
        check(len(files) < 100, "the listing does not end (nextLink never reaches the last page)")
        return {f.name: f for f in files}

    def job_state(self, job: str) -> str:
        return self.client.jobs.get(self.rg, self.ws, self.exp, job).execution_state
