# lib/rules.mk: the local CA script, reachable as $(BUILD)/bin/vnsm-ca.

$(BUILD)/bin/vnsm-ca: scripts/vnsm-ca
	$(call msg,INSTALL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)cp scripts/vnsm-ca $@.tmp && chmod 755 $@.tmp && mv $@.tmp $@

all: $(BUILD)/bin/vnsm-ca
