"""``configuration.json`` reading and Batch AI client creation, as in the recipes' ``utilities.config``.

The file has the recipes' keys::

    {"subscription_id": ..., "aad_client_id": ..., "aad_secret": ..., "aad_tenant": ...,
     "location": ..., "base_url": ..., "resource_group": ..., "workspace": ...,
     "storage_account": {"name": ..., "key": ...},
     "admin_user": {"name": ..., "password": ..., "ssh_public_key": ...}}
"""

from __future__ import print_function

import json
import os

import batchai_compat as training
from batchai_compat.credentials import ServicePrincipalCredentials
from batchai_compat.resource import ResourceManagementClient


class Configuration(object):
    """The values of a ``configuration.json``, as attributes."""

    def __init__(self, file_name):
        if not os.path.exists(file_name):
            raise ValueError('Cannot find configuration file "{0}"'.format(file_name))
        with open(file_name) as f:
            conf = json.load(f)
        try:
            self.subscription_id = conf['subscription_id']
            self.aad_client_id = conf['aad_client_id']
            self.aad_secret_key = conf['aad_secret']
            self.aad_tenant = conf['aad_tenant']
            self.aad_token_uri = 'https://login.microsoftonline.com/{0}/oauth2/token'.format(self.aad_tenant)
            self.location = conf['location']
            self.url = conf['base_url']
            self.resource_group = conf['resource_group']
            self.workspace = conf['workspace']
            self.storage_account_name = conf['storage_account']['name']
            self.storage_account_key = conf['storage_account']['key']
            self.admin = conf['admin_user']['name']
        except KeyError as err:
            raise AttributeError('Please provide a value for "{0}" configuration key'.format(err.args[0])) from None
        self.admin_password = conf['admin_user'].get('password')
        self.admin_ssh_key = conf['admin_user'].get('ssh_public_key')
        if not self.admin_password and not self.admin_ssh_key:
            raise AttributeError('Please provide admin user password or public ssh key')
        registry = conf.get('container_registry') or {}
        self.container_registry_user = registry.get('user')
        self.container_registry_password = registry.get('password')


def _credentials(configuration):
    return ServicePrincipalCredentials(client_id=configuration.aad_client_id,
                                       secret=configuration.aad_secret_key,
                                       token_uri=configuration.aad_token_uri)


def create_batchai_client(configuration):
    """A ``BatchAIManagementClient`` for the configured subscription."""
    return training.BatchAIManagementClient(credentials=_credentials(configuration),
                                            subscription_id=configuration.subscription_id,
                                            base_url=configuration.url)


def create_resource_group(configuration):
    """Create (or update) the configured resource group in the configured location."""
    client = ResourceManagementClient(credentials=_credentials(configuration),
                                      subscription_id=configuration.subscription_id,
                                      base_url=configuration.url)
    client.resource_groups.create_or_update(configuration.resource_group, {'location': configuration.location})
