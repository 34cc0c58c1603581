/* partner-credential.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partner-credential"

#include "config.h"

#include <string.h>

#include "partner-credential.h"
#include "partner-request.h"

PartnerCredential *
partner_credential_new (void)
{
  PartnerCredential *self = g_new0 (PartnerCredential, 1);

  self->valid_from = PARTNER_OPEN_START;
  self->valid_until = PARTNER_OPEN_END;

  return self;
}

void
partner_credential_free (PartnerCredential *self)
{
  if (self == NULL)
    return;

  g_free (self->id);
  g_free (self->access_point_id);
  g_free (self->parent_id);
  g_free (self->title);
  g_strfreev (self->entitlements);
  g_free (self->public_key);
  g_free (self);
}

/**
 * partner_credential_get_key:
 *
 * Returns: (transfer full) (nullable): the credential's public key, or %NULL
 *   without an error for a generic credential, which has none
 */
LkKeyPair *
partner_credential_get_key (PartnerCredential  *self,
                            GError            **error)
{
  g_autoptr(GBytes) der = NULL;
  guint8 *raw;
  gsize len;

  if (self->public_key == NULL)
    return NULL;

  raw = lk_base64_decode_strict (self->public_key, strlen (self->public_key), &len);
  if (raw == NULL)
    {
      g_set_error (error, LK_CRYPTO_ERROR, LK_CRYPTO_ERROR_INVALID_KEY, "A stored key is not base64");
      return NULL;
    }
  der = g_bytes_new_take (raw, len);

  return lk_key_pair_new_from_public (der, error);
}

/* What enrolment and redemption answer: everything a wallet shows. */
JsonObject *
partner_credential_to_json (PartnerCredential *self,
                            const char        *issuer)
{
  JsonObject *object = json_object_new ();
  JsonArray *entitlements = json_array_new ();

  json_object_set_string_member (object, "credentialId", self->id);
  json_object_set_string_member (object, "accessPointId", self->access_point_id);
  json_object_set_string_member (object, "vertical", lk_vertical_to_string (self->vertical));
  json_object_set_string_member (object, "role", lk_credential_role_to_string (self->role));
  json_object_set_string_member (object, "title", self->title);
  json_object_set_string_member (object, "issuer", issuer);
  for (guint i = 0; self->entitlements != NULL && self->entitlements[i] != NULL; i++)
    json_array_add_string_element (entitlements, self->entitlements[i]);
  json_object_set_array_member (object, "entitlements", entitlements);

  if (self->valid_from != PARTNER_OPEN_START)
    {
      g_autofree char *text = lk_time_format_unix (self->valid_from);
      json_object_set_string_member (object, "validFrom", text);
    }
  if (self->valid_until != PARTNER_OPEN_END)
    {
      g_autofree char *text = lk_time_format_unix (self->valid_until);
      json_object_set_string_member (object, "validUntil", text);
    }

  return object;
}
