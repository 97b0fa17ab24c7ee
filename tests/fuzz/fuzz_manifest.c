/* libFuzzer harness for the manifest document parser. */
#define FUZZ_DOC DOC_MANIFEST
#include "fuzz_doc.h"
