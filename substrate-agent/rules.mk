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

# make images: the router guest for the VM and container drivers, from
# Debian packages only (linux-image-amd64, busybox-static).
IMAGES := $(BUILD)/images/router/initrd.img
images: $(IMAGES)
$(BUILD)/images/router/initrd.img: scripts/mkimage.sh
	$(call msg,IMAGE,$(@D))
	$(Q)sh scripts/mkimage.sh $(@D)

# The top Makefile's bench rule loses its objects (the '%' inside its
# $$(patsubst ...) is taken as the stem), so name bench/node's object
# here; make adds it to the pattern rule's $^.
$(BUILD)/bench/node: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard bench/node/*.c))
