# vnsm — top-level, non-recursive build.
#
#   make              build every library and program into $(BUILD)/
#   make check        install deps, build strictly, run every test (and ASan)
#   make demo         install deps, build, run the local multi-PIP demo
#   make V=1          show the commands
#   make WERROR=1     warnings are errors (CI sets it)
#   make SANITIZE=address,undefined BUILD=build/asan
#
# Layout the rules rely on, so adding a file needs no Makefile edit:
#   lib/*.c                    -> $(BUILD)/libvnsm.a
#   tunnels/*.c                -> $(BUILD)/libvnsm-tunnels.a
#   <progdir>/*.c              -> $(BUILD)/bin/<prog>   (main in <prog>.c)
#   tests/harness/*.c          -> $(BUILD)/libvnsm-harness.a (tests, benches)
#   tests/unit/test_*.c        -> $(BUILD)/tests/test_*  (Check)
#   bench/<name>/*.c           -> $(BUILD)/bench/<name>
#   tests/fuzz/fuzz_*.c        -> $(BUILD)/fuzz/fuzz_*   (make fuzz, clang)
# A folder may add rules of its own in rules.mk.

.DEFAULT_GOAL := all

BUILD    ?= build
V        ?= 0
WERROR   ?= 0
SANITIZE ?=
CC       ?= cc
PREFIX   ?= /usr/local

ifeq ($(V),0)
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
else
Q :=
msg = @true
endif

PKGS := libxml-2.0 openssl libevent libevent_openssl libevent_pthreads sqlite3 \
	libnl-3.0 libnl-route-3.0 libssh2 libvirt xenlight libbpf
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wno-unused-parameter -Wpointer-arith -Wundef -Wwrite-strings
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -fstack-protector-strong \
	-Ilib -Itunnels -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(LDFLAGS)
ifeq ($(WERROR),1)
ALL_CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif
LIBS := $(PKG_LIBS) -lpthread -lm

# Library archives --------------------------------------------------------
LIB_SRCS := $(sort $(wildcard lib/*.c))
TUN_SRCS := $(sort $(filter-out %.bpf.c,$(wildcard tunnels/*.c)))
GEN_SRCS := $(BUILD)/gen/schemas.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/schemas.o
TUN_OBJS := $(TUN_SRCS:%.c=$(BUILD)/obj/%.o)
LIBVNSM  := $(BUILD)/libvnsm.a
LIBTUN   := $(BUILD)/libvnsm-tunnels.a
# What the tests and benchmarks share; linked into them, never a daemon.
HARN_SRCS := $(sort $(wildcard tests/harness/*.c))
HARN_OBJS := $(HARN_SRCS:%.c=$(BUILD)/obj/%.o)
LIBHARN   := $(BUILD)/libvnsm-harness.a

# Programs: name:folder.  Each folder's <name>.c holds main(); the rest of
# the folder is archived so tests can link it.
PROG_SPECS := vno:vno-console substrated:substrate-agent pipd:pip-mgmt vnpd:vnp-noc
PROGS :=
PROG_ARCHIVES :=
define prog_template
$(1)_SRCS := $$(sort $$(wildcard $(2)/*.c))
$(1)_MAIN := $(BUILD)/obj/$(2)/$(1).o
$(1)_OBJS := $$(filter-out $$($(1)_MAIN),$$($(1)_SRCS:%.c=$(BUILD)/obj/%.o))
ifneq ($$($(1)_SRCS),)
PROG_ARCHIVES += $(BUILD)/lib$(1).a
$(BUILD)/lib$(1).a: $$($(1)_OBJS)
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endif
ifneq ($$(wildcard $(2)/$(1).c),)
PROGS += $(BUILD)/bin/$(1)
$(BUILD)/bin/$(1): $$($(1)_MAIN) $(BUILD)/lib$(1).a $(LIBTUN) $(LIBVNSM)
	$$(call msg,LINK,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LIBS)
endif
endef
$(foreach s,$(PROG_SPECS),$(eval $(call prog_template,$(word 1,$(subst :, ,$(s))),$(word 2,$(subst :, ,$(s))))))

# Tests and benchmarks ----------------------------------------------------
TEST_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS  := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard bench/*/*.c))))
BENCH_BINS := $(BENCH_DIRS:bench/%=$(BUILD)/bench/%)
ARCHIVES   := $(PROG_ARCHIVES) $(LIBTUN) $(LIBVNSM)

.PHONY: all deps check check-build demo demo-down bench fuzz images clean install
all: $(LIBVNSM) $(LIBTUN) $(PROGS) $(TEST_BINS) $(BENCH_BINS)

$(BUILD)/obj/%.o: %.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Schemas are compiled into the library, so no program depends on where
# they are installed, and the XML loader never touches the file system.
$(BUILD)/gen/schemas.c: $(sort $(wildcard schemas/*.rng)) scripts/embed.sh
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sh scripts/embed.sh $(sort $(wildcard schemas/*.rng)) > $@.tmp && mv $@.tmp $@

$(LIBVNSM): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBTUN): $(TUN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBHARN): $(HARN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBHARN) $(ARCHIVES)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBHARN) $(ARCHIVES) $(LIBS) $(CHECK_LIBS)

.SECONDARY:
.SECONDEXPANSION:
# (No '%' may appear in the prerequisites below but the stem: make would
# substitute it before the second expansion.)
$(BUILD)/bench/%: $$(addprefix $(BUILD)/obj/,$$(subst .c,.o,$$(wildcard bench/$$*/*.c))) $(LIBHARN) $(ARCHIVES)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBHARN) $(ARCHIVES) $(LIBS)

# Fuzzers: clang with libFuzzer, ASan and UBSan, over the library sources
# compiled again into their own tree.
FUZZ_CC     ?= clang
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -Ilib -I$(BUILD)/gen \
	$(PKG_CFLAGS)
FUZZ_SRCS   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS   := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/fuzz/obj/%.o) $(BUILD)/fuzz/obj/gen/schemas.o
FUZZ_LIB    := $(BUILD)/fuzz/libvnsm.a

$(BUILD)/fuzz/obj/%.o: %.c
	$(call msg,FUZZCC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -c -o $@ $<
$(BUILD)/fuzz/obj/gen/%.o: $(BUILD)/gen/%.c
	$(call msg,FUZZCC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -c -o $@ $<
$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_doc.h $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBS)

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

# make fuzz FUZZ_SECONDS=60: every fuzzer, seeded from the fixtures.
FUZZ_SECONDS ?= 60
fuzz:
	@sh tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)

-include $(sort $(wildcard */rules.mk))
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	@sh scripts/deps.sh

# check: everything a change must pass.  Strict build, unit tests, XML
# fixtures, static checks, integration tests, then the unit tests and
# fixtures again under ASan+UBSan.
check: deps
	@$(MAKE) --no-print-directory check-build WERROR=1

check-build:
	@sh tests/run.sh "$(BUILD)"

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh up $(BUILD)

demo-down:
	@sh scripts/demo.sh down $(BUILD)

bench: all
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(PROGS) $(BUILD)/bin/vnsm-ca $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(wildcard docs/man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(wildcard docs/man/*.8) $(DESTDIR)$(PREFIX)/share/man/man8/