import azure.mgmt.batchai as batchai
import azure.mgmt.batchai.models as models
from azure.storage.file import FileService
import azure.storage.file.models

client = batchai.BatchAIManagementClient(creds, sub)
params = models.ClusterCreateParameters(location='eastus', vm_size='STANDARD_NC6',
    scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)))
client.clusters.create('rg', 'nc6', params).result()
env = [models.EnvironmentSetting(name='A', value='1')]
client.jobs.create('rg', 'job', models.JobCreateParameters(location='eastus', cluster=models.ResourceId(cluster.id), node_count=1, environment_variables=env, std_out_err_path_prefix='x')).result()
files = client.jobs.list_output_files('rg', 'job', models.JobsListOutputFilesOptions('stdouterr'))
f = azure.storage.file.models.File()
client.clusters.delete('rg', 'nc6')
