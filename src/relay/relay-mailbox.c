/* relay-mailbox.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "relay-mailbox"

#include "config.h"

#include <string.h>

#include "relay-mailbox.h"

G_DEFINE_BOXED_TYPE (RelayMailbox, relay_mailbox, relay_mailbox_ref, relay_mailbox_unref)

static void
relay_mailbox_clear (RelayMailbox *self)
{
  g_free (self->id);
  g_free (self->initiator_claim);
  g_free (self->recipient_claim);
  g_free (self->payload_type);
  g_free (self->payload_data);
  g_free (self->title);
  g_free (self->description);
  g_free (self->image_url);
  g_free (self->initiator_token);
  g_free (self->recipient_token);
  g_free (self->initiator_request_id);
  g_free (self->recipient_request_id);
  g_free (self->relinquished_claim);
  g_strfreev (self->more_recipients);
  g_strfreev (self->done_recipients);
}

RelayMailbox *
relay_mailbox_new (void)
{
  RelayMailbox *self = g_atomic_rc_box_new0 (RelayMailbox);

  self->access = RELAY_ACCESS_DEFAULT;
  self->max_recipients = 1;
  return self;
}

RelayMailbox *
relay_mailbox_ref (RelayMailbox *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
relay_mailbox_unref (RelayMailbox *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) relay_mailbox_clear);
}

gboolean
relay_mailbox_is_live (const RelayMailbox *self,
                       gint64              now)
{
  return !self->deleted && self->expires > now;
}

static gint64
length_of (const char *text)
{
  return text != NULL ? (gint64) strlen (text) : 0;
}

/**
 * relay_mailbox_get_size:
 *
 * Returns: what the mailbox makes the relay store: its payload, display
 *   information and notification tokens, in bytes
 */
gint64
relay_mailbox_get_size (const RelayMailbox *self)
{
  return length_of (self->payload_type) + length_of (self->payload_data) + length_of (self->title) +
         length_of (self->description) + length_of (self->image_url) + length_of (self->initiator_token) +
         length_of (self->recipient_token);
}

static gboolean
strv_has (GStrv       strv,
          const char *claim)
{
  return strv != NULL && claim != NULL && g_strv_contains ((const char * const *) strv, claim);
}

/**
 * relay_mailbox_find_recipient:
 *
 * Returns: whether @claim is one of the mailbox's recipients, and whether it
 *   acknowledged the offer already
 */
RelayRecipient
relay_mailbox_find_recipient (const RelayMailbox *self,
                              const char         *claim)
{
  if (claim == NULL)
    return RELAY_RECIPIENT_NONE;
  if (g_strcmp0 (claim, self->recipient_claim) != 0 && !strv_has (self->more_recipients, claim))
    return RELAY_RECIPIENT_NONE;
  return strv_has (self->done_recipients, claim) ? RELAY_RECIPIENT_DONE : RELAY_RECIPIENT_ACTIVE;
}

guint
relay_mailbox_count_bound (const RelayMailbox *self)
{
  return (self->recipient_claim != NULL ? 1 : 0) +
         (self->more_recipients != NULL ? g_strv_length (self->more_recipients) : 0);
}

guint
relay_mailbox_count_done (const RelayMailbox *self)
{
  return self->done_recipients != NULL ? g_strv_length (self->done_recipients) : 0;
}

/* Whether another device may still bind a claim. */
gboolean
relay_mailbox_is_full (const RelayMailbox *self)
{
  return relay_mailbox_count_bound (self) >= MAX (self->max_recipients, 1);
}

char *
relay_access_to_string (RelayAccess access)
{
  GString *text = g_string_new (NULL);

  if (access & RELAY_ACCESS_READ)
    g_string_append_c (text, 'R');
  if (access & RELAY_ACCESS_WRITE)
    g_string_append_c (text, 'W');
  if (access & RELAY_ACCESS_DELETE)
    g_string_append_c (text, 'D');

  return g_string_free (text, FALSE);
}

/**
 * relay_access_from_string:
 * @text: letters from "RWD", each at most once, in any order
 */
gboolean
relay_access_from_string (const char  *text,
                          RelayAccess *access)
{
  RelayAccess result = 0;

  if (text == NULL || *text == '\0')
    return FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      RelayAccess bit;

      switch (*p)
        {
        case 'R':
          bit = RELAY_ACCESS_READ;
          break;
        case 'W':
          bit = RELAY_ACCESS_WRITE;
          break;
        case 'D':
          bit = RELAY_ACCESS_DELETE;
          break;
        default:
          return FALSE;
        }

      if (result & bit)
        return FALSE;
      result |= bit;
    }

  *access = result;
  return TRUE;
}
