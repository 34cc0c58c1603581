/* partner-service.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The order of the checks matters. Input is parsed completely first, so a
 * malformed request costs nothing (no challenge, no code attempt). Then the
 * challenge is consumed, whatever follows. Then the caller proves who it is
 * (a signature, or a bearer token); only after that does the answer say
 * anything about the credential (revoked, expired, not entitled), so that a
 * stranger learns nothing but "bad signature".
 *
 * Logs carry identifiers at most, never tokens, access tokens, codes,
 * signatures or keys.
 */

#define G_LOG_DOMAIN "partner-service"

#include "config.h"

#include <string.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "partner-challenges.h"
#include "partner-request.h"
#include "partner-service.h"

struct _PartnerService
{
  GObject             parent_instance;

  PartnerStore       *store;
  PartnerChallenges  *challenges;
  char               *issuer;
  gint64              challenge_lifetime;   /* seconds */
  gint64              token_lifetime;       /* seconds */
};

G_DEFINE_FINAL_TYPE (PartnerService, partner_service, G_TYPE_OBJECT)

typedef enum
{
  ACCESS_BY_CREDENTIAL,
  ACCESS_BY_FRIEND_KEY,
  ACCESS_BY_TOKEN,
} AccessKind;

static const char * const car_entitlements[] = { "open", "start", "drive", NULL };
static const char * const door_entitlements[] = { "open", NULL };
static const char * const actions[] = { "open", "start", "drive", NULL };

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Answers */

static guint
fail (JsonObject **reply,
      guint        status,
      const char  *error,
      const char  *message)
{
  *reply = json_object_new ();
  json_object_set_string_member (*reply, "error", error);
  json_object_set_string_member (*reply, "message", message);
  return status;
}

static guint
bad_request (JsonObject   **reply,
             const GError  *error)
{
  return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request", error->message);
}

static guint
unavailable (JsonObject   **reply,
             const GError  *error)
{
  g_warning ("The store failed: %s", error != NULL ? error->message : "no reason given");
  return fail (reply, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "The partner could not use its store; try again");
}

/* An access point's refusal: the error codes are the simulator's. */
static guint
deny (JsonObject **reply,
      const char  *error,
      const char  *message)
{
  guint status = fail (reply, MHD_HTTP_FORBIDDEN, error, message);

  json_object_set_boolean_member (*reply, "granted", FALSE);
  return status;
}

static guint
window_denial (JsonObject         **reply,
               PartnerWindowState   state,
               const char          *whose)
{
  g_autofree char *message = NULL;

  switch (state)
    {
    case PARTNER_WINDOW_NOT_YET_VALID:
      message = g_strdup_printf ("The %s is not valid yet", whose);
      return deny (reply, "not_yet_valid", message);

    case PARTNER_WINDOW_EXPIRED:
      message = g_strdup_printf ("The %s has expired", whose);
      return deny (reply, "expired", message);

    case PARTNER_WINDOW_OPEN:
    default:
      g_assert_not_reached ();
    }
}

/* Helpers */

/* 32 random bytes as base64url: a token or an access token. */
static char *
new_secret (GError **error)
{
  guint8 bytes[PARTNER_NONCE_BYTES];
  char *text = NULL;

  if (lk_crypto_random (bytes, sizeof bytes, error))
    text = lk_base64url_encode (bytes, sizeof bytes);
  gnutls_memset (bytes, 0, sizeof bytes);
  return text;
}

static gboolean
verify (LkKeyPair *key,
        GBytes    *statement,
        GBytes    *signature)
{
  return key != NULL && lk_key_pair_verify (key, statement, signature, NULL);
}

/* Both are base64url of a 32-byte MAC, the same length: compared in constant time. */
static gboolean
verifier_matches (const char *stored,
                  const char *computed)
{
  gsize len = strlen (stored);

  return len == strlen (computed) && lk_crypto_equal (stored, computed, len);
}

static gboolean
has_member (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return node != NULL && !JSON_NODE_HOLDS_NULL (node);
}

/* GObject */

static void
partner_service_finalize (GObject *object)
{
  PartnerService *self = (PartnerService *) object;

  g_clear_object (&self->store);
  g_clear_pointer (&self->challenges, partner_challenges_free);
  g_free (self->issuer);

  G_OBJECT_CLASS (partner_service_parent_class)->finalize (object);
}

static void
partner_service_class_init (PartnerServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = partner_service_finalize;
}

static void
partner_service_init (PartnerService *self)
{
}

PartnerService *
partner_service_new (const PartnerConfig *config,
                     PartnerStore        *store)
{
  PartnerService *self = g_object_new (PARTNER_TYPE_SERVICE, NULL);

  self->store = g_object_ref (store);
  self->issuer = g_strdup (config->name);
  self->challenge_lifetime = config->challenge_lifetime;
  self->token_lifetime = config->token_lifetime;
  self->challenges = partner_challenges_new (config->max_challenges, config->max_challenges_per_client,
                                             config->challenge_lifetime * G_USEC_PER_SEC);

  return self;
}

/* POST /v1/challenges */

guint
partner_service_new_challenge (PartnerService  *self,
                               const HttpdKey  *client,
                               JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *challenge = partner_challenges_issue (self->challenges, client, g_get_monotonic_time (), &error);

  if (g_error_matches (error, PARTNER_CHALLENGES_ERROR, PARTNER_CHALLENGES_ERROR_FULL))
    return fail (reply, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "Too many challenges are outstanding; try again shortly");
  if (challenge == NULL)
    {
      g_warning ("Could not make a challenge: %s", error->message);
      return fail (reply, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "The partner could not make a challenge");
    }

  *reply = json_object_new ();
  json_object_set_string_member (*reply, "challenge", challenge);
  json_object_set_int_member (*reply, "expiresIn", self->challenge_lifetime);
  return MHD_HTTP_OK;
}

/* POST /v1/credentials */

guint
partner_service_enrol (PartnerService  *self,
                       JsonObject      *request,
                       JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  g_autoptr(PartnerAccessPoint) access_point = partner_access_point_new ();
  g_autoptr(PartnerCredential) credential = partner_credential_new ();
  const char *vertical_text, *title, *key_text, *from_text, *until_text;
  const char * const *entitlements;
  const char *default_title;
  LkVertical vertical;
  gint64 now = now_seconds ();

  if (!partner_get_string (request, "vertical", 16, TRUE, &vertical_text, &error))
    return bad_request (reply, error);
  if (!lk_vertical_from_string (vertical_text, &vertical))
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request", "“vertical” must be car, home or generic");

  if (!partner_get_string (request, "title", PARTNER_MAX_TITLE, FALSE, &title, &error))
    return bad_request (reply, error);
  if (title != NULL && *title == '\0')
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request", "“title” may not be empty");

  /* Every owner has a key, a generic one too: the owner signs to share and
   * to revoke, so that holding a copy of an access token is not owning. */
  key = partner_get_public_key (request, "publicKey", &key_text, &error);
  if (key == NULL)
    return bad_request (reply, error);

  if (!partner_get_window (request, &from_text, &credential->valid_from,
                           &until_text, &credential->valid_until, &error))
    return bad_request (reply, error);

  switch (vertical)
    {
    case LK_VERTICAL_CAR:
      default_title = "Demo Car";
      entitlements = car_entitlements;
      break;
    case LK_VERTICAL_HOME:
      default_title = "Hotel Room 404";
      entitlements = door_entitlements;
      break;
    case LK_VERTICAL_GENERIC:
    default:
      default_title = "Demo Pass";
      entitlements = door_entitlements;
      break;
    }

  access_point->id = lk_uuid_new_random ();
  access_point->vertical = vertical;
  access_point->title = g_strdup (title != NULL ? title : default_title);
  access_point->created = now;

  credential->id = lk_uuid_new_random ();
  credential->access_point_id = g_strdup (access_point->id);
  credential->vertical = vertical;
  credential->role = LK_CREDENTIAL_ROLE_OWNER;
  credential->title = g_strdup (access_point->title);
  credential->entitlements = g_strdupv ((char **) entitlements);
  credential->public_key = partner_encode_key (key);
  credential->created = now;
  access_point->owner_id = g_strdup (credential->id);

  if (!partner_store_begin (self->store, &error) ||
      !partner_store_add_access_point (self->store, access_point, &error) ||
      !partner_store_add_credential (self->store, credential, &error) ||
      !partner_store_commit (self->store, &error))
    goto failed;

  g_info ("Enrolled a %s credential %.8s", vertical_text, credential->id);

  *reply = partner_credential_to_json (credential, self->issuer);
  return MHD_HTTP_CREATED;

failed:
  partner_store_rollback (self->store);
  return unavailable (reply, error);
}

/* POST /v1/tokens */

/* A generic share: a credential of its own under the owner's, with the
 * share's entitlements and window, opened by a bearer access token of its
 * own. The access check reads the share, and revoking it (credential:ID)
 * leaves the owner and every other share alone. */
static guint
issue_share (PartnerService     *self,
             PartnerCredential  *owner,
             GStrv               entitlements,
             gint64              from,
             gint64              until,
             JsonObject        **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PartnerCredential) share = partner_credential_new ();
  g_autoptr(LkSecureString) access_token = NULL;
  guint8 hash[LK_SHA256_LENGTH];
  gint64 now = now_seconds ();

  share->id = lk_uuid_new_random ();
  share->access_point_id = g_strdup (owner->access_point_id);
  share->vertical = owner->vertical;
  share->role = LK_CREDENTIAL_ROLE_SHARED;
  share->parent_id = g_strdup (owner->id);
  share->title = g_strdup (owner->title);
  share->entitlements = entitlements;
  share->valid_from = from;
  share->valid_until = until;
  share->created = now;

  access_token = new_secret (&error);
  if (access_token == NULL)
    return unavailable (reply, error);
  partner_hash_secret (access_token, hash);

  if (!partner_store_begin (self->store, &error) ||
      !partner_store_add_credential (self->store, share, &error) ||
      !partner_store_add_access_token (self->store, hash, share->id, now, &error) ||
      !partner_store_commit (self->store, &error))
    {
      partner_store_rollback (self->store);
      return unavailable (reply, error);
    }

  g_info ("Credential %.8s shared itself as %.8s", owner->id, share->id);

  *reply = partner_credential_to_json (share, self->issuer);
  json_object_set_string_member (*reply, "accessToken", access_token);
  return MHD_HTTP_CREATED;
}

guint
partner_service_issue_token (PartnerService  *self,
                             JsonObject      *request,
                             JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) entitlements = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(PartnerCredential) credential = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  g_autoptr(PartnerToken) token = NULL;
  g_autoptr(LkSecureString) secret = NULL;
  g_autoptr(LkSecureString) signed_verifier = NULL;
  g_autofree char *expires = NULL;
  const char *credential_id, *challenge, *from_text, *until_text, *code;
  gint64 from, until, now = now_seconds ();
  gint64 receivers = 1;
  gboolean revoked;

  /* Issue 13: a token several devices redeem, each for a credential of its
   * own. Inside the signed statement, so that nobody on the way raises it. */
  if (has_member (request, "receivers") &&
      !lk_json_get_int (request, "receivers", 1, PARTNER_MAX_RECEIVERS, &receivers,
                        PARTNER_REQUEST_ERROR, PARTNER_REQUEST_ERROR_BAD_FIELD, &error))
    return bad_request (reply, error);

  if (!partner_get_uuid (request, "credentialId", &credential_id, &error) ||
      !partner_get_nonce (request, "challenge", &challenge, &error) ||
      !partner_get_window (request, &from_text, &from, &until_text, &until, &error) ||
      !partner_get_string (request, "activationCode", PARTNER_MAX_CODE, FALSE, &code, &error))
    return bad_request (reply, error);

  signature = partner_get_signature (request, "signature", &error);
  if (signature == NULL)
    return bad_request (reply, error);
  entitlements = partner_get_entitlements (request, "entitlements", &error);
  if (entitlements == NULL)
    return bad_request (reply, error);
  if (entitlements[0] == NULL)
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request", "“entitlements” may not be empty");
  if (code != NULL && strlen (code) < PARTNER_MIN_CODE)
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request", "“activationCode” is shorter than 4 bytes");

  /* A verifier is keyed by the token, which does not exist yet: a sharer
   * cannot have computed one. Sending one anyway would otherwise be taken
   * as a token without a code. */
  if (has_member (request, "codeVerifier"))
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request",
                 "Send “activationCode”: the partner derives the verifier from the token it issues");

  if (!partner_challenges_consume (self->challenges, challenge, g_get_monotonic_time ()))
    return fail (reply, MHD_HTTP_FORBIDDEN, "bad_challenge", "The challenge is unknown, used or expired");

  credential = partner_store_get_credential (self->store, credential_id, &error);
  if (error != NULL)
    return unavailable (reply, error);
  if (credential == NULL)
    return fail (reply, MHD_HTTP_NOT_FOUND, "unknown_credential", "There is no such credential");
  if (credential->vertical != LK_VERTICAL_HOME && credential->vertical != LK_VERTICAL_GENERIC)
    return fail (reply, MHD_HTTP_BAD_REQUEST, "wrong_vertical",
                 "Only home and generic credentials are shared through tokens");
  /* The owner's device checks a generic share's code, as a car's. */
  if (credential->vertical == LK_VERTICAL_GENERIC && code != NULL)
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request",
                 "A generic share's activation code is checked by the owner's device, not sent here");

  key = partner_credential_get_key (credential, &error);
  if (error != NULL)
    return unavailable (reply, error);

  /* The code is bound into the request as a verifier keyed by the
   * challenge, the one secret-free value both sides know already. */
  if (code != NULL)
    signed_verifier = lk_signing_code_verifier (challenge, code);
  statement = lk_signing_token_request_for (credential_id, challenge, (const char * const *) entitlements,
                                            from_text, until_text, signed_verifier, (guint) receivers);
  if (!verify (key, statement, signature))
    return fail (reply, MHD_HTTP_FORBIDDEN, "bad_signature", "The signature does not match the credential's key");

  if (!partner_store_chain_revoked (self->store, credential->id, &revoked, &error))
    return unavailable (reply, error);
  if (revoked)
    return fail (reply, MHD_HTTP_FORBIDDEN, "revoked", "The credential has been revoked");
  /* Sharing before one's own stay begins is fine; after it ended is not. */
  if (partner_window_check (credential->valid_from, credential->valid_until, now) == PARTNER_WINDOW_EXPIRED)
    return fail (reply, MHD_HTTP_FORBIDDEN, "expired", "The credential has expired");

  if (!partner_entitlements_cover ((const char * const *) credential->entitlements,
                                   (const char * const *) entitlements))
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_entitlements",
                 "A credential can share only entitlements it has");
  if (!partner_window_contains (credential->valid_from, credential->valid_until, from, until))
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_window",
                 "A credential can share only within its own validity window");

  /* One receiver of a generic share gets its credential at once; several
   * redeem a token, as for a home share, each for a share of its own. */
  if (credential->vertical == LK_VERTICAL_GENERIC && receivers == 1)
    return issue_share (self, credential, g_steal_pointer (&entitlements), from, until, reply);

  secret = new_secret (&error);
  if (secret == NULL)
    return unavailable (reply, error);

  token = partner_token_new ();
  partner_hash_secret (secret, token->hash);
  token->issuer_id = g_strdup (credential->id);
  token->entitlements = g_steal_pointer (&entitlements);
  token->valid_from = from;
  token->valid_until = until;
  /* Stored instead of the code: without the token, which is only hashed
   * here, it cannot be searched for the code. */
  token->code_verifier = code != NULL ? lk_signing_code_verifier (secret, code) : NULL;
  token->created = now;
  token->expires = now + self->token_lifetime;
  token->receivers = (guint) receivers;

  if (!partner_store_add_token (self->store, token, &error))
    return unavailable (reply, error);

  g_info ("Issued a token for credential %.8s%s, for %u", credential->id, code != NULL ? " with a code" : "",
          token->receivers);

  expires = lk_time_format_unix (token->expires);
  *reply = json_object_new ();
  json_object_set_string_member (*reply, "token", secret);
  json_object_set_string_member (*reply, "expires", expires);
  if (token->receivers > 1)
    json_object_set_int_member (*reply, "receivers", token->receivers);
  return MHD_HTTP_CREATED;
}

/* POST /v1/redeem */

static guint
wrong_code (PartnerService  *self,
            PartnerToken    *token,
            JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;

  token->attempts_left = MAX (token->attempts_left - 1, 0);
  if (token->attempts_left == 0)
    token->state = PARTNER_TOKEN_EXHAUSTED;
  if (!partner_store_update_token (self->store, token, &error))
    return unavailable (reply, error);

  if (token->state == PARTNER_TOKEN_EXHAUSTED)
    {
      g_info ("A token was exhausted by wrong activation codes");
      return fail (reply, MHD_HTTP_GONE, "too_many_attempts",
                   "Too many wrong activation codes: the token no longer works");
    }

  fail (reply, MHD_HTTP_FORBIDDEN, "wrong_code", "The activation code is missing or wrong");
  json_object_set_int_member (*reply, "attemptsLeft", token->attempts_left);
  return MHD_HTTP_FORBIDDEN;
}

guint
partner_service_redeem (PartnerService  *self,
                        JsonObject      *request,
                        JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  g_autoptr(PartnerToken) token = NULL;
  g_autoptr(PartnerCredential) issuer = NULL;
  g_autoptr(PartnerCredential) credential = NULL;
  g_autoptr(LkSecureString) access_token = NULL;
  const char *secret, *key_text, *code;
  guint8 hash[LK_SHA256_LENGTH];
  guint8 access_hash[LK_SHA256_LENGTH];
  guint position;
  gint64 now = now_seconds ();
  gboolean revoked;

  if (!partner_get_nonce (request, "token", &secret, &error) ||
      !partner_get_string (request, "activationCode", PARTNER_MAX_CODE, FALSE, &code, &error))
    return bad_request (reply, error);
  key = partner_get_public_key (request, "publicKey", &key_text, &error);
  if (key == NULL)
    return bad_request (reply, error);

  partner_hash_secret (secret, hash);
  token = partner_store_get_token (self->store, hash, &error);
  if (error != NULL)
    return unavailable (reply, error);
  if (token == NULL)
    return fail (reply, MHD_HTTP_NOT_FOUND, "token_unknown", "There is no such token");

  switch (token->state)
    {
    case PARTNER_TOKEN_REDEEMED:
      return fail (reply, MHD_HTTP_GONE, "token_used", "The token has already been redeemed");
    case PARTNER_TOKEN_REVOKED:
      return fail (reply, MHD_HTTP_GONE, "token_revoked", "The token has been revoked");
    case PARTNER_TOKEN_EXHAUSTED:
      return fail (reply, MHD_HTTP_GONE, "too_many_attempts",
                   "Too many wrong activation codes: the token no longer works");
    case PARTNER_TOKEN_ISSUED:
    default:
      break;
    }

  if (now >= token->expires)
    return fail (reply, MHD_HTTP_GONE, "token_expired", "The token has expired");

  if (!partner_store_chain_revoked (self->store, token->issuer_id, &revoked, &error))
    return unavailable (reply, error);
  if (revoked)
    return fail (reply, MHD_HTTP_GONE, "token_revoked", "The credential that shared this has been revoked");

  if (token->code_verifier != NULL)
    {
      g_autoptr(LkSecureString) computed = code != NULL ? lk_signing_code_verifier (secret, code) : NULL;

      if (computed == NULL || !verifier_matches (token->code_verifier, computed))
        return wrong_code (self, token, reply);
    }

  issuer = partner_store_get_credential (self->store, token->issuer_id, &error);
  if (issuer == NULL)
    return unavailable (reply, error);

  credential = partner_credential_new ();
  credential->id = lk_uuid_new_random ();
  credential->access_point_id = g_strdup (issuer->access_point_id);
  credential->vertical = issuer->vertical;
  credential->role = LK_CREDENTIAL_ROLE_SHARED;
  credential->parent_id = g_strdup (issuer->id);
  credential->title = g_strdup (issuer->title);
  credential->entitlements = g_strdupv (token->entitlements);
  credential->valid_from = token->valid_from;
  credential->valid_until = token->valid_until;
  /* A generic share has no key: it opens with an access token of its own. */
  if (issuer->vertical != LK_VERTICAL_GENERIC)
    credential->public_key = partner_encode_key (key);
  credential->created = now;

  position = (token->redemptions != NULL ? g_strv_length (token->redemptions) : 0) + 1;
  /* The last of its redemptions uses the token up. */
  if (position >= token->receivers)
    token->state = PARTNER_TOKEN_REDEEMED;
  if (token->redeemed_id == NULL)
    token->redeemed_id = g_strdup (credential->id);

  if (issuer->vertical == LK_VERTICAL_GENERIC)
    {
      access_token = new_secret (&error);
      if (access_token == NULL)
        return unavailable (reply, error);
      partner_hash_secret (access_token, access_hash);
    }

  if (!partner_store_begin (self->store, &error) ||
      !partner_store_add_credential (self->store, credential, &error) ||
      (access_token != NULL &&
       !partner_store_add_access_token (self->store, access_hash, credential->id, now, &error)) ||
      !partner_store_update_token (self->store, token, &error) ||
      !partner_store_add_redemption (self->store, token, position, credential->id, &error) ||
      !partner_store_commit (self->store, &error))
    {
      partner_store_rollback (self->store);
      return unavailable (reply, error);
    }

  g_info ("Redeemed a token of credential %.8s as %.8s (%u of %u)", issuer->id, credential->id,
          position, token->receivers);

  *reply = partner_credential_to_json (credential, self->issuer);
  if (access_token != NULL)
    json_object_set_string_member (*reply, "accessToken", access_token);
  if (token->receivers > 1)
    {
      json_object_set_int_member (*reply, "redemption", position);
      json_object_set_int_member (*reply, "receivers", token->receivers);
    }
  return MHD_HTTP_CREATED;
}

/* POST /v1/revocations */

/* @position: 0 for the token and every credential redeemed from it; K for
 * only the Kth redemption's (redemption:K:TOKEN). */
static guint
revoke_token (PartnerService     *self,
              PartnerCredential  *actor,
              const char         *secret,
              guint               position,
              gint64             *count,
              JsonObject        **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PartnerToken) token = NULL;
  guint8 hash[LK_SHA256_LENGTH];
  gboolean descendant = FALSE;

  partner_hash_secret (secret, hash);
  token = partner_store_get_token (self->store, hash, &error);
  if (error != NULL)
    return unavailable (reply, error);
  if (token == NULL)
    return fail (reply, MHD_HTTP_NOT_FOUND, "token_unknown", "There is no such token");

  /* The sharer, or anyone it shared with who shared on. */
  if (strcmp (token->issuer_id, actor->id) != 0 &&
      !partner_store_is_descendant (self->store, actor->id, token->issuer_id, &descendant, &error))
    return unavailable (reply, error);
  if (strcmp (token->issuer_id, actor->id) != 0 && !descendant)
    return fail (reply, MHD_HTTP_FORBIDDEN, "not_yours", "This token was not shared by this credential");

  *count = 0;
  if (!partner_store_begin (self->store, &error))
    return unavailable (reply, error);
  /* Revoking one receiver leaves the token to the others. */
  if (token->state == PARTNER_TOKEN_ISSUED && position == 0)
    {
      token->state = PARTNER_TOKEN_REVOKED;
      if (!partner_store_update_token (self->store, token, &error))
        goto failed;
      *count += 1;
    }
  if (position > 0)
    {
      /* One receiver of several: its own credential, and what it shared on. */
      gint64 n;

      if (token->redemptions == NULL || position > g_strv_length (token->redemptions))
        {
          partner_store_rollback (self->store);
          return fail (reply, MHD_HTTP_NOT_FOUND, "redemption_unknown", "The token was not redeemed that often");
        }
      n = partner_store_revoke_tree (self->store, token->redemptions[position - 1], now_seconds (), &error);
      if (n < 0)
        goto failed;
      *count += n;
    }
  else
    {
      if (token->redeemed_id != NULL)
        {
          gint64 n = partner_store_revoke_tree (self->store, token->redeemed_id, now_seconds (), &error);

          if (n < 0)
            goto failed;
          *count += n;
        }
      for (guint i = 0; token->redemptions != NULL && token->redemptions[i] != NULL; i++)
        {
          gint64 n;

          if (g_strcmp0 (token->redemptions[i], token->redeemed_id) == 0)
            continue;
          n = partner_store_revoke_tree (self->store, token->redemptions[i], now_seconds (), &error);
          if (n < 0)
            goto failed;
          *count += n;
        }
    }
  if (!partner_store_commit (self->store, &error))
    goto failed;

  return MHD_HTTP_OK;

failed:
  partner_store_rollback (self->store);
  return unavailable (reply, error);
}

guint
partner_service_revoke (PartnerService  *self,
                        JsonObject      *request,
                        JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GBytes) statement = NULL;
  g_autoptr(PartnerCredential) actor = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  const char *actor_id, *challenge, *target, *subject;
  gint64 count = 0;
  gboolean revoked;
  guint status;
  enum { TARGET_CREDENTIAL, TARGET_TOKEN, TARGET_KEY, TARGET_ACCESS_TOKENS } kind = TARGET_CREDENTIAL;
  guint64 position = 0;

  /* Holding an access token is not owning it: a receiver holds a copy.
   * Only an owner's signature revokes. */
  if (has_member (request, "accessToken"))
    return fail (reply, MHD_HTTP_FORBIDDEN, "signature_required",
                 "Only the owner revokes, by signature; an access token cannot rotate or revoke itself");

  if (!partner_get_uuid (request, "credentialId", &actor_id, &error) ||
      !partner_get_nonce (request, "challenge", &challenge, &error) ||
      !partner_get_string (request, "target", 128, TRUE, &target, &error))
    return bad_request (reply, error);
  signature = partner_get_signature (request, "signature", &error);
  if (signature == NULL)
    return bad_request (reply, error);

  if (g_str_has_prefix (target, "credential:"))
    {
      kind = TARGET_CREDENTIAL;
      subject = target + strlen ("credential:");
    }
  else if (g_str_has_prefix (target, "token:"))
    {
      kind = TARGET_TOKEN;
      subject = target + strlen ("token:");
    }
  else if (g_str_has_prefix (target, "redemption:"))
    {
      /* redemption:K:TOKEN, K from 1 to 10: one receiver of several. */
      const char *rest = target + strlen ("redemption:");
      const char *colon = strchr (rest, ':');
      g_autofree char *number = colon != NULL ? g_strndup (rest, colon - rest) : NULL;

      kind = TARGET_TOKEN;
      subject = NULL;
      if (number != NULL &&
          g_ascii_string_to_unsigned (number, 10, 1, PARTNER_MAX_RECEIVERS, &position, NULL))
        subject = colon + 1;
    }
  else if (g_str_has_prefix (target, "key:"))
    {
      kind = TARGET_KEY;
      subject = target + strlen ("key:");
    }
  else if (g_str_has_prefix (target, "access-tokens:"))
    {
      kind = TARGET_ACCESS_TOKENS;
      subject = target + strlen ("access-tokens:");
    }
  else
    subject = NULL;

  /* Each must also be signable as it stands: no newline hides in any. */
  if (subject == NULL ||
      ((kind == TARGET_CREDENTIAL || kind == TARGET_ACCESS_TOKENS) && !g_uuid_string_is_valid (subject)) ||
      ((kind == TARGET_TOKEN || kind == TARGET_KEY) && !partner_is_nonce (subject)))
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request",
                 "“target” must be credential:ID, token:TOKEN, redemption:K:TOKEN, key:FINGERPRINT "
                 "or access-tokens:ID");

  if (!partner_challenges_consume (self->challenges, challenge, g_get_monotonic_time ()))
    return fail (reply, MHD_HTTP_FORBIDDEN, "bad_challenge", "The challenge is unknown, used or expired");

  actor = partner_store_get_credential (self->store, actor_id, &error);
  if (error != NULL)
    return unavailable (reply, error);
  if (actor == NULL)
    return fail (reply, MHD_HTTP_NOT_FOUND, "unknown_credential", "There is no such credential");

  key = partner_credential_get_key (actor, &error);
  if (error != NULL)
    return unavailable (reply, error);
  if (key == NULL)
    return fail (reply, MHD_HTTP_FORBIDDEN, "signature_required",
                 "This credential has no key yet: register one (POST /v1/owner-keys) to revoke");

  statement = lk_signing_revocation (actor_id, target, challenge);
  if (!verify (key, statement, signature))
    return fail (reply, MHD_HTTP_FORBIDDEN, "bad_signature", "The signature does not match the credential's key");

  if (!partner_store_chain_revoked (self->store, actor->id, &revoked, &error))
    return unavailable (reply, error);
  if (revoked)
    return fail (reply, MHD_HTTP_FORBIDDEN, "revoked", "The credential has been revoked");

  switch (kind)
    {
    case TARGET_CREDENTIAL:
      {
        g_autoptr(PartnerCredential) victim = partner_store_get_credential (self->store, subject, &error);
        gboolean descendant;

        if (error != NULL)
          return unavailable (reply, error);
        if (victim == NULL)
          return fail (reply, MHD_HTTP_NOT_FOUND, "unknown_credential", "There is no such credential");
        if (!partner_store_is_descendant (self->store, actor->id, victim->id, &descendant, &error))
          return unavailable (reply, error);
        if (!descendant)
          return fail (reply, MHD_HTTP_FORBIDDEN, "not_yours", "That credential was not shared from this one");

        count = partner_store_revoke_tree (self->store, victim->id, now_seconds (), &error);
        if (count < 0)
          return unavailable (reply, error);
        g_info ("Credential %.8s revoked %.8s and what was shared from it (%" G_GINT64_FORMAT ")",
                actor->id, victim->id, count);
      }
      break;

    case TARGET_TOKEN:
      status = revoke_token (self, actor, subject, (guint) position, &count, reply);
      if (status != MHD_HTTP_OK)
        return status;
      g_info ("Credential %.8s revoked a token (%" G_GINT64_FORMAT ")", actor->id, count);
      break;

    case TARGET_ACCESS_TOKENS:
      /* The bearer tokens of the credential itself: a generic credential
       * enrolled before owners had keys was shared by copying its token. */
      if (strcmp (subject, actor->id) != 0)
        return fail (reply, MHD_HTTP_FORBIDDEN, "not_yours", "A credential revokes only its own access tokens");
      count = partner_store_revoke_access_tokens (self->store, actor->id, now_seconds (), &error);
      if (count < 0)
        return unavailable (reply, error);
      g_info ("Credential %.8s revoked its own access tokens (%" G_GINT64_FORMAT ")", actor->id, count);
      break;

    case TARGET_KEY:
      {
        g_autoptr(PartnerAccessPoint) car = partner_store_get_access_point (self->store, actor->access_point_id, &error);
        gboolean added;

        if (car == NULL)
          return unavailable (reply, error);
        if (car->vertical != LK_VERTICAL_CAR || strcmp (car->owner_id, actor->id) != 0)
          return fail (reply, MHD_HTTP_FORBIDDEN, "not_yours", "Only a car's owner revokes its friend keys");
        if (!partner_store_revoke_key (self->store, car->id, subject, now_seconds (), &added, &error))
          return unavailable (reply, error);
        count = added ? 1 : 0;
        g_info ("The owner of car %.8s revoked a friend key", car->id);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  *reply = json_object_new ();
  json_object_set_int_member (*reply, "revoked", count);
  return MHD_HTTP_OK;
}

/* POST /v1/owner-keys */

/**
 * partner_service_register_key:
 *
 * A generic credential enrolled before owners had keys holds only a bearer
 * token, which its owner may have copied to others. Its holder registers a
 * key, once; from then on only that key's signature shares and revokes.
 * (Whoever registers first owns it: the partner cannot tell a copy of the
 * token from the original. The wallet registers one before its owner's
 * first share or revocation.)
 */
guint
partner_service_register_key (PartnerService  *self,
                              JsonObject      *request,
                              JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PartnerCredential) credential = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  g_autofree char *credential_id = NULL;
  g_autofree char *encoded = NULL;
  const char *secret, *key_text;
  guint8 hash[LK_SHA256_LENGTH];
  gboolean revoked, set;

  if (!partner_get_nonce (request, "accessToken", &secret, &error))
    return bad_request (reply, error);
  key = partner_get_public_key (request, "publicKey", &key_text, &error);
  if (key == NULL)
    return bad_request (reply, error);

  partner_hash_secret (secret, hash);
  if (!partner_store_find_access_token (self->store, hash, &credential_id, &revoked, &error))
    return unavailable (reply, error);
  if (credential_id == NULL)
    return fail (reply, MHD_HTTP_NOT_FOUND, "unknown_credential", "No credential has this access token");
  if (revoked)
    return fail (reply, MHD_HTTP_FORBIDDEN, "revoked", "This access token has been revoked");

  credential = partner_store_get_credential (self->store, credential_id, &error);
  if (credential == NULL)
    return unavailable (reply, error);
  if (credential->role != LK_CREDENTIAL_ROLE_OWNER || credential->public_key != NULL)
    return fail (reply, MHD_HTTP_CONFLICT, "has_key", "This credential has a key already, or is not an owner's");
  if (!partner_store_chain_revoked (self->store, credential->id, &revoked, &error))
    return unavailable (reply, error);
  if (revoked)
    return fail (reply, MHD_HTTP_FORBIDDEN, "revoked", "The credential has been revoked");

  encoded = partner_encode_key (key);
  if (!partner_store_set_public_key (self->store, credential->id, encoded, &set, &error))
    return unavailable (reply, error);
  if (!set)
    return fail (reply, MHD_HTTP_CONFLICT, "has_key", "This credential has a key already");

  g_info ("Credential %.8s registered its owner's key", credential->id);

  *reply = partner_credential_to_json (credential, self->issuer);
  return MHD_HTTP_OK;
}

/* POST /v1/access */

typedef struct
{
  AccessKind   kind;
  const char  *access_point_id;
  const char  *action;
  const char  *challenge;
  const char  *credential_id;     /* ACCESS_BY_CREDENTIAL */
  const char  *access_token;      /* ACCESS_BY_TOKEN */
  GBytes      *signature;         /* ACCESS_BY_CREDENTIAL and ACCESS_BY_FRIEND_KEY */

  /* ACCESS_BY_FRIEND_KEY, as sent: the owner signed these texts */
  LkKeyPair   *friend_key;
  const char  *friend_key_text;
  GStrv        friend_entitlements;
  const char  *friend_from_text;
  const char  *friend_until_text;
  gint64       friend_from;
  gint64       friend_until;
  GBytes      *owner_signature;
} AccessRequest;

static void
access_request_clear (AccessRequest *req)
{
  g_clear_pointer (&req->signature, g_bytes_unref);
  g_clear_object (&req->friend_key);
  g_clear_pointer (&req->friend_entitlements, g_strfreev);
  g_clear_pointer (&req->owner_signature, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AccessRequest, access_request_clear)

static gboolean
parse_access (JsonObject     *request,
              AccessRequest  *req,
              GError        **error)
{
  gboolean by_credential = has_member (request, "credentialId");
  gboolean by_friend_key = has_member (request, "friendKey");
  gboolean by_token = has_member (request, "accessToken");

  if (!partner_get_uuid (request, "accessPointId", &req->access_point_id, error) ||
      !partner_get_string (request, "action", 16, TRUE, &req->action, error) ||
      !partner_get_nonce (request, "challenge", &req->challenge, error))
    return FALSE;

  if (!g_strv_contains (actions, req->action))
    {
      g_set_error (error, PARTNER_REQUEST_ERROR, PARTNER_REQUEST_ERROR_BAD_FIELD,
                   "“action” must be open, start or drive");
      return FALSE;
    }

  if (by_credential + by_friend_key + by_token != 1)
    {
      g_set_error (error, PARTNER_REQUEST_ERROR, PARTNER_REQUEST_ERROR_BAD_FIELD,
                   "Present exactly one of “credentialId”, “friendKey” or “accessToken”");
      return FALSE;
    }

  if (by_token)
    {
      req->kind = ACCESS_BY_TOKEN;
      return partner_get_nonce (request, "accessToken", &req->access_token, error);
    }

  req->signature = partner_get_signature (request, "signature", error);
  if (req->signature == NULL)
    return FALSE;

  if (by_credential)
    {
      req->kind = ACCESS_BY_CREDENTIAL;
      return partner_get_uuid (request, "credentialId", &req->credential_id, error);
    }

  {
    JsonObject *friend_key = lk_json_get_object (request, "friendKey", TRUE, PARTNER_REQUEST_ERROR,
                                                 PARTNER_REQUEST_ERROR_BAD_FIELD, error);

    req->kind = ACCESS_BY_FRIEND_KEY;
    if (friend_key == NULL)
      return FALSE;

    req->friend_key = partner_get_public_key (friend_key, "publicKey", &req->friend_key_text, error);
    if (req->friend_key == NULL)
      return FALSE;
    req->friend_entitlements = partner_get_entitlements (friend_key, "entitlements", error);
    if (req->friend_entitlements == NULL)
      return FALSE;
    if (!partner_get_window (friend_key, &req->friend_from_text, &req->friend_from,
                             &req->friend_until_text, &req->friend_until, error))
      return FALSE;
    /* A friend key cannot be revoked at the car before the car hears of
     * it; an end keeps a forgotten one from working forever. */
    if (req->friend_until_text == NULL)
      {
        g_set_error (error, PARTNER_REQUEST_ERROR, PARTNER_REQUEST_ERROR_BAD_FIELD,
                     "A friend key needs “validUntil”");
        return FALSE;
      }
    req->owner_signature = partner_get_signature (friend_key, "ownerSignature", error);
    return req->owner_signature != NULL;
  }
}

/* The checks every kind shares, once the caller has shown who it is. */
static guint
authorize (PartnerService     *self,
           AccessRequest      *req,
           PartnerCredential  *credential,
           const char         *whose,
           JsonObject        **reply)
{
  g_autoptr(GError) error = NULL;
  PartnerWindowState window;
  gboolean revoked;

  if (strcmp (credential->access_point_id, req->access_point_id) != 0)
    return deny (reply, "wrong_access_point", "The credential is for another access point");

  if (!partner_store_chain_revoked (self->store, credential->id, &revoked, &error))
    return unavailable (reply, error);
  if (revoked)
    return deny (reply, "revoked", "The credential has been revoked");

  window = partner_window_check (credential->valid_from, credential->valid_until, now_seconds ());
  if (window != PARTNER_WINDOW_OPEN)
    return window_denial (reply, window, whose);

  if (!g_strv_contains ((const char * const *) credential->entitlements, req->action))
    return deny (reply, "not_entitled", "The credential does not allow this action");

  return MHD_HTTP_OK;
}

static guint
access_by_credential (PartnerService  *self,
                      AccessRequest   *req,
                      JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PartnerCredential) credential = NULL;
  g_autoptr(LkKeyPair) key = NULL;
  g_autoptr(GBytes) statement = NULL;

  credential = partner_store_get_credential (self->store, req->credential_id, &error);
  if (error != NULL)
    return unavailable (reply, error);
  if (credential == NULL)
    return deny (reply, "unknown_credential", "There is no such credential");

  key = partner_credential_get_key (credential, &error);
  if (error != NULL)
    return unavailable (reply, error);
  if (key == NULL)
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request",
                 "A generic credential opens with its access token, not a signature");

  statement = lk_signing_access (req->access_point_id, credential->id, req->action, req->challenge);
  if (!verify (key, statement, req->signature))
    return deny (reply, "bad_signature", "The signature does not match the credential's key");

  return authorize (self, req, credential, "credential", reply);
}

static guint
access_by_token (PartnerService  *self,
                 AccessRequest   *req,
                 JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PartnerCredential) credential = NULL;
  g_autofree char *credential_id = NULL;
  guint8 hash[LK_SHA256_LENGTH];
  gboolean revoked;

  partner_hash_secret (req->access_token, hash);
  if (!partner_store_find_access_token (self->store, hash, &credential_id, &revoked, &error))
    return unavailable (reply, error);
  if (credential_id == NULL)
    return deny (reply, "unknown_credential", "No credential has this access token");
  if (revoked)
    return deny (reply, "revoked", "This access token has been revoked");

  credential = partner_store_get_credential (self->store, credential_id, &error);
  if (credential == NULL)
    return unavailable (reply, error);

  return authorize (self, req, credential, "credential", reply);
}

static guint
access_by_friend_key (PartnerService      *self,
                      AccessRequest       *req,
                      PartnerAccessPoint  *car,
                      JsonObject         **reply)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PartnerCredential) owner = NULL;
  g_autoptr(LkKeyPair) owner_key = NULL;
  g_autoptr(GBytes) grant = NULL;
  g_autoptr(GBytes) statement = NULL;
  g_autofree char *fingerprint = NULL;
  PartnerWindowState window;
  gboolean revoked;
  guint status;

  if (car->vertical != LK_VERTICAL_CAR)
    return fail (reply, MHD_HTTP_BAD_REQUEST, "bad_request", "Only cars take friend keys");

  owner = partner_store_get_credential (self->store, car->owner_id, &error);
  if (owner == NULL)
    return unavailable (reply, error);
  owner_key = partner_credential_get_key (owner, &error);
  if (owner_key == NULL)
    return unavailable (reply, error);

  /* The owner vouches for the key, what it may do and when, for this car. */
  grant = lk_signing_friend_key (car->id, req->friend_key_text,
                                 (const char * const *) req->friend_entitlements,
                                 req->friend_from_text, req->friend_until_text);
  if (!verify (owner_key, grant, req->owner_signature))
    return deny (reply, "bad_owner_signature", "The car's owner did not sign this friend key");

  /* And the key's holder is here, now. */
  fingerprint = lk_key_pair_get_fingerprint (req->friend_key);
  statement = lk_signing_access (car->id, fingerprint, req->action, req->challenge);
  if (!verify (req->friend_key, statement, req->signature))
    return deny (reply, "bad_signature", "The signature does not match the friend key");

  if (!partner_store_is_key_revoked (self->store, car->id, fingerprint, &revoked, &error))
    return unavailable (reply, error);
  if (revoked)
    return deny (reply, "revoked", "The owner has revoked this friend key");

  /* The owner's own credential bounds what it can hand out. */
  status = authorize (self, req, owner, "owner's credential", reply);
  if (status != MHD_HTTP_OK)
    return status;

  window = partner_window_check (req->friend_from, req->friend_until, now_seconds ());
  if (window != PARTNER_WINDOW_OPEN)
    return window_denial (reply, window, "friend key");

  if (!g_strv_contains ((const char * const *) req->friend_entitlements, req->action))
    return deny (reply, "not_entitled", "The friend key does not allow this action");

  return MHD_HTTP_OK;
}

guint
partner_service_access (PartnerService  *self,
                        JsonObject      *request,
                        JsonObject     **reply)
{
  g_autoptr(GError) error = NULL;
  g_auto(AccessRequest) req = { 0 };
  g_autoptr(PartnerAccessPoint) access_point = NULL;
  guint status;

  if (!parse_access (request, &req, &error))
    return bad_request (reply, error);

  if (!partner_challenges_consume (self->challenges, req.challenge, g_get_monotonic_time ()))
    return deny (reply, "bad_challenge", "The challenge is unknown, used or expired");

  access_point = partner_store_get_access_point (self->store, req.access_point_id, &error);
  if (error != NULL)
    return unavailable (reply, error);
  if (access_point == NULL)
    return fail (reply, MHD_HTTP_NOT_FOUND, "unknown_access_point", "There is no such access point");

  switch (req.kind)
    {
    case ACCESS_BY_CREDENTIAL:
      status = access_by_credential (self, &req, reply);
      break;
    case ACCESS_BY_FRIEND_KEY:
      status = access_by_friend_key (self, &req, access_point, reply);
      break;
    case ACCESS_BY_TOKEN:
      status = access_by_token (self, &req, reply);
      break;
    default:
      g_assert_not_reached ();
    }

  if (status != MHD_HTTP_OK)
    {
      if (status == MHD_HTTP_FORBIDDEN)
        g_info ("Access point %.8s: %s denied (%s)", access_point->id, req.action,
                json_object_get_string_member (*reply, "error"));
      return status;
    }

  g_info ("Access point %.8s: %s granted", access_point->id, req.action);

  *reply = json_object_new ();
  json_object_set_boolean_member (*reply, "granted", TRUE);
  json_object_set_string_member (*reply, "action", req.action);
  return MHD_HTTP_OK;
}
