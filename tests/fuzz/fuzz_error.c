/* libFuzzer harness for the error document parser. */
#define FUZZ_DOC DOC_ERROR
#include "fuzz_doc.h"
