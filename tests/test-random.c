/* test-random.c: many random links and messages, and every bit flip
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Randomness comes from g_test_rand_*(), so a failure is reproduced with the
 * --seed that the test log prints.
 */

#define G_LOG_DOMAIN "test-random"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

#define ROUNDS 10000

static GBytes *
random_bytes (gsize len)
{
  guint8 data[64];

  g_assert_cmpuint (len, <=, sizeof data);
  for (gsize i = 0; i < len; i++)
    data[i] = g_test_rand_int_range (0, 256);
  return lk_secure_bytes_new (data, len);
}

static char *
random_uuid (void)
{
  guint8 b[16];

  for (guint i = 0; i < 16; i++)
    b[i] = g_test_rand_int_range (0, 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;

  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                          b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static char *
random_relay (void)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  g_autoptr(GString) host = g_string_new (NULL);
  g_autofree char *port = NULL;
  const char *scheme = "https";

  switch (g_test_rand_int_range (0, 4))
    {
    case 0:
      g_string_printf (host, "%d.%d.%d.%d", g_test_rand_int_range (1, 224), g_test_rand_int_range (0, 256),
                       g_test_rand_int_range (0, 256), g_test_rand_int_range (1, 255));
      break;
    case 1:
      g_string_printf (host, "[2001:db8::%x]", g_test_rand_int_range (1, 0xffff));
      break;
    case 2:
      scheme = "http";
      g_string_printf (host, "127.0.0.%d", g_test_rand_int_range (1, 255));
      break;
    default:
      for (int labels = g_test_rand_int_range (1, 5); labels > 0; labels--)
        {
          for (int n = g_test_rand_int_range (1, 20); n > 0; n--)
            g_string_append_c (host, alphabet[g_test_rand_int_range (0, sizeof alphabet - 1)]);
          if (labels > 1)
            g_string_append_c (host, '.');
        }
    }

  if (g_test_rand_bit ())
    port = g_strdup_printf (":%d", g_test_rand_int_range (1, 65536));

  return g_strdup_printf ("%s://%s%s", scheme, host->str, port ? port : "");
}

static void
test_random_links (void)
{
  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autofree char *relay = random_relay ();
      g_autofree char *mailbox = random_uuid ();
      g_autoptr(GBytes) secret = random_bytes (g_test_rand_bit () ? 32 : 16);
      LkVertical vertical = g_test_rand_int_range (LK_VERTICAL_GENERIC, LK_VERTICAL_CAR + 1);
      g_autoptr(LkShareLink) link = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(LkSecureString) text = NULL;
      g_autoptr(LkSecureString) uri = NULL;

      link = lk_share_link_new (relay, mailbox, vertical, secret, &error);
      g_assert_no_error (error);
      text = lk_share_link_to_string (link);
      uri = lk_share_link_to_uri (link);

      for (guint form = 0; form < 2; form++)
        {
          g_autoptr(LkShareLink) parsed = lk_share_link_parse (form ? uri : text, &error);
          g_autoptr(LkSecureString) again = NULL;
          g_autofree char *relay_again = NULL;

          if (error != NULL)
            g_test_message ("%s", form ? uri : text);
          g_assert_no_error (error);
          g_assert_cmpstr (lk_share_link_get_mailbox_id (parsed), ==, mailbox);
          g_assert_cmpint (lk_share_link_get_vertical (parsed), ==, vertical);
          g_assert_true (g_bytes_equal (lk_share_link_get_secret (parsed), secret));
          relay_again = lk_share_link_get_relay_url (parsed);
          g_assert_cmpstr (relay_again, ==, relay);
          again = lk_share_link_to_string (parsed);
          g_assert_cmpstr (again, ==, text);
        }
    }
}

static char *
random_text (void)
{
  /* ASCII, Latin, CJK, emoji and characters JSON must escape. */
  static const char * const pieces[] = { "a", "Z", "7", " ", "é", "ß", "鍵", "🔑", "\"", "\\", "\n", "\t", "/", "\x01" };
  g_autoptr(GString) text = g_string_new (NULL);

  for (int n = g_test_rand_int_range (0, 40); n > 0; n--)
    g_string_append (text, pieces[g_test_rand_int_range (0, G_N_ELEMENTS (pieces))]);

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static JsonObject *
random_content_at (guint depth)
{
  JsonObject *content = json_object_new ();

  for (int n = g_test_rand_int_range (0, 8); n > 0; n--)
    {
      g_autofree char *name = g_strdup_printf ("k%d", n);

      switch (g_test_rand_int_range (0, 4))
        {
        case 0:
          {
            g_autofree char *text = random_text ();
            json_object_set_string_member (content, name, text);
          }
          break;
        case 1:
          json_object_set_int_member (content, name, (gint64) g_test_rand_int () * g_test_rand_int ());
          break;
        case 2:
          json_object_set_boolean_member (content, name, g_test_rand_bit ());
          break;
        default:
          /* Deep enough to exercise nesting, inside LK_JSON_MAX_DEPTH. */
          if (depth < 8)
            json_object_set_object_member (content, name, random_content_at (depth + 1));
        }
    }

  return content;
}

static JsonObject *
random_content (void)
{
  return random_content_at (0);
}

static gboolean
json_equal (JsonObject *a,
            JsonObject *b)
{
  g_autoptr(JsonNode) na = json_node_init_object (json_node_alloc (), a);
  g_autoptr(JsonNode) nb = json_node_init_object (json_node_alloc (), b);

  return json_node_equal (na, nb);
}

static void
test_random_messages (void)
{
  LkChannel *sides[2] = { NULL, NULL };
  g_autofree char *mailbox = NULL;
  g_autoptr(GBytes) key = NULL;
  guint rounds_in_transfer = 0;

  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autoptr(JsonObject) content = random_content ();
      g_autoptr(JsonObject) payload = NULL;
      g_autoptr(JsonObject) opened = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *format = NULL;
      guint from;

      /* A fresh transfer, with a fresh key and mailbox, now and then. */
      if (sides[0] == NULL || rounds_in_transfer == 40)
        {
          g_clear_object (&sides[0]);
          g_clear_object (&sides[1]);
          g_clear_pointer (&mailbox, g_free);
          g_clear_pointer (&key, g_bytes_unref);
          mailbox = random_uuid ();
          key = random_bytes (g_test_rand_bit () ? 32 : 16);
          sides[0] = lk_channel_new (key, mailbox, LK_ROLE_INITIATOR);
          sides[1] = lk_channel_new (key, mailbox, LK_ROLE_RECIPIENT);
          rounds_in_transfer = 0;
        }
      rounds_in_transfer++;

      from = g_test_rand_bit ();
      payload = lk_channel_seal (sides[from], "org.example.random", content, LK_SEAL_FLAGS_NONE, &error);
      g_assert_no_error (error);

      opened = lk_channel_open (sides[!from], payload, &format, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (format, ==, "org.example.random");
      g_assert_true (json_equal (opened, content));
    }

  g_clear_object (&sides[0]);
  g_clear_object (&sides[1]);
}

static void
test_every_bit_flip (void)
{
  g_autoptr(GBytes) key = random_bytes (32);
  g_autoptr(LkChannel) sender = lk_channel_new (key, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", LK_ROLE_INITIATOR);
  g_autoptr(LkChannel) recipient = lk_channel_new (key, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", LK_ROLE_RECIPIENT);
  g_autoptr(JsonObject) content = random_content ();
  g_autoptr(JsonObject) payload = NULL;
  g_autofree guint8 *raw = NULL;
  gsize raw_len, flips = 0;
  const char *data;

  payload = lk_channel_seal (sender, "org.example.flip", content, LK_SEAL_FLAGS_NONE, NULL);
  data = json_object_get_string_member (payload, "data");
  raw = g_base64_decode (data, &raw_len);

  for (gsize bit = 0; bit < raw_len * 8; bit++)
    {
      g_autoptr(JsonObject) flipped = json_object_new ();
      g_autoptr(JsonObject) opened = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *flipped_data = NULL;

      raw[bit / 8] ^= 1 << (bit % 8);
      flipped_data = g_base64_encode (raw, raw_len);
      raw[bit / 8] ^= 1 << (bit % 8);

      json_object_set_string_member (flipped, "type", json_object_get_string_member (payload, "type"));
      json_object_set_string_member (flipped, "data", flipped_data);

      opened = lk_channel_open (recipient, flipped, NULL, &error);
      g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_DECRYPT);
      g_assert_null (opened);
      flips++;
    }

  g_test_message ("%" G_GSIZE_FORMAT " single-bit flips of a %" G_GSIZE_FORMAT "-byte message, all rejected",
                  flips, raw_len);
  g_assert_cmpuint (lk_channel_get_n_messages (recipient), ==, 0);

  /* The untouched message still opens: the flips were the only problem. */
  {
    g_autoptr(JsonObject) opened = lk_channel_open (recipient, payload, NULL, NULL);
    g_assert_nonnull (opened);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/random/links", test_random_links);
  g_test_add_func ("/random/messages", test_random_messages);
  g_test_add_func ("/random/every-bit-flip", test_every_bit_flip);

  return g_test_run ();
}
