/* lk-channel.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The draft encrypts every message of a mailbox with the one link secret and
 * nothing binds a message to its mailbox or its place in the exchange, so a
 * relay could replay a stale message, reorder two, or swap them between
 * mailboxes that share a secret. Each plaintext therefore carries the mailbox
 * identifier, a transcript sequence number, the sender's role and the SHA-256
 * of the previous plaintext. PROTOCOL.md describes the rules.
 *
 * A peer written from the draft alone sends none of that (PROTOCOL.md §3.5).
 * Its first message is taken as it is, and only as the first message a
 * recipient reads: the transfer is then "plain", our own messages are the
 * draft's {format, content}, and no later message without the chain is
 * accepted (it could be a replay). A transfer that began with the chain
 * never accepts a message without it.
 */

#define G_LOG_DOMAIN "lk-channel"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-channel-private.h"
#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-json.h"

#define MAX_REVISION 64
#define MAX_PLAINTEXT_LENGTH (LK_MESSAGE_MAX_DATA_LENGTH / 4 * 3)

struct _LkChannel
{
  GObject  parent_instance;

  GBytes  *key;
  char    *mailbox_id;
  LkRole   role;

  /* The transcript so far: how many messages, the digest of the last one and
   * of the one before (which a replacement of the last chains from). */
  guint    n_messages;
  LkRole   last_role;
  guint    last_revision;
  guint8   last_digest[LK_SHA256_LENGTH];
  guint8   before_last_digest[LK_SHA256_LENGTH];
  /* The other side is a plain draft peer: no chain either way. */
  gboolean plain;
};

G_DEFINE_FINAL_TYPE (LkChannel, lk_channel, G_TYPE_OBJECT)

static void
lk_channel_finalize (GObject *object)
{
  LkChannel *self = (LkChannel *) object;

  g_clear_pointer (&self->key, g_bytes_unref);
  g_free (self->mailbox_id);

  G_OBJECT_CLASS (lk_channel_parent_class)->finalize (object);
}

static void
lk_channel_class_init (LkChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_channel_finalize;
}

static void
lk_channel_init (LkChannel *self)
{
}

/**
 * lk_channel_new:
 * @key: the share secret (16 or 32 bytes)
 * @mailbox_id: the mailbox this channel belongs to
 * @role: which end of the mailbox we are
 *
 * Returns: (transfer full): a channel with an empty transcript
 */
LkChannel *
lk_channel_new (GBytes     *key,
                const char *mailbox_id,
                LkRole      role)
{
  LkChannel *self;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (lk_aead_type_for_key (g_bytes_get_size (key)) != NULL, NULL);
  g_return_val_if_fail (mailbox_id != NULL, NULL);

  self = g_object_new (LK_TYPE_CHANNEL, NULL);
  self->key = g_bytes_ref (key);
  self->mailbox_id = g_ascii_strdown (mailbox_id, -1);
  self->role = role;

  return self;
}

static gboolean
decode_digest (const char *text,
               guint8      digest[LK_SHA256_LENGTH])
{
  g_autofree guint8 *raw = NULL;
  gsize len;

  if (text == NULL)
    return FALSE;

  raw = lk_base64_decode_strict (text, strlen (text), &len);
  if (raw == NULL || len != LK_SHA256_LENGTH)
    return FALSE;

  memcpy (digest, raw, LK_SHA256_LENGTH);
  return TRUE;
}

/**
 * lk_channel_new_from_state:
 * @state: what lk_channel_save_state() returned
 *
 * Resumes a transfer after a restart.
 */
LkChannel *
lk_channel_new_from_state (GBytes      *key,
                           const char  *mailbox_id,
                           LkRole       role,
                           JsonObject  *state,
                           GError     **error)
{
  g_autoptr(LkChannel) self = lk_channel_new (key, mailbox_id, role);
  gint64 n_messages, revision;
  const char *last_role;

  if (!lk_json_get_int (state, "messages", 0, LK_MESSAGE_MAX_SEQUENCE, &n_messages,
                        LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error) ||
      !lk_json_get_int (state, "lastRevision", 0, MAX_REVISION, &revision,
                        LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error))
    return NULL;

  last_role = lk_json_get_string (state, "lastRole", 16, TRUE,
                                  LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error);
  if (last_role == NULL)
    return NULL;

  if (!lk_role_from_string (last_role, &self->last_role) ||
      !decode_digest (lk_json_get_string (state, "lastDigest", 64, TRUE, LK_MESSAGE_ERROR,
                                          LK_MESSAGE_ERROR_MALFORMED, NULL),
                      self->last_digest) ||
      !decode_digest (lk_json_get_string (state, "previousDigest", 64, TRUE, LK_MESSAGE_ERROR,
                                          LK_MESSAGE_ERROR_MALFORMED, NULL),
                      self->before_last_digest))
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                   _("The saved transfer state is damaged"));
      return NULL;
    }

  self->n_messages = n_messages;
  self->last_revision = revision;

  if (json_object_has_member (state, "plain"))
    {
      JsonNode *plain = json_object_get_member (state, "plain");

      if (!JSON_NODE_HOLDS_VALUE (plain) || json_node_get_value_type (plain) != G_TYPE_BOOLEAN)
        {
          g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                       _("The saved transfer state is damaged"));
          return NULL;
        }
      self->plain = json_node_get_boolean (plain);
    }

  return g_steal_pointer (&self);
}

static void
set_digest_member (JsonObject   *object,
                   const char   *member,
                   const guint8  digest[LK_SHA256_LENGTH])
{
  g_autofree char *text = lk_base64url_encode (digest, LK_SHA256_LENGTH);

  json_object_set_string_member (object, member, text);
}

/**
 * lk_channel_save_state:
 *
 * Returns: (transfer full): the transcript position, without the key
 */
JsonObject *
lk_channel_save_state (LkChannel *self)
{
  JsonObject *state;

  g_return_val_if_fail (LK_IS_CHANNEL (self), NULL);

  state = json_object_new ();
  json_object_set_int_member (state, "messages", self->n_messages);
  json_object_set_string_member (state, "lastRole", lk_role_to_string (self->last_role));
  json_object_set_int_member (state, "lastRevision", self->last_revision);
  set_digest_member (state, "lastDigest", self->last_digest);
  set_digest_member (state, "previousDigest", self->before_last_digest);
  if (self->plain)
    json_object_set_boolean_member (state, "plain", TRUE);

  return state;
}

const char *
lk_channel_get_mailbox_id (LkChannel *self)
{
  g_return_val_if_fail (LK_IS_CHANNEL (self), NULL);
  return self->mailbox_id;
}

LkRole
lk_channel_get_role (LkChannel *self)
{
  g_return_val_if_fail (LK_IS_CHANNEL (self), LK_ROLE_INITIATOR);
  return self->role;
}

/**
 * lk_channel_get_n_messages:
 *
 * Returns: how many messages the transcript holds, sent and received
 */
guint
lk_channel_get_n_messages (LkChannel *self)
{
  g_return_val_if_fail (LK_IS_CHANNEL (self), 0);
  return self->n_messages;
}

/**
 * lk_channel_is_plain:
 *
 * Returns: whether the other side is a plain draft peer, whose first message
 *   carried no chain (PROTOCOL.md §3.5): the transfer has the draft's
 *   protection only
 */
gboolean
lk_channel_is_plain (LkChannel *self)
{
  g_return_val_if_fail (LK_IS_CHANNEL (self), FALSE);
  return self->plain;
}

/**
 * lk_channel_last_is_own:
 *
 * Returns: whether the transcript ends with a message of ours, which the
 *   other side has not answered: a new message should replace it
 */
gboolean
lk_channel_last_is_own (LkChannel *self)
{
  g_return_val_if_fail (LK_IS_CHANNEL (self), FALSE);
  return self->n_messages > 0 && self->last_role == self->role;
}

JsonObject *
_lk_channel_seal_with_iv (LkChannel     *self,
                          const char    *format,
                          JsonObject    *content,
                          LkSealFlags    flags,
                          const guint8  *iv,
                          GError       **error)
{
  g_autoptr(JsonObject) plaintext = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(LkSecureString) text = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autofree char *data = NULL;
  guint8 digest[LK_SHA256_LENGTH];
  const guint8 *prev;
  guint sequence, revision;
  gsize text_len;
  JsonObject *payload;

  g_return_val_if_fail (LK_IS_CHANNEL (self), NULL);
  g_return_val_if_fail (format != NULL && *format != '\0', NULL);
  g_return_val_if_fail (strlen (format) <= LK_MESSAGE_MAX_FORMAT_LENGTH, NULL);
  g_return_val_if_fail (content != NULL, NULL);

  if (flags & LK_SEAL_FLAGS_REPLACE)
    {
      if (self->n_messages == 0 || self->last_role != self->role)
        {
          g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_OUT_OF_ORDER,
                       _("There is no message of ours to replace"));
          return NULL;
        }
      if (self->last_revision >= MAX_REVISION)
        {
          g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_OUT_OF_ORDER,
                       _("The message was replaced too often"));
          return NULL;
        }
      sequence = self->n_messages - 1;
      revision = self->last_revision + 1;
      prev = self->before_last_digest;
    }
  else
    {
      if (self->n_messages >= LK_MESSAGE_MAX_SEQUENCE)
        {
          g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_OUT_OF_ORDER,
                       _("The transfer has too many messages"));
          return NULL;
        }
      sequence = self->n_messages;
      revision = 0;
      prev = self->last_digest;
    }

  plaintext = json_object_new ();
  json_object_set_string_member (plaintext, "format", format);
  json_object_set_object_member (plaintext, "content", json_object_ref (content));
  /* To a plain draft peer, the draft's form: it may know no other keys. */
  if (!self->plain)
    {
      json_object_set_string_member (plaintext, "mailboxIdentifier", self->mailbox_id);
      json_object_set_int_member (plaintext, "sequenceNumber", sequence);
      json_object_set_int_member (plaintext, "revision", revision);
      json_object_set_string_member (plaintext, "senderRole", lk_role_to_string (self->role));
      set_digest_member (plaintext, "previousDigest", prev);
    }

  root = json_node_init_object (json_node_alloc (), plaintext);
  text = lk_json_to_string (root);
  text_len = strlen (text);

  if (text_len > MAX_PLAINTEXT_LENGTH - LK_GCM_IV_LENGTH - LK_GCM_TAG_LENGTH)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_TOO_LARGE,
                   _("The message is too large to send"));
      return NULL;
    }

  /* Never send what the other side would refuse to open: too deep, or a
   * string that is not valid text. */
  {
    g_autoptr(GError) local_error = NULL;
    g_autoptr(JsonNode) check = lk_json_parse (text, text_len, MAX_PLAINTEXT_LENGTH,
                                               LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, &local_error);

    if (check == NULL)
      {
        g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                     _("The message cannot be sent: %s"), local_error->message);
        return NULL;
      }
  }

  sealed = lk_aead_seal (self->key, iv, text, text_len, error);
  if (sealed == NULL)
    return NULL;

  lk_crypto_sha256 (text, text_len, digest);

  if (flags & LK_SEAL_FLAGS_REPLACE)
    self->last_revision = revision;
  else
    {
      memcpy (self->before_last_digest, self->last_digest, LK_SHA256_LENGTH);
      self->n_messages++;
      self->last_role = self->role;
      self->last_revision = 0;
    }
  memcpy (self->last_digest, digest, LK_SHA256_LENGTH);

  data = g_base64_encode (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));

  payload = json_object_new ();
  json_object_set_string_member (payload, "type", lk_aead_type_for_key (g_bytes_get_size (self->key)));
  json_object_set_string_member (payload, "data", data);

  return payload;
}

/**
 * lk_channel_seal:
 * @format: the draft's format name, such as `digitalwallet.carkey.ccc`
 * @content: the message content
 *
 * Encrypts a message as the next in the transcript (or as a replacement of
 * our own last one) and advances the transcript.
 *
 * Returns: (transfer full): the draft's `payload` object, `{type, data}`
 */
JsonObject *
lk_channel_seal (LkChannel    *self,
                 const char   *format,
                 JsonObject   *content,
                 LkSealFlags   flags,
                 GError      **error)
{
  return _lk_channel_seal_with_iv (self, format, content, flags, NULL, error);
}

/* None of our chain's members: the draft's {format, content} alone. Some
 * of them is a damaged message of ours, not a plain one. */
static gboolean
is_plain (JsonObject *plaintext)
{
  static const char * const chain[] = {
    "mailboxIdentifier", "sequenceNumber", "revision", "senderRole", "previousDigest",
  };

  for (guint i = 0; i < G_N_ELEMENTS (chain); i++)
    if (json_object_has_member (plaintext, chain[i]))
      return FALSE;
  return TRUE;
}

static JsonObject *
open_plain (LkChannel   *self,
            const char  *format,
            JsonObject  *content,
            const char  *text,
            gsize        len,
            char       **format_out,
            GError     **error)
{
  if (*format == '\0')
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, _("The message lacks its format"));
      return NULL;
    }

  /* Nothing tells a second plain message from a replay of the first. */
  if (self->plain)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_REPLAYED,
                   _("A second message from a wallet that does not chain its messages cannot be told from a "
                     "replay"));
      return NULL;
    }

  /* Never a silent downgrade: a transfer whose messages carried the chain
   * (ours included) keeps it to the end; and only a recipient's first
   * message may come without it. */
  if (self->n_messages > 0 || self->role != LK_ROLE_RECIPIENT)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_BROKEN_CHAIN,
                   _("The message lacks the chain the exchange began with"));
      return NULL;
    }

  self->plain = TRUE;
  self->n_messages = 1;
  self->last_role = LK_ROLE_INITIATOR;
  self->last_revision = 0;
  lk_crypto_sha256 (text, len, self->last_digest);

  if (format_out != NULL)
    *format_out = g_strdup (format);
  return json_object_ref (content);
}

JsonObject *
_lk_channel_open_plaintext (LkChannel   *self,
                            const char  *text,
                            gsize        len,
                            char       **format_out,
                            GError     **error)
{
  g_autoptr(JsonObject) plaintext = NULL;
  const char *format, *mailbox_id, *role_name;
  JsonObject *content;
  gint64 sequence, revision = 0;
  guint8 prev[LK_SHA256_LENGTH], digest[LK_SHA256_LENGTH];
  LkRole sender;
  gboolean replacement;

  plaintext = lk_json_parse_object (text, len, MAX_PLAINTEXT_LENGTH,
                                    LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error);
  if (plaintext == NULL)
    return NULL;

#define REQUIRE(expr) G_STMT_START { if (!(expr)) return NULL; } G_STMT_END
  REQUIRE (format = lk_json_get_string (plaintext, "format", LK_MESSAGE_MAX_FORMAT_LENGTH, TRUE,
                                        LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error));
  REQUIRE (content = lk_json_get_object (plaintext, "content", TRUE,
                                         LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error));
  if (is_plain (plaintext))
    return open_plain (self, format, content, text, len, format_out, error);
  REQUIRE (mailbox_id = lk_json_get_string (plaintext, "mailboxIdentifier", 64, TRUE,
                                            LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error));
  REQUIRE (lk_json_get_int (plaintext, "sequenceNumber", 0, LK_MESSAGE_MAX_SEQUENCE, &sequence,
                            LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error));
  if (json_object_has_member (plaintext, "revision"))
    REQUIRE (lk_json_get_int (plaintext, "revision", 0, MAX_REVISION, &revision,
                              LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error));
  REQUIRE (role_name = lk_json_get_string (plaintext, "senderRole", 16, TRUE,
                                           LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error));
#undef REQUIRE

  if (*format == '\0' || !lk_role_from_string (role_name, &sender) ||
      !decode_digest (lk_json_get_string (plaintext, "previousDigest", 64, TRUE,
                                          LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, NULL),
                      prev))
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                   _("The message lacks its format, sender or chain digest"));
      return NULL;
    }

  if (g_ascii_strcasecmp (mailbox_id, self->mailbox_id) != 0)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_WRONG_MAILBOX,
                   _("The message belongs to another share"));
      return NULL;
    }

  if (sender == self->role)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_REFLECTED,
                   _("The message is one of our own, sent back"));
      return NULL;
    }

  /* The next message, or a newer revision of the other side's last one. */
  if ((guint64) sequence == self->n_messages)
    replacement = FALSE;
  else if ((guint64) sequence + 1 == self->n_messages && self->last_role == sender &&
           (guint64) revision > self->last_revision)
    replacement = TRUE;
  else if ((guint64) sequence < self->n_messages)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_REPLAYED,
                   _("The message was already received: it is being replayed"));
      return NULL;
    }
  else
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_OUT_OF_ORDER,
                   _("A message is missing before this one: they arrive out of order"));
      return NULL;
    }

  if (!lk_crypto_equal (prev, replacement ? self->before_last_digest : self->last_digest,
                        LK_SHA256_LENGTH))
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_BROKEN_CHAIN,
                   _("The message does not follow the previous one: the exchange was altered"));
      return NULL;
    }

  lk_crypto_sha256 (text, len, digest);

  if (!replacement)
    {
      memcpy (self->before_last_digest, self->last_digest, LK_SHA256_LENGTH);
      self->n_messages++;
      self->last_role = sender;
    }
  self->last_revision = revision;
  memcpy (self->last_digest, digest, LK_SHA256_LENGTH);

  if (format_out != NULL)
    *format_out = g_strdup (format);

  return json_object_ref (content);
}

/**
 * lk_channel_open:
 * @payload: the draft's `payload` object, `{type, data}`
 * @format: (out) (optional): the message format
 *
 * Decrypts and checks a message and, if it is the next one, advances the
 * transcript. A rejected message leaves the transcript as it was.
 *
 * Returns: (transfer full): the message content, or %NULL with an
 *   #LK_MESSAGE_ERROR naming the reason
 */
JsonObject *
lk_channel_open (LkChannel   *self,
                 JsonObject  *payload,
                 char       **format,
                 GError     **error)
{
  g_autoptr(GBytes) plaintext = NULL;
  g_autofree guint8 *raw = NULL;
  const char *type, *data, *expected_type;
  gsize data_len, raw_len;

  g_return_val_if_fail (LK_IS_CHANNEL (self), NULL);
  g_return_val_if_fail (payload != NULL, NULL);

  type = lk_json_get_string (payload, "type", 64, TRUE,
                             LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error);
  if (type == NULL)
    return NULL;

  data = lk_json_get_string (payload, "data", G_MAXSIZE, TRUE,
                             LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error);
  if (data == NULL)
    return NULL;

  data_len = strlen (data);
  if (data_len > LK_MESSAGE_MAX_DATA_LENGTH)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_TOO_LARGE,
                   _("The message is larger than %u bytes"), LK_MESSAGE_MAX_DATA_LENGTH);
      return NULL;
    }

  if (strcmp (type, LK_PAYLOAD_TYPE_AES_128_GCM) != 0 &&
      strcmp (type, LK_PAYLOAD_TYPE_AES_256_GCM) != 0)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_UNSUPPORTED,
                   _("The message uses an unsupported cipher"));
      return NULL;
    }

  expected_type = lk_aead_type_for_key (g_bytes_get_size (self->key));
  if (strcmp (type, expected_type) != 0)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_UNSUPPORTED,
                   _("The message’s cipher does not match the link’s secret"));
      return NULL;
    }

  raw = lk_base64_decode_strict (data, data_len, &raw_len);
  if (raw == NULL)
    {
      g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                   _("The message data is not base64"));
      return NULL;
    }

  plaintext = lk_aead_open (self->key, raw, raw_len, error);
  if (plaintext == NULL)
    return NULL;

  return _lk_channel_open_plaintext (self, g_bytes_get_data (plaintext, NULL),
                                     g_bytes_get_size (plaintext), format, error);
}
