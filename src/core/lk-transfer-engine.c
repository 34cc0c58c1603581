/* lk-transfer-engine.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each operation runs on a worker thread with a main context of its own, in
 * which it drives the asynchronous clients one call after the other: the
 * protocol reads top to bottom, and the caller's main loop (the GTK one)
 * never waits. A transfer must not be touched by the caller while an
 * operation on it runs.
 *
 * The three flows (PROTOCOL.md §7):
 *   generic  sender: credential + the share's own access token   receiver: ReceiverDone
 *   home     sender: partner token (+ code at partner) receiver: redeem, ReceiverDone
 *   car      sender: KeyCreationRequest → receiver: KeySigningRequest (new key, proof,
 *            code) → sender: KeyImportRequest (owner signature) → receiver: ReceiverDone;
 *            PinReEntryRequest/Value after a wrong code; SenderCancel/ReceiverCancel
 */

#define G_LOG_DOMAIN "lk-transfer-engine"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-signing.h"
#include "lk-store.h"
#include "lk-transfer-engine.h"
#include "lk-transfer-private.h"

#define FORMAT_CAR      "digitalwallet.carkey.ccc"
#define FORMAT_GENERIC  "digitalwallet.generic.authorizationToken"
#define FORMAT_HOME     "io.github.latchkey.home.provisioningToken"
#define FORMAT_TRANSFER "io.github.latchkey.transfer"

#define DEFAULT_EXPIRATION (48 * G_TIME_SPAN_HOUR)
#define CODE_DIGITS        6

struct _LkTransferEngine
{
  GObject  parent_instance;

  GMutex   lock;
  char    *relay_url;
  char    *ca_file;
  guint    max_attempts;
  guint    base_delay_ms;
};

G_DEFINE_FINAL_TYPE (LkTransferEngine, lk_transfer_engine, G_TYPE_OBJECT)
G_DEFINE_QUARK (lk-transfer-error-quark, lk_transfer_error)

void
lk_share_options_clear (LkShareOptions *options)
{
  g_clear_pointer (&options->entitlements, g_strfreev);
  g_clear_pointer (&options->valid_from, g_date_time_unref);
  g_clear_pointer (&options->valid_until, g_date_time_unref);
  g_clear_pointer (&options->expires, g_date_time_unref);
  g_clear_pointer (&options->sender_name, g_free);
}

static void
lk_transfer_engine_finalize (GObject *object)
{
  LkTransferEngine *self = (LkTransferEngine *) object;

  g_free (self->relay_url);
  g_free (self->ca_file);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (lk_transfer_engine_parent_class)->finalize (object);
}

static void
lk_transfer_engine_class_init (LkTransferEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_transfer_engine_finalize;
}

static void
lk_transfer_engine_init (LkTransferEngine *self)
{
  g_mutex_init (&self->lock);
  self->max_attempts = 5;
  self->base_delay_ms = 200;
}

/**
 * lk_transfer_engine_new:
 * @relay_url: the relay new shares go through (receipts use the link's)
 */
LkTransferEngine *
lk_transfer_engine_new (const char *relay_url)
{
  LkTransferEngine *self = g_object_new (LK_TYPE_TRANSFER_ENGINE, NULL);

  self->relay_url = g_strdup (relay_url);
  return self;
}

/**
 * lk_transfer_engine_set_ca_file:
 *
 * Trusts the certificates in @path for a self-hosted relay or partner.
 */
gboolean
lk_transfer_engine_set_ca_file (LkTransferEngine  *self,
                                const char        *path,
                                GError           **error)
{
  g_autoptr(GTlsDatabase) database = g_tls_file_database_new (path, error);

  if (database == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  g_free (self->ca_file);
  self->ca_file = g_strdup (path);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

void
lk_transfer_engine_set_retry_policy (LkTransferEngine *self,
                                     guint             max_attempts,
                                     guint             base_delay_ms)
{
  g_mutex_lock (&self->lock);
  self->max_attempts = max_attempts;
  self->base_delay_ms = base_delay_ms;
  g_mutex_unlock (&self->lock);
}

/* The worker: one per operation, on its own thread and main context. */

typedef struct
{
  GMainContext    *context;
  LkHttp          *http;
  LkMailboxClient *mailbox;
  LkPartnerClient *partner;
  LkStore         *store;
  GCancellable    *cancellable;
  char            *relay_url;
} Worker;

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
worker_init (Worker           *w,
             LkTransferEngine *self,
             GCancellable     *cancellable)
{
  w->context = g_main_context_new ();
  g_main_context_push_thread_default (w->context);

  w->http = lk_http_new ();
  g_mutex_lock (&self->lock);
  if (self->ca_file != NULL)
    lk_http_set_ca_file (w->http, self->ca_file, NULL);
  lk_http_set_retry_policy (w->http, self->max_attempts, self->base_delay_ms);
  w->relay_url = g_strdup (self->relay_url);
  g_mutex_unlock (&self->lock);

  w->mailbox = lk_mailbox_client_new (w->http);
  w->partner = lk_partner_client_new (w->http);
  w->store = lk_store_new ();
  w->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
}

static void
worker_clear (Worker *w)
{
  g_clear_object (&w->mailbox);
  g_clear_object (&w->partner);
  g_clear_object (&w->store);
  g_clear_object (&w->http);
  g_clear_object (&w->cancellable);
  g_free (w->relay_url);

  /* Let sources that finished with the clients run down. */
  while (g_main_context_iteration (w->context, FALSE))
    ;
  g_main_context_pop_thread_default (w->context);
  g_main_context_unref (w->context);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
}

static GAsyncResult *
wait_for (Worker *w,
          Wait   *wait)
{
  while (wait->result == NULL)
    g_main_context_iteration (w->context, TRUE);
  return wait->result;
}

/* Synchronous forms of the clients, for the worker. */

static LkMailboxReply *
mailbox_finish (Worker *w,
                Wait   *wait,
                GError **error)
{
  LkMailboxReply *reply = lk_mailbox_client_finish (w->mailbox, wait_for (w, wait), error);

  g_object_unref (wait->result);
  return reply;
}

static gboolean
store_save (Worker      *w,
            LkStoreKind  kind,
            const char  *id,
            const char  *label,
            const char  *secret,
            GError     **error)
{
  Wait wait = { NULL };
  gboolean ok;

  lk_store_save_async (w->store, kind, id, label, secret, w->cancellable, on_done, &wait);
  ok = lk_store_save_finish (w->store, wait_for (w, &wait), error);
  g_object_unref (wait.result);
  return ok;
}

static gboolean
save_transfer (Worker      *w,
               LkTransfer  *t,
               GError     **error)
{
  g_autoptr(LkSecureString) json = lk_transfer_to_json (t);
  g_autofree char *label = g_strdup_printf (t->role == LK_ROLE_INITIATOR ? _("Latchkey share: %s")
                                                                          : _("Latchkey receipt: %s"),
                                            t->title ? t->title : _("key"));

  return store_save (w, LK_STORE_KIND_TRANSFER, t->id, label, json, error);
}

static gboolean
save_credential (Worker        *w,
                 LkCredential  *credential,
                 GError       **error)
{
  g_autoptr(LkSecureString) json = lk_credential_to_json (credential, LK_CREDENTIAL_JSON_PRIVATE, error);
  g_autofree char *label = NULL;

  if (json == NULL)
    return FALSE;
  label = g_strdup_printf (_("Latchkey: %s"), lk_credential_get_title (credential));
  return store_save (w, LK_STORE_KIND_CREDENTIAL, lk_credential_get_id (credential), label, json, error);
}

static GPtrArray *
store_load_all (Worker      *w,
                LkStoreKind  kind,
                GError     **error)
{
  Wait wait = { NULL };
  GPtrArray *secrets;

  lk_store_load_all_async (w->store, kind, w->cancellable, on_done, &wait);
  secrets = lk_store_load_all_finish (w->store, wait_for (w, &wait), error);
  g_object_unref (wait.result);
  return secrets;
}

static LkCredential *
load_credential (Worker      *w,
                 const char  *id,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  LkCredential *credential;
  Wait wait = { NULL };
  char *json;

  lk_store_load_async (w->store, LK_STORE_KIND_CREDENTIAL, id, w->cancellable, on_done, &wait);
  json = lk_store_load_finish (w->store, wait_for (w, &wait), &local_error);
  g_object_unref (wait.result);

  if (json == NULL)
    {
      if (g_error_matches (local_error, LK_STORE_ERROR, LK_STORE_ERROR_NOT_FOUND))
        g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_NOT_FOUND,
                     _("The keyring holds no credential %s"), id);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  credential = lk_credential_new_from_json (json, strlen (json), error);
  secret_password_free (json);
  return credential;
}

static const char *
mailbox_id_of (LkTransfer *t)
{
  const char *slash = strrchr (t->mailbox_url, '/');

  return slash ? slash + 1 : t->mailbox_url;
}

static char *
format_time (GDateTime *time)
{
  g_autoptr(GDateTime) utc = NULL;

  if (time == NULL)
    return NULL;
  utc = g_date_time_to_utc (time);
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

static GDateTime *
parse_time (JsonObject *object,
            const char *member)
{
  const char *text = lk_json_get_string (object, member, 64, FALSE, 0, 0, NULL);

  return text ? g_date_time_new_from_iso8601 (text, NULL) : NULL;
}

static JsonArray *
strv_to_array (const char * const *strv)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  return array;
}

static GStrv
array_to_strv (JsonObject *object,
               const char *member)
{
  JsonArray *array = lk_json_get_array (object, member, FALSE, 0, 0, NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; array != NULL && i < MIN (json_array_get_length (array), LK_CREDENTIAL_MAX_ENTITLEMENTS); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING &&
          strlen (json_node_get_string (node)) <= LK_CREDENTIAL_MAX_ENTITLEMENT &&
          strpbrk (json_node_get_string (node), ",\n") == NULL)
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  return g_strv_builder_end (builder);
}

/* A uniformly random code of CODE_DIGITS digits, from GnuTLS's generator. */
static char *
new_activation_code (GError **error)
{
  char code[CODE_DIGITS + 1];

  for (guint i = 0; i < CODE_DIGITS; i++)
    {
      guint8 byte;

      /* Rejection sampling: 250 is the largest multiple of 10 below 256. */
      do
        {
          if (!lk_crypto_random (&byte, 1, error))
            return NULL;
        }
      while (byte >= 250);
      code[i] = '0' + byte % 10;
    }
  code[CODE_DIGITS] = '\0';

  return g_strdup (code);
}

/* Compares two codes in constant time, whatever their lengths. */
static gboolean
codes_equal (const char *expected,
             const char *given)
{
  guint8 a[LK_SHA256_LENGTH], b[LK_SHA256_LENGTH];

  if (expected == NULL || given == NULL)
    return FALSE;
  lk_crypto_sha256 (expected, strlen (expected), a);
  lk_crypto_sha256 (given, strlen (given), b);
  return lk_crypto_equal (a, b, sizeof a);
}

/* Sending. The message is sealed (advancing the transcript) and saved with
 * its Mailbox-Request-ID before it is sent, so that after a crash the same
 * request is sent again and the relay recognises it. */

static gboolean finish_transfer (Worker *w, LkTransfer *t, LkTransferState state,
                                 const char *detail, GError **error);

static gboolean
flush_outbox (Worker      *w,
              LkTransfer  *t,
              GError     **error)
{
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) local_error = NULL;
  Wait wait = { NULL };

  if (t->outbox == NULL)
    return TRUE;

  lk_mailbox_client_update_async (w->mailbox, t->mailbox_url, t->claim, t->outbox, t->outbox_if_match,
                                  t->outbox_request_id, w->cancellable, on_done, &wait);
  reply = mailbox_finish (w, &wait, &local_error);
  if (reply == NULL)
    {
      /* Both sides wrote at once: the transcripts have forked, and no
       * message can follow on both. */
      if (g_error_matches (local_error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_CONFLICT))
        {
          g_clear_pointer (&t->outbox, json_object_unref);
          return finish_transfer (w, t, LK_TRANSFER_STATE_FAILED,
                                  _("Both sides changed the invitation at the same moment; share again."), error);
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_free (t->last_sent);
  t->last_sent = g_strdup (json_object_get_string_member (t->outbox, "data"));
  if (reply->version >= 0)
    t->version = reply->version;
  g_clear_pointer (&t->outbox, json_object_unref);
  g_clear_pointer (&t->outbox_request_id, g_free);
  t->outbox_if_match = -1;

  /* Not saved here: every caller saves its next state, and a crash before
   * that only means the same request is sent again, which the relay
   * answers 201 without change. Keyring writes are the slow part of a step. */
  return TRUE;
}

static gboolean
send_message (Worker      *w,
              LkTransfer  *t,
              const char  *format,
              JsonObject  *content,
              GError     **error)
{
  /* The relay keeps one message: a second one in a row replaces the first,
   * which the other side may never read (PROTOCOL.md §3.3). */
  LkSealFlags flags = lk_channel_last_is_own (t->channel) ? LK_SEAL_FLAGS_REPLACE : LK_SEAL_FLAGS_NONE;
  JsonObject *payload = lk_channel_seal (t->channel, format, content, flags, error);

  if (payload == NULL)
    return FALSE;

  g_clear_pointer (&t->outbox, json_object_unref);
  t->outbox = payload;
  g_free (t->outbox_request_id);
  t->outbox_request_id = lk_uuid_new_random ();
  /* Never overwrite a message of the other side that we have not read. */
  t->outbox_if_match = t->version;

  return save_transfer (w, t, error) && flush_outbox (w, t, error);
}

static JsonObject *
typed_content (const char *type)
{
  JsonObject *content = json_object_new ();

  json_object_set_string_member (content, "sharingDataType", type);
  return content;
}

static gboolean
send_typed (Worker      *w,
            LkTransfer  *t,
            const char  *type,
            const char  *reason,
            GError     **error)
{
  g_autoptr(JsonObject) content = typed_content (type);

  if (reason != NULL)
    json_object_set_string_member (content, "reason", reason);
  return send_message (w, t, t->vertical == LK_VERTICAL_CAR ? FORMAT_CAR : FORMAT_TRANSFER, content, error);
}

/* The sender removes the mailbox once the exchange is over, whatever the
 * outcome; a mailbox that is already gone is fine. */
static void
delete_mailbox (Worker     *w,
                LkTransfer *t)
{
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *request_id = lk_uuid_new_random ();
  Wait wait = { NULL };

  lk_mailbox_client_delete_async (w->mailbox, t->mailbox_url, t->claim, request_id, w->cancellable,
                                  on_done, &wait);
  reply = mailbox_finish (w, &wait, &error);
  if (reply == NULL && !g_error_matches (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_NOT_FOUND))
    g_debug ("Could not delete a finished mailbox: %s", error->message);
}

static gboolean
finish_transfer (Worker           *w,
                 LkTransfer       *t,
                 LkTransferState   state,
                 const char       *detail,
                 GError          **error)
{
  _lk_transfer_set_state (t, state, detail);
  lk_secure_clear_str (&t->private_key);
  if (t->role == LK_ROLE_INITIATOR)
    delete_mailbox (w, t);
  return save_transfer (w, t, error);
}

/* Sharing */

static char *
public_key_of (LkCredential *credential)
{
  LkKeyPair *key = lk_credential_get_key_pair (credential);
  GBytes *der;

  if (key == NULL)
    return NULL;
  der = lk_key_pair_get_public (key);
  return g_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
}

static JsonObject *
describe_credential (LkTransfer   *t,
                     LkCredential *credential)
{
  JsonObject *description = json_object_new ();
  g_autofree char *from = format_time (t->valid_from);
  g_autofree char *until = format_time (t->valid_until);

  json_object_set_string_member (description, "title", lk_credential_get_title (credential));
  if (lk_credential_get_description (credential) != NULL)
    json_object_set_string_member (description, "description", lk_credential_get_description (credential));
  if (lk_credential_get_issuer (credential) != NULL)
    json_object_set_string_member (description, "issuer", lk_credential_get_issuer (credential));
  json_object_set_array_member (description, "entitlements",
                                strv_to_array ((const char * const *) t->entitlements));
  if (from != NULL)
    json_object_set_string_member (description, "validFrom", from);
  if (until != NULL)
    json_object_set_string_member (description, "validUntil", until);
  if (lk_credential_get_access_point_id (credential) != NULL)
    json_object_set_string_member (description, "accessPointId", lk_credential_get_access_point_id (credential));
  if (lk_credential_get_partner_url (credential) != NULL)
    json_object_set_string_member (description, "partnerUrl", lk_credential_get_partner_url (credential));
  return description;
}

/* A generic credential enrolled before owners had keys is a bearer token:
 * it gets a key at the partner before its first share or revocation, and
 * signs from then on (PROTOCOL.md §8). */
static gboolean
ensure_owner_key (Worker        *w,
                  LkCredential  *credential,
                  GError       **error)
{
  LkKeyPair *key = lk_credential_get_key_pair (credential);
  Wait wait = { NULL };
  gboolean ok;

  if (key != NULL && lk_key_pair_has_private (key))
    return TRUE;

  if (lk_credential_get_role (credential) != LK_CREDENTIAL_ROLE_OWNER ||
      lk_credential_get_access_token (credential) == NULL)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                   _("Only this pass’s owner can share it or take it back"));
      return FALSE;
    }

  lk_partner_client_register_key_async (w->partner, credential, w->cancellable, on_done, &wait);
  ok = lk_partner_client_register_key_finish (w->partner, wait_for (w, &wait), error);
  g_object_unref (wait.result);

  return ok && save_credential (w, credential, error);
}

/* A generic share's own access token, with the share's entitlements and
 * window, which the owner revokes alone. */
static gboolean
request_generic_share (Worker        *w,
                       LkTransfer    *t,
                       LkCredential  *credential,
                       GError       **error)
{
  Wait wait = { NULL };

  if (t->token != NULL)
    return TRUE;
  if (!ensure_owner_key (w, credential, error))
    return FALSE;

  lk_partner_client_request_share_async (w->partner, credential, (const char * const *) t->entitlements,
                                         t->valid_from, t->valid_until, w->cancellable, on_done, &wait);
  g_free (t->share_id);
  t->token = lk_partner_client_request_share_finish (w->partner, wait_for (w, &wait), &t->share_id, error);
  g_object_unref (wait.result);
  return t->token != NULL;
}

/* The first message, by vertical. */
static JsonObject *
build_offer (Worker        *w,
             LkTransfer    *t,
             LkCredential  *credential,
             const char   **format,
             GError       **error)
{
  g_autoptr(JsonObject) content = NULL;

  switch (t->vertical)
    {
    case LK_VERTICAL_GENERIC:
      /* The receiver gets a token of the share's own, never the owner's. */
      if (!request_generic_share (w, t, credential, error))
        return NULL;
      *format = FORMAT_GENERIC;
      content = json_object_new ();
      json_object_set_object_member (content, "credential", describe_credential (t, credential));
      /* With a code, the token waits on the sender's device until the
       * receiver has given the code (as a car's PinReEntry). */
      if (t->code != NULL)
        json_object_set_boolean_member (content, "codeRequired", TRUE);
      else
        json_object_set_string_member (content, "accessToken", t->token);
      break;

    case LK_VERTICAL_HOME:
      {
        Wait wait = { NULL };

        lk_partner_client_request_token_async (w->partner, credential, (const char * const *) t->entitlements,
                                               t->valid_from, t->valid_until, t->code, w->cancellable,
                                               on_done, &wait);
        t->token = lk_partner_client_request_token_finish (w->partner, wait_for (w, &wait), error);
        g_object_unref (wait.result);
        if (t->token == NULL)
          return NULL;

        *format = FORMAT_HOME;
        content = json_object_new ();
        json_object_set_object_member (content, "credential", describe_credential (t, credential));
        json_object_set_string_member (content, "partnerUrl", lk_credential_get_partner_url (credential));
        json_object_set_string_member (content, "token", t->token);
        json_object_set_boolean_member (content, "codeRequired", t->code != NULL);
      }
      break;

    case LK_VERTICAL_CAR:
      {
        g_autofree char *owner_key = public_key_of (credential);

        if (owner_key == NULL || t->valid_until == NULL)
          {
            g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                         owner_key == NULL ? _("This car key has no key pair to sign with")
                                           : _("A shared car key needs an end to its validity"));
            return NULL;
          }
        *format = FORMAT_CAR;
        content = typed_content ("KeyCreationRequest");
        json_object_set_object_member (content, "credential", describe_credential (t, credential));
        json_object_set_string_member (content, "ownerPublicKey", owner_key);
        json_object_set_boolean_member (content, "codeRequired", t->code != NULL);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  if (t->shared_by != NULL)
    json_object_set_string_member (content, "sharedBy", t->shared_by);
  return g_steal_pointer (&content);
}

static const char *
display_title (LkVertical vertical)
{
  /* The relay shows these in clear, to anyone with the link: no names.
   * Translators: these are written in the sender's language and shown to
   * the receiver, who may speak another; keep them short and plain. */
  switch (vertical)
    {
    case LK_VERTICAL_CAR:
      return _("A car key shared with you");
    case LK_VERTICAL_HOME:
      return _("A room or door key shared with you");
    case LK_VERTICAL_GENERIC:
    default:
      return _("A key shared with you");
    }
}

static LkTransfer *
do_share (Worker                *w,
          LkCredential          *credential,
          const LkShareOptions  *options,
          GError               **error)
{
  g_autoptr(LkTransfer) t = _lk_transfer_new (LK_ROLE_INITIATOR, lk_credential_get_vertical (credential));
  g_autoptr(JsonObject) content = NULL;
  g_autoptr(JsonObject) placeholder = json_object_new ();
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *placeholder_data = NULL;
  g_autofree char *request_id = lk_uuid_new_random ();
  const char *format = NULL;
  guint8 filler[16];
  Wait wait = { NULL };

  if (w->relay_url == NULL)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED, _("No relay is configured"));
      return NULL;
    }
  if (!lk_share_link_check_server_url (w->relay_url, error))
    return NULL;

  t->title = g_strdup (lk_credential_get_title (credential));
  t->description = g_strdup (display_title (t->vertical));
  t->credential_id = g_strdup (lk_credential_get_id (credential));
  t->entitlements = options->entitlements ? g_strdupv (options->entitlements)
                                          : g_strdupv ((char **) lk_credential_get_entitlements (credential));
  t->valid_from = options->valid_from ? g_date_time_ref (options->valid_from) : g_date_time_ref (now);
  t->valid_until = options->valid_until ? g_date_time_ref (options->valid_until)
                 : lk_credential_get_valid_until (credential) ? g_date_time_ref (lk_credential_get_valid_until (credential))
                 : NULL;
  t->expires = options->expires ? g_date_time_ref (options->expires) : g_date_time_add (now, DEFAULT_EXPIRATION);
  t->auto_confirm = options->auto_confirm;
  t->shared_by = g_strdup (options->sender_name);
  t->secret = lk_crypto_new_secret (error);
  if (t->secret == NULL)
    return NULL;
  if (options->activation_code && (t->code = new_activation_code (error)) == NULL)
    return NULL;

  content = build_offer (w, t, credential, &format, error);
  if (content == NULL)
    return NULL;

  /* The relay names the mailbox only when it creates it, and the first
   * message names its mailbox: create with filler that opens to nothing of
   * the transcript, then put the first message. */
  if (!lk_crypto_random (filler, sizeof filler, error))
    return NULL;
  sealed = lk_aead_seal (t->secret, NULL, filler, sizeof filler, error);
  if (sealed == NULL)
    return NULL;
  placeholder_data = g_base64_encode (g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed));
  json_object_set_string_member (placeholder, "type", lk_aead_type_for_key (g_bytes_get_size (t->secret)));
  json_object_set_string_member (placeholder, "data", placeholder_data);

  lk_mailbox_client_create_async (w->mailbox, w->relay_url, t->claim, placeholder, t->description,
                                  /* Translators: shown by the relay to whoever opens the link (see above) */
                                  _("Open this link with Latchkey or another TIGRESS wallet to add the key."),
                                  "RWD", t->expires, request_id, w->cancellable, on_done, &wait);
  reply = mailbox_finish (w, &wait, error);
  if (reply == NULL)
    return NULL;

  /* Only a well-formed mailbox URL of the relay we asked is accepted: a
   * relay that named another host would steer the first message, and the
   * link, there. */
  link = lk_share_link_new_for_mailbox (reply->url_link, t->vertical, t->secret, error);
  if (link == NULL)
    return NULL;
  if (!lk_share_link_is_on_server (link, w->relay_url))
    {
      g_set_error (error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_PROTOCOL,
                   _("The relay answered with an invitation on another server; no share was made"));
      return NULL;
    }
  t->mailbox_url = lk_share_link_get_mailbox_url (link);
  t->version = reply->version >= 0 ? reply->version : 1;
  if (reply->expiration != NULL)
    {
      g_clear_pointer (&t->expires, g_date_time_unref);
      t->expires = g_date_time_ref (reply->expiration);
    }
  t->channel = lk_channel_new (t->secret, lk_share_link_get_mailbox_id (link), LK_ROLE_INITIATOR);

  if (!send_message (w, t, format, content, error) || !save_transfer (w, t, error))
    return NULL;

  return g_steal_pointer (&t);
}

/* Receiving */

static gboolean
store_received (Worker        *w,
                LkTransfer    *t,
                LkCredential  *credential,
                GError       **error)
{
  lk_credential_set_shared_by (credential, t->shared_by);
  if (!save_credential (w, credential, error))
    return FALSE;

  g_free (t->credential_id);
  t->credential_id = g_strdup (lk_credential_get_id (credential));
  g_free (t->title);
  t->title = g_strdup (lk_credential_get_title (credential));

  /* Tell the sender, then we are done; the sender removes the mailbox. */
  if (!send_typed (w, t, "ReceiverDone", NULL, error))
    return FALSE;
  return finish_transfer (w, t, LK_TRANSFER_STATE_DONE, NULL, error);
}

static LkCredential *
credential_from_offer (LkTransfer   *t,
                       JsonObject   *description,
                       LkVertical    vertical)
{
  LkCredential *credential;
  g_autoptr(GDateTime) from = parse_time (description, "validFrom");
  g_autoptr(GDateTime) until = parse_time (description, "validUntil");
  g_auto(GStrv) entitlements = array_to_strv (description, "entitlements");

  credential = lk_credential_new (vertical, lk_json_get_string (description, "title", LK_CREDENTIAL_MAX_TITLE,
                                                                FALSE, 0, 0, NULL),
                                  LK_CREDENTIAL_ROLE_SHARED);
  if (lk_credential_get_title (credential) == NULL)
    lk_credential_set_title (credential, display_title (vertical));
  lk_credential_set_description (credential, lk_json_get_string (description, "description",
                                                                 LK_CREDENTIAL_MAX_DESCRIPTION, FALSE, 0, 0, NULL));
  lk_credential_set_issuer (credential, lk_json_get_string (description, "issuer", LK_CREDENTIAL_MAX_ISSUER,
                                                            FALSE, 0, 0, NULL));
  lk_credential_set_access_point_id (credential, lk_json_get_string (description, "accessPointId", 128,
                                                                     FALSE, 0, 0, NULL));
  lk_credential_set_partner_url (credential, lk_json_get_string (description, "partnerUrl", 2048,
                                                                 FALSE, 0, 0, NULL));
  lk_credential_set_entitlements (credential, (const char * const *) entitlements);
  lk_credential_set_validity (credential, from, until, NULL);
  return credential;
}

static gboolean
store_generic (Worker      *w,
               LkTransfer  *t,
               const char  *token,
               GError     **error)
{
  JsonObject *description = lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR,
                                                LK_MESSAGE_ERROR_MALFORMED, error);
  g_autoptr(LkCredential) credential = NULL;

  if (description == NULL)
    return FALSE;

  credential = credential_from_offer (t, description, LK_VERTICAL_GENERIC);
  lk_credential_set_access_token (credential, token);
  return store_received (w, t, credential, error);
}

static gboolean
send_code (Worker      *w,
           LkTransfer  *t,
           const char  *code,
           GError     **error)
{
  g_autoptr(JsonObject) content = typed_content ("PinReEntryValue");

  json_object_set_string_member (content, "activationCode", code);
  if (!send_message (w, t, t->vertical == LK_VERTICAL_CAR ? FORMAT_CAR : FORMAT_TRANSFER, content, error))
    return FALSE;
  _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
  return save_transfer (w, t, error);
}

static gboolean
receive_generic (Worker      *w,
                 LkTransfer  *t,
                 const char  *code,
                 GError     **error)
{
  const char *token = lk_json_get_string (t->offer, "accessToken", 256, FALSE, 0, 0, NULL);

  if (token != NULL)
    return store_generic (w, t, token, error);

  /* The sender wants the code first. */
  if (code == NULL)
    {
      _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CODE, NULL);
      return save_transfer (w, t, error);
    }
  return send_code (w, t, code, error);
}

static gboolean
receive_home (Worker      *w,
              LkTransfer  *t,
              const char  *code,
              GError     **error)
{
  JsonObject *description = lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR,
                                                LK_MESSAGE_ERROR_MALFORMED, error);
  const char *partner_url = lk_json_get_string (t->offer, "partnerUrl", 2048, TRUE, LK_MESSAGE_ERROR,
                                                LK_MESSAGE_ERROR_MALFORMED, error);
  const char *token = lk_json_get_string (t->offer, "token", 256, TRUE, LK_MESSAGE_ERROR,
                                          LK_MESSAGE_ERROR_MALFORMED, error);
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *required = json_object_get_member (t->offer, "codeRequired");
  Wait wait = { NULL };
  guint attempts_left = 0;

  if (description == NULL || partner_url == NULL || token == NULL)
    return FALSE;

  if (code == NULL && required != NULL && JSON_NODE_HOLDS_VALUE (required) && json_node_get_boolean (required))
    {
      _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CODE, NULL);
      return save_transfer (w, t, error);
    }

  lk_partner_client_redeem_async (w->partner, partner_url, token, code, w->cancellable, on_done, &wait);
  credential = lk_partner_client_redeem_finish (w->partner, wait_for (w, &wait), &attempts_left, &local_error);
  g_object_unref (wait.result);

  if (credential == NULL)
    {
      if (g_error_matches (local_error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_WRONG_CODE))
        {
          t->attempts_left = attempts_left;
          _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CODE, local_error->message);
          return save_transfer (w, t, error);
        }
      if (g_error_matches (local_error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_TOO_MANY_ATTEMPTS))
        {
          t->attempts_left = 0;
          if (!send_typed (w, t, "ReceiverCancel", "activation-code", error))
            return FALSE;
          return finish_transfer (w, t, LK_TRANSFER_STATE_CANCELLED, local_error->message, error);
        }
      if (g_error_matches (local_error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_TOKEN_GONE) ||
          g_error_matches (local_error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_NOT_FOUND))
        return finish_transfer (w, t, LK_TRANSFER_STATE_FAILED, local_error->message, error);

      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* The sender's words for it, the partner's facts about it. */
  if (lk_json_get_string (description, "description", 1024, FALSE, 0, 0, NULL) != NULL)
    lk_credential_set_description (credential, lk_json_get_string (description, "description", 1024, FALSE, 0, 0, NULL));
  return store_received (w, t, credential, error);
}

static gboolean
send_signing_request (Worker      *w,
                      LkTransfer  *t,
                      const char  *code,
                      GError     **error)
{
  g_autoptr(JsonObject) content = typed_content ("KeySigningRequest");
  g_autoptr(LkKeyPair) key = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(GBytes) proof = NULL;
  g_autofree char *public_key = NULL;
  g_autofree char *proof_text = NULL;
  gsize len;
  guint8 *raw;

  raw = lk_base64_decode_strict (t->private_key, strlen (t->private_key), &len);
  der = lk_secure_bytes_take (raw, len);
  key = lk_key_pair_new_from_private (der, error);
  if (key == NULL)
    return FALSE;

  public_key = g_base64_encode (g_bytes_get_data (lk_key_pair_get_public (key), NULL),
                                g_bytes_get_size (lk_key_pair_get_public (key)));
  statement = lk_signing_key_possession (mailbox_id_of (t), public_key);
  proof = lk_key_pair_sign (key, statement, error);
  if (proof == NULL)
    return FALSE;
  proof_text = g_base64_encode (g_bytes_get_data (proof, NULL), g_bytes_get_size (proof));

  json_object_set_string_member (content, "publicKey", public_key);
  json_object_set_string_member (content, "keyAttestation", proof_text);
  if (code != NULL)
    json_object_set_string_member (content, "activationCode", code);

  if (!send_message (w, t, FORMAT_CAR, content, error))
    return FALSE;
  _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
  return save_transfer (w, t, error);
}

static gboolean
receive_car (Worker      *w,
             LkTransfer  *t,
             const char  *code,
             GError     **error)
{
  JsonNode *required = json_object_get_member (t->offer, "codeRequired");
  gboolean code_required = required != NULL && JSON_NODE_HOLDS_VALUE (required) && json_node_get_boolean (required);

  if (g_strcmp0 (lk_json_get_string (t->offer, "sharingDataType", 64, FALSE, 0, 0, NULL), "KeyCreationRequest") != 0 ||
      lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error) == NULL ||
      lk_json_get_string (t->offer, "ownerPublicKey", 1024, TRUE, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED, error) == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                     _("The car key offer does not start with a KeyCreationRequest"));
      return FALSE;
    }

  /* Our own key for the car, made now, kept (in the keyring) until the owner
   * has signed it. */
  if (t->private_key == NULL)
    {
      g_autoptr(LkKeyPair) key = lk_key_pair_generate (error);
      g_autoptr(GBytes) der = NULL;

      if (key == NULL || (der = lk_key_pair_export_private (key, error)) == NULL)
        return FALSE;
      t->private_key = g_base64_encode (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
    }

  if (code_required && code == NULL)
    {
      _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CODE, NULL);
      return save_transfer (w, t, error);
    }

  return send_signing_request (w, t, code, error);
}

static gboolean
process_offer (Worker      *w,
               LkTransfer  *t,
               const char  *code,
               GError     **error)
{
  switch (t->vertical)
    {
    case LK_VERTICAL_GENERIC:
      return receive_generic (w, t, code, error);
    case LK_VERTICAL_HOME:
      return receive_home (w, t, code, error);
    case LK_VERTICAL_CAR:
      return receive_car (w, t, code, error);
    default:
      g_assert_not_reached ();
    }
}

static const char *
expected_format (LkVertical vertical)
{
  switch (vertical)
    {
    case LK_VERTICAL_CAR:
      return FORMAT_CAR;
    case LK_VERTICAL_HOME:
      return FORMAT_HOME;
    case LK_VERTICAL_GENERIC:
    default:
      return FORMAT_GENERIC;
    }
}

/* A message the relay cannot have made correctly ends the transfer, and
 * nothing from it is kept. */
static gboolean
fail_hostile (Worker      *w,
              LkTransfer  *t,
              GError      *cause,
              GError     **error)
{
  g_autofree char *detail = g_strdup_printf (_("The exchange was altered on the way (%s). Nothing was stored; "
                                               "the relay may be misbehaving."), cause->message);

  return finish_transfer (w, t, LK_TRANSFER_STATE_FAILED, detail, error);
}

/* An offer may name its key's provider only by the rule every server the
 * wallet talks to follows (PROTOCOL.md §7.5): https, or http to this
 * machine. The sender chooses it; nothing goes there otherwise. */
static gboolean
check_offer_servers (JsonObject  *offer,
                     GError     **error)
{
  JsonObject *description = lk_json_get_object (offer, "credential", FALSE, 0, 0, NULL);
  const char *urls[] = {
    lk_json_get_string (offer, "partnerUrl", 2048, FALSE, 0, 0, NULL),
    description != NULL ? lk_json_get_string (description, "partnerUrl", 2048, FALSE, 0, 0, NULL) : NULL,
  };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (urls[i] != NULL && !lk_share_link_check_server_url (urls[i], &local_error))
        {
          g_set_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                       _("The sender’s offer names the key’s provider at an address Latchkey does not use (%s). "
                         "Nothing was sent there or stored."), local_error->message);
          return FALSE;
        }
    }

  return TRUE;
}

static LkTransfer *
do_receive (Worker       *w,
            LkShareLink  *link,
            const char   *code,
            GError      **error)
{
  g_autoptr(LkTransfer) t = _lk_transfer_new (LK_ROLE_RECIPIENT, lk_share_link_get_vertical (link));
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *format = NULL;
  Wait wait = { NULL };

  t->mailbox_url = lk_share_link_get_mailbox_url (link);
  t->secret = g_bytes_ref (lk_share_link_get_secret (link));
  t->channel = lk_channel_new (t->secret, lk_share_link_get_mailbox_id (link), LK_ROLE_RECIPIENT);

  /* The claim below cannot be undone: make sure first that what it gets
   * can be kept, so a locked keyring costs a retry, not the invitation. */
  lk_store_check_async (w->store, w->cancellable, on_done, &wait);
  if (!lk_store_check_finish (w->store, wait_for (w, &wait), error))
    {
      g_clear_object (&wait.result);
      return NULL;
    }
  g_clear_object (&wait.result);

  /* This read claims the mailbox for this device. */
  lk_mailbox_client_read_async (w->mailbox, t->mailbox_url, t->claim, -1, 0, w->cancellable, on_done, &wait);
  reply = mailbox_finish (w, &wait, error);
  if (reply == NULL)
    return NULL;

  t->version = reply->version;
  t->bound = TRUE;
  t->expires = reply->expiration ? g_date_time_ref (reply->expiration) : NULL;
  t->description = g_strdup (reply->title);

  t->offer = lk_channel_open (t->channel, reply->payload, &format, &local_error);
  if (t->offer == NULL || g_strcmp0 (format, expected_format (t->vertical)) != 0)
    {
      if (local_error == NULL)
        local_error = g_error_new (LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                                   _("the message is not the kind of key the link announced"));
      /* Nothing was stored, and nothing is kept but the failure. */
      g_clear_pointer (&t->offer, json_object_unref);
      if (!fail_hostile (w, t, local_error, error))
        return NULL;
      return g_steal_pointer (&t);
    }

  {
    JsonObject *description = lk_json_get_object (t->offer, "credential", FALSE, 0, 0, NULL);
    const char *shared_by = lk_json_get_string (t->offer, "sharedBy", LK_CREDENTIAL_MAX_TITLE, FALSE, 0, 0, NULL);

    if (description != NULL)
      t->title = g_strdup (lk_json_get_string (description, "title", LK_CREDENTIAL_MAX_TITLE, FALSE, 0, 0, NULL));
    if (shared_by != NULL)
      t->shared_by = g_utf8_make_valid (shared_by, -1);
  }

  if (!check_offer_servers (t->offer, &local_error))
    {
      g_autoptr(GError) cancel_error = NULL;

      if (!send_typed (w, t, "ReceiverCancel", "bad-offer", &cancel_error))
        g_debug ("Could not tell the sender: %s", cancel_error->message);
      if (!finish_transfer (w, t, LK_TRANSFER_STATE_FAILED, local_error->message, error))
        return NULL;
      return g_steal_pointer (&t);
    }

  _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
  if (!save_transfer (w, t, error) || !process_offer (w, t, code, error))
    return NULL;

  return g_steal_pointer (&t);
}

/* The sender's answers to the receiver's messages. */

static gboolean
check_code_and_continue (Worker      *w,
                         LkTransfer  *t,
                         const char  *code,
                         GError     **error);

static gboolean
confirm (Worker      *w,
         LkTransfer  *t,
         GError     **error)
{
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(JsonObject) content = typed_content ("KeyImportRequest");
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autofree char *from = format_time (t->valid_from);
  g_autofree char *until = format_time (t->valid_until);
  g_autofree char *signature_text = NULL;
  LkKeyPair *key;

  credential = load_credential (w, t->credential_id, error);
  if (credential == NULL)
    return FALSE;
  key = lk_credential_get_key_pair (credential);
  if (key == NULL || !lk_key_pair_has_private (key))
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_UNSUPPORTED,
                   _("This device does not hold the car key’s private key"));
      return FALSE;
    }

  statement = lk_signing_friend_key (lk_credential_get_access_point_id (credential), t->friend_key,
                                     (const char * const *) t->entitlements, from, until);
  signature = lk_key_pair_sign (key, statement, error);
  if (signature == NULL)
    return FALSE;
  signature_text = g_base64_encode (g_bytes_get_data (signature, NULL), g_bytes_get_size (signature));

  json_object_set_string_member (content, "ownerSignature", signature_text);
  json_object_set_array_member (content, "entitlements", strv_to_array ((const char * const *) t->entitlements));
  if (from != NULL)
    json_object_set_string_member (content, "validFrom", from);
  json_object_set_string_member (content, "validUntil", until);
  json_object_set_string_member (content, "accessPointId", lk_credential_get_access_point_id (credential));

  if (!send_message (w, t, FORMAT_CAR, content, error))
    return FALSE;
  _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
  return save_transfer (w, t, error);
}

static gboolean
check_code_and_continue (Worker      *w,
                         LkTransfer  *t,
                         const char  *code,
                         GError     **error)
{
  if (t->code != NULL && !codes_equal (t->code, code))
    {
      t->attempts_left = t->attempts_left > 0 ? t->attempts_left - 1 : 0;
      if (t->attempts_left == 0)
        {
          /* Three wrong codes: the link may be in the wrong hands. */
          if (!send_typed (w, t, "SenderCancel", "activation-code", error))
            return FALSE;
          return finish_transfer (w, t, LK_TRANSFER_STATE_CANCELLED,
                                  _("The activation code was entered wrong three times; the share was cancelled."),
                                  error);
        }

      {
        g_autoptr(JsonObject) content = typed_content ("PinReEntryRequest");

        json_object_set_int_member (content, "attemptsLeft", t->attempts_left);
        if (!send_message (w, t, t->vertical == LK_VERTICAL_CAR ? FORMAT_CAR : FORMAT_TRANSFER, content, error))
          return FALSE;
        _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
        return save_transfer (w, t, error);
      }
    }

  if (t->vertical == LK_VERTICAL_GENERIC)
    {
      /* The code is right: now the share's token goes (asked for now if the
       * share was made before shares had tokens of their own). */
      g_autoptr(LkCredential) credential = load_credential (w, t->credential_id, error);
      g_autoptr(JsonObject) content = typed_content ("AccessToken");

      if (credential == NULL || !request_generic_share (w, t, credential, error) || !save_transfer (w, t, error))
        return FALSE;
      json_object_set_string_member (content, "accessToken", t->token);
      if (!send_message (w, t, FORMAT_GENERIC, content, error))
        return FALSE;
      _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
      return save_transfer (w, t, error);
    }

  _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CONFIRMATION, NULL);
  if (!save_transfer (w, t, error))
    return FALSE;
  return t->auto_confirm ? confirm (w, t, error) : TRUE;
}

static gboolean
sender_handle (Worker      *w,
               LkTransfer  *t,
               JsonObject  *content,
               GError     **error)
{
  const char *type = lk_json_get_string (content, "sharingDataType", 64, FALSE, 0, 0, NULL);
  const char *reason = lk_json_get_string (content, "reason", 64, FALSE, 0, 0, NULL);

  if (g_strcmp0 (type, "ReceiverDone") == 0)
    return finish_transfer (w, t, LK_TRANSFER_STATE_DONE, NULL, error);

  if (g_strcmp0 (type, "ReceiverCancel") == 0)
    {
      if (g_strcmp0 (reason, "activation-code") == 0)
        return finish_transfer (w, t, LK_TRANSFER_STATE_CANCELLED,
                                _("The activation code was entered wrong too many times."), error);
      return finish_transfer (w, t, LK_TRANSFER_STATE_DECLINED, NULL, error);
    }

  if (t->vertical == LK_VERTICAL_CAR && g_strcmp0 (type, "KeySigningRequest") == 0 &&
      t->friend_key == NULL)
    {
      const char *public_key = lk_json_get_string (content, "publicKey", 1024, TRUE, LK_MESSAGE_ERROR,
                                                   LK_MESSAGE_ERROR_MALFORMED, error);
      const char *proof = lk_json_get_string (content, "keyAttestation", 1024, TRUE, LK_MESSAGE_ERROR,
                                              LK_MESSAGE_ERROR_MALFORMED, error);
      g_autoptr(LkKeyPair) key = NULL;
      g_autoptr(GBytes) der = NULL;
      g_autoptr(GBytes) statement = NULL;
      g_autoptr(GBytes) signature = NULL;
      guint8 *raw;
      gsize len;

      if (public_key == NULL || proof == NULL)
        return FALSE;

      /* The friend's key must be a P-256 key it can sign with, for this share. */
      raw = lk_base64_decode_strict (public_key, strlen (public_key), &len);
      der = raw ? g_bytes_new_take (raw, len) : NULL;
      key = der ? lk_key_pair_new_from_public (der, error) : NULL;
      raw = lk_base64_decode_strict (proof, strlen (proof), &len);
      signature = raw ? g_bytes_new_take (raw, len) : NULL;
      statement = lk_signing_key_possession (mailbox_id_of (t), public_key);
      if (key == NULL || signature == NULL || !lk_key_pair_verify (key, statement, signature, NULL))
        {
          g_autoptr(GError) cause = g_error_new (LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_BAD_SIGNATURE,
                                                 _("the friend’s key is not proven"));
          g_clear_error (error);
          return fail_hostile (w, t, cause, error);
        }

      t->friend_key = g_strdup (public_key);
      return check_code_and_continue (w, t, lk_json_get_string (content, "activationCode", 64, FALSE, 0, 0, NULL),
                                      error);
    }

  if (t->vertical == LK_VERTICAL_GENERIC && g_strcmp0 (type, "PinReEntryValue") == 0 && t->code != NULL)
    return check_code_and_continue (w, t, lk_json_get_string (content, "activationCode", 64, FALSE, 0, 0, NULL),
                                    error);

  if (t->vertical == LK_VERTICAL_CAR && g_strcmp0 (type, "PinReEntryValue") == 0 && t->friend_key != NULL)
    return check_code_and_continue (w, t, lk_json_get_string (content, "activationCode", 64, FALSE, 0, 0, NULL),
                                    error);

  {
    g_autoptr(GError) cause = g_error_new (LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                                           _("an unexpected “%s” message"), type ? type : "?");
    return fail_hostile (w, t, cause, error);
  }
}

/* The receiver's answers to the sender's messages. */

static gboolean
receiver_handle (Worker      *w,
                 LkTransfer  *t,
                 JsonObject  *content,
                 GError     **error)
{
  const char *type = lk_json_get_string (content, "sharingDataType", 64, FALSE, 0, 0, NULL);

  if (g_strcmp0 (type, "SenderCancel") == 0)
    {
      const char *reason = lk_json_get_string (content, "reason", 64, FALSE, 0, 0, NULL);

      return finish_transfer (w, t, LK_TRANSFER_STATE_CANCELLED,
                              g_strcmp0 (reason, "activation-code") == 0
                              ? _("The activation code was entered wrong three times; the sender’s device cancelled the share.")
                              : _("The sender cancelled the share."),
                              error);
    }

  if (t->vertical == LK_VERTICAL_GENERIC && g_strcmp0 (type, "AccessToken") == 0)
    {
      const char *token = lk_json_get_string (content, "accessToken", 256, TRUE, LK_MESSAGE_ERROR,
                                              LK_MESSAGE_ERROR_MALFORMED, error);

      return token != NULL && store_generic (w, t, token, error);
    }

  if (t->vertical != LK_VERTICAL_HOME && g_strcmp0 (type, "PinReEntryRequest") == 0)
    {
      gint64 left = 0;

      lk_json_get_int (content, "attemptsLeft", 0, LK_ACTIVATION_CODE_ATTEMPTS, &left, 0, 0, NULL);
      t->attempts_left = left;
      _lk_transfer_set_state (t, LK_TRANSFER_STATE_AWAITING_CODE, _("The activation code is wrong."));
      return save_transfer (w, t, error);
    }

  if (t->vertical == LK_VERTICAL_CAR && g_strcmp0 (type, "KeyImportRequest") == 0 && t->private_key != NULL)
    {
      JsonObject *description = lk_json_get_object (t->offer, "credential", TRUE, LK_MESSAGE_ERROR,
                                                    LK_MESSAGE_ERROR_MALFORMED, error);
      const char *owner_key = lk_json_get_string (t->offer, "ownerPublicKey", 1024, TRUE, LK_MESSAGE_ERROR,
                                                  LK_MESSAGE_ERROR_MALFORMED, error);
      const char *signature = lk_json_get_string (content, "ownerSignature", 1024, TRUE, LK_MESSAGE_ERROR,
                                                  LK_MESSAGE_ERROR_MALFORMED, error);
      const char *access_point = lk_json_get_string (content, "accessPointId", 128, TRUE, LK_MESSAGE_ERROR,
                                                     LK_MESSAGE_ERROR_MALFORMED, error);
      g_autoptr(LkCredential) credential = NULL;
      g_autoptr(LkKeyPair) key = NULL;
      g_autoptr(LkKeyPair) owner = NULL;
      g_autoptr(GBytes) der = NULL;
      g_autoptr(GBytes) owner_der = NULL;
      g_autoptr(GBytes) signature_der = NULL;
      g_autoptr(GBytes) statement = NULL;
      g_autoptr(GDateTime) from = NULL;
      g_autoptr(GDateTime) until = NULL;
      g_auto(GStrv) entitlements = NULL;
      g_autofree char *public_key = NULL;
      g_autofree char *from_text = NULL;
      g_autofree char *until_text = NULL;
      guint8 *raw;
      gsize len;

      if (description == NULL || owner_key == NULL || signature == NULL || access_point == NULL)
        return FALSE;

      raw = lk_base64_decode_strict (t->private_key, strlen (t->private_key), &len);
      der = lk_secure_bytes_take (raw, len);
      key = lk_key_pair_new_from_private (der, error);
      if (key == NULL)
        return FALSE;
      public_key = g_base64_encode (g_bytes_get_data (lk_key_pair_get_public (key), NULL),
                                    g_bytes_get_size (lk_key_pair_get_public (key)));

      /* The owner signed our key, with what it may do and when: check it
       * against the key the owner offered with. */
      from = parse_time (content, "validFrom");
      until = parse_time (content, "validUntil");
      from_text = format_time (from);
      until_text = format_time (until);
      entitlements = array_to_strv (content, "entitlements");
      statement = lk_signing_friend_key (access_point, public_key, (const char * const *) entitlements,
                                         from_text, until_text);
      raw = lk_base64_decode_strict (owner_key, strlen (owner_key), &len);
      owner_der = raw ? g_bytes_new_take (raw, len) : NULL;
      owner = owner_der ? lk_key_pair_new_from_public (owner_der, NULL) : NULL;
      raw = lk_base64_decode_strict (signature, strlen (signature), &len);
      signature_der = raw ? g_bytes_new_take (raw, len) : NULL;
      if (owner == NULL || signature_der == NULL || until == NULL ||
          !lk_key_pair_verify (owner, statement, signature_der, NULL))
        {
          g_autoptr(GError) cause = g_error_new (LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_BAD_SIGNATURE,
                                                 _("the owner’s signature does not match"));
          return fail_hostile (w, t, cause, error);
        }

      credential = credential_from_offer (t, description, LK_VERTICAL_CAR);
      lk_credential_set_key_pair (credential, key);
      lk_credential_set_owner_signature (credential, signature);
      lk_credential_set_access_point_id (credential, access_point);
      lk_credential_set_entitlements (credential, (const char * const *) entitlements);
      lk_credential_set_validity (credential, from, until, NULL);
      return store_received (w, t, credential, error);
    }

  {
    g_autoptr(GError) cause = g_error_new (LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED,
                                           _("an unexpected “%s” message"), type ? type : "?");
    return fail_hostile (w, t, cause, error);
  }
}

/* One step: read the mailbox (waiting up to @wait_seconds for a change) and
 * act on what the other side wrote. */
static gboolean
do_step (Worker      *w,
         LkTransfer  *t,
         guint        wait_seconds,
         GError     **error)
{
  g_autoptr(LkMailboxReply) reply = NULL;
  g_autoptr(JsonObject) content = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  const char *data;
  Wait wait = { NULL };

  if (lk_transfer_state_is_final (t->state))
    return TRUE;

  if (t->outbox != NULL && (!flush_outbox (w, t, error) || !save_transfer (w, t, error)))
    return FALSE;

  /* The user's turn: nothing to read until they act. */
  if (t->state == LK_TRANSFER_STATE_AWAITING_CODE || t->state == LK_TRANSFER_STATE_AWAITING_CONFIRMATION)
    return TRUE;

  lk_mailbox_client_read_async (w->mailbox, t->mailbox_url, t->claim, t->version, wait_seconds,
                                w->cancellable, on_done, &wait);
  reply = mailbox_finish (w, &wait, &local_error);

  if (reply == NULL)
    {
      gboolean expired = t->expires != NULL && g_date_time_compare (now, t->expires) >= 0;

      if (!g_error_matches (local_error, LK_MAILBOX_ERROR, LK_MAILBOX_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (expired)
        return finish_transfer (w, t, LK_TRANSFER_STATE_EXPIRED, NULL, error);
      if (t->role == LK_ROLE_RECIPIENT)
        return finish_transfer (w, t, LK_TRANSFER_STATE_CANCELLED, _("The sender cancelled the share."), error);
      return finish_transfer (w, t, LK_TRANSFER_STATE_FAILED,
                              _("The invitation disappeared from the relay before it was completed."), error);
    }

  if (reply->not_modified)
    return TRUE;

  t->version = reply->version;
  if (reply->expiration != NULL)
    {
      g_clear_pointer (&t->expires, g_date_time_unref);
      t->expires = g_date_time_ref (reply->expiration);
    }
  if (t->role == LK_ROLE_INITIATOR && reply->recipient_bound && t->state == LK_TRANSFER_STATE_WAITING)
    {
      t->bound = TRUE;
      _lk_transfer_set_state (t, LK_TRANSFER_STATE_OPENED, NULL);
    }

  /* Our own message, unread or read and not yet answered. */
  data = lk_json_get_string (reply->payload, "data", G_MAXSIZE, FALSE, 0, 0, NULL);
  if (data == NULL || g_strcmp0 (data, t->last_sent) == 0)
    return save_transfer (w, t, error);

  content = lk_channel_open (t->channel, reply->payload, NULL, &local_error);
  if (content == NULL)
    return fail_hostile (w, t, local_error, error);

  return t->role == LK_ROLE_INITIATOR ? sender_handle (w, t, content, error)
                                      : receiver_handle (w, t, content, error);
}

static gboolean
do_provide_code (Worker      *w,
                 LkTransfer  *t,
                 const char  *code,
                 GError     **error)
{
  if (t->role != LK_ROLE_RECIPIENT || t->state != LK_TRANSFER_STATE_AWAITING_CODE)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("This transfer is not waiting for an activation code"));
      return FALSE;
    }

  switch (t->vertical)
    {
    case LK_VERTICAL_HOME:
      return receive_home (w, t, code, error);

    case LK_VERTICAL_CAR:
      /* The code goes to the owner's device, which checks it. */
      if (t->version >= 0 && t->last_sent == NULL)
        return send_signing_request (w, t, code, error);
      return send_code (w, t, code, error);

    case LK_VERTICAL_GENERIC:
    default:
      return send_code (w, t, code, error);
    }
}

static gboolean
do_cancel (Worker      *w,
           LkTransfer  *t,
           GError     **error)
{
  if (lk_transfer_state_is_final (t->state))
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("This transfer is already over; revoke the key instead"));
      return FALSE;
    }

  if (t->role == LK_ROLE_INITIATOR)
    {
      /* A token someone might still redeem or hold goes too. */
      if ((t->vertical == LK_VERTICAL_HOME && t->token != NULL) ||
          (t->vertical == LK_VERTICAL_GENERIC && t->share_id != NULL))
        {
          g_autoptr(LkCredential) credential = load_credential (w, t->credential_id, NULL);
          g_autofree char *target = t->vertical == LK_VERTICAL_HOME ? g_strconcat ("token:", t->token, NULL)
                                                                    : g_strconcat ("credential:", t->share_id, NULL);
          Wait wait = { NULL };

          if (credential != NULL)
            {
              lk_partner_client_revoke_async (w->partner, credential, target, w->cancellable, on_done, &wait);
              if (!lk_partner_client_revoke_finish (w->partner, wait_for (w, &wait), error))
                {
                  g_object_unref (wait.result);
                  return FALSE;
                }
              g_object_unref (wait.result);
            }
        }
      return finish_transfer (w, t, LK_TRANSFER_STATE_CANCELLED, _("You cancelled the share."), error);
    }

  /* The receiver declines: tell the sender, if the mailbox is still there. */
  if (t->version >= 0)
    {
      g_autoptr(GError) local_error = NULL;

      g_clear_pointer (&t->outbox, json_object_unref);
      if (!send_typed (w, t, "ReceiverCancel", NULL, &local_error))
        g_debug ("Could not tell the sender: %s", local_error->message);
    }
  return finish_transfer (w, t, LK_TRANSFER_STATE_DECLINED, NULL, error);
}

static gboolean
do_revoke (Worker      *w,
           LkTransfer  *t,
           GError     **error)
{
  g_autoptr(LkCredential) credential = NULL;
  g_autofree char *target = NULL;
  Wait wait = { NULL };
  gboolean ok;

  if (t->role != LK_ROLE_INITIATOR || t->state != LK_TRANSFER_STATE_DONE)
    {
      g_set_error (error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                   _("Only a completed share can be revoked; cancel a pending one"));
      return FALSE;
    }

  credential = load_credential (w, t->credential_id, error);
  if (credential == NULL)
    return FALSE;

  if (t->vertical == LK_VERTICAL_HOME && t->token != NULL)
    target = g_strconcat ("token:", t->token, NULL);
  else if (t->vertical == LK_VERTICAL_GENERIC && t->share_id != NULL)
    target = g_strconcat ("credential:", t->share_id, NULL);
  else if (t->vertical == LK_VERTICAL_GENERIC)
    {
      /* A share made before shares had tokens of their own gave away the
       * owner's: revoking it revokes that token, in every copy. The owner
       * signs from then on. */
      if (!ensure_owner_key (w, credential, error))
        return FALSE;
      target = g_strconcat ("access-tokens:", lk_credential_get_id (credential), NULL);
    }
  else if (t->vertical == LK_VERTICAL_CAR && t->friend_key != NULL)
    {
      g_autoptr(GBytes) der = NULL;
      g_autoptr(LkKeyPair) friend_key = NULL;
      g_autofree char *fingerprint = NULL;
      gsize len;
      guint8 *raw = lk_base64_decode_strict (t->friend_key, strlen (t->friend_key), &len);

      der = raw ? g_bytes_new_take (raw, len) : NULL;
      friend_key = der ? lk_key_pair_new_from_public (der, error) : NULL;
      if (friend_key == NULL)
        return FALSE;
      fingerprint = lk_key_pair_get_fingerprint (friend_key);
      target = g_strconcat ("key:", fingerprint, NULL);
    }

  lk_partner_client_revoke_async (w->partner, credential, target, w->cancellable, on_done, &wait);
  ok = lk_partner_client_revoke_finish (w->partner, wait_for (w, &wait), error);
  g_object_unref (wait.result);
  if (!ok)
    return FALSE;

  t->revoked = TRUE;
  return save_transfer (w, t, error);
}

/* The public asynchronous face */

typedef enum
{
  JOB_SHARE,
  JOB_RECEIVE,
  JOB_PREVIEW,
  JOB_STEP,
  JOB_CODE,
  JOB_CONFIRM,
  JOB_CANCEL,
  JOB_REVOKE,
  JOB_ENROLL,
  JOB_ACCESS,
  JOB_LIST,
  JOB_DELETE,
} JobKind;

typedef struct
{
  JobKind         kind;
  LkTransfer     *transfer;
  LkCredential   *credential;
  LkShareLink    *link;
  LkShareOptions  options;
  char           *code;
  char           *text;        /* partner URL, action, id */
  char           *title;
  LkVertical      vertical;
  LkStoreKind     store_kind;
  guint           wait_seconds;
} Job;

static void
job_free (Job *job)
{
  g_clear_object (&job->transfer);
  g_clear_object (&job->credential);
  g_clear_object (&job->link);
  lk_share_options_clear (&job->options);
  lk_secure_clear_str (&job->code);
  g_free (job->text);
  g_free (job->title);
  g_free (job);
}

static GPtrArray *
do_list (Worker      *w,
         LkStoreKind  kind,
         GError     **error)
{
  g_autoptr(GPtrArray) secrets = store_load_all (w, kind, error);
  GPtrArray *items;

  if (secrets == NULL)
    return NULL;

  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < secrets->len; i++)
    {
      const char *json = g_ptr_array_index (secrets, i);
      g_autoptr(GError) local_error = NULL;
      gpointer item = kind == LK_STORE_KIND_CREDENTIAL
                      ? (gpointer) lk_credential_new_from_json (json, strlen (json), &local_error)
                      : (gpointer) lk_transfer_new_from_json (json, strlen (json), &local_error);

      /* One damaged item must not hide the others. */
      if (item == NULL)
        g_warning ("Skipping a damaged keyring item: %s", local_error->message);
      else
        g_ptr_array_add (items, item);
    }

  return items;
}

static void
run_job (GTask        *task,
         gpointer      source_object,
         gpointer      task_data,
         GCancellable *cancellable)
{
  LkTransferEngine *self = source_object;
  Job *job = task_data;
  g_autoptr(GError) error = NULL;
  Worker w = { NULL };
  gboolean ok = TRUE;
  gpointer result = NULL;
  GDestroyNotify destroy = g_object_unref;

  worker_init (&w, self, cancellable);

  switch (job->kind)
    {
    case JOB_SHARE:
      result = do_share (&w, job->credential, &job->options, &error);
      break;

    case JOB_RECEIVE:
      result = do_receive (&w, job->link, job->code, &error);
      break;

    case JOB_PREVIEW:
      {
        g_autofree char *url = lk_share_link_get_mailbox_url (job->link);
        Wait wait = { NULL };

        lk_mailbox_client_preview_async (w.mailbox, url, w.cancellable, on_done, &wait);
        result = mailbox_finish (&w, &wait, &error);
        destroy = (GDestroyNotify) lk_mailbox_reply_free;
      }
      break;

    case JOB_STEP:
      ok = do_step (&w, job->transfer, job->wait_seconds, &error);
      break;

    case JOB_CODE:
      ok = do_provide_code (&w, job->transfer, job->code, &error);
      break;

    case JOB_CONFIRM:
      if (job->transfer->state != LK_TRANSFER_STATE_AWAITING_CONFIRMATION)
        {
          ok = FALSE;
          g_set_error (&error, LK_TRANSFER_ERROR, LK_TRANSFER_ERROR_INVALID_STATE,
                       _("This share is not waiting for your confirmation"));
        }
      else
        ok = confirm (&w, job->transfer, &error);
      break;

    case JOB_CANCEL:
      ok = do_cancel (&w, job->transfer, &error);
      break;

    case JOB_REVOKE:
      ok = do_revoke (&w, job->transfer, &error);
      break;

    case JOB_ENROLL:
      {
        Wait wait = { NULL };

        lk_partner_client_enroll_async (w.partner, job->text, job->vertical, job->title, w.cancellable,
                                        on_done, &wait);
        result = lk_partner_client_enroll_finish (w.partner, wait_for (&w, &wait), &error);
        g_object_unref (wait.result);
        if (result != NULL && !save_credential (&w, result, &error))
          g_clear_object (&result);
      }
      break;

    case JOB_ACCESS:
      {
        Wait wait = { NULL };

        lk_partner_client_access_async (w.partner, job->credential, job->text, w.cancellable, on_done, &wait);
        result = lk_partner_client_access_finish (w.partner, wait_for (&w, &wait), &error);
        g_object_unref (wait.result);
        destroy = (GDestroyNotify) lk_access_result_free;
      }
      break;

    case JOB_LIST:
      result = do_list (&w, job->store_kind, &error);
      destroy = (GDestroyNotify) g_ptr_array_unref;
      break;

    case JOB_DELETE:
      {
        Wait wait = { NULL };

        lk_store_delete_async (w.store, job->store_kind, job->text, w.cancellable, on_done, &wait);
        ok = lk_store_delete_finish (w.store, wait_for (&w, &wait), &error);
        g_object_unref (wait.result);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  worker_clear (&w);

  if (job->transfer != NULL && job->kind != JOB_SHARE && job->kind != JOB_RECEIVE)
    {
      /* Operations on a transfer return it, changed. */
      if (ok)
        g_task_return_pointer (task, g_object_ref (job->transfer), g_object_unref);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (job->kind == JOB_DELETE)
    {
      if (ok)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (result != NULL)
    g_task_return_pointer (task, result, destroy);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
start_job (LkTransferEngine    *self,
           Job                 *job,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, start_job);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, run_job);
}

static Job *
job_new (JobKind kind)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  return job;
}

/**
 * lk_transfer_engine_share_async:
 *
 * Creates a share of @credential: a mailbox on the relay holding the first
 * message. Finish with lk_transfer_engine_transfer_finish(); the transfer's
 * link and activation code are then for the user to pass on.
 */
void
lk_transfer_engine_share_async (LkTransferEngine     *self,
                                LkCredential         *credential,
                                const LkShareOptions *options,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data)
{
  Job *job = job_new (JOB_SHARE);

  job->credential = g_object_ref (credential);
  if (options != NULL)
    {
      job->options.activation_code = options->activation_code;
      job->options.entitlements = g_strdupv (options->entitlements);
      job->options.valid_from = options->valid_from ? g_date_time_ref (options->valid_from) : NULL;
      job->options.valid_until = options->valid_until ? g_date_time_ref (options->valid_until) : NULL;
      job->options.expires = options->expires ? g_date_time_ref (options->expires) : NULL;
      job->options.auto_confirm = options->auto_confirm;
      job->options.sender_name = g_strdup (options->sender_name);
    }
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_preview_async:
 *
 * Reads what the relay shows of an invitation, claiming nothing: safe to do
 * before the user accepts. Finish with lk_transfer_engine_preview_finish().
 */
void
lk_transfer_engine_preview_async (LkTransferEngine    *self,
                                  LkShareLink         *link,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  Job *job = job_new (JOB_PREVIEW);

  job->link = g_object_ref (link);
  start_job (self, job, cancellable, callback, user_data);
}

LkMailboxReply *
lk_transfer_engine_preview_finish (LkTransferEngine  *self,
                                   GAsyncResult      *result,
                                   GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lk_transfer_engine_receive_async:
 * @activation_code: (nullable): if the sender gave one
 *
 * Accepts an invitation: claims the mailbox for this device and goes as far
 * as it can without the sender.
 */
void
lk_transfer_engine_receive_async (LkTransferEngine    *self,
                                  LkShareLink         *link,
                                  const char          *activation_code,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  Job *job = job_new (JOB_RECEIVE);

  job->link = g_object_ref (link);
  job->code = g_strdup (activation_code);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_step_async:
 * @wait_seconds: how long to wait for the other side (0: just look)
 *
 * Looks at the mailbox once and acts on what the other side wrote.
 */
void
lk_transfer_engine_step_async (LkTransferEngine    *self,
                               LkTransfer          *transfer,
                               guint                wait_seconds,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Job *job = job_new (JOB_STEP);

  job->transfer = g_object_ref (transfer);
  job->wait_seconds = wait_seconds;
  start_job (self, job, cancellable, callback, user_data);
}

void
lk_transfer_engine_provide_code_async (LkTransferEngine    *self,
                                       LkTransfer          *transfer,
                                       const char          *activation_code,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  Job *job = job_new (JOB_CODE);

  job->transfer = g_object_ref (transfer);
  job->code = g_strdup (activation_code);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_confirm_async:
 *
 * The car owner agrees to sign the friend's key.
 */
void
lk_transfer_engine_confirm_async (LkTransferEngine    *self,
                                  LkTransfer          *transfer,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  Job *job = job_new (JOB_CONFIRM);

  job->transfer = g_object_ref (transfer);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_cancel_async:
 *
 * The sender cancels a pending share (its mailbox is deleted, and a home
 * token revoked), or the receiver declines one.
 */
void
lk_transfer_engine_cancel_async (LkTransferEngine    *self,
                                 LkTransfer          *transfer,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_CANCEL);

  job->transfer = g_object_ref (transfer);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_revoke_async:
 *
 * Revokes, at the partner, the credential a completed share gave.
 */
void
lk_transfer_engine_revoke_async (LkTransferEngine    *self,
                                 LkTransfer          *transfer,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_REVOKE);

  job->transfer = g_object_ref (transfer);
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_transfer_finish:
 *
 * Finishes share, receive, step, provide-code, confirm, cancel and revoke.
 *
 * Returns: (transfer full): the transfer, in its new state
 */
LkTransfer *
lk_transfer_engine_transfer_finish (LkTransferEngine  *self,
                                    GAsyncResult      *result,
                                    GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lk_transfer_engine_enroll_async:
 *
 * Enrols a demo owner credential with a partner and keeps it in the keyring.
 */
void
lk_transfer_engine_enroll_async (LkTransferEngine    *self,
                                 const char          *partner_url,
                                 LkVertical           vertical,
                                 const char          *title,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_ENROLL);

  job->text = g_strdup (partner_url);
  job->vertical = vertical;
  job->title = g_strdup (title);
  start_job (self, job, cancellable, callback, user_data);
}

LkCredential *
lk_transfer_engine_enroll_finish (LkTransferEngine  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lk_transfer_engine_access_async (LkTransferEngine    *self,
                                 LkCredential        *credential,
                                 const char          *action,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_ACCESS);

  job->credential = g_object_ref (credential);
  job->text = g_strdup (action);
  start_job (self, job, cancellable, callback, user_data);
}

LkAccessResult *
lk_transfer_engine_access_finish (LkTransferEngine  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lk_transfer_engine_list_async:
 *
 * Reads every credential (#LkCredential) or transfer (#LkTransfer) in the
 * keyring.
 */
void
lk_transfer_engine_list_async (LkTransferEngine    *self,
                               LkStoreKind          kind,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  Job *job = job_new (JOB_LIST);

  job->store_kind = kind;
  start_job (self, job, cancellable, callback, user_data);
}

/**
 * lk_transfer_engine_list_finish:
 *
 * Returns: (transfer full) (element-type GObject): the items
 */
GPtrArray *
lk_transfer_engine_list_finish (LkTransferEngine  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lk_transfer_engine_delete_async (LkTransferEngine    *self,
                                 LkStoreKind          kind,
                                 const char          *id,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Job *job = job_new (JOB_DELETE);

  job->store_kind = kind;
  job->text = g_strdup (id);
  start_job (self, job, cancellable, callback, user_data);
}

gboolean
lk_transfer_engine_delete_finish (LkTransferEngine  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
