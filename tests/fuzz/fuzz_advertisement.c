/* libFuzzer harness for the advertisement document parser. */
#define FUZZ_DOC DOC_ADVERT
#include "fuzz_doc.h"
