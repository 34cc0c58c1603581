/* partner-config.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partner-config"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "httpd-config.h"
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
  self->max_challenges_per_client = PARTNER_DEFAULT_CHALLENGES_PER_CLIENT;
  self->rate = PARTNER_DEFAULT_RATE;
  self->burst = PARTNER_DEFAULT_BURST;
  self->request_timeout = PARTNER_DEFAULT_REQUEST_TIMEOUT;

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

/* --trust-forwarded-for alone, or =true / =false, so that the unit can pass
 * it from a variable. */
static gboolean
parse_trust (const char  *name,
             const char  *value,
             gpointer     data,
             GError     **error)
{
  PartnerConfig *self = data;

  if (value == NULL || g_ascii_strcasecmp (value, "true") == 0 || g_ascii_strcasecmp (value, "yes") == 0)
    self->trust_forwarded_for = TRUE;
  else if (g_ascii_strcasecmp (value, "false") == 0 || g_ascii_strcasecmp (value, "no") == 0)
    self->trust_forwarded_for = FALSE;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s takes true or false", name);
      return FALSE;
    }
  return TRUE;
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
  int port = -1, challenge_lifetime = -1, token_lifetime = -1, max_challenges = -1, per_client = -1;
  int request_timeout = -1;
  double rate = -1, burst = -1;
  GOptionGroup *group;
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "Listen on ADDRESS (default 127.0.0.1)", "ADDRESS" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Listen on PORT (default 8090; 0 picks a free one)", "PORT" },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir, "Keep the database in DIR", "DIR" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "The issuer name on credentials (default “" PARTNER_DEFAULT_NAME "”)", "NAME" },
    { "challenge-lifetime", 0, 0, G_OPTION_ARG_INT, &challenge_lifetime, "Challenges expire after SECONDS (default 60)", "SECONDS" },
    { "token-lifetime", 0, 0, G_OPTION_ARG_INT, &token_lifetime, "Provisioning tokens expire after SECONDS (default 172800, 48 h)", "SECONDS" },
    { "max-challenges", 0, 0, G_OPTION_ARG_INT, &max_challenges, "Outstanding challenges at most (default 10000)", "N" },
    { "max-challenges-per-client", 0, 0, G_OPTION_ARG_INT, &per_client, "Outstanding challenges per client (default 16)", "N" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &rate, "Requests per second per client (default 20, 0 no limit)", "N" },
    { "burst", 0, 0, G_OPTION_ARG_DOUBLE, &burst, "Requests a client may make at once (default 100)", "N" },
    { "request-timeout", 0, 0, G_OPTION_ARG_INT, &request_timeout, "A request's headers and body must arrive within SECONDS (default 10)", "SECONDS" },
    { "trust-forwarded-for", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_trust,
      "Take the client address from X-Forwarded-For (behind a proxy)", "[true|false]" },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "A reference TIGRESS provisioning partner and access point simulator, for demos and tests.");
  group = g_option_group_new (NULL, NULL, NULL, self, NULL);
  g_option_group_add_entries (group, entries);
  g_option_context_set_main_group (context, group);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "Unexpected argument “%s”", (*argv)[1]);
      return FALSE;
    }

  httpd_config_take_string (&self->listen_address, &listen);
  httpd_config_take_string (&self->data_dir, &data_dir);
  httpd_config_take_string (&self->name, &name);

  if (port >= 0) self->port = port;
  if (challenge_lifetime >= 0) self->challenge_lifetime = challenge_lifetime;
  if (token_lifetime >= 0) self->token_lifetime = token_lifetime;
  if (max_challenges >= 0) self->max_challenges = max_challenges;
  if (per_client >= 0) self->max_challenges_per_client = per_client;
  if (rate >= 0) self->rate = rate;
  if (burst >= 0) self->burst = burst;
  if (request_timeout >= 0) self->request_timeout = request_timeout;

  if (!httpd_config_check_common (self->data_dir, self->port, error))
    return FALSE;
  /* The name goes into every credential: the same bounds as a title, and one line. */
  if (self->name[0] == '\0' || strlen (self->name) > 256 || strchr (self->name, '\n') != NULL ||
      !g_utf8_validate (self->name, -1, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "The name must be one line of 1 to 256 bytes");
      return FALSE;
    }
  if (self->challenge_lifetime < 1 || self->token_lifetime < 1 || self->max_challenges < 1 ||
      self->max_challenges_per_client < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Lifetimes must be at least one second, and at least one challenge must be allowed");
      return FALSE;
    }

  return TRUE;
}
