"""Models of the storage-account operations, as ``azure.mgmt.storage.models`` (API 2018-02-01).

Same class names, attribute maps (wire keys and types), ``_validation`` tables, constants,
keyword-only constructors and enums as ``azure-mgmt-storage`` 2.0.0; checked against a snapshot of
that package by ``tests/mgmt/test_parity.py``. Only the models of ``storage_accounts`` are provided
(not those of blob containers, usages or SKU listing).
"""

from __future__ import annotations

from enum import Enum

from msrest.paging import Paged

from batchai_compat._mgmt._modelkit import REQUIRED, define, merge, readonly, required

_M = __name__


# -- enums -----------------------------------------------------------------------------------------
class ReasonCode(str, Enum):
    quota_id = "QuotaId"
    not_available_for_subscription = "NotAvailableForSubscription"


class SkuName(str, Enum):
    standard_lrs = "Standard_LRS"
    standard_grs = "Standard_GRS"
    standard_ragrs = "Standard_RAGRS"
    standard_zrs = "Standard_ZRS"
    premium_lrs = "Premium_LRS"


class SkuTier(str, Enum):
    standard = "Standard"
    premium = "Premium"


class Kind(str, Enum):
    storage = "Storage"
    storage_v2 = "StorageV2"
    blob_storage = "BlobStorage"


class Reason(str, Enum):
    account_name_invalid = "AccountNameInvalid"
    already_exists = "AlreadyExists"


class KeySource(str, Enum):
    microsoft_storage = "Microsoft.Storage"
    microsoft_keyvault = "Microsoft.Keyvault"


class Action(str, Enum):
    allow = "Allow"


class State(str, Enum):
    provisioning = "provisioning"
    deprovisioning = "deprovisioning"
    succeeded = "succeeded"
    failed = "failed"
    network_source_deleted = "networkSourceDeleted"


class Bypass(str, Enum):
    none = "None"
    logging = "Logging"
    metrics = "Metrics"
    azure_services = "AzureServices"


class DefaultAction(str, Enum):
    allow = "Allow"
    deny = "Deny"


class AccessTier(str, Enum):
    hot = "Hot"
    cool = "Cool"


class ProvisioningState(str, Enum):
    creating = "Creating"
    resolving_dns = "ResolvingDNS"
    succeeded = "Succeeded"


class AccountStatus(str, Enum):
    available = "available"
    unavailable = "unavailable"


class KeyPermission(str, Enum):
    read = "Read"
    full = "Full"


class Services(str, Enum):
    b = "b"
    q = "q"
    t = "t"
    f = "f"


class SignedResourceTypes(str, Enum):
    s = "s"
    c = "c"
    o = "o"


class Permissions(str, Enum):
    r = "r"
    d = "d"
    w = "w"
    l = "l"  # noqa: E741 (the service's letter)
    a = "a"
    c = "c"
    u = "u"
    p = "p"


class HttpProtocol(str, Enum):
    httpshttp = "https,http"
    https = "https"


class SignedResource(str, Enum):
    b = "b"
    c = "c"
    f = "f"
    s = "s"


# -- models ----------------------------------------------------------------------------------------
StorageAccountCheckNameAvailabilityParameters = define(
    "StorageAccountCheckNameAvailabilityParameters", _M, "The name to check (``type`` is a constant).",
    [("name", "name", "str"), ("type", "type", "str")], [("name", REQUIRED)],
    validation={"name": {"required": True}, "type": {"required": True, "constant": True}},
    constants={"type": "Microsoft.Storage/storageAccounts"})

SKUCapability = define(
    "SKUCapability", _M, "A capability of a SKU (read-only).",
    [("name", "name", "str"), ("value", "value", "str")], validation=readonly("name", "value"))

Restriction = define(
    "Restriction", _M, "A restriction that prevents using a SKU.",
    [("type", "type", "str"), ("values", "values", "[str]"), ("reason_code", "reasonCode", "str")],
    ["reason_code"], validation=readonly("type", "values"))

Sku = define(
    "Sku", _M, "The SKU of a storage account; ``name`` (a :class:`SkuName`) is required.",
    [("name", "name", "SkuName"), ("tier", "tier", "SkuTier"), ("resource_type", "resourceType", "str"),
     ("kind", "kind", "Kind"), ("locations", "locations", "[str]"), ("capabilities", "capabilities", "[SKUCapability]"),
     ("restrictions", "restrictions", "[Restriction]")],
    [("name", REQUIRED), "restrictions"],
    validation=merge(required("name"), readonly("tier", "resource_type", "kind", "locations", "capabilities")))

CheckNameAvailabilityResult = define(
    "CheckNameAvailabilityResult", _M, "Whether a storage account name is available, and why not.",
    [("name_available", "nameAvailable", "bool"), ("reason", "reason", "Reason"), ("message", "message", "str")],
    validation=readonly("name_available", "reason", "message"))

CustomDomain = define(
    "CustomDomain", _M, "A custom domain assigned to a storage account.",
    [("name", "name", "str"), ("use_sub_domain", "useSubDomain", "bool")], [("name", REQUIRED), "use_sub_domain"],
    validation=required("name"))

EncryptionService = define(
    "EncryptionService", _M, "Encryption settings of one storage service.",
    [("enabled", "enabled", "bool"), ("last_enabled_time", "lastEnabledTime", "iso-8601")], ["enabled"],
    validation=readonly("last_enabled_time"))

EncryptionServices = define(
    "EncryptionServices", _M, "The services that support encryption.",
    [("blob", "blob", "EncryptionService"), ("file", "file", "EncryptionService"),
     ("table", "table", "EncryptionService"), ("queue", "queue", "EncryptionService")],
    ["blob", "file"], validation=readonly("table", "queue"))

KeyVaultProperties = define(
    "KeyVaultProperties", _M, "Key vault properties of customer-managed keys.",
    [("key_name", "keyname", "str"), ("key_version", "keyversion", "str"), ("key_vault_uri", "keyvaulturi", "str")],
    ["key_name", "key_version", "key_vault_uri"])

Encryption = define(
    "Encryption", _M, "The encryption settings of a storage account.",
    [("services", "services", "EncryptionServices"), ("key_source", "keySource", "str"),
     ("key_vault_properties", "keyvaultproperties", "KeyVaultProperties")],
    ["services", ("key_source", "Microsoft.Storage"), "key_vault_properties"], validation=required("key_source"))

VirtualNetworkRule = define(
    "VirtualNetworkRule", _M, "A virtual network rule.",
    [("virtual_network_resource_id", "id", "str"), ("action", "action", "Action"), ("state", "state", "State")],
    [("virtual_network_resource_id", REQUIRED), ("action", "Allow"), "state"],
    validation=required("virtual_network_resource_id"))

IPRule = define(
    "IPRule", _M, "An IP address rule.",
    [("ip_address_or_range", "value", "str"), ("action", "action", "Action")],
    [("ip_address_or_range", REQUIRED), ("action", "Allow")], validation=required("ip_address_or_range"))

NetworkRuleSet = define(
    "NetworkRuleSet", _M, "Network rules of a storage account.",
    [("bypass", "bypass", "str"), ("virtual_network_rules", "virtualNetworkRules", "[VirtualNetworkRule]"),
     ("ip_rules", "ipRules", "[IPRule]"), ("default_action", "defaultAction", "DefaultAction")],
    [("bypass", "AzureServices"), "virtual_network_rules", "ip_rules", ("default_action", "Allow")],
    validation=required("default_action"))

Identity = define(
    "Identity", _M, "The identity of a storage account (``type`` is the constant ``SystemAssigned``).",
    [("principal_id", "principalId", "str"), ("tenant_id", "tenantId", "str"), ("type", "type", "str")],
    validation={"principal_id": {"readonly": True}, "tenant_id": {"readonly": True},
                "type": {"required": True, "constant": True}},
    constants={"type": "SystemAssigned"})

StorageAccountCreateParameters = define(
    "StorageAccountCreateParameters", _M, "The parameters of ``storage_accounts.create``.",
    [("sku", "sku", "Sku"), ("kind", "kind", "Kind"), ("location", "location", "str"), ("tags", "tags", "{str}"),
     ("identity", "identity", "Identity"), ("custom_domain", "properties.customDomain", "CustomDomain"),
     ("encryption", "properties.encryption", "Encryption"),
     ("network_rule_set", "properties.networkAcls", "NetworkRuleSet"),
     ("access_tier", "properties.accessTier", "AccessTier"),
     ("enable_https_traffic_only", "properties.supportsHttpsTrafficOnly", "bool"),
     ("is_hns_enabled", "properties.isHnsEnabled", "bool")],
    [("sku", REQUIRED), ("kind", REQUIRED), ("location", REQUIRED), "tags", "identity", "custom_domain", "encryption",
     "network_rule_set", "access_tier", ("enable_https_traffic_only", False), ("is_hns_enabled", False)],
    validation=required("sku", "kind", "location"))

Endpoints = define(
    "Endpoints", _M, "The URIs of a storage account's services (read-only).",
    [("blob", "blob", "str"), ("queue", "queue", "str"), ("table", "table", "str"), ("file", "file", "str"),
     ("web", "web", "str"), ("dfs", "dfs", "str")],
    validation=readonly("blob", "queue", "table", "file", "web", "dfs"))

Resource = define(
    "Resource", _M, "An ARM resource (id, name, type are read-only).",
    [("id", "id", "str"), ("name", "name", "str"), ("type", "type", "str")], validation=readonly("id", "name", "type"))

TrackedResource = define(
    "TrackedResource", _M, "An ARM resource with a location and tags.",
    [("id", "id", "str"), ("name", "name", "str"), ("type", "type", "str"), ("tags", "tags", "{str}"),
     ("location", "location", "str")],
    [("location", REQUIRED), "tags"], validation=merge(readonly("id", "name", "type"), required("location")),
    base=Resource)

StorageAccount = define(
    "StorageAccount", _M, "A storage account, as ``get_properties`` and ``create`` return it.",
    [("id", "id", "str"), ("name", "name", "str"), ("type", "type", "str"), ("tags", "tags", "{str}"),
     ("location", "location", "str"), ("sku", "sku", "Sku"), ("kind", "kind", "Kind"),
     ("identity", "identity", "Identity"),
     ("provisioning_state", "properties.provisioningState", "ProvisioningState"),
     ("primary_endpoints", "properties.primaryEndpoints", "Endpoints"),
     ("primary_location", "properties.primaryLocation", "str"),
     ("status_of_primary", "properties.statusOfPrimary", "AccountStatus"),
     ("last_geo_failover_time", "properties.lastGeoFailoverTime", "iso-8601"),
     ("secondary_location", "properties.secondaryLocation", "str"),
     ("status_of_secondary", "properties.statusOfSecondary", "AccountStatus"),
     ("creation_time", "properties.creationTime", "iso-8601"),
     ("custom_domain", "properties.customDomain", "CustomDomain"),
     ("secondary_endpoints", "properties.secondaryEndpoints", "Endpoints"),
     ("encryption", "properties.encryption", "Encryption"),
     ("access_tier", "properties.accessTier", "AccessTier"),
     ("enable_https_traffic_only", "properties.supportsHttpsTrafficOnly", "bool"),
     ("network_rule_set", "properties.networkAcls", "NetworkRuleSet"),
     ("is_hns_enabled", "properties.isHnsEnabled", "bool")],
    [("location", REQUIRED), "tags", "identity", ("enable_https_traffic_only", False), ("is_hns_enabled", False)],
    validation=merge(readonly("id", "name", "type", "sku", "kind", "provisioning_state", "primary_endpoints",
                              "primary_location", "status_of_primary", "last_geo_failover_time", "secondary_location",
                              "status_of_secondary", "creation_time", "custom_domain", "secondary_endpoints",
                              "encryption", "access_tier", "network_rule_set"),
                     required("location")),
    base=TrackedResource)

StorageAccountKey = define(
    "StorageAccountKey", _M, "An access key of a storage account (read-only).",
    [("key_name", "keyName", "str"), ("value", "value", "str"), ("permissions", "permissions", "KeyPermission")],
    validation=readonly("key_name", "value", "permissions"))

StorageAccountListKeysResult = define(
    "StorageAccountListKeysResult", _M, "The access keys of a storage account.",
    [("keys", "keys", "[StorageAccountKey]")], validation=readonly("keys"))

StorageAccountRegenerateKeyParameters = define(
    "StorageAccountRegenerateKeyParameters", _M, "Which key to regenerate (``key1`` or ``key2``).",
    [("key_name", "keyName", "str")], [("key_name", REQUIRED)], validation=required("key_name"))

StorageAccountUpdateParameters = define(
    "StorageAccountUpdateParameters", _M, "The parameters of ``storage_accounts.update``.",
    [("sku", "sku", "Sku"), ("tags", "tags", "{str}"), ("identity", "identity", "Identity"),
     ("custom_domain", "properties.customDomain", "CustomDomain"),
     ("encryption", "properties.encryption", "Encryption"), ("access_tier", "properties.accessTier", "AccessTier"),
     ("enable_https_traffic_only", "properties.supportsHttpsTrafficOnly", "bool"),
     ("network_rule_set", "properties.networkAcls", "NetworkRuleSet"), ("kind", "kind", "Kind")],
    ["sku", "tags", "identity", "custom_domain", "encryption", "access_tier", ("enable_https_traffic_only", False),
     "network_rule_set", "kind"])

AccountSasParameters = define(
    "AccountSasParameters", _M, "The parameters of ``list_account_sas``.",
    [("services", "signedServices", "str"), ("resource_types", "signedResourceTypes", "str"),
     ("permissions", "signedPermission", "str"), ("ip_address_or_range", "signedIp", "str"),
     ("protocols", "signedProtocol", "HttpProtocol"), ("shared_access_start_time", "signedStart", "iso-8601"),
     ("shared_access_expiry_time", "signedExpiry", "iso-8601"), ("key_to_sign", "keyToSign", "str")],
    [("services", REQUIRED), ("resource_types", REQUIRED), ("permissions", REQUIRED),
     ("shared_access_expiry_time", REQUIRED), "ip_address_or_range", "protocols", "shared_access_start_time",
     "key_to_sign"],
    validation=required("services", "resource_types", "permissions", "shared_access_expiry_time"))

ListAccountSasResponse = define(
    "ListAccountSasResponse", _M, "An account SAS token.", [("account_sas_token", "accountSasToken", "str")],
    validation=readonly("account_sas_token"))

ServiceSasParameters = define(
    "ServiceSasParameters", _M, "The parameters of ``list_service_sas``.",
    [("canonicalized_resource", "canonicalizedResource", "str"), ("resource", "signedResource", "str"),
     ("permissions", "signedPermission", "str"), ("ip_address_or_range", "signedIp", "str"),
     ("protocols", "signedProtocol", "HttpProtocol"), ("shared_access_start_time", "signedStart", "iso-8601"),
     ("shared_access_expiry_time", "signedExpiry", "iso-8601"), ("identifier", "signedIdentifier", "str"),
     ("partition_key_start", "startPk", "str"), ("partition_key_end", "endPk", "str"),
     ("row_key_start", "startRk", "str"), ("row_key_end", "endRk", "str"), ("key_to_sign", "keyToSign", "str"),
     ("cache_control", "rscc", "str"), ("content_disposition", "rscd", "str"), ("content_encoding", "rsce", "str"),
     ("content_language", "rscl", "str"), ("content_type", "rsct", "str")],
    [("canonicalized_resource", REQUIRED), "resource", "permissions", "ip_address_or_range", "protocols",
     "shared_access_start_time", "shared_access_expiry_time", "identifier", "partition_key_start",
     "partition_key_end", "row_key_start", "row_key_end", "key_to_sign", "cache_control", "content_disposition",
     "content_encoding", "content_language", "content_type"],
    validation={"canonicalized_resource": {"required": True}, "identifier": {"max_length": 64}})

ListServiceSasResponse = define(
    "ListServiceSasResponse", _M, "A service SAS token.", [("service_sas_token", "serviceSasToken", "str")],
    validation=readonly("service_sas_token"))


class StorageAccountPaged(Paged):
    """A paging container for iterating over a list of :class:`StorageAccount` objects."""

    _attribute_map = {
        "next_link": {"key": "nextLink", "type": "str"},
        "current_page": {"key": "value", "type": "[StorageAccount]"},
    }


__all__ = sorted(n for n, v in dict(globals()).items() if isinstance(v, type) and not n.startswith("_")
                 and v.__module__ == __name__)
