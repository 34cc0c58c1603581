/* partner-config.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partner-config"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "partner-config.h"

PartnerConfig *
partner_config_new (void)
{
  PartnerConfig *self = g_new0 (PartnerConfig, 1);

  self->listen_address = g_strdup ("127.0.0.1");
  self->port = 8090;
  self->name = g_strdup (PARTNER_DEFAULT_NAME);
  self->challenge_lifetime = PARTNER_DEFAULT_CHALLENGE_LIFETIME;
  self->token_lifetime = PARTNER_DEFAULT_TOKEN_LIFETIME;
  self->max_challenges = PARTNER_DEFAULT_MAX_CHALLENGES;

  return self;
}

void
partner_config_free (PartnerConfig *self)
{
  if (self == NULL)
    return;

  g_free (self->listen_address);
  g_free (self->data_dir);
  g_free (self->name);
  g_free (self);
}

gboolean
partner_config_parse_args (PartnerConfig   *self,
                           int             *argc,
                           char          ***argv,
                           GError         **error)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *name = NULL;
  int port = -1, challenge_lifetime = -1, token_lifetime = -1, max_challenges = -1;
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "Listen on ADDRESS (default 127.0.0.1)", "ADDRESS" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Listen on PORT (default 8090; 0 picks a free one)", "PORT" },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir, "Keep the database in DIR", "DIR" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "The issuer name on credentials (default “" PARTNER_DEFAULT_NAME "”)", "NAME" },
    { "challenge-lifetime", 0, 0, G_OPTION_ARG_INT, &challenge_lifetime, "Challenges expire after SECONDS (default 60)", "SECONDS" },
    { "token-lifetime", 0, 0, G_OPTION_ARG_INT, &token_lifetime, "Provisioning tokens expire after SECONDS (default 172800, 48 h)", "SECONDS" },
    { "max-challenges", 0, 0, G_OPTION_ARG_INT, &max_challenges, "Outstanding challenges at most (default 10000)", "N" },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "A reference TIGRESS provisioning partner and access point simulator, for demos and tests.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "Unexpected argument “%s”", (*argv)[1]);
      return FALSE;
    }

#define SET_STRING(field, value) \
  if (value != NULL) { g_free (field); field = g_steal_pointer (&value); }
  SET_STRING (self->listen_address, listen);
  SET_STRING (self->data_dir, data_dir);
  SET_STRING (self->name, name);
#undef SET_STRING

  if (port >= 0) self->port = port;
  if (challenge_lifetime >= 0) self->challenge_lifetime = challenge_lifetime;
  if (token_lifetime >= 0) self->token_lifetime = token_lifetime;
  if (max_challenges >= 0) self->max_challenges = max_challenges;

  if (self->data_dir == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "A data directory is required (--data-dir)");
      return FALSE;
    }
  if (self->port > 65535)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "The port must be at most 65535");
      return FALSE;
    }
  /* The name goes into every credential: the same bounds as a title, and one line. */
  if (self->name[0] == '\0' || strlen (self->name) > 256 || strchr (self->name, '\n') != NULL ||
      !g_utf8_validate (self->name, -1, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "The name must be one line of 1 to 256 bytes");
      return FALSE;
    }
  if (self->challenge_lifetime < 1 || self->token_lifetime < 1 || self->max_challenges < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Lifetimes must be at least one second, and at least one challenge must be allowed");
      return FALSE;
    }

  return TRUE;
}
