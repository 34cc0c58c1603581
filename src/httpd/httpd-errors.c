/* httpd-errors.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libmicrohttpd 0.9.75 answers some requests itself, before any callback of
 * ours runs: a malformed request line (400), a version other than HTTP/1.x
 * (505), a request line or headers larger than the connection's memory pool
 * (414, 431), a missing Host or a malformed header or Content-Length (400,
 * 413). Its bodies are HTML, and it has no option to change them. It does
 * queue those answers through its public MHD_queue_response(), called
 * through the procedure linkage table like any exported function; so this
 * program defines MHD_queue_response() itself, which the dynamic linker
 * binds for the library's calls too, and hands every answer on to the
 * library's. An error answer without a Content-Type is one of
 * libmicrohttpd's (all of ours have one): it is replaced by the same status
 * with a {error, message} body. tests/test-abuse.c checks the result on
 * the wire, so a libmicrohttpd built in a way that bypasses this is noticed.
 *
 * One exception: an error found once the whole header block is in (a
 * Content-Length that is not a number or too large, a Cookie header too
 * large to parse) makes 0.9.75 send its status line and headers twice, a
 * reply no client can read. Those connections are closed without a reply
 * instead, which clients handle as the network error it amounts to.
 */

#define G_LOG_DOMAIN "httpd-errors"

#include "config.h"

#include <dlfcn.h>
#include <string.h>

#include <gio/gio.h>
#include <microhttpd.h>

#include "httpd-errors.h"

typedef enum MHD_Result (*QueueFunc) (struct MHD_Connection *connection,
                                      unsigned int           status_code,
                                      struct MHD_Response   *response);

static gpointer real_queue_func;

static QueueFunc
real_queue (void)
{
  gpointer func = g_atomic_pointer_get (&real_queue_func);

  /* Looked up once; a race only looks it up twice. */
  if (func == NULL)
    {
      func = dlsym (RTLD_NEXT, "MHD_queue_response");
      g_atomic_pointer_set (&real_queue_func, func);
    }
  return (QueueFunc) func;
}

static const struct
{
  guint       status;
  const char *body;
} bodies[] = {
  { MHD_HTTP_BAD_REQUEST,
    "{\"error\":\"bad_request\",\"message\":\"The request is not well-formed HTTP/1.1\"}" },
  { MHD_HTTP_CONTENT_TOO_LARGE,
    "{\"error\":\"too_large\",\"message\":\"The request body is too large\"}" },
  { MHD_HTTP_URI_TOO_LONG,
    "{\"error\":\"uri_too_long\",\"message\":\"The request line is too long\"}" },
  { MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
    "{\"error\":\"headers_too_large\",\"message\":\"The request headers are too large\"}" },
  { MHD_HTTP_HTTP_VERSION_NOT_SUPPORTED,
    "{\"error\":\"http_version_not_supported\",\"message\":\"Only HTTP/1.0 and HTTP/1.1 are served\"}" },
};

static const char other_body[] =
  "{\"error\":\"internal_error\",\"message\":\"The server could not handle the request\"}";

static struct MHD_Response *
json_error (guint status)
{
  const char *body = other_body;
  struct MHD_Response *response;

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    if (bodies[i].status == status)
      body = bodies[i].body;

  response = MHD_create_response_from_buffer (strlen (body), (void *) body, MHD_RESPMEM_PERSISTENT);
  if (response != NULL)
    {
      MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
      MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
      MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    }
  return response;
}

/* The interposer: see above. Exported from the executable so that the
 * library's own calls reach it. */
__attribute__ ((visibility ("default"))) enum MHD_Result
MHD_queue_response (struct MHD_Connection *connection,
                    unsigned int           status_code,
                    struct MHD_Response   *response)
{
  QueueFunc queue = real_queue ();
  const union MHD_ConnectionInfo *header_size;
  struct MHD_Response *json;
  enum MHD_Result result;

  if (status_code < 400 || response == NULL ||
      MHD_get_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE) != NULL)
    return queue (connection, status_code, response);

  /* See above: refusing to queue makes libmicrohttpd close the connection. */
  header_size = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  if (header_size != NULL && header_size->header_size > 0)
    return MHD_NO;

  json = json_error (status_code);
  if (json == NULL)
    return queue (connection, status_code, response);

  result = queue (connection, status_code, json);
  MHD_destroy_response (json);
  return result;
}

/**
 * httpd_errors_check:
 *
 * Call before starting a daemon: it also makes sure that the linker keeps
 * this file's interposer in the program.
 *
 * Returns: whether libmicrohttpd's own error answers will be JSON
 */
gboolean
httpd_errors_check (GError **error)
{
  if (real_queue () == NULL || dlsym (RTLD_DEFAULT, "MHD_queue_response") != (void *) MHD_queue_response)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "libmicrohttpd's own error answers cannot be made JSON in this build");
      return FALSE;
    }
  return TRUE;
}
