# The Node oracle of tests/gateway/clients: the original @azure/arm-batchai 2.2.1 from npm (it brings
# @azure/ms-rest-js and @azure/ms-rest-azure-js, its declared dependencies), installed once into its own
# folder so that it never mixes with the Azurite install under .tools/node_modules. The Python oracles
# (azure-mgmt-batchai 0.2.0, 1.0.1, 7.0.0) come from `make oracles`; 2.0.0 is in the main virtualenv.
NODE_ORACLES := $(TOOLS)/node-oracles
ARM_BATCHAI_JS_VERSION := 2.2.1

.PHONY: gateway-client-oracles
gateway-client-oracles: $(NODE_ORACLES)/.installed-arm-batchai-$(ARM_BATCHAI_JS_VERSION) oracles

$(NODE_ORACLES)/.installed-arm-batchai-$(ARM_BATCHAI_JS_VERSION):
	mkdir -p $(NODE_ORACLES)
	test -f $(NODE_ORACLES)/package.json || echo '{"name": "batchai-node-oracles", "private": true}' > $(NODE_ORACLES)/package.json
	cd $(NODE_ORACLES) && npm install --silent --no-audit --no-fund --fetch-retries=5 @azure/arm-batchai@$(ARM_BATCHAI_JS_VERSION) >/dev/null
	touch $@

test: gateway-client-oracles
