# tunnels/: the eBPF data plane and the vtun test/bench driver.
#
# tun_ebpf.bpf.c is compiled with clang -target bpf, and bpftool turns the
# object into a skeleton header ($(BUILD)/gen/tun_ebpf.skel.h) that embeds
# it, so the library never looks for a .o at run time.  The C flags of the
# host build (sanitizers, -Werror) do not apply to the BPF object.

BPF_CLANG   ?= clang
BPFTOOL     ?= bpftool
TUN_BPF_OBJ  := $(BUILD)/obj/tunnels/tun_ebpf.bpf.o
TUN_BPF_SKEL := $(BUILD)/gen/tun_ebpf.skel.h
TUN_BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror \
	-I/usr/include/$(shell $(CC) -dumpmachine 2>/dev/null) -Itunnels

$(TUN_BPF_OBJ): tunnels/tun_ebpf.bpf.c tunnels/tun_ebpf.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPF_CLANG) $(TUN_BPF_CFLAGS) -c -o $@ $<

$(TUN_BPF_SKEL): $(TUN_BPF_OBJ)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name tun_ebpf_bpf > $@.tmp && mv $@.tmp $@

# The loader includes the skeleton: make it first, even from a clean tree.
$(BUILD)/obj/tunnels/tun_ebpf.o: $(TUN_BPF_SKEL)

# vtun: sets up link ends from the command line and keeps them until
# SIGTERM; the integration tests and bench/links drive it.
VTUN := $(BUILD)/tools/vtun
$(VTUN): $(BUILD)/obj/tunnels/tools/vtun.o $(LIBTUN) $(LIBVNSM)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

all: $(VTUN)
