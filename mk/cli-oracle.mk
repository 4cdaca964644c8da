# Oracles of tests/cli/test_parity*.py: the original `az batchai` command modules, each in its own virtualenv
# under .tools/oracles/cli-<version>/, built once (stamp file), no root, from PyPI only (~10 s each).
#   cli-0.4.10  azure-cli-batchai 0.4.10 (REST API 2018-05-01, the last release) on a current azure-cli-core.
#               (the issue's setting: the module still loads there)
#   cli-0.2.3   azure-cli-batchai 0.2.3  (the last on 2018-03-01 / azure-mgmt-batchai 1.0.0).
#   cli-0.1.6   azure-cli-batchai 0.1.6  (the last on 2017-09-01-preview / azure-mgmt-batchai 0.2.0).
# The two old modules pass `min_profile` to AzCommandsLoader, which azure-cli-core dropped in 2.0.67: they load
# with azure-cli-core 2.0.66 (the last that accepts it). Their _params.py imports a completer from the vm module
# (azure-cli-vm, --no-deps: only that import is needed) and SkuName from azure-mgmt-storage (0.1.6 offers all
# of that enum as --storage-sku choices, so its era's azure-mgmt-storage 1.5.0 (pinned by azure-cli-storage
# 2.0.21; five SKUs) -- a current one would offer SKUs that did not exist; 0.2.3 lists its SKUs itself); the
# 2.0.66 core imports pkg_resources (setuptools < 81). azure-cli-batchai is installed --no-deps: its declared
# requirements (sshtunnel, azure-storage-blob 1.3.1, mock...) are needed only when a command runs, not to
# load its command table; paramiko and six are imported by its custom.py.
CLI_ORACLES := $(TOOLS)/oracles
CLI_ORACLE_STAMPS := $(CLI_ORACLES)/cli-0.4.10/.stamp $(CLI_ORACLES)/cli-0.2.3/.stamp $(CLI_ORACLES)/cli-0.1.6/.stamp
CLI_ORACLE_PIP := --quiet --disable-pip-version-check --retries 10

# azure-cli-core 2.91.0 needs Python >= 3.10; 2.79.0 is the last for 3.9 (its table differs only by lacking
# 2.8x's --change-reference/--acquire-policy-token, which the parity test accepts as core additions anyway).
CLI_ORACLE_DEPS_0.4.10 := 'azure-cli-core==2.91.0; python_version >= "3.10"' \
                          'azure-cli-core==2.79.0; python_version < "3.10"' \
                          azure-mgmt-batchai==2.0.0 paramiko==5.1.0 six==1.17.0
CLI_ORACLE_DEPS_0.2.3  := azure-cli-core==2.0.66 azure-mgmt-batchai==1.0.0 azure-mgmt-storage==3.3.0 \
                          paramiko==5.1.0 six==1.17.0 setuptools==70.3.0
CLI_ORACLE_DEPS_0.1.6  := azure-cli-core==2.0.66 azure-mgmt-batchai==0.2.0 azure-mgmt-storage==1.5.0 \
                          paramiko==5.1.0 six==1.17.0 setuptools==70.3.0
CLI_ORACLE_NODEPS_0.4.10 := azure-cli-batchai==0.4.10
CLI_ORACLE_NODEPS_0.2.3  := azure-cli-batchai==0.2.3 azure-cli-vm==2.2.16
CLI_ORACLE_NODEPS_0.1.6  := azure-cli-batchai==0.1.6 azure-cli-vm==2.2.16

.PHONY: cli-oracles
cli-oracles: $(CLI_ORACLE_STAMPS)

# One pattern rule for the three (the Makefile's pattern rule for the SDK oracles makes .installed, not .stamp);
# rebuilt when this file (the pins) changes.
$(CLI_ORACLES)/cli-%/.stamp: mk/cli-oracle.mk
	rm -rf $(CLI_ORACLES)/cli-$*
	$(PYTHON) -m venv $(CLI_ORACLES)/cli-$*
	$(CLI_ORACLES)/cli-$*/bin/pip install $(CLI_ORACLE_PIP) $(CLI_ORACLE_DEPS_$*)
	$(CLI_ORACLES)/cli-$*/bin/pip install $(CLI_ORACLE_PIP) --no-deps $(CLI_ORACLE_NODEPS_$*)
	$(CLI_ORACLES)/cli-$*/bin/python scripts/cli_oracle_dump.py > /dev/null
	touch $@

test: cli-oracles
