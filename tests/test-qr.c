/* test-qr.c: reading QR codes with zbar
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-qr"

#include "config.h"

#include <qrencode.h>

#include "lk-qr-decoder.h"
#include "lk-test-png.h"

#define LINK "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=c#AAECAwQFBgcICQoLDA0ODw"

/* @text as a QR code, @scale pixels a module, at (@x, @y) in a @width ×
 * @height grey image filled with @background. */
static guint8 *
draw (const char *text,
      guint       scale,
      guint       x0,
      guint       y0,
      guint       width,
      guint       height,
      guint8      background)
{
  QRcode *qr = QRcode_encodeString8bit (text, 0, QR_ECLEVEL_M);
  guint8 *gray = g_malloc ((gsize) width * height);
  guint side = (qr->width + 8) * scale;

  memset (gray, background, (gsize) width * height);
  g_assert_cmpuint (x0 + side, <=, width);
  g_assert_cmpuint (y0 + side, <=, height);
  for (guint y = 0; y < side; y++)
    for (guint x = 0; x < side; x++)
      {
        int mx = (int) (x / scale) - 4, my = (int) (y / scale) - 4;
        gboolean dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
                        (qr->data[my * qr->width + mx] & 1);

        gray[(gsize) (y0 + y) * width + x0 + x] = dark ? 0 : 255;
      }
  QRcode_free (qr);
  return gray;
}

static void
test_round_trip (void)
{
  static const char *texts[] = { LINK, ("latchkey:" LINK), "ünïcödé ✓ 鍵" };
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree guint8 *gray = draw (texts[i], 4, 100, 60, 640, 480, 128);
      g_autoptr(GError) error = NULL;
      g_autofree char *text = lk_qr_decoder_decode_gray (decoder, gray, 640, 480, 640, LK_QR_DECODE_NONE, &error);

      /* Byte for byte: binary mode, no character set guessing. */
      g_assert_no_error (error);
      g_assert_cmpstr (text, ==, texts[i]);
    }
}

static void
test_stride_and_noise (void)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  g_autofree guint8 *gray = draw (LINK, 3, 500, 200, 1280, 720, 200);
  g_autofree guint8 *padded = g_malloc0 (1300 * 720);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GRand *rand = g_rand_new_with_seed (7);

  /* Noise everywhere but the code and its quiet zone. */
  for (guint y = 0; y < 720; y++)
    for (guint x = 0; x < 1280; x++)
      if (!(x >= 500 && x < 500 + 49 * 3 && y >= 200 && y < 200 + 49 * 3))
        gray[y * 1280 + x] = (guint8) g_rand_int_range (rand, 0, 256);
  for (guint y = 0; y < 720; y++)
    memcpy (padded + y * 1300, gray + y * 1280, 1280);
  g_rand_free (rand);

  text = lk_qr_decoder_decode_gray (decoder, padded, 1280, 720, 1300, LK_QR_DECODE_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, LINK);
}

static void
test_inverted (void)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  g_autofree guint8 *gray = draw (LINK, 4, 20, 20, 320, 320, 255);
  g_autofree char *plain = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 320 * 320; i++)
    gray[i] = 255 - gray[i];

  plain = lk_qr_decoder_decode_gray (decoder, gray, 320, 320, 320, LK_QR_DECODE_NONE, &error);
  g_assert_null (plain);
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_NOT_FOUND);
  g_clear_error (&error);

  text = lk_qr_decoder_decode_gray (decoder, gray, 320, 320, 320, LK_QR_DECODE_ALL_VARIANTS, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, LINK);
  /* The caller's frame is left as it was. */
  g_assert_cmpuint (gray[0], ==, 0);
}

static void
test_rgba (void)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  g_autofree guint8 *gray = draw (LINK, 4, 10, 10, 300, 300, 255);
  g_autofree guint8 *rgba = g_malloc (300 * 300 * 4);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  /* Dark modules opaque red-ish black, light ones fully transparent. */
  for (guint i = 0; i < 300 * 300; i++)
    {
      rgba[i * 4 + 0] = gray[i] ? 0 : 30;
      rgba[i * 4 + 1] = 0;
      rgba[i * 4 + 2] = 0;
      rgba[i * 4 + 3] = gray[i] ? 0 : 255;
    }

  text = lk_qr_decoder_decode_rgba (decoder, rgba, 300, 300, 300 * 4, LK_QR_DECODE_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, LINK);
}

static void
test_rejects (void)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  guint8 pixel = 255;
  g_autofree guint8 *noise = g_malloc (200 * 200);
  g_autoptr(GError) error = NULL;
  char *text;

  text = lk_qr_decoder_decode_gray (decoder, &pixel, 0, 1, 1, LK_QR_DECODE_NONE, &error);
  g_assert_null (text);
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID);
  g_clear_error (&error);

  text = lk_qr_decoder_decode_gray (decoder, &pixel, LK_QR_MAX_DIMENSION + 1, 1, LK_QR_MAX_DIMENSION + 1,
                                    LK_QR_DECODE_NONE, &error);
  g_assert_null (text);
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* A stride shorter than a row. */
  text = lk_qr_decoder_decode_rgba (decoder, &pixel, 10, 1, 39, LK_QR_DECODE_NONE, &error);
  g_assert_null (text);
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID);
  g_clear_error (&error);

  for (guint i = 0; i < 200 * 200; i++)
    noise[i] = (guint8) g_test_rand_int_range (0, 256);
  text = lk_qr_decoder_decode_gray (decoder, noise, 200, 200, 200, LK_QR_DECODE_ALL_VARIANTS, &error);
  g_assert_null (text);
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_NOT_FOUND);
}

static guint64
status_kib (const char *field)
{
  g_autofree char *status = NULL;
  g_autofree char *needle = g_strdup_printf ("\n%s:", field);
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, needle);
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen (needle), NULL, 10);
}

static char *
decode_bytes (GBytes    *bytes,
              gsize      max_bytes,
              GError   **error)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (bytes);

  return lk_qr_decoder_decode_image (decoder, stream, max_bytes, LK_QR_DECODE_ALL_VARIANTS, NULL, error);
}

/* An image is bounded by its pixels, measured before they are decoded, and
 * not only by its bytes: a small file can hold a huge image. */
static void
test_image_bounds (void)
{
  static const struct { guint width, height; } bombs[] = {
    { 8000, 6000 },       /* 48 million pixels in ~50 KB */
    { 9000, 100 },        /* a side too long */
    { 100000, 100000 },   /* the header alone claims 10 billion */
  };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bombs); i++)
    {
      guint rows = bombs[i].height > 10000 ? 1 : bombs[i].height;
      g_autoptr(GBytes) png = lk_test_png_gray (bombs[i].width, bombs[i].height, 255, rows);
      g_autofree char *text = NULL;
      guint64 start;

      g_assert_no_errno (g_file_set_contents_full ("/proc/self/clear_refs", "5", 1, G_FILE_SET_CONTENTS_NONE, 0,
                                                   NULL) ? 0 : -1);
      start = status_kib ("VmRSS");
      text = decode_bytes (png, 64 * 1024 * 1024, &error);
      g_test_message ("%u × %u in %zu bytes: peak grew %" G_GUINT64_FORMAT " KiB: %s", bombs[i].width,
                      bombs[i].height, g_bytes_get_size (png), status_kib ("VmHWM") - start,
                      error ? error->message : "decoded");
      g_assert_null (text);
      g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE);
      g_assert_nonnull (strstr (error->message, "pixels"));
      g_assert_cmpuint (status_kib ("VmHWM") - start, <, 16 * 1024);
      g_clear_error (&error);
    }

  /* More bytes than allowed: refused without reading on. */
  {
    g_autoptr(GBytes) png = lk_test_png_gray (2000, 2000, 255, 2000);
    g_autofree char *text = decode_bytes (png, 100, &error);

    g_assert_null (text);
    g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }

  /* Not an image. */
  {
    g_autoptr(GBytes) junk = g_bytes_new_static ("not an image at all", 19);
    g_autofree char *text = decode_bytes (junk, 1024, &error);

    g_assert_null (text);
    g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* Within the bounds, a plain image is read (and has no code). */
  {
    g_autoptr(GBytes) png = lk_test_png_gray (1920, 1080, 255, 1080);
    g_autofree char *text = decode_bytes (png, 64 * 1024 * 1024, &error);

    g_assert_null (text);
    g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_NOT_FOUND);
  }
}

/* The bound image loaders check before decoding: a side, and the pixels. */
static void
test_size_bound (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (lk_qr_check_size (1280, 720, NULL));
  g_assert_true (lk_qr_check_size (7680, 4320, NULL));           /* an 8K screenshot */
  g_assert_true (lk_qr_check_size (LK_QR_MAX_DIMENSION, LK_QR_MAX_PIXELS / LK_QR_MAX_DIMENSION, NULL));
  g_assert_false (lk_qr_check_size (LK_QR_MAX_DIMENSION, LK_QR_MAX_PIXELS / LK_QR_MAX_DIMENSION + 1, &error));
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (lk_qr_check_size (LK_QR_MAX_DIMENSION + 1, 1, &error));
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (lk_qr_check_size (G_MAXUINT, G_MAXUINT, &error));
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (lk_qr_check_size (0, 10, &error));
  g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_INVALID);
}

/* The camera path: a light-on-dark code, which the frame as it is does not
 * give, is read within one round of frames, and the round goes on after. */
static void
test_camera_round (void)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  g_autofree guint8 *gray = draw (LINK, 4, 300, 200, 1280, 720, 255);
  guint read = 0, frames = 0;

  for (gsize i = 0; i < 1280 * 720; i++)
    gray[i] = 255 - gray[i];

  for (frames = 0; frames < 2 * 15; frames++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = lk_qr_decoder_decode_frame (decoder, gray, 1280, 720, 1280, &error);

      if (text == NULL)
        {
          g_assert_error (error, LK_QR_ERROR, LK_QR_ERROR_NOT_FOUND);
          continue;
        }
      g_assert_cmpstr (text, ==, LINK);
      read++;
    }
  /* Read in the first frame (its second variant is inverted), and again in
   * the next round: the decoder went round, not stuck. */
  g_assert_cmpuint (read, >=, 2);
  g_assert_cmpuint (gray[0], ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/qr/round-trip", test_round_trip);
  g_test_add_func ("/qr/stride-and-noise", test_stride_and_noise);
  g_test_add_func ("/qr/inverted", test_inverted);
  g_test_add_func ("/qr/rgba", test_rgba);
  g_test_add_func ("/qr/rejects", test_rejects);
  g_test_add_func ("/qr/image-bounds", test_image_bounds);
  g_test_add_func ("/qr/size-bound", test_size_bound);
  g_test_add_func ("/qr/camera-round", test_camera_round);

  return g_test_run ();
}
