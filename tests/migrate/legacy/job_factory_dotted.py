"""A helper in the recipes' job_factory style: full dotted names of the legacy modules."""
import azure.storage.file.models
import azure.mgmt.batchai.models as models


def output_file(name):
    return azure.storage.file.models.File(name=name)


def variables(values):
    return [models.EnvironmentVariable(name=k, value=v) for k, v in values.items()]
