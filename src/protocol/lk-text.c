/* lk-text.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A name the other side sends (the receiver's, PROTOCOL.md §7.1) is shown
 * to a person deciding whether to sign a key: it must be text and nothing
 * else, whatever bytes arrive.
 */

#define G_LOG_DOMAIN "lk-text"

#include "config.h"

#include <string.h>

#include "lk-text.h"

/**
 * lk_text_clean_name:
 * @name: (nullable): a person's name from the user or from the other side
 *
 * Returns: (nullable): @name as text to show: valid UTF-8, control and
 *   format characters (bidirectional overrides among them) blanked, spaces
 *   trimmed, at most %LK_TEXT_MAX_NAME characters; %NULL if nothing is left
 */
char *
lk_text_clean_name (const char *name)
{
  g_autofree char *valid = NULL;
  GString *clean;
  guint count = 0;

  if (name == NULL)
    return NULL;

  /* Only the start can be kept: never more than this is looked at. */
  valid = g_utf8_make_valid (name, (gssize) strnlen (name, LK_TEXT_MAX_NAME * 4));
  clean = g_string_new (NULL);
  for (const char *p = valid; *p != '\0' && count < LK_TEXT_MAX_NAME; p = g_utf8_next_char (p), count++)
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT ||
          g_unichar_type (c) == G_UNICODE_LINE_SEPARATOR || g_unichar_type (c) == G_UNICODE_PARAGRAPH_SEPARATOR)
        c = ' ';
      g_string_append_unichar (clean, c);
    }
  g_strstrip (clean->str);
  if (clean->str[0] == '\0')
    {
      g_string_free (clean, TRUE);
      return NULL;
    }
  return g_string_free (clean, FALSE);
}
