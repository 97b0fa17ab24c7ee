/*
 * The body of every document fuzzer: parse the input as FUZZ_DOC; if it
 * is accepted, its canonical form must parse again and format to the
 * same bytes.  Any crash, leak or broken round trip is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *obj, *again;
	char *fmt, *fmt2;

	err_reset();
	if ((obj = doc_parse((const char *)data, size, "fuzz", FUZZ_DOC)) ==
	    NULL)
		return 0;
	if ((fmt = doc_format(FUZZ_DOC, obj)) == NULL)
		abort();
	if ((again = doc_parse(fmt, strlen(fmt), "fuzz-out", FUZZ_DOC)) ==
	    NULL) {
		err_print(stderr);
		abort();
	}
	if ((fmt2 = doc_format(FUZZ_DOC, again)) == NULL ||
	    strcmp(fmt, fmt2) != 0)
		abort();
	free(fmt);
	free(fmt2);
	doc_free(FUZZ_DOC, obj);
	doc_free(FUZZ_DOC, again);
	return 0;
}
