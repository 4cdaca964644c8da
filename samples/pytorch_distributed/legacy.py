# A PyTorch distributed job in the shape of the Batch AI PyTorch recipe: PyTorchSettings with the
# gloo backend, one process per node, ranks meeting through $AZ_BATCHAI_PYTORCH_INIT_METHOD.
# This file and legacy.py differ only in their import lines.
from __future__ import print_function

import os
import sys

import requests

import azure.mgmt.batchai as training
import azure.mgmt.batchai.models as models
from azure.storage.blob import BlockBlobService
from azure.storage.file import FileService

sample_dir = os.path.dirname(os.path.abspath(__file__)) if '__file__' in globals() else os.getcwd()
os.chdir(sample_dir)
sys.path.append('..')
from _legacy import utilities as utils

cfg = utils.config.Configuration('configuration.json')
client = utils.config.create_batchai_client(cfg)
utils.config.create_resource_group(cfg)
_ = client.workspaces.create(cfg.resource_group, cfg.workspace, cfg.location).result()

# The script goes to a blob container, the outputs to an Azure File share
azure_blob_container_name = 'batchaisample'
blob_service = BlockBlobService(cfg.storage_account_name, cfg.storage_account_key)
blob_service.create_container(azure_blob_container_name, fail_on_exist=False)
blob_service.create_blob_from_path(azure_blob_container_name, 'pytorch_samples/dist_train.py', 'dist_train.py')
azure_file_share_name = 'batchaisample'
file_service = FileService(cfg.storage_account_name, cfg.storage_account_key)
file_service.create_share(azure_file_share_name, fail_on_exist=False)

nodes_count = 2
cluster_name = 'nc6'
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
                    relative_mount_path='afs')],
            azure_blob_file_systems=[
                models.AzureBlobFileSystemReference(
                    account_name=cfg.storage_account_name,
                    credentials=models.AzureStorageCredentialsInfo(account_key=cfg.storage_account_key),
                    container_name=azure_blob_container_name,
                    relative_mount_path='bfs')])),
    user_account_settings=models.UserAccountSettings(
        admin_user_name=cfg.admin,
        admin_user_password=cfg.admin_password or None,
        admin_user_ssh_public_key=cfg.admin_ssh_key or None))
_ = client.clusters.create(cfg.resource_group, cfg.workspace, cluster_name, parameters).result()
cluster = client.clusters.get(cfg.resource_group, cfg.workspace, cluster_name)
utils.cluster.print_cluster_status(cluster)

experiment_name = 'pytorch_experiment'
experiment = client.experiments.create(cfg.resource_group, cfg.workspace, experiment_name).result()

parameters = models.JobCreateParameters(
    cluster=models.ResourceId(id=cluster.id),
    node_count=nodes_count,
    input_directories=[models.InputDirectory(id='SCRIPTS', path='$AZ_BATCHAI_MOUNT_ROOT/bfs/pytorch_samples')],
    output_directories=[models.OutputDirectory(id='MODEL', path_prefix='$AZ_BATCHAI_MOUNT_ROOT/afs',
                                               path_suffix='Models')],
    std_out_err_path_prefix='$AZ_BATCHAI_MOUNT_ROOT/afs',
    container_settings=models.ContainerSettings(
        image_source_registry=models.ImageSourceRegistry(image='pytorch/pytorch:0.4_cuda9_cudnn7')),
    py_torch_settings=models.PyTorchSettings(
        python_script_file_path='$AZ_BATCHAI_INPUT_SCRIPTS/dist_train.py',
        command_line_args='--world-size 2 --dist-backend gloo --dist-url $AZ_BATCHAI_PYTORCH_INIT_METHOD '
                          '--rank $AZ_BATCHAI_TASK_INDEX --epochs 20 --output $AZ_BATCHAI_OUTPUT_MODEL',
        communication_backend='gloo',
        process_count=2))

job_name = 'pytorch_gloo'
job = client.jobs.create(cfg.resource_group, cfg.workspace, experiment_name, job_name, parameters).result()
print('Created Job {0} in Experiment {1}'.format(job.name, experiment.name))

utils.job.wait_for_job_completion(client, cfg.resource_group, cfg.workspace, experiment_name, job_name,
                                  cluster_name, 'stdouterr', 'stdout-0.txt')

for output_directory_id in ['stdouterr', 'MODEL']:
    files = client.jobs.list_output_files(cfg.resource_group, cfg.workspace, experiment_name, job_name,
                                          models.JobsListOutputFilesOptions(outputdirectoryid=output_directory_id))
    for f in list(files):
        print(output_directory_id, f.name, f.content_length)
        if f.name == 'model.json':
            print('Model:', requests.get(f.download_url).json())

# Clean up
_ = client.jobs.delete(cfg.resource_group, cfg.workspace, experiment_name, job_name).result()
_ = client.clusters.delete(cfg.resource_group, cfg.workspace, cluster_name).result()
file_service.delete_share(azure_file_share_name)
blob_service.delete_container(azure_blob_container_name)
_ = client.experiments.delete(cfg.resource_group, cfg.workspace, experiment_name).result()
_ = client.workspaces.delete(cfg.resource_group, cfg.workspace).result()
print('Deleted the job, the cluster, the storage and the workspace of this sample.')
