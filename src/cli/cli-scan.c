/* cli-scan.c: a share link's QR code in an image file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An image is hostile input: its bytes are bounded as they are read, only
 * PNG and JPEG are decoded (by their signature, not the name), and its
 * size in pixels is checked against the decoder's bounds as soon as the
 * loader knows it, before any pixel is decoded: a small file can describe
 * a huge image.
 */

#define G_LOG_DOMAIN "latchkey-cli"

#include "config.h"

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n.h>

#include "cli-private.h"
#include "lk-qr-decoder.h"

/* A photo or screenshot of a code; anything larger is not one. */
#define MAX_IMAGE_BYTES (64 * 1024 * 1024)

static GBytes *
read_bounded (GInputStream  *stream,
              GError       **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buffer[64 * 1024];

  for (;;)
    {
      gssize n = g_input_stream_read (stream, buffer, sizeof buffer, NULL, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      if (data->len + (gsize) n > MAX_IMAGE_BYTES)
        {
          g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE,
                       _("The file is larger than %u MB: too large to be a picture of a QR code"),
                       MAX_IMAGE_BYTES / (1024 * 1024));
          return NULL;
        }
      g_byte_array_append (data, buffer, (guint) n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

typedef struct
{
  GError *error;
} SizeCheck;

/* Before the loader allocates or decodes anything: a size of 0 × 0 makes
 * the PNG and JPEG loaders stop with an error (as gdk_pixbuf_get_file_info()
 * uses it), which ours then replaces. */
static void
on_size_prepared (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  SizeCheck       *check)
{
  if (check->error == NULL && !lk_qr_check_size ((guint) MAX (width, 0), (guint) MAX (height, 0), &check->error))
    gdk_pixbuf_loader_set_size (loader, 0, 0);
}

static GdkPixbuf *
load_image (GBytes  *bytes,
            GError **error)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff };
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) local_error = NULL;
  SizeCheck check = { NULL };
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  const char *type = NULL;
  gboolean ok;

  if (size >= sizeof png && memcmp (data, png, sizeof png) == 0)
    type = "png";
  else if (size >= sizeof jpeg && memcmp (data, jpeg, sizeof jpeg) == 0)
    type = "jpeg";
  if (type == NULL)
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("This is not a PNG or JPEG image"));
      return NULL;
    }

  loader = gdk_pixbuf_loader_new_with_type (type, &local_error);
  if (loader == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &check);

  ok = gdk_pixbuf_loader_write_bytes (loader, bytes, &local_error);
  ok = gdk_pixbuf_loader_close (loader, ok ? &local_error : NULL) && ok;
  if (check.error != NULL)
    {
      g_propagate_error (error, check.error);
      return NULL;
    }
  if (!ok || gdk_pixbuf_loader_get_pixbuf (loader) == NULL)
    {
      g_set_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID, _("The image cannot be read: %s"),
                   local_error != NULL ? local_error->message : _("it is incomplete"));
      return NULL;
    }
  return g_object_ref (gdk_pixbuf_loader_get_pixbuf (loader));
}

/* Luma by BT.601 weights; transparent counts as white. */
static guint8 *
to_gray (GdkPixbuf *pixbuf)
{
  int width = gdk_pixbuf_get_width (pixbuf), height = gdk_pixbuf_get_height (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf), rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  gboolean alpha = gdk_pixbuf_get_has_alpha (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  guint8 *gray = g_malloc ((gsize) width * height);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const guint8 *p = pixels + (gsize) y * rowstride + (gsize) x * channels;
        guint luma = channels >= 3 ? (299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u : p[0];
        guint a = alpha ? p[channels - 1] : 255u;

        gray[(gsize) y * width + x] = (guint8) ((luma * a + 255u * (255u - a)) / 255u);
      }
  return gray;
}

int
cli_scan (CliContext  *cli,
          int          argc,
          char       **argv)
{
  g_autoptr(GInputStream) file_stream = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(LkQrDecoder) decoder = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(LkSecureString) text = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *gray = NULL;

  if (!cli_parse_options (cli, _("FILE|-"),
                          _("Reads the QR code of a share link in a PNG or JPEG image (- for standard input)\n"
                            "and prints the link. Exit status 3 if the image holds no Latchkey code or\n"
                            "cannot be read."),
                          NULL, &argc, &argv, 1, 1))
    return CLI_EXIT_USAGE;

  if (strcmp (argv[1], "-") == 0)
    bytes = read_bounded (cli->input, &error);
  else
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (argv[1]);

      file_stream = G_INPUT_STREAM (g_file_read (file, NULL, &error));
      if (file_stream != NULL)
        bytes = read_bounded (file_stream, &error);
    }
  if (bytes == NULL)
    {
      cli_print (cli->errors, "latchkey-cli: %s\n", error->message);
      return error->domain == LK_QR_ERROR ? CLI_EXIT_BAD_INPUT : CLI_EXIT_FAILURE;
    }

  pixbuf = load_image (bytes, &error);
  if (pixbuf == NULL)
    {
      cli_print (cli->errors, "latchkey-cli: %s\n", error->message);
      return CLI_EXIT_BAD_INPUT;
    }

  gray = to_gray (pixbuf);
  decoder = lk_qr_decoder_new ();
  text = lk_qr_decoder_decode_gray (decoder, gray, (guint) gdk_pixbuf_get_width (pixbuf),
                                    (guint) gdk_pixbuf_get_height (pixbuf), (gsize) gdk_pixbuf_get_width (pixbuf),
                                    LK_QR_DECODE_ALL_VARIANTS, &error);
  if (text == NULL)
    {
      cli_print (cli->errors, "latchkey-cli: %s\n", error->message);
      return CLI_EXIT_BAD_INPUT;
    }

  link = lk_share_link_parse (text, &error);
  if (link == NULL)
    {
      cli_print (cli->errors, _("latchkey-cli: the QR code holds something other than a Latchkey link (%s)\n"),
                 error->message);
      return CLI_EXIT_BAD_INPUT;
    }

  cli_print (cli->output, "%s\n", text);
  return CLI_EXIT_OK;
}
