/* http.h - what the HTTP server (http_server.h) and client (http_client.h)
 * of the edge share: a header as a name and a value. */
#ifndef CETCD_HTTP_H
#define CETCD_HTTP_H

struct http_header {
	const char *name;  /* without the colon */
	const char *value; /* surrounding white space removed */
};

#endif /* CETCD_HTTP_H */
