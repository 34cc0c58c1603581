/* relay-payload.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "relay-payload"

#include "config.h"

#include <string.h>

#include "relay-payload.h"

/* The standard alphabet. A table, as this runs over every byte of every
 * payload. */
static const guint8 alphabet[256] = {
  ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
  ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
  ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
  ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
  ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
  ['9'] = 1, ['+'] = 1, ['/'] = 1,
};

/**
 * relay_payload_is_base64:
 *
 * What the relay accepts as a payload's text: the standard alphabet, then
 * up to two padding characters, and nothing after them. Not necessarily
 * canonical (relay_payload_to_bytes() says which are).
 */
gboolean
relay_payload_is_base64 (const char *text)
{
  const guchar *p = (const guchar *) text;
  gsize padding = 0;

  /* Eight at a time while all are base64; && stops at the first that is
   * not (the NUL included), so nothing past the string is read. */
  while (alphabet[p[0]] && alphabet[p[1]] && alphabet[p[2]] && alphabet[p[3]] &&
         alphabet[p[4]] && alphabet[p[5]] && alphabet[p[6]] && alphabet[p[7]])
    p += 8;
  while (alphabet[*p])
    p++;
  while (*p == '=' && padding < 2)
    {
      p++;
      padding++;
    }

  return *p == '\0' && p != (const guchar *) text;
}

/**
 * relay_payload_to_bytes:
 * @text: (nullable): a payload's base64 text
 * @n_bytes: (out): their number
 *
 * Returns: (transfer full) (nullable): the bytes @text encodes, if
 *   relay_payload_to_text() gives @text back from them; else %NULL
 */
guint8 *
relay_payload_to_bytes (const char *text,
                        gsize      *n_bytes)
{
  gsize len, pad = 0, last;
  guint8 *bytes;
  char tail[8];
  gint state = 0, save = 0;
  gsize out;

  *n_bytes = 0;
  if (text == NULL)
    return NULL;
  len = strlen (text);
  /* Whole quanta of four; GLib's decoder skips what is not base64, so the
   * text is checked before it decodes. */
  if (len == 0 || len % 4 != 0 || len > G_MAXINT || !relay_payload_is_base64 (text))
    return NULL;
  while (pad < 2 && text[len - 1 - pad] == '=')
    pad++;

  bytes = g_base64_decode (text, n_bytes);
  if (*n_bytes != len / 4 * 3 - pad || *n_bytes == 0)
    {
      g_free (bytes);
      *n_bytes = 0;
      return NULL;
    }

  /* The last quantum must not hide bits that encoding would drop: "AB=="
   * decodes to what "AA==" does. */
  last = *n_bytes % 3 == 0 ? 3 : *n_bytes % 3;
  out = g_base64_encode_step (bytes + *n_bytes - last, last, FALSE, tail, &state, &save);
  out += g_base64_encode_close (FALSE, tail + out, &state, &save);
  if (out != 4 || memcmp (tail, text + len - 4, 4) != 0)
    {
      g_free (bytes);
      *n_bytes = 0;
      return NULL;
    }
  return bytes;
}

/* The text of bytes kept by relay_payload_to_bytes(). */
char *
relay_payload_to_text (const guint8 *bytes,
                       gsize         n_bytes)
{
  return g_base64_encode (bytes, n_bytes);
}
