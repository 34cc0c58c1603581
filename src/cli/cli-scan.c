/* cli-scan.c: a share link's QR code in an image file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An image is hostile input: lk_qr_decoder_decode_image() bounds its bytes,
 * takes only PNG and JPEG (by their signature), and measures its pixels
 * before it decodes them, as the app does for opened and pasted images.
 */

#define G_LOG_DOMAIN "latchkey-cli"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "cli-private.h"
#include "lk-qr-decoder.h"

/* A photo or screenshot of a code; anything larger is not one. */
#define MAX_IMAGE_BYTES (64 * 1024 * 1024)

int
cli_scan (CliContext  *cli,
          int          argc,
          char       **argv)
{
  g_autoptr(GInputStream) file_stream = NULL;
  g_autoptr(LkQrDecoder) decoder = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(LkSecureString) text = NULL;
  g_autoptr(GError) error = NULL;
  GInputStream *stream = cli->input;

  if (!cli_parse_options (cli, _("FILE|-"),
                          _("Reads the QR code of a share link in a PNG or JPEG image (- for standard input)\n"
                            "and prints the link. Exit status 3 if the image holds no Latchkey code or\n"
                            "cannot be read."),
                          NULL, &argc, &argv, 1, 1))
    return CLI_EXIT_USAGE;

  if (strcmp (argv[1], "-") != 0)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (argv[1]);

      file_stream = G_INPUT_STREAM (g_file_read (file, NULL, &error));
      if (file_stream == NULL)
        {
          cli_print (cli->errors, "latchkey-cli: %s\n", error->message);
          return CLI_EXIT_FAILURE;
        }
      stream = file_stream;
    }

  decoder = lk_qr_decoder_new ();
  text = lk_qr_decoder_decode_image (decoder, stream, MAX_IMAGE_BYTES, LK_QR_DECODE_ALL_VARIANTS, NULL, &error);
  if (text == NULL)
    {
      cli_print (cli->errors, "latchkey-cli: %s\n", error->message);
      return CLI_EXIT_BAD_INPUT;
    }

  link = lk_share_link_parse (text, &error);
  /* A link whose secret the sender sent apart is still one: `receive` takes
   * the secret on the line after it. */
  if (g_error_matches (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_MISSING))
    {
      cli_print (cli->errors, _("latchkey-cli: the link has no secret; give the one the sender sent you on the "
                                "line after the link\n"));
      cli_print (cli->output, "%s\n", text);
      return CLI_EXIT_OK;
    }
  if (link == NULL)
    {
      cli_print (cli->errors, _("latchkey-cli: the QR code holds something other than a Latchkey link (%s)\n"),
                 error->message);
      return CLI_EXIT_BAD_INPUT;
    }

  cli_print (cli->output, "%s\n", text);
  return CLI_EXIT_OK;
}
