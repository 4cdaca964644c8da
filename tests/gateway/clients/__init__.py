"""The original Batch AI SDKs, unmodified, against the REST gateway (issue 15, acceptance item 1).

Each client runs one full scenario in its own environment: azure-mgmt-batchai 2.0.0 in the main virtualenv,
0.2.0 / 1.0.1 / 7.0.0 in .tools/oracles (``make oracles``), @azure/arm-batchai 2.2.1 under Node from
.tools/node-oracles (``make gateway-client-oracles``, mk/gateway-clients.mk).
"""
