/* lk-test-http.h: plain HTTP requests to our servers, for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct
{
  guint               status;
  char               *body;
  SoupMessageHeaders *headers;
} LkTestReply;

LkTestReply *lk_test_send          (SoupSession  *session,
                                    const char   *method,
                                    const char   *url,
                                    const char   *content_type,
                                    const char   *body,
                                    ...) G_GNUC_NULL_TERMINATED;
JsonObject  *lk_test_reply_json    (LkTestReply  *reply);
void         lk_test_assert_status (LkTestReply  *reply,
                                    guint         status);
void         lk_test_reply_free    (LkTestReply  *reply);

GSocketConnection *lk_test_raw_connect  (guint         port,
                                         const char   *source);
char        *lk_test_raw_read_all  (GSocketConnection *connection,
                                    guint         timeout_seconds);
LkTestReply *lk_test_raw_exchange  (guint         port,
                                    const char   *source,
                                    const char   *request,
                                    gsize         length);
LkTestReply *lk_test_raw_parse     (const char   *response);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestReply, lk_test_reply_free)

G_END_DECLS
