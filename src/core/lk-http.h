/* lk-http.h: JSON over HTTP with retries, for the relay and partner clients
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The largest answer any of our clients reads (the relay's, with a
 * message); each client still checks its own, smaller, bound. */
#define LK_HTTP_DEFAULT_MAX_BODY (256 * 1024)

typedef struct
{
  guint               status;
  SoupMessageHeaders *headers;
  GBytes             *body;
  guint               attempts;   /* how many sends it took */
} LkHttpResponse;

void lk_http_response_free (LkHttpResponse *response);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkHttpResponse, lk_http_response_free)

#define LK_TYPE_HTTP (lk_http_get_type ())

G_DECLARE_FINAL_TYPE (LkHttp, lk_http, LK, HTTP, GObject)

LkHttp         *lk_http_new                (void);
gboolean        lk_http_set_ca_file        (LkHttp               *self,
                                            const char           *path,
                                            GError              **error);
void            lk_http_set_max_body       (LkHttp               *self,
                                            gsize                 max_body);
void            lk_http_set_retry_policy   (LkHttp               *self,
                                            guint                 max_attempts,
                                            guint                 base_delay_ms);
void            lk_http_request_async      (LkHttp               *self,
                                            const char           *method,
                                            const char           *url,
                                            const char * const   *headers,
                                            GBytes               *json_body,
                                            guint                 wait_seconds,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
LkHttpResponse *lk_http_request_finish     (LkHttp               *self,
                                            GAsyncResult         *result,
                                            GError              **error);

G_END_DECLS
