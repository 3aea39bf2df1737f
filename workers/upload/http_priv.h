/* Inside the HTTP module: between the uploader's side, the request
 * helper and the request's child. */
#ifndef PROFD_HTTP_PRIV_H
#define PROFD_HTTP_PRIV_H

#include <stdint.h>
#include <sys/types.h>

#include "http.h"

#define HTTP_FRAME_MAGIC 0x70726672u
#define HTTP_TIMEOUT_MAX 3600 /* seconds of a request */

/* A request on its socket: this header, then the URL, the header lines,
 * the name of the token's header line and the body, each of the length
 * given here, without NULs. */
struct http_frame {
	uint32_t hf_magic;
	uint32_t hf_post; /* 0: GET, 1: POST */
	int64_t hf_timeout_s;
	uint32_t hf_url_len;
	uint32_t hf_nhdr;
	uint32_t hf_hdr_len[HTTP_HEADERS_MAX];
	uint32_t hf_auth_len; /* of hq_auth; 0: none */
	uint64_t hf_body_len;
};

/* Hands the request socket fd to the helper: 0, or -1 with errno (the
 * helper's loss is logged). */
int http_helper_call(int fd);
/* The request's child: reads the request from fd, performs it with the
 * settings tls (and token, in secret memory), writes the answer to fd,
 * ends. */
void http_child_serve(const struct http_tls *tls, const char *token, int fd,
		      pid_t parent) __attribute__((noreturn));

#endif
