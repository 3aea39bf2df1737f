/* HTTP requests with libcurl in a child process per request (a child of
 * the request helper, http_helper.c): bounded requests and answers, TLS
 * settings, abortable. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "http_priv.h"
#include "log.h"
#include "secret.h"
#include "util.h"

/* The libcurl functions a child uses, found with dlsym. */
struct http_curl {
	CURLcode (*hc_global_init)(long flags);
	CURLcode (*hc_global_init_mem)(long flags, curl_malloc_callback m,
				       curl_free_callback f,
				       curl_realloc_callback r,
				       curl_strdup_callback s,
				       curl_calloc_callback c);
	/* OpenSSL's, when libcurl brought it: 1 when it took them. */
	int (*hc_crypto_mem)(void *(*m)(size_t, const char *, int),
			     void *(*r)(void *, size_t, const char *, int),
			     void (*f)(void *, const char *, int));
	CURL *(*hc_init)(void);
	CURLcode (*hc_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*hc_perform)(CURL *c);
	CURLcode (*hc_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*hc_strerror)(CURLcode code);
	struct curl_slist *(*hc_slist_append)(struct curl_slist *l,
					      const char *s);
	void (*hc_slist_free)(struct curl_slist *l);
	void (*hc_cleanup)(CURL *c);
};

/* What a child needs while it runs the request. */
struct http_child {
	struct http_curl hk_curl;
	const struct http_req *hk_req;
	struct http_resp *hk_resp;
	struct curl_slist *hk_hdr; /* the request's header lines */
	char *hk_auth;		   /* the token's line, in secret memory */
	int hk_fd;		   /* the socket to the uploader */
};

/* Wipes and frees b's bytes, from secret memory or the heap. */
static void
blob_free(struct http_blob *b)
{
	if (b->hb_data != NULL)
		explicit_bzero(b->hb_data, b->hb_len);
	if (secret_owns(b->hb_data))
		secret_free(b->hb_data);
	else
		free(b->hb_data);
	b->hb_data = NULL;
	b->hb_len = 0;
}

int
http_read_file(const char *path, struct http_blob *b, int secret)
{
	struct stat st;
	ssize_t n;
	int fd;

	/* Non-blocking: a FIFO in its place must not hang the uploader. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
		-1 ||
	    fstat(fd, &st) == -1) {
		log_error("cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)HTTP_FILE_MAX) {
		log_error("%s is not a regular file of at most %u bytes", path,
			  HTTP_FILE_MAX);
		goto fail;
	}
	b->hb_data = secret ? secret_malloc((size_t)st.st_size + 1)
			    : malloc((size_t)st.st_size + 1);
	if (b->hb_data == NULL) {
		log_error("no room for %s%s", path,
			  secret ? " in secret memory" : "");
		goto fail;
	}
	b->hb_len = (size_t)st.st_size;
	n = read(fd, b->hb_data, (size_t)st.st_size);
	if (n != (ssize_t)st.st_size) {
		log_error("cannot read %s: %s", path,
			  n == -1 ? strerror(errno) : "short read");
		blob_free(b);
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

void
http_tls_free(struct http_tls *t)
{
	blob_free(&t->ht_ca);
	blob_free(&t->ht_cert);
	blob_free(&t->ht_key);
}

int
http_header_add(struct http_headers *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (h->hh_n >= HTTP_HEADERS_MAX)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(h->hh_line[h->hh_n], HTTP_HEADER_LEN, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)HTTP_HEADER_LEN ||
	    strpbrk(h->hh_line[h->hh_n], "\r\n") != NULL) {
		explicit_bzero(h->hh_line[h->hh_n], HTTP_HEADER_LEN);
		return -1;
	}
	h->hh_n++;
	return 0;
}

void
http_headers_clear(struct http_headers *h)
{
	explicit_bzero(h, sizeof(*h));
}

/* Loads libcurl into this (child) process: 0, or -1 with the reason in
 * err. */
static int
http_curl_load(struct http_curl *hc, char *err, size_t len)
{
	void *lib = dlopen(HTTP_CURL, RTLD_NOW | RTLD_LOCAL);

#define HTTP_SYM(field, name)                                                  \
	if ((*(void **)&hc->field = dlsym(lib, name)) == NULL)                 \
		goto fail;
	if (lib == NULL)
		goto fail;
	HTTP_SYM(hc_global_init, "curl_global_init");
	HTTP_SYM(hc_global_init_mem, "curl_global_init_mem");
	HTTP_SYM(hc_init, "curl_easy_init");
	HTTP_SYM(hc_setopt, "curl_easy_setopt");
	HTTP_SYM(hc_perform, "curl_easy_perform");
	HTTP_SYM(hc_getinfo, "curl_easy_getinfo");
	HTTP_SYM(hc_strerror, "curl_easy_strerror");
	HTTP_SYM(hc_slist_append, "curl_slist_append");
	HTTP_SYM(hc_slist_free, "curl_slist_free_all");
	HTTP_SYM(hc_cleanup, "curl_easy_cleanup");
#undef HTTP_SYM
	/* Searched in libcurl's dependencies: absent without OpenSSL. */
	*(void **)&hc->hc_crypto_mem = dlsym(lib, "CRYPTO_set_mem_functions");
	return 0;
fail:
	snprintf(err, len, "cannot load %s: %s", HTTP_CURL, dlerror());
	return -1;
}

int
http_init(void)
{
	struct http_curl hc;
	char err[HTTP_ERROR_MAX];
	int st = 0;
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_error("cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (http_curl_load(&hc, err, sizeof(err)) == -1) {
			log_error("%s (install libcurl4)", err);
			_exit(1);
		}
		_exit(0);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
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

/* Aborts the transfer once the uploader has closed its end of the
 * request's socket. */
static int
http_progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		 curl_off_t un)
{
	const struct http_child *k = arg;
	struct pollfd pf = {k->hk_fd, 0, 0};

	(void)dt, (void)dn, (void)ut, (void)un;
	return poll(&pf, 1, 0) == 1 && (pf.revents & (POLLERR | POLLHUP));
}

static int
http_set_blob(const struct http_curl *hc, CURL *c, CURLoption opt,
	      const struct http_blob *b)
{
	struct curl_blob cb = {b->hb_data, b->hb_len, CURL_BLOB_COPY};

	if (b->hb_data == NULL)
		return 0;
	return hc->hc_setopt(c, opt, &cb) == CURLE_OK ? 0 : -1;
}

static int
http_set_tls(const struct http_curl *hc, CURL *c, const struct http_tls *t)
{
	if (t->ht_no_verify) {
		hc->hc_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		hc->hc_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (http_set_blob(hc, c, CURLOPT_CAINFO_BLOB, &t->ht_ca) == -1 ||
	    http_set_blob(hc, c, CURLOPT_SSLCERT_BLOB, &t->ht_cert) == -1 ||
	    http_set_blob(hc, c, CURLOPT_SSLKEY_BLOB, &t->ht_key) == -1)
		return -1;
	if (t->ht_cert.hb_data != NULL)
		hc->hc_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	if (t->ht_key.hb_data != NULL)
		hc->hc_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	return 0;
}

/* The request's header lines as libcurl's list; *err set when out of
 * memory. */
static struct curl_slist *
http_slist(const struct http_curl *hc, const struct http_headers *h,
	   const char *auth, int *err)
{
	struct curl_slist *l = NULL, *n;

	*err = 0;
	if (auth != NULL && (l = hc->hc_slist_append(NULL, auth)) == NULL) {
		*err = 1;
		return NULL;
	}
	for (unsigned i = 0; h != NULL && i < h->hh_n; i++) {
		if ((n = hc->hc_slist_append(l, h->hh_line[i])) == NULL) {
			hc->hc_slist_free(l);
			*err = 1;
			return NULL;
		}
		l = n;
	}
	return l;
}

/* Frees the handle and the header lines of a request. */
static void
http_cleanup(struct http_child *k, CURL *c)
{
	k->hk_curl.hc_cleanup(c);
	k->hk_curl.hc_slist_free(k->hk_hdr);
	k->hk_hdr = NULL;
}

static int
http_setup(struct http_child *k, CURL *c, const struct http_tls *tls)
{
	const struct http_curl *hc = &k->hk_curl;
	const struct http_req *rq = k->hk_req;
	struct curl_slist *hdr;
	int err;

	hdr = http_slist(hc, rq->hq_headers, k->hk_auth, &err);
	if (err)
		return -1;
	k->hk_hdr = hdr;
	hc->hc_setopt(c, CURLOPT_URL, rq->hq_url);
	hc->hc_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* HTTP/1.1: nghttp2's header tables (its own allocations) never
	 * hold the token. */
	hc->hc_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	hc->hc_setopt(c, CURLOPT_NOSIGNAL, 1L);
	hc->hc_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	hc->hc_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)HTTP_CONNECT_S);
	hc->hc_setopt(c, CURLOPT_TIMEOUT, rq->hq_timeout_s);
	hc->hc_setopt(c, CURLOPT_USERAGENT, "profd/" PACKAGE_VERSION);
	hc->hc_setopt(c, CURLOPT_ERRORBUFFER, k->hk_resp->hr_error);
	hc->hc_setopt(c, CURLOPT_WRITEFUNCTION, http_body_cb);
	hc->hc_setopt(c, CURLOPT_WRITEDATA, k->hk_resp);
	hc->hc_setopt(c, CURLOPT_NOPROGRESS, 0L);
	hc->hc_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress_cb);
	hc->hc_setopt(c, CURLOPT_XFERINFODATA, (void *)k);
	hc->hc_setopt(c, CURLOPT_HTTPHEADER, hdr);
	if (strcmp(rq->hq_method, "POST") == 0) {
		hc->hc_setopt(c, CURLOPT_POST, 1L);
		hc->hc_setopt(c, CURLOPT_POSTFIELDS, rq->hq_body);
		hc->hc_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			      (curl_off_t)rq->hq_len);
	}
	return http_set_tls(hc, c, tls);
}

static void
http_answer_info(const struct http_curl *hc, CURL *c, struct http_resp *rs)
{
	char *ip = NULL;

	hc->hc_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->hr_status);
	if (hc->hc_getinfo(c, CURLINFO_LOCAL_IP, &ip) == CURLE_OK && ip != NULL)
		snprintf(rs->hr_local_ip, sizeof(rs->hr_local_ip), "%s", ip);
}

static void *
http_crypto_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return secret_malloc(n);
}

static void *
http_crypto_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	return secret_realloc(p, n);
}

static void
http_crypto_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	secret_free(p);
}

/* Gives libcurl and OpenSSL the secret arena's allocator, before either
 * allocates: 0, or -1 with the reason in err. */
static int
http_curl_secret(struct http_curl *hc, char *err, size_t len)
{
	if (hc->hc_crypto_mem == NULL) {
		snprintf(err, len,
			 "%s has no OpenSSL: its TLS library's "
			 "memory cannot be kept secret",
			 HTTP_CURL);
		return -1;
	}
	if (hc->hc_crypto_mem(http_crypto_malloc, http_crypto_realloc,
			      http_crypto_free) != 1) {
		snprintf(err, len,
			 "OpenSSL refused the secret allocator "
			 "(it had allocated already)");
		return -1;
	}
	if (hc->hc_global_init_mem(CURL_GLOBAL_DEFAULT, secret_malloc,
				   secret_free, secret_realloc, secret_strdup,
				   secret_calloc) != CURLE_OK) {
		snprintf(err, len, "cannot initialise libcurl");
		return -1;
	}
	return 0;
}

/* Loads libcurl and initialises it, with the secret allocator when
 * secret says so: 0, or -1 with the reason in err. */
static int
http_curl_start(struct http_curl *hc, int secret, char *err, size_t len)
{
	if (http_curl_load(hc, err, len) == -1)
		return -1;
	if (secret)
		return http_curl_secret(hc, err, len);
	if (hc->hc_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, len, "cannot initialise libcurl");
		return -1;
	}
	return 0;
}

/* Performs the request with the loaded libcurl k->hk_curl, the outcome
 * in k->hk_resp. */
static void
http_perform(struct http_child *k, const struct http_tls *tls)
{
	struct http_resp *rs = k->hk_resp;
	const struct http_curl *hc = &k->hk_curl;
	CURLcode cr;
	CURL *c;

	if ((c = hc->hc_init()) == NULL) {
		snprintf(rs->hr_error, sizeof(rs->hr_error),
			 "cannot initialise libcurl");
		return;
	}
	if (http_setup(k, c, tls) == -1) {
		snprintf(rs->hr_error, sizeof(rs->hr_error),
			 "libcurl refused the request's settings");
		http_cleanup(k, c);
		return;
	}
	cr = hc->hc_perform(c);
	if (cr == CURLE_OK)
		http_answer_info(hc, c, rs);
	else if (rs->hr_error[0] == '\0')
		snprintf(rs->hr_error, sizeof(rs->hr_error), "%s",
			 hc->hc_strerror(cr));
	if (cr != CURLE_OK)
		rs->hr_status = 0;
	http_cleanup(k, c);
}

static void
http_resp_reset(struct http_resp *rs)
{
	rs->hr_status = 0;
	rs->hr_len = 0;
	rs->hr_body[0] = '\0';
	rs->hr_error[0] = '\0';
	rs->hr_local_ip[0] = '\0';
}

/* Reads len bytes from fd, or ends the child. */
static void
http_read_or_exit(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		p += n;
		len -= (size_t)n;
	}
}

/* Reads a string of len bytes from fd into buf[max] and ends it; the
 * child ends if it does not fit or holds a NUL, CR or LF. */
static void
http_read_str(int fd, char *buf, size_t len, size_t max)
{
	if (len >= max)
		_exit(1);
	http_read_or_exit(fd, buf, len);
	buf[len] = '\0';
	if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL)
		_exit(1);
}

/* Checks a request's frame against the limits; -1 ends the child. */
static int
http_frame_ok(const struct http_frame *f)
{
	if (f->hf_magic != HTTP_FRAME_MAGIC || f->hf_post > 1 ||
	    f->hf_timeout_s < 1 || f->hf_timeout_s > HTTP_TIMEOUT_MAX ||
	    f->hf_url_len == 0 || f->hf_url_len >= HTTP_URL_MAX ||
	    f->hf_nhdr > HTTP_HEADERS_MAX || f->hf_body_len > HTTP_BODY_MAX ||
	    f->hf_auth_len >= HTTP_AUTH_MAX ||
	    (!f->hf_post && f->hf_body_len != 0))
		return -1;
	for (unsigned i = 0; i < f->hf_nhdr; i++)
		if (f->hf_hdr_len[i] >= HTTP_HEADER_LEN)
			return -1;
	return 0;
}

/* Reads the request from fd into rq (its strings in url and h, its body
 * allocated), or ends the child on a bad frame. */
static void
http_read_req(int fd, struct http_req *rq, char *url, struct http_headers *h,
	      char *auth)
{
	struct http_frame f;
	char *body = NULL;

	http_read_or_exit(fd, &f, sizeof(f));
	if (http_frame_ok(&f) == -1)
		_exit(1);
	http_read_str(fd, url, f.hf_url_len, HTTP_URL_MAX);
	h->hh_n = f.hf_nhdr;
	for (unsigned i = 0; i < f.hf_nhdr; i++)
		http_read_str(fd, h->hh_line[i], f.hf_hdr_len[i],
			      HTTP_HEADER_LEN);
	if (f.hf_auth_len > 0)
		http_read_str(fd, auth, f.hf_auth_len, HTTP_AUTH_MAX);
	if (f.hf_post &&
	    (body = malloc(f.hf_body_len ? (size_t)f.hf_body_len : 1)) == NULL)
		_exit(1);
	if (body != NULL)
		http_read_or_exit(fd, body, (size_t)f.hf_body_len);
	rq->hq_method = f.hf_post ? "POST" : "GET";
	rq->hq_url = url;
	rq->hq_headers = h;
	rq->hq_body = body;
	rq->hq_len = (size_t)f.hf_body_len;
	rq->hq_timeout_s = (long)f.hf_timeout_s;
	rq->hq_auth = f.hf_auth_len > 0 ? auth : NULL;
}

/* The token's header line, auth + token, made in secret memory (no
 * copy through the stack): the line, or NULL. */
static char *
http_auth_line(const char *auth, const char *token)
{
	size_t a = strlen(auth), t = token ? strlen(token) : 0;
	char *line;

	if (token == NULL || a + t >= HTTP_HEADER_LEN ||
	    (line = secret_malloc(a + t + 1)) == NULL)
		return NULL;
	memcpy(line, auth, a);
	memcpy(line + a, token, t + 1);
	return line;
}

/* What the thread that performs a request needs. */
struct http_run {
	struct http_child *hr_k;
	const struct http_tls *hr_tls;
	int hr_done; /* written when the request is done */
};

static void *
http_run_main(void *arg)
{
	struct http_run *r = arg;
	char c = 0;

	http_perform(r->hr_k, r->hr_tls);
	(void)write(r->hr_done, &c, 1);
	return NULL;
}

/* Performs the request on a thread whose stack lies in secret memory,
 * so that no copy of the token stays on an ordinary stack. Its end is
 * awaited on a pipe, not with pthread_join: the kernel's wake-up of a
 * joiner is a shared futex, which secret pages cannot hold. */
static void
http_perform_secret(struct http_child *k, const struct http_tls *tls)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct http_run r = {k, tls, -1};
	pthread_attr_t a;
	pthread_t t;
	char *stk, c;
	int p[2];

	stk = secret_malloc(HTTP_STACK_SIZE + (size_t)pg);
	if (stk == NULL || pipe2(p, O_CLOEXEC) == -1) {
		snprintf(k->hk_resp->hr_error, sizeof(k->hk_resp->hr_error),
			 "no secret memory for the request's stack");
		return;
	}
	r.hr_done = p[1];
	stk = (char *)(((uintptr_t)stk + (uintptr_t)pg - 1) &
		       ~((uintptr_t)pg - 1));
	pthread_attr_init(&a);
	pthread_attr_setstack(&a, stk, HTTP_STACK_SIZE);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if ((errno = pthread_create(&t, &a, http_run_main, &r)) != 0)
		snprintf(k->hk_resp->hr_error, sizeof(k->hk_resp->hr_error),
			 "cannot start the request's thread: %s",
			 strerror(errno));
	else
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
	pthread_attr_destroy(&a);
}

/* Loads libcurl (with the secret allocator where the arena exists) and
 * performs the request; the outcome in k->hk_resp. */
static void
http_child_perform(struct http_child *k, const struct http_tls *tls,
		   const char *token)
{
	struct http_resp *rs = k->hk_resp;
	int secret = secret_init(HTTP_SECRET_SIZE) == 0;

	if (k->hk_req->hq_auth != NULL) {
		if (!secret) {
			snprintf(rs->hr_error, sizeof(rs->hr_error),
				 "no secret memory for the token: %s",
				 strerror(errno));
			return;
		}
		if ((k->hk_auth = http_auth_line(k->hk_req->hq_auth, token)) ==
		    NULL) {
			snprintf(rs->hr_error, sizeof(rs->hr_error),
				 "no token, or a token too long");
			return;
		}
	}
	if (http_curl_start(&k->hk_curl, secret, rs->hr_error,
			    sizeof(rs->hr_error)) == -1)
		return;
	if (secret)
		http_perform_secret(k, tls);
	else
		http_perform(k, tls);
}

void
http_child_serve(const struct http_tls *tls, const char *token, int fd,
		 pid_t parent)
{
	static struct http_resp rs;
	static struct http_headers h;
	static char url[HTTP_URL_MAX], auth[HTTP_AUTH_MAX];
	struct http_req rq;
	struct http_child k = {.hk_req = &rq, .hk_resp = &rs, .hk_fd = fd};
	sigset_t set;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0u, 0);
	/* The backstops: the uploader sends the request at once, and
	 * libcurl's own timeouts end the request before the second. */
	alarm(HTTP_CONNECT_S + 10);
	http_read_req(fd, &rq, url, &h, auth);
	alarm((unsigned)(rq.hq_timeout_s + HTTP_CONNECT_S + 10));
	http_resp_reset(&rs);
	http_child_perform(&k, tls, token);
	if (write_all(fd, &rs, sizeof(rs)) == -1)
		_exit(1);
	_exit(0);
}

/* Waits up to 250 ms for events on fd: 1 (ready), 0 (not yet), or -1
 * with errno ECANCELED when rq says stop, ETIMEDOUT past deadline. */
static int
http_wait(int fd, short events, const struct http_req *rq, int64_t deadline)
{
	struct pollfd pf = {fd, events, 0};
	int64_t left = deadline - now_ms();

	if (rq->hq_stop != NULL && rq->hq_stop(rq->hq_stop_arg))
		return errno = ECANCELED, -1;
	if (left <= 0)
		return errno = ETIMEDOUT, -1;
	return poll(&pf, 1, left < 250 ? (int)left : 250) > 0;
}

/* Reads the child's answer from fd into rs, giving up when rq says stop
 * or at the deadline: 0, or -1 with the reason in rs->hr_error. */
static int
http_collect(int fd, const struct http_req *rq, struct http_resp *rs)
{
	int64_t deadline =
	    now_ms() + (rq->hq_timeout_s + HTTP_CONNECT_S + 5) * 1000;
	char *dst = (char *)rs;
	size_t got = 0;
	ssize_t n;
	int ready;

	while (got < sizeof(*rs)) {
		if ((ready = http_wait(fd, POLLIN, rq, deadline)) == -1)
			return -1;
		if (!ready)
			continue;
		n = read(fd, dst + got, sizeof(*rs) - got);
		if (n == 0)
			return errno = EPIPE, -1;
		if (n == -1 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

/* Checks the child's answer; its strings are ended here. */
static int
http_answer_ok(struct http_resp *rs)
{
	rs->hr_error[sizeof(rs->hr_error) - 1] = '\0';
	rs->hr_local_ip[sizeof(rs->hr_local_ip) - 1] = '\0';
	if (rs->hr_len > HTTP_ANSWER_MAX || rs->hr_status < 0 ||
	    rs->hr_status > 999)
		return -1;
	rs->hr_body[rs->hr_len] = '\0';
	return 0;
}

/* Sends len bytes of buf on fd, giving up when rq says stop or at
 * deadline: 0, or -1 with errno. */
static int
http_send(int fd, const void *buf, size_t len, const struct http_req *rq,
	  int64_t deadline)
{
	const char *p = buf;
	ssize_t n;
	int ready;

	while (len > 0) {
		if ((ready = http_wait(fd, POLLOUT, rq, deadline)) == -1)
			return -1;
		if (!ready)
			continue;
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EPIPE)
			return -1;
		if (n == -1 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n > 0)
			p += n, len -= (size_t)n;
	}
	return 0;
}

/* The frame of rq: -1 if it breaks a limit. */
static int
http_frame_make(const struct http_req *rq, struct http_frame *f)
{
	const struct http_headers *h = rq->hq_headers;

	memset(f, 0, sizeof(*f));
	f->hf_magic = HTTP_FRAME_MAGIC;
	f->hf_post = strcmp(rq->hq_method, "POST") == 0;
	f->hf_timeout_s = rq->hq_timeout_s;
	f->hf_url_len = (uint32_t)strnlen(rq->hq_url, HTTP_URL_MAX);
	f->hf_nhdr = h != NULL ? h->hh_n : 0;
	f->hf_auth_len =
	    rq->hq_auth ? (uint32_t)strnlen(rq->hq_auth, HTTP_AUTH_MAX) : 0;
	f->hf_body_len = f->hf_post ? rq->hq_len : 0;
	if (f->hf_nhdr > HTTP_HEADERS_MAX)
		return -1;
	for (unsigned i = 0; i < f->hf_nhdr; i++)
		f->hf_hdr_len[i] =
		    (uint32_t)strnlen(h->hh_line[i], HTTP_HEADER_LEN);
	return http_frame_ok(f);
}

/* Sends rq on fd as a frame. */
static int
http_send_req(int fd, const struct http_req *rq, const struct http_frame *f,
	      int64_t deadline)
{
	if (http_send(fd, f, sizeof(*f), rq, deadline) == -1 ||
	    http_send(fd, rq->hq_url, f->hf_url_len, rq, deadline) == -1)
		return -1;
	for (unsigned i = 0; i < f->hf_nhdr; i++)
		if (http_send(fd, rq->hq_headers->hh_line[i], f->hf_hdr_len[i],
			      rq, deadline) == -1)
			return -1;
	if (http_send(fd, rq->hq_auth, f->hf_auth_len, rq, deadline) == -1)
		return -1;
	return http_send(fd, rq->hq_body, (size_t)f->hf_body_len, rq, deadline);
}

/* Hands rq to a new child of the helper: its socket, or -1 with
 * errno. */
static int
http_start(const struct http_req *rq, const struct http_frame *f)
{
	int64_t deadline = now_ms() + (HTTP_CONNECT_S + 5) * 1000;
	int sv[2], saved;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (http_helper_call(sv[1]) == -1) {
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		return errno = saved == ESRCH ? ESRCH : EPIPE, -1;
	}
	close(sv[1]);
	if (http_send_req(sv[0], rq, f, deadline) == -1) {
		saved = errno;
		close(sv[0]);
		return errno = saved, -1;
	}
	return sv[0];
}

/* Why a request got no answer, from errno. */
static const char *
http_why(int err)
{
	switch (err) {
	case ECANCELED:
		return "stopped";
	case ETIMEDOUT:
		return "timed out";
	case EPIPE:
		return "the request's process ended without an answer";
	case ESRCH:
		return "the request helper is gone";
	case E2BIG:
		return "the request exceeds the limits";
	}
	return strerror(err);
}

int
http_do(const struct http_req *rq, struct http_resp *rs)
{
	struct http_frame f;
	int fd, rv = -1, saved;

	http_resp_reset(rs);
	if (http_frame_make(rq, &f) == -1) {
		saved = E2BIG;
	} else if ((fd = http_start(rq, &f)) == -1) {
		saved = errno;
	} else {
		rv = http_collect(fd, rq, rs);
		saved = errno;
		close(fd); /* a child still running sees this and ends */
		if (rv == 0 && http_answer_ok(rs) == -1)
			rv = -1, saved = EPROTO;
	}
	if (rv == -1) {
		http_resp_reset(rs);
		snprintf(rs->hr_error, sizeof(rs->hr_error), "%s",
			 http_why(saved));
	}
	return rv == 0 && rs->hr_status > 0 ? 0 : -1;
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
