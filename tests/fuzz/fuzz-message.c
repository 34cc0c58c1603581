/* fuzz-message.c: libFuzzer target for the message opener
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The first byte picks a stage, so that the fuzzer reaches code behind the
 * AEAD as well as the envelope in front of it:
 *   0: the rest is a payload document ({type, data}) opened as received;
 *   1: the rest is a plaintext, encrypted with the right key, then opened,
 *      by a fresh channel and by one a message into its transcript;
 *   2: the rest is a stored credential (JSON) to load;
 *   3: the rest is a receiver's name (KeySigningRequest receiverName), to
 *      be shown to a car's owner: it must come out as bounded text.
 */

#define G_LOG_DOMAIN "fuzz-message"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

#define MAILBOX "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static GBytes *
fixed_key (void)
{
  static const guint8 key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

  return g_bytes_new_static (key, sizeof key);
}

static void
open_payload (LkChannel  *channel,
              JsonObject *payload)
{
  g_autoptr(JsonObject) content = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *format = NULL;
  guint before = lk_channel_get_n_messages (channel);

  content = lk_channel_open (channel, payload, &format, &error);
  g_assert ((content == NULL) == (error != NULL));
  if (content == NULL)
    {
      g_assert (error->domain == LK_MESSAGE_ERROR);
      g_assert (lk_channel_get_n_messages (channel) == before);
    }
  else
    g_assert (format != NULL && lk_channel_get_n_messages (channel) >= before);
}

static void
fuzz_payload (const char *text,
              gsize       len)
{
  g_autoptr(GBytes) key = fixed_key ();
  g_autoptr(LkChannel) channel = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(JsonObject) payload = NULL;

  payload = lk_json_parse_object (text, len, 256 * 1024, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, NULL);
  if (payload != NULL)
    open_payload (channel, payload);
}

static void
fuzz_plaintext (const char *text,
                gsize       len)
{
  g_autoptr(GBytes) key = fixed_key ();
  g_autoptr(LkChannel) fresh = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(LkChannel) sender = lk_channel_new (key, MAILBOX, LK_ROLE_INITIATOR);
  g_autoptr(LkChannel) later = lk_channel_new (key, MAILBOX, LK_ROLE_RECIPIENT);
  g_autoptr(JsonObject) first_content = json_object_new ();
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) opened = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(JsonObject) payload = json_object_new ();
  g_autofree char *data = NULL;

  sealed = lk_aead_seal (key, NULL, text, len, NULL);
  g_assert (sealed != NULL);
  data = g_base64_encode (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));
  json_object_set_string_member (payload, "type", LK_PAYLOAD_TYPE_AES_256_GCM);
  json_object_set_string_member (payload, "data", data);

  open_payload (fresh, payload);

  first = lk_channel_seal (sender, "org.example.fuzz", first_content, LK_SEAL_FLAGS_NONE, NULL);
  opened = lk_channel_open (later, first, NULL, NULL);
  g_assert (opened != NULL);
  open_payload (later, payload);
}

static void
fuzz_credential (const char *text,
                 gsize       len)
{
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) error = NULL;

  credential = lk_credential_new_from_json (text, len, &error);
  g_assert ((credential == NULL) == (error != NULL));

  if (credential != NULL)
    {
      g_autoptr(LkSecureString) json = lk_credential_to_json (credential, LK_CREDENTIAL_JSON_PRIVATE, NULL);
      g_autoptr(LkCredential) again = NULL;

      g_assert (json != NULL);
      again = lk_credential_new_from_json (json, strlen (json), NULL);
      g_assert (again != NULL);
    }
}

static void
fuzz_name (const char *text,
           gsize       len)
{
  g_autofree char *name = g_strndup (text, len);
  g_autofree char *clean = lk_text_clean_name (name);

  if (clean == NULL)
    return;
  g_assert (g_utf8_validate (clean, -1, NULL));
  g_assert (g_utf8_strlen (clean, -1) <= LK_TEXT_MAX_NAME);
  g_assert (clean[0] != '\0' && !g_ascii_isspace (clean[0]) && !g_ascii_isspace (clean[strlen (clean) - 1]));
  for (const char *p = clean; *p != '\0'; p = g_utf8_next_char (p))
    g_assert (!g_unichar_iscntrl (g_utf8_get_char (p)) && g_unichar_type (g_utf8_get_char (p)) != G_UNICODE_FORMAT);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  const char *text = (const char *) data + 1;

  if (size < 1)
    return 0;

  switch (data[0] % 4)
    {
    case 0:
      fuzz_payload (text, size - 1);
      break;
    case 1:
      fuzz_plaintext (text, size - 1);
      break;
    case 2:
      fuzz_credential (text, size - 1);
      break;
    default:
      fuzz_name (text, size - 1);
      break;
    }

  return 0;
}
