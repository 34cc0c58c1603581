/* test-qr-frames.c: reading what a laptop's webcam sees
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A fixed set of generated webcam frames (lk-test-frames.c: rotation,
 * perspective, blur, moiré, low contrast, glare, uneven light, noise, JPEG,
 * dark mode, several code sizes), each holding a real share link. The
 * decoder must read at least 90% of them, by both paths, each result
 * exactly the link; and zbar on the frame as it is must not read more than
 * 75%, so that the set stays as hard as what a webcam sees (zbarimg reads
 * about 60%: build-aux/bench-scan.sh prints both).
 */

#define G_LOG_DOMAIN "test-qr-frames"

#include "config.h"

#include <string.h>

#include "lk-qr-decoder.h"
#include "lk-qr-variants.h"
#include "lk-test-frames.h"

#define N_FRAMES 120
#define FIRST_SEED 1

static void
test_generated_set (void)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  guint plain = 0, images = 0, camera = 0, n_steps;

  lk_qr_variants_for_camera (&n_steps);

  for (guint i = 0; i < N_FRAMES; i++)
    {
      g_autoptr(LkTestFrame) frame = lk_test_frame_new (FIRST_SEED + i);
      g_autoptr(LkQrDecoder) still = lk_qr_decoder_new ();
      g_autofree char *description = lk_test_frame_describe (frame);
      g_autofree char *as_is = NULL;
      g_autofree char *all = NULL;
      g_autofree char *seen = NULL;

      as_is = lk_qr_decoder_decode_gray (decoder, frame->gray, LK_TEST_FRAME_WIDTH, LK_TEST_FRAME_HEIGHT,
                                         LK_TEST_FRAME_WIDTH, LK_QR_DECODE_NONE, NULL);
      /* The image path starts with the frame as it is: the same read. */
      if (as_is != NULL)
        all = g_strdup (as_is);
      else
        all = lk_qr_decoder_decode_gray (decoder, frame->gray, LK_TEST_FRAME_WIDTH, LK_TEST_FRAME_HEIGHT,
                                         LK_TEST_FRAME_WIDTH, LK_QR_DECODE_ALL_VARIANTS, NULL);
      /* The camera held still on the frame for one round. */
      for (guint k = 0; k < n_steps && seen == NULL; k++)
        seen = lk_qr_decoder_decode_frame (still, frame->gray, LK_TEST_FRAME_WIDTH, LK_TEST_FRAME_HEIGHT,
                                           LK_TEST_FRAME_WIDTH, NULL);

      /* Whatever is read is exactly the link: never a wrong read. */
      if (as_is != NULL)
        g_assert_cmpstr (as_is, ==, frame->link);
      if (all != NULL)
        g_assert_cmpstr (all, ==, frame->link);
      if (seen != NULL)
        g_assert_cmpstr (seen, ==, frame->link);
      plain += as_is != NULL;
      images += all != NULL;
      camera += seen != NULL;
      g_test_message ("%s: %s%s%s", description, as_is ? "as is, " : "", all ? "image path, " : "",
                      seen ? "camera path" : all ? "" : "not read");
    }

  g_test_message ("read: %u/%u as is, %u/%u image path, %u/%u camera path in one round",
                  plain, N_FRAMES, images, N_FRAMES, camera, N_FRAMES);
  g_assert_cmpuint (images * 100, >=, 90 * N_FRAMES);
  g_assert_cmpuint (camera * 100, >=, 90 * N_FRAMES);
  g_assert_cmpuint (plain * 100, <=, 75 * N_FRAMES);
}

/* One round of camera frames on @frame; then the hint. */
static LkQrHint
hint_after_round (const guint8 *gray,
                  gboolean     *read)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  guint n_steps;

  lk_qr_variants_for_camera (&n_steps);
  *read = FALSE;
  for (guint k = 0; k < n_steps; k++)
    {
      g_autofree char *text = lk_qr_decoder_decode_frame (decoder, gray, LK_TEST_FRAME_WIDTH, LK_TEST_FRAME_HEIGHT,
                                                          LK_TEST_FRAME_WIDTH, NULL);

      *read |= text != NULL;
      if (k + 1 < n_steps || text != NULL)
        g_assert_cmpint (lk_qr_decoder_get_hint (decoder), ==, LK_QR_HINT_NONE);
    }
  return lk_qr_decoder_get_hint (decoder);
}

/* What the viewfinder says: a code seen too small, one seen large enough
 * but not read, nothing seen; nothing either once a code is read. */
static void
test_hint (void)
{
  g_autoptr(LkTestFrame) far = lk_test_frame_new (18);      /* 2.5 px a module */
  g_autoptr(LkTestFrame) shaken = lk_test_frame_new (112);  /* 4 px, a 5 px shake */
  g_autoptr(LkTestFrame) clear = lk_test_frame_new (1);
  g_autofree guint8 *room = g_malloc ((gsize) LK_TEST_FRAME_WIDTH * LK_TEST_FRAME_HEIGHT);
  gboolean read;

  g_assert_cmpint (hint_after_round (far->gray, &read), ==, LK_QR_HINT_MOVE_CLOSER);
  g_assert_false (read);
  g_assert_cmpint (hint_after_round (shaken->gray, &read), ==, LK_QR_HINT_HOLD_STILL);
  g_assert_false (read);
  g_assert_cmpint (hint_after_round (clear->gray, &read), ==, LK_QR_HINT_NONE);
  g_assert_true (read);

  /* No code: the frame's top half, a room, repeated. */
  for (guint y = 0; y < LK_TEST_FRAME_HEIGHT; y++)
    memcpy (room + (gsize) y * LK_TEST_FRAME_WIDTH, clear->gray + (gsize) (y % 40) * LK_TEST_FRAME_WIDTH,
            LK_TEST_FRAME_WIDTH);
  g_assert_cmpint (hint_after_round (room, &read), ==, LK_QR_HINT_NONE);
  g_assert_false (read);
}

/* The same seed, the same frame: the set is fixed. */
static void
test_generator_fixed (void)
{
  g_autoptr(LkTestFrame) a = lk_test_frame_new (7);
  g_autoptr(LkTestFrame) b = lk_test_frame_new (7);
  g_autoptr(LkTestFrame) c = lk_test_frame_new (8);

  g_assert_cmpstr (a->link, ==, b->link);
  g_assert_cmpmem (a->gray, LK_TEST_FRAME_WIDTH * LK_TEST_FRAME_HEIGHT,
                   b->gray, LK_TEST_FRAME_WIDTH * LK_TEST_FRAME_HEIGHT);
  g_assert_cmpstr (a->link, !=, c->link);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/qr-frames/generator-fixed", test_generator_fixed);
  g_test_add_func ("/qr-frames/hint", test_hint);
  g_test_add_func ("/qr-frames/generated-set", test_generated_set);

  return g_test_run ();
}
