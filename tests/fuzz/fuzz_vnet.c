/* libFuzzer harness for the vnet document parser. */
#define FUZZ_DOC DOC_VNET
#include "fuzz_doc.h"
