import azure.mgmt.batchai as training

client = training.BatchAIManagementClient(creds, sub)
client.clusters.create('rg', 'nc6', params).result()          # 0.2.0/1.0.x
client.jobs.create('rg', 'ws', 'exp', 'job', params).result()  # 2.0.0
