/* lk-test-png.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A decompression bomb: an 8-bit grey PNG of any size whose rows are all
 * alike compresses about a thousand to one, so a file of tens of kilobytes
 * holds tens of millions of pixels. The test never holds the pixels: rows
 * are compressed one at a time.
 */

#define G_LOG_DOMAIN "lk-test-png"

#include "config.h"

#include <string.h>

#include <zlib.h>

#include "lk-test-png.h"

static void
put_u32 (GByteArray *out,
         guint32     value)
{
  guint8 bytes[4] = { value >> 24, value >> 16, value >> 8, value };

  g_byte_array_append (out, bytes, 4);
}

static void
put_chunk (GByteArray   *out,
           const char   *type,
           const guint8 *data,
           gsize         len)
{
  guint32 crc = crc32 (0, (const Bytef *) type, 4);

  if (len > 0)
    crc = crc32 (crc, data, len);
  put_u32 (out, len);
  g_byte_array_append (out, (const guint8 *) type, 4);
  g_byte_array_append (out, data, len);
  put_u32 (out, crc);
}

/**
 * lk_test_png_gray:
 * @value: every pixel's grey level
 * @rows: how many rows to write; fewer than @height makes a truncated file
 *   that still claims @height
 *
 * Returns: the PNG file's bytes
 */
GBytes *
lk_test_png_gray (guint  width,
                  guint  height,
                  guint8 value,
                  guint  rows)
{
  static const guint8 signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  GByteArray *out = g_byte_array_new ();
  g_autoptr(GByteArray) idat = g_byte_array_new ();
  g_autofree guint8 *row = g_malloc (width + 1);
  guint8 header[13];
  guint8 chunk[16384];
  z_stream z = { 0 };

  g_byte_array_append (out, signature, sizeof signature);
  header[0] = width >> 24; header[1] = width >> 16; header[2] = width >> 8; header[3] = width;
  header[4] = height >> 24; header[5] = height >> 16; header[6] = height >> 8; header[7] = height;
  header[8] = 8;    /* bits per sample */
  header[9] = 0;    /* grey */
  header[10] = header[11] = header[12] = 0;
  put_chunk (out, "IHDR", header, sizeof header);

  row[0] = 0;       /* no filter */
  memset (row + 1, value, width);
  g_assert_cmpint (deflateInit (&z, 9), ==, Z_OK);
  for (guint y = 0; y <= rows; y++)
    {
      gboolean last = y == rows;

      z.next_in = last ? NULL : row;
      z.avail_in = last ? 0 : width + 1;
      do
        {
          z.next_out = chunk;
          z.avail_out = sizeof chunk;
          deflate (&z, last ? Z_FINISH : Z_NO_FLUSH);
          g_byte_array_append (idat, chunk, sizeof chunk - z.avail_out);
        }
      while (z.avail_out == 0);
    }
  deflateEnd (&z);
  put_chunk (out, "IDAT", idat->data, idat->len);
  put_chunk (out, "IEND", NULL, 0);

  return g_byte_array_free_to_bytes (out);
}
