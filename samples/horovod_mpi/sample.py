# A Horovod job under mpirun, in the shape of the Batch AI Horovod recipe: a 2-node cluster that
# mounts an Azure File share at cluster level, job preparation on every node, HorovodSettings with
# 4 processes. This file and legacy.py differ only in their import lines.
from __future__ import print_function

import os
import sys

import batchai_compat as training
import batchai_compat.models as models
from batchai_compat.storage import FileService

sample_dir = os.path.dirname(os.path.abspath(__file__)) if '__file__' in globals() else os.getcwd()
os.chdir(sample_dir)
sys.path.append('..')
import utilities as utils

cfg = utils.config.Configuration('configuration.json')
client = utils.config.create_batchai_client(cfg)
utils.config.create_resource_group(cfg)
_ = client.workspaces.create(cfg.resource_group, cfg.workspace, cfg.location).result()

azure_file_share_name = 'batchaisample'
file_service = FileService(cfg.storage_account_name, cfg.storage_account_key)
file_service.create_share(azure_file_share_name, fail_on_exist=False)
script_directory = 'horovod_samples'
file_service.create_directory(azure_file_share_name, script_directory, fail_on_exist=False)
for script in ['jobprep_horovod.sh', 'allreduce.py']:
    file_service.create_file_from_path(azure_file_share_name, script_directory, script, script)

# The cluster mounts the share on every node at $AZ_BATCHAI_MOUNT_ROOT/afs
nodes_count = 2
cluster_name = 'nc6'
azure_file_share = 'afs'
parameters = models.ClusterCreateParameters(
    vm_size='STANDARD_NC6',
    scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=nodes_count)),
    node_setup=models.NodeSetup(
        mount_volumes=models.MountVolumes(
            azure_file_shares=[
                models.AzureFileShareReference(
                    account_name=cfg.storage_account_name,
                    credentials=models.AzureStorageCredentialsInfo(account_key=cfg.storage_account_key),
                    azure_file_url='https://{0}.file.core.windows.net/{1}'.format(
                        cfg.storage_account_name, azure_file_share_name),
                    relative_mount_path=azure_file_share)])),
    user_account_settings=models.UserAccountSettings(
        admin_user_name=cfg.admin,
        admin_user_password=cfg.admin_password or None,
        admin_user_ssh_public_key=cfg.admin_ssh_key or None))
_ = client.clusters.create(cfg.resource_group, cfg.workspace, cluster_name, parameters).result()
cluster = client.clusters.get(cfg.resource_group, cfg.workspace, cluster_name)
utils.cluster.print_cluster_status(cluster)

experiment_name = 'horovod_experiment'
experiment = client.experiments.create(cfg.resource_group, cfg.workspace, experiment_name).result()

parameters = models.JobCreateParameters(
    cluster=models.ResourceId(id=cluster.id),
    node_count=nodes_count,
    input_directories=[
        models.InputDirectory(id='SCRIPTS',
                              path='$AZ_BATCHAI_MOUNT_ROOT/{0}/{1}'.format(azure_file_share, script_directory))],
    std_out_err_path_prefix='$AZ_BATCHAI_MOUNT_ROOT/{0}'.format(azure_file_share),
    job_preparation=models.JobPreparation(command_line='bash $AZ_BATCHAI_INPUT_SCRIPTS/jobprep_horovod.sh'),
    horovod_settings=models.HorovodSettings(
        python_script_file_path='$AZ_BATCHAI_INPUT_SCRIPTS/allreduce.py',
        command_line_args='--values 1000 --rendezvous $AZ_BATCHAI_SHARED_JOB_TEMP/allreduce',
        process_count=4))

job_name = 'horovod_allreduce'
job = client.jobs.create(cfg.resource_group, cfg.workspace, experiment_name, job_name, parameters).result()
print('Created Job {0} in Experiment {1}'.format(job.name, experiment.name))

utils.job.wait_for_job_completion(client, cfg.resource_group, cfg.workspace, experiment_name, job_name,
                                  cluster_name, 'stdouterr', 'stdout.txt')

files = client.jobs.list_output_files(cfg.resource_group, cfg.workspace, experiment_name, job_name,
                                      models.JobsListOutputFilesOptions(outputdirectoryid='stdouterr'))
for f in list(files):
    print(f.name, f.download_url or 'directory')

# Clean up
_ = client.jobs.delete(cfg.resource_group, cfg.workspace, experiment_name, job_name).result()
_ = client.clusters.delete(cfg.resource_group, cfg.workspace, cluster_name).result()
file_service.delete_share(azure_file_share_name)
_ = client.experiments.delete(cfg.resource_group, cfg.workspace, experiment_name).result()
_ = client.workspaces.delete(cfg.resource_group, cfg.workspace).result()
print('Deleted the job, the cluster, the share and the workspace of this sample.')
