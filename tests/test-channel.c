/* test-channel.c: sealing, opening and every rejection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-channel"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"
#include "lk-channel-private.h"

#define MAILBOX       "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define OTHER_MAILBOX "0f8fad5b-d9cb-469f-a165-70867728950e"
#define FORMAT        "digitalwallet.generic.authorizationToken"

static GBytes *
counting_key (gsize len)
{
  guint8 data[32];

  for (guint i = 0; i < len; i++)
    data[i] = i;
  return lk_secure_bytes_new (data, len);
}

static JsonObject *
content_new (const char *token)
{
  JsonObject *content = json_object_new ();

  json_object_set_string_member (content, "accessToken", token);
  return content;
}

static JsonObject *
seal (LkChannel  *channel,
      const char *token,
      LkSealFlags flags)
{
  g_autoptr(JsonObject) content = content_new (token);
  g_autoptr(GError) error = NULL;
  JsonObject *payload;

  payload = lk_channel_seal (channel, FORMAT, content, flags, &error);
  g_assert_no_error (error);
  g_assert_nonnull (payload);
  return payload;
}

static void
open_ok (LkChannel  *channel,
         JsonObject *payload,
         const char *token)
{
  g_autoptr(JsonObject) content = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *format = NULL;

  content = lk_channel_open (channel, payload, &format, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (format, ==, FORMAT);
  g_assert_cmpstr (json_object_get_string_member (content, "accessToken"), ==, token);
}

static void
open_fails (LkChannel      *channel,
            JsonObject     *payload,
            int             code)
{
  g_autoptr(JsonObject) content = NULL;
  g_autoptr(GError) error = NULL;
  guint before = lk_channel_get_n_messages (channel);

  content = lk_channel_open (channel, payload, NULL, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, code);
  g_assert_null (content);
  /* A rejected message leaves the transcript alone. */
  g_assert_cmpuint (lk_channel_get_n_messages (channel), ==, before);
}

/* A golden vector. The data below was computed independently of this code,
 * with Python's `cryptography` (OpenSSL) AESGCM over PLAINTEXT, so it pins
 * both the plaintext layout and the wire format. */
#define KAT_IV "\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab"
#define KAT_PLAINTEXT \
  "{\"format\":\"digitalwallet.generic.authorizationToken\"," \
  "\"content\":{\"accessToken\":\"door-1234\"}," \
  "\"mailboxIdentifier\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\"," \
  "\"sequenceNumber\":0,\"revision\":0,\"senderRole\":\"initiator\"," \
  "\"previousDigest\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"
#include "channel-vectors.h"

static void
test_known_answer_seal (void)
{
  g_autoptr(GBytes) key = counting_key (32);
  g_autoptr(LkChannel) sender = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(JsonObject) content = content_new ("door-1234");
  g_autoptr(JsonObject) payload = NULL;
  g_autoptr(GError) error = NULL;

  payload = _lk_channel_seal_with_iv (sender, FORMAT, content, LK_SEAL_FLAGS_NONE,
                                      (const guint8 *) KAT_IV, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (payload, "type"), ==, "AEAD_AES_256_GCM");
  g_assert_cmpstr (json_object_get_string_member (payload, "data"), ==, KAT_DATA_256);
}

static void
test_known_answer_open_128 (void)
{
  g_autoptr(GBytes) key = counting_key (16);
  g_autoptr(LkChannel) recipient = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(JsonObject) payload = json_object_new ();

  json_object_set_string_member (payload, "type", "AEAD_AES_128_GCM");
  json_object_set_string_member (payload, "data", KAT_DATA_128);
  open_ok (recipient, payload, "door-1234");
}

static void
test_round_trip (void)
{
  g_autoptr(GBytes) key = counting_key (32);
  g_autoptr(LkChannel) sender = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(LkChannel) recipient = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(JsonObject) m0 = NULL;
  g_autoptr(JsonObject) m1 = NULL;
  g_autoptr(JsonObject) m2 = NULL;
  g_autoptr(JsonObject) m3 = NULL;

  /* Both directions, and two in a row from one side (the draft allows it). */
  m0 = seal (sender, "create", 0);
  open_ok (recipient, m0, "create");
  m1 = seal (recipient, "signing", 0);
  open_ok (sender, m1, "signing");
  m2 = seal (sender, "import", 0);
  m3 = seal (sender, "more", 0);
  open_ok (recipient, m2, "import");
  open_ok (recipient, m3, "more");
  g_assert_cmpuint (lk_channel_get_n_messages (sender), ==, 4);
  g_assert_cmpuint (lk_channel_get_n_messages (recipient), ==, 4);
}

static void
test_rejects (void)
{
  g_autoptr(GBytes) key = counting_key (32);
  g_autoptr(GBytes) other_key = lk_crypto_new_secret (NULL);
  g_autoptr(LkChannel) sender = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(LkChannel) recipient = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(LkChannel) wrong_key = lk_channel_new (other_key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(LkChannel) wrong_mailbox = lk_channel_new (key, OTHER_MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(LkChannel) impostor = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(JsonObject) m0 = seal (sender, "zero", 0);
  g_autoptr(JsonObject) m1 = seal (sender, "one", 0);
  g_autoptr(JsonObject) fake0 = seal (impostor, "fake zero", 0);
  g_autoptr(JsonObject) fake1 = seal (impostor, "fake one", 0);
  g_autoptr(JsonObject) tampered = json_object_new ();
  g_autoptr(JsonObject) bad = json_object_new ();
  g_autofree char *data = g_strdup (json_object_get_string_member (m0, "data"));
  g_autofree char *huge = g_strnfill (LK_MESSAGE_MAX_DATA_LENGTH + 4, 'A');

  open_fails (wrong_key, m0, LK_MESSAGE_ERROR_DECRYPT);

  data[20] = data[20] == 'A' ? 'B' : 'A';
  json_object_set_string_member (tampered, "type", "AEAD_AES_256_GCM");
  json_object_set_string_member (tampered, "data", data);
  open_fails (recipient, tampered, LK_MESSAGE_ERROR_DECRYPT);

  open_fails (wrong_mailbox, m0, LK_MESSAGE_ERROR_WRONG_MAILBOX);
  open_fails (sender, m0, LK_MESSAGE_ERROR_REFLECTED);
  open_fails (recipient, m1, LK_MESSAGE_ERROR_OUT_OF_ORDER);

  open_ok (recipient, m0, "zero");
  open_fails (recipient, m0, LK_MESSAGE_ERROR_REPLAYED);
  /* The impostor's second message has the right number but not the right past. */
  open_fails (recipient, fake1, LK_MESSAGE_ERROR_BROKEN_CHAIN);
  open_fails (recipient, fake0, LK_MESSAGE_ERROR_REPLAYED);
  open_ok (recipient, m1, "one");

  json_object_set_string_member (bad, "type", "AEAD_CHACHA20_POLY1305");
  json_object_set_string_member (bad, "data", "AAAA");
  open_fails (recipient, bad, LK_MESSAGE_ERROR_UNSUPPORTED);
  json_object_set_string_member (bad, "type", "AEAD_AES_128_GCM");
  open_fails (recipient, bad, LK_MESSAGE_ERROR_UNSUPPORTED);
  json_object_set_string_member (bad, "type", "AEAD_AES_256_GCM");
  json_object_set_string_member (bad, "data", "not base64!");
  open_fails (recipient, bad, LK_MESSAGE_ERROR_MALFORMED);
  json_object_set_string_member (bad, "data", "AAAA");
  open_fails (recipient, bad, LK_MESSAGE_ERROR_MALFORMED);
  json_object_set_string_member (bad, "data", huge);
  open_fails (recipient, bad, LK_MESSAGE_ERROR_TOO_LARGE);
  json_object_set_int_member (bad, "data", 5);
  open_fails (recipient, bad, LK_MESSAGE_ERROR_MALFORMED);
  json_object_remove_member (bad, "data");
  open_fails (recipient, bad, LK_MESSAGE_ERROR_MALFORMED);
  json_object_remove_member (bad, "type");
  open_fails (recipient, bad, LK_MESSAGE_ERROR_MALFORMED);
}

static void
test_plaintext_rejects (void)
{
  static const char * const bad[] = {
    "",
    "[]",
    "{",
    "{\"format\":\"f\"}",
    "{\"format\":\"f\",\"content\":[],\"mailboxIdentifier\":\"" MAILBOX "\",\"sequenceNumber\":0,"
      "\"senderRole\":\"initiator\",\"previousDigest\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
    "{\"format\":\"f\",\"content\":{},\"mailboxIdentifier\":\"" MAILBOX "\",\"sequenceNumber\":-1,"
      "\"senderRole\":\"initiator\",\"previousDigest\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
    "{\"format\":\"f\",\"content\":{},\"mailboxIdentifier\":\"" MAILBOX "\",\"sequenceNumber\":\"0\","
      "\"senderRole\":\"initiator\",\"previousDigest\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
    "{\"format\":\"f\",\"content\":{},\"mailboxIdentifier\":\"" MAILBOX "\",\"sequenceNumber\":0,"
      "\"senderRole\":\"someone\",\"previousDigest\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
    "{\"format\":\"f\",\"content\":{},\"mailboxIdentifier\":\"" MAILBOX "\",\"sequenceNumber\":0,"
      "\"senderRole\":\"initiator\",\"previousDigest\":\"AAAA\"}",
    "{\"format\":\"\",\"content\":{},\"mailboxIdentifier\":\"" MAILBOX "\",\"sequenceNumber\":0,"
      "\"senderRole\":\"initiator\",\"previousDigest\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
    "{\"format\":\"f\",\"content\":{},\"mailboxIdentifier\":\"" MAILBOX "\",\"sequenceNumber\":0,"
      "\"revision\":1000,\"senderRole\":\"initiator\","
      "\"previousDigest\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
  };
  g_autoptr(GBytes) key = counting_key (32);
  g_autoptr(LkChannel) recipient = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(GString) deep = g_string_new ("{\"a\":");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonObject) content = NULL;
      g_autoptr(GError) error = NULL;

      content = _lk_channel_open_plaintext (recipient, bad[i], strlen (bad[i]), NULL, &error);
      g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED);
      g_assert_null (content);
    }

  /* Nesting a hundred thousand levels deep must fail cleanly, not overflow the stack. */
  for (guint i = 0; i < 100000; i++)
    g_string_append (deep, "[");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) content = _lk_channel_open_plaintext (recipient, deep->str, deep->len, NULL, &error);

    g_assert_null (content);
    g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED);
  }
  g_assert_cmpuint (lk_channel_get_n_messages (recipient), ==, 0);
}

static void
test_seal_rejects (void)
{
  g_autoptr(GBytes) key = counting_key (32);
  g_autoptr(LkChannel) sender = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(JsonObject) deep = json_object_new ();
  g_autoptr(JsonObject) big = json_object_new ();
  g_autoptr(JsonObject) payload = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *huge = g_strnfill (LK_MESSAGE_MAX_DATA_LENGTH, 'x');
  JsonObject *level = deep;

  for (guint i = 0; i < LK_JSON_MAX_DEPTH + 1; i++)
    {
      JsonObject *child = json_object_new ();

      json_object_set_object_member (level, "a", child);
      level = child;
    }

  payload = lk_channel_seal (sender, FORMAT, deep, 0, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED);
  g_clear_error (&error);

  json_object_set_string_member (big, "blob", huge);
  payload = lk_channel_seal (sender, FORMAT, big, 0, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_TOO_LARGE);
  g_assert_null (payload);

  /* Refusals do not advance the transcript. */
  g_assert_cmpuint (lk_channel_get_n_messages (sender), ==, 0);
}

static void
test_replace (void)
{
  g_autoptr(GBytes) key = counting_key (32);
  g_autoptr(LkChannel) sender = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(LkChannel) early = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(LkChannel) late = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(JsonObject) original = NULL;
  g_autoptr(JsonObject) cancel = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) content = content_new ("x");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) nothing = NULL;

  nothing = lk_channel_seal (sender, FORMAT, content, LK_SEAL_FLAGS_REPLACE, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_OUT_OF_ORDER);
  g_clear_error (&error);

  original = seal (sender, "original", 0);
  open_ok (early, original, "original");

  /* The relay keeps one slot: the sender overwrites its unread message. */
  cancel = seal (sender, "cancel", LK_SEAL_FLAGS_REPLACE);
  g_assert_cmpuint (lk_channel_get_n_messages (sender), ==, 1);

  open_ok (late, cancel, "cancel");           /* never saw the original */
  open_ok (early, cancel, "cancel");          /* saw it, now replaced */
  open_fails (early, original, LK_MESSAGE_ERROR_REPLAYED);
  open_fails (late, original, LK_MESSAGE_ERROR_REPLAYED);
  open_fails (early, cancel, LK_MESSAGE_ERROR_REPLAYED);

  /* Replies chain from the replacement. */
  reply = seal (late, "reply", 0);
  open_ok (sender, reply, "reply");

  /* A recipient cannot replace what the initiator said. */
  nothing = lk_channel_seal (early, FORMAT, content, LK_SEAL_FLAGS_REPLACE, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_OUT_OF_ORDER);
}

static void
test_state (void)
{
  g_autoptr(GBytes) key = counting_key (32);
  g_autoptr(LkChannel) sender = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(LkChannel) recipient = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(LkChannel) resumed = NULL;
  g_autoptr(JsonObject) state = NULL;
  g_autoptr(JsonObject) m0 = seal (sender, "zero", 0);
  g_autoptr(JsonObject) m1 = NULL;
  g_autoptr(JsonObject) m2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  open_ok (recipient, m0, "zero");
  m1 = seal (recipient, "one", 0);
  open_ok (sender, m1, "one");

  /* The sender quits here and comes back later. */
  state = lk_channel_save_state (sender);
  {
    g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), state);

    text = lk_json_to_string (node);
  }
  g_assert_null (strstr (text, "AAECAwQF"));  /* the key is not in the state */

  resumed = lk_channel_new_from_state (key, MAILBOX, LK_ROLE_INITIATOR, state, &error);
  g_assert_no_error (error);
  open_fails (resumed, m1, LK_MESSAGE_ERROR_REPLAYED);
  m2 = seal (resumed, "two", 0);
  open_ok (recipient, m2, "two");

  json_object_set_string_member (state, "lastDigest", "short");
  g_clear_object (&resumed);
  resumed = lk_channel_new_from_state (key, MAILBOX, LK_ROLE_INITIATOR, state, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED);
  g_assert_null (resumed);
}

/* Issue 13: a plain draft peer's {format, content}, PROTOCOL.md §3.5. */
#define PLAIN "{\"format\":\"" FORMAT "\",\"content\":{\"accessToken\":\"plain\"}}"

static void
test_plain_peer (void)
{
  g_autoptr(GBytes) key = counting_key (32);
  g_autoptr(LkChannel) recipient = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(LkChannel) chained = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(LkChannel) sender = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(LkChannel) resumed = NULL;
  g_autoptr(JsonObject) content = NULL;
  g_autoptr(JsonObject) ack = NULL;
  g_autoptr(JsonObject) m0 = NULL;
  g_autoptr(JsonObject) state = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *format = NULL;

  /* Taken as a recipient's first message. */
  g_assert_false (lk_channel_is_plain (recipient));
  content = _lk_channel_open_plaintext (recipient, PLAIN, strlen (PLAIN), &format, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (format, ==, FORMAT);
  g_assert_cmpstr (json_object_get_string_member (content, "accessToken"), ==, "plain");
  g_assert_true (lk_channel_is_plain (recipient));
  g_assert_cmpuint (lk_channel_get_n_messages (recipient), ==, 1);

  /* Again: it could be a replay, and nothing tells. */
  g_clear_pointer (&content, json_object_unref);
  content = _lk_channel_open_plaintext (recipient, PLAIN, strlen (PLAIN), NULL, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_REPLAYED);
  g_assert_null (content);
  g_clear_error (&error);

  /* Our answer is the draft's form: format and content, nothing else. */
  ack = seal (recipient, "ack", 0);
  {
    gsize raw_len;
    g_autofree guint8 *raw = g_base64_decode (json_object_get_string_member (ack, "data"), &raw_len);
    g_autoptr(GBytes) opened = lk_aead_open (key, raw, raw_len, &error);
    g_autoptr(JsonObject) plaintext = NULL;
    g_autoptr(GList) members = NULL;

    g_assert_no_error (error);
    plaintext = lk_json_parse_object (g_bytes_get_data (opened, NULL), g_bytes_get_size (opened), G_MAXSIZE,
                                      LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, &error);
    g_assert_no_error (error);
    members = json_object_get_members (plaintext);
    g_assert_cmpuint (g_list_length (members), ==, 2);
    g_assert_true (json_object_has_member (plaintext, "format"));
    g_assert_true (json_object_has_member (plaintext, "content"));
  }

  /* Resumed after a restart, it is still plain. */
  state = lk_channel_save_state (recipient);
  resumed = lk_channel_new_from_state (key, MAILBOX, LK_ROLE_RECIPIENT, state, &error);
  g_assert_no_error (error);
  g_assert_true (lk_channel_is_plain (resumed));

  /* Never a downgrade: after a chained message, and never for the initiator. */
  m0 = seal (sender, "zero", 0);
  open_ok (chained, m0, "zero");
  content = _lk_channel_open_plaintext (chained, PLAIN, strlen (PLAIN), NULL, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_BROKEN_CHAIN);
  g_assert_null (content);
  g_assert_false (lk_channel_is_plain (chained));
  g_clear_error (&error);
  content = _lk_channel_open_plaintext (sender, PLAIN, strlen (PLAIN), NULL, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_BROKEN_CHAIN);
  g_assert_null (content);
  g_clear_error (&error);

  /* Some of the chain is a damaged message of ours, not a plain one. */
  {
    static const char partial[] = "{\"format\":\"" FORMAT "\",\"content\":{},\"sequenceNumber\":0}";
    g_autoptr(LkChannel) fresh = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);

    content = _lk_channel_open_plaintext (fresh, partial, strlen (partial), NULL, &error);
    g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED);
    g_assert_null (content);
    g_assert_false (lk_channel_is_plain (fresh));
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/channel/known-answer/seal", test_known_answer_seal);
  g_test_add_func ("/channel/known-answer/open-aes-128", test_known_answer_open_128);
  g_test_add_func ("/channel/round-trip", test_round_trip);
  g_test_add_func ("/channel/rejects", test_rejects);
  g_test_add_func ("/channel/plaintext-rejects", test_plaintext_rejects);
  g_test_add_func ("/channel/seal-rejects", test_seal_rejects);
  g_test_add_func ("/channel/replace", test_replace);
  g_test_add_func ("/channel/state", test_state);
  g_test_add_func ("/channel/plain-peer", test_plain_peer);

  return g_test_run ();
}
