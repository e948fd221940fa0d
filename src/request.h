/* request.h - the FastCGI/CGI transport: libfcgi is included by request.c alone. */
#ifndef IH_REQUEST_H
#define IH_REQUEST_H

#include "handler.h"

/*
 * Serves requests with h until the web server asks us to stop (FastCGI, when fd 0
 * is a listening socket) or after exactly one request (plain CGI). Returns the
 * process exit code.
 */
int request_serve(struct handler *h);

#endif
