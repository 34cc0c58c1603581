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
}

RelayMailbox *
relay_mailbox_new (void)
{
  RelayMailbox *self = g_atomic_rc_box_new0 (RelayMailbox);

  self->access = RELAY_ACCESS_DEFAULT;
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
