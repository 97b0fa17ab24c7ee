/*
 * Logging, the OpenBSD way: one line per event, to stderr in the
 * foreground (-d), to syslog otherwise.  fatal*() is for broken
 * invariants only; it logs and exits.
 */
#ifndef VNSM_LOG_H
#define VNSM_LOG_H

#include <stdarg.h>

/* foreground: log to stderr; verbose: 0 info, 1+ debug. */
void log_init(const char *ident, int foreground, int verbose);
void log_setverbose(int verbose);
int  log_getverbose(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
