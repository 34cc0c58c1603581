/* test-relay-request.c: the relay's request rules, without a server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-relay-request"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "httpd-config.h"
#include "relay-config.h"
#include "relay-page.h"
#include "relay-request.h"

#define DATA "oKGio6SlpqeoqaqrnToaQjemY8tAX6W3bh2pqhHALnH+2ycYsmlD6BrZ"

static void
test_create_body (void)
{
  static const char good[] =
    "{\"payload\":{\"type\":\"AEAD_AES_128_GCM\",\"data\":\"" DATA "\"},"
    "\"displayInformation\":{\"title\":\"t\",\"description\":\"d\",\"imageURL\":\"https://x.example/i.png\"},"
    "\"notificationToken\":{\"type\":\"com.apple.apns\",\"tokenData\":\"abc\"},"
    "\"mailboxConfiguration\":{\"accessRights\":\"DWR\",\"expiration\":\"2030-01-01T00:00:00Z\"},"
    "\"futureExtension\":true}";
  g_auto(RelayBody) body = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (relay_parse_create_body (good, strlen (good), &body, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (body.payload_type, ==, "AEAD_AES_128_GCM");
  g_assert_cmpstr (body.payload_data, ==, DATA);
  g_assert_cmpstr (body.title, ==, "t");
  g_assert_cmpstr (body.image_url, ==, "https://x.example/i.png");
  g_assert_cmpstr (body.token, ==, "{\"type\":\"com.apple.apns\",\"tokenData\":\"abc\"}");
  g_assert_cmpint (body.access, ==, RELAY_ACCESS_READ | RELAY_ACCESS_WRITE | RELAY_ACCESS_DELETE);
  g_assert_cmpint (body.expiration, ==, 1893456000);
  /* Not asked: the draft's one recipient. */
  g_assert_cmpuint (body.max_recipients, ==, 1);
}

/* Issue 13: mailboxConfiguration.maxRecipients, 1 to 10, not with W. */
static void
test_max_recipients (void)
{
#define WITH(config) \
  "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"},\"displayInformation\":{\"title\":\"t\"}," \
  "\"mailboxConfiguration\":{" config "}}"
  static const struct { const char *body; guint expected; } cases[] = {
    { WITH ("\"maxRecipients\":1"), 1 },
    { WITH ("\"maxRecipients\":4"), 4 },
    { WITH ("\"maxRecipients\":10,\"accessRights\":\"RD\""), 10 },
    { WITH ("\"maxRecipients\":1,\"accessRights\":\"RWD\""), 1 },
    { WITH ("\"maxRecipients\":0"), 0 },
    { WITH ("\"maxRecipients\":11"), 0 },
    { WITH ("\"maxRecipients\":-3"), 0 },
    { WITH ("\"maxRecipients\":2.0"), 0 },
    { WITH ("\"maxRecipients\":\"2\""), 0 },
    { WITH ("\"maxRecipients\":null"), 1 },
    { WITH ("\"maxRecipients\":[2]"), 0 },
    { WITH ("\"maxRecipients\":2,\"accessRights\":\"RWD\""), 0 },
    { WITH ("\"maxRecipients\":2,\"accessRights\":\"W\""), 0 },
  };
#undef WITH

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(RelayBody) body = { 0 };
      g_autoptr(GError) error = NULL;
      gboolean ok = relay_parse_create_body (cases[i].body, strlen (cases[i].body), &body, &error);

      g_test_message ("case %u", i);
      if (cases[i].expected == 0)
        {
          g_assert_false (ok);
          g_assert_error (error, RELAY_REQUEST_ERROR, RELAY_REQUEST_ERROR_BAD_FIELD);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_cmpuint (body.max_recipients, ==, cases[i].expected);
        }
    }
}

static void
test_body_rejects (void)
{
  static const char * const bad[] = {
    "",
    "null",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"}}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"},\"displayInformation\":{}}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"short\"},\"displayInformation\":{\"title\":\"t\"}}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "===\"},\"displayInformation\":{\"title\":\"t\"}}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"},\"displayInformation\":{\"title\":\"t\","
      "\"imageURL\":\"http://x.example/i.png\"}}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"},\"displayInformation\":{\"title\":\"t\"},"
      "\"mailboxConfiguration\":{\"accessRights\":\"RR\"}}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"},\"displayInformation\":{\"title\":\"t\"},"
      "\"mailboxConfiguration\":{\"accessRights\":\"\"}}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"},\"displayInformation\":{\"title\":\"t\"},"
      "\"mailboxConfiguration\":5}",
    "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"},\"displayInformation\":{\"title\":\"t\"},"
      "\"notificationToken\":{\"tokenData\":\"x\"}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto(RelayBody) body = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_false (relay_parse_create_body (bad[i], strlen (bad[i]), &body, &error));
      g_assert_error (error, RELAY_REQUEST_ERROR, (i < 2 ? RELAY_REQUEST_ERROR_BAD_JSON : RELAY_REQUEST_ERROR_BAD_FIELD));
    }

  {
    g_auto(RelayBody) body = { 0 };
    g_autoptr(GError) error = NULL;
    static const char update[] = "{\"payload\":{\"type\":\"AEAD_AES_256_GCM\",\"data\":\"" DATA "\"}}";

    g_assert_true (relay_parse_update_body (update, strlen (update), &body, &error));
    g_assert_false (relay_parse_update_body ("{}", 2, &body, &error));
    g_assert_error (error, RELAY_REQUEST_ERROR, RELAY_REQUEST_ERROR_BAD_FIELD);
  }
}

static void
test_headers (void)
{
  gint64 version = -1;
  guint wait = 0;
  g_autofree char *uuid = relay_parse_uuid ("6BA7B810-9DAD-11D1-80B4-00C04FD430C8");
  g_autofree char *etag = relay_format_etag (42);

  g_assert_cmpstr (uuid, ==, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  g_assert_null (relay_parse_uuid ("6ba7b810"));
  g_assert_null (relay_parse_uuid (NULL));

  g_assert_cmpstr (etag, ==, "\"42\"");
  g_assert_true (relay_parse_etag ("\"42\"", &version));
  g_assert_cmpint (version, ==, 42);
  g_assert_true (relay_parse_etag ("W/\"7\"", &version));
  g_assert_cmpint (version, ==, 7);
  g_assert_false (relay_parse_etag ("42", &version));
  g_assert_false (relay_parse_etag ("\"\"", &version));
  g_assert_false (relay_parse_etag ("\"4x\"", &version));
  g_assert_false (relay_parse_etag ("\"99999999999999999999\"", &version));
  g_assert_false (relay_parse_etag ("*", &version));

  g_assert_true (relay_parse_prefer_wait ("wait=10", &wait));
  g_assert_cmpuint (wait, ==, 10);
  g_assert_true (relay_parse_prefer_wait ("respond-async, wait=600", &wait));
  g_assert_cmpuint (wait, ==, RELAY_MAX_WAIT_SECONDS);
  g_assert_false (relay_parse_prefer_wait ("wait=soon", &wait));
  g_assert_false (relay_parse_prefer_wait ("return=minimal", &wait));
}

static void
test_access_strings (void)
{
  RelayAccess access;
  g_autofree char *text = relay_access_to_string (RELAY_ACCESS_READ | RELAY_ACCESS_DELETE);

  g_assert_cmpstr (text, ==, "RD");
  g_assert_true (relay_access_from_string ("W", &access));
  g_assert_cmpint (access, ==, RELAY_ACCESS_WRITE);
  g_assert_false (relay_access_from_string ("rwd", &access));
  g_assert_false (relay_access_from_string ("RWDR", &access));
}

static void
test_durations (void)
{
  gint64 s;

  g_assert_true (httpd_parse_duration ("90", &s));
  g_assert_cmpint (s, ==, 90);
  g_assert_true (httpd_parse_duration ("15m", &s));
  g_assert_cmpint (s, ==, 900);
  g_assert_true (httpd_parse_duration ("48h", &s));
  g_assert_cmpint (s, ==, 172800);
  g_assert_true (httpd_parse_duration ("7d", &s));
  g_assert_cmpint (s, ==, 604800);
  g_assert_false (httpd_parse_duration ("7w", &s));
  g_assert_false (httpd_parse_duration ("h", &s));
  g_assert_false (httpd_parse_duration ("5hh", &s));
  g_assert_false (httpd_parse_duration ("-5", &s));
}

static void
test_sizes (void)
{
  guint64 bytes;

  g_assert_true (httpd_parse_size ("65536", &bytes));
  g_assert_cmpuint (bytes, ==, 65536);
  g_assert_true (httpd_parse_size ("64K", &bytes));
  g_assert_cmpuint (bytes, ==, 65536);
  g_assert_true (httpd_parse_size ("16m", &bytes));
  g_assert_cmpuint (bytes, ==, 16 * 1024 * 1024);
  g_assert_true (httpd_parse_size ("4G", &bytes));
  g_assert_cmpuint (bytes, ==, G_GUINT64_CONSTANT (4) << 30);
  g_assert_false (httpd_parse_size ("", &bytes));
  g_assert_false (httpd_parse_size ("4GB", &bytes));
  g_assert_false (httpd_parse_size ("-1", &bytes));
  g_assert_false (httpd_parse_size ("99999999999T", &bytes));
}

static void
test_config_file (void)
{
  g_autoptr(RelayConfig) config = relay_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("relay-XXXXXX.conf", &path, &error);
  static const char text[] =
    "[relay]\nport=9443\ndata-dir=/var/lib/latchkey-relay\nmax-body-bytes=32768\n"
    "default-expiration=24h\nmax-expiration=3d\ntrust-forwarded-for=true\nrate=5.5\n";

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  close (fd);

  g_assert_true (relay_config_load_key_file (config, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (config->port, ==, 9443);
  g_assert_cmpstr (config->data_dir, ==, "/var/lib/latchkey-relay");
  g_assert_cmpuint (config->max_body, ==, 32768);
  g_assert_cmpint (config->default_expiration, ==, 86400);
  g_assert_cmpint (config->max_expiration, ==, 259200);
  g_assert_true (config->trust_forwarded_for);
  g_assert_cmpfloat (config->rate, ==, 5.5);
  g_assert_true (relay_config_validate (config, &error));

  g_assert_true (g_file_set_contents (path, "[relay]\nport=99999\n", -1, &error));
  g_assert_false (relay_config_load_key_file (config, path, &error));
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_clear_error (&error);

  config->max_expiration = 60;
  g_assert_false (relay_config_validate (config, &error));
  g_assert_nonnull (error);

  g_unlink (path);
}

static void
test_page (void)
{
  RelayMailbox *mailbox = relay_mailbox_new ();
  g_autofree char *page = NULL;
  const char *csp = relay_page_get_csp ();

  mailbox->title = g_strdup ("<b>\"x\" & 'y'</b>");
  mailbox->description = g_strdup ("</title><script>alert(1)</script>");
  page = relay_page_render (mailbox, "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8");

  g_assert_null (strstr (page, "<script"));
  g_assert_null (strstr (page, "<b>"));
  g_assert_nonnull (strstr (page, "content=\"&lt;b&gt;&quot;x&quot; &amp; &apos;y&apos;&lt;/b&gt;\""));
  g_assert_null (strstr (page, "og:image"));
  g_assert_true (g_str_has_prefix (csp, "default-src 'none'"));
  g_assert_nonnull (strstr (csp, "style-src 'sha256-"));

  relay_mailbox_unref (mailbox);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/relay-request/create-body", test_create_body);
  g_test_add_func ("/relay-request/body-rejects", test_body_rejects);
  g_test_add_func ("/relay-request/max-recipients", test_max_recipients);
  g_test_add_func ("/relay-request/headers", test_headers);
  g_test_add_func ("/relay-request/access-strings", test_access_strings);
  g_test_add_func ("/relay-request/durations", test_durations);
  g_test_add_func ("/relay-request/sizes", test_sizes);
  g_test_add_func ("/relay-request/config-file", test_config_file);
  g_test_add_func ("/relay-request/page", test_page);

  return g_test_run ();
}
