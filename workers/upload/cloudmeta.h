/* The cloud's instance metadata, asked only when --cloud-metadata-url
 * names where (gProfiler asks 169.254.169.254 and
 * metadata.google.internal; profd never does on its own). */
#ifndef PROFD_CLOUDMETA_H
#define PROFD_CLOUDMETA_H

#include "http.h"

#define CLOUDMETA_TIMEOUT_S 5 /* per request, as gProfiler's */

/* Asks base as AWS's, then GCP's, then Azure's instance metadata service
 * (gProfiler's paths and headers under base) and keeps the first answer
 * as the header's cloud_provider and cloud_info. 0, or -1 when none
 * answered (logged; the DMI guess stays). After the sandbox. */
int cloudmeta_fetch(const char *base, const struct http_tls *tls);

#endif
