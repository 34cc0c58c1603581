/* lk-credential.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-credential"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-credential.h"
#include "lk-crypto.h"
#include "lk-enum-types.h"
#include "lk-error.h"
#include "lk-json.h"
#include "lk-time.h"

#define CREDENTIAL_JSON_VERSION 1

struct _LkCredential
{
  GObject           parent_instance;

  char             *id;
  LkVertical        vertical;
  LkCredentialRole  role;
  char             *title;
  char             *description;
  char             *issuer;
  GDateTime        *valid_from;
  GDateTime        *valid_until;
  GStrv             entitlements;
  char             *shared_by;
  LkKeyPair        *key_pair;
  char             *access_point_id;
  char             *partner_url;
  char             *access_token;     /* a bearer secret: keyring only */
  char             *owner_signature;  /* a car friend key's, base64 */
};

G_DEFINE_FINAL_TYPE (LkCredential, lk_credential, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_VERTICAL,
  PROP_ROLE,
  PROP_TITLE,
  PROP_DESCRIPTION,
  PROP_ISSUER,
  PROP_VALID_FROM,
  PROP_VALID_UNTIL,
  PROP_ENTITLEMENTS,
  PROP_SHARED_BY,
  PROP_KEY_PAIR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
lk_credential_finalize (GObject *object)
{
  LkCredential *self = (LkCredential *) object;

  g_free (self->id);
  g_free (self->title);
  g_free (self->description);
  g_free (self->issuer);
  g_clear_pointer (&self->valid_from, g_date_time_unref);
  g_clear_pointer (&self->valid_until, g_date_time_unref);
  g_strfreev (self->entitlements);
  g_free (self->shared_by);
  g_clear_object (&self->key_pair);
  g_free (self->access_point_id);
  g_free (self->partner_url);
  lk_secure_clear_str (&self->access_token);
  g_free (self->owner_signature);

  G_OBJECT_CLASS (lk_credential_parent_class)->finalize (object);
}

static void
lk_credential_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  LkCredential *self = LK_CREDENTIAL (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_VERTICAL:
      g_value_set_enum (value, self->vertical);
      break;
    case PROP_ROLE:
      g_value_set_enum (value, self->role);
      break;
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case PROP_ISSUER:
      g_value_set_string (value, self->issuer);
      break;
    case PROP_VALID_FROM:
      g_value_set_boxed (value, self->valid_from);
      break;
    case PROP_VALID_UNTIL:
      g_value_set_boxed (value, self->valid_until);
      break;
    case PROP_ENTITLEMENTS:
      g_value_set_boxed (value, self->entitlements);
      break;
    case PROP_SHARED_BY:
      g_value_set_string (value, self->shared_by);
      break;
    case PROP_KEY_PAIR:
      g_value_set_object (value, self->key_pair);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_credential_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  LkCredential *self = LK_CREDENTIAL (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case PROP_VERTICAL:
      self->vertical = g_value_get_enum (value);
      break;
    case PROP_ROLE:
      self->role = g_value_get_enum (value);
      break;
    case PROP_TITLE:
      lk_credential_set_title (self, g_value_get_string (value));
      break;
    case PROP_DESCRIPTION:
      lk_credential_set_description (self, g_value_get_string (value));
      break;
    case PROP_ISSUER:
      lk_credential_set_issuer (self, g_value_get_string (value));
      break;
    case PROP_ENTITLEMENTS:
      lk_credential_set_entitlements (self, g_value_get_boxed (value));
      break;
    case PROP_SHARED_BY:
      lk_credential_set_shared_by (self, g_value_get_string (value));
      break;
    case PROP_KEY_PAIR:
      lk_credential_set_key_pair (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lk_credential_constructed (GObject *object)
{
  LkCredential *self = LK_CREDENTIAL (object);

  G_OBJECT_CLASS (lk_credential_parent_class)->constructed (object);

  if (self->id == NULL)
    self->id = lk_uuid_new_random ();
}

static void
lk_credential_class_init (LkCredentialClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_credential_finalize;
  object_class->get_property = lk_credential_get_property;
  object_class->set_property = lk_credential_set_property;
  object_class->constructed = lk_credential_constructed;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VERTICAL] =
    g_param_spec_enum ("vertical", NULL, NULL, LK_TYPE_VERTICAL, LK_VERTICAL_GENERIC,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ROLE] =
    g_param_spec_enum ("role", NULL, NULL, LK_TYPE_CREDENTIAL_ROLE, LK_CREDENTIAL_ROLE_OWNER,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ISSUER] =
    g_param_spec_string ("issuer", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VALID_FROM] =
    g_param_spec_boxed ("valid-from", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_VALID_UNTIL] =
    g_param_spec_boxed ("valid-until", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENTITLEMENTS] =
    g_param_spec_boxed ("entitlements", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHARED_BY] =
    g_param_spec_string ("shared-by", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_KEY_PAIR] =
    g_param_spec_object ("key-pair", NULL, NULL, LK_TYPE_KEY_PAIR,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lk_credential_init (LkCredential *self)
{
}

/**
 * lk_credential_new:
 *
 * Returns: (transfer full): a credential with a fresh random id and no key
 */
LkCredential *
lk_credential_new (LkVertical        vertical,
                   const char       *title,
                   LkCredentialRole  role)
{
  return g_object_new (LK_TYPE_CREDENTIAL,
                       "vertical", vertical,
                       "title", title,
                       "role", role,
                       NULL);
}

static void
set_string (LkCredential  *self,
            char         **field,
            const char    *value,
            gsize          max_len,
            guint          prop)
{
  g_autofree char *bounded = NULL;

  /* Titles come from other people: keep them valid UTF-8 and bounded. */
  if (value != NULL)
    {
      bounded = g_utf8_make_valid (value, -1);
      if (strlen (bounded) > max_len)
        {
          const char *end = g_utf8_find_prev_char (bounded, bounded + max_len + 1);

          bounded[end - bounded] = '\0';
        }
    }

  if (g_strcmp0 (*field, bounded) == 0)
    return;

  g_free (*field);
  *field = g_steal_pointer (&bounded);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

const char *
lk_credential_get_id (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->id;
}

LkVertical
lk_credential_get_vertical (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), LK_VERTICAL_GENERIC);
  return self->vertical;
}

const char *
lk_credential_get_title (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->title;
}

void
lk_credential_set_title (LkCredential *self,
                         const char   *title)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  set_string (self, &self->title, title, LK_CREDENTIAL_MAX_TITLE, PROP_TITLE);
}

const char *
lk_credential_get_description (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->description;
}

void
lk_credential_set_description (LkCredential *self,
                               const char   *description)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  set_string (self, &self->description, description, LK_CREDENTIAL_MAX_DESCRIPTION, PROP_DESCRIPTION);
}

const char *
lk_credential_get_issuer (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->issuer;
}

void
lk_credential_set_issuer (LkCredential *self,
                          const char   *issuer)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  set_string (self, &self->issuer, issuer, LK_CREDENTIAL_MAX_ISSUER, PROP_ISSUER);
}

/**
 * lk_credential_get_valid_from:
 *
 * Returns: (transfer none) (nullable): the start of validity, %NULL if open
 */
GDateTime *
lk_credential_get_valid_from (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->valid_from;
}

/**
 * lk_credential_get_valid_until:
 *
 * Returns: (transfer none) (nullable): the end of validity, %NULL if open
 */
GDateTime *
lk_credential_get_valid_until (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->valid_until;
}

/**
 * lk_credential_set_validity:
 * @valid_from: (nullable): the start, or %NULL for "from now on"
 * @valid_until: (nullable): the end, or %NULL for no end
 *
 * Returns: %FALSE if the window ends before it starts
 */
gboolean
lk_credential_set_validity (LkCredential  *self,
                            GDateTime     *valid_from,
                            GDateTime     *valid_until,
                            GError       **error)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), FALSE);

  if (valid_from != NULL && valid_until != NULL &&
      g_date_time_compare (valid_from, valid_until) > 0)
    {
      g_set_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID,
                   _("The validity window ends before it starts"));
      return FALSE;
    }

  g_clear_pointer (&self->valid_from, g_date_time_unref);
  g_clear_pointer (&self->valid_until, g_date_time_unref);
  self->valid_from = valid_from ? g_date_time_ref (valid_from) : NULL;
  self->valid_until = valid_until ? g_date_time_ref (valid_until) : NULL;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VALID_FROM]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VALID_UNTIL]);

  return TRUE;
}

gboolean
lk_credential_is_valid_at (LkCredential *self,
                           GDateTime    *when)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), FALSE);
  g_return_val_if_fail (when != NULL, FALSE);

  if (self->valid_from != NULL && g_date_time_compare (when, self->valid_from) < 0)
    return FALSE;
  if (self->valid_until != NULL && g_date_time_compare (when, self->valid_until) >= 0)
    return FALSE;

  return TRUE;
}

/**
 * lk_credential_get_entitlements:
 *
 * Returns: (transfer none) (array zero-terminated=1): what the holder may do,
 *   such as "open", "start" or "drive"; never %NULL
 */
const char * const *
lk_credential_get_entitlements (LkCredential *self)
{
  static const char * const none[] = { NULL };

  g_return_val_if_fail (LK_IS_CREDENTIAL (self), none);
  return self->entitlements ? (const char * const *) self->entitlements : none;
}

void
lk_credential_set_entitlements (LkCredential       *self,
                                const char * const *entitlements)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));

  if (entitlements != NULL && self->entitlements != NULL &&
      g_strv_equal ((const char * const *) self->entitlements, entitlements))
    return;

  g_strfreev (self->entitlements);
  self->entitlements = g_strdupv ((char **) entitlements);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENTITLEMENTS]);
}

LkCredentialRole
lk_credential_get_role (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), LK_CREDENTIAL_ROLE_OWNER);
  return self->role;
}

/**
 * lk_credential_get_shared_by:
 *
 * Returns: (nullable): who shared a received credential, as they named themselves
 */
const char *
lk_credential_get_shared_by (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->shared_by;
}

void
lk_credential_set_shared_by (LkCredential *self,
                             const char   *shared_by)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  set_string (self, &self->shared_by, shared_by, LK_CREDENTIAL_MAX_TITLE, PROP_SHARED_BY);
}

/* Plain strings from a partner or a peer: bounded, no newlines. */
static char *
checked_id (const char *value)
{
  if (value == NULL || strlen (value) > 2048 || strpbrk (value, "\n\r") != NULL)
    return NULL;
  return g_strdup (value);
}

const char *
lk_credential_get_access_point_id (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->access_point_id;
}

void
lk_credential_set_access_point_id (LkCredential *self,
                                   const char   *access_point_id)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  g_free (self->access_point_id);
  self->access_point_id = checked_id (access_point_id);
}

/**
 * lk_credential_get_partner_url:
 *
 * Returns: (nullable): the provisioning partner that issued the credential
 *   and checks it at the door
 */
const char *
lk_credential_get_partner_url (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->partner_url;
}

void
lk_credential_set_partner_url (LkCredential *self,
                               const char   *partner_url)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  g_free (self->partner_url);
  self->partner_url = checked_id (partner_url);
}

/**
 * lk_credential_get_access_token:
 *
 * Returns: (nullable): a generic credential's bearer token; a secret
 */
const char *
lk_credential_get_access_token (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->access_token;
}

void
lk_credential_set_access_token (LkCredential *self,
                                const char   *access_token)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  lk_secure_clear_str (&self->access_token);
  self->access_token = checked_id (access_token);
}

/**
 * lk_credential_get_owner_signature:
 *
 * Returns: (nullable): for a car friend key, the owner's signature over it
 */
const char *
lk_credential_get_owner_signature (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->owner_signature;
}

void
lk_credential_set_owner_signature (LkCredential *self,
                                   const char   *owner_signature)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  g_free (self->owner_signature);
  self->owner_signature = checked_id (owner_signature);
}

/**
 * lk_credential_get_key_pair:
 *
 * Returns: (transfer none) (nullable): the credential's key
 */
LkKeyPair *
lk_credential_get_key_pair (LkCredential *self)
{
  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);
  return self->key_pair;
}

void
lk_credential_set_key_pair (LkCredential *self,
                            LkKeyPair    *key_pair)
{
  g_return_if_fail (LK_IS_CREDENTIAL (self));
  g_return_if_fail (key_pair == NULL || LK_IS_KEY_PAIR (key_pair));

  if (g_set_object (&self->key_pair, key_pair))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEY_PAIR]);
}

static void
set_date_member (JsonObject *object,
                 const char *member,
                 GDateTime  *value)
{
  g_autofree char *text = NULL;

  if (value == NULL)
    return;

  text = g_date_time_format_iso8601 (value);
  json_object_set_string_member (object, member, text);
}

static void
set_bytes_member (JsonObject *object,
                  const char *member,
                  GBytes     *bytes)
{
  g_autoptr(LkSecureString) text = NULL;

  text = g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  json_object_set_string_member (object, member, text);
}

/**
 * lk_credential_to_json:
 * @flags: whether to include the private key (for the keyring store only)
 *
 * Returns: the credential as a JSON object; free a private one with
 *   lk_secure_str_free()
 */
char *
lk_credential_to_json (LkCredential           *self,
                       LkCredentialJsonFlags   flags,
                       GError                **error)
{
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);

  object = json_object_new ();
  json_object_set_int_member (object, "version", CREDENTIAL_JSON_VERSION);
  json_object_set_string_member (object, "id", self->id);
  json_object_set_string_member (object, "vertical", lk_vertical_to_string (self->vertical));
  json_object_set_string_member (object, "role", lk_credential_role_to_string (self->role));
  json_object_set_string_member (object, "title", self->title ? self->title : "");
  if (self->description != NULL)
    json_object_set_string_member (object, "description", self->description);
  if (self->issuer != NULL)
    json_object_set_string_member (object, "issuer", self->issuer);
  set_date_member (object, "validFrom", self->valid_from);
  set_date_member (object, "validUntil", self->valid_until);

  if (self->entitlements != NULL)
    json_object_set_array_member (object, "entitlements",
                                  lk_json_array_new_strv ((const char * const *) self->entitlements));

  if (self->shared_by != NULL)
    json_object_set_string_member (object, "sharedBy", self->shared_by);
  if (self->access_point_id != NULL)
    json_object_set_string_member (object, "accessPointId", self->access_point_id);
  if (self->partner_url != NULL)
    json_object_set_string_member (object, "partnerUrl", self->partner_url);
  if (self->owner_signature != NULL)
    json_object_set_string_member (object, "ownerSignature", self->owner_signature);
  if ((flags & LK_CREDENTIAL_JSON_PRIVATE) != 0 && self->access_token != NULL)
    json_object_set_string_member (object, "accessToken", self->access_token);

  if (self->key_pair != NULL)
    {
      set_bytes_member (object, "publicKey", lk_key_pair_get_public (self->key_pair));

      if ((flags & LK_CREDENTIAL_JSON_PRIVATE) != 0 && lk_key_pair_has_private (self->key_pair))
        {
          g_autoptr(GBytes) private_key = lk_key_pair_export_private (self->key_pair, error);

          if (private_key == NULL)
            return NULL;
          set_bytes_member (object, "privateKey", private_key);
        }
    }

  root = json_node_init_object (json_node_alloc (), object);
  return lk_json_to_string (root);
}

/**
 * lk_credential_describe:
 * @entitlements: (nullable): what the share allows, within the credential's
 * @valid_from: (nullable): the share's window
 * @valid_until: (nullable):
 *
 * The credential as an offer describes it to the receiver (PROTOCOL.md
 * §7.1): its words and provider, with the share's entitlements and window.
 * No key, token or signature.
 *
 * Returns: (transfer full): the `credential` member of an offer
 */
JsonObject *
lk_credential_describe (LkCredential       *self,
                        const char * const *entitlements,
                        GDateTime          *valid_from,
                        GDateTime          *valid_until)
{
  JsonObject *description = json_object_new ();

  g_return_val_if_fail (LK_IS_CREDENTIAL (self), NULL);

  json_object_set_string_member (description, "title", self->title);
  if (self->description != NULL)
    json_object_set_string_member (description, "description", self->description);
  if (self->issuer != NULL)
    json_object_set_string_member (description, "issuer", self->issuer);
  json_object_set_array_member (description, "entitlements", lk_json_array_new_strv (entitlements));
  lk_json_set_time (description, "validFrom", valid_from);
  lk_json_set_time (description, "validUntil", valid_until);
  if (self->access_point_id != NULL)
    json_object_set_string_member (description, "accessPointId", self->access_point_id);
  if (self->partner_url != NULL)
    json_object_set_string_member (description, "partnerUrl", self->partner_url);
  return description;
}

/**
 * lk_credential_new_from_description:
 * @description: an offer's `credential` member, from the other side
 *
 * The receiver's credential, as far as the offer describes it: what does
 * not fit is left out rather than refused (the flow then adds what proves
 * it: a token, a key and the owner's signature). The title may be missing.
 *
 * Returns: (transfer full): a shared credential
 */
LkCredential *
lk_credential_new_from_description (JsonObject *description,
                                    LkVertical  vertical)
{
  LkCredential *credential;
  g_autoptr(GDateTime) from = lk_json_get_time (description, "validFrom");
  g_autoptr(GDateTime) until = lk_json_get_time (description, "validUntil");
  g_auto(GStrv) entitlements = NULL;

  entitlements = lk_json_get_strv (description, "entitlements", FALSE, LK_CREDENTIAL_MAX_ENTITLEMENTS,
                                   LK_CREDENTIAL_MAX_ENTITLEMENT, LK_JSON_STRV_SIGNABLE, 0, 0, NULL);
  credential = lk_credential_new (vertical,
                                  lk_json_get_string (description, "title", LK_CREDENTIAL_MAX_TITLE,
                                                      FALSE, 0, 0, NULL),
                                  LK_CREDENTIAL_ROLE_SHARED);
  lk_credential_set_description (credential, lk_json_get_string (description, "description",
                                                                 LK_CREDENTIAL_MAX_DESCRIPTION, FALSE, 0, 0, NULL));
  lk_credential_set_issuer (credential, lk_json_get_string (description, "issuer", LK_CREDENTIAL_MAX_ISSUER,
                                                            FALSE, 0, 0, NULL));
  lk_credential_set_access_point_id (credential, lk_json_get_string (description, "accessPointId",
                                                                     LK_CREDENTIAL_MAX_ACCESS_POINT,
                                                                     FALSE, 0, 0, NULL));
  lk_credential_set_partner_url (credential, lk_json_get_string (description, "partnerUrl",
                                                                 LK_CREDENTIAL_MAX_URL, FALSE, 0, 0, NULL));
  /* An offer without entitlements gives none: an empty list, not an absent one. */
  lk_credential_set_entitlements (credential, entitlements != NULL ? (const char * const *) entitlements
                                                                   : (const char * const []) { NULL });
  lk_credential_set_validity (credential, from, until, NULL);
  return credential;
}

static gboolean
get_date_member (JsonObject  *object,
                 const char  *member,
                 GDateTime  **out,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *text;

  *out = NULL;
  text = lk_json_get_string (object, member, LK_TIME_MAX_TEXT, FALSE,
                             LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (text == NULL)
    return TRUE;

  *out = g_date_time_new_from_iso8601 (text, NULL);
  if (*out == NULL)
    {
      g_set_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID,
                   _("“%s” is not an ISO 8601 date with a time zone"), member);
      return FALSE;
    }

  return TRUE;
}

static GBytes *
get_bytes_member (JsonObject  *object,
                  const char  *member,
                  GError     **error)
{
  const char *text;
  guint8 *raw;
  gsize len;

  text = lk_json_get_string (object, member, 4096, TRUE,
                             LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID, error);
  if (text == NULL)
    return NULL;

  raw = lk_base64_decode_strict (text, strlen (text), &len);
  if (raw == NULL)
    {
      g_set_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID,
                   _("“%s” is not base64"), member);
      return NULL;
    }

  return lk_secure_bytes_take (raw, len);
}

/**
 * lk_credential_new_from_json:
 *
 * Returns: (transfer full) (nullable): the credential, or %NULL with an
 *   error saying which member is wrong
 */
LkCredential *
lk_credential_new_from_json (const char  *json,
                             gsize        len,
                             GError     **error)
{
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(LkCredential) self = NULL;
  g_autoptr(GDateTime) valid_from = NULL;
  g_autoptr(GDateTime) valid_until = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *id, *title, *vertical_name, *role_name, *description, *issuer, *shared_by;
  const char *access_point_id, *partner_url, *access_token, *owner_signature;
  LkVertical vertical;
  LkCredentialRole role;
  g_auto(GStrv) entitlements = NULL;
  gint64 version;

  g_return_val_if_fail (json != NULL, NULL);

  object = lk_json_parse_object (json, len, LK_CREDENTIAL_MAX_JSON_LENGTH,
                                 LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID, error);
  if (object == NULL)
    return NULL;

#define GET_STRING(var, member, max, required) \
  G_STMT_START { \
    var = lk_json_get_string (object, member, max, required, \
                              LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID, &local_error); \
    if (local_error != NULL) \
      { \
        g_propagate_error (error, g_steal_pointer (&local_error)); \
        return NULL; \
      } \
  } G_STMT_END

  if (!lk_json_get_int (object, "version", CREDENTIAL_JSON_VERSION, CREDENTIAL_JSON_VERSION, &version,
                        LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID, error))
    return NULL;

  GET_STRING (id, "id", 64, TRUE);
  GET_STRING (vertical_name, "vertical", 16, TRUE);
  GET_STRING (role_name, "role", 16, TRUE);
  GET_STRING (title, "title", LK_CREDENTIAL_MAX_TITLE, TRUE);
  GET_STRING (description, "description", LK_CREDENTIAL_MAX_DESCRIPTION, FALSE);
  GET_STRING (issuer, "issuer", LK_CREDENTIAL_MAX_ISSUER, FALSE);
  GET_STRING (shared_by, "sharedBy", LK_CREDENTIAL_MAX_TITLE, FALSE);
  GET_STRING (access_point_id, "accessPointId", 128, FALSE);
  GET_STRING (partner_url, "partnerUrl", 2048, FALSE);
  GET_STRING (access_token, "accessToken", 256, FALSE);
  GET_STRING (owner_signature, "ownerSignature", 1024, FALSE);
#undef GET_STRING

  if (!g_uuid_string_is_valid (id))
    {
      g_set_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID,
                   _("The credential’s id is not a UUID"));
      return NULL;
    }

  if (!lk_vertical_from_string (vertical_name, &vertical) ||
      !lk_credential_role_from_string (role_name, &role))
    {
      g_set_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID,
                   _("The credential has an unknown vertical or role"));
      return NULL;
    }

  self = g_object_new (LK_TYPE_CREDENTIAL,
                       "id", id,
                       "vertical", vertical,
                       "role", role,
                       "title", title,
                       "description", description,
                       "issuer", issuer,
                       "shared-by", shared_by,
                       NULL);

  lk_credential_set_access_point_id (self, access_point_id);
  lk_credential_set_partner_url (self, partner_url);
  lk_credential_set_access_token (self, access_token);
  lk_credential_set_owner_signature (self, owner_signature);

  if (!get_date_member (object, "validFrom", &valid_from, error) ||
      !get_date_member (object, "validUntil", &valid_until, error) ||
      !lk_credential_set_validity (self, valid_from, valid_until, error))
    return NULL;

  entitlements = lk_json_get_strv (object, "entitlements", FALSE, LK_CREDENTIAL_MAX_ENTITLEMENTS,
                                   LK_CREDENTIAL_MAX_ENTITLEMENT, LK_JSON_STRV_STRICT,
                                   LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (entitlements != NULL)
    lk_credential_set_entitlements (self, (const char * const *) entitlements);

  if (json_object_has_member (object, "privateKey"))
    {
      g_autoptr(GBytes) der = get_bytes_member (object, "privateKey", error);
      g_autoptr(LkKeyPair) key_pair = NULL;
      g_autoptr(GBytes) public_der = NULL;

      if (der == NULL)
        return NULL;
      key_pair = lk_key_pair_new_from_private (der, error);
      if (key_pair == NULL)
        return NULL;

      /* A stored public key must belong to the stored private key. */
      if (json_object_has_member (object, "publicKey"))
        {
          public_der = get_bytes_member (object, "publicKey", error);
          if (public_der == NULL)
            return NULL;
          if (!g_bytes_equal (public_der, lk_key_pair_get_public (key_pair)))
            {
              g_set_error (error, LK_CREDENTIAL_ERROR, LK_CREDENTIAL_ERROR_INVALID,
                           _("The credential’s public and private keys do not match"));
              return NULL;
            }
        }
      lk_credential_set_key_pair (self, key_pair);
    }
  else if (json_object_has_member (object, "publicKey"))
    {
      g_autoptr(GBytes) der = get_bytes_member (object, "publicKey", error);
      g_autoptr(LkKeyPair) key_pair = NULL;

      if (der == NULL)
        return NULL;
      key_pair = lk_key_pair_new_from_public (der, error);
      if (key_pair == NULL)
        return NULL;
      lk_credential_set_key_pair (self, key_pair);
    }

  return g_steal_pointer (&self);
}
