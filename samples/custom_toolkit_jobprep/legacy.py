# A custom-toolkit job with job preparation and a job-level Azure File share mount, in the shape of
# the Batch AI recipes. This file and legacy.py differ only in their import lines.
from __future__ import print_function

import os
import sys

import requests

import azure.mgmt.batchai as training
import azure.mgmt.batchai.models as models
from azure.storage.file import FileService

sample_dir = os.path.dirname(os.path.abspath(__file__)) if '__file__' in globals() else os.getcwd()
os.chdir(sample_dir)
sys.path.append('..')
from _legacy import utilities as utils

cfg = utils.config.Configuration('configuration.json')
client = utils.config.create_batchai_client(cfg)
utils.config.create_resource_group(cfg)
_ = client.workspaces.create(cfg.resource_group, cfg.workspace, cfg.location).result()

# Upload the job preparation script, the job's script and its input to an Azure File share
azure_file_share_name = 'batchaisample'
file_service = FileService(cfg.storage_account_name, cfg.storage_account_key)
file_service.create_share(azure_file_share_name, fail_on_exist=False)
for directory, file_name in [('scripts', 'jobprep.sh'), ('scripts', 'wordcount.py'), ('data', 'corpus.txt')]:
    file_service.create_directory(azure_file_share_name, directory, fail_on_exist=False)
    file_service.create_file_from_path(azure_file_share_name, directory, file_name, file_name)

# A single-node cluster without any cluster-level mounts
cluster_name = 'd1'
parameters = models.ClusterCreateParameters(
    vm_size='STANDARD_D1',
    vm_priority='lowpriority',
    scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
    user_account_settings=models.UserAccountSettings(
        admin_user_name=cfg.admin,
        admin_user_password=cfg.admin_password or None,
        admin_user_ssh_public_key=cfg.admin_ssh_key or None))
cluster = client.clusters.create(cfg.resource_group, cfg.workspace, cluster_name, parameters).result()
utils.cluster.print_cluster_status(cluster)

experiment_name = 'custom_toolkit_experiment'
experiment = client.experiments.create(cfg.resource_group, cfg.workspace, experiment_name).result()

# The share is mounted for this job only, at $AZ_BATCHAI_JOB_MOUNT_ROOT/afs
azure_file_share = 'afs'
parameters = models.JobCreateParameters(
    cluster=models.ResourceId(id=cluster.id),
    node_count=1,
    mount_volumes=models.MountVolumes(
        azure_file_shares=[
            models.AzureFileShareReference(
                account_name=cfg.storage_account_name,
                credentials=models.AzureStorageCredentialsInfo(account_key=cfg.storage_account_key),
                azure_file_url='https://{0}.file.core.windows.net/{1}'.format(
                    cfg.storage_account_name, azure_file_share_name),
                relative_mount_path=azure_file_share)]),
    input_directories=[
        models.InputDirectory(id='SCRIPTS', path='$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}/scripts'.format(azure_file_share)),
        models.InputDirectory(id='DATA', path='$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}/data'.format(azure_file_share))],
    output_directories=[
        models.OutputDirectory(id='RESULTS', path_prefix='$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}'.format(azure_file_share),
                               path_suffix='results')],
    std_out_err_path_prefix='$AZ_BATCHAI_JOB_MOUNT_ROOT/{0}'.format(azure_file_share),
    environment_variables=[models.EnvironmentVariable(name='TOP_WORDS', value='5')],
    job_preparation=models.JobPreparation(command_line='bash $AZ_BATCHAI_INPUT_SCRIPTS/jobprep.sh'),
    custom_toolkit_settings=models.CustomToolkitSettings(
        command_line='python $AZ_BATCHAI_INPUT_SCRIPTS/wordcount.py '
                     '--input $AZ_BATCHAI_INPUT_DATA/corpus.txt --output $AZ_BATCHAI_OUTPUT_RESULTS'))

job_name = 'wordcount'
job = client.jobs.create(cfg.resource_group, cfg.workspace, experiment_name, job_name, parameters).result()
print('Created Job {0} in Experiment {1}'.format(job.name, experiment.name))

utils.job.wait_for_job_completion(client, cfg.resource_group, cfg.workspace, experiment_name, job_name,
                                  cluster_name, 'stdouterr', 'stdout.txt')

for output_directory_id in ['stdouterr', 'RESULTS']:
    files = client.jobs.list_output_files(cfg.resource_group, cfg.workspace, experiment_name, job_name,
                                          models.JobsListOutputFilesOptions(outputdirectoryid=output_directory_id))
    for f in list(files):
        print(output_directory_id, f.name, f.file_type, f.content_length)
        if f.name == 'stdout-job_prep.txt':
            print(requests.get(f.download_url).text, end='')
        if f.name == 'counts.json':
            print('Top words:', list(requests.get(f.download_url).json().items())[:5])

# Clean up
_ = client.jobs.delete(cfg.resource_group, cfg.workspace, experiment_name, job_name).result()
_ = client.clusters.delete(cfg.resource_group, cfg.workspace, cluster_name).result()
file_service.delete_share(azure_file_share_name)
_ = client.experiments.delete(cfg.resource_group, cfg.workspace, experiment_name).result()
_ = client.workspaces.delete(cfg.resource_group, cfg.workspace).result()
print('Deleted the job, the cluster, the share and the workspace of this sample.')
