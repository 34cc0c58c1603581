/* lk-qr-variants.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Plain image operations on 8-bit luma, each from one buffer into another.
 * zbar finds a QR code's finder patterns along lines, from the edges it
 * sees; what defeats it in a camera's frame is what blurs, drowns or
 * breaks those edges (blur, noise, moiré, low or uneven contrast, light on
 * dark). Each step below undoes one of those, cheaply: the decoder tries
 * them in turn.
 */

#define G_LOG_DOMAIN "lk-qr-decoder"

#include "config.h"

#include <string.h>

#include "lk-qr-variants.h"

static const char *const step_names[LK_QR_N_STEPS] = {
  [LK_QR_STEP_END] = "",
  [LK_QR_STEP_INVERT] = "invert",
  [LK_QR_STEP_STRETCH] = "stretch",
  [LK_QR_STEP_EQUALISE] = "equalise",
  [LK_QR_STEP_MEDIAN] = "median",
  [LK_QR_STEP_SMOOTH] = "smooth",
  [LK_QR_STEP_HALF] = "half",
  [LK_QR_STEP_DOUBLE] = "double",
  [LK_QR_STEP_SHARPEN] = "sharpen",
  [LK_QR_STEP_THRESHOLD] = "threshold",
};

void
lk_qr_scratch_clear (LkQrScratch *scratch)
{
  for (guint i = 0; i < G_N_ELEMENTS (scratch->buffers); i++)
    {
      g_clear_pointer (&scratch->buffers[i], g_free);
      scratch->sizes[i] = 0;
    }
  g_clear_pointer (&scratch->sums, g_free);
  scratch->n_sums = 0;
}

static guint8 *
scratch_buffer (LkQrScratch *scratch,
                guint        index,
                gsize        size)
{
  if (scratch->sizes[index] < size)
    {
      g_free (scratch->buffers[index]);
      scratch->buffers[index] = g_malloc (size);
      scratch->sizes[index] = size;
    }
  return scratch->buffers[index];
}

static guint32 *
scratch_sums (LkQrScratch *scratch,
              gsize        n)
{
  if (scratch->n_sums < n)
    {
      g_free (scratch->sums);
      scratch->sums = g_new (guint32, n);
      scratch->n_sums = n;
    }
  return scratch->sums;
}

static void
apply_table (const guint8 *src,
             guint8       *dst,
             gsize         n,
             const guint8  table[256])
{
  for (gsize i = 0; i < n; i++)
    dst[i] = table[src[i]];
}

static void
histogram (const guint8 *src,
           gsize         n,
           guint64       counts[256])
{
  memset (counts, 0, 256 * sizeof counts[0]);
  for (gsize i = 0; i < n; i++)
    counts[src[i]]++;
}

static void
invert (const guint8 *src,
        guint8       *dst,
        gsize         n)
{
  for (gsize i = 0; i < n; i++)
    dst[i] = 255 - src[i];
}

/* Levels: a code shown dim, or lit from behind by glare, spans all of 0-255. */
static void
stretch (const guint8 *src,
         guint8       *dst,
         gsize         n)
{
  guint64 counts[256], seen = 0;
  guint8 table[256];
  int low = 0, high = 255;

  histogram (src, n, counts);
  for (low = 0; low < 255 && (seen += counts[low]) < n / 100; low++)
    ;
  seen = 0;
  for (high = 255; high > 0 && (seen += counts[high]) < n / 100; high--)
    ;
  if (high - low < 8)
    {
      memcpy (dst, src, n);
      return;
    }
  for (int v = 0; v < 256; v++)
    table[v] = (guint8) CLAMP ((v - low) * 255 / (high - low), 0, 255);
  apply_table (src, dst, n, table);
}

static void
equalise (const guint8 *src,
          guint8       *dst,
          gsize         n)
{
  guint64 counts[256], seen = 0;
  guint8 table[256];

  histogram (src, n, counts);
  for (int v = 0; v < 256; v++)
    {
      seen += counts[v];
      table[v] = (guint8) (seen * 255 / n);
    }
  apply_table (src, dst, n, table);
}

#define SORT2(a, b) G_STMT_START { if ((a) > (b)) { guint8 t_ = (a); (a) = (b); (b) = t_; } } G_STMT_END

/* The median of nine, by Paeth's 19-comparison network. */
static inline guint8
median9 (guint8 p[9])
{
  SORT2 (p[1], p[2]); SORT2 (p[4], p[5]); SORT2 (p[7], p[8]);
  SORT2 (p[0], p[1]); SORT2 (p[3], p[4]); SORT2 (p[6], p[7]);
  SORT2 (p[1], p[2]); SORT2 (p[4], p[5]); SORT2 (p[7], p[8]);
  SORT2 (p[0], p[3]); SORT2 (p[5], p[8]); SORT2 (p[4], p[7]);
  SORT2 (p[3], p[6]); SORT2 (p[1], p[4]); SORT2 (p[2], p[5]);
  SORT2 (p[4], p[7]); SORT2 (p[4], p[2]); SORT2 (p[6], p[4]);
  SORT2 (p[4], p[2]);
  return p[4];
}

/* Edges are copied: a code touching the frame's edge is not read anyway. */
static void
median (const guint8 *src,
        guint8       *dst,
        guint         width,
        guint         height)
{
  memcpy (dst, src, width);
  memcpy (dst + (gsize) (height - 1) * width, src + (gsize) (height - 1) * width, width);
  for (guint y = 1; y + 1 < height; y++)
    {
      const guint8 *a = src + (gsize) (y - 1) * width, *b = a + width, *c = b + width;
      guint8 *out = dst + (gsize) y * width;

      out[0] = b[0];
      out[width - 1] = b[width - 1];
      for (guint x = 1; x + 1 < width; x++)
        {
          guint8 p[9] = { a[x - 1], a[x], a[x + 1], b[x - 1], b[x], b[x + 1], c[x - 1], c[x], c[x + 1] };

          out[x] = median9 (p);
        }
    }
}

static void
smooth (const guint8 *src,
        guint8       *dst,
        guint         width,
        guint         height)
{
  for (guint y = 0; y < height; y++)
    {
      const guint8 *b = src + (gsize) y * width;
      const guint8 *a = y > 0 ? b - width : b, *c = y + 1 < height ? b + width : b;
      guint8 *out = dst + (gsize) y * width;

      for (guint x = 0; x < width; x++)
        {
          guint l = x > 0 ? x - 1 : x, r = x + 1 < width ? x + 1 : x;
          guint sum = a[l] + 2 * a[x] + a[r] + 2 * (b[l] + 2 * b[x] + b[r]) + c[l] + 2 * c[x] + c[r];

          out[x] = (guint8) ((sum + 8) / 16);
        }
    }
}

static void
half (const guint8 *src,
      guint8       *dst,
      guint         width,
      guint         height)
{
  guint w = width / 2, h = height / 2;

  for (guint y = 0; y < h; y++)
    {
      const guint8 *a = src + (gsize) 2 * y * width, *b = a + width;
      guint8 *out = dst + (gsize) y * w;

      for (guint x = 0; x < w; x++)
        out[x] = (guint8) ((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) / 4);
    }
}

/* Bilinear, each output pixel's centre mapped back: weights 3/4 and 1/4. */
static void
twice (const guint8 *src,
       guint8       *dst,
       guint         width,
       guint         height)
{
  guint w = width * 2;

  for (guint y = 0; y < height * 2; y++)
    {
      const guint8 *near = src + (gsize) (y / 2) * width;
      const guint8 *far = src + (gsize) ((y & 1) ? MIN (y / 2 + 1, height - 1) : (y / 2 > 0 ? y / 2 - 1 : 0)) * width;
      guint8 *out = dst + (gsize) y * w;

      for (guint x = 0; x < w; x++)
        {
          guint n = x / 2, f = (x & 1) ? MIN (n + 1, width - 1) : (n > 0 ? n - 1 : 0);
          guint v = 9 * near[n] + 3 * near[f] + 3 * far[n] + far[f];

          out[x] = (guint8) ((v + 8) / 16);
        }
    }
}

/* Each pixel's (2r + 1)² neighbourhood, clipped to the image: its sum and
 * count, a row at a time from running column sums, so that the cost does
 * not grow with r. @visit gets each row's sums. */
typedef void (*RowFunc) (const guint8 *src_row, guint8 *dst_row, guint width,
                         const guint32 *sums, const guint32 *counts, guint rows);

static void
box_rows (const guint8 *src,
          guint8       *dst,
          guint         width,
          guint         height,
          guint         r,
          LkQrScratch  *scratch,
          RowFunc       visit)
{
  guint32 *columns = scratch_sums (scratch, (gsize) width * 3);
  guint32 *sums = columns + width, *counts = sums + width;
  guint top = 0, bottom = 0;     /* rows [top, bottom) are in columns */

  memset (columns, 0, width * sizeof (guint32));
  for (guint y = 0; y < height; y++)
    {
      guint want_top = y > r ? y - r : 0, want_bottom = MIN (y + r + 1, height);
      guint32 sum = 0;
      guint left = 0, right = 0;

      for (; bottom < want_bottom; bottom++)
        for (guint x = 0; x < width; x++)
          columns[x] += src[(gsize) bottom * width + x];
      for (; top < want_top; top++)
        for (guint x = 0; x < width; x++)
          columns[x] -= src[(gsize) top * width + x];

      for (guint x = 0; x < width; x++)
        {
          guint want_left = x > r ? x - r : 0, want_right = MIN (x + r + 1, width);

          for (; right < want_right; right++)
            sum += columns[right];
          for (; left < want_left; left++)
            sum -= columns[left];
          sums[x] = sum;
          counts[x] = right - left;
        }
      visit (src + (gsize) y * width, dst + (gsize) y * width, width, sums, counts, bottom - top);
    }
}

static void
sharpen_row (const guint8  *src,
             guint8        *dst,
             guint          width,
             const guint32 *sums,
             const guint32 *counts,
             guint          rows)
{
  for (guint x = 0; x < width; x++)
    {
      int mean = (int) (sums[x] / (counts[x] * rows));

      dst[x] = (guint8) CLAMP (2 * src[x] - mean, 0, 255);
    }
}

/* Darker than the neighbourhood's mean by more than noise: black. The
 * margin keeps flat light areas, the quiet zone first, white. */
#define THRESHOLD_MARGIN 6

static void
threshold_row (const guint8  *src,
               guint8        *dst,
               guint          width,
               const guint32 *sums,
               const guint32 *counts,
               guint          rows)
{
  for (guint x = 0; x < width; x++)
    {
      guint32 n = counts[x] * rows;

      dst[x] = (guint32) src[x] * n + THRESHOLD_MARGIN * n < sums[x] ? 0 : 255;
    }
}

/* The neighbourhood is a few modules across at any code size a camera
 * can read: a fortieth of the shorter side (18 pixels at 720p). */
static guint
threshold_radius (guint width,
                  guint height)
{
  return CLAMP (MIN (width, height) / 40, 4, 64);
}

/**
 * lk_qr_variant_apply:
 * @gray: @height rows of @width bytes
 * @scratch: where the result is made; it stays valid until the next call
 *
 * Returns: (transfer none): the variant of @gray, @out_width × @out_height,
 *   or @gray itself for the empty variant
 */
const guint8 *
lk_qr_variant_apply (const LkQrVariant *variant,
                     const guint8      *gray,
                     guint              width,
                     guint              height,
                     LkQrScratch       *scratch,
                     guint             *out_width,
                     guint             *out_height)
{
  const guint8 *src = gray;
  guint next = 0;

  if (variant->tile > 0 && variant->tile <= LK_QR_N_TILES && width >= 8 && height >= 8)
    {
      guint tw = width * 11 / 25, th = height * 13 / 25;
      guint col = (variant->tile - 1) % 3, row = (variant->tile - 1) / 3;
      guint x0 = col * (width - tw) / 2, y0 = row * (height - th) / 2;
      guint8 *dst = scratch_buffer (scratch, next, (gsize) tw * th);

      for (guint y = 0; y < th; y++)
        memcpy (dst + (gsize) y * tw, gray + (gsize) (y0 + y) * width + x0, tw);
      src = dst;
      width = tw;
      height = th;
      next = 1 - next;
    }

  for (guint i = 0; i < LK_QR_MAX_STEPS && variant->steps[i] != LK_QR_STEP_END; i++)
    {
      LkQrStep step = variant->steps[i];
      guint w = width, h = height;
      guint8 *dst;

      if (step == LK_QR_STEP_HALF && width >= 2 && height >= 2)
        w = width / 2, h = height / 2;
      else if (step == LK_QR_STEP_DOUBLE)
        w = width * 2, h = height * 2;
      dst = scratch_buffer (scratch, next, (gsize) w * h);

      switch (step)
        {
        case LK_QR_STEP_INVERT:
          invert (src, dst, (gsize) w * h);
          break;
        case LK_QR_STEP_STRETCH:
          stretch (src, dst, (gsize) w * h);
          break;
        case LK_QR_STEP_EQUALISE:
          equalise (src, dst, (gsize) w * h);
          break;
        case LK_QR_STEP_MEDIAN:
          median (src, dst, w, h);
          break;
        case LK_QR_STEP_SMOOTH:
          smooth (src, dst, w, h);
          break;
        case LK_QR_STEP_HALF:
          if (w == width)
            memcpy (dst, src, (gsize) w * h);
          else
            half (src, dst, width, height);
          break;
        case LK_QR_STEP_DOUBLE:
          twice (src, dst, width, height);
          break;
        case LK_QR_STEP_SHARPEN:
          box_rows (src, dst, w, h, 2, scratch, sharpen_row);
          break;
        case LK_QR_STEP_THRESHOLD:
          box_rows (src, dst, w, h, threshold_radius (w, h), scratch, threshold_row);
          break;
        case LK_QR_STEP_END:
        case LK_QR_N_STEPS:
        default:
          g_assert_not_reached ();
        }

      src = dst;
      width = w;
      height = h;
      next = 1 - next;
    }

  *out_width = width;
  *out_height = height;
  return src;
}

/* "half+threshold", "plain": for reports and the benchmark. */
char *
lk_qr_variant_to_string (const LkQrVariant *variant)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < LK_QR_MAX_STEPS && variant->steps[i] != LK_QR_STEP_END; i++)
    {
      if (i > 0)
        g_string_append_c (text, '+');
      g_string_append (text, step_names[variant->steps[i]]);
    }
  if (text->len == 0)
    g_string_append (text, "plain");
  if (variant->tile > 0)
    g_string_append_printf (text, " (tile %u)", variant->tile);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

#define V(...) { .steps = { __VA_ARGS__, LK_QR_STEP_END } }
#define T(tile_, ...) { .steps = { __VA_ARGS__, LK_QR_STEP_END }, .tile = tile_ }

/* After the image as it is, ordered by frames read per millisecond, each
 * counting only the frames none before it read, as measured on the
 * generated webcam frames (build-aux/bench-scan.sh prints the table). The
 * local threshold undoes low, uneven and glared contrast; inverted (at
 * half size first: cheaper, and it drops noise, moiré and JPEG blocks),
 * the same for light-on-dark codes; a small code made twice as large; the
 * last two read one frame each. Half size alone reads nothing the image as
 * it is does not: only the camera, which starts with it, has it. */
static const LkQrVariant image_variants[] = {
  V (LK_QR_STEP_THRESHOLD),
  V (LK_QR_STEP_INVERT, LK_QR_STEP_HALF, LK_QR_STEP_THRESHOLD),
  V (LK_QR_STEP_INVERT, LK_QR_STEP_THRESHOLD),
  V (LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD),
  V (LK_QR_STEP_INVERT),
  V (LK_QR_STEP_SHARPEN),
};

/* The same, spread over successive frames so that each frame costs about
 * one zbar pass over it: two cheap half-size variants together first (half
 * size reads 43 of the 120 frames for a quarter of a pass), then one
 * full-size variant a frame, and the enlargement a ninth of the frame at a
 * time. A code that needs the last variant is read 15 frames after it is
 * seen: half a second at 30 frames a second. */
static const LkQrCameraStep camera_steps[] = {
  { { V (LK_QR_STEP_HALF), V (LK_QR_STEP_INVERT, LK_QR_STEP_HALF, LK_QR_STEP_THRESHOLD) }, 2 },
  { { V (LK_QR_STEP_THRESHOLD) }, 1 },
  { { V (LK_QR_STEP_INVERT, LK_QR_STEP_THRESHOLD) }, 1 },
  { { { .steps = { LK_QR_STEP_END } } }, 1 },
  { { T (5, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { T (1, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { T (2, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { T (3, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { T (4, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { T (6, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { T (7, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { T (8, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { T (9, LK_QR_STEP_DOUBLE, LK_QR_STEP_THRESHOLD) }, 1 },
  { { V (LK_QR_STEP_INVERT) }, 1 },
  { { V (LK_QR_STEP_SHARPEN) }, 1 },
};

/* Images (files, pastes, drops, screenshots): all of them at once, after
 * the image as it is. */
const LkQrVariant *
lk_qr_variants_for_images (guint *n_variants)
{
  *n_variants = G_N_ELEMENTS (image_variants);
  return image_variants;
}

const LkQrCameraStep *
lk_qr_variants_for_camera (guint *n_steps)
{
  *n_steps = G_N_ELEMENTS (camera_steps);
  return camera_steps;
}
