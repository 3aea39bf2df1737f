/* HTTP requests with libcurl: bounded answers, TLS settings, abortable.
 *
 * Each request runs in a short-lived child process that loads libcurl
 * (and its TLS libraries) itself. The children are forked by the request
 * helper, a single-threaded process the uploader forks before its first
 * thread (a fork from a threaded process is not safe under the
 * sanitizers, and libraries' locks may be held). The uploader never maps
 * libcurl or a TLS library, which
 * keeps its resident memory small while idle, and whatever libcurl or a
 * TLS library does with a server's answer stays in a process that ends
 * with the request. */
#ifndef PROFD_HTTP_H
#define PROFD_HTTP_H

#include <stddef.h>

#define HTTP_ANSWER_MAX	 (64u << 10) /* bytes of an answer kept */
#define HTTP_FILE_MAX	 (1u << 20)  /* bytes of a CA, cert or key file */
#define HTTP_CONNECT_S	 10	     /* connect timeout, seconds */
#define HTTP_URL_MAX	 4096
#define HTTP_BODY_MAX	 (16u << 20)  /* bytes of a request's body */
#define HTTP_HEADERS_MAX 8	      /* header lines of a request */
#define HTTP_HEADER_LEN	 1024	      /* bytes of a header line, NUL included */
#define HTTP_ERROR_MAX	 256	      /* bytes of an error message */
#define HTTP_AUTH_MAX	 64	      /* bytes of hq_auth, NUL included */
#define HTTP_SECRET_SIZE (6u << 20)   /* a request's secret arena */
#define HTTP_STACK_SIZE	 (256u << 10) /* its secret thread stack */
#define HTTP_CURL	 "libcurl.so.4"

/* A request's extra header lines, "Name: value" each. */
struct http_headers {
	unsigned hh_n;
	char hh_line[HTTP_HEADERS_MAX][HTTP_HEADER_LEN];
};

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
	const struct http_headers *hq_headers;
	const void *hq_body;
	size_t hq_len;
	long hq_timeout_s;
	int (*hq_stop)(void *arg); /* non-zero: give up now */
	void *hq_stop_arg;
	/* "Name: " of a header line that the request's child completes
	 * with the token from secret memory; NULL: none. */
	const char *hq_auth;
};

struct http_resp {
	long hr_status; /* 0 when no answer arrived */
	char hr_body[HTTP_ANSWER_MAX + 1];
	size_t hr_len;
	char hr_error[HTTP_ERROR_MAX];
	char hr_local_ip[64]; /* the address this host used, "" if none */
};

/* Checks, in a child process, that libcurl can be loaded; before the
 * sandbox. 0, or -1 with a logged reason. */
int http_init(void);
/* Forks the request helper, whose children perform the requests with
 * the TLS settings tls and the token (in secret memory, or NULL); before
 * any thread exists. 0, or -1 logged. */
int http_helper_start(const struct http_tls *tls, const char *token);
/* Ends the request helper (its requests killed) and reaps it. */
void http_helper_stop(void);
/* Appends a header line made from fmt to h; -1 if it does not fit or h
 * is full. */
int http_header_add(struct http_headers *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Wipes h (lines may hold a token). */
void http_headers_clear(struct http_headers *h);
/* Reads path (a regular file of at most HTTP_FILE_MAX bytes) into b, in
 * secret memory if secret; 0, or -1 with a logged reason. */
int http_read_file(const char *path, struct http_blob *b, int secret);
/* Frees the TLS settings' files. */
void http_tls_free(struct http_tls *t);
/* Performs rq in a child of the request helper, which ends when it is
 * done, when rq->hq_stop says so, or at its timeout. 0 when an answer
 * arrived (its status and the start of its body in rs), -1 when none did
 * (the reason in rs->hr_error). Any thread may call it. */
int http_do(const struct http_req *rq, struct http_resp *rs);
/* Appends s, percent-encoded for a URL query, to buf[len]; -1 if it does
 * not fit. */
int http_query_add(char *buf, size_t len, const char *name, const char *s);

#endif
