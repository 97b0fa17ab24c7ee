# substrate-agent/rules.mk: make images, the router guest for the VM and
# container drivers, from Debian packages only (linux-image-amd64,
# busybox-static).
IMAGES := $(BUILD)/images/router/initrd.img
images: $(IMAGES)
$(BUILD)/images/router/initrd.img: scripts/mkimage.sh
	$(call msg,IMAGE,$(@D))
	$(Q)sh scripts/mkimage.sh $(@D)

# gateway.c loads each gateway's nftables ruleset in-process through
# libnftables (no nft process per claim).
LIBS += $(shell pkg-config --libs libnftables 2>/dev/null || echo -lnftables)
