/* libFuzzer harness for the report document parser. */
#define FUZZ_DOC DOC_REPORT
#include "fuzz_doc.h"
