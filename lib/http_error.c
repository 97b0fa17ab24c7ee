/*
 * The <error> answer of the HTTP server: the thread's recorded errors as
 * one <error> document (lib/errdoc.c), with the status of the first.
 */
#include <stdlib.h>

#include "errdoc.h"
#include "http.h"

char *
http_error_body(const struct err *e, size_t *len)
{
	static const struct err internal = {
		.code = ERR_INTERNAL,
		.msg = "the server failed without saying why",
	};

	return errdoc_format_errs(e != NULL ? e : &internal, 1, len);
}

void
http_reply_error(struct http_request *req)
{
	const struct err *e = err_get(0);
	int status = err_http_status(e != NULL ? e->code : ERR_INTERNAL);
	size_t len = 0;
	char *body;

	if ((body = errdoc_from_thread(0, &len)) == NULL) {
		http_reply(req, 500, NULL, NULL, 0);
		return;
	}
	http_reply(req, status, HTTP_CTYPE_XML, body, len);
	free(body);
}
