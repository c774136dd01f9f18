/* client.c - cetcdctl's HTTP client (etcd's client/ package as etcdctl v2
 * uses it): the endpoint list with a pinned endpoint and failover on
 * connection errors and 5xx answers, the sync of the endpoints from
 * /v2/members, --timeout / --total-timeout, --debug's cURL lines, basic
 * auth and TLS files, and etcd's error texts (ClusterError, handleError). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl/ctl.h"
#include "util/goparse.h"
#include "util/url_escape.h"
#include "util/xalloc.h"

struct ctl_opts ctl;
_Thread_local int64_t ctl_deadline_ms;

int64_t ctl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ctl_err_free(struct ctl_err *e)
{
	buf_free(&e->text);
	buf_free(&e->detail);
}

void ctl_resp_free(struct ctl_resp *r)
{
	buf_free(&r->body);
}

_Noreturn void ctl_fail(struct ctl_err *err, int code)
{
	fflush(stdout);
	fprintf(stderr, "Error:  %s\n", err->text.data ? err->text.data : "");
	if (err->cluster)
		fprintf(stderr, "%s\n", err->detail.data ? err->detail.data : "");
	exit(code);
}

_Noreturn void ctl_fail_msg(const char *msg, int code)
{
	fflush(stdout);
	fprintf(stderr, "Error:  %s\n", msg);
	exit(code);
}

void ctl_query_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_putc(b, (char)c);
		} else if (c == ' ') {
			buf_putc(b, '+');
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}

void ctl_keys_path(struct buf *b, const char *key)
{
	struct buf p = BUF_INIT;
	buf_puts(&p, "/v2/keys");
	if (key[0] != '/')
		buf_putc(&p, '/');
	buf_puts(&p, key);
	char *clean = url_clean_path(p.data);
	char *esc = url_escape_path(clean);
	buf_puts(b, esc);
	free(esc);
	free(clean);
	buf_free(&p);
}

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
	buf_append(ud, ptr, size * n);
	return size * n;
}

/* Copies the value of header "name" (with its colon) in line into dst. */
static void header_value(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(line, name, nl) != 0)
		return;
	line += nl;
	len -= nl;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, line, len);
	dst[len] = 0;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
	struct ctl_resp *r = ud;
	size_t len = size * n;
	header_value(ptr, len, "X-Etcd-Index:", r->index_text, sizeof r->index_text);
	header_value(ptr, len, "Location:", r->location, sizeof r->location);
	return len;
}

void ctl_go_json_error(const char *b, size_t n, struct buf *out)
{
	size_t i = 0;
	while (i < n && strchr(" \t\r\n", b[i]))
		i++;
	if (i == n) {
		buf_puts(out, "unexpected end of JSON input");
		return;
	}
	if (b[i] >= '0' && b[i] <= '9') {
		while (i < n && b[i] >= '0' && b[i] <= '9')
			i++;
		while (i < n && strchr(" \t\r\n", b[i]))
			i++;
		if (i < n) {
			buf_printf(out, "invalid character '%c' after top-level value", b[i]);
			return;
		}
	}
	buf_printf(out, "invalid character '%c' looking for beginning of value", b[i]);
}

/* host:port of a URL as Go's dialer names it (default ports added). */
static void url_hostport(const char *url, struct buf *out)
{
	const char *p = strstr(url, "://");
	bool tls = strncmp(url, "https", 5) == 0;
	p = p ? p + 3 : url;
	const char *e = p + strcspn(p, "/?#");
	const char *at = memchr(p, '@', (size_t)(e - p));
	if (at)
		p = at + 1;
	buf_append(out, p, (size_t)(e - p));
	const char *colon = memrchr(p, ':', (size_t)(e - p));
	const char *rb = memrchr(p, ']', (size_t)(e - p));
	if (!colon || (rb && colon < rb))
		buf_puts(out, tls ? ":443" : ":80");
}

enum req_result {
	REQ_OK,
	REQ_CONN_ERR,
	REQ_OTHER_ERR,
	REQ_DEADLINE
};

/* Go's lower-case errno texts (syscall.Errno.Error). */
static void errno_text(struct buf *b, long e)
{
	char s[128];
	snprintf(s, sizeof s, "%s", strerror((int)e));
	if (s[0] >= 'A' && s[0] <= 'Z')
		s[0] = (char)(s[0] - 'A' + 'a');
	buf_puts(b, s);
}

static CURL *easy_for(const char *url, struct ctl_resp *resp)
{
	CURL *c = curl_easy_init();
	if (!c)
		xalloc_die();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	if (ctl.ca_file && *ctl.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ctl.ca_file);
	if (ctl.cert_file && *ctl.cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, ctl.cert_file);
	if (ctl.key_file && *ctl.key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, ctl.key_file);
	return c;
}

/* One request to one endpoint. */
static enum req_result do_one(const char *ep, const char *full, const char *method,
			      const char *body, const char *ctype, bool wait, struct ctl_resp *resp,
			      struct buf *errtext)
{
	struct buf url = BUF_INIT;
	buf_puts(&url, full);
	if (ctl.debug) {
		fprintf(stderr, "cURL Command: curl -X %s %s", method, url.data);
		if (body) {
			char *q = go_quoted(body);
			fprintf(stderr, " -d %s", q);
			free(q);
		}
		fputc('\n', stderr);
	}
	*resp = (struct ctl_resp){0};
	CURL *c = easy_for(url.data, resp);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	struct curl_slist *hdrs = NULL;
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (ctype) {
		struct buf h = BUF_INIT;
		buf_printf(&h, "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, h.data);
		buf_free(&h);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (ctl.username) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, ctl.username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, ctl.password ? ctl.password : "");
	}
	long tmo = 0;
	bool deadline_bound = false;
	if (!wait && ctl.timeout_ns > 0)
		tmo = (long)(ctl.timeout_ns / 1000000);
	if (!wait && ctl_deadline_ms > 0) {
		int64_t left = ctl_deadline_ms - ctl_now_ms();
		if (left < 1)
			left = 1;
		if (tmo == 0 || left <= tmo) {
			tmo = (long)left;
			deadline_bound = true;
		}
	}
	if (tmo > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tmo);
	long ctmo = 30000;
	if (ctl.total_timeout_ns > 0 && ctl.total_timeout_ns / 1000000 < ctmo)
		ctmo = (long)(ctl.total_timeout_ns / 1000000);
	if (ctmo > 0)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ctmo);
	CURLcode rc = curl_easy_perform(c);
	enum req_result res = REQ_OK;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		resp->etcd_index = strtoull(resp->index_text, NULL, 10);
	} else {
		struct buf hp = BUF_INIT;
		url_hostport(url.data, &hp);
		long oserr = 0;
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		if (rc == CURLE_OPERATION_TIMEDOUT && deadline_bound) {
			buf_puts(errtext, "context deadline exceeded");
			res = REQ_DEADLINE;
		} else if (rc == CURLE_OPERATION_TIMEDOUT) {
			long connect_time = 0;
			curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_time);
			if (connect_time == 0) {
				buf_printf(errtext, "dial tcp %s: i/o timeout", hp.data);
				res = REQ_CONN_ERR;
			} else {
				buf_printf(errtext, "client: endpoint %s exceeded header timeout",
					   ep);
				res = REQ_OTHER_ERR;
			}
		} else if (rc == CURLE_COULDNT_CONNECT) {
			buf_printf(errtext, "dial tcp %s: connect: ", hp.data);
			errno_text(errtext, oserr ? oserr : ECONNREFUSED);
			res = REQ_CONN_ERR;
		} else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
			const char *h = hp.data;
			size_t hl = strcspn(h, ":");
			buf_printf(errtext, "dial tcp: lookup %.*s: no such host", (int)hl, h);
			res = REQ_CONN_ERR;
		} else if (rc == CURLE_PEER_FAILED_VERIFICATION) {
			buf_puts(errtext, "x509: certificate signed by unknown authority");
			res = REQ_OTHER_ERR;
		} else if (strncmp(url.data, "https:", 6) == 0 &&
			   (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_RECV_ERROR ||
			    rc == CURLE_GOT_NOTHING || rc == CURLE_SSL_CERTPROBLEM)) {
			/* the TLS handshake failed (the server refused our certificate) */
			buf_puts(errtext, rc == CURLE_SSL_CERTPROBLEM ?
						  "tls: failed to load the "
						  "client certificate" :
						  "remote error: tls: bad certificate");
			res = REQ_OTHER_ERR;
		} else if (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR) {
			buf_printf(errtext, "read tcp %s: %s", hp.data,
				   rc == CURLE_GOT_NOTHING ? "EOF" : "connection reset by peer");
			res = REQ_CONN_ERR;
		} else {
			buf_printf(errtext, "%s %s: %s", method, url.data, curl_easy_strerror(rc));
			res = REQ_OTHER_ERR;
		}
		buf_free(&hp);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	buf_free(&url);
	return res;
}

/* One request to one endpoint, following redirects as etcd's client does
 * (the same request again at the Location, at most 10 times). */
static enum req_result do_redirects(const char *ep, const char *method, const char *path,
				    const char *body, const char *ctype, bool wait,
				    struct ctl_resp *resp, struct buf *errtext)
{
	struct buf url = BUF_INIT;
	buf_puts(&url, ep);
	while (url.len > 0 && url.data[url.len - 1] == '/')
		url.data[--url.len] = 0;
	buf_puts(&url, path);
	enum req_result r = REQ_OK;
	for (int i = 0;; i++) {
		if (i > 10) {
			buf_puts(errtext, "stopped after 10 redirects");
			ctl_resp_free(resp);
			r = REQ_OTHER_ERR;
			break;
		}
		r = do_one(ep, url.data, method, body, ctype, wait, resp, errtext);
		if (r != REQ_OK || resp->status / 100 != 3)
			break;
		char loc[sizeof resp->location];
		memcpy(loc, resp->location, sizeof loc);
		ctl_resp_free(resp);
		if (!loc[0]) {
			buf_puts(errtext, "location header not set");
			r = REQ_OTHER_ERR;
			break;
		}
		if (!strstr(loc, "://")) {
			buf_puts(errtext, "unsupported protocol scheme \"\"");
			r = REQ_OTHER_ERR;
			break;
		}
		buf_reset(&url);
		buf_puts(&url, loc);
	}
	buf_free(&url);
	return r;
}

static const char *status_text(long s)
{
	switch (s) {
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "";
	}
}

int ctl_do(const char *method, const char *path, const char *body, const char *ctype, bool wait,
	   struct ctl_resp *resp, struct ctl_err *err)
{
	*err = (struct ctl_err){0};
	if (ctl.neps == 0) {
		buf_puts(&err->text, "client: no endpoints available");
		return -1;
	}
	struct buf errs[64];
	size_t nerr = 0;
	bool all_conn = true;
	size_t pinned = __atomic_load_n(&ctl.pinned, __ATOMIC_RELAXED);
	for (size_t i = pinned; i < ctl.neps + pinned; i++) {
		size_t k = i % ctl.neps;
		struct buf t = BUF_INIT;
		enum req_result r =
			do_redirects(ctl.eps[k], method, path, body, ctype, wait, resp, &t);
		if (r == REQ_DEADLINE) {
			buf_free(&err->text);
			err->text = t;
			err->connection = true;
			for (size_t j = 0; j < nerr; j++)
				buf_free(&errs[j]);
			return -1;
		}
		if (r == REQ_OK && resp->status / 100 == 5) {
			if (resp->status == 500 || resp->status == 503)
				buf_printf(&t, "client: etcd member %s has no leader", ctl.eps[k]);
			else
				buf_printf(&t, "client: etcd member %s returns server error [%s]",
					   ctl.eps[k], status_text(resp->status));
			ctl_resp_free(resp);
			r = REQ_OTHER_ERR;
		}
		if (r != REQ_OK) {
			if (r != REQ_CONN_ERR)
				all_conn = false;
			if (nerr < 64)
				errs[nerr++] = t;
			else
				buf_free(&t);
			ctl_resp_free(resp);
			continue;
		}
		buf_free(&t);
		__atomic_store_n(&ctl.pinned, k, __ATOMIC_RELAXED);
		for (size_t j = 0; j < nerr; j++)
			buf_free(&errs[j]);
		return 0;
	}
	err->cluster = true;
	err->connection = all_conn;
	buf_puts(&err->text, "client: etcd cluster is unavailable or misconfigured");
	for (size_t j = 0; j < nerr; j++) {
		buf_printf(&err->text, "; error #%zu: %s\n", j, errs[j].data);
		buf_printf(&err->detail, "error #%zu: %s\n", j, errs[j].data);
		buf_free(&errs[j]);
	}
	return -1;
}

int ctl_get_url(const char *url, long timeout_ms, struct ctl_resp *resp, struct buf *err)
{
	*resp = (struct ctl_resp){0};
	CURL *c = easy_for(url, resp);
	if (timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	CURLcode rc = curl_easy_perform(c);
	int ret = 0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	} else {
		struct buf hp = BUF_INIT;
		url_hostport(url, &hp);
		long oserr = 0;
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		if (rc == CURLE_COULDNT_CONNECT) {
			buf_printf(err, "Get \"%s\": dial tcp %s: connect: ", url, hp.data);
			errno_text(err, oserr ? oserr : ECONNREFUSED);
		} else {
			buf_printf(err, "Get \"%s\": %s", url, curl_easy_strerror(rc));
		}
		buf_free(&hp);
		ret = -1;
	}
	curl_easy_cleanup(c);
	return ret;
}

static void print_eps(const char *fmt, const char *sep)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < ctl.neps; i++) {
		if (i)
			buf_puts(&b, sep);
		buf_puts(&b, ctl.eps[i]);
	}
	fprintf(stderr, fmt, b.data ? b.data : "");
	buf_free(&b);
}

/* The client URLs of a /v2/members answer, or -1 if it is not one. */
static int members_client_urls(const struct ctl_resp *r, char ***out, size_t *n)
{
	json_t *root = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
	json_t *ms = json_object_get(root, "members");
	if (!json_is_array(ms)) {
		json_decref(root);
		return -1;
	}
	*out = NULL;
	*n = 0;
	size_t i;
	json_t *m;
	json_array_foreach(ms, i, m)
	{
		size_t j;
		json_t *u;
		json_array_foreach(json_object_get(m, "clientURLs"), j, u)
		{
			*out = xrealloc(*out, (*n + 1) * sizeof(char *));
			(*out)[(*n)++] = xstrdup(json_string_value(u) ? json_string_value(u) : "");
		}
	}
	json_decref(root);
	return 0;
}

void ctl_client_init(bool sync)
{
	if (!sync) {
		if (ctl.debug)
			print_eps("Cluster-Endpoints: %s\n", ", ");
		return;
	}
	if (!ctl.no_sync) {
		if (ctl.debug)
			print_eps("start to sync cluster using endpoints(%s)\n", ",");
		ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
		struct ctl_resp r;
		struct ctl_err e;
		if (ctl_do("GET", "/v2/members", NULL, NULL, false, &r, &e) != 0) {
			if (e.connection)
				ctl_fail(&e, CTL_EXIT_BAD_CONNECTION);
			ctl_err_free(&e);
		} else {
			char **urls;
			size_t n;
			if (r.status == 200 && members_client_urls(&r, &urls, &n) == 0) {
				if (n == 0) {
					fprintf(stderr,
						"etcd cluster has no published client endpoints.\n");
					struct buf b = BUF_INIT;
					for (size_t i = 0; i < ctl.neps; i++)
						buf_printf(&b, "%s%s", i ? "," : "", ctl.eps[i]);
					fprintf(stderr,
						"Try '--no-sync' if you want to access non-published client "
						"endpoints(%s).\n",
						b.data);
					ctl_fail_msg("client: no endpoints available",
						     CTL_EXIT_SERVER_ERROR);
				}
				for (size_t i = 0; i < ctl.neps; i++)
					free(ctl.eps[i]);
				free(ctl.eps);
				ctl.eps = urls;
				ctl.neps = n;
				ctl.pinned = 0;
			}
			ctl_resp_free(&r);
		}
		if (ctl.debug)
			print_eps("got endpoints(%s) after sync\n", ",");
	}
	if (ctl.debug)
		print_eps("Cluster-Endpoints: %s\n", ", ");
	ctl_deadline_ms = 0;
}
