# A hyperparameter search in the shape of the Batch AI job-factory recipe: a ParameterSweep turns
# one JobCreateParameters template into many jobs, ExperimentUtils submits them from a thread pool
# and waits for them, and a MetricExtractor reads each job's accuracy from its stdout.txt.
# This file and legacy.py differ only in their import lines.
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
from utilities.job_factory import DiscreteParamSpec, NumParamSpec, ParameterSweep

cfg = utils.config.Configuration('configuration.json')
client = utils.config.create_batchai_client(cfg)
utils.config.create_resource_group(cfg)
_ = client.workspaces.create(cfg.resource_group, cfg.workspace, cfg.location).result()

# Dataset and training script on an Azure File share
azure_file_share_name = 'batchaisample'
file_service = FileService(cfg.storage_account_name, cfg.storage_account_key)
file_service.create_share(azure_file_share_name, fail_on_exist=False)
utils.dataset.upload_mnist_dataset_to_file_share(file_service, azure_file_share_name, 'mnist_dataset')
file_service.create_directory(azure_file_share_name, 'scripts', fail_on_exist=False)
file_service.create_file_from_path(azure_file_share_name, 'scripts', 'train.py', 'train.py')

# A 2-node cluster: the sweep's single-node jobs queue for its nodes
cluster_name = 'd1'
parameters = models.ClusterCreateParameters(
    vm_size='STANDARD_D1',
    vm_priority='lowpriority',
    scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=2)),
    node_setup=models.NodeSetup(
        mount_volumes=models.MountVolumes(
            azure_file_shares=[
                models.AzureFileShareReference(
                    account_name=cfg.storage_account_name,
                    credentials=models.AzureStorageCredentialsInfo(account_key=cfg.storage_account_key),
                    azure_file_url='https://{0}.file.core.windows.net/{1}'.format(
                        cfg.storage_account_name, azure_file_share_name),
                    relative_mount_path='afs')])),
    user_account_settings=models.UserAccountSettings(
        admin_user_name=cfg.admin,
        admin_user_password=cfg.admin_password or None,
        admin_user_ssh_public_key=cfg.admin_ssh_key or None))
cluster = client.clusters.create(cfg.resource_group, cfg.workspace, cluster_name, parameters).result()
utils.cluster.print_cluster_status(cluster)

experiment_name = 'hyperparameter_sweep'
_ = client.experiments.create(cfg.resource_group, cfg.workspace, experiment_name).result()

# The sweep: 3 learning rates on a log scale x 2 epoch counts = 6 jobs
param_specs = [
    NumParamSpec(parameter_name='LEARNING_RATE', data_type='REAL', start=0.01, end=1.0, scale='LOG', num_values=3),
    DiscreteParamSpec(parameter_name='EPOCHS', values=[1, 2]),
]
parameters = ParameterSweep(param_specs)

jcp = models.JobCreateParameters(
    cluster=models.ResourceId(id=cluster.id),
    node_count=1,
    std_out_err_path_prefix='$AZ_BATCHAI_MOUNT_ROOT/afs',
    input_directories=[
        models.InputDirectory(id='SCRIPT', path='$AZ_BATCHAI_MOUNT_ROOT/afs/scripts'),
        models.InputDirectory(id='DATASET', path='$AZ_BATCHAI_MOUNT_ROOT/afs/mnist_dataset')],
    custom_toolkit_settings=models.CustomToolkitSettings(
        command_line='python $AZ_BATCHAI_INPUT_SCRIPT/train.py --data_dir $AZ_BATCHAI_INPUT_DATASET '
                     '--learning_rate {0} --epochs {1}'.format(parameters['LEARNING_RATE'], parameters['EPOCHS'])))
jobs_to_submit = parameters.generate_jobs(jcp)
print('Generated {0} jobs'.format(len(jobs_to_submit)))

experiment_utils = utils.experiment.ExperimentUtils(client, cfg.resource_group, cfg.workspace, experiment_name)
jobs = experiment_utils.submit_jobs(jobs_to_submit, 'mnist_param_sweep').result()

metric_extractor = utils.job.MetricExtractor(
    output_dir_id='stdouterr', logfile='stdout.txt', regex=r'Final accuracy: ([\d.]+)')
results = experiment_utils.get_metrics_for_jobs(jobs, metric_extractor)

for result in sorted(results, key=lambda r: r['metric_value'], reverse=True):
    print('{0}: accuracy {1:.4f} with {2}'.format(
        result['name'], result['metric_value'], experiment_utils.get_parameters_of_job(result['name'])))
best = max(results, key=lambda r: r['metric_value'])
print('Best job: {0} (accuracy {1:.4f})'.format(best['name'], best['metric_value']))

# Clean up
experiment_utils.delete_jobs_in_experiment()
_ = client.clusters.delete(cfg.resource_group, cfg.workspace, cluster_name).result()
file_service.delete_share(azure_file_share_name)
_ = client.experiments.delete(cfg.resource_group, cfg.workspace, experiment_name).result()
_ = client.workspaces.delete(cfg.resource_group, cfg.workspace).result()
print('Deleted the jobs, the cluster, the share and the workspace of this sample.')
