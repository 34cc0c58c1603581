/* test-relay.c: latchkey-relay over loopback, every endpoint and error path
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-relay"

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>
#include <sqlite3.h>

#include "latchkey-core.h"
#include "lk-test-http.h"
#include "lk-test-redis.h"
#include "lk-test-server.h"

#define PAYLOAD_DATA "oKGio6SlpqeoqaqrnToaQjemY8tAX6W3bh2pqhHALnH+2ycYsmlD6BrZ"
#define CREATE_BODY \
  "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"}," \
  "\"displayInformation\":{\"title\":\"Room 404\",\"description\":\"Hotel Example\"}}"
#define CREATE_RWD_BODY \
  "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"}," \
  "\"displayInformation\":{\"title\":\"Blue Hatchback\"}," \
  "\"mailboxConfiguration\":{\"accessRights\":\"RWD\"}}"
#define UPDATE_BODY \
  "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"cmVwbHlyZXBseXJlcGx5cmVwbHlyZXBseXJlcGx5cmVwbHlyZXBseQ==\"}}"

static SoupSession *
new_session (void)
{
  return soup_session_new_with_options ("timeout", 40, "max-conns", 64, "max-conns-per-host", 64, NULL);
}

static void
assert_error_reply (LkTestReply      *reply,
                    guint       status,
                    const char *error)
{
  g_autoptr(JsonObject) object = NULL;

  if (reply->status != status)
    g_test_message ("unexpected %u: %s", reply->status, reply->body);
  g_assert_cmpuint (reply->status, ==, status);
  object = lk_test_reply_json (reply);
  if (error != NULL)
    g_assert_cmpstr (json_object_get_string_member (object, "error"), ==, error);
  g_assert_true (json_object_has_member (object, "message"));
}

/* With LATCHKEY_TEST_STORE=redis (the relay-redis test), every fixture
 * test runs against two relay instances on one Redis Cluster: creates and
 * reads alternate between them, the first create going to the second
 * instance, so that a retry, a binding or a read lands on the instance that
 * did not make the mailbox. */
static LkTestRedis *redis_cluster;

/* Tests whose waiting reads must be woken by a write on the same instance
 * (waking one on another instance is issue 14's next part), or that read
 * one instance's own counters. */
static const char * const single_instance_tests[] = {
  "/relay/waiting-read", "/relay/waiting-read-timeout", "/relay/waiting-read-delete", "/relay/waiter-limit",
  "/relay/graceful-shutdown", "/relay/metrics", NULL,
};

typedef struct
{
  LkTestServer *relay;
  LkTestServer *other;      /* the second instance, with the Redis store */
  gboolean      spread;     /* creates and reads alternate between the two */
  guint         turn;
  SoupSession  *session;
  char         *initiator;
  char         *recipient;
  char         *stranger;
} Fixture;

static char **
redis_args (const char * const *args,
            const char         *data_dir)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (args != NULL)
    g_strv_builder_addv (builder, (const char **) args);
  g_strv_builder_add_many (builder, "--store", "redis", "--redis-nodes", redis_cluster->nodes, NULL);
  /* Both instances must hash client addresses with one key (limiter.key),
   * or per-client limits would count one client as two. */
  if (data_dir != NULL)
    g_strv_builder_add_many (builder, "--data-dir", data_dir, NULL);
  return g_strv_builder_end (builder);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  const char * const *args = data;

  if (redis_cluster != NULL)
    {
      g_auto(GStrv) first_args = redis_args (args, NULL);
      g_auto(GStrv) other_args = NULL;
      g_autofree char *shared_dir = NULL;

      lk_test_redis_flush (redis_cluster);
      f->relay = lk_test_server_new ("LATCHKEY_RELAY", (const char * const *) first_args);
      lk_test_server_start (f->relay);
      shared_dir = g_build_filename (f->relay->data_dir, "db", NULL);
      other_args = redis_args (args, shared_dir);
      f->other = lk_test_server_new ("LATCHKEY_RELAY", (const char * const *) other_args);
      lk_test_server_start (f->other);
      f->spread = !g_strv_contains (single_instance_tests, g_test_get_path ());
    }
  else
    {
      f->relay = lk_test_server_new ("LATCHKEY_RELAY", args);
      lk_test_server_start (f->relay);
    }
  f->session = new_session ();
  f->initiator = lk_uuid_new_random ();
  f->recipient = lk_uuid_new_random ();
  f->stranger = lk_uuid_new_random ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  LkTestServer *relays[] = { f->relay, f->other };

  /* Logs never hold claims (or payloads, or whole mailbox ids: see below). */
  for (guint i = 0; i < G_N_ELEMENTS (relays) && relays[i] != NULL; i++)
    {
      g_autofree char *log = lk_test_server_read_log (relays[i]);

      g_assert_null (strstr (log, f->initiator));
      g_assert_null (strstr (log, f->recipient));
      g_assert_null (strstr (log, f->stranger));
      g_assert_null (strstr (log, PAYLOAD_DATA));
    }

  g_clear_object (&f->session);
  g_clear_pointer (&f->relay, lk_test_server_free);
  g_clear_pointer (&f->other, lk_test_server_free);
  g_free (f->initiator);
  g_free (f->recipient);
  g_free (f->stranger);
}

static char *
url_for (Fixture    *f,
         const char *path)
{
  return g_strconcat (f->relay->url, path, NULL);
}

/* The instance the next create or read goes to. */
static LkTestServer *
next_relay (Fixture *f)
{
  if (!f->spread)
    return f->relay;
  return f->turn++ % 2 == 0 ? f->other : f->relay;
}

/* @url on @relay instead: the same path. */
static char *
url_on (LkTestServer *relay,
        const char   *url)
{
  const char *path = strstr (url, "/v1/");

  g_assert_nonnull (path);
  return g_strconcat (relay->url, path, NULL);
}

/* Creates a mailbox and returns its URL (on the first instance). */
static char *
create (Fixture    *f,
        const char *body,
        const char *request_id)
{
  LkTestServer *relay = next_relay (f);
  g_autofree char *url = g_strconcat (relay->url, "/v1/m", NULL);
  g_autoptr(LkTestReply) reply = NULL;
  g_autoptr(JsonObject) object = NULL;
  const char *link;

  if (request_id != NULL)
    reply = lk_test_send (f->session, "POST", url, "application/json", body,
                          "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", request_id, NULL);
  else
    reply = lk_test_send (f->session, "POST", url, "application/json", body,
                          "Mailbox-Device-Claim", f->initiator, NULL);
  if (reply->status != 200)
    g_test_message ("create: %u %s", reply->status, reply->body);
  g_assert_cmpuint (reply->status, ==, 200);

  object = lk_test_reply_json (reply);
  /* The relay sends no push: a draft client must poll (PROTOCOL.md §6.2). */
  g_assert_false (json_object_get_boolean_member (object, "isPushNotificationSupported"));
  link = json_object_get_string_member (object, "urlLink");
  g_assert_true (g_str_has_prefix (link, relay->url));
  g_assert_true (g_uuid_string_is_valid (link + strlen (relay->url) + strlen ("/v1/m/")));

  /* The whole id would let a reader of the logs open the mailbox's page. */
  {
    g_autofree char *log = lk_test_server_read_log (relay);
    g_assert_null (strstr (log, link + strlen (relay->url) + strlen ("/v1/m/")));
  }

  return url_on (f->relay, link);
}

static LkTestReply *
read_as (Fixture    *f,
         const char *url,
         const char *claim)
{
  g_autofree char *on = url_on (next_relay (f), url);

  return lk_test_send (f->session, "POST", on, NULL, NULL, "Mailbox-Device-Claim", claim, NULL);
}

static const char * const default_args[] = { "--rate", "0", NULL };

static void
test_create_and_read (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autoptr(LkTestReply) first = read_as (f, url, f->recipient);
  g_autoptr(LkTestReply) again = read_as (f, url, f->recipient);
  g_autoptr(LkTestReply) initiator = read_as (f, url, f->initiator);
  g_autoptr(LkTestReply) stranger = read_as (f, url, f->stranger);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GDateTime) expiration = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  JsonObject *payload, *display;
  GTimeSpan left;

  g_assert_cmpuint (first->status, ==, 200);
  object = lk_test_reply_json (first);
  payload = json_object_get_object_member (object, "payload");
  g_assert_cmpstr (json_object_get_string_member (payload, "type"), ==, "AEAD_AES_256_GCM");
  g_assert_cmpstr (json_object_get_string_member (payload, "data"), ==, PAYLOAD_DATA);
  display = json_object_get_object_member (object, "displayInformation");
  g_assert_cmpstr (json_object_get_string_member (display, "title"), ==, "Room 404");
  g_assert_cmpstr (json_object_get_string_member (display, "description"), ==, "Hotel Example");
  g_assert_true (json_object_get_boolean_member (object, "recipientBound"));
  g_assert_nonnull (soup_message_headers_get_one (first->headers, "ETag"));

  /* The default expiration is 48 hours, in the draft's format. */
  expiration = g_date_time_new_from_iso8601 (json_object_get_string_member (object, "expiration"), NULL);
  g_assert_nonnull (expiration);
  g_assert_true (g_str_has_suffix (json_object_get_string_member (object, "expiration"), "Z"));
  left = g_date_time_difference (expiration, now);
  g_assert_cmpint (left, >, 47 * G_TIME_SPAN_HOUR);
  g_assert_cmpint (left, <=, 48 * G_TIME_SPAN_HOUR);

  g_assert_cmpuint (again->status, ==, 200);
  g_assert_cmpuint (initiator->status, ==, 200);
  /* After binding, a third device is refused. */
  assert_error_reply (stranger, 401, "unauthorized");
}

static void
test_display_page (Fixture       *f,
                   gconstpointer  data)
{
  static const char body[] =
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
    "\"displayInformation\":{\"title\":\"<script>alert(1)</script>\",\"description\":\"\\\"quoted\\\" & more\\u0001\\\\\","
    "\"imageURL\":\"https://example.com/a.png?x=1&y=\\\"2\"}}";
  g_autofree char *url = create (f, body, NULL);
  g_autofree char *missing = url_for (f, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e");
  g_autoptr(LkTestReply) page = lk_test_send (f->session, "GET", url, NULL, NULL, NULL);
  g_autoptr(LkTestReply) gone = lk_test_send (f->session, "GET", missing, NULL, NULL, NULL);
  g_autoptr(LkTestReply) after = NULL;
  const char *csp;

  g_assert_cmpuint (page->status, ==, 200);
  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (page->headers, NULL), "text/html"));
  g_assert_nonnull (strstr (page->body, "<meta property=\"og:title\" content=\"&lt;script&gt;alert(1)&lt;/script&gt;\">"));
  g_assert_nonnull (strstr (page->body, "og:description\" content=\"&quot;quoted&quot; &amp; more"));
  g_assert_nonnull (strstr (page->body, "og:image\" content=\"https://example.com/a.png?x=1&amp;y=&quot;2\""));
  g_assert_null (strstr (page->body, "<script"));

  csp = soup_message_headers_get_one (page->headers, "Content-Security-Policy");
  g_assert_nonnull (csp);
  g_assert_true (g_str_has_prefix (csp, "default-src 'none'"));
  g_assert_null (strstr (csp, "script-src"));
  g_assert_null (strstr (csp, "unsafe"));

  /* A GET is public and binds nothing: a link-preview bot cannot claim. */
  after = read_as (f, url, f->recipient);
  g_assert_cmpuint (after->status, ==, 200);

  /* The read's JSON carries the same strings, escaped for JSON. */
  {
    g_autoptr(JsonObject) object = lk_test_reply_json (after);
    JsonObject *display = json_object_get_object_member (object, "displayInformation");

    g_assert_cmpstr (json_object_get_string_member (display, "title"), ==, "<script>alert(1)</script>");
    g_assert_cmpstr (json_object_get_string_member (display, "description"), ==, "\"quoted\" & more\x01\\");
    g_assert_cmpstr (json_object_get_string_member (display, "imageURL"), ==, "https://example.com/a.png?x=1&y=\"2");
  }

  g_assert_cmpuint (gone->status, ==, 404);
}

static void
test_claims (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autofree char *other = lk_uuid_new_random ();
  g_autofree char *rid = lk_uuid_new_random ();
  g_autoptr(LkTestReply) bad = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", "nope", NULL);
  g_autoptr(LkTestReply) none = lk_test_send (f->session, "POST", url, NULL, NULL, NULL);
  g_autoptr(LkTestReply) bind = read_as (f, url, f->recipient);
  g_autoptr(LkTestReply) kept = read_as (f, url, f->recipient);    /* now answered from the cache */
  g_autoptr(LkTestReply) third = read_as (f, url, f->stranger);
  g_autoptr(LkTestReply) by_initiator = lk_test_send (f->session, "PATCH", url, NULL, NULL,
                                                "Mailbox-Device-Claim", f->initiator, NULL);
  g_autoptr(LkTestReply) relinquish = lk_test_send (f->session, "PATCH", url, NULL, NULL,
                                              "Mailbox-Device-Claim", f->recipient, "Mailbox-Request-ID", rid, NULL);
  g_autoptr(LkTestReply) retry = lk_test_send (f->session, "PATCH", url, NULL, NULL,
                                         "Mailbox-Device-Claim", f->recipient, "Mailbox-Request-ID", rid, NULL);
  g_autoptr(LkTestReply) rebind = read_as (f, url, other);
  g_autoptr(LkTestReply) old = read_as (f, url, f->recipient);

  assert_error_reply (bad, 401, "bad_claim");
  assert_error_reply (none, 401, "bad_claim");
  g_assert_cmpuint (bind->status, ==, 200);
  g_assert_cmpuint (kept->status, ==, 200);
  g_assert_cmpstr (kept->body, ==, bind->body);
  assert_error_reply (third, 401, "unauthorized");
  assert_error_reply (by_initiator, 401, "unauthorized");
  g_assert_cmpuint (relinquish->status, ==, 200);
  g_assert_cmpuint (retry->status, ==, 201);
  /* Relinquished: the next device binds, and the old one is now a stranger. */
  g_assert_cmpuint (rebind->status, ==, 200);
  assert_error_reply (old, 401, "unauthorized");
}

static void
test_idempotent_retries (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *rid = lk_uuid_new_random ();
  g_autofree char *url = create (f, CREATE_RWD_BODY, rid);
  g_autofree char *create_url = url_for (f, "/v1/m");
  g_autofree char *update_rid = lk_uuid_new_random ();
  g_autofree char *delete_rid = lk_uuid_new_random ();
  g_autofree char *other_rid = lk_uuid_new_random ();
  g_autoptr(LkTestReply) create_again = NULL;
  g_autoptr(LkTestReply) update = NULL;
  g_autoptr(LkTestReply) update_again = NULL;
  g_autoptr(LkTestReply) del = NULL;
  g_autoptr(LkTestReply) del_again = NULL;
  g_autoptr(LkTestReply) del_other = NULL;
  g_autoptr(JsonObject) object = NULL;

  /* A retried create gets 201 and the mailbox the first attempt made. */
  create_again = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_RWD_BODY,
                               "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", rid, NULL);
  g_assert_cmpuint (create_again->status, ==, 201);
  g_assert_cmpstr (soup_message_headers_get_one (create_again->headers, "Mailbox-Request-ID"), ==, rid);
  object = lk_test_reply_json (create_again);
  g_assert_cmpstr (json_object_get_string_member (object, "urlLink"), ==, url);

  update = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                         "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", update_rid, NULL);
  g_assert_cmpuint (update->status, ==, 200);
  update_again = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                               "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", update_rid, NULL);
  g_assert_cmpuint (update_again->status, ==, 201);
  /* The retry changed nothing. */
  g_assert_cmpstr (soup_message_headers_get_one (update_again->headers, "ETag"), ==,
                   soup_message_headers_get_one (update->headers, "ETag"));

  del = lk_test_send (f->session, "DELETE", url, NULL, NULL,
                      "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", delete_rid, NULL);
  g_assert_cmpuint (del->status, ==, 200);
  del_again = lk_test_send (f->session, "DELETE", url, NULL, NULL,
                            "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", delete_rid, NULL);
  g_assert_cmpuint (del_again->status, ==, 201);
  /* Any other delete of a deleted mailbox is a 404, as the draft says. */
  del_other = lk_test_send (f->session, "DELETE", url, NULL, NULL,
                            "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", other_rid, NULL);
  assert_error_reply (del_other, 404, "not_found");
}

static void
test_access_rights (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *rd = create (f, CREATE_BODY, NULL);    /* default RD */
  g_autofree char *rwd = create (f, CREATE_RWD_BODY, NULL);
  g_autofree char *w_only = NULL;
  g_autoptr(LkTestReply) bind_rd = read_as (f, rd, f->recipient);
  g_autoptr(LkTestReply) write_rd = lk_test_send (f->session, "PUT", rd, "application/json", UPDATE_BODY,
                                            "Mailbox-Device-Claim", f->recipient, NULL);
  g_autoptr(LkTestReply) write_initiator = lk_test_send (f->session, "PUT", rd, "application/json", UPDATE_BODY,
                                                   "Mailbox-Device-Claim", f->initiator, NULL);
  g_autoptr(LkTestReply) bind_rwd = read_as (f, rwd, f->recipient);
  g_autoptr(LkTestReply) write_rwd = lk_test_send (f->session, "PUT", rwd, "application/json", UPDATE_BODY,
                                             "Mailbox-Device-Claim", f->recipient, NULL);
  g_autoptr(LkTestReply) read_w = NULL;
  g_autoptr(LkTestReply) delete_w = NULL;
  g_autoptr(LkTestReply) delete_rd = NULL;

  g_assert_cmpuint (bind_rd->status, ==, 200);
  assert_error_reply (write_rd, 401, "forbidden");
  g_assert_cmpuint (write_initiator->status, ==, 200);
  g_assert_cmpuint (bind_rwd->status, ==, 200);
  g_assert_cmpuint (write_rwd->status, ==, 200);

  w_only = create (f, "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
                      "\"displayInformation\":{\"title\":\"x\"},\"mailboxConfiguration\":{\"accessRights\":\"W\"}}",
                   NULL);
  read_w = read_as (f, w_only, f->recipient);
  assert_error_reply (read_w, 401, "forbidden");
  delete_w = lk_test_send (f->session, "DELETE", w_only, NULL, NULL, "Mailbox-Device-Claim", f->initiator, NULL);
  g_assert_cmpuint (delete_w->status, ==, 200);

  delete_rd = lk_test_send (f->session, "DELETE", rd, NULL, NULL, "Mailbox-Device-Claim", f->recipient, NULL);
  g_assert_cmpuint (delete_rd->status, ==, 200);
}

static void
test_versions (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_RWD_BODY, NULL);
  g_autoptr(LkTestReply) bind = read_as (f, url, f->recipient);
  const char *etag = soup_message_headers_get_one (bind->headers, "ETag");
  g_autoptr(LkTestReply) reply = NULL;
  g_autoptr(LkTestReply) stale = NULL;
  g_autoptr(LkTestReply) bad_tag = NULL;
  g_autoptr(LkTestReply) not_modified = NULL;
  g_autoptr(LkTestReply) modified = NULL;

  g_assert_nonnull (etag);

  /* The recipient answers the version it read: accepted. */
  reply = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                        "Mailbox-Device-Claim", f->recipient, "If-Match", etag, NULL);
  g_assert_cmpuint (reply->status, ==, 200);

  /* The initiator writes against the version it saw before: refused, not overwritten. */
  stale = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                        "Mailbox-Device-Claim", f->initiator, "If-Match", etag, NULL);
  assert_error_reply (stale, 412, "version_mismatch");
  g_assert_cmpstr (soup_message_headers_get_one (stale->headers, "ETag"), ==,
                   soup_message_headers_get_one (reply->headers, "ETag"));

  bad_tag = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                          "Mailbox-Device-Claim", f->initiator, "If-Match", "whatever", NULL);
  assert_error_reply (bad_tag, 400, NULL);

  not_modified = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->initiator,
                               "If-None-Match", soup_message_headers_get_one (reply->headers, "ETag"), NULL);
  g_assert_cmpuint (not_modified->status, ==, 304);
  modified = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->initiator,
                           "If-None-Match", etag, NULL);
  g_assert_cmpuint (modified->status, ==, 200);
}

typedef struct
{
  Fixture *f;
  char    *url;
  char    *etag;
  guint    wait;
  LkTestReply   *reply;
  gint64   returned;   /* monotonic µs */
} Waiter;

static gpointer
wait_thread (gpointer data)
{
  Waiter *w = data;
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *prefer = g_strdup_printf ("wait=%u", w->wait);

  w->reply = lk_test_send (session, "POST", w->url, NULL, NULL, "Mailbox-Device-Claim", w->f->initiator,
                           "If-None-Match", w->etag, "Prefer", prefer, NULL);
  w->returned = g_get_monotonic_time ();
  return NULL;
}

static guint
metric (Fixture    *f,
        const char *name)
{
  g_autofree char *url = url_for (f, "/metrics");
  g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", url, NULL, NULL, NULL);
  g_autofree char *needle = g_strconcat ("\n", name, " ", NULL);
  const char *line = strstr (reply->body, needle);

  g_assert_nonnull (line);
  return atoi (line + strlen (needle));
}

/* A counter summed over the instances: with a shared store, whichever
 * instance's sweep comes first does the work. */
static int
metric_all (Fixture    *f,
            const char *name)
{
  int total = metric (f, name);

  if (f->other != NULL)
    {
      g_autofree char *url = g_strconcat (f->other->url, "/metrics", NULL);
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", url, NULL, NULL, NULL);
      g_autofree char *needle = g_strconcat ("\n", name, " ", NULL);
      const char *line = strstr (reply->body, needle);

      g_assert_nonnull (line);
      total += atoi (line + strlen (needle));
    }
  return total;
}

static void
test_waiting_read (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_RWD_BODY, NULL);
  g_autoptr(LkTestReply) first = read_as (f, url, f->initiator);
  g_autoptr(LkTestReply) bind = NULL;
  g_autoptr(LkTestReply) update = NULL;
  Waiter w = { f, url, NULL, 30, NULL, 0 };
  GThread *thread;
  gint64 written;
  g_autoptr(JsonObject) object = NULL;

  w.etag = g_strdup (soup_message_headers_get_one (first->headers, "ETag"));
  bind = read_as (f, url, f->recipient);    /* binding changes the version */
  g_free (w.etag);
  w.etag = g_strdup (soup_message_headers_get_one (bind->headers, "ETag"));

  thread = g_thread_new ("waiter", wait_thread, &w);

  /* The write goes in once the read is parked: the relay's own gauge says so. */
  while (metric (f, "latchkey_relay_waiters") < 1)
    g_thread_yield ();

  update = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                         "Mailbox-Device-Claim", f->recipient, NULL);
  written = g_get_monotonic_time ();
  g_assert_cmpuint (update->status, ==, 200);

  g_thread_join (thread);
  g_assert_cmpuint (w.reply->status, ==, 200);
  object = lk_test_reply_json (w.reply);
  g_assert_nonnull (strstr (w.reply->body, "cmVwbHly"));

  /* The waiting side learns of the write within 50 ms of its acknowledgement
   * (usually the wake-up precedes it). */
  g_test_message ("waiting read returned %" G_GINT64_FORMAT " µs after the write was acknowledged",
                  w.returned - written);
  g_assert_cmpint (w.returned - written, <, 50 * 1000);

  g_free (w.etag);
  lk_test_reply_free (w.reply);
}

static void
test_waiting_read_timeout (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autoptr(LkTestReply) first = read_as (f, url, f->initiator);
  Waiter w = { f, url, NULL, 1, NULL, 0 };
  gint64 started = g_get_monotonic_time ();

  w.etag = g_strdup (soup_message_headers_get_one (first->headers, "ETag"));
  wait_thread (&w);

  /* Nothing changed: "no change" after the requested second. */
  g_assert_cmpuint (w.reply->status, ==, 304);
  g_assert_cmpint (w.returned - started, >=, G_USEC_PER_SEC);
  g_assert_cmpstr (soup_message_headers_get_one (w.reply->headers, "ETag"), ==, w.etag);

  g_free (w.etag);
  lk_test_reply_free (w.reply);
}

static void
test_waiting_read_delete (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autoptr(LkTestReply) first = read_as (f, url, f->initiator);
  g_autoptr(LkTestReply) del = NULL;
  Waiter w = { f, url, NULL, 30, NULL, 0 };
  GThread *thread;

  w.etag = g_strdup (soup_message_headers_get_one (first->headers, "ETag"));
  thread = g_thread_new ("waiter", wait_thread, &w);
  while (metric (f, "latchkey_relay_waiters") < 1)
    g_thread_yield ();

  del = lk_test_send (f->session, "DELETE", url, NULL, NULL, "Mailbox-Device-Claim", f->initiator, NULL);
  g_assert_cmpuint (del->status, ==, 200);
  g_thread_join (thread);
  /* The waiter learns at once that the mailbox is gone. */
  assert_error_reply (w.reply, 404, "not_found");

  g_free (w.etag);
  lk_test_reply_free (w.reply);
}

static const char * const waiter_limit_args[] = { "--rate", "0", "--max-waiters", "1", NULL };

static void
test_waiter_limit (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autoptr(LkTestReply) first = read_as (f, url, f->initiator);
  g_autoptr(LkTestReply) refused = NULL;
  g_autoptr(LkTestReply) del = NULL;
  Waiter w = { f, url, NULL, 30, NULL, 0 };
  GThread *thread;

  w.etag = g_strdup (soup_message_headers_get_one (first->headers, "ETag"));
  thread = g_thread_new ("waiter", wait_thread, &w);
  while (metric (f, "latchkey_relay_waiters") < 1)
    g_thread_yield ();

  refused = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->initiator,
                          "If-None-Match", w.etag, "Prefer", "wait=30", NULL);
  assert_error_reply (refused, 503, "too_many_waiters");
  g_assert_nonnull (soup_message_headers_get_one (refused->headers, "Retry-After"));

  del = lk_test_send (f->session, "DELETE", url, NULL, NULL, "Mailbox-Device-Claim", f->initiator, NULL);
  g_thread_join (thread);
  g_free (w.etag);
  lk_test_reply_free (w.reply);
}

/* Long enough that a loaded machine (ASan, parallel tests) still reads the
 * mailbox before it expires: with 1 s the first read was once 404. */
#define EXPIRY_SECONDS 5
static const char * const expiry_args[] = { "--rate", "0", "--default-expiration", "5s",
                                            "--max-expiration", "5s", "--sweep-interval", "1s", NULL };

static void
test_expiry (Fixture       *f,
             gconstpointer  data)
{
  gint64 created = g_get_real_time ();
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autoptr(LkTestReply) before = read_as (f, url, f->recipient);
  g_autoptr(GDateTime) today = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) far = g_date_time_add_days (today, 30);
  g_autofree char *far_text = g_date_time_format (far, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *long_body = g_strdup_printf ("{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"%s\"},"
                                                "\"displayInformation\":{\"title\":\"t\"},"
                                                "\"mailboxConfiguration\":{\"expiration\":\"%s\"}}",
                                                PAYLOAD_DATA, far_text);
  g_autofree char *clamped = create (f, long_body, NULL);
  g_autoptr(LkTestReply) clamped_read = read_as (f, clamped, f->recipient);
  g_autoptr(JsonObject) object = lk_test_reply_json (clamped_read);
  g_autoptr(GDateTime) expiration = g_date_time_new_from_iso8601 (json_object_get_string_member (object, "expiration"), NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(LkTestReply) after = NULL;
  g_autoptr(LkTestReply) page = NULL;
  gint64 deadline;

  g_assert_cmpuint (before->status, ==, 200);
  /* Thirty days asked, the configured maximum given. */
  g_assert_cmpint (g_date_time_difference (expiration, now), <=, EXPIRY_SECONDS * G_TIME_SPAN_SECOND);

  /* Expiry is a matter of the clock: wait for the first one's to pass. */
  deadline = created + EXPIRY_SECONDS * G_TIME_SPAN_SECOND + 100 * 1000;
  while (g_get_real_time () < deadline)
    g_usleep (deadline - g_get_real_time ());

  after = read_as (f, url, f->recipient);
  assert_error_reply (after, 404, "not_found");
  page = lk_test_send (f->session, "GET", url, NULL, NULL, NULL);
  g_assert_cmpuint (page->status, ==, 404);

  /* The sweep purges them; the metric counts it. */
  while (metric_all (f, "latchkey_relay_purged_total") < 2)
    g_usleep (50 * 1000);
  g_assert_cmpuint (metric (f, "latchkey_relay_mailboxes"), ==, 0);
}

static void
test_malformed (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *create_url = url_for (f, "/v1/m");
  g_autofree char *url = create (f, CREATE_RWD_BODY, NULL);
  g_autofree char *huge_data = g_strnfill (70 * 1024, 'A');
  g_autofree char *huge = g_strdup_printf ("{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"%s\"},"
                                           "\"displayInformation\":{\"title\":\"t\"}}", huge_data);
  g_autofree char *past = g_strdup_printf ("{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"%s\"},"
                                           "\"displayInformation\":{\"title\":\"t\"},"
                                           "\"mailboxConfiguration\":{\"expiration\":\"2020-01-01T00:00:00Z\"}}",
                                           PAYLOAD_DATA);
  static const struct {
    const char *body;
    guint status;
  } bad_bodies[] = {
    { "", 400 },
    { "not json", 400 },
    { "[]", 400 },
    { "{\"displayInformation\":{\"title\":\"t\"}}", 400 },                        /* no payload */
    { "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"}}", 400 }, /* no display */
    { "{\"payload\":\"x\",\"displayInformation\":{\"title\":\"t\"}}", 400 },
    { "{\"payload\":{\"type\":5,\"data\":\"" PAYLOAD_DATA "\"},\"displayInformation\":{\"title\":\"t\"}}", 400 },
    { "{\"payload\":{\"type\":\"ROT13\",\"data\":\"" PAYLOAD_DATA "\"},\"displayInformation\":{\"title\":\"t\"}}", 400 },
    { "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"not base64!\"},\"displayInformation\":{\"title\":\"t\"}}", 400 },
    { "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},\"displayInformation\":{\"title\":[]}}", 400 },
    { "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},\"displayInformation\":{\"title\":\"t\","
      "\"imageURL\":\"javascript:alert(1)\"}}", 400 },
    { "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},\"displayInformation\":{\"title\":\"t\"},"
      "\"mailboxConfiguration\":{\"accessRights\":\"RX\"}}", 400 },
    { "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},\"displayInformation\":{\"title\":\"t\"},"
      "\"mailboxConfiguration\":{\"expiration\":\"tomorrow\"}}", 400 },
    { "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},\"displayInformation\":{\"title\":\"t\"},"
      "\"notificationToken\":{\"type\":\"com.example\"}}", 400 },
  };
  g_autoptr(GString) deep = g_string_new ("{\"payload\":");

  for (guint i = 0; i < G_N_ELEMENTS (bad_bodies); i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", bad_bodies[i].body,
                                             "Mailbox-Device-Claim", f->initiator, NULL);

      assert_error_reply (reply, bad_bodies[i].status, "bad_request");
    }

  for (guint i = 0; i < 10000; i++)
    g_string_append_c (deep, '[');
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", deep->str,
                                           "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", past,
                                           "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    /* With Expect: 100-continue the client learns it without sending the
     * body; without it, the relay answers and closes (see raw-requests). */
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", huge,
                                           "Mailbox-Device-Claim", f->initiator, "Expect", "100-continue", NULL);
    assert_error_reply (reply, 413, "too_large");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "text/plain", CREATE_BODY,
                                           "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 415, "unsupported_media_type");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, NULL, NULL,
                                           "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 415, "unsupported_media_type");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY, NULL);
    assert_error_reply (reply, 401, "bad_claim");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                                           "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", "1234", NULL);
    assert_error_reply (reply, 400, "bad_request_id");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "PUT", url, "application/json", "{\"payload\":{}}",
                                           "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autofree char *bad_id = url_for (f, "/v1/m/not-a-uuid");
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", bad_id, NULL, NULL,
                                           "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 404, "not_found");
  }
  {
    g_autofree char *path = url_for (f, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e/extra");
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", path, NULL, NULL, NULL);
    assert_error_reply (reply, 404, "not_found");
  }
  {
    g_autofree char *path = url_for (f, "/elsewhere");
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", path, NULL, NULL, NULL);
    assert_error_reply (reply, 404, "not_found");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", create_url, NULL, NULL, NULL);
    assert_error_reply (reply, 405, "method_not_allowed");
    g_assert_cmpstr (soup_message_headers_get_one (reply->headers, "Allow"), ==, "POST");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "OPTIONS", url, NULL, NULL, NULL);
    assert_error_reply (reply, 405, "method_not_allowed");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                                           "Mailbox-Device-Claim", f->stranger, NULL);
    assert_error_reply (reply, 401, "unauthorized");
  }
  {
    g_autofree char *missing = url_for (f, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e");
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "PUT", missing, "application/json", UPDATE_BODY,
                                           "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 404, "not_found");
  }

  /* Still serving after all that. */
  {
    g_autofree char *health = url_for (f, "/healthz");
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", health, NULL, NULL, NULL);
    g_assert_cmpuint (reply->status, ==, 200);
  }
}

/* Raw sockets, for what an HTTP client library will not send. */
static GSocketConnection *
connect_raw (Fixture *f)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", f->relay->port, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static char *
exchange_raw (Fixture    *f,
              const char *request)
{
  g_autoptr(GSocketConnection) connection = connect_raw (f);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr(GError) error = NULL;
  char buffer[4096];
  gssize n;

  g_output_stream_write_all (out, request, strlen (request), NULL, NULL, &error);
  g_assert_no_error (error);
  n = g_input_stream_read (in, buffer, sizeof buffer - 1, NULL, &error);
  g_assert_no_error (error);
  buffer[MAX (n, 0)] = '\0';
  return g_strdup (buffer);
}

/* Only RFC 8259 comes in (one strict parser, PROTOCOL.md §6.2): nothing the
 * wallet would refuse can be stored and served to it. */
static const char * const big_body_args[] = { "--rate", "0", "--max-body-bytes", "1048576", NULL };

static void
test_strict_json (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *create_url = url_for (f, "/v1/m");
  g_autofree char *url = create (f, CREATE_RWD_BODY, NULL);
  static const char * const bad_titles[] = {
    "\"a\\udfffb\"",          /* a lone surrogate */
    "\"a\\ud800\"",
    "\"x\\u0000y\"",          /* NUL */
    "\"\xed\xa0\x80\"",       /* a surrogate in UTF-8 */
    "\"\xff\"",
    "\"t\" /* a comment */",
    "'single quotes'",
  };
  g_autoptr(GString) bypass = g_string_new ("{\"payload\":/*\"*/");

  for (guint i = 0; i < G_N_ELEMENTS (bad_titles); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
                                               "\"displayInformation\":{\"title\":%s}}", bad_titles[i]);
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", body,
                                                   "Mailbox-Device-Claim", f->initiator, NULL);

      assert_error_reply (reply, 400, "bad_request");
    }

  /* The same in an update, and a member given twice. */
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "PUT", url, "application/json",
                                                 "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"a\\udfff\"}}",
                                                 "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "PUT", url, "application/json",
                                                 "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
                                                 "\"payload\":{}}",
                                                 "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }

  /* A comment hid a quote from the old depth guard, and json-glib then
   * recursed once per bracket: one unauthenticated POST took the relay down. */
  for (guint i = 0; i < 250000; i++)
    g_string_append_c (bypass, '[');
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", bypass->str,
                                                 "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }

  /* Still serving. */
  {
    g_autofree char *again = create (f, CREATE_RWD_BODY, NULL);
    g_assert_nonnull (again);
  }
}

static const char * const short_timeout_args[] = { "--rate", "0", "--connection-timeout", "1", NULL };

static void
test_raw_requests (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *chunked = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *garbage = NULL;
  g_autofree char *health_url = url_for (f, "/healthz");
  g_autoptr(GSocketConnection) slow = NULL;
  g_autoptr(GSocketConnection) half = NULL;
  g_autoptr(GError) error = NULL;
  char byte;
  gssize n;

  /* A chunked body that is not JSON is read (within the limit) and refused
   * like any other; draft/chunked has the rest. */
  chunked = exchange_raw (f, "POST /v1/m HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Transfer-Encoding: chunked\r\nMailbox-Device-Claim: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n"
                             "\r\n5\r\nhello\r\n0\r\n\r\n");
  g_assert_true (g_str_has_prefix (chunked, "HTTP/1.1 400"));

  /* So is a declared oversized body, without reading it or saying 100 Continue. */
  expect = exchange_raw (f, "POST /v1/m HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: 200000\r\nExpect: 100-continue\r\n"
                            "Mailbox-Device-Claim: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n\r\n");
  g_assert_true (g_str_has_prefix (expect, "HTTP/1.1 413"));

  garbage = exchange_raw (f, "THIS IS NOT HTTP\r\n\r\n");
  g_assert_true (g_str_has_prefix (garbage, "HTTP/1.1 4") || garbage[0] == '\0');

  /* A client that stops halfway, in the headers or in the body, is cut off
   * after the idle timeout while everyone else is served. */
  slow = connect_raw (f);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (slow)),
                             "GET /healthz HTTP/1.1\r\nHost: x\r\n", 32, NULL, NULL, &error);
  g_assert_no_error (error);
  half = connect_raw (f);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (half)),
                             "PUT /v1/m/0f8fad5b-d9cb-469f-a165-70867728950e HTTP/1.1\r\nHost: x\r\n"
                             "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"pay", 123, NULL, NULL, &error);
  g_assert_no_error (error);

  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", health_url, NULL, NULL, NULL);
    g_assert_cmpuint (reply->status, ==, 200);
  }

  /* Reading blocks until the relay closes the connection: an event, which
   * comes after the one-second idle timeout. */
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (slow)), &byte, 1, NULL, &error);
  g_assert_cmpint (n, <=, 0);
  g_clear_error (&error);
  n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (half)), &byte, 1, NULL, &error);
  g_assert_cmpint (n, <=, 0);
  g_clear_error (&error);

  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", health_url, NULL, NULL, NULL);
    g_assert_cmpuint (reply->status, ==, 200);
  }
}

static const char * const rate_args[] = { "--rate", "1", "--burst", "3", "--max-mailboxes-per-client", "2", NULL };

static void
test_rate_limits (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *create_url = url_for (f, "/v1/m");
  g_autoptr(LkTestReply) first = NULL;
  g_autoptr(LkTestReply) second = NULL;
  g_autoptr(LkTestReply) third = NULL;
  g_autoptr(LkTestReply) limited = NULL;
  g_autoptr(LkTestReply) health = NULL;
  g_autofree char *health_url = url_for (f, "/healthz");
  const char *retry_after;

  first = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                        "Mailbox-Device-Claim", f->initiator, NULL);
  second = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                         "Mailbox-Device-Claim", f->initiator, NULL);
  third = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                        "Mailbox-Device-Claim", f->initiator, NULL);
  g_assert_cmpuint (first->status, ==, 200);
  g_assert_cmpuint (second->status, ==, 200);
  /* Two live mailboxes per address. */
  assert_error_reply (third, 429, "too_many_mailboxes");
  g_assert_nonnull (soup_message_headers_get_one (third->headers, "Retry-After"));

  /* Three requests at once, then one a second: the fourth is too soon. */
  limited = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                          "Mailbox-Device-Claim", f->initiator, NULL);
  assert_error_reply (limited, 429, "rate_limited");
  retry_after = soup_message_headers_get_one (limited->headers, "Retry-After");
  g_assert_nonnull (retry_after);
  g_assert_cmpint (atoi (retry_after), >=, 1);

  /* Health checks are not rate limited. */
  health = lk_test_send (f->session, "GET", health_url, NULL, NULL, NULL);
  g_assert_cmpuint (health->status, ==, 200);
}

static void
test_metrics (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autofree char *metrics_url = url_for (f, "/metrics");
  g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", metrics_url, NULL, NULL, NULL);

  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (reply->headers, NULL), "text/plain"));
  g_assert_nonnull (strstr (reply->body, "# TYPE latchkey_relay_requests_total counter\n"));
  g_assert_nonnull (strstr (reply->body, "latchkey_relay_requests_total{operation=\"create\"} 1\n"));
  g_assert_nonnull (strstr (reply->body, "\nlatchkey_relay_mailboxes 1\n"));
  g_assert_null (strstr (reply->body, url + strlen (f->relay->url) + 6));

  /* The store's latency histogram counted the create, in a bucket and in
   * +Inf, and no error; the store is named. */
  g_assert_nonnull (strstr (reply->body, "# TYPE latchkey_relay_store_seconds histogram\n"));
  g_assert_nonnull (strstr (reply->body, "latchkey_relay_store_seconds_count{op=\"create\"} 1\n"));
  g_assert_nonnull (strstr (reply->body, "latchkey_relay_store_seconds_bucket{op=\"create\",le=\"+Inf\"} 1\n"));
  g_assert_nonnull (strstr (reply->body, "latchkey_relay_store_seconds_bucket{op=\"lookup\",le=\"0.0001\"} "));
  g_assert_nonnull (strstr (reply->body, "latchkey_relay_store_seconds_bucket{op=\"read\",le=\"0.00025\"} "));
  g_assert_nonnull (strstr (reply->body, "latchkey_relay_store_seconds_count{op=\"delete\"} 0\n"));
  g_assert_nonnull (strstr (reply->body, "latchkey_relay_store_errors_total{op=\"create\"} 0\n"));
  {
    const char *sum = strstr (reply->body, "latchkey_relay_store_seconds_sum{op=\"create\"} ");

    g_assert_nonnull (sum);
    g_assert_cmpfloat (g_ascii_strtod (sum + strlen ("latchkey_relay_store_seconds_sum{op=\"create\"} "), NULL), >, 0);
  }
  if (redis_cluster != NULL)
    {
      g_assert_nonnull (strstr (reply->body, "latchkey_relay_store_up{store=\"redis\"} "));
      g_assert_nonnull (strstr (reply->body, "\nlatchkey_relay_redis_redirects_total "));
      g_assert_nonnull (strstr (reply->body, "\nlatchkey_relay_redis_reconnects_total "));
      g_assert_nonnull (strstr (reply->body, "\nlatchkey_relay_redis_not_replicated_total 0\n"));
    }
  else
    {
      g_assert_nonnull (strstr (reply->body, "latchkey_relay_store_up{store=\"sqlite\"} 1\n"));
      g_assert_nonnull (strstr (reply->body, "\nlatchkey_relay_sqlite_wal_pages "));
      g_assert_nonnull (strstr (reply->body, "\nlatchkey_relay_sqlite_checkpoint_waits_total "));
      g_assert_nonnull (strstr (reply->body, "\nlatchkey_relay_sqlite_checkpoint_wait_seconds_total "));
      g_assert_null (strstr (reply->body, "latchkey_relay_redis_"));
    }
}

/* GET /healthz until its status is @status and its body has @text, for
 * as long as a store's probe may take to see a change. */
static LkTestReply *
await_health (SoupSession  *session,
              LkTestServer *relay,
              guint         status,
              const char   *text)
{
  g_autofree char *url = g_strconcat (relay->url, "/healthz", NULL);
  gint64 deadline = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;

  for (;;)
    {
      LkTestReply *reply = lk_test_send (session, "GET", url, NULL, NULL, NULL);

      if (reply->status == status && strstr (reply->body, text) != NULL)
        return reply;
      if (g_get_monotonic_time () > deadline)
        {
          g_test_message ("/healthz is still %u: %s", reply->status, reply->body);
          g_assert_cmpuint (reply->status, ==, status);
          g_assert_nonnull (strstr (reply->body, text));
        }
      lk_test_reply_free (reply);
      /* Polling pace, not a synchronisation: the probe runs every second. */
      g_usleep (50 * 1000);
    }
}

static void
test_health (Fixture       *f,
             gconstpointer  data)
{
  const char *expected = redis_cluster != NULL ? "ok\nstore: redis, 3 primaries\n" : "ok\nstore: sqlite\n";
  g_autoptr(LkTestReply) reply = await_health (f->session, f->relay, 200, "ok\n");

  g_assert_cmpstr (reply->body, ==, expected);
  if (f->other != NULL)
    {
      g_autoptr(LkTestReply) other = await_health (f->session, f->other, 200, "ok\n");

      g_assert_cmpstr (other->body, ==, expected);
    }
}

static void
test_graceful_shutdown (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autoptr(LkTestReply) first = read_as (f, url, f->initiator);
  Waiter w = { f, url, NULL, 30, NULL, 0 };
  GThread *thread;
  int status;

  w.etag = g_strdup (soup_message_headers_get_one (first->headers, "ETag"));
  thread = g_thread_new ("waiter", wait_thread, &w);
  while (metric (f, "latchkey_relay_waiters") < 1)
    g_thread_yield ();

  /* SIGTERM answers the parked read and exits cleanly. */
  status = lk_test_server_terminate (f->relay);
  g_assert_cmpint (status, ==, 0);
  g_thread_join (thread);
  assert_error_reply (w.reply, 503, "shutting_down");

  /* And what was stored is there after a restart. */
  lk_test_server_start (f->relay);
  {
    g_autoptr(LkTestReply) again = read_as (f, url, f->initiator);
    g_assert_cmpuint (again->status, ==, 200);
  }

  g_free (w.etag);
  lk_test_reply_free (w.reply);
}

/* Durability: writes stream in from several threads, the relay is killed
 * with SIGKILL in the middle, and after a restart every mailbox whose
 * creation was acknowledged is there. */
typedef struct
{
  Fixture   *f;
  GMutex     lock;
  GPtrArray *acknowledged;
  gint       stop;
} Stream;

static gpointer
stream_thread (gpointer data)
{
  Stream *s = data;
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 5, NULL);
  g_autofree char *url = url_for (s->f, "/v1/m");

  while (!g_atomic_int_get (&s->stop))
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr(GBytes) body = g_bytes_new_static (CREATE_BODY, strlen (CREATE_BODY));
      g_autoptr(GBytes) response = NULL;
      g_autoptr(JsonObject) object = NULL;

      soup_message_set_request_body_from_bytes (msg, "application/json", body);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Mailbox-Device-Claim", s->f->initiator);
      response = soup_session_send_and_read (session, msg, NULL, NULL);
      if (response == NULL || soup_message_get_status (msg) != 200)
        break;   /* the relay is gone */

      object = lk_json_parse_object (g_bytes_get_data (response, NULL), g_bytes_get_size (response), G_MAXSIZE,
                                     G_IO_ERROR, G_IO_ERROR_FAILED, NULL);
      g_mutex_lock (&s->lock);
      g_ptr_array_add (s->acknowledged, g_strdup (json_object_get_string_member (object, "urlLink")));
      g_mutex_unlock (&s->lock);
    }

  return NULL;
}

static const char * const durability_args[] = { "--rate", "0", "--max-mailboxes-per-client", "0", NULL };

static void
test_kill_durability (Fixture       *f,
                      gconstpointer  data)
{
  Stream s = { f, { 0 }, g_ptr_array_new_with_free_func (g_free), 0 };
  GThread *threads[4];
  guint missing = 0, acknowledged;

  g_mutex_init (&s.lock);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("stream", stream_thread, &s);

  /* Kill once a good number of writes are acknowledged and more are in flight. */
  for (;;)
    {
      g_mutex_lock (&s.lock);
      acknowledged = s.acknowledged->len;
      g_mutex_unlock (&s.lock);
      if (acknowledged >= 300)
        break;
      g_thread_yield ();
    }
  lk_test_server_kill (f->relay);
  g_atomic_int_set (&s.stop, 1);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  lk_test_server_start (f->relay);
  for (guint i = 0; i < s.acknowledged->len; i++)
    {
      const char *link = g_ptr_array_index (s.acknowledged, i);
      g_autofree char *url = g_strconcat (f->relay->url, strstr (link, "/v1/m/"), NULL);
      g_autoptr(LkTestReply) reply = read_as (f, url, f->initiator);

      if (reply->status != 200)
        missing++;
    }

  g_test_message ("%u acknowledged creates before SIGKILL, %u missing after restart", s.acknowledged->len, missing);
  g_assert_cmpuint (missing, ==, 0);

  g_ptr_array_unref (s.acknowledged);
  g_mutex_clear (&s.lock);
}

static void
test_tls (void)
{
  const char *cert = g_getenv ("LATCHKEY_TEST_CERT");
  const char *key = g_getenv ("LATCHKEY_TEST_KEY");
  const char * const args[] = { "--rate", "0", "--tls-certificate", cert, "--tls-key", key, NULL };
  g_autoptr(LkTestServer) relay = NULL;
  g_autoptr(SoupSession) trusting = new_session ();
  g_autoptr(SoupSession) plain = new_session ();
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *health = NULL;
  g_autofree char *create_url = NULL;
  g_autofree char *claim = lk_uuid_new_random ();
  g_autoptr(LkTestReply) ok = NULL;
  g_autoptr(LkTestReply) created = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GBytes) body = NULL;

  g_assert_nonnull (cert);
  relay = lk_test_server_new ("LATCHKEY_RELAY", args);
  lk_test_server_start (relay);
  g_assert_true (g_str_has_prefix (relay->url, "https://"));

  /* A client that trusts the relay's certificate file is served... */
  database = g_tls_file_database_new (cert, &error);
  g_assert_no_error (error);
  soup_session_set_tls_database (trusting, database);
  health = g_strconcat (relay->url, "/healthz", NULL);
  ok = lk_test_send (trusting, "GET", health, NULL, NULL, NULL);
  g_assert_cmpuint (ok->status, ==, 200);

  create_url = g_strconcat (relay->url, "/v1/m", NULL);
  created = lk_test_send (trusting, "POST", create_url, "application/json", CREATE_BODY,
                          "Mailbox-Device-Claim", claim, NULL);
  g_assert_cmpuint (created->status, ==, 200);
  g_assert_nonnull (strstr (created->body, "\"urlLink\":\"https://"));

  /* ...and one that does not is refused by its own verification. */
  msg = soup_message_new ("GET", health);
  body = soup_session_send_and_read (plain, msg, NULL, &error);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
}

static void
test_forwarded_for (void)
{
  const char * const args[] = { "--rate", "1", "--burst", "1", "--trust-forwarded-for", NULL };
  const char * const direct_args[] = { "--rate", "1", "--burst", "1", NULL };
  g_autoptr(LkTestServer) relay = lk_test_server_new ("LATCHKEY_RELAY", args);
  g_autoptr(LkTestServer) direct = lk_test_server_new ("LATCHKEY_RELAY", direct_args);
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *url = NULL;
  g_autofree char *direct_url = NULL;
  const char *missing = "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e";

  lk_test_server_start (relay);
  lk_test_server_start (direct);
  url = g_strconcat (relay->url, missing, NULL);
  direct_url = g_strconcat (direct->url, missing, NULL);

  /* Behind a proxy each forwarded address has its own bucket... */
  {
    g_autoptr(LkTestReply) a = lk_test_send (session, "GET", url, NULL, NULL, "X-Forwarded-For", "198.51.100.7", NULL);
    g_autoptr(LkTestReply) a2 = lk_test_send (session, "GET", url, NULL, NULL, "X-Forwarded-For", "198.51.100.7", NULL);
    g_autoptr(LkTestReply) b = lk_test_send (session, "GET", url, NULL, NULL,
                                       "X-Forwarded-For", "203.0.113.1, 198.51.100.8", NULL);

    g_assert_cmpuint (a->status, ==, 404);
    g_assert_cmpuint (a2->status, ==, 429);
    g_assert_cmpuint (b->status, ==, 404);
  }

  /* ...and without the option, the header is ignored: a client cannot dodge
   * its limit by inventing addresses. */
  {
    g_autoptr(LkTestReply) a = lk_test_send (session, "GET", direct_url, NULL, NULL, "X-Forwarded-For", "198.51.100.7", NULL);
    g_autoptr(LkTestReply) b = lk_test_send (session, "GET", direct_url, NULL, NULL, "X-Forwarded-For", "198.51.100.8", NULL);

    g_assert_cmpuint (a->status, ==, 404);
    g_assert_cmpuint (b->status, ==, 429);
  }
}

/* Issue 13: the relay, point by point with the draft (PROTOCOL.md §6.8). */

/* Push: the relay sends none, so it must not say it does. */
static void
test_draft_no_push (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_RWD_BODY, NULL);    /* create() checks the create's answer */
  g_autoptr(LkTestReply) update = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                                                "Mailbox-Device-Claim", f->initiator, NULL);
  g_autoptr(JsonObject) object = NULL;

  lk_test_assert_status (update, 200);
  object = lk_test_reply_json (update);
  g_assert_true (json_object_has_member (object, "isPushNotificationSupported"));
  g_assert_false (json_object_get_boolean_member (object, "isPushNotificationSupported"));
}

/* A duplicate Mailbox-Request-ID answers 201 whatever the duplicate's body:
 * the lookup comes before parsing. */
static void
test_draft_retry_ignores_body (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *create_url = url_for (f, "/v1/m");
  g_autofree char *rid = lk_uuid_new_random ();
  g_autofree char *url = create (f, CREATE_RWD_BODY, rid);
  g_autofree char *update_rid = lk_uuid_new_random ();
  g_autofree char *delete_rid = lk_uuid_new_random ();
  g_autofree char *relinquish_rid = lk_uuid_new_random ();
  g_autofree char *fresh_rid = lk_uuid_new_random ();
  static const char * const bodies[] = { NULL, "", "not json", "{\"payload\":{}}" };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url,
                                                   i % 2 ? "application/json" : "text/plain", bodies[i],
                                                   "Mailbox-Device-Claim", f->initiator,
                                                   "Mailbox-Request-ID", rid, NULL);
      g_autoptr(JsonObject) object = NULL;

      g_test_message ("create retried with body %s", bodies[i] ? bodies[i] : "(none)");
      lk_test_assert_status (reply, 201);
      object = lk_test_reply_json (reply);
      g_assert_cmpstr (json_object_get_string_member (object, "urlLink"), ==, url);
    }

  /* A new id with a bad body is refused as before. */
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", "not json",
                                                 "Mailbox-Device-Claim", f->initiator,
                                                 "Mailbox-Request-ID", fresh_rid, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, NULL, NULL,
                                                 "Mailbox-Device-Claim", f->initiator,
                                                 "Mailbox-Request-ID", fresh_rid, NULL);
    assert_error_reply (reply, 415, "unsupported_media_type");
  }

  /* Update. */
  {
    g_autoptr(LkTestReply) first = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                                                 "Mailbox-Device-Claim", f->initiator,
                                                 "Mailbox-Request-ID", update_rid, NULL);
    lk_test_assert_status (first, 200);
    for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
      {
        g_autoptr(LkTestReply) reply = lk_test_send (f->session, "PUT", url,
                                                     i % 2 ? "application/json" : "text/plain", bodies[i],
                                                     "Mailbox-Device-Claim", f->initiator,
                                                     "Mailbox-Request-ID", update_rid, NULL);
        lk_test_assert_status (reply, 201);
        g_assert_cmpstr (soup_message_headers_get_one (reply->headers, "ETag"), ==,
                         soup_message_headers_get_one (first->headers, "ETag"));
      }
  }
  {
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "PUT", url, "application/json", "{\"payload\":{}}",
                                                 "Mailbox-Device-Claim", f->initiator,
                                                 "Mailbox-Request-ID", fresh_rid, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
  /* The payload the first update stored is still there. */
  {
    g_autoptr(LkTestReply) reply = read_as (f, url, f->recipient);
    lk_test_assert_status (reply, 200);
    g_assert_nonnull (strstr (reply->body, "cmVwbHlyZXBseXJl"));
  }

  /* Relinquish and delete ignore a body too. */
  {
    g_autoptr(LkTestReply) first = lk_test_send (f->session, "PATCH", url, NULL, NULL,
                                                 "Mailbox-Device-Claim", f->recipient,
                                                 "Mailbox-Request-ID", relinquish_rid, NULL);
    g_autoptr(LkTestReply) again = lk_test_send (f->session, "PATCH", url, "application/json", "{nope",
                                                 "Mailbox-Device-Claim", f->recipient,
                                                 "Mailbox-Request-ID", relinquish_rid, NULL);
    lk_test_assert_status (first, 200);
    lk_test_assert_status (again, 201);
  }
  {
    g_autoptr(LkTestReply) first = lk_test_send (f->session, "DELETE", url, NULL, NULL,
                                                 "Mailbox-Device-Claim", f->initiator,
                                                 "Mailbox-Request-ID", delete_rid, NULL);
    g_autoptr(LkTestReply) again = lk_test_send (f->session, "DELETE", url, "text/plain", "garbage",
                                                 "Mailbox-Device-Claim", f->initiator,
                                                 "Mailbox-Request-ID", delete_rid, NULL);
    lk_test_assert_status (first, 200);
    lk_test_assert_status (again, 201);
  }
}

/* HEAD on the display URL answers like GET without the body (RFC 9110). */
static void
test_draft_head (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autofree char *missing = url_for (f, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e");
  g_autoptr(LkTestReply) get = lk_test_send (f->session, "GET", url, NULL, NULL, NULL);
  g_autoptr(LkTestReply) head = lk_test_send (f->session, "HEAD", url, NULL, NULL, NULL);
  g_autoptr(LkTestReply) gone = lk_test_send (f->session, "HEAD", missing, NULL, NULL, NULL);
  g_autoptr(LkTestReply) options = lk_test_send (f->session, "OPTIONS", url, NULL, NULL, NULL);

  lk_test_assert_status (get, 200);
  lk_test_assert_status (head, 200);
  g_assert_true (head->body == NULL || head->body[0] == '\0');
  g_assert_cmpstr (soup_message_headers_get_one (head->headers, "Content-Type"), ==,
                   soup_message_headers_get_one (get->headers, "Content-Type"));
  g_assert_cmpstr (soup_message_headers_get_one (head->headers, "Content-Security-Policy"), ==,
                   soup_message_headers_get_one (get->headers, "Content-Security-Policy"));
  g_assert_cmpint (soup_message_headers_get_content_length (head->headers), ==, strlen (get->body));
  lk_test_assert_status (gone, 404);
  g_assert_true (gone->body == NULL || gone->body[0] == '\0');
  lk_test_assert_status (options, 405);
  g_assert_nonnull (strstr (soup_message_headers_get_one (options->headers, "Allow"), "HEAD"));
}

/* A chunked body (RFC 9112) is accepted within the same size limit. */
static void
test_draft_chunked (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GString) request = g_string_new ("POST /v1/m HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                             "Transfer-Encoding: chunked\r\nConnection: close\r\n");
  g_autoptr(GString) large = NULL;
  g_autoptr(LkTestReply) reply = NULL;
  g_autoptr(LkTestReply) too_large = NULL;
  g_autoptr(JsonObject) object = NULL;
  const char *body = CREATE_BODY;
  gsize half = strlen (body) / 2;

  g_string_append_printf (request, "Mailbox-Device-Claim: %s\r\n\r\n", f->initiator);
  large = g_string_new (request->str);
  /* The body in two chunks. */
  g_string_append_printf (request, "%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n", half, (int) half, body,
                          strlen (body + half), body + half);
  reply = lk_test_raw_exchange (f->relay->port, NULL, request->str, request->len);
  lk_test_assert_status (reply, 200);
  object = lk_test_reply_json (reply);
  /* Named from the Host the raw request gave. */
  g_assert_true (g_str_has_prefix (json_object_get_string_member (object, "urlLink"), "http://x/v1/m/"));

  /* Past the 64 KiB limit, in 8 KiB chunks: 413 once it is in, and the relay
   * holds no more than the limit meanwhile. */
  for (guint i = 0; i < 9; i++)
    {
      g_string_append (large, "2000\r\n");
      for (guint j = 0; j < 8192; j++)
        g_string_append_c (large, ' ');
      g_string_append (large, "\r\n");
    }
  g_string_append (large, "0\r\n\r\n");
  too_large = lk_test_raw_exchange (f->relay->port, NULL, large->str, large->len);
  assert_error_reply (too_large, 413, "too_large");

  /* Still serving. */
  g_free (create (f, CREATE_BODY, NULL));
}

/* Times follow RFC 3339 fully: lower-case t and z, offsets, fractions. */
static void
test_draft_rfc3339 (Fixture       *f,
                    gconstpointer  data)
{
  static const char * const spellings[] = {
    "2030-01-02t03:04:05z",
    "2030-01-02T03:04:05z",
    "2030-01-02t03:04:05Z",
    "2030-01-02T05:04:05.250+02:00",
    "2030-01-02t03:04:05.5Z",
  };
  g_autofree char *create_url = url_for (f, "/v1/m");

  for (guint i = 0; i < G_N_ELEMENTS (spellings); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
                                               "\"displayInformation\":{\"title\":\"t\"},"
                                               "\"mailboxConfiguration\":{\"expiration\":\"%s\"}}", spellings[i]);
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", body,
                                                   "Mailbox-Device-Claim", f->initiator, NULL);
      g_autoptr(JsonObject) object = NULL;

      g_test_message ("expiration %s", spellings[i]);
      lk_test_assert_status (reply, 200);
      /* 2030 is past the 7-day maximum, so the grant shows the clamp, not the
       * spelling; the parse is what is tested. */
      object = lk_test_reply_json (reply);
      g_assert_nonnull (json_object_get_string_member (object, "expiration"));
    }

  /* Still refused: no zone, and not a time. */
  {
    g_autofree char *body = g_strdup_printf ("{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
                                             "\"displayInformation\":{\"title\":\"t\"},"
                                             "\"mailboxConfiguration\":{\"expiration\":\"2030-01-02t03:04:05\"}}");
    g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", body,
                                                 "Mailbox-Device-Claim", f->initiator, NULL);
    assert_error_reply (reply, 400, "bad_request");
  }
}

/* Only valid JSON is JSON: the draft's bodies with invalid escapes or data
 * after the value are 400, like comments and single quotes (strict-json). */
static void
test_draft_only_json (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *create_url = url_for (f, "/v1/m");
  static const char * const bad[] = {
    CREATE_BODY " {}",
    CREATE_BODY "x",
    CREATE_BODY ",",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
    "\"displayInformation\":{\"title\":\"a\\xb\"}}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
    "\"displayInformation\":{\"title\":\"a\\u12\"}}",
    "{'payload':{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
    "\"displayInformation\":{\"title\":\"t\"}}",
    "// comment\n" CREATE_BODY,
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\",},"
    "\"displayInformation\":{\"title\":\"t\"}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", bad[i],
                                                   "Mailbox-Device-Claim", f->initiator, NULL);

      g_test_message ("body %u", i);
      assert_error_reply (reply, 400, "bad_request");
    }
}

/* Issue 13: one invitation, several receivers (PROTOCOL.md §6.9). */
#define CREATE_SEVERAL_BODY(n) \
  "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"}," \
  "\"displayInformation\":{\"title\":\"Room 404\"}," \
  "\"mailboxConfiguration\":{\"maxRecipients\":" n "}}"

static void
assert_counts (Fixture    *f,
               const char *url,
               gint64      bound,
               gint64      done)
{
  g_autoptr(LkTestReply) reply = read_as (f, url, f->initiator);
  g_autoptr(JsonObject) object = NULL;

  g_assert_cmpuint (reply->status, ==, 200);
  object = lk_test_reply_json (reply);
  g_assert_cmpint (json_object_get_int_member (object, "maxRecipients"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (object, "recipientsBound"), ==, bound);
  g_assert_cmpint (json_object_get_int_member (object, "recipientsDone"), ==, done);
  g_assert_true (json_object_get_boolean_member (object, "recipientBound") == (bound > 0));
}

static void
test_several_recipients (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_SEVERAL_BODY ("3"), NULL);
  g_autofree char *one = create (f, CREATE_BODY, NULL);
  g_autofree char *second = lk_uuid_new_random ();
  g_autofree char *third = lk_uuid_new_random ();
  g_autoptr(LkTestReply) plain = read_as (f, one, f->initiator);

  /* A mailbox that did not ask answers as the draft does, without our counts. */
  g_assert_cmpuint (plain->status, ==, 200);
  g_assert_null (strstr (plain->body, "maxRecipients"));
  g_assert_null (strstr (plain->body, "recipientsBound"));

  assert_counts (f, url, 0, 0);

  /* Each of the first three devices binds its own claim; a fourth is refused. */
  {
    g_autoptr(LkTestReply) a = read_as (f, url, f->recipient);
    g_autoptr(LkTestReply) a_again = read_as (f, url, f->recipient);
    g_autoptr(LkTestReply) b = read_as (f, url, second);
    g_autoptr(LkTestReply) c = read_as (f, url, third);
    g_autoptr(LkTestReply) d = read_as (f, url, f->stranger);

    g_assert_cmpuint (a->status, ==, 200);
    g_assert_cmpuint (a_again->status, ==, 200);
    g_assert_cmpuint (b->status, ==, 200);
    g_assert_cmpuint (c->status, ==, 200);
    assert_error_reply (d, 401, "unauthorized");
  }
  assert_counts (f, url, 3, 0);

  /* A receiver's delete is its own acknowledgement: the others go on. */
  {
    g_autoptr(LkTestReply) del = lk_test_send (f->session, "DELETE", url, NULL, NULL,
                                               "Mailbox-Device-Claim", f->recipient, NULL);
    g_autoptr(LkTestReply) gone = read_as (f, url, f->recipient);
    g_autoptr(LkTestReply) again = lk_test_send (f->session, "DELETE", url, NULL, NULL,
                                                 "Mailbox-Device-Claim", f->recipient, NULL);
    g_autoptr(LkTestReply) b = read_as (f, url, second);
    g_autoptr(LkTestReply) d = read_as (f, url, f->stranger);

    g_assert_cmpuint (del->status, ==, 200);
    assert_error_reply (gone, 404, "not_found");
    assert_error_reply (again, 404, "not_found");
    g_assert_cmpuint (b->status, ==, 200);
    /* Its place is not given to another device. */
    assert_error_reply (d, 401, "unauthorized");
  }
  assert_counts (f, url, 3, 1);

  {
    g_autoptr(LkTestReply) b = lk_test_send (f->session, "DELETE", url, NULL, NULL,
                                             "Mailbox-Device-Claim", second, NULL);
    g_autoptr(LkTestReply) c = NULL;
    g_autoptr(LkTestReply) initiator = NULL;

    g_assert_cmpuint (b->status, ==, 200);
    assert_counts (f, url, 3, 2);
    /* The last one removes the mailbox, as one receiver's delete does today. */
    c = lk_test_send (f->session, "DELETE", url, NULL, NULL, "Mailbox-Device-Claim", third, NULL);
    g_assert_cmpuint (c->status, ==, 200);
    initiator = read_as (f, url, f->initiator);
    assert_error_reply (initiator, 404, "not_found");
  }
}

static void
test_several_recipients_bounds (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *create_url = url_for (f, "/v1/m");
  static const char * const bad[] = {
    CREATE_SEVERAL_BODY ("0"),
    CREATE_SEVERAL_BODY ("11"),
    CREATE_SEVERAL_BODY ("-1"),
    CREATE_SEVERAL_BODY ("2.5"),
    CREATE_SEVERAL_BODY ("\"3\""),
    CREATE_SEVERAL_BODY ("true"),
    CREATE_SEVERAL_BODY ("99999999999999999999"),
    /* Several receivers of a two-way mailbox (a car key is signed per device). */
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
    "\"displayInformation\":{\"title\":\"t\"},\"mailboxConfiguration\":{\"accessRights\":\"RWD\",\"maxRecipients\":2}}",
  };
  g_autofree char *ten = create (f, CREATE_SEVERAL_BODY ("10"), NULL);
  g_autofree char *one_rwd = create (f, "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" PAYLOAD_DATA "\"},"
                                        "\"displayInformation\":{\"title\":\"t\"},"
                                        "\"mailboxConfiguration\":{\"accessRights\":\"RWD\",\"maxRecipients\":1}}", NULL);

  g_assert_nonnull (ten);
  g_assert_nonnull (one_rwd);

  /* The create answer says how many may read; without asking, nothing. */
  {
    g_autoptr(LkTestReply) several = lk_test_send (f->session, "POST", create_url, "application/json",
                                                   CREATE_SEVERAL_BODY ("4"), "Mailbox-Device-Claim", f->initiator, NULL);
    g_autoptr(LkTestReply) one = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                                               "Mailbox-Device-Claim", f->initiator, NULL);
    g_autoptr(JsonObject) object = NULL;

    g_assert_cmpuint (several->status, ==, 200);
    object = lk_test_reply_json (several);
    g_assert_cmpint (json_object_get_int_member (object, "maxRecipients"), ==, 4);
    g_assert_cmpuint (one->status, ==, 200);
    g_assert_null (strstr (one->body, "maxRecipients"));
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(LkTestReply) reply = lk_test_send (f->session, "POST", create_url, "application/json", bad[i],
                                                   "Mailbox-Device-Claim", f->initiator, NULL);

      g_test_message ("body %u", i);
      assert_error_reply (reply, 400, "bad_request");
    }
}

/* A database from before several recipients (issue 13) is migrated: its
 * mailboxes keep their one recipient. */
static void
test_several_recipients_migration (void)
{
  static const char * const args[] = { "--rate", "0", NULL };
  g_autoptr(LkTestServer) relay = lk_test_server_new ("LATCHKEY_RELAY", args);
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *dir = g_build_filename (relay->data_dir, "db", NULL);
  g_autofree char *path = g_build_filename (dir, "relay.sqlite", NULL);
  g_autofree char *initiator = lk_uuid_new_random ();
  g_autofree char *recipient = lk_uuid_new_random ();
  g_autofree char *stranger = lk_uuid_new_random ();
  g_autofree char *insert = NULL;
  g_autofree char *url = NULL;
  sqlite3 *db = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  insert = g_strdup_printf ("CREATE TABLE mailbox (id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, "
                            "initiator_claim TEXT NOT NULL, recipient_claim TEXT, access INTEGER NOT NULL, "
                            "created INTEGER NOT NULL, expires INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, "
                            "payload_type TEXT, payload_data TEXT, title TEXT, description TEXT, image_url TEXT, "
                            "initiator_token TEXT, recipient_token TEXT, initiator_request_id TEXT, "
                            "recipient_request_id TEXT, relinquished_claim TEXT, size INTEGER NOT NULL DEFAULT 0, "
                            "creator BLOB);"
                            "INSERT INTO mailbox (id, version, initiator_claim, access, created, expires, payload_type, "
                            "payload_data, title, size) VALUES ('0f8fad5b-d9cb-469f-a165-70867728950e', 1, '%s', 5, "
                            "%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", 'AEAD_AES_256_GCM', '" PAYLOAD_DATA "', "
                            "'Room 404', 80);", initiator, now, now + 3600);
  g_assert_cmpint (sqlite3_exec (db, insert, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  lk_test_server_start (relay);
  url = g_strconcat (relay->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", NULL);
  {
    g_autoptr(LkTestReply) bind = lk_test_send (session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", recipient, NULL);
    g_autoptr(LkTestReply) second = lk_test_send (session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", stranger, NULL);
    g_autoptr(LkTestReply) sender = lk_test_send (session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", initiator, NULL);
    g_autofree char *create_url = g_strconcat (relay->url, "/v1/m", NULL);
    g_autoptr(LkTestReply) several = lk_test_send (session, "POST", create_url, "application/json",
                                                   CREATE_SEVERAL_BODY ("2"), "Mailbox-Device-Claim", initiator, NULL);

    g_assert_cmpuint (bind->status, ==, 200);
    assert_error_reply (second, 401, "unauthorized");
    g_assert_cmpuint (sender->status, ==, 200);
    g_assert_null (strstr (sender->body, "maxRecipients"));
    g_assert_cmpuint (several->status, ==, 200);
  }
}


/* Issue 14: the Redis store, two instances. */

typedef struct
{
  const char *url;
  GMutex      lock;
  GCond       cond;
  gboolean    go;
  guint       ok;
  guint       refused;
  guint       other;
  char       *winner;
} Race;

static gpointer
race_thread (gpointer data)
{
  Race *race = data;
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *claim = lk_uuid_new_random ();
  g_autoptr(LkTestReply) reply = NULL;

  g_mutex_lock (&race->lock);
  while (!race->go)
    g_cond_wait (&race->cond, &race->lock);
  g_mutex_unlock (&race->lock);

  reply = lk_test_send (session, "POST", race->url, NULL, NULL, "Mailbox-Device-Claim", claim, NULL);

  g_mutex_lock (&race->lock);
  if (reply->status == 200)
    {
      race->ok++;
      race->winner = g_strdup (claim);
    }
  else if (reply->status == 401)
    race->refused++;
  else
    {
      g_test_message ("a first read got %u: %s", reply->status, reply->body);
      race->other++;
    }
  g_mutex_unlock (&race->lock);
  return NULL;
}

/* 50 devices read one new mailbox at once, half through each instance:
 * exactly one binds, and the other 49 are refused. */
static void
test_redis_first_read_race (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_BODY, NULL);
  g_autofree char *on_other = url_on (f->other, url);
  Race races[2] = { { url }, { on_other } };
  Race *totals = &races[0];
  GThread *threads[50];
  g_autoptr(LkTestReply) winner = NULL;
  g_autoptr(LkTestReply) initiator = NULL;

  for (guint i = 0; i < 2; i++)
    {
      g_mutex_init (&races[i].lock);
      g_cond_init (&races[i].cond);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("race", race_thread, &races[i % 2]);
  for (guint i = 0; i < 2; i++)
    {
      g_mutex_lock (&races[i].lock);
      races[i].go = TRUE;
      g_cond_broadcast (&races[i].cond);
      g_mutex_unlock (&races[i].lock);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_test_message ("first reads: %u + %u bound, %u + %u refused", races[0].ok, races[1].ok, races[0].refused,
                  races[1].refused);
  g_assert_cmpuint (races[0].ok + races[1].ok, ==, 1);
  g_assert_cmpuint (races[0].refused + races[1].refused, ==, 49);
  g_assert_cmpuint (races[0].other + races[1].other, ==, 0);

  /* The winner reads on either instance; the mailbox says it is bound. */
  if (totals->winner == NULL)
    totals = &races[1];
  winner = lk_test_send (f->session, "POST", on_other, NULL, NULL, "Mailbox-Device-Claim", totals->winner, NULL);
  g_assert_cmpuint (winner->status, ==, 200);
  initiator = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->initiator, NULL);
  g_assert_cmpuint (initiator->status, ==, 200);
  g_assert_nonnull (strstr (initiator->body, "\"recipientBound\":true"));

  for (guint i = 0; i < 2; i++)
    {
      g_free (races[i].winner);
      g_mutex_clear (&races[i].lock);
      g_cond_clear (&races[i].cond);
    }
}

/* Runs @command (if not NULL) on every primary for each key of @pattern
 * there; returns the keys, one a line, each with its answer. */
static char *
on_redis_keys (const char *pattern,
               const char *command)
{
  g_autofree char *keys_command = g_strconcat ("KEYS ", pattern, NULL);
  GString *answers = g_string_new (NULL);

  for (guint node = 0; node < LK_TEST_REDIS_NODES; node++)
    if (lk_test_redis_is_primary (redis_cluster, node))
      {
        g_autofree char *out = lk_test_redis_cli (redis_cluster, node, keys_command);
        g_auto(GStrv) lines = g_strsplit (g_strstrip (out), "\n", -1);

        for (guint i = 0; lines[i] != NULL; i++)
          if (*lines[i] != '\0')
            {
              g_autofree char *one = command != NULL ? g_strdup_printf ("%s %s", command, lines[i]) : NULL;
              g_autofree char *answer = one != NULL ? lk_test_redis_cli (redis_cluster, node, one) : NULL;

              g_string_append_printf (answers, "%s %s\n", lines[i], answer != NULL ? g_strstrip (answer) : "");
            }
      }
  return g_string_free (answers, FALSE);
}

/* How many keys the primaries hold that match @pattern (KEYS, for tests). */
static guint
count_redis_keys (const char *pattern)
{
  g_autofree char *keys = on_redis_keys (pattern, NULL);
  guint n = 0;

  for (const char *c = keys; *c != '\0'; c++)
    n += *c == '\n';
  return n;
}

/* A create retried with its Mailbox-Request-ID on the other instance gets
 * 201 and the mailbox the first made, even with a body it would refuse. */
static void
test_redis_retry_other_instance (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *rid = lk_uuid_new_random ();
  g_autofree char *fresh = lk_uuid_new_random ();
  g_autofree char *on_first = g_strconcat (f->relay->url, "/v1/m", NULL);
  g_autofree char *on_other = g_strconcat (f->other->url, "/v1/m", NULL);
  g_autoptr(LkTestReply) first = NULL;
  g_autoptr(LkTestReply) retry = NULL;
  g_autoptr(LkTestReply) retry_bad_body = NULL;
  g_autoptr(LkTestReply) new_bad_body = NULL;
  g_autoptr(JsonObject) first_object = NULL;
  g_autoptr(JsonObject) retry_object = NULL;
  g_autofree char *first_link = NULL;
  g_autofree char *retry_link = NULL;

  first = lk_test_send (f->session, "POST", on_first, "application/json", CREATE_BODY,
                        "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", rid, NULL);
  g_assert_cmpuint (first->status, ==, 200);
  retry = lk_test_send (f->session, "POST", on_other, "application/json", CREATE_BODY,
                        "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", rid, NULL);
  g_assert_cmpuint (retry->status, ==, 201);

  first_object = lk_test_reply_json (first);
  retry_object = lk_test_reply_json (retry);
  first_link = url_on (f->relay, json_object_get_string_member (first_object, "urlLink"));
  retry_link = url_on (f->relay, json_object_get_string_member (retry_object, "urlLink"));
  g_assert_cmpstr (retry_link, ==, first_link);
  g_assert_cmpstr (soup_message_headers_get_one (retry->headers, "ETag"), ==,
                   soup_message_headers_get_one (first->headers, "ETag"));

  retry_bad_body = lk_test_send (f->session, "POST", on_other, "application/json", "{}",
                                 "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", rid, NULL);
  g_assert_cmpuint (retry_bad_body->status, ==, 201);
  new_bad_body = lk_test_send (f->session, "POST", on_other, "application/json", "{}",
                               "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", fresh, NULL);
  assert_error_reply (new_bad_body, 400, "bad_request");

  /* One mailbox was made, not two. */
  {
    g_autofree char *metrics_url = g_strconcat (f->relay->url, "/metrics", NULL);
    g_autoptr(LkTestReply) metrics = lk_test_send (f->session, "GET", metrics_url, NULL, NULL, NULL);

    g_assert_nonnull (strstr (metrics->body, "\nlatchkey_relay_mailboxes 1\n"));
  }
  /* The retry's own attempt at a mailbox was taken back. */
  g_assert_cmpuint (count_redis_keys ("{m:*}"), ==, 1);
}

/* A metric of one instance. */
static gint64
metric_on (Fixture      *f,
           LkTestServer *relay,
           const char   *name)
{
  g_autofree char *url = g_strconcat (relay->url, "/metrics", NULL);
  g_autoptr(LkTestReply) reply = lk_test_send (f->session, "GET", url, NULL, NULL, NULL);
  g_autofree char *needle = g_strconcat ("\n", name, " ", NULL);
  const char *line = strstr (reply->body, needle);

  g_assert_nonnull (line);
  return g_ascii_strtoll (line + strlen (needle), NULL, 10);
}

#define LOOKUPS "latchkey_relay_store_seconds_count{op=\"lookup\"}"
#define LEASE_WAITS "latchkey_relay_redis_lease_waits_total"

/* A mailbox read again through one instance is answered from what that
 * instance kept, while its read lease lasts (here 2 s, long enough for a
 * loaded machine); a delete through the other instance is held until the
 * lease has run out, so that no read after the delete's answer gets the
 * mailbox. */
static void
test_redis_read_lease (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *on_first = g_strconcat (f->relay->url, "/v1/m", NULL);
  g_autoptr(LkTestReply) created = lk_test_send (f->session, "POST", on_first, "application/json", CREATE_BODY,
                                                 "Mailbox-Device-Claim", f->initiator, NULL);
  g_autoptr(JsonObject) object = lk_test_reply_json (created);
  g_autofree char *on_a = url_on (f->relay, json_object_get_string_member (object, "urlLink"));
  g_autofree char *on_b = url_on (f->other, on_a);
  g_autoptr(LkTestReply) del = NULL;
  g_autoptr(LkTestReply) after = NULL;
  gint64 lookups, waits, started, held;
  gboolean kept = FALSE;

  g_assert_cmpuint (created->status, ==, 200);
  /* The recipient binds through B, then reads again: the second lookup
   * takes the lease, and a read after it is answered without one. */
  lookups = metric_on (f, f->other, LOOKUPS);
  for (guint i = 0; i < 5 && !kept; i++)
    {
      g_autoptr(LkTestReply) read = lk_test_send (f->session, "POST", on_b, NULL, NULL,
                                                  "Mailbox-Device-Claim", f->recipient, NULL);
      gint64 now_lookups;

      g_assert_cmpuint (read->status, ==, 200);
      now_lookups = metric_on (f, f->other, LOOKUPS);
      kept = i > 0 && now_lookups == lookups;
      lookups = now_lookups;
    }
  g_assert_true (kept);

  waits = metric_on (f, f->relay, LEASE_WAITS);
  started = g_get_monotonic_time ();
  del = lk_test_send (f->session, "DELETE", on_a, NULL, NULL, "Mailbox-Device-Claim", f->initiator, NULL);
  held = g_get_monotonic_time () - started;
  g_assert_cmpuint (del->status, ==, 200);
  after = lk_test_send (f->session, "POST", on_b, NULL, NULL, "Mailbox-Device-Claim", f->recipient, NULL);
  assert_error_reply (after, 404, "not_found");
  g_assert_cmpint (metric_on (f, f->relay, LEASE_WAITS), ==, waits + 1);
  g_test_message ("the delete was answered after %" G_GINT64_FORMAT " ms", held / 1000);

  /* A write through the instance that holds the lease is not held. */
  {
    g_autoptr(LkTestReply) second = lk_test_send (f->session, "POST", on_first, "application/json", CREATE_BODY,
                                                  "Mailbox-Device-Claim", f->initiator, NULL);
    g_autoptr(JsonObject) second_object = lk_test_reply_json (second);
    g_autofree char *second_b = url_on (f->other, json_object_get_string_member (second_object, "urlLink"));
    g_autoptr(LkTestReply) own_delete = NULL;

    for (guint i = 0; i < 3; i++)
      {
        g_autoptr(LkTestReply) read = lk_test_send (f->session, "POST", second_b, NULL, NULL,
                                                    "Mailbox-Device-Claim", f->recipient, NULL);

        g_assert_cmpuint (read->status, ==, 200);
      }
    waits = metric_on (f, f->other, LEASE_WAITS);
    own_delete = lk_test_send (f->session, "DELETE", second_b, NULL, NULL, "Mailbox-Device-Claim", f->initiator,
                               NULL);
    g_assert_cmpuint (own_delete->status, ==, 200);
    g_assert_cmpint (metric_on (f, f->other, LEASE_WAITS), ==, waits);
    g_clear_pointer (&after, lk_test_reply_free);
    after = lk_test_send (f->session, "POST", second_b, NULL, NULL, "Mailbox-Device-Claim", f->recipient, NULL);
    assert_error_reply (after, 404, "not_found");
  }
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

/* A waiting read on one instance, a write through the other: the writing
 * instance publishes the change (relay-redis-subscriber.c) and the read
 * answers with it at once, not at the end of its wait. Twenty rounds, each
 * way; the figures are printed (the 50 ms target is a measurement, not an
 * assertion on a loaded machine), and every read must be woken, far sooner
 * than the end of its wait (30 s, the relay's cap). */
static void
test_redis_wake_other_instance (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_RWD_BODY, NULL);
  g_autoptr(LkTestReply) bind = read_as (f, url, f->recipient);
  g_autofree char *on_other = url_on (f->other, url);
  g_autofree char *etag = NULL;
  gint64 latency[20];

  g_assert_cmpuint (bind->status, ==, 200);
  etag = g_strdup (soup_message_headers_get_one (bind->headers, "ETag"));

  for (guint round = 0; round < G_N_ELEMENTS (latency); round++)
    {
      /* The read waits on the first instance, the write goes through the
       * other, and then the other way round. */
      gboolean swap = round % 2 == 1;
      g_autofree char *read_url = swap ? g_strdup (on_other) : g_strdup (url);
      const char *write_url = swap ? url : on_other;
      LkTestServer *waiting_on = swap ? f->other : f->relay;
      g_autoptr(LkTestReply) update = NULL;
      Waiter w = { f, read_url, g_strdup (etag), 60, NULL, 0 };
      GThread *thread = g_thread_new ("waiter", wait_thread, &w);
      g_autofree char *metrics_url = g_strconcat (waiting_on->url, "/metrics", NULL);
      gint64 written;

      for (;;)
        {
          g_autoptr(LkTestReply) metrics = lk_test_send (f->session, "GET", metrics_url, NULL, NULL, NULL);

          if (strstr (metrics->body, "\nlatchkey_relay_waiters 1\n") != NULL)
            break;
          g_thread_yield ();
        }
      update = lk_test_send (f->session, "PUT", write_url, "application/json", UPDATE_BODY,
                             "Mailbox-Device-Claim", f->recipient, NULL);
      written = g_get_monotonic_time ();
      g_assert_cmpuint (update->status, ==, 200);
      g_thread_join (thread);

      g_assert_cmpuint (w.reply->status, ==, 200);
      g_assert_cmpstr (soup_message_headers_get_one (w.reply->headers, "ETag"), ==,
                       soup_message_headers_get_one (update->headers, "ETag"));
      latency[round] = w.returned - written;
      g_assert_cmpint (latency[round], <, 10 * G_USEC_PER_SEC);

      g_free (etag);
      etag = g_strdup (soup_message_headers_get_one (update->headers, "ETag"));
      g_free (w.etag);
      lk_test_reply_free (w.reply);
    }

  /* Below zero: the reader was answered before the writer. */
  qsort (latency, G_N_ELEMENTS (latency), sizeof latency[0], compare_gint64);
  g_test_message ("cross-instance wake-up, µs after the write was acknowledged: median %" G_GINT64_FORMAT
                  ", max %" G_GINT64_FORMAT " (%zu rounds)",
                  latency[G_N_ELEMENTS (latency) / 2], latency[G_N_ELEMENTS (latency) - 1], G_N_ELEMENTS (latency));
}

typedef struct
{
  Fixture *f;
  char    *url;
  char    *etag;
  LkTestReply *reply;
  guint    not_modified;
} PollingWaiter;

/* Waits as a client does: a 304 (no change yet) means ask again. */
static gpointer
poll_thread (gpointer data)
{
  PollingWaiter *w = data;
  g_autoptr(SoupSession) session = new_session ();

  for (;;)
    {
      w->reply = lk_test_send (session, "POST", w->url, NULL, NULL, "Mailbox-Device-Claim", w->f->initiator,
                               "If-None-Match", w->etag, "Prefer", "wait=60", NULL);
      if (w->reply->status != 304 || ++w->not_modified > 100)
        return NULL;
      g_clear_pointer (&w->reply, lk_test_reply_free);
    }
}

/* Every subscriber connection killed, as a node restart or a cut would:
 * the instances subscribe again and look at their waiting reads again, so
 * a write through the other instance still wakes a read at once. Without
 * that, the read would learn of it only at the end of its wait (30 s). */
static void
test_redis_wake_after_resubscribe (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *url = create (f, CREATE_RWD_BODY, NULL);
  g_autoptr(LkTestReply) bind = read_as (f, url, f->recipient);
  g_autofree char *on_other = url_on (f->other, url);
  g_autoptr(LkTestReply) update = NULL;
  PollingWaiter w = { f, url, NULL, NULL, 0 };
  GThread *thread;
  guint killed = 0;
  gint64 written, returned;

  g_assert_cmpuint (bind->status, ==, 200);
  w.etag = g_strdup (soup_message_headers_get_one (bind->headers, "ETag"));

  for (guint i = 0; i < LK_TEST_REDIS_NODES; i++)
    {
      g_autofree char *out = lk_test_redis_cli (redis_cluster, i, "CLIENT KILL TYPE pubsub");

      killed += (guint) atoi (out);
    }
  /* Both instances listen on every primary that owns a channel. */
  g_test_message ("killed %u subscriber connections", killed);
  g_assert_cmpuint (killed, >=, 2);

  thread = g_thread_new ("waiter", poll_thread, &w);
  while (metric (f, "latchkey_relay_waiters") < 1)
    g_thread_yield ();
  update = lk_test_send (f->session, "PUT", on_other, "application/json", UPDATE_BODY,
                         "Mailbox-Device-Claim", f->recipient, NULL);
  written = g_get_monotonic_time ();
  g_assert_cmpuint (update->status, ==, 200);
  g_thread_join (thread);
  returned = g_get_monotonic_time ();

  g_assert_cmpuint (w.reply->status, ==, 200);
  g_assert_cmpstr (soup_message_headers_get_one (w.reply->headers, "ETag"), ==,
                   soup_message_headers_get_one (update->headers, "ETag"));
  g_test_message ("woken %" G_GINT64_FORMAT " µs after the write, after %u early \"no change\"",
                  returned - written, w.not_modified);
  g_assert_cmpint (returned - written, <, 10 * G_USEC_PER_SEC);

  g_free (w.etag);
  lk_test_reply_free (w.reply);
}

/* PROTOCOL.md §6.10: a write no replica acknowledged is not answered 2xx
 * (503, try again); its retry with the same request id is 201, once the
 * primary has it. */
static void
test_redis_not_replicated (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *rid = lk_uuid_new_random ();
  g_autofree char *create_url = url_for (f, "/v1/m");
  g_autoptr(LkTestReply) refused = NULL;
  g_autoptr(LkTestReply) retried = NULL;

  lk_test_redis_pause_replicas (redis_cluster, TRUE);
  refused = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                          "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", rid, NULL);
  lk_test_redis_pause_replicas (redis_cluster, FALSE);
  assert_error_reply (refused, 503, "unavailable");
  g_assert_nonnull (soup_message_headers_get_one (refused->headers, "Retry-After"));
  /* Refused for that reason, not another. */
  {
    g_autofree char *log = lk_test_server_read_log (f->relay);

    g_assert_nonnull (strstr (log, "0 of 1 replicas acknowledged the write"));
  }

  retried = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                          "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", rid, NULL);
  g_assert_cmpuint (retried->status, ==, 201);
}

/* Per-client limits are shared: 20 creates at once over both instances,
 * five places, exactly five mailboxes. */
typedef struct
{
  const char *url;
  const char *claim;
  gboolean    request_ids;
  gint        ok;
  gint        refused;
  gint        other;
} Burst;

static gpointer
burst_thread (gpointer data)
{
  Burst *burst = data;
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *rid = lk_uuid_new_random ();
  g_autoptr(LkTestReply) reply = lk_test_send (session, "POST", burst->url, "application/json", CREATE_BODY,
                                               "Mailbox-Device-Claim", burst->claim,
                                               burst->request_ids ? "Mailbox-Request-ID" : NULL, rid, NULL);

  if (reply->status == 200)
    g_atomic_int_inc (&burst->ok);
  else if (reply->status == 429 && strstr (reply->body, "too_many_mailboxes") != NULL)
    g_atomic_int_inc (&burst->refused);
  else
    g_atomic_int_inc (&burst->other);
  return NULL;
}

static const char * const long_lease_args[] = { "--rate", "0", "--redis-read-lease-ms", "2000", NULL };
static const char * const five_per_client_args[] = { "--rate", "0", "--max-mailboxes-per-client", "5", NULL };

static void
test_redis_shared_limits (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *on_first = g_strconcat (f->relay->url, "/v1/m", NULL);
  g_autofree char *on_other = g_strconcat (f->other->url, "/v1/m", NULL);
  Burst bursts[2] = { { on_first, f->initiator, TRUE }, { on_other, f->initiator, FALSE } };
  GThread *threads[20];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("burst", burst_thread, &bursts[i % 2]);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_test_message ("creates: %d + %d made, %d + %d refused", bursts[0].ok, bursts[1].ok, bursts[0].refused,
                  bursts[1].refused);
  g_assert_cmpint (bursts[0].ok + bursts[1].ok, ==, 5);
  g_assert_cmpint (bursts[0].refused + bursts[1].refused, ==, 15);
  g_assert_cmpint (bursts[0].other + bursts[1].other, ==, 0);
  g_assert_cmpuint (metric (f, "latchkey_relay_mailboxes"), ==, 5);
  /* Creates go to the store in batches, each mailbox written before its
   * places are known (relay-store-redis.c, apply_creates()): those refused
   * left no hash and no reservation behind. */
  g_assert_cmpuint (count_redis_keys ("{m:*}"), ==, 5);
  g_assert_cmpuint (count_redis_keys ("{q:*}"), ==, (guint) bursts[0].ok);
}

/* Asserts that the creator's count keys (its totals, its mailboxes by
 * expiration, their sizes) are there, each with an expiration. */
static void
assert_creator_keys_expire (void)
{
  g_autofree char *ttls = on_redis_keys ("{c:*", "PTTL");
  g_auto(GStrv) lines = g_strsplit (g_strstrip (ttls), "\n", -1);
  guint n_keys = 0;

  g_test_message ("PTTL: %s", ttls);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *space = strrchr (lines[i], ' ');

      g_assert_nonnull (space);
      g_assert_cmpint (g_ascii_strtoll (space + 1, NULL, 10), >, 0);
      n_keys++;
    }
  g_assert_cmpuint (n_keys, ==, 3);
}

/* A creator's count goes with its last mailbox: each of its keys has an
 * expiration, from a new creator's first create on, and also when its
 * count is taken outside a batch (a retry whose first attempt's mailbox is
 * gone). Before, a new creator's totals were made after the expiration was
 * set, and stayed for ever, counting a mailbox long expired. */
static void
test_redis_creator_count_expires (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *rid = lk_uuid_new_random ();
  g_autofree char *create_url = g_strconcat (f->relay->url, "/v1/m", NULL);
  g_autofree char *before = on_redis_keys ("{c:*", "DEL");
  g_autofree char *dropped = NULL;
  g_autoptr(LkTestReply) first = NULL;
  g_autoptr(LkTestReply) del = NULL;
  g_autoptr(LkTestReply) retry = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *url = NULL;

  g_test_message ("dropped: %s", before);
  first = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                        "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", rid, NULL);
  g_assert_cmpuint (first->status, ==, 200);
  assert_creator_keys_expire ();

  object = lk_test_reply_json (first);
  url = url_on (f->relay, json_object_get_string_member (object, "urlLink"));
  del = lk_test_send (f->session, "DELETE", url, NULL, NULL, "Mailbox-Device-Claim", f->initiator, NULL);
  g_assert_cmpuint (del->status, ==, 200);

  /* The creator as if new again; then the same request: its reservation
   * names a deleted mailbox, so it makes another, counted alone. */
  dropped = on_redis_keys ("{c:*", "DEL");
  g_test_message ("dropped: %s", dropped);
  retry = lk_test_send (f->session, "POST", create_url, "application/json", CREATE_BODY,
                        "Mailbox-Device-Claim", f->initiator, "Mailbox-Request-ID", rid, NULL);
  g_assert_cmpuint (retry->status, ==, 200);
  assert_creator_keys_expire ();
}

/* What the store holds is untrusted: a mailbox hash of the wrong shape
 * (written here behind the relay's back) is 503, never a crash or a 2xx. */
static void
test_redis_malformed_store (Fixture       *f,
                            gconstpointer  data)
{
  static const char * const hashes[] = {
    "id @ID@ ic @CLAIM@ v many ex 9999999999 acc 3",      /* a version that is no number */
    "id @ID@ ic @CLAIM@ v 1 ex 9999999999 acc 9",         /* access out of range */
    "id @ID@ ic @CLAIM@ v 1 acc 3",                       /* no expiration */
    "id @ID@ ic @CLAIM@ v 1 ex 9999999999 acc 3 mr 11",   /* maxRecipients out of range */
    "id @ID@ ic @CLAIM@ v 1 ex 9999999999 acc 3 more x",  /* a recipient that is no claim */
    "id @ID@ ic @CLAIM@ v 1 ex 9999999999 acc 3 cre 00",  /* a creator of the wrong size */
    "id 0f8fad5b-d9cb-469f-a165-70867728950e ic @CLAIM@ v 1 ex 9999999999 acc 3",  /* another mailbox */
  };

  for (guint i = 0; i < G_N_ELEMENTS (hashes); i++)
    {
      g_autofree char *id = lk_uuid_new_random ();
      g_autoptr(GString) text = g_string_new (hashes[i]);
      g_autofree char *fields = NULL;
      g_autofree char *command = NULL;
      g_autofree char *out = NULL;
      g_autofree char *url = g_strdup_printf ("%s/v1/m/%s", f->relay->url, id);
      g_autoptr(LkTestReply) read = NULL;
      g_autoptr(LkTestReply) update = NULL;
      g_autoptr(LkTestReply) page = NULL;

      g_string_replace (text, "@ID@", id, 0);
      g_string_replace (text, "@CLAIM@", f->initiator, 0);
      fields = g_string_free (g_steal_pointer (&text), FALSE);
      command = g_strdup_printf ("HSET {m:%s} %s", id, fields);
      out = lk_test_redis_cli (redis_cluster, 0, command);
      g_test_message ("%s: %s", fields, g_strstrip (out));
      g_assert_cmpint (atoi (out), >, 0);
      read = lk_test_send (f->session, "POST", url, NULL, NULL, "Mailbox-Device-Claim", f->initiator, NULL);
      assert_error_reply (read, 503, "unavailable");
      update = lk_test_send (f->session, "PUT", url, "application/json", UPDATE_BODY,
                             "Mailbox-Device-Claim", f->initiator, NULL);
      g_assert_cmpuint (update->status, !=, 200);
      g_assert_cmpuint (update->status, !=, 201);
      page = lk_test_send (f->session, "GET", url, NULL, NULL, NULL);
      g_assert_cmpuint (page->status, ==, 503);
    }
}

/* A store that cannot be reached: 503 with Retry-After, never a 2xx. */
static void
test_redis_store_down (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *nodes = NULL;
  g_autoptr(LkTestServer) relay = NULL;
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *claim = lk_uuid_new_random ();
  g_autofree char *create_url = NULL;
  g_autofree char *read_url = NULL;
  g_autoptr(LkTestReply) created = NULL;
  g_autoptr(LkTestReply) read = NULL;

  /* A port nothing listens on: bound here, never listened to. */
  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  nodes = g_strdup_printf ("127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  {
    const char * const args[] = { "--rate", "0", "--store", "redis", "--redis-nodes", nodes, NULL };

    relay = lk_test_server_new ("LATCHKEY_RELAY", args);
    lk_test_server_start (relay);
  }

  create_url = g_strconcat (relay->url, "/v1/m", NULL);
  created = lk_test_send (session, "POST", create_url, "application/json", CREATE_BODY,
                          "Mailbox-Device-Claim", claim, NULL);
  assert_error_reply (created, 503, "unavailable");
  g_assert_nonnull (soup_message_headers_get_one (created->headers, "Retry-After"));

  read_url = g_strconcat (relay->url, "/v1/m/0f8fad5b-d9cb-469f-a165-70867728950e", NULL);
  read = lk_test_send (session, "POST", read_url, NULL, NULL, "Mailbox-Device-Claim", claim, NULL);
  assert_error_reply (read, 503, "unavailable");
  g_assert_nonnull (soup_message_headers_get_one (read->headers, "Retry-After"));

  /* And /healthz says so, once the probe has tried. */
  {
    g_autoptr(LkTestReply) health = await_health (session, relay, 503, "no Redis primary answers");

    assert_error_reply (health, 503, "store_unavailable");
    g_assert_nonnull (soup_message_headers_get_one (health->headers, "Retry-After"));
  }
}

/* /healthz follows the store down and back up, without a restart: a
 * cluster of the test's own (this one stops every node) is paused, then
 * resumed, under a running relay. */
static void
test_redis_store_recovers (void)
{
  g_autoptr(LkTestRedis) cluster = lk_test_redis_start ();
  g_autoptr(LkTestServer) relay = NULL;
  g_autoptr(SoupSession) session = new_session ();
  g_autofree char *claim = lk_uuid_new_random ();
  g_autofree char *create_url = NULL;
  const char * const args[] = { "--rate", "0", "--store", "redis", "--redis-nodes", cluster->nodes, NULL };
  gint64 paused, resumed;

  relay = lk_test_server_new ("LATCHKEY_RELAY", args);
  lk_test_server_start (relay);
  create_url = g_strconcat (relay->url, "/v1/m", NULL);

  {
    g_autoptr(LkTestReply) up = await_health (session, relay, 200, "store: redis, 3 primaries\n");

    g_assert_cmpstr (up->body, ==, "ok\nstore: redis, 3 primaries\n");
  }

  lk_test_redis_pause_all (cluster, TRUE);
  paused = g_get_monotonic_time ();
  {
    g_autoptr(LkTestReply) down = await_health (session, relay, 503, "store_unavailable");

    g_test_message ("/healthz said 503 %.1f s after the pause",
                    (double) (g_get_monotonic_time () - paused) / G_USEC_PER_SEC);
    /* Answered from the probe's last finding, not by asking the hung
     * cluster (which costs a 2 s timeout per primary). */
    {
      g_autofree char *url = g_strconcat (relay->url, "/healthz", NULL);
      gint64 asked = g_get_monotonic_time ();
      g_autoptr(LkTestReply) again = lk_test_send (session, "GET", url, NULL, NULL, NULL);
      gint64 took = g_get_monotonic_time () - asked;

      g_test_message ("/healthz took %.3f s while the cluster was paused", (double) took / G_USEC_PER_SEC);
      g_assert_cmpuint (again->status, ==, 503);
      g_assert_cmpint (took, <, 3 * G_USEC_PER_SEC / 2);
    }
    assert_error_reply (down, 503, "store_unavailable");
    g_assert_nonnull (soup_message_headers_get_one (down->headers, "Retry-After"));
  }

  lk_test_redis_pause_all (cluster, FALSE);
  resumed = g_get_monotonic_time ();
  {
    g_autoptr(LkTestReply) up = await_health (session, relay, 200, "store: redis, 3 primaries\n");
    g_autoptr(LkTestReply) created = NULL;
    gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

    g_test_message ("/healthz said 200 %.1f s after the resumption",
                    (double) (g_get_monotonic_time () - resumed) / G_USEC_PER_SEC);
    g_assert_cmpstr (up->body, ==, "ok\nstore: redis, 3 primaries\n");
    /* And the same process serves mailboxes again (a create may still meet
     * a connection the pause broke: those are 503, try again). */
    for (;;)
      {
        g_clear_pointer (&created, lk_test_reply_free);
        created = lk_test_send (session, "POST", create_url, "application/json", CREATE_BODY,
                                "Mailbox-Device-Claim", claim, NULL);
        if (created->status != 503 || g_get_monotonic_time () > deadline)
          break;
        g_usleep (50 * 1000);
      }
    g_assert_cmpuint (created->status, ==, 200);
  }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  if (g_strcmp0 (g_getenv ("LATCHKEY_TEST_STORE"), "redis") == 0)
    {
      redis_cluster = lk_test_redis_start ();
      g_test_add ("/relay/redis/first-read-race", Fixture, default_args, fixture_set_up,
                  test_redis_first_read_race, fixture_tear_down);
      g_test_add ("/relay/redis/retry-other-instance", Fixture, default_args, fixture_set_up,
                  test_redis_retry_other_instance, fixture_tear_down);
      g_test_add ("/relay/redis/not-replicated", Fixture, default_args, fixture_set_up,
                  test_redis_not_replicated, fixture_tear_down);
      g_test_add ("/relay/redis/shared-limits", Fixture, five_per_client_args, fixture_set_up,
                  test_redis_shared_limits, fixture_tear_down);
      g_test_add ("/relay/redis/creator-count-expires", Fixture, default_args, fixture_set_up,
                  test_redis_creator_count_expires, fixture_tear_down);
      g_test_add ("/relay/redis/malformed-store", Fixture, default_args, fixture_set_up,
                  test_redis_malformed_store, fixture_tear_down);
      g_test_add ("/relay/redis/wake-other-instance", Fixture, default_args, fixture_set_up,
                  test_redis_wake_other_instance, fixture_tear_down);
      g_test_add ("/relay/redis/read-lease", Fixture, long_lease_args, fixture_set_up, test_redis_read_lease,
                  fixture_tear_down);
      g_test_add ("/relay/redis/wake-after-resubscribe", Fixture, default_args, fixture_set_up,
                  test_redis_wake_after_resubscribe, fixture_tear_down);
      g_test_add_func ("/relay/redis/store-down", test_redis_store_down);
      g_test_add_func ("/relay/redis/store-recovers", test_redis_store_recovers);
    }
  else
    {
      g_test_add_func ("/relay/tls", test_tls);
      g_test_add_func ("/relay/forwarded-for", test_forwarded_for);
      g_test_add_func ("/relay/several-recipients-migration", test_several_recipients_migration);
    }

#define ADD(path, func, args) \
  g_test_add ("/relay/" path, Fixture, args, fixture_set_up, func, fixture_tear_down)
  ADD ("create-and-read", test_create_and_read, default_args);
  ADD ("display-page", test_display_page, default_args);
  ADD ("claims", test_claims, default_args);
  ADD ("idempotent-retries", test_idempotent_retries, default_args);
  ADD ("access-rights", test_access_rights, default_args);
  ADD ("versions", test_versions, default_args);
  ADD ("waiting-read", test_waiting_read, default_args);
  ADD ("waiting-read-timeout", test_waiting_read_timeout, default_args);
  ADD ("waiting-read-delete", test_waiting_read_delete, default_args);
  ADD ("waiter-limit", test_waiter_limit, waiter_limit_args);
  ADD ("expiry", test_expiry, expiry_args);
  ADD ("malformed", test_malformed, default_args);
  ADD ("strict-json", test_strict_json, big_body_args);
  ADD ("raw-requests", test_raw_requests, short_timeout_args);
  ADD ("rate-limits", test_rate_limits, rate_args);
  ADD ("metrics", test_metrics, default_args);
  ADD ("health", test_health, default_args);
  ADD ("graceful-shutdown", test_graceful_shutdown, default_args);
  ADD ("kill-durability", test_kill_durability, durability_args);
  ADD ("draft/no-push", test_draft_no_push, default_args);
  ADD ("draft/retry-ignores-body", test_draft_retry_ignores_body, default_args);
  ADD ("draft/head", test_draft_head, default_args);
  ADD ("draft/chunked", test_draft_chunked, default_args);
  ADD ("draft/rfc3339", test_draft_rfc3339, default_args);
  ADD ("draft/only-json", test_draft_only_json, default_args);
  ADD ("several-recipients", test_several_recipients, default_args);
  ADD ("several-recipients-bounds", test_several_recipients_bounds, default_args);
#undef ADD

  status = g_test_run ();
  g_clear_pointer (&redis_cluster, lk_test_redis_stop);
  return status;
}
