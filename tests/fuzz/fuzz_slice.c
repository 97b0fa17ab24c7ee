/* libFuzzer harness for the slice document parser. */
#define FUZZ_DOC DOC_SLICE
#include "fuzz_doc.h"
