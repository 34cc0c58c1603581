/* bench-scan.c: reading a share link's QR code in a camera frame, against zbarimg
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Not a test: build-aux/bench-scan.sh runs it and it prints figures.
 *
 *   bench-scan --zbarimg=PATH DIR RUNS   make DIR/frame.png, check that
 *                                        both sides read it, time them
 *   bench-scan --once FILE               load FILE, decode, print the text
 *                                        (the "ours as a process" runs)
 *   bench-scan --zbarimg=PATH --set N DIR
 *                                        the read rate on N generated
 *                                        webcam frames (lk-test-frames.c,
 *                                        seeds 1 to N, saved in DIR), ours
 *                                        and zbarimg's; the variants; the
 *                                        camera path's time per frame
 *
 * The frame is made here, the same every time (fixed seed): 1280 × 720,
 * a share link as libqrencode draws it for latchkey-cli (byte mode, level
 * M), on a light card a little larger than its quiet zone, rotated a few
 * degrees and off centre, on a textured background with clutter and a
 * patch of text-like strokes, under uneven light, slightly out of focus,
 * with sensor noise in each colour channel. It is saved as an RGB PNG.
 *
 * Measurements, interleaved: each round takes every measurement once, in
 * an order that rotates from round to round, after unmeasured warm-up
 * rounds. In-process times are CLOCK_MONOTONIC around the calls; a
 * process's time runs from just before posix_spawn() to wait4()'s return,
 * with its standard output read through a pipe and checked every run. CPU
 * time: the child's user + system time from wait4(), or in process
 * CLOCK_PROCESS_CPUTIME_ID around the calls.
 */

#define G_LOG_DOMAIN "bench-scan"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <qrencode.h>

#include "latchkey-protocol.h"
#include "lk-qr-decoder.h"
#include "lk-qr-variants.h"
#include "lk-test-frames.h"

#define WIDTH       1280
#define HEIGHT      720
#define SEED        20240611
#define MODULE_PX   5.0         /* pixels a module */
#define QUIET       4           /* modules of quiet zone, as the standard asks */
#define CARD_MARGIN 2           /* more light card around the quiet zone */
#define ANGLE_DEG   8.0
#define CENTRE_X    868.0       /* the card's centre; the frame's is (640, 360) */
#define CENTRE_Y    318.0
#define CARD_LIGHT  226.0       /* before lighting */
#define CARD_DARK   34.0
#define NOISE_SIGMA 4.0         /* sensor noise, each channel */
#define WARM_UP     3           /* unmeasured rounds */

static const double blur_kernel[5] = { 1 / 16.0, 4 / 16.0, 6 / 16.0, 4 / 16.0, 1 / 16.0 };

enum
{
  OURS_GRAY,
  OURS_LOAD,
  OURS_PROCESS,
  ZBARIMG,
  ZBARIMG_QR,
  ZBARIMG_NOSCAN,
  N_MEASUREMENTS
};

static const char *const labels[N_MEASUREMENTS] = {
  "ours: decode, grey frame in memory",
  "ours: load PNG + RGBA + decode",
  "ours: a process (start, load, decode)",
  "zbarimg (whole run)",
  "zbarimg, QR only (whole run)",
  "zbarimg, scanning off (whole run)",
};

typedef struct
{
  const char *frame;
  const char *zbarimg;
  char       *self;
  const char *link;
  char      **envp;
  int         log_fd;
  guint8     *gray;          /* the frame as grey, as the camera path gets it */
  LkQrDecoder *decoder;
} Bench;

/* Something broke: say what, exit 1 (a slow reader is not a failure). */
G_NORETURN G_GNUC_PRINTF (1, 2) static void
fail (const char *format,
      ...)
{
  va_list args;

  fflush (stdout);
  fputs ("bench-scan: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  exit (1);
}

static double
clock_ms (clockid_t clock)
{
  struct timespec ts;

  clock_gettime (clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
now_ms (void)
{
  return clock_ms (CLOCK_MONOTONIC);
}

/* This process's CPU time, every thread's. */
static double
cpu_ms (void)
{
  return clock_ms (CLOCK_PROCESS_CPUTIME_ID);
}

/* ------------------------------------------------------------------------- */
/* The frame                                                                  */

/* Smooth noise in [-1, 1] with features about @cell pixels across. */
static double *
value_noise (GRand *rand,
             guint  cell)
{
  guint gw = WIDTH / cell + 2, gh = HEIGHT / cell + 2;
  g_autofree double *grid = g_new (double, gw * gh);
  double *out = g_new (double, WIDTH * HEIGHT);

  for (guint i = 0; i < gw * gh; i++)
    grid[i] = g_rand_double_range (rand, -1, 1);
  for (guint y = 0; y < HEIGHT; y++)
    for (guint x = 0; x < WIDTH; x++)
      {
        double fx = (double) x / cell, fy = (double) y / cell;
        guint ix = (guint) fx, iy = (guint) fy;
        double tx = fx - ix, ty = fy - iy;
        double a, b;

        tx = tx * tx * (3 - 2 * tx);
        ty = ty * ty * (3 - 2 * ty);
        a = grid[iy * gw + ix] * (1 - tx) + grid[iy * gw + ix + 1] * tx;
        b = grid[(iy + 1) * gw + ix] * (1 - tx) + grid[(iy + 1) * gw + ix + 1] * tx;
        out[y * WIDTH + x] = a * (1 - ty) + b * ty;
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
  for (int y = MAX (y0, 0); y < MIN (y0 + h, HEIGHT); y++)
    for (int x = MAX (x0, 0); x < MIN (x0 + w, WIDTH); x++)
      img[y * WIDTH + x] = value;
}

static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1), v = g_rand_double (rand);

  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* A share link as latchkey-cli makes one: a car share on a relay, a v4 UUID
 * and a 32-byte secret. */
static char *
make_link (GRand *rand)
{
  guint8 id[16], secret[32];
  g_autofree char *uuid = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkSecureString) text = NULL;

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
  link = lk_share_link_new ("https://relay.example", uuid, LK_VERTICAL_CAR, bytes, &error);
  if (link == NULL)
    fail ("share link: %s", error->message);
  text = lk_share_link_to_string (link);
  return g_strdup (text);
}

/* Draws the frame and saves it as @path; returns the QR version and its
 * width in modules through the out arguments. */
static void
make_frame (const char *path,
            const char *link,
            GRand      *rand,
            int        *version,
            int        *modules)
{
  QRcode *qr = QRcode_encodeString8bit (link, 0, QR_ECLEVEL_M);
  g_autofree double *low = value_noise (rand, 160);
  g_autofree double *mid = value_noise (rand, 40);
  g_autofree double *fine = value_noise (rand, 9);
  g_autofree double *img = g_new (double, WIDTH * HEIGHT);
  g_autofree double *tmp = g_new (double, WIDTH * HEIGHT);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  double c = cos (ANGLE_DEG * G_PI / 180), s = sin (ANGLE_DEG * G_PI / 180);
  int card, border;
  double half, reach;
  guint8 *pixels;
  int rowstride;

  if (qr == NULL)
    fail ("libqrencode could not encode the link");
  *version = qr->version;
  *modules = qr->width;
  border = QUIET + CARD_MARGIN;
  card = qr->width + 2 * border;
  half = card * MODULE_PX / 2;
  reach = half * (fabs (c) + fabs (s)) + 2;

  /* A desk: smooth texture, objects, cables, a printed page. */
  for (guint i = 0; i < WIDTH * HEIGHT; i++)
    img[i] = 112 + 38 * low[i] + 16 * mid[i] + 7 * fine[i];
  for (guint i = 0; i < 45; i++)
    {
      int w = g_rand_int_range (rand, 20, 220), h = g_rand_int_range (rand, 10, 140);

      fill_rect (img, g_rand_int_range (rand, -40, WIDTH), g_rand_int_range (rand, -40, HEIGHT), w, h,
                 g_rand_double_range (rand, 25, 235));
    }
  for (guint i = 0; i < 25; i++)
    {
      gboolean across = g_rand_boolean (rand);
      int len = g_rand_int_range (rand, 80, 500), thick = g_rand_int_range (rand, 2, 6);

      fill_rect (img, g_rand_int_range (rand, -40, WIDTH), g_rand_int_range (rand, -40, HEIGHT),
                 across ? len : thick, across ? thick : len, g_rand_double_range (rand, 15, 90));
    }
  fill_rect (img, 60, 400, 480, 300, 214);
  for (int y = 420; y < 680; y += 10)
    for (int x = 80; x < 520;)
      {
        int w = g_rand_int_range (rand, 3, 16);

        fill_rect (img, x, y, MIN (w, 520 - x), 4, 40);
        x += w + g_rand_int_range (rand, 2, 6) + (g_rand_int_range (rand, 0, 6) == 0 ? 8 : 0);
      }

  /* The card with the code, 4 × 4 samples a pixel. */
  for (int y = (int) (CENTRE_Y - reach); y <= (int) (CENTRE_Y + reach); y++)
    for (int x = (int) (CENTRE_X - reach); x <= (int) (CENTRE_X + reach); x++)
      {
        double sum = 0;
        guint inside = 0;

        if (x < 0 || y < 0 || x >= WIDTH || y >= HEIGHT)
          continue;
        for (int j = 0; j < 4; j++)
          for (int i = 0; i < 4; i++)
            {
              double dx = x + (i + 0.5) / 4 - CENTRE_X, dy = y + (j + 0.5) / 4 - CENTRE_Y;
              double u = (c * dx + s * dy + half) / MODULE_PX, v = (-s * dx + c * dy + half) / MODULE_PX;
              int mx = (int) floor (u) - border, my = (int) floor (v) - border;

              if (u < 0 || v < 0 || u >= card || v >= card)
                {
                  sum += img[y * WIDTH + x];
                  continue;
                }
              inside++;
              if (mx >= 0 && my >= 0 && mx < qr->width && my < qr->width && (qr->data[my * qr->width + mx] & 1))
                sum += CARD_DARK;
              else
                sum += CARD_LIGHT;
            }
        if (inside > 0)
          img[y * WIDTH + x] = sum / 16;
      }
  QRcode_free (qr);

  /* Uneven light: brighter towards the upper left, darker in the corners. */
  for (guint y = 0; y < HEIGHT; y++)
    for (guint x = 0; x < WIDTH; x++)
      {
        double dx = (x - 480.0) / WIDTH, dy = (y - 220.0) / WIDTH;

        img[y * WIDTH + x] *= 1.04 - 0.9 * (dx * dx + dy * dy);
      }

  /* Slightly out of focus: a 5-tap binomial blur each way (sigma 1 px). */
  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      {
        double sum = 0;

        for (int k = -2; k <= 2; k++)
          sum += blur_kernel[k + 2] * img[y * WIDTH + CLAMP (x + k, 0, WIDTH - 1)];
        tmp[y * WIDTH + x] = sum;
      }
  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      {
        double sum = 0;

        for (int k = -2; k <= 2; k++)
          sum += blur_kernel[k + 2] * tmp[CLAMP (y + k, 0, HEIGHT - 1) * WIDTH + x];
        img[y * WIDTH + x] = sum;
      }

  /* Warm light, and noise in each channel. */
  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, WIDTH, HEIGHT);
  pixels = gdk_pixbuf_get_pixels (pixbuf);
  rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      {
        static const double tint[3] = { 1.05, 1.0, 0.88 };
        guint8 *p = pixels + (gsize) y * rowstride + (gsize) x * 3;

        for (int k = 0; k < 3; k++)
          p[k] = (guint8) CLAMP (lround (img[y * WIDTH + x] * tint[k] + NOISE_SIGMA * gaussian (rand)), 0, 255);
      }

  if (!gdk_pixbuf_save (pixbuf, path, "png", &error, NULL))
    fail ("%s: %s", path, error->message);
}

/* ------------------------------------------------------------------------- */
/* Our side                                                                   */

static guint8 *
pixbuf_to_gray (GdkPixbuf *pixbuf)
{
  int w = gdk_pixbuf_get_width (pixbuf), h = gdk_pixbuf_get_height (pixbuf);
  int n = gdk_pixbuf_get_n_channels (pixbuf), rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  guint8 *gray = g_malloc ((gsize) w * h);

  /* The same weights as lk_qr_decoder_decode_rgba(). */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = pixels + (gsize) y * rowstride + (gsize) x * n;

        gray[(gsize) y * w + x] = (guint8) ((299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u);
      }
  return gray;
}

/* What reading an image file would do: load it, give the decoder RGBA. */
static char *
load_and_decode (LkQrDecoder *decoder,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GdkPixbuf) loaded = gdk_pixbuf_new_from_file (path, error);
  g_autoptr(GdkPixbuf) rgba = NULL;

  if (loaded == NULL)
    return NULL;
  rgba = gdk_pixbuf_get_has_alpha (loaded) ? g_object_ref (loaded) : gdk_pixbuf_add_alpha (loaded, FALSE, 0, 0, 0);
  return lk_qr_decoder_decode_rgba (decoder, gdk_pixbuf_read_pixels (rgba),
                                    gdk_pixbuf_get_width (rgba), gdk_pixbuf_get_height (rgba),
                                    gdk_pixbuf_get_rowstride (rgba), LK_QR_DECODE_NONE, error);
}

static int
run_once (const char *path)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = load_and_decode (decoder, path, &error);

  if (text == NULL)
    {
      fprintf (stderr, "bench-scan: %s: %s\n", path, error->message);
      return 1;
    }
  fputs (text, stdout);
  return 0;
}

/* ------------------------------------------------------------------------- */
/* Processes                                                                  */

/* Runs @argv, its output into @out; returns the wall time in ms, from just
 * before the spawn to the reaped exit, its CPU time (user + system, every
 * thread) in @cpu and its exit status in @status. */
static double
run_process (Bench       *bench,
             const char **argv,
             GString     *out,
             double      *cpu,
             int         *status)
{
  struct rusage usage;
  g_autoptr(GError) error = NULL;
  posix_spawn_file_actions_t actions;
  int fds[2];
  pid_t pid;
  double start, end;
  char buf[4096];
  ssize_t n;
  int rc, wstatus;

  g_string_truncate (out, 0);
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, &error))
    fail ("pipe: %s", error->message);
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2 (&actions, bench->log_fd, 2);

  start = now_ms ();
  rc = posix_spawn (&pid, argv[0], &actions, NULL, (char *const *) argv, bench->envp);
  if (rc != 0)
    fail ("%s: %s", argv[0], g_strerror (rc));
  close (fds[1]);
  while ((n = read (fds[0], buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        fail ("read: %s", g_strerror (errno));
      g_string_append_len (out, buf, n);
    }
  while (wait4 (pid, &wstatus, 0, &usage) < 0)
    if (errno != EINTR)
      fail ("wait4: %s", g_strerror (errno));
  end = now_ms ();
  *cpu = usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 +
         usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;

  close (fds[0]);
  posix_spawn_file_actions_destroy (&actions);
  *status = WIFEXITED (wstatus) ? WEXITSTATUS (wstatus) : 128 + WTERMSIG (wstatus);
  return end - start;
}

/* One measurement, its wall time returned and its CPU time in @cpu;
 * checks what it read. */
static double
measure (Bench  *bench,
         guint   what,
         double *cpu)
{
  const char *zbarimg[] = { bench->zbarimg, "-q", "--raw", "-Sbinary", "--nodbus", bench->frame, NULL };
  const char *zbarimg_qr[] = { bench->zbarimg, "-q", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary",
                               "--nodbus", bench->frame, NULL };
  const char *zbarimg_noscan[] = { bench->zbarimg, "-q", "--raw", "-Sx-density=0", "-Sy-density=0", "-Sbinary",
                                   "--nodbus", bench->frame, NULL };
  const char *ours[] = { bench->self, "--once", bench->frame, NULL };
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char **argv = NULL;
  double start, start_cpu, ms = 0;
  int status, expected = 0;

  switch (what)
    {
    case OURS_GRAY:
      start_cpu = cpu_ms ();
      start = now_ms ();
      text = lk_qr_decoder_decode_gray (bench->decoder, bench->gray, WIDTH, HEIGHT, WIDTH, LK_QR_DECODE_NONE, &error);
      ms = now_ms () - start;
      *cpu = cpu_ms () - start_cpu;
      break;

    case OURS_LOAD:
      start_cpu = cpu_ms ();
      start = now_ms ();
      text = load_and_decode (bench->decoder, bench->frame, &error);
      ms = now_ms () - start;
      *cpu = cpu_ms () - start_cpu;
      break;

    case OURS_PROCESS:
      argv = ours;
      break;
    case ZBARIMG:
      argv = zbarimg;
      break;
    case ZBARIMG_QR:
      argv = zbarimg_qr;
      break;
    case ZBARIMG_NOSCAN:
      argv = zbarimg_noscan;
      expected = 4;             /* zbarimg's "no symbol found" */
      break;
    default:
      g_assert_not_reached ();
    }

  if (argv != NULL)
    {
      ms = run_process (bench, argv, out, cpu, &status);
      if (status != expected)
        fail ("%s: exit status %d, not %d (its messages are in stderr.log)", labels[what], status, expected);
      text = g_string_free (g_steal_pointer (&out), FALSE);
      if (what == ZBARIMG_NOSCAN)
        {
          if (*text != '\0')
            fail ("%s read something: %s", labels[what], text);
          return ms;
        }
    }

  if (text == NULL)
    fail ("%s: %s", labels[what], error ? error->message : "nothing read");
  if (strcmp (text, bench->link) != 0)
    fail ("%s read “%s”, not the link", labels[what], text);
  return ms;
}

/* ------------------------------------------------------------------------- */
/* Figures                                                                    */

static int
compare (gconstpointer a,
         gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

typedef struct
{
  double median, min, max;
} Stats;

static Stats
stats (const double *values,
       guint         n)
{
  g_autofree double *v = g_memdup2 (values, n * sizeof *v);
  Stats s;

  qsort (v, n, sizeof *v, compare);
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.min = v[0];
  s.max = v[n - 1];
  return s;
}

static void
print_row (const char *label,
           guint       runs,
           Stats       s,
           Stats       cpu)
{
  printf ("  %-44s %4u %8.1f %8.1f %8.1f %9.1f\n", label, runs, s.median, s.min, s.max, cpu.median);
}

static void
print_ratio (const char *label,
             double      ratio,
             const char *note)
{
  printf ("  %-42s %5.2f  %s\n", label, ratio, note);
}

static int
run_bench (const char *zbarimg,
           const char *dir,
           guint       runs)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (SEED);
  g_autofree char *link = make_link (rand);
  g_autofree char *frame = g_build_filename (dir, "frame.png", NULL);
  g_autofree char *log_path = g_build_filename (dir, "stderr.log", NULL);
  g_autoptr(GdkPixbuf) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkShareLink) parsed = NULL;
  double *ms[N_MEASUREMENTS] = { NULL, }, *cpu[N_MEASUREMENTS] = { NULL, };
  g_autofree double *diff = g_new (double, runs);
  g_autofree double *diff_qr = g_new (double, runs);
  g_autofree double *diff_cpu = g_new (double, runs);
  g_autofree double *diff_qr_cpu = g_new (double, runs);
  Stats st[N_MEASUREMENTS], st_cpu[N_MEASUREMENTS], zdecode, zdecode_qr, zdecode_cpu, zdecode_qr_cpu;
  double unused;
  Bench bench = { 0, };
  GStatBuf sb;
  int version, modules, card_px;

  make_frame (frame, link, rand, &version, &modules);
  card_px = (int) ((modules + 2 * (QUIET + CARD_MARGIN)) * MODULE_PX);
  if (g_stat (frame, &sb) != 0)
    fail ("%s: %s", frame, g_strerror (errno));

  /* The grey frame in memory, from the file, as the camera would hand it over. */
  loaded = gdk_pixbuf_new_from_file (frame, &error);
  if (loaded == NULL)
    fail ("%s: %s", frame, error->message);
  if (gdk_pixbuf_get_width (loaded) != WIDTH || gdk_pixbuf_get_height (loaded) != HEIGHT)
    fail ("%s: not %d×%d", frame, WIDTH, HEIGHT);

  bench.frame = frame;
  bench.zbarimg = zbarimg;
  bench.self = g_file_read_link ("/proc/self/exe", &error);
  if (bench.self == NULL)
    fail ("/proc/self/exe: %s", error->message);
  bench.link = link;
  bench.envp = g_get_environ ();
  bench.log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (bench.log_fd < 0)
    fail ("%s: %s", log_path, g_strerror (errno));
  bench.gray = pixbuf_to_gray (loaded);
  bench.decoder = lk_qr_decoder_new ();

  parsed = lk_share_link_parse (link, &error);
  if (parsed == NULL)
    fail ("the link does not parse: %s", error->message);

  printf ("Frame:     %d×%d RGB PNG, %.2f MiB, made with seed %d (the same every run)\n",
          WIDTH, HEIGHT, sb.st_size / 1048576.0, SEED);
  printf ("           QR version %d-M (%d modules, byte mode, libqrencode), %.0f px a module,\n",
          version, modules, MODULE_PX);
  printf ("           %d-module quiet zone + %d more on a light card (%d px square), rotated %.0f°,\n",
          QUIET, CARD_MARGIN, card_px, ANGLE_DEG);
  printf ("           centred at (%.0f, %.0f); background: textured desk, boxes, cables, a page of\n",
          CENTRE_X, CENTRE_Y);
  printf ("           text-like strokes; uneven warm light, 1 px blur, sensor noise sigma %.0f a channel\n",
          NOISE_SIGMA);
  printf ("Link:      %s (%zu bytes)\n", link, strlen (link));

  /* Everyone reads the exact link before anything is timed (and every run
   * is checked again as it is timed). */
  for (guint i = 0; i < N_MEASUREMENTS; i++)
    measure (&bench, i, &unused);
  printf ("Checked:   all of the below read exactly the link (zbarimg with scanning off reads\n");
  printf ("           nothing, exit status 4); each run is checked again as it is timed\n\n");
  fflush (stdout);

  for (guint i = 0; i < N_MEASUREMENTS; i++)
    {
      ms[i] = g_new (double, runs);
      cpu[i] = g_new (double, runs);
    }
  for (guint round = 0; round < WARM_UP + runs; round++)
    for (guint k = 0; k < N_MEASUREMENTS; k++)
      {
        guint what = (round + k) % N_MEASUREMENTS;
        double c = 0, t = measure (&bench, what, &c);

        if (round >= WARM_UP)
          {
            ms[what][round - WARM_UP] = t;
            cpu[what][round - WARM_UP] = c;
          }
      }

  for (guint i = 0; i < N_MEASUREMENTS; i++)
    {
      st[i] = stats (ms[i], runs);
      st_cpu[i] = stats (cpu[i], runs);
    }
  for (guint r = 0; r < runs; r++)
    {
      diff[r] = ms[ZBARIMG][r] - ms[ZBARIMG_NOSCAN][r];
      diff_qr[r] = ms[ZBARIMG_QR][r] - ms[ZBARIMG_NOSCAN][r];
      diff_cpu[r] = cpu[ZBARIMG][r] - cpu[ZBARIMG_NOSCAN][r];
      diff_qr_cpu[r] = cpu[ZBARIMG_QR][r] - cpu[ZBARIMG_NOSCAN][r];
    }
  zdecode = stats (diff, runs);
  zdecode_qr = stats (diff_qr, runs);
  zdecode_cpu = stats (diff_cpu, runs);
  zdecode_qr_cpu = stats (diff_qr_cpu, runs);

  printf ("  %-44s %4s %26s %9s\n", "", "", "wall time (ms)", "CPU (ms)");
  printf ("  %-44s %4s %8s %8s %8s %9s\n", "", "runs", "median", "min", "max", "median");
  for (guint i = 0; i < N_MEASUREMENTS; i++)
    print_row (labels[i], runs, st[i], st_cpu[i]);
  printf ("  zbarimg's scan + decode, estimated as\n");
  print_row ("  whole run - scanning off, paired by round", runs, zdecode, zdecode_cpu);
  print_row ("  the same, QR only", runs, zdecode_qr, zdecode_qr_cpu);

  printf ("\nRatios, ours / zbarimg (medians; target <= 1.0, \"no slower\"):\n");
  print_ratio ("load + decode  /  zbarimg whole run", st[OURS_LOAD].median / st[ZBARIMG].median,
               st[OURS_LOAD].median <= st[ZBARIMG].median ? "PASS   <- headline (both read the PNG file)"
                                                          : "MISS   <- headline (both read the PNG file)");
  print_ratio ("decode only    /  zbarimg whole run", st[OURS_GRAY].median / st[ZBARIMG].median,
               "(information: the camera path; zbarimg also starts and loads)");
  print_ratio ("a process      /  zbarimg whole run", st[OURS_PROCESS].median / st[ZBARIMG].median,
               "(information: both start a process, load, decode, print)");
  print_ratio ("decode only    /  zbarimg's scan + decode", st[OURS_GRAY].median / zdecode.median,
               "(information: decode against decode)");
  print_ratio ("decode only    /  the same, QR only", st[OURS_GRAY].median / zdecode_qr.median,
               "(information: the same symbologies on both sides)");

  close (bench.log_fd);
  g_free (bench.gray);
  g_free (bench.self);
  g_strfreev (bench.envp);
  g_object_unref (bench.decoder);
  for (guint i = 0; i < N_MEASUREMENTS; i++)
    {
      g_free (ms[i]);
      g_free (cpu[i]);
    }
  return 0;
}

/* ------------------------------------------------------------------------- */
/* The generated set                                                          */

static double
thread_cpu_ms (void)
{
  return clock_ms (CLOCK_THREAD_CPUTIME_ID);
}

static double
percentile (double *values,
            guint   n,
            double  p)
{
  qsort (values, n, sizeof (double), compare);
  return values[MIN ((guint) (p * n), n - 1)];
}

/* Every variant the decoder knows, in the images' order, then the camera's
 * tiles as one line. */
typedef struct
{
  char     *name;
  gboolean *read;          /* per frame */
  double   *ms;            /* per frame, CPU: the variant made + zbar */
  guint     n_read;
} VariantRow;

static int
run_set (const char *zbarimg,
         guint       n,
         const char *dir)
{
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  guint n_images, n_steps, n_rows;
  const LkQrVariant *images = lk_qr_variants_for_images (&n_images);
  const LkQrCameraStep *steps = lk_qr_variants_for_camera (&n_steps);
  g_autofree VariantRow *rows = NULL;
  g_autofree gboolean *covered = g_new0 (gboolean, n);
  g_autofree double *camera_ms = g_new (double, (gsize) n * n_steps);
  g_autofree double *camera_cpu = g_new (double, (gsize) n * n_steps);
  g_autofree guint *camera_frames = g_new0 (guint, n);
  g_autofree char *log_path = g_build_filename (dir, "stderr.log", NULL);
  guint read_zbarimg = 0, read_plain = 0, read_images = 0, read_camera = 0, n_camera = 0;
  double zbarimg_ms = 0;
  Bench bench = { 0 };

  bench.envp = g_get_environ ();
  bench.log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (bench.log_fd < 0)
    fail ("%s: %s", log_path, g_strerror (errno));

  /* The plain frame, then each of the images' variants, then the camera's
   * enlarged tiles (one row: any tile). */
  n_rows = 1 + n_images + 2;
  rows = g_new0 (VariantRow, n_rows);
  rows[0].name = g_strdup ("plain (the frame as it is)");
  for (guint v = 0; v < n_images; v++)
    rows[1 + v].name = lk_qr_variant_to_string (&images[v]);
  rows[n_rows - 2].name = g_strdup ("camera only: half");
  rows[n_rows - 1].name = g_strdup ("camera only: double+threshold, 9 tiles (each)");
  for (guint r = 0; r < n_rows; r++)
    {
      rows[r].read = g_new0 (gboolean, n);
      rows[r].ms = g_new0 (double, n);
    }

  printf ("Frames:    %u generated webcam frames, seeds 1 to %u (tests/lk-test-frames.c), 1280x720,\n", n, n);
  printf ("           saved as RGB PNG for zbarimg; ours reads the same pixels as BT.601 luma\n");
  printf ("Reading:   every read checked against the frame's exact link (a wrong read would stop the run)\n\n");
  fflush (stdout);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LkTestFrame) frame = lk_test_frame_new (1 + i);
      g_autofree char *path = g_strdup_printf ("%s/frame-%03u.png", dir, 1 + i);
      g_autoptr(GError) error = NULL;
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(LkQrDecoder) still = lk_qr_decoder_new ();
      g_autofree char *all = NULL;
      const char *argv[] = { zbarimg, "-q", "--raw", "-Sbinary", "--nodbus", path, NULL };
      double cpu;
      int status;

      if (!lk_test_frame_save_png (frame, path, &error))
        fail ("%s: %s", path, error->message);
      bench.frame = path;

      zbarimg_ms += run_process (&bench, argv, out, &cpu, &status);
      if (status == 0)
        {
          if (out->len > 0 && out->str[out->len - 1] == '\n')
            g_string_truncate (out, out->len - 1);
          if (strcmp (out->str, frame->link) != 0)
            fail ("zbarimg read something else than the link in %s", path);
          read_zbarimg++;
        }

      /* Each variant alone, timed. */
      for (guint r = 0; r < n_rows - 1; r++)
        {
          static const LkQrVariant plain = { { LK_QR_STEP_END } };
          static const LkQrVariant half = { { LK_QR_STEP_HALF, LK_QR_STEP_END } };
          const LkQrVariant *variant = r == 0 ? &plain : r == n_rows - 2 ? &half : &images[r - 1];
          double start = thread_cpu_ms ();
          g_autofree char *text = lk_qr_decoder_decode_variant (decoder, variant, frame->gray, LK_TEST_FRAME_WIDTH,
                                                                LK_TEST_FRAME_HEIGHT);

          rows[r].ms[i] = thread_cpu_ms () - start;
          if (text != NULL && strcmp (text, frame->link) != 0)
            fail ("%s read something else than the link in frame %u", rows[r].name, 1 + i);
          rows[r].read[i] = text != NULL;
          rows[r].n_read += text != NULL;
        }
      for (guint k = 0; k < n_steps; k++)
        if (steps[k].variants[0].tile > 0)
          {
            double start = thread_cpu_ms ();
            g_autofree char *text = lk_qr_decoder_decode_variant (decoder, &steps[k].variants[0], frame->gray,
                                                                  LK_TEST_FRAME_WIDTH, LK_TEST_FRAME_HEIGHT);
            VariantRow *row = &rows[n_rows - 1];

            row->ms[i] += (thread_cpu_ms () - start) / LK_QR_N_TILES;
            if (text != NULL && strcmp (text, frame->link) != 0)
              fail ("a tile read something else than the link in frame %u", 1 + i);
            if (text != NULL && !row->read[i])
              row->n_read++;
            row->read[i] |= text != NULL;
          }
      read_plain += rows[0].read[i];

      all = lk_qr_decoder_decode_gray (decoder, frame->gray, LK_TEST_FRAME_WIDTH, LK_TEST_FRAME_HEIGHT,
                                       LK_TEST_FRAME_WIDTH, LK_QR_DECODE_ALL_VARIANTS, NULL);
      if (all != NULL && strcmp (all, frame->link) != 0)
        fail ("the image path read something else than the link in frame %u", 1 + i);
      read_images += all != NULL;

      /* The camera path: the frame held still for a whole round, every
       * call timed whether it reads or not, as a camera thread runs it. */
      for (guint k = 0; k < n_steps; k++)
        {
          double start = now_ms (), start_cpu = thread_cpu_ms ();
          g_autofree char *text = lk_qr_decoder_decode_frame (still, frame->gray, LK_TEST_FRAME_WIDTH,
                                                              LK_TEST_FRAME_HEIGHT, LK_TEST_FRAME_WIDTH, NULL);

          camera_ms[n_camera] = now_ms () - start;
          camera_cpu[n_camera++] = thread_cpu_ms () - start_cpu;
          if (text != NULL && strcmp (text, frame->link) != 0)
            fail ("the camera path read something else than the link in frame %u", 1 + i);
          if (text != NULL && camera_frames[i] == 0)
            camera_frames[i] = k + 1;
        }
      read_camera += camera_frames[i] > 0;
    }

  printf ("Read rate on the set (the same frames, this run):\n");
  printf ("  %-52s %4u / %u  (%3.0f%%)\n", "zbarimg -Sbinary (whole run: load + scan)", read_zbarimg, n,
          100.0 * read_zbarimg / n);
  printf ("  %-52s %4u / %u  (%3.0f%%)\n", "ours, the frame as it is (LK_QR_DECODE_NONE)", read_plain, n,
          100.0 * read_plain / n);
  printf ("  %-52s %4u / %u  (%3.0f%%)   target >= 90%%: %s\n", "ours, images (LK_QR_DECODE_ALL_VARIANTS)",
          read_images, n, 100.0 * read_images / n, read_images * 10 >= n * 9 ? "PASS" : "MISS");
  printf ("  %-52s %4u / %u  (%3.0f%%)   target >= 90%%: %s\n", "ours, camera path, one round of frames",
          read_camera, n, 100.0 * read_camera / n, read_camera * 10 >= n * 9 ? "PASS" : "MISS");
  printf ("  (zbarimg: %.0f ms a frame, wall, process included)\n\n", zbarimg_ms / n);

  {
    g_autofree double *sorted = g_memdup2 (camera_ms, sizeof (double) * n_camera);
    g_autofree double *sorted_cpu = g_memdup2 (camera_cpu, sizeof (double) * n_camera);
    g_autofree double *frames = g_new (double, n);
    guint n_frames = 0;

    for (guint i = 0; i < n; i++)
      if (camera_frames[i] > 0)
        frames[n_frames++] = camera_frames[i];
    printf ("Camera path, time per 720p frame (lk_qr_decoder_decode_frame, %u calls: each frame held for\n"
            "a round of %u steps; one core):\n", n_camera, n_steps);
    printf ("  wall:  median %6.1f ms   p90 %6.1f ms   max %6.1f ms   target median <= 33 ms: %s\n",
            percentile (sorted, n_camera, 0.5), percentile (sorted, n_camera, 0.9),
            percentile (sorted, n_camera, 1.0), percentile (sorted, n_camera, 0.5) <= 33 ? "PASS" : "MISS");
    printf ("  CPU:   median %6.1f ms   p90 %6.1f ms   max %6.1f ms\n", percentile (sorted_cpu, n_camera, 0.5),
            percentile (sorted_cpu, n_camera, 0.9), percentile (sorted_cpu, n_camera, 1.0));
    if (n_frames > 0)
      printf ("  frames until read (of those read): median %.0f, p90 %.0f, max %.0f; at 30 fps the max is %.2f s\n\n",
              percentile (frames, n_frames, 0.5), percentile (frames, n_frames, 0.9),
              percentile (frames, n_frames, 1.0), percentile (frames, n_frames, 1.0) / 30);
  }

  /* The variants, in the images' order: each one's reads alone, what it
   * adds to those before it, its CPU cost per frame. */
  printf ("Variants, in the decoder's order for images (CPU time: the variant made + zbar, median a frame):\n");
  printf ("  %-46s %9s %12s %10s %12s\n", "variant", "alone", "extra read", "CPU ms", "extra/100ms");
  for (guint r = 0; r < n_rows; r++)
    {
      guint extra = 0;
      double median;

      for (guint i = 0; i < n; i++)
        if (rows[r].read[i] && !covered[i])
          {
            extra++;
            covered[i] = TRUE;
          }
      median = percentile (rows[r].ms, n, 0.5);
      printf ("  %-46s %4u/%-4u %12u %10.1f %12.1f\n", rows[r].name, rows[r].n_read, n, extra, median,
              100 * extra / MAX (median, 0.01));
    }
  printf ("  (the camera's round: half + invert+half+threshold, threshold, invert+threshold, plain, the 9\n"
          "  tiles, invert, sharpen; the images enlarge the whole frame instead of tiles)\n");

  for (guint r = 0; r < n_rows; r++)
    {
      g_free (rows[r].name);
      g_free (rows[r].read);
      g_free (rows[r].ms);
    }
  close (bench.log_fd);
  g_strfreev (bench.envp);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  const char *zbarimg_prefix = "--zbarimg=";
  guint64 runs;

  if (argc == 3 && strcmp (argv[1], "--once") == 0)
    return run_once (argv[2]);

  if (argc == 5 && g_str_has_prefix (argv[1], zbarimg_prefix) && strcmp (argv[2], "--set") == 0)
    {
      if (!g_ascii_string_to_unsigned (argv[3], 10, 1, 10000, &runs, NULL))
        {
          fprintf (stderr, "usage: %s --zbarimg=PATH --set N DIR\n", argv[0]);
          return 2;
        }
      setvbuf (stdout, NULL, _IOLBF, 0);
      return run_set (argv[1] + strlen (zbarimg_prefix), (guint) runs, argv[4]);
    }

  if (argc != 4 || !g_str_has_prefix (argv[1], zbarimg_prefix) ||
      !g_ascii_string_to_unsigned (argv[3], 10, 1, 100000, &runs, NULL))
    {
      fprintf (stderr, "usage: %s --zbarimg=PATH DIR RUNS | --zbarimg=PATH --set N DIR | --once FILE\n", argv[0]);
      return 2;
    }
  setvbuf (stdout, NULL, _IOLBF, 0);
  return run_bench (argv[1] + strlen (zbarimg_prefix), argv[2], (guint) runs);
}
