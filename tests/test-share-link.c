/* test-share-link.c: formatting, parsing and every rejection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-share-link"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

#define MAILBOX "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define BASE    "https://relay.example/v1/m/" MAILBOX
/* 32 bytes 00 01 … 1f, unpadded base64url. */
#define SECRET  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

static GBytes *
counting_secret (gsize len)
{
  guint8 data[32];

  for (guint i = 0; i < len; i++)
    data[i] = i;
  return lk_secure_bytes_new (data, len);
}

static void
test_format_known_answer (void)
{
  g_autoptr(GBytes) secret = counting_secret (32);
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkSecureString) text = NULL;
  g_autoptr(LkSecureString) uri = NULL;
  g_autofree char *mailbox_url = NULL;
  g_autofree char *relay_url = NULL;

  link = lk_share_link_new ("https://relay.example", MAILBOX, LK_VERTICAL_CAR, secret, &error);
  g_assert_no_error (error);

  text = lk_share_link_to_string (link);
  g_assert_cmpstr (text, ==, BASE "?v=c#" SECRET);

  uri = lk_share_link_to_uri (link);
  g_assert_cmpstr (uri, ==, "latchkey:" BASE "?v=c#" SECRET);

  /* What goes to the relay carries neither the secret nor the vertical. */
  mailbox_url = lk_share_link_get_mailbox_url (link);
  g_assert_cmpstr (mailbox_url, ==, BASE);
  relay_url = lk_share_link_get_relay_url (link);
  g_assert_cmpstr (relay_url, ==, "https://relay.example");
}

static void
test_format_ports_and_hosts (void)
{
  static const struct {
    const char *relay;
    LkVertical vertical;
    const char *expected;
  } cases[] = {
    { "https://relay.example:8443", LK_VERTICAL_GENERIC,
      "https://relay.example:8443/v1/m/" MAILBOX "?v=a#" SECRET },
    { "https://Relay.Example/ignored/path", LK_VERTICAL_HOME,
      "https://relay.example/v1/m/" MAILBOX "?v=h#" SECRET },
    { "http://127.0.0.1:9000", LK_VERTICAL_CAR,
      "http://127.0.0.1:9000/v1/m/" MAILBOX "?v=c#" SECRET },
    { "https://[2001:db8::1]:8443", LK_VERTICAL_CAR,
      "https://[2001:db8::1]:8443/v1/m/" MAILBOX "?v=c#" SECRET },
  };
  g_autoptr(GBytes) secret = counting_secret (32);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LkShareLink) link = NULL;
      g_autoptr(LkShareLink) again = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(LkSecureString) text = NULL;
      g_autoptr(LkSecureString) text_again = NULL;

      link = lk_share_link_new (cases[i].relay, MAILBOX, cases[i].vertical, secret, &error);
      g_assert_no_error (error);
      text = lk_share_link_to_string (link);
      g_assert_cmpstr (text, ==, cases[i].expected);

      again = lk_share_link_parse (text, &error);
      g_assert_no_error (error);
      text_again = lk_share_link_to_string (again);
      g_assert_cmpstr (text_again, ==, text);
    }
}

static void
test_parse_accepts (void)
{
  static const struct {
    const char *text;
    LkVertical vertical;
    gsize secret_len;
    const char *host;
    int port;
  } cases[] = {
    { BASE "?v=c#" SECRET, LK_VERTICAL_CAR, 32, "relay.example", -1 },
    { "latchkey:" BASE "?v=h#" SECRET, LK_VERTICAL_HOME, 32, "relay.example", -1 },
    { "LATCHKEY:" BASE "?v=a#" SECRET, LK_VERTICAL_GENERIC, 32, "relay.example", -1 },
    { "  " BASE "?v=c#" SECRET "\n", LK_VERTICAL_CAR, 32, "relay.example", -1 },
    { BASE "#" SECRET, LK_VERTICAL_GENERIC, 32, "relay.example", -1 },
    { BASE "?#" SECRET, LK_VERTICAL_GENERIC, 32, "relay.example", -1 },
    /* The draft's own example secret: standard base64 of 16 bytes (AES-128). */
    { BASE "?v=c#hXlr6aRC7KgJpOLTNZaLsw==", LK_VERTICAL_CAR, 16, "relay.example", -1 },
    { BASE "?v=c#hXlr6aRC7KgJpOLTNZaLsw%3D%3D", LK_VERTICAL_CAR, 16, "relay.example", -1 },
    { BASE "?v=c#AAECAwQFBgcICQoLDA0ODw", LK_VERTICAL_CAR, 16, "relay.example", -1 },
    { "HTTPS://RELAY.EXAMPLE:443/v1/m/6BA7B810-9DAD-11D1-80B4-00C04FD430C8?v=c#" SECRET,
      LK_VERTICAL_CAR, 32, "relay.example", 443 },
    { "http://localhost:8080/v1/m/" MAILBOX "?v=a#" SECRET, LK_VERTICAL_GENERIC, 32, "localhost", 8080 },
    { "http://[::1]:8080/v1/m/" MAILBOX "?v=a#" SECRET, LK_VERTICAL_GENERIC, 32, "::1", 8080 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LkShareLink) link = NULL;
      g_autoptr(GError) error = NULL;

      link = lk_share_link_parse (cases[i].text, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (lk_share_link_get_mailbox_id (link), ==, MAILBOX);
      g_assert_cmpint (lk_share_link_get_vertical (link), ==, cases[i].vertical);
      g_assert_cmpuint (g_bytes_get_size (lk_share_link_get_secret (link)), ==, cases[i].secret_len);
      g_assert_cmpstr (lk_share_link_get_host (link), ==, cases[i].host);
      g_assert_cmpint (lk_share_link_get_port (link), ==, cases[i].port);
      g_assert_true (lk_share_link_looks_like_link (cases[i].text));
    }
}

static void
test_parse_rejects (void)
{
  g_autofree char *padding = g_strnfill (LK_SHARE_LINK_MAX_LENGTH, 'A');
  g_autofree char *too_long = g_strconcat (BASE "?v=c#", padding, NULL);
  const struct {
    const char *text;
    int code;
  } cases[] = {
    { too_long, LK_LINK_ERROR_TOO_LONG },
    { "", LK_LINK_ERROR_MALFORMED },
    { "not a link", LK_LINK_ERROR_MALFORMED },
    { "latchkey:", LK_LINK_ERROR_MALFORMED },
    { "latchkey://relay.example/v1/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_MALFORMED },
    { "ftp://relay.example/v1/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_SCHEME },
    { "mailto:someone@relay.example", LK_LINK_ERROR_SCHEME },
    { "http://relay.example/v1/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_SCHEME },
    { "latchkey:ftp://relay.example/v1/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_SCHEME },
    { "https:///v1/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_HOST },
    { "https://relay.example@evil.example/v1/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_HOST },
    { "https://relay.example:0/v1/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_HOST },
    { "https://relay.example#" SECRET, LK_LINK_ERROR_PATH },
    { "https://relay.example/#" SECRET, LK_LINK_ERROR_PATH },
    { "https://relay.example/v1#" SECRET, LK_LINK_ERROR_PATH },
    { "https://relay.example/v1/m#" SECRET, LK_LINK_ERROR_PATH },
    { "https://relay.example/v1/m/#" SECRET, LK_LINK_ERROR_PATH },
    { BASE "/extra#" SECRET, LK_LINK_ERROR_PATH },
    { BASE "/#" SECRET, LK_LINK_ERROR_PATH },
    { "https://relay.example/api/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_PATH },
    { "https://relay.example/v1/x/" MAILBOX "#" SECRET, LK_LINK_ERROR_PATH },
    { "https://relay.example/v2/m/" MAILBOX "#" SECRET, LK_LINK_ERROR_VERSION },
    { "https://relay.example/v1/m/not-a-uuid#" SECRET, LK_LINK_ERROR_MAILBOX_ID },
    { "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c#" SECRET, LK_LINK_ERROR_MAILBOX_ID },
    { BASE "?v=x#" SECRET, LK_LINK_ERROR_VERTICAL },
    { BASE "?v=#" SECRET, LK_LINK_ERROR_VERTICAL },
    { BASE "?v#" SECRET, LK_LINK_ERROR_VERTICAL },
    { BASE "?v=car#" SECRET, LK_LINK_ERROR_VERTICAL },
    { BASE "?v=a&v=c#" SECRET, LK_LINK_ERROR_PARAMETER },
    { BASE "?fbclid=x&v=a&v=a#" SECRET, LK_LINK_ERROR_PARAMETER },
    { BASE "?utm_source=chat&v=x#" SECRET, LK_LINK_ERROR_VERTICAL },
    { BASE "?v=c", LK_LINK_ERROR_SECRET_MISSING },
    { BASE "?v=c#", LK_LINK_ERROR_SECRET_MISSING },
    { BASE "?v=c#AAAA", LK_LINK_ERROR_SECRET_SHORT },
    { BASE "?v=c#AAECAwQFBgcICQoLDA0O", LK_LINK_ERROR_SECRET_SHORT },
    { BASE "?v=c#AAECAwQFBgcICQoLDA0ODxAREhM", LK_LINK_ERROR_SECRET_INVALID },
    { BASE "?v=c#" SECRET "AAAA", LK_LINK_ERROR_SECRET_INVALID },
    { BASE "?v=c#!!!!", LK_LINK_ERROR_SECRET_INVALID },
    { BASE "?v=c#%zz", LK_LINK_ERROR_SECRET_INVALID },
    { BASE "?v=c#AAECAwQFBgcICQoLDA0ODxAR-+ITFBUWFxgZGhscHR4f", LK_LINK_ERROR_SECRET_INVALID },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LkShareLink) link = NULL;
      g_autoptr(GError) error = NULL;

      link = lk_share_link_parse (cases[i].text, &error);
      if (error == NULL || error->code != (int) cases[i].code)
        g_test_message ("case %u: %.80s → %s", i, cases[i].text, error ? error->message : "accepted");
      g_assert_error (error, LK_LINK_ERROR, cases[i].code);
      g_assert_null (link);
      /* Every error is a sentence for the user, and none quotes the secret. */
      g_assert_cmpuint (strlen (error->message), >, 10);
      g_assert_null (strstr (error->message, SECRET));
    }
}

/* Issue 13: parameters messengers add are ignored, not refused; v still
 * counts, and must still be valid and given once. */
static void
test_parse_unknown_parameters (void)
{
  const struct {
    const char *text;
    LkVertical vertical;
  } cases[] = {
    { BASE "?v=h&fbclid=IwAR0abc#" SECRET, LK_VERTICAL_HOME },
    { BASE "?fbclid=IwAR0abc&v=c#" SECRET, LK_VERTICAL_CAR },
    { BASE "?v=h&utm_source=whatsapp&utm_medium=chat&utm_campaign=x#" SECRET, LK_VERTICAL_HOME },
    { BASE "?w=a#" SECRET, LK_VERTICAL_GENERIC },
    { BASE "?v=c&#" SECRET, LK_VERTICAL_CAR },
    { BASE "?&&v=c&x#" SECRET, LK_VERTICAL_CAR },
    { "latchkey:" BASE "?v=h&si=abc%20def#" SECRET, LK_VERTICAL_HOME },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LkShareLink) link = lk_share_link_parse (cases[i].text, &error);
      g_autofree char *again = NULL;

      g_test_message ("%s", cases[i].text);
      g_assert_no_error (error);
      g_assert_cmpint (lk_share_link_get_vertical (link), ==, cases[i].vertical);
      /* What we write back carries v only. */
      again = lk_share_link_to_string (link);
      g_assert_null (strstr (again, "fbclid"));
      g_assert_null (strstr (again, "utm_"));
    }
}

/* Issue 13: the draft recommends sending the secret over another channel; a
 * link without a fragment is taken with the secret given separately. */
static void
test_parse_secret_separate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkShareLink) alone = lk_share_link_parse (BASE "?v=h", &error);
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(LkShareLink) whole = lk_share_link_parse (BASE "?v=h#" SECRET, NULL);

  /* Alone, it says what is missing, so that the app can ask for it. */
  g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_MISSING);
  g_assert_null (alone);
  g_clear_error (&error);

  link = lk_share_link_parse_with_secret (BASE "?v=h", " " SECRET "\n", &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (lk_share_link_get_secret (link), lk_share_link_get_secret (whole)));
  g_assert_cmpint (lk_share_link_get_vertical (link), ==, LK_VERTICAL_HOME);
  g_clear_object (&link);

  /* With an empty fragment, the draft's 16-byte example, or a '#' pasted too. */
  link = lk_share_link_parse_with_secret ("latchkey:" BASE "?v=c#", "hXlr6aRC7KgJpOLTNZaLsw==", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (lk_share_link_get_secret (link)), ==, 16);
  g_clear_object (&link);
  link = lk_share_link_parse_with_secret (BASE, "#" SECRET, &error);
  g_assert_no_error (error);
  g_clear_object (&link);

  /* A bad secret, a bad link, or a link with a secret of its own. */
  link = lk_share_link_parse_with_secret (BASE "?v=h", "AAAA", &error);
  g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_SHORT);
  g_clear_error (&error);
  link = lk_share_link_parse_with_secret (BASE "?v=h", "", &error);
  g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_MISSING);
  g_clear_error (&error);
  link = lk_share_link_parse_with_secret ("https://relay.example/v2/m/" MAILBOX, SECRET, &error);
  g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_VERSION);
  g_clear_error (&error);
  link = lk_share_link_parse_with_secret (BASE "?v=h#" SECRET, SECRET, &error);
  g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_MALFORMED);
  g_assert_null (strstr (error->message, SECRET));
  g_assert_null (link);
}

static void
test_new_rejects (void)
{
  g_autoptr(GBytes) short_secret = counting_secret (8);
  g_autoptr(GBytes) secret = counting_secret (32);
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GError) error = NULL;

  link = lk_share_link_new ("https://relay.example", MAILBOX, LK_VERTICAL_CAR, short_secret, &error);
  g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_SHORT);
  g_clear_error (&error);

  link = lk_share_link_new ("https://relay.example", "nope", LK_VERTICAL_CAR, secret, &error);
  g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_MAILBOX_ID);
  g_clear_error (&error);

  link = lk_share_link_new ("relay.example", MAILBOX, LK_VERTICAL_CAR, secret, &error);
  g_assert_error (error, LK_LINK_ERROR, LK_LINK_ERROR_MALFORMED);
  g_clear_error (&error);

  /* The relay's urlLink is the usual way in. */
  link = lk_share_link_new_for_mailbox (BASE, LK_VERTICAL_HOME, secret, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lk_share_link_get_vertical (link), ==, LK_VERTICAL_HOME);
}

static void
test_server_url (void)
{
  static const char *good[] = {
    "https://relay.example", "https://relay.example/", "https://relay.example:8443",
    "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:8080/",
  };
  static const struct { const char *url; int code; } bad[] = {
    { "", LK_LINK_ERROR_MALFORMED },
    { "relay.example", LK_LINK_ERROR_MALFORMED },
    { "ftp://relay.example", LK_LINK_ERROR_SCHEME },
    { "http://relay.example", LK_LINK_ERROR_SCHEME },
    { "http://192.168.1.2", LK_LINK_ERROR_SCHEME },
    { "https://user@relay.example", LK_LINK_ERROR_HOST },
    { "https://relay.example/v1/m", LK_LINK_ERROR_PATH },
    { "https://relay.example/?a=b", LK_LINK_ERROR_PATH },
    { "https://relay.example/#x", LK_LINK_ERROR_PATH },
  };
  g_autofree char *huge = g_strnfill (LK_SHARE_LINK_MAX_LENGTH + 1, 'a');

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", good[i]);
      g_assert_true (lk_share_link_check_server_url (good[i], &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", bad[i].url);
      g_assert_false (lk_share_link_check_server_url (bad[i].url, &error));
      g_assert_error (error, LK_LINK_ERROR, bad[i].code);
    }
  g_assert_false (lk_share_link_check_server_url (huge, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/share-link/format/known-answer", test_format_known_answer);
  g_test_add_func ("/share-link/format/ports-and-hosts", test_format_ports_and_hosts);
  g_test_add_func ("/share-link/parse/accepts", test_parse_accepts);
  g_test_add_func ("/share-link/parse/rejects", test_parse_rejects);
  g_test_add_func ("/share-link/parse/unknown-parameters", test_parse_unknown_parameters);
  g_test_add_func ("/share-link/parse/secret-separate", test_parse_secret_separate);
  g_test_add_func ("/share-link/new/rejects", test_new_rejects);
  g_test_add_func ("/share-link/server-url", test_server_url);

  return g_test_run ();
}
