# substrate-agent/rules.mk: the guest image, and a stand-in while the
# daemon's main (substrated.c) is not written yet.

# Until substrate-agent/substrated.c exists the program template still
# asks for $(BUILD)/bin/substrated; say so instead of failing the build.
ifeq ($(wildcard substrate-agent/substrated.c),)
$(BUILD)/obj/substrate-agent/substrated.o:
	@:
$(BUILD)/bin/substrated:
	@echo "  SKIP    substrated (no substrate-agent/substrated.c yet)"
endif
