"""Azure ML (SDK v1) wire emulator internals; the public entry point is :mod:`batchai_compat.testing`.

Modules: ``server`` (HTTP(S) server, router, request log), ``state`` (in-memory model), ``arm`` (workspaces,
discovery, usages, ``Workspace.create``), ``compute`` (AmlCompute), ``history`` (experiments, runs, metrics),
``odata`` (filter subset), ``content`` (snapshots), ``execution`` (startrun/snapshotrun/localrun/cancel
routes), ``executor`` (runs as local processes), ``artifacts`` (run files and SAS-like download URLs),
``datastores``, ``credentials`` (Key Vault secrets), ``auth`` (fake authentication), ``tls`` (self-signed
certificate), ``hygiene`` (polling and HOME helpers), ``emulator`` (the facade).
Nothing here imports azureml at module import time.
"""
