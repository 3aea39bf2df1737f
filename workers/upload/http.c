/* HTTP requests with libcurl: bounded answers, TLS settings, abortable. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "log.h"

int
http_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cannot initialise libcurl");
		return -1;
	}
	return 0;
}

int
http_read_file(const char *path, struct http_blob *b)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		log_error("cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)HTTP_FILE_MAX) {
		log_error("%s is not a regular file of at most %u bytes", path,
			  HTTP_FILE_MAX);
		goto fail;
	}
	if ((b->hb_data = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	n = read(fd, b->hb_data, (size_t)st.st_size);
	if (n != (ssize_t)st.st_size) {
		log_error("cannot read %s: %s", path,
			  n == -1 ? strerror(errno) : "short read");
		free(b->hb_data);
		b->hb_data = NULL;
		goto fail;
	}
	b->hb_data[n] = '\0';
	b->hb_len = (size_t)n;
	close(fd);
	return 0;
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

static void
blob_free(struct http_blob *b)
{
	if (b->hb_data != NULL)
		explicit_bzero(b->hb_data, b->hb_len);
	free(b->hb_data);
	b->hb_data = NULL;
	b->hb_len = 0;
}

void
http_tls_free(struct http_tls *t)
{
	blob_free(&t->ht_ca);
	blob_free(&t->ht_cert);
	blob_free(&t->ht_key);
}

/* Keeps the first HTTP_ANSWER_MAX bytes of the answer, drops the rest. */
static size_t
http_body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp *rs = arg;
	size_t len = size * n, room = HTTP_ANSWER_MAX - rs->hr_len;

	if (len < room)
		room = len;
	memcpy(rs->hr_body + rs->hr_len, p, room);
	rs->hr_len += room;
	rs->hr_body[rs->hr_len] = '\0';
	return len;
}

static int
http_progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		 curl_off_t un)
{
	const struct http_req *rq = arg;

	return rq->hq_stop != NULL && rq->hq_stop(rq->hq_stop_arg);
}

static int
http_set_blob(CURL *c, CURLoption opt, const struct http_blob *b)
{
	struct curl_blob cb = {b->hb_data, b->hb_len, CURL_BLOB_COPY};

	if (b->hb_data == NULL)
		return 0;
	return curl_easy_setopt(c, opt, &cb) == CURLE_OK ? 0 : -1;
}

static int
http_set_tls(CURL *c, const struct http_tls *t)
{
	if (t->ht_no_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (http_set_blob(c, CURLOPT_CAINFO_BLOB, &t->ht_ca) == -1 ||
	    http_set_blob(c, CURLOPT_SSLCERT_BLOB, &t->ht_cert) == -1 ||
	    http_set_blob(c, CURLOPT_SSLKEY_BLOB, &t->ht_key) == -1)
		return -1;
	if (t->ht_cert.hb_data != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	if (t->ht_key.hb_data != NULL)
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	return 0;
}

static int
http_setup(CURL *c, const struct http_tls *tls, const struct http_req *rq,
	   struct http_resp *rs)
{
	curl_easy_setopt(c, CURLOPT_URL, rq->hq_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)HTTP_CONNECT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->hq_timeout_s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "profd/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rs->hr_error);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rs);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)rq);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq->hq_headers);
	if (strcmp(rq->hq_method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->hq_body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)rq->hq_len);
	}
	return http_set_tls(c, tls);
}

static void
http_answer_info(CURL *c, struct http_resp *rs)
{
	char *ip = NULL;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->hr_status);
	if (curl_easy_getinfo(c, CURLINFO_LOCAL_IP, &ip) == CURLE_OK &&
	    ip != NULL)
		snprintf(rs->hr_local_ip, sizeof(rs->hr_local_ip), "%s", ip);
}

int
http_do(const struct http_tls *tls, const struct http_req *rq,
	struct http_resp *rs)
{
	CURLcode cr;
	CURL *c;

	rs->hr_status = 0;
	rs->hr_len = 0;
	rs->hr_body[0] = '\0';
	rs->hr_error[0] = '\0';
	rs->hr_local_ip[0] = '\0';
	if ((c = curl_easy_init()) == NULL) {
		snprintf(rs->hr_error, sizeof(rs->hr_error), "out of memory");
		return -1;
	}
	if (http_setup(c, tls, rq, rs) == -1) {
		snprintf(rs->hr_error, sizeof(rs->hr_error),
			 "libcurl refused the TLS settings");
		curl_easy_cleanup(c);
		return -1;
	}
	cr = curl_easy_perform(c);
	if (cr == CURLE_OK)
		http_answer_info(c, rs);
	else if (rs->hr_error[0] == '\0')
		snprintf(rs->hr_error, sizeof(rs->hr_error), "%s",
			 curl_easy_strerror(cr));
	curl_easy_cleanup(c);
	return cr == CURLE_OK ? 0 : -1;
}

int
http_query_add(char *buf, size_t len, const char *name, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(buf);
	int w;

	w = snprintf(buf + n, len - n, "%s%s=", strchr(buf, '?') ? "&" : "?",
		     name);
	if (w < 0 || (size_t)w >= len - n)
		return -1;
	n += (size_t)w;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (n + 4 > len)
			return -1;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			buf[n++] = (char)*p;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		}
	}
	buf[n] = '\0';
	return 0;
}
