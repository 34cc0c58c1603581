/* lk-test-frames.c: webcam-like frames of share-link QR codes, from seeds
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What a laptop's webcam sees when someone holds up a phone showing a
 * share's QR code: a 1280 × 720 frame of a room, and in it a phone whose
 * screen shows a real share link (libqrencode, byte mode, level M, as the
 * app draws it) with a title above and a button below. Each seed draws, in
 * this order:
 *
 *   - the code: one of several sizes (2 to 6.6 pixels a module), and a
 *     link whose length gives versions 6 to 8;
 *   - the pose: turned up to 40° in the image plane, tilted up to 28° away
 *     from the camera in any direction (perspective through a 900 px
 *     focal length), anywhere in the frame with its quiet zone inside;
 *   - the screen: light and dark levels (low contrast for some), dark mode
 *     (light modules on dark) for some, a brightness gradient across it,
 *     the pixel grid that beats with the camera's into moiré for some, a
 *     lamp's reflection on the glass for some;
 *   - the room, lit unevenly, and the lens's vignetting;
 *   - defocus (Gaussian; a fixed-focus webcam, so the nearer and larger
 *     the code, the more blurred), and for some a shaking hand (motion
 *     blur);
 *   - sensor noise in each colour channel, a colour cast;
 *   - the webcam's MJPEG compression (quality 35 to 90, gdk-pixbuf's
 *     libjpeg with 4:2:0 chroma).
 *
 * Everything comes from the seed through GRand: the same seed gives the
 * same frame, on any machine.
 */

#define G_LOG_DOMAIN "lk-test-frames"

#include "config.h"

#include <math.h>
#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <qrencode.h>

#include "lk-share-link.h"
#include "lk-test-frames.h"

#define W LK_TEST_FRAME_WIDTH
#define H LK_TEST_FRAME_HEIGHT
#define FOCAL 900.0

static const char *const relays[] = {
  "https://relay.example",
  "https://keys.example.org",
  "https://relay.latchkey.example.net:8443",
  "https://r.example",
  "http://127.0.0.1:41234",
  "https://tigress-relay.example.com",
};

static const LkVertical verticals[] = { LK_VERTICAL_CAR, LK_VERTICAL_HOME, LK_VERTICAL_GENERIC };

static const double module_sizes[] = { 2.5, 3.0, 3.6, 4.3, 5.2, 6.4 };

/* A share link as the app makes one: a v4 UUID and a 32-byte secret. */
static char *
make_link (GRand *rand)
{
  guint8 id[16], secret[32];
  g_autofree char *uuid = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GError) error = NULL;
  const char *relay = relays[g_rand_int_range (rand, 0, G_N_ELEMENTS (relays))];
  LkVertical vertical = verticals[g_rand_int_range (rand, 0, G_N_ELEMENTS (verticals))];

  for (guint i = 0; i < sizeof id; i++)
    id[i] = (guint8) g_rand_int_range (rand, 0, 256);
  for (guint i = 0; i < sizeof secret; i++)
    secret[i] = (guint8) g_rand_int_range (rand, 0, 256);
  id[6] = (id[6] & 0x0f) | 0x40;
  id[8] = (id[8] & 0x3f) | 0x80;
  uuid = g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7],
                          id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]);
  bytes = g_bytes_new (secret, sizeof secret);
  link = lk_share_link_new (relay, uuid, vertical, bytes, &error);
  g_assert_no_error (error);
  return lk_share_link_to_string (link);
}

/* About normal, mean 0 and sigma 1: the sum of four random bytes from
 * xorshift64*, seeded from the frame's GRand (Box-Muller and GRand for
 * each of 2.8 million samples made noise most of a frame's cost). */
static double
gaussian (guint64 *state)
{
  guint32 r;
  int sum;

  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  r = (guint32) ((*state * G_GUINT64_CONSTANT (2685821657736338717)) >> 32);
  sum = (int) (r & 0xff) + (int) ((r >> 8) & 0xff) + (int) ((r >> 16) & 0xff) + (int) (r >> 24);

  return (sum - 510) / 147.8;
}

/* cos (2π t), from a table: the screen's grid takes it at every sample. */
static double
cos_turns (double t)
{
  static double table[1024];
  static gsize ready = 0;
  double f = t - floor (t);

  if (g_once_init_enter (&ready))
    {
      for (guint i = 0; i < G_N_ELEMENTS (table); i++)
        table[i] = cos (2 * G_PI * i / G_N_ELEMENTS (table));
      g_once_init_leave (&ready, 1);
    }
  return table[(guint) (f * G_N_ELEMENTS (table)) & (G_N_ELEMENTS (table) - 1)];
}

/* Smooth noise in [-1, 1] with features about @cell pixels across. */
static double *
value_noise (GRand *rand,
             guint  cell)
{
  guint gw = W / cell + 2, gh = H / cell + 2;
  g_autofree double *grid = g_new (double, gw * gh);
  g_autofree double *tx = g_new (double, W);
  g_autofree guint *ix = g_new (guint, W);
  double *out = g_new (double, W * H);

  for (guint i = 0; i < gw * gh; i++)
    grid[i] = g_rand_double_range (rand, -1, 1);
  for (guint x = 0; x < W; x++)
    {
      double fx = (double) x / cell;

      ix[x] = (guint) fx;
      tx[x] = (fx - ix[x]) * (fx - ix[x]) * (3 - 2 * (fx - ix[x]));
    }
  for (guint y = 0; y < H; y++)
    {
      double fy = (double) y / cell;
      guint iy = (guint) fy;
      double ty = (fy - iy) * (fy - iy) * (3 - 2 * (fy - iy));
      const double *r0 = grid + iy * gw, *r1 = r0 + gw;

      for (guint x = 0; x < W; x++)
        {
          double a = r0[ix[x]] + (r0[ix[x] + 1] - r0[ix[x]]) * tx[x];
          double b = r1[ix[x]] + (r1[ix[x] + 1] - r1[ix[x]]) * tx[x];

          out[y * W + x] = a + (b - a) * ty;
        }
    }
  return out;
}

static void
fill_rect (double *img,
           int     x0,
           int     y0,
           int     w,
           int     h,
           double  value)
{
  for (int y = MAX (y0, 0); y < MIN (y0 + h, H); y++)
    for (int x = MAX (x0, 0); x < MIN (x0 + w, W); x++)
      img[y * W + x] = value;
}

/* A room behind the phone: smooth texture, furniture, cables, a poster
 * with text, under a light from one side. */
static void
draw_room (double *img,
           GRand  *rand)
{
  g_autofree double *low = value_noise (rand, 160);
  g_autofree double *mid = value_noise (rand, 40);
  g_autofree double *fine = value_noise (rand, 9);
  double base = g_rand_double_range (rand, 70, 150);
  double lx = g_rand_double_range (rand, -1, 1), ly = g_rand_double_range (rand, -1, 1);
  double strength = g_rand_double_range (rand, 0.1, 0.5);
  int px = g_rand_int_range (rand, 0, W - 300), py = g_rand_int_range (rand, 0, H - 200);

  /* Each draw in its own statement: the order of a call's arguments is
   * the compiler's choice, and gcc and clang must draw the same frame. */
  for (guint i = 0; i < W * H; i++)
    img[i] = base + 38 * low[i] + 16 * mid[i] + 7 * fine[i];
  for (guint i = 0; i < 35; i++)
    {
      int x = g_rand_int_range (rand, -40, W), y = g_rand_int_range (rand, -40, H);
      int w = g_rand_int_range (rand, 20, 260), h = g_rand_int_range (rand, 10, 160);
      double value = g_rand_double_range (rand, 20, 235);

      fill_rect (img, x, y, w, h, value);
    }
  for (guint i = 0; i < 20; i++)
    {
      gboolean across = g_rand_boolean (rand);
      int len = g_rand_int_range (rand, 80, 500), thick = g_rand_int_range (rand, 2, 6);
      int x = g_rand_int_range (rand, -40, W), y = g_rand_int_range (rand, -40, H);
      double value = g_rand_double_range (rand, 15, 90);

      fill_rect (img, x, y, across ? len : thick, across ? thick : len, value);
    }
  fill_rect (img, px, py, 300, 200, 210);
  for (int y = py + 14; y < py + 190; y += 11)
    for (int x = px + 14; x < px + 286;)
      {
        int w = g_rand_int_range (rand, 3, 16);

        fill_rect (img, x, y, MIN (w, px + 286 - x), 4, 40);
        x += w;
        x += g_rand_int_range (rand, 2, 6);
      }

  for (guint y = 0; y < H; y++)
    for (guint x = 0; x < W; x++)
      {
        double dx = (x - W / 2.0) / W, dy = (y - H / 2.0) / W;

        img[y * W + x] *= 1 + strength * (lx * dx + ly * dy) * 2;
      }
}

typedef struct
{
  double  m[9];
} Homography;

static void
apply (const Homography *h,
       double            x,
       double            y,
       double           *u,
       double           *v,
       double           *w)
{
  *u = h->m[0] * x + h->m[1] * y + h->m[2];
  *v = h->m[3] * x + h->m[4] * y + h->m[5];
  *w = h->m[6] * x + h->m[7] * y + h->m[8];
}

static Homography
invert (const Homography *h)
{
  const double *a = h->m;
  Homography r;
  double det;

  r.m[0] = a[4] * a[8] - a[5] * a[7];
  r.m[1] = a[2] * a[7] - a[1] * a[8];
  r.m[2] = a[1] * a[5] - a[2] * a[4];
  r.m[3] = a[5] * a[6] - a[3] * a[8];
  r.m[4] = a[0] * a[8] - a[2] * a[6];
  r.m[5] = a[2] * a[3] - a[0] * a[5];
  r.m[6] = a[3] * a[7] - a[4] * a[6];
  r.m[7] = a[1] * a[6] - a[0] * a[7];
  r.m[8] = a[0] * a[4] - a[1] * a[3];
  det = a[0] * r.m[0] + a[1] * r.m[3] + a[2] * r.m[6];
  for (guint i = 0; i < 9; i++)
    r.m[i] /= det;
  return r;
}

/* The phone's face, in modules from the code's centre; the phone at
 * distance FOCAL / module_px, seen by a camera with focal length FOCAL,
 * its centre projected to (@px, @py). */
static Homography
pose (double roll,
      double tilt_x,
      double tilt_y,
      double module_px,
      double px,
      double py)
{
  double cr = cos (roll), sr = sin (roll);
  double ca = cos (tilt_x), sa = sin (tilt_x), cb = cos (tilt_y), sb = sin (tilt_y);
  /* R = Rz(roll) · Rx(tilt_x) · Ry(tilt_y): its first two columns map the
   * face's u and v axes into the camera's space. */
  double rx[9] = { 1, 0, 0, 0, ca, -sa, 0, sa, ca };
  double ry[9] = { cb, 0, sb, 0, 1, 0, -sb, 0, cb };
  double rz[9] = { cr, -sr, 0, sr, cr, 0, 0, 0, 1 };
  double t1[9], r[9];
  double d = FOCAL / module_px;
  double tx = (px - W / 2.0) * d / FOCAL, ty = (py - H / 2.0) * d / FOCAL;
  Homography h;

  for (guint i = 0; i < 3; i++)
    for (guint j = 0; j < 3; j++)
      {
        t1[i * 3 + j] = 0;
        for (guint k = 0; k < 3; k++)
          t1[i * 3 + j] += rx[i * 3 + k] * ry[k * 3 + j];
      }
  for (guint i = 0; i < 3; i++)
    for (guint j = 0; j < 3; j++)
      {
        r[i * 3 + j] = 0;
        for (guint k = 0; k < 3; k++)
          r[i * 3 + j] += rz[i * 3 + k] * t1[k * 3 + j];
      }

  /* K · [r1 r2 t] */
  for (guint i = 0; i < 3; i++)
    {
      double c[3] = { r[i * 3 + 0], r[i * 3 + 1], i == 0 ? tx : i == 1 ? ty : d };

      for (guint j = 0; j < 3; j++)
        {
          if (i == 0)
            h.m[j] = FOCAL * c[j];
          else if (i == 1)
            h.m[3 + j] = FOCAL * c[j];
          else
            h.m[6 + j] = c[j];
        }
    }
  for (guint j = 0; j < 3; j++)
    {
      h.m[j] += W / 2.0 * h.m[6 + j];
      h.m[3 + j] += H / 2.0 * h.m[6 + j];
    }
  return h;
}

typedef struct
{
  QRcode  *qr;
  double   half;             /* half the code's side, modules */
  double   screen_w;         /* half the screen's width, modules */
  double   screen_top;       /* the screen's top and bottom, modules from the centre */
  double   screen_bottom;
  double   bezel;
  guint8   title[64];        /* the title's word lengths, in modules × 4 */
} Face;

/* How light the screen is at (@u, @v): 1 white, 0 black, -1 off the
 * screen (the phone's body), -2 off the phone. */
static double
face_at (const Face *face,
         double      u,
         double      v)
{
  double half = face->half;
  double bw = face->screen_w + face->bezel;

  if (u < -bw || u > bw || v < face->screen_top - 2 * face->bezel || v > face->screen_bottom + 2 * face->bezel)
    return -2;
  if (u < -face->screen_w || u > face->screen_w || v < face->screen_top || v > face->screen_bottom)
    return -1;

  if (u >= -half && u < half && v >= -half && v < half)
    {
      int mx = (int) floor (u + half), my = (int) floor (v + half);

      return (face->qr->data[my * face->qr->width + mx] & 1) ? 0 : 1;
    }

  /* A title, two lines of text above the code, and a button below. */
  if (v > -half - 9 && v < -half - 7)
    {
      double x = -face->screen_w + 3;

      for (guint i = 0; i < G_N_ELEMENTS (face->title) && x < face->screen_w - 3; i++)
        {
          double len = face->title[i] / 4.0;

          if (u >= x && u < x + len)
            return 0.1;
          x += len + 0.7;
        }
    }
  if (v > half + 5 && v < half + 9 && u > -face->screen_w + 2 && u < face->screen_w - 2)
    return (v > half + 6.5 && v < half + 7.5 && fabs (u) < 6) ? 1 : 0.35;
  return 1;
}

/* Separable Gaussian blur of @img in place. */
static void
gaussian_blur (double *img,
               double  sigma)
{
  int radius = (int) ceil (3 * sigma);
  g_autofree double *kernel = g_new (double, 2 * radius + 1);
  g_autofree double *tmp = g_new (double, W * H);
  double sum = 0;

  if (sigma <= 0)
    return;
  for (int k = -radius; k <= radius; k++)
    sum += kernel[k + radius] = exp (-k * k / (2 * sigma * sigma));
  for (int k = 0; k <= 2 * radius; k++)
    kernel[k] /= sum;

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double s = 0;

        for (int k = -radius; k <= radius; k++)
          s += kernel[k + radius] * img[y * W + CLAMP (x + k, 0, W - 1)];
        tmp[y * W + x] = s;
      }
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double s = 0;

        for (int k = -radius; k <= radius; k++)
          s += kernel[k + radius] * tmp[CLAMP (y + k, 0, H - 1) * W + x];
        img[y * W + x] = s;
      }
}

/* A shaking hand: the average along a @length pixel line at @angle. */
static void
motion_blur (double *img,
             double  length,
             double  angle)
{
  g_autofree double *tmp = g_memdup2 (img, sizeof (double) * W * H);
  int taps = (int) ceil (length) + 1;
  double dx = cos (angle), dy = sin (angle);

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double s = 0;

        for (int k = 0; k < taps; k++)
          {
            double t = (k / (double) (taps - 1) - 0.5) * length;
            int sx = CLAMP ((int) floor (x + t * dx + 0.5), 0, W - 1), sy = CLAMP ((int) floor (y + t * dy + 0.5), 0, H - 1);

            s += tmp[sy * W + sx];
          }
        img[y * W + x] = s / taps;
      }
}

static double
pick (GRand  *rand,
      double  probability)
{
  return g_rand_double (rand) < probability;
}

/**
 * lk_test_frame_new:
 *
 * Returns: (transfer full): the frame drawn from @seed
 */
LkTestFrame *
lk_test_frame_new (guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  LkTestFrame *frame = g_new0 (LkTestFrame, 1);
  g_autofree double *img = g_new (double, W * H);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) decoded = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *quality = NULL;
  g_autofree char *jpeg = NULL;
  gsize jpeg_len;
  Face face = { 0 };
  Homography h, inv;
  double px = 0, py = 0, light, dark, gradient, gradient_dir, vignette, exposure, cast;
  double glare_x = 0, glare_y = 0, glare_r = 1, pitch = 1, grid_angle = 0, motion_angle, gc, gs, mc, ms;
  double corners[8], tilt, tilt_dir;
  int x0 = W, y0 = H, x1 = 0, y1 = 0;
  guint8 *pixels;
  int rowstride, n_channels;
  guint64 state;

  frame->seed = seed;
  frame->link = make_link (rand);
  face.qr = QRcode_encodeString8bit (frame->link, 0, QR_ECLEVEL_M);
  g_assert_nonnull (face.qr);
  frame->version = face.qr->version;
  face.half = face.qr->width / 2.0;
  face.screen_w = face.half + 4 + g_rand_double_range (rand, 0.5, 4);
  face.screen_top = -face.half - g_rand_double_range (rand, 12, 22);
  face.screen_bottom = face.half + g_rand_double_range (rand, 11, 20);
  face.bezel = g_rand_double_range (rand, 1, 3);
  for (guint i = 0; i < G_N_ELEMENTS (face.title); i++)
    face.title[i] = (guint8) g_rand_int_range (rand, 4, 28);

  /* The pose, until the code and its quiet zone are in the frame. */
  frame->module_px = module_sizes[g_rand_int_range (rand, 0, G_N_ELEMENTS (module_sizes))];
  frame->module_px *= g_rand_double_range (rand, 0.92, 1.08);
  frame->roll = g_rand_double_range (rand, -40, 40);
  tilt = g_rand_double_range (rand, 0, 28);
  tilt_dir = g_rand_double_range (rand, 0, 2 * G_PI);
  frame->tilt_x = tilt * cos (tilt_dir);
  frame->tilt_y = tilt * sin (tilt_dir);
  for (guint attempt = 0; ; attempt++)
    {
      gboolean inside = TRUE;
      double reach = face.half + 4;

      px = attempt < 50 ? g_rand_double_range (rand, 80, W - 80) : W / 2.0;
      py = attempt < 50 ? g_rand_double_range (rand, 60, H - 60) : H / 2.0;
      h = pose (frame->roll * G_PI / 180, frame->tilt_x * G_PI / 180, frame->tilt_y * G_PI / 180,
                frame->module_px, px, py);
      for (guint c = 0; c < 4; c++)
        {
          double u = (c & 1) ? reach : -reach, v = (c & 2) ? reach : -reach, x, y, w;

          apply (&h, u, v, &x, &y, &w);
          corners[2 * c] = x / w;
          corners[2 * c + 1] = y / w;
          if (w <= 0 || x / w < 8 || y / w < 8 || x / w > W - 8 || y / w > H - 8)
            inside = FALSE;
        }
      if (inside || attempt >= 50)
        break;
    }
  inv = invert (&h);

  /* The phone's box in the frame, from its face's corners. */
  for (guint c = 0; c < 4; c++)
    {
      double u = (c & 1) ? face.screen_w + face.bezel : -face.screen_w - face.bezel;
      double v = (c & 2) ? face.screen_bottom + 2 * face.bezel : face.screen_top - 2 * face.bezel;
      double x, y, w;

      apply (&h, u, v, &x, &y, &w);
      if (w <= 0)
        {
          x0 = y0 = 0;
          x1 = W;
          y1 = H;
          break;
        }
      x0 = MIN (x0, (int) floor (x / w) - 1);
      y0 = MIN (y0, (int) floor (y / w) - 1);
      x1 = MAX (x1, (int) ceil (x / w) + 1);
      y1 = MAX (y1, (int) ceil (y / w) + 1);
    }
  x0 = CLAMP (x0, 0, W);
  y0 = CLAMP (y0, 0, H);
  x1 = CLAMP (x1, 0, W);
  y1 = CLAMP (y1, 0, H);

  /* The screen */
  frame->inverted = pick (rand, 0.3);
  light = g_rand_double_range (rand, 150, 245);
  frame->contrast = pick (rand, 0.4) ? g_rand_double_range (rand, 0.35, 0.55) : g_rand_double_range (rand, 0.05, 0.3);
  dark = light * frame->contrast;
  gradient = g_rand_double_range (rand, 0, 0.4);
  gradient_dir = g_rand_double_range (rand, 0, 2 * G_PI);
  if (pick (rand, 0.5))
    {
      frame->moire = g_rand_double_range (rand, 0.15, 0.5);
      pitch = g_rand_double_range (rand, 6, 14);        /* the screen's pixels a module */
      grid_angle = g_rand_double_range (rand, -0.05, 0.05);
    }
  if (pick (rand, 0.35))
    {
      frame->glare = g_rand_double_range (rand, 30, 110);
      glare_r = g_rand_double_range (rand, 0.15, 0.5) * (corners[2] - corners[0] + corners[5] - corners[1]);
      glare_x = g_rand_double_range (rand, MIN (corners[0], corners[6]), MAX (corners[0], corners[6]));
      glare_y = g_rand_double_range (rand, MIN (corners[1], corners[7]), MAX (corners[1], corners[7]));
      glare_r = MAX (fabs (glare_r), 20);
    }

  draw_room (img, rand);

  /* The phone, 2 × 2 samples a pixel; the grid's phase at each sample, so
   * that it aliases against the camera's pixels as it does in a camera. */
  gc = cos (gradient_dir);
  gs = sin (gradient_dir);
  mc = cos (grid_angle);
  ms = sin (grid_angle);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        double sum = 0;
        guint on_phone = 0;

        for (int j = 0; j < 2; j++)
          for (int i = 0; i < 2; i++)
            {
              double u, v, w, s, lum;

              apply (&inv, x + 0.25 + 0.5 * i, y + 0.25 + 0.5 * j, &u, &v, &w);
              u /= w;
              v /= w;
              s = face_at (&face, u, v);
              if (s == -2)
                {
                  sum += img[y * W + x];
                  continue;
                }
              on_phone++;
              if (s == -1)
                {
                  sum += 16;
                  continue;
                }
              if (frame->inverted)
                s = 1 - s;
              lum = dark + (light - dark) * s;
              lum *= 1 + gradient * ((u * gc + v * gs) / face.half - 0.5) / 2;
              if (frame->moire > 0)
                {
                  double gu = (u * mc - v * ms) * pitch, gv = (u * ms + v * mc) * pitch;

                  lum *= 1 - frame->moire * (1 - (0.5 + 0.5 * cos_turns (gu)) * (0.5 + 0.5 * cos_turns (gv)));
                }
              sum += lum;
            }
        if (on_phone > 0)
          img[y * W + x] = sum / 4;
      }

  /* A lamp's reflection on the glass, added to what the screen shows. */
  if (frame->glare > 0)
    for (int y = y0; y < y1; y++)
      for (int x = x0; x < x1; x++)
        {
          double u, v, w, r2 = ((x - glare_x) * (x - glare_x) + (y - glare_y) * (y - glare_y)) / (glare_r * glare_r);

          apply (&inv, x + 0.5, y + 0.5, &u, &v, &w);
          if (face_at (&face, u / w, v / w) >= 0)
            img[y * W + x] += frame->glare * exp (-r2 / 2);
        }

  /* The lens: vignetting, exposure. */
  vignette = g_rand_double_range (rand, 0.1, 0.45);
  exposure = g_rand_double_range (rand, 0.85, 1.1);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double dx = (x - W / 2.0) / (W / 2.0), dy = (y - H / 2.0) / (W / 2.0);

        img[y * W + x] *= exposure * (1 - vignette * (dx * dx + dy * dy) / 1.32);
      }

  /* Focus: a laptop's webcam has a fixed focus, at arm's length; the
   * closer the phone (the larger the code), the more it is out of focus.
   * Then a shaking hand. Neither more than the code can take at all.
   * (Each draw apart: MIN() would draw twice.) */
  frame->blur = g_rand_double_range (rand, 0.3, 0.7);
  frame->blur += g_rand_double_range (rand, 0, 0.22) * (frame->module_px - 2.3);
  frame->blur = MIN (frame->blur, 0.36 * frame->module_px);
  gaussian_blur (img, frame->blur);
  motion_angle = g_rand_double_range (rand, 0, G_PI);
  if (pick (rand, 0.3))
    {
      frame->motion = g_rand_double_range (rand, 2, 6);
      frame->motion = MIN (frame->motion, frame->module_px);
      motion_blur (img, frame->motion, motion_angle);
    }

  /* The sensor: a colour cast, noise in each channel. */
  frame->noise = g_rand_double_range (rand, 2, 7);
  cast = g_rand_double_range (rand, -0.08, 0.12);
  state = g_rand_int (rand);
  state = (state << 32 | g_rand_int (rand)) | 1;
  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, W, H);
  pixels = gdk_pixbuf_get_pixels (pixbuf);
  rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < 3; c++)
        {
          double value = img[y * W + x] * (c == 0 ? 1 + cast : c == 2 ? 1 - cast : 1) + frame->noise * gaussian (&state);

          pixels[y * rowstride + x * 3 + c] = (guint8) CLAMP ((int) (value + 0.5), 0, 255);
        }

  /* MJPEG, as webcams send 720p. */
  frame->jpeg_quality = g_rand_int_range (rand, 35, 91);
  quality = g_strdup_printf ("%d", frame->jpeg_quality);
  if (!gdk_pixbuf_save_to_buffer (pixbuf, &jpeg, &jpeg_len, "jpeg", &error, "quality", quality, NULL))
    g_error ("JPEG: %s", error->message);
  stream = g_memory_input_stream_new_from_data (jpeg, (gssize) jpeg_len, NULL);
  decoded = gdk_pixbuf_new_from_stream (stream, NULL, &error);
  if (decoded == NULL)
    g_error ("JPEG: %s", error->message);
  g_assert_cmpint (gdk_pixbuf_get_width (decoded), ==, W);
  g_assert_cmpint (gdk_pixbuf_get_height (decoded), ==, H);

  pixels = gdk_pixbuf_get_pixels (decoded);
  rowstride = gdk_pixbuf_get_rowstride (decoded);
  n_channels = gdk_pixbuf_get_n_channels (decoded);
  frame->rgb = g_malloc ((gsize) W * H * 3);
  frame->gray = g_malloc ((gsize) W * H);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        const guint8 *p = pixels + y * rowstride + x * n_channels;
        guint8 *out = frame->rgb + ((gsize) y * W + x) * 3;

        out[0] = p[0];
        out[1] = p[1];
        out[2] = p[2];
        frame->gray[(gsize) y * W + x] = (guint8) ((299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u);
      }

  QRcode_free (face.qr);
  return frame;
}

void
lk_test_frame_free (LkTestFrame *frame)
{
  if (frame == NULL)
    return;
  g_free (frame->link);
  g_free (frame->rgb);
  g_free (frame->gray);
  g_free (frame);
}

/* One line of ASCII (for TAP logs): what was drawn, not the link. */
char *
lk_test_frame_describe (LkTestFrame *frame)
{
  return g_strdup_printf ("seed %u: v%d, %.1f px/module, roll %+.0f deg, tilt %+.0f/%+.0f deg, blur %.2f, "
                          "motion %.1f, contrast %.2f, moire %.2f, glare %.0f, noise %.1f, JPEG q%d%s",
                          frame->seed, frame->version, frame->module_px, frame->roll, frame->tilt_x, frame->tilt_y,
                          frame->blur, frame->motion, frame->contrast, frame->moire, frame->glare, frame->noise,
                          frame->jpeg_quality, frame->inverted ? ", inverted" : "");
}

/* As an RGB PNG: lossless, so that every reader gets the same pixels. */
gboolean
lk_test_frame_save_png (LkTestFrame  *frame,
                        const char   *path,
                        GError      **error)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static (frame->rgb, (gsize) W * H * 3);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_bytes (bytes, GDK_COLORSPACE_RGB, FALSE, 8, W, H, W * 3);

  return gdk_pixbuf_save (pixbuf, path, "png", error, "compression", "1", NULL);
}
