/* lk-partner-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every request that speaks for a credential first fetches a single-use
 * challenge and signs it with the credential's key, so that a recorded
 * request cannot be played again.
 */

#define G_LOG_DOMAIN "lk-partner-client"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-time.h"
#include "lk-partner-client.h"
#include "lk-share-link.h"
#include "lk-signing.h"

#define MAX_RESPONSE_LENGTH (64 * 1024)

typedef enum
{
  CALL_ENROLL,
  CALL_TOKEN,
  CALL_SHARE,
  CALL_REDEEM,
  CALL_REVOKE,
  CALL_ACCESS,
  CALL_REGISTER_KEY,
} CallKind;

struct _LkPartnerClient
{
  GObject  parent_instance;

  LkHttp  *http;
};

G_DEFINE_FINAL_TYPE (LkPartnerClient, lk_partner_client, G_TYPE_OBJECT)
G_DEFINE_QUARK (lk-partner-error-quark, lk_partner_error)

typedef struct
{
  CallKind      kind;
  char         *partner_url;
  LkCredential *credential;
  LkVertical    vertical;
  char         *title;
  GStrv         entitlements;
  char         *valid_from;
  char         *valid_until;
  char         *code;          /* secret */
  char         *token;         /* secret */
  char         *target;
  char         *action;
  LkKeyPair    *new_key;
  guint         attempts_left;
  char         *share_id;      /* CALL_SHARE: the share's own credential */
  guint         receivers;     /* CALL_TOKEN: how many may redeem it */
} Call;

static void
call_free (Call *call)
{
  g_free (call->partner_url);
  g_clear_object (&call->credential);
  g_free (call->title);
  g_strfreev (call->entitlements);
  g_free (call->valid_from);
  g_free (call->valid_until);
  lk_secure_clear_str (&call->code);
  lk_secure_clear_str (&call->token);
  g_free (call->target);
  g_free (call->action);
  g_clear_object (&call->new_key);
  g_free (call->share_id);
  g_free (call);
}

void
lk_access_result_free (LkAccessResult *result)
{
  if (result == NULL)
    return;

  g_free (result->reason);
  g_free (result->message);
  g_free (result);
}

static void
lk_partner_client_finalize (GObject *object)
{
  LkPartnerClient *self = (LkPartnerClient *) object;

  g_clear_object (&self->http);

  G_OBJECT_CLASS (lk_partner_client_parent_class)->finalize (object);
}

static void
lk_partner_client_class_init (LkPartnerClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_partner_client_finalize;
}

static void
lk_partner_client_init (LkPartnerClient *self)
{
}

LkPartnerClient *
lk_partner_client_new (LkHttp *http)
{
  LkPartnerClient *self = g_object_new (LK_TYPE_PARTNER_CLIENT, NULL);

  self->http = g_object_ref (http);
  return self;
}

static char *
base64_of (GBytes *bytes)
{
  return g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static JsonObject *
parse_body (LkHttpResponse  *response,
            GError         **error)
{
  gsize len;
  const char *data = g_bytes_get_data (response->body, &len);

  return lk_json_parse_object (data, len, MAX_RESPONSE_LENGTH,
                               LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL, error);
}

static void
post (LkPartnerClient     *self,
      GTask               *task,
      const char          *path,
      JsonObject          *body,
      GAsyncReadyCallback  callback)
{
  Call *call = g_task_get_task_data (task);
  g_autofree char *url = g_strconcat (call->partner_url, path, NULL);
  g_autoptr(GBytes) bytes = NULL;

  if (body != NULL)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), body);
      g_autoptr(LkSecureString) text = lk_json_to_string (node);

      /* Bodies may carry tokens and codes: keep them in wiped memory. */
      bytes = lk_secure_bytes_new (text, strlen (text));
    }

  lk_http_request_async (self->http, "POST", url, NULL, bytes, 0,
                         g_task_get_cancellable (task), callback, task);
}

/* Turns a transport failure or an error status into an LkPartnerError. */
static gboolean
check_response (LkHttpResponse  *response,
                GError          *transport_error,
                Call            *call,
                GError         **error)
{
  g_autoptr(JsonObject) object = NULL;
  const char *code = NULL, *message = NULL;

  if (response == NULL)
    {
      if (g_error_matches (transport_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || transport_error->domain == LK_LINK_ERROR)
        g_propagate_error (error, g_error_copy (transport_error));
      else if (g_error_matches (transport_error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE) ||
               g_error_matches (transport_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
        g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL,
                     _("The key’s provider answered something Latchkey cannot use: %s"), transport_error->message);
      else
        g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_UNAVAILABLE,
                     _("Could not reach the key’s provider: %s"), transport_error->message);
      return FALSE;
    }

  if (response->status >= 200 && response->status < 300)
    return TRUE;

  object = parse_body (response, NULL);
  if (object != NULL)
    {
      code = lk_json_get_string (object, "error", 64, FALSE, 0, 0, NULL);
      message = lk_json_get_string (object, "message", 512, FALSE, 0, 0, NULL);
      if (json_object_has_member (object, "attemptsLeft"))
        {
          gint64 left = 0;

          if (lk_json_get_int (object, "attemptsLeft", 0, 100, &left, 0, 0, NULL))
            call->attempts_left = left;
        }
    }

  switch (response->status)
    {
    case 403:
      if (g_strcmp0 (code, "wrong_code") == 0)
        g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_WRONG_CODE,
                     g_dngettext (GETTEXT_PACKAGE, "The activation code is wrong; %u attempt left",
                                  "The activation code is wrong; %u attempts left", call->attempts_left),
                     call->attempts_left);
      else
        g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_DENIED,
                     _("The key’s provider refused: %s"), message ? message : code ? code : "denied");
      break;

    case 410:
      if (g_strcmp0 (code, "too_many_attempts") == 0)
        g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_TOO_MANY_ATTEMPTS,
                     _("The activation code was wrong too many times; the invitation is no longer valid"));
      else
        g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_TOKEN_GONE,
                     _("The invitation was already used, or it expired or was revoked"));
      break;

    case 404:
      g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_NOT_FOUND,
                   _("The key’s provider does not know this key or invitation"));
      break;

    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_UNAVAILABLE,
                   _("The key’s provider is busy or unavailable (HTTP %u)"), response->status);
      break;

    default:
      g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_REJECTED,
                   _("The key’s provider refused the request (HTTP %u%s%s)"), response->status,
                   code ? ": " : "", code ? code : "");
      break;
    }

  return FALSE;
}

/* Builds a credential from the partner's description of one. */
static LkCredential *
credential_from_response (JsonObject        *object,
                          const char        *partner_url,
                          LkCredentialRole   role,
                          GError           **error)
{
  const char *id, *vertical_name, *title, *issuer, *access_point, *from, *until, *access_token;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GDateTime) valid_from = NULL;
  g_autoptr(GDateTime) valid_until = NULL;
  LkVertical vertical;
  g_auto(GStrv) entitlements = NULL;

#define STRING(var, member, required) \
  var = lk_json_get_string (object, member, 2048, required, LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL, error); \
  if (required && var == NULL) \
    return NULL;
  STRING (id, "credentialId", TRUE);
  STRING (vertical_name, "vertical", TRUE);
  STRING (title, "title", TRUE);
  STRING (access_point, "accessPointId", TRUE);
  STRING (issuer, "issuer", FALSE);
  STRING (from, "validFrom", FALSE);
  STRING (until, "validUntil", FALSE);
  STRING (access_token, "accessToken", FALSE);
#undef STRING

  if (!g_uuid_string_is_valid (id) || !lk_vertical_from_string (vertical_name, &vertical))
    {
      g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL,
                   _("The key’s provider described the key in an unknown way"));
      return NULL;
    }

  credential = g_object_new (LK_TYPE_CREDENTIAL,
                             "id", id,
                             "vertical", vertical,
                             "role", role,
                             "title", title,
                             "issuer", issuer,
                             NULL);
  lk_credential_set_access_point_id (credential, access_point);
  lk_credential_set_partner_url (credential, partner_url);
  lk_credential_set_access_token (credential, access_token);

  valid_from = lk_time_parse (from);
  valid_until = lk_time_parse (until);
  if ((from != NULL && valid_from == NULL) || (until != NULL && valid_until == NULL) ||
      !lk_credential_set_validity (credential, valid_from, valid_until, NULL))
    {
      g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL,
                   _("The key’s provider gave an invalid validity window"));
      return NULL;
    }

  entitlements = lk_json_get_strv (object, "entitlements", FALSE, LK_CREDENTIAL_MAX_ENTITLEMENTS,
                                   LK_CREDENTIAL_MAX_ENTITLEMENT, LK_JSON_STRV_LENIENT, 0, 0, NULL);
  if (entitlements != NULL)
    lk_credential_set_entitlements (credential, (const char * const *) entitlements);

  return g_steal_pointer (&credential);
}

static GTask *
call_new (LkPartnerClient     *self,
          CallKind             kind,
          const char          *partner_url,
          LkCredential        *credential,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Call *call = g_new0 (Call, 1);

  call->kind = kind;
  call->partner_url = g_strdup (partner_url);
  call->credential = credential ? g_object_ref (credential) : NULL;
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);
  g_task_set_source_tag (task, call_new);

  if (partner_url == NULL)
    {
      g_task_return_new_error (task, LK_PARTNER_ERROR, LK_PARTNER_ERROR_REJECTED,
                               _("The key has no provider address"));
      g_object_unref (task);
      return NULL;
    }

  /* Wherever the address came from: the command line, a setting, the
   * keyring, or a received offer. */
  {
    GError *error = NULL;

    if (!lk_share_link_check_server_url (partner_url, &error))
      {
        g_task_return_error (task, error);
        g_object_unref (task);
        return NULL;
      }
  }

  return task;
}

/* Enrol */

/* Enrolling and redeeming both answer with a credential for our new key. */
static void
return_credential (GTask            *task,
                   LkHttp           *http,
                   GAsyncResult     *result,
                   LkCredentialRole  role)
{
  Call *call = g_task_get_task_data (task);
  g_autoptr(LkHttpResponse) response = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) transport_error = NULL;

  response = lk_http_request_finish (http, result, &transport_error);
  if (!check_response (response, transport_error, call, &error) ||
      (object = parse_body (response, &error)) == NULL ||
      (credential = credential_from_response (object, call->partner_url, role, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  lk_credential_set_key_pair (credential, call->new_key);
  g_task_return_pointer (task, g_steal_pointer (&credential), g_object_unref);
}

static void
on_enrolled (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  return_credential (task, LK_HTTP (source), result, LK_CREDENTIAL_ROLE_OWNER);
}

/**
 * lk_partner_client_enroll_async:
 *
 * Enrols a demo owner credential: a new key pair registered with the partner.
 */
void
lk_partner_client_enroll_async (LkPartnerClient     *self,
                                const char          *partner_url,
                                LkVertical           vertical,
                                const char          *title,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = call_new (self, CALL_ENROLL, partner_url, NULL, cancellable, callback, user_data);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(GError) error = NULL;
  Call *call;

  if (task == NULL)
    return;
  call = g_task_get_task_data (task);

  json_object_set_string_member (body, "vertical", lk_vertical_to_string (vertical));
  if (title != NULL)
    json_object_set_string_member (body, "title", title);

  /* Every owner has a key, a generic one too: it signs to share and revoke. */
  {
    g_autofree char *public_key = NULL;

    call->new_key = lk_key_pair_generate (&error);
    if (call->new_key == NULL)
      {
        g_task_return_error (task, g_steal_pointer (&error));
        g_object_unref (task);
        return;
      }
    public_key = base64_of (lk_key_pair_get_public (call->new_key));
    json_object_set_string_member (body, "publicKey", public_key);
  }

  post (self, task, "/v1/credentials", body, on_enrolled);
}

LkCredential *
lk_partner_client_enroll_finish (LkPartnerClient  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Calls that sign a challenge */

static JsonObject *
signed_body (Call        *call,
             const char  *challenge,
             GError     **error)
{
  LkCredential *credential = call->credential;
  LkKeyPair *key = lk_credential_get_key_pair (credential);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autofree char *signature_text = NULL;
  const char *access_point = lk_credential_get_access_point_id (credential);

  switch (call->kind)
    {
    case CALL_TOKEN:
    case CALL_SHARE:
      {
        /* The code itself is sent (the partner must check it at redemption),
         * but only its verifier is signed. A generic share has none here:
         * the owner's device checks its code. */
        g_autoptr(LkSecureString) verifier = call->code ? lk_signing_code_verifier (challenge, call->code) : NULL;

        statement = lk_signing_token_request_for (lk_credential_get_id (credential), challenge,
                                                  (const char * const *) call->entitlements,
                                                  call->valid_from, call->valid_until, verifier,
                                                  MAX (call->receivers, 1));
      }
      json_object_set_string_member (body, "credentialId", lk_credential_get_id (credential));
      {
        JsonArray *array = json_array_new ();

        for (guint i = 0; call->entitlements != NULL && call->entitlements[i] != NULL; i++)
          json_array_add_string_element (array, call->entitlements[i]);
        json_object_set_array_member (body, "entitlements", array);
      }
      if (call->valid_from != NULL)
        json_object_set_string_member (body, "validFrom", call->valid_from);
      if (call->valid_until != NULL)
        json_object_set_string_member (body, "validUntil", call->valid_until);
      if (call->code != NULL)
        json_object_set_string_member (body, "activationCode", call->code);
      if (call->receivers > 1)
        json_object_set_int_member (body, "receivers", call->receivers);
      break;

    case CALL_REVOKE:
      statement = lk_signing_revocation (lk_credential_get_id (credential), call->target, challenge);
      json_object_set_string_member (body, "credentialId", lk_credential_get_id (credential));
      json_object_set_string_member (body, "target", call->target);
      break;

    case CALL_ACCESS:
      json_object_set_string_member (body, "accessPointId", access_point ? access_point : "");
      json_object_set_string_member (body, "action", call->action);
      if (lk_credential_get_access_token (credential) != NULL)
        {
          /* A generic credential is a bearer token: nothing to sign. */
          json_object_set_string_member (body, "challenge", challenge);
          json_object_set_string_member (body, "accessToken", lk_credential_get_access_token (credential));
          return g_steal_pointer (&body);
        }
      if (lk_credential_get_owner_signature (credential) != NULL && key != NULL)
        {
          JsonObject *friend_key = json_object_new ();
          JsonArray *array = json_array_new ();
          const char * const *entitlements = lk_credential_get_entitlements (credential);
          g_autofree char *fingerprint = lk_key_pair_get_fingerprint (key);
          g_autofree char *public_key = base64_of (lk_key_pair_get_public (key));
          g_autofree char *from = lk_time_format (lk_credential_get_valid_from (credential));
          g_autofree char *until = lk_time_format (lk_credential_get_valid_until (credential));

          for (guint i = 0; entitlements[i] != NULL; i++)
            json_array_add_string_element (array, entitlements[i]);
          json_object_set_string_member (friend_key, "publicKey", public_key);
          json_object_set_array_member (friend_key, "entitlements", array);
          if (from != NULL)
            json_object_set_string_member (friend_key, "validFrom", from);
          if (until != NULL)
            json_object_set_string_member (friend_key, "validUntil", until);
          json_object_set_string_member (friend_key, "ownerSignature", lk_credential_get_owner_signature (credential));
          json_object_set_object_member (body, "friendKey", friend_key);
          statement = lk_signing_access (access_point, fingerprint, call->action, challenge);
        }
      else
        {
          json_object_set_string_member (body, "credentialId", lk_credential_get_id (credential));
          statement = lk_signing_access (access_point, lk_credential_get_id (credential), call->action, challenge);
        }
      break;

    case CALL_ENROLL:
    case CALL_REDEEM:
    case CALL_REGISTER_KEY:
    default:
      g_assert_not_reached ();
    }

  if (key == NULL || !lk_key_pair_has_private (key))
    {
      g_set_error (error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_REJECTED,
                   _("This key cannot sign: it has no private key on this device"));
      return NULL;
    }

  signature = lk_key_pair_sign (key, statement, error);
  if (signature == NULL)
    return NULL;
  signature_text = base64_of (signature);

  json_object_set_string_member (body, "challenge", challenge);
  json_object_set_string_member (body, "signature", signature_text);
  return g_steal_pointer (&body);
}

static void
on_signed_call_done (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *call = g_task_get_task_data (task);
  g_autoptr(LkHttpResponse) response = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) transport_error = NULL;

  response = lk_http_request_finish (LK_HTTP (source), result, &transport_error);

  /* A denied access is an answer, not a failure. */
  if (call->kind == CALL_ACCESS && response != NULL && response->status == 403)
    {
      LkAccessResult *access = g_new0 (LkAccessResult, 1);

      object = parse_body (response, NULL);
      access->granted = FALSE;
      if (object != NULL)
        {
          access->reason = g_strdup (lk_json_get_string (object, "error", 64, FALSE, 0, 0, NULL));
          access->message = g_strdup (lk_json_get_string (object, "message", 512, FALSE, 0, 0, NULL));
        }
      g_task_return_pointer (task, access, (GDestroyNotify) lk_access_result_free);
      return;
    }

  if (!check_response (response, transport_error, call, &error) || (object = parse_body (response, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (call->kind)
    {
    case CALL_TOKEN:
      {
        const char *token = lk_json_get_string (object, "token", 256, TRUE, LK_PARTNER_ERROR,
                                                LK_PARTNER_ERROR_PROTOCOL, &error);

        if (token == NULL)
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_pointer (task, g_strdup (token), (GDestroyNotify) lk_secure_str_free);
      }
      break;

    case CALL_SHARE:
      {
        const char *token = lk_json_get_string (object, "accessToken", 256, TRUE, LK_PARTNER_ERROR,
                                                LK_PARTNER_ERROR_PROTOCOL, &error);
        const char *share_id = token ? lk_json_get_string (object, "credentialId", 64, TRUE, LK_PARTNER_ERROR,
                                                           LK_PARTNER_ERROR_PROTOCOL, &error) : NULL;

        if (share_id != NULL && !g_uuid_string_is_valid (share_id))
          {
            share_id = NULL;
            g_set_error (&error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL,
                         _("The key’s provider described the share in an unknown way"));
          }
        if (share_id == NULL)
          g_task_return_error (task, g_steal_pointer (&error));
        else
          {
            call->share_id = g_strdup (share_id);
            g_task_return_pointer (task, g_strdup (token), (GDestroyNotify) lk_secure_str_free);
          }
      }
      break;

    case CALL_REVOKE:
      g_task_return_boolean (task, TRUE);
      break;

    case CALL_ACCESS:
      {
        LkAccessResult *access = g_new0 (LkAccessResult, 1);
        JsonNode *granted = json_object_get_member (object, "granted");

        access->granted = granted != NULL && JSON_NODE_HOLDS_VALUE (granted) &&
                          json_node_get_value_type (granted) == G_TYPE_BOOLEAN && json_node_get_boolean (granted);
        g_task_return_pointer (task, access, (GDestroyNotify) lk_access_result_free);
      }
      break;

    case CALL_ENROLL:
    case CALL_REDEEM:
    case CALL_REGISTER_KEY:
    default:
      g_assert_not_reached ();
    }
}

static void
on_challenge (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  LkPartnerClient *self = g_task_get_source_object (task);
  Call *call = g_task_get_task_data (task);
  g_autoptr(LkHttpResponse) response = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) transport_error = NULL;
  const char *challenge = NULL;
  const char *path;

  response = lk_http_request_finish (LK_HTTP (source), result, &transport_error);
  if (check_response (response, transport_error, call, &error) && (object = parse_body (response, &error)) != NULL)
    challenge = lk_json_get_string (object, "challenge", 128, TRUE, LK_PARTNER_ERROR,
                                    LK_PARTNER_ERROR_PROTOCOL, &error);
  if (challenge != NULL)
    body = signed_body (call, challenge, &error);

  if (body == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  path = call->kind == CALL_TOKEN || call->kind == CALL_SHARE ? "/v1/tokens"
       : call->kind == CALL_REVOKE ? "/v1/revocations" : "/v1/access";
  post (self, task, path, body, on_signed_call_done);
}

static void
start_signed_call (LkPartnerClient *self,
                   GTask           *task)
{
  post (self, task, "/v1/challenges", NULL, on_challenge);
}

/**
 * lk_partner_client_request_token_async:
 * @credential: the sharer's credential, which signs the request
 * @activation_code: (nullable): a code the receiver must give to redeem
 * @receivers: how many devices may redeem it (1 to 10; 0 is 1)
 *
 * Asks for a provisioning token for a share of @credential: single-use,
 * or redeemable by @receivers devices, each for a credential of its own.
 */
void
lk_partner_client_request_token_async (LkPartnerClient     *self,
                                       LkCredential        *credential,
                                       const char * const  *entitlements,
                                       GDateTime           *valid_from,
                                       GDateTime           *valid_until,
                                       const char          *activation_code,
                                       guint                receivers,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task = call_new (self, CALL_TOKEN, lk_credential_get_partner_url (credential), credential,
                          cancellable, callback, user_data);
  Call *call;

  if (task == NULL)
    return;
  call = g_task_get_task_data (task);
  call->entitlements = g_strdupv ((char **) entitlements);
  call->valid_from = lk_time_format (valid_from);
  call->valid_until = lk_time_format (valid_until);
  call->code = g_strdup (activation_code);
  call->receivers = receivers;
  start_signed_call (self, task);
}

/**
 * lk_partner_client_request_token_finish:
 *
 * Returns: the token; a secret, free it with lk_secure_str_free()
 */
char *
lk_partner_client_request_token_finish (LkPartnerClient  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lk_partner_client_request_share_async:
 * @credential: a generic owner credential, which signs the request
 *
 * Asks for a generic share of its own: an access token that opens with
 * @entitlements within the window, and that the owner can revoke alone.
 */
void
lk_partner_client_request_share_async (LkPartnerClient     *self,
                                       LkCredential        *credential,
                                       const char * const  *entitlements,
                                       GDateTime           *valid_from,
                                       GDateTime           *valid_until,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task = call_new (self, CALL_SHARE, lk_credential_get_partner_url (credential), credential,
                          cancellable, callback, user_data);
  Call *call;

  if (task == NULL)
    return;
  call = g_task_get_task_data (task);
  call->entitlements = g_strdupv ((char **) entitlements);
  call->valid_from = lk_time_format (valid_from);
  call->valid_until = lk_time_format (valid_until);
  start_signed_call (self, task);
}

/**
 * lk_partner_client_request_share_finish:
 * @share_id: (out) (transfer full): the share's credential id, which its
 *   revocation names ("credential:ID")
 *
 * Returns: the share's access token; a secret, free it with lk_secure_str_free()
 */
char *
lk_partner_client_request_share_finish (LkPartnerClient  *self,
                                        GAsyncResult     *result,
                                        char            **share_id,
                                        GError          **error)
{
  Call *call = g_task_get_task_data (G_TASK (result));
  char *token = g_task_propagate_pointer (G_TASK (result), error);

  if (share_id != NULL)
    *share_id = token != NULL ? g_strdup (call->share_id) : NULL;
  return token;
}

/* Register a key */

static void
on_key_registered (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *call = g_task_get_task_data (task);
  g_autoptr(LkHttpResponse) response = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) transport_error = NULL;
  const char *id;

  response = lk_http_request_finish (LK_HTTP (source), result, &transport_error);
  if (!check_response (response, transport_error, call, &error) || (object = parse_body (response, &error)) == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  id = lk_json_get_string (object, "credentialId", 64, TRUE, LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL, &error);
  if (id == NULL || g_strcmp0 (id, lk_credential_get_id (call->credential)) != 0)
    {
      if (error == NULL)
        g_set_error (&error, LK_PARTNER_ERROR, LK_PARTNER_ERROR_PROTOCOL,
                     _("The key’s provider registered the key for another credential"));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* From now on the owner signs; its old token may be in others' hands. */
  lk_credential_set_key_pair (call->credential, call->new_key);
  lk_credential_set_access_token (call->credential, NULL);
  g_task_return_boolean (task, TRUE);
}

/**
 * lk_partner_client_register_key_async:
 * @credential: a generic owner credential enrolled before owners had keys:
 *   an access token and no key
 *
 * Registers a new key for @credential with its partner, once. On success
 * the key is set on @credential and its access token dropped: save it.
 */
void
lk_partner_client_register_key_async (LkPartnerClient     *self,
                                      LkCredential        *credential,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  GTask *task = call_new (self, CALL_REGISTER_KEY, lk_credential_get_partner_url (credential), credential,
                          cancellable, callback, user_data);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *public_key = NULL;
  Call *call;

  if (task == NULL)
    return;
  call = g_task_get_task_data (task);

  if (lk_credential_get_access_token (credential) == NULL)
    {
      g_task_return_new_error (task, LK_PARTNER_ERROR, LK_PARTNER_ERROR_REJECTED,
                               _("This key has no access token to prove it with"));
      g_object_unref (task);
      return;
    }

  call->new_key = lk_key_pair_generate (&error);
  if (call->new_key == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  public_key = base64_of (lk_key_pair_get_public (call->new_key));
  json_object_set_string_member (body, "accessToken", lk_credential_get_access_token (credential));
  json_object_set_string_member (body, "publicKey", public_key);
  post (self, task, "/v1/owner-keys", body, on_key_registered);
}

gboolean
lk_partner_client_register_key_finish (LkPartnerClient  *self,
                                       GAsyncResult     *result,
                                       GError          **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Redeem */

static void
on_redeemed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  return_credential (task, LK_HTTP (source), result, LK_CREDENTIAL_ROLE_SHARED);
}

/**
 * lk_partner_client_redeem_async:
 * @partner_url: from the sender's message
 * @token: the single-use provisioning token
 * @activation_code: (nullable): the code the sender gave apart
 *
 * Makes a new key pair and redeems @token for a credential of our own.
 */
void
lk_partner_client_redeem_async (LkPartnerClient     *self,
                                const char          *partner_url,
                                const char          *token,
                                const char          *activation_code,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = call_new (self, CALL_REDEEM, partner_url, NULL, cancellable, callback, user_data);
  g_autoptr(JsonObject) body = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *public_key = NULL;
  Call *call;

  if (task == NULL)
    return;
  call = g_task_get_task_data (task);

  call->new_key = lk_key_pair_generate (&error);
  if (call->new_key == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  public_key = base64_of (lk_key_pair_get_public (call->new_key));
  json_object_set_string_member (body, "token", token);
  json_object_set_string_member (body, "publicKey", public_key);
  if (activation_code != NULL)
    json_object_set_string_member (body, "activationCode", activation_code);

  post (self, task, "/v1/redeem", body, on_redeemed);
}

/**
 * lk_partner_client_redeem_finish:
 * @attempts_left: (out) (optional): after %LK_PARTNER_ERROR_WRONG_CODE, how
 *   many tries remain
 */
LkCredential *
lk_partner_client_redeem_finish (LkPartnerClient  *self,
                                 GAsyncResult     *result,
                                 guint            *attempts_left,
                                 GError          **error)
{
  Call *call = g_task_get_task_data (G_TASK (result));

  if (attempts_left != NULL)
    *attempts_left = call->attempts_left;
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Revoke */

/**
 * lk_partner_client_revoke_async:
 * @credential: the revoking credential (the sharer's, or the owner's), which
 *   signs
 * @target: "credential:ID", "token:TOKEN", "key:FINGERPRINT" or
 *   "access-tokens:ID" (PROTOCOL.md §8)
 */
void
lk_partner_client_revoke_async (LkPartnerClient     *self,
                                LkCredential        *credential,
                                const char          *target,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = call_new (self, CALL_REVOKE, lk_credential_get_partner_url (credential), credential,
                          cancellable, callback, user_data);
  Call *call;

  if (task == NULL)
    return;
  call = g_task_get_task_data (task);
  call->target = g_strdup (target);
  start_signed_call (self, task);
}

gboolean
lk_partner_client_revoke_finish (LkPartnerClient  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Access */

/**
 * lk_partner_client_access_async:
 * @action: "open", "start" or "drive"
 *
 * Tries @credential at its access point: the car, room or door the partner
 * simulates. A refusal is a result with `granted` false, not an error.
 */
void
lk_partner_client_access_async (LkPartnerClient     *self,
                                LkCredential        *credential,
                                const char          *action,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = call_new (self, CALL_ACCESS, lk_credential_get_partner_url (credential), credential,
                          cancellable, callback, user_data);
  Call *call;

  if (task == NULL)
    return;
  call = g_task_get_task_data (task);
  call->action = g_strdup (action);
  start_signed_call (self, task);
}

LkAccessResult *
lk_partner_client_access_finish (LkPartnerClient  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
