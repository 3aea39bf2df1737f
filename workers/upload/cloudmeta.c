/* Cloud instance metadata: gProfiler's three services, asked at a base
 * URL given by the operator, turned into its cloud_info object. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudmeta.h"
#include "jread.h"
#include "json.h"
#include "log.h"
#include "metadata.h"
#include "sender.h"

#define CM_VALUE_MAX 256 /* bytes of one value kept */

/* One member of cloud_info: its name and the answer's key for it. */
struct cm_field {
	const char *cf_out, *cf_in;
};

/* One cloud: where its service answers (under the base URL), the header
 * it needs, and its fields. */
struct cm_cloud {
	const char *cc_provider, *cc_path, *cc_header;
	const char *cc_text_path, *cc_text_field; /* a plain-text extra */
	const struct cm_field *cc_fields;
};

static const struct cm_field cm_aws[] = {
    {"region", "region"},
    {"zone", "availabilityZone"},
    {"instance_type", "instanceType"},
    {"account_id", "accountId"},
    {"image_id", "imageId"},
    {"instance_id", "instanceId"},
    {NULL, NULL},
};
static const struct cm_field cm_gcp[] = {
    {"zone", "zone"},	   {"instance_type", "machineType"},
    {"instance_id", "id"}, {"image_id", "image"},
    {"name", "name"},	   {NULL, NULL},
};
static const struct cm_field cm_azure[] = {
    {"instance_type", "vmSize"},
    {"zone", "zone"},
    {"region", "location"},
    {"subscription_id", "subscriptionId"},
    {"resource_group_name", "resourceGroupName"},
    {"resource_id", "resourceId"},
    {"instance_id", "vmId"},
    {"name", "name"},
    {NULL, NULL},
};

static const struct cm_cloud cm_clouds[] = {
    {"aws", "/latest/dynamic/instance-identity/document", NULL,
     "/latest/meta-data/instance-life-cycle", "life_cycle", cm_aws},
    {"gcp", "/computeMetadata/v1/instance/?recursive=true",
     "Metadata-Flavor: Google", NULL, NULL, cm_gcp},
    {"azure", "/metadata/instance/compute/?api-version=2019-08-15",
     "Metadata: true", NULL, NULL, cm_azure},
};

/* GETs base + path; 0 with a 200 answer in rs, else -1. */
static int
cm_get(const char *base, const char *path, const char *header,
       const struct http_tls *tls, struct http_resp *rs)
{
	struct http_req rq = {"GET", NULL, NULL, NULL, 0, 0, NULL, NULL, NULL};
	struct http_headers hdr;
	char url[HTTP_URL_MAX];

	(void)tls; /* the request helper's: see upload_net_start */
	memset(&hdr, 0, sizeof(hdr));
	if (sender_url(url, sizeof(url), base, path) == -1 ||
	    (header != NULL && http_header_add(&hdr, "%s", header) == -1))
		return -1;
	rq.hq_url = url;
	rq.hq_headers = &hdr;
	rq.hq_timeout_s = CLOUDMETA_TIMEOUT_S;
	if (http_do(&rq, rs) == -1) {
		log_debug("cloud metadata: %s: %s", url, rs->hr_error);
		return -1;
	}
	log_debug("cloud metadata: %s: HTTP %ld", url, rs->hr_status);
	return rs->hr_status == 200 && rs->hr_len < HTTP_ANSWER_MAX ? 0 : -1;
}

/* A value of the answer as text (a string, or a number's digits). */
static int
cm_value(const struct jread *j, const char *key, char *out, size_t len)
{
	int t = jread_get(j, 0, key);
	size_t n;

	if (t == -1)
		return -1;
	if (j->jr_tok[t].jt_type == JREAD_NUMBER) {
		n = j->jr_tok[t].jt_end - j->jr_tok[t].jt_start;
		if (n >= len)
			return -1;
		memcpy(out, j->jr_src + j->jr_tok[t].jt_start, n);
		out[n] = '\0';
		return 0;
	}
	return jread_string(j, t, out, len);
}

/* GCP names the machine type and zone by path: the type is its last
 * part, and the region the zone's last part without its "-a" (as
 * gProfiler does). */
static void
cm_gcp_put(FILE *f, const char *out, char *v)
{
	const char *slash = strrchr(v, '/');
	char r[CM_VALUE_MAX];
	size_t n;

	if (strcmp(out, "instance_type") == 0 && slash != NULL)
		memmove(v, slash + 1, strlen(slash + 1) + 1);
	json_put_string(f, v);
	if (strcmp(out, "zone") != 0)
		return;
	snprintf(r, sizeof(r), "%s", slash != NULL ? slash + 1 : v);
	n = strlen(r);
	if (n >= 2 && r[n - 2] == '-')
		r[n - 2] = '\0';
	fputs(", \"region\": ", f);
	json_put_string(f, r);
}

/* Writes cloud_info's members from an answer. -1 if one is missing. */
static int
cm_members(FILE *f, const struct cm_cloud *c, const struct jread *j)
{
	char v[CM_VALUE_MAX];

	for (const struct cm_field *cf = c->cc_fields; cf->cf_out; cf++) {
		if (cm_value(j, cf->cf_in, v, sizeof(v)) == -1)
			return -1;
		fprintf(f, "%s\"%s\": ", cf == c->cc_fields ? "" : ", ",
			cf->cf_out);
		if (strcmp(c->cc_provider, "gcp") == 0)
			cm_gcp_put(f, cf->cf_out, v);
		else
			json_put_string(f, v);
	}
	return 0;
}

/* The plain-text extra (AWS's life cycle), made printable. */
static int
cm_text(FILE *f, const char *base, const struct cm_cloud *c,
	const struct http_tls *tls, struct http_resp *rs)
{
	char v[CM_VALUE_MAX];
	size_t n = 0;

	if (c->cc_text_path == NULL)
		return 0;
	if (cm_get(base, c->cc_text_path, NULL, tls, rs) == -1)
		return -1;
	for (size_t i = 0; i < rs->hr_len && n + 1 < sizeof(v); i++)
		if (rs->hr_body[i] >= 0x20 && rs->hr_body[i] < 0x7f)
			v[n++] = rs->hr_body[i];
	v[n] = '\0';
	fprintf(f, ", \"%s\": ", c->cc_text_field);
	json_put_string(f, v);
	return 0;
}

/* Asks one cloud's service; 0 with cloud_info's text in *info. */
static int
cm_try(const char *base, const struct cm_cloud *c, const struct http_tls *tls,
       char **info)
{
	static struct http_resp rs;
	static struct jread j;
	size_t len;
	FILE *f;
	int rv;

	if (cm_get(base, c->cc_path, c->cc_header, tls, &rs) == -1 ||
	    jread_parse(&j, rs.hr_body, rs.hr_len) == -1 ||
	    j.jr_tok[0].jt_type != JREAD_OBJECT)
		return -1;
	if ((f = open_memstream(info, &len)) == NULL)
		return -1;
	fputc('{', f);
	rv = cm_members(f, c, &j);
	if (rv == 0)
		rv = cm_text(f, base, c, tls, &rs);
	fputc('}', f);
	if (fclose(f) != 0 || rv == -1) {
		free(*info);
		*info = NULL;
		return -1;
	}
	return 0;
}

int
cloudmeta_fetch(const char *base, const struct http_tls *tls)
{
	char *info = NULL;

	for (size_t i = 0; i < sizeof(cm_clouds) / sizeof(cm_clouds[0]); i++) {
		if (cm_try(base, &cm_clouds[i], tls, &info) == -1)
			continue;
		metadata_set_cloud(cm_clouds[i].cc_provider, info);
		log_info("cloud metadata: %s instance (%s)",
			 cm_clouds[i].cc_provider, base);
		free(info);
		return 0;
	}
	log_warn("cloud metadata: no instance metadata service answered at "
		 "%s; cloud_provider stays %s",
		 base, metadata_get()->am_cloud);
	return -1;
}
