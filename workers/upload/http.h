/* HTTP requests with libcurl: bounded answers, TLS settings, abortable. */
#ifndef PROFD_HTTP_H
#define PROFD_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#define HTTP_ANSWER_MAX (64u << 10) /* bytes of an answer kept */
#define HTTP_FILE_MAX	(1u << 20)  /* bytes of a CA, cert or key file */
#define HTTP_CONNECT_S	10	    /* connect timeout, seconds */
#define HTTP_URL_MAX	4096

struct http_blob {
	char *hb_data;
	size_t hb_len;
};

/* TLS settings, the files read before the sandbox. */
struct http_tls {
	int ht_no_verify;
	struct http_blob ht_ca;	  /* PEM bundle; empty: the system's */
	struct http_blob ht_cert; /* client certificate, PEM */
	struct http_blob ht_key;  /* its private key, PEM */
};

struct http_req {
	const char *hq_method; /* "GET" or "POST" */
	const char *hq_url;
	struct curl_slist *hq_headers;
	const void *hq_body;
	size_t hq_len;
	long hq_timeout_s;
	int (*hq_stop)(void *arg); /* non-zero: give up now */
	void *hq_stop_arg;
};

struct http_resp {
	long hr_status; /* 0 when no answer arrived */
	char hr_body[HTTP_ANSWER_MAX + 1];
	size_t hr_len;
	char hr_error[CURL_ERROR_SIZE];
	char hr_local_ip[64]; /* the address this host used, "" if none */
};

/* Initialises libcurl; before the sandbox and any thread. 0 or -1. */
int http_init(void);
/* Reads path (at most HTTP_FILE_MAX bytes) into b; 0, or -1 with a
 * logged reason. */
int http_read_file(const char *path, struct http_blob *b);
/* Frees the TLS settings' files. */
void http_tls_free(struct http_tls *t);
/* Performs rq. 0 when an answer arrived (its status and the start of its
 * body in rs), -1 when none did (the reason in rs->hr_error). */
int http_do(const struct http_tls *tls, const struct http_req *rq,
	    struct http_resp *rs);
/* Appends s, percent-encoded for a URL query, to buf[len]; -1 if it does
 * not fit. */
int http_query_add(char *buf, size_t len, const char *name, const char *s);

#endif
