/* latchkey-utils.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "latchkey-utils"

#include "config.h"

#include <glib/gi18n.h>

#include "lk-error.h"
#include "lk-mailbox-client.h"
#include "lk-partner-client.h"
#include "lk-store.h"
#include "latchkey-utils.h"

/**
 * latchkey_parent_window:
 *
 * Returns: (transfer none) (nullable): the window @widget is shown in, to
 *   be the parent of a dialog it opens
 */
GtkWindow *
latchkey_parent_window (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

/* The settings win; then the environment, which the development script and
 * the tests use; then the default the build was given. */
static char *
dup_server_url (GSettings  *settings,
                const char *key,
                const char *variable,
                const char *fallback)
{
  g_autofree char *url = g_settings_get_string (settings, key);

  if (url != NULL && *url != '\0')
    return g_steal_pointer (&url);
  if (g_getenv (variable) != NULL && *g_getenv (variable) != '\0')
    return g_strdup (g_getenv (variable));
  return g_strdup (fallback);
}

/**
 * latchkey_dup_relay_url:
 *
 * Returns: the relay for new shares; empty if none is set up
 */
char *
latchkey_dup_relay_url (GSettings *settings)
{
  return dup_server_url (settings, "relay-url", "LATCHKEY_RELAY_URL", DEFAULT_RELAY_URL);
}

/**
 * latchkey_dup_partner_url:
 *
 * Returns: the partner to enrol keys with; empty if none is set up
 */
char *
latchkey_dup_partner_url (GSettings *settings)
{
  return dup_server_url (settings, "partner-url", "LATCHKEY_PARTNER_URL", DEFAULT_PARTNER_URL);
}

const char *
latchkey_vertical_icon_name (LkVertical vertical)
{
  switch (vertical)
    {
    case LK_VERTICAL_CAR:
      return "latchkey-car-symbolic";
    case LK_VERTICAL_HOME:
      return "user-home-symbolic";
    case LK_VERTICAL_GENERIC:
    default:
      return "auth-smartcard-symbolic";
    }
}

const char *
latchkey_vertical_label (LkVertical vertical)
{
  switch (vertical)
    {
    case LK_VERTICAL_CAR:
      return _("Car key");
    case LK_VERTICAL_HOME:
      return _("Room or door key");
    case LK_VERTICAL_GENERIC:
    default:
      return _("Access pass");
    }
}

/* Entitlements are the partner's words; the known ones read better. */
const char *
latchkey_entitlement_label (const char *entitlement)
{
  if (g_strcmp0 (entitlement, "open") == 0)
    return _("Unlock and open");
  if (g_strcmp0 (entitlement, "start") == 0)
    return _("Start the engine");
  if (g_strcmp0 (entitlement, "drive") == 0)
    return _("Drive");
  return entitlement;
}

char *
latchkey_format_date (GDateTime *date)
{
  g_autoptr(GDateTime) local = NULL;

  if (date == NULL)
    return g_strdup (_("Never"));

  local = g_date_time_to_local (date);
  /* Translators: a date and time, see g_date_time_format(); for example “3 Dec 2026, 18:00” */
  return g_date_time_format (local, _("%-d %b %Y, %H:%M"));
}

/**
 * latchkey_format_expiry:
 * @when: (nullable): when an invitation or a shared key expires
 * @now: the time to count from (the tests pass one)
 *
 * Returns: when @when is, in words and in the user's locale: "expires in
 *   45 minutes", "expires in 5 hours", "expires in 2 days, Friday 18:00",
 *   later "expires on 3 Dec 2026, 18:00", or "expired"; %NULL @when:
 *   "never expires". Pages that show it refresh it every 30 s.
 */
char *
latchkey_format_expiry (GDateTime *when,
                        GDateTime *now)
{
  g_autoptr(GDateTime) local = NULL;
  GTimeSpan left;
  gint64 minutes, hours, days;

  if (when == NULL)
    return g_strdup (_("never expires"));

  left = g_date_time_difference (when, now);
  if (left <= 0)
    return g_strdup (_("expired"));

  /* Rounded up: "in 1 minute" until it has gone, never "in 0 minutes". */
  minutes = (left + G_TIME_SPAN_MINUTE - 1) / G_TIME_SPAN_MINUTE;
  hours = minutes / 60;
  days = hours / 24;
  if (minutes < 60)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "expires in %d minute", "expires in %d minutes",
                                         (gulong) minutes), (int) minutes);
  if (hours < 24)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "expires in %d hour", "expires in %d hours",
                                         (gulong) hours), (int) hours);

  local = g_date_time_to_local (when);
  if (days < 7)
    {
      /* Translators: a weekday and a time, see g_date_time_format(); for example “Friday 18:00” */
      g_autofree char *day = g_date_time_format (local, _("%A %H:%M"));

      /* Translators: %d is a number of days, %s a weekday and a time, “Friday 18:00” */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "expires in %d day, %s", "expires in %d days, %s",
                                           (gulong) days), (int) days, day);
    }

  {
    g_autofree char *date = latchkey_format_date (when);

    /* Translators: %s is a date */
    return g_strdup_printf (_("expires on %s"), date);
  }
}

char *
latchkey_format_validity (GDateTime *valid_from,
                          GDateTime *valid_until)
{
  g_autofree char *from = valid_from ? latchkey_format_date (valid_from) : NULL;
  g_autofree char *until = valid_until ? latchkey_format_date (valid_until) : NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  if (valid_until != NULL && g_date_time_compare (valid_until, now) < 0)
    /* Translators: %s is a date */
    return g_strdup_printf (_("Expired on %s"), until);
  if (valid_from != NULL && g_date_time_compare (valid_from, now) > 0)
    return until != NULL
           /* Translators: both are dates */
           ? g_strdup_printf (_("Valid from %s to %s"), from, until)
           /* Translators: %s is a date */
           : g_strdup_printf (_("Valid from %s"), from);
  if (until != NULL)
    /* Translators: %s is a date */
    return g_strdup_printf (_("Valid until %s"), until);
  return g_strdup (_("No end date"));
}

LatchkeyProblem
latchkey_classify_error (const GError *error)
{
  if (error == NULL)
    return LATCHKEY_PROBLEM_OTHER;

  if (error->domain == LK_LINK_ERROR)
    return LATCHKEY_PROBLEM_BAD_LINK;

  if (error->domain == LK_MAILBOX_ERROR)
    switch (error->code)
      {
      case LK_MAILBOX_ERROR_NOT_FOUND:
        return LATCHKEY_PROBLEM_EXPIRED;
      case LK_MAILBOX_ERROR_CLAIMED:
        return LATCHKEY_PROBLEM_CLAIMED;
      case LK_MAILBOX_ERROR_UNAVAILABLE:
        return LATCHKEY_PROBLEM_UNREACHABLE;
      default:
        return LATCHKEY_PROBLEM_OTHER;
      }

  if (error->domain == LK_PARTNER_ERROR)
    switch (error->code)
      {
      case LK_PARTNER_ERROR_WRONG_CODE:
        return LATCHKEY_PROBLEM_WRONG_CODE;
      case LK_PARTNER_ERROR_TOKEN_GONE:
        return LATCHKEY_PROBLEM_EXPIRED;
      case LK_PARTNER_ERROR_UNAVAILABLE:
        return LATCHKEY_PROBLEM_UNREACHABLE;
      default:
        return LATCHKEY_PROBLEM_OTHER;
      }

  if (error->domain == LK_STORE_ERROR)
    switch (error->code)
      {
      case LK_STORE_ERROR_LOCKED:
      case LK_STORE_ERROR_NO_KEYRING:
      case LK_STORE_ERROR_TIMEOUT:
        return LATCHKEY_PROBLEM_LOCKED;
      default:
        return LATCHKEY_PROBLEM_OTHER;
      }

  if (error->domain == G_RESOLVER_ERROR || error->domain == G_TLS_ERROR ||
      (error->domain == G_IO_ERROR && (error->code == G_IO_ERROR_CONNECTION_REFUSED ||
                                       error->code == G_IO_ERROR_HOST_UNREACHABLE ||
                                       error->code == G_IO_ERROR_NETWORK_UNREACHABLE ||
                                       error->code == G_IO_ERROR_TIMED_OUT)))
    return LATCHKEY_PROBLEM_UNREACHABLE;

  return LATCHKEY_PROBLEM_OTHER;
}

const char *
latchkey_problem_title (LatchkeyProblem problem)
{
  switch (problem)
    {
    case LATCHKEY_PROBLEM_EXPIRED:
      return _("Invitation Expired");
    case LATCHKEY_PROBLEM_CLAIMED:
      return _("Already Received Elsewhere");
    case LATCHKEY_PROBLEM_WRONG_CODE:
      return _("Wrong Activation Code");
    case LATCHKEY_PROBLEM_UNREACHABLE:
      return _("Cannot Reach the Server");
    case LATCHKEY_PROBLEM_LOCKED:
      return _("Keyring Locked");
    case LATCHKEY_PROBLEM_BAD_LINK:
      return _("Not a Latchkey Link");
    case LATCHKEY_PROBLEM_OTHER:
    default:
      return _("Something Went Wrong");
    }
}

/* What happened and what to do next: every error leads somewhere. */
char *
latchkey_problem_description (LatchkeyProblem  problem,
                              const GError    *error)
{
  switch (problem)
    {
    case LATCHKEY_PROBLEM_EXPIRED:
      return g_strdup (_("This invitation has expired or the sender withdrew it. "
                         "Ask the sender to share the key again."));
    case LATCHKEY_PROBLEM_CLAIMED:
      return g_strdup (_("Another device has already received this invitation, and an invitation "
                         "works only once. If that was not you, tell the sender: they can cancel it "
                         "and share the key again."));
    case LATCHKEY_PROBLEM_WRONG_CODE:
      return g_strdup (_("The activation code does not match. Check it with the sender and try again."));
    case LATCHKEY_PROBLEM_UNREACHABLE:
      return g_strdup (_("The server holding the invitation does not answer. Check your connection "
                         "and try again; nothing has been received yet."));
    case LATCHKEY_PROBLEM_LOCKED:
      return g_strdup (_("Keys are kept in your keyring, and it is locked. Unlock it, for example "
                         "with the Passwords and Keys app, then try again."));
    case LATCHKEY_PROBLEM_BAD_LINK:
      /* Translators: %s says what is wrong with the link */
      return g_strdup_printf (_("%s. Copy the whole link the sender gave you and try again."),
                              error ? error->message : _("The link is damaged"));
    case LATCHKEY_PROBLEM_OTHER:
    default:
      return g_strdup (error ? error->message : _("An unknown error happened."));
    }
}
