from azure.identity import DefaultAzureCredential
from azure.mgmt.batchai import BatchAIManagementClient

client = BatchAIManagementClient(DefaultAzureCredential(), sub)
client.clusters.begin_create('rg', 'ws', 'nc6', params).result()
