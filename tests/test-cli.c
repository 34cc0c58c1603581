/* test-cli.c: latchkey-cli, driven in process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-cli"

#include "config.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <qrencode.h>

#include "cli-command.h"
#include "lk-process.h"
#include "lk-qr-decoder.h"
#include "lk-test-frames.h"

typedef struct
{
  int   status;
  char *out;
  char *err;
} Result;

static void
result_clear (Result *result)
{
  g_free (result->out);
  g_free (result->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static void
run_args (Result    *result,
          GBytes    *input,
          va_list    args)
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (input);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) err = g_memory_output_stream_new_resizable ();
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *arg;

  g_ptr_array_add (argv, (gpointer) "latchkey-cli");
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);

  result->status = cli_run (argv->len - 1, (char **) argv->pdata, in, out, err);
  g_output_stream_write (out, "", 1, NULL, NULL);
  g_output_stream_write (err, "", 1, NULL, NULL);
  g_output_stream_close (out, NULL, NULL);
  g_output_stream_close (err, NULL, NULL);
  result->out = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
  result->err = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (err));
}

static void
run (Result      *result,
     const char  *input,
     ...)
{
  g_autoptr(GBytes) bytes = g_bytes_new (input, strlen (input));
  va_list args;

  va_start (args, input);
  run_args (result, bytes, args);
  va_end (args);
}

/* With binary standard input. */
static void
run_bytes (Result  *result,
           GBytes  *input,
           ...)
{
  va_list args;

  va_start (args, input);
  run_args (result, input, args);
  va_end (args);
}

static void
test_usage (void)
{
  g_auto(Result) none = { 0 };
  g_auto(Result) help = { 0 };
  g_auto(Result) unknown = { 0 };
  g_auto(Result) version = { 0 };

  run (&none, "", NULL);
  g_assert_cmpint (none.status, ==, CLI_EXIT_USAGE);
  g_assert_nonnull (strstr (none.err, "inspect-link"));

  run (&help, "", "--help", NULL);
  g_assert_cmpint (help.status, ==, CLI_EXIT_OK);
  g_assert_nonnull (strstr (help.out, "Exit codes"));

  run (&unknown, "", "frobnicate", NULL);
  g_assert_cmpint (unknown.status, ==, CLI_EXIT_USAGE);
  g_assert_nonnull (strstr (unknown.err, "frobnicate"));

  run (&version, "", "--version", NULL);
  g_assert_cmpint (version.status, ==, CLI_EXIT_OK);
  g_assert_nonnull (strstr (version.out, PACKAGE_VERSION));
}

static void
test_inspect_link (void)
{
  g_auto(Result) good = { 0 };
  g_auto(Result) bad = { 0 };
  g_auto(Result) empty = { 0 };
  g_auto(Result) extra = { 0 };

  run (&good, "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=c#hXlr6aRC7KgJpOLTNZaLsw==\n",
       "inspect-link", NULL);
  g_assert_cmpint (good.status, ==, CLI_EXIT_OK);
  g_assert_nonnull (strstr (good.out, "vertical: car"));
  g_assert_nonnull (strstr (good.out, "mailbox: 6ba7b810-9dad-11d1-80b4-00c04fd430c8"));
  g_assert_null (strstr (good.out, "hXlr6a"));

  /* Issue 13: parameters a messenger added, and the secret sent apart. */
  {
    g_auto(Result) apart = { 0 };
    g_auto(Result) no_secret = { 0 };

    run (&apart, "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=h&fbclid=IwAR0&utm_source=x\n"
                 "hXlr6aRC7KgJpOLTNZaLsw==\n", "inspect-link", NULL);
    g_assert_cmpint (apart.status, ==, CLI_EXIT_OK);
    g_assert_nonnull (strstr (apart.out, "vertical: home"));
    g_assert_nonnull (strstr (apart.out, "secret: 16 bytes"));
    run (&no_secret, "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=h\n", "inspect-link", NULL);
    g_assert_cmpint (no_secret.status, ==, CLI_EXIT_BAD_INPUT);
    g_assert_nonnull (strstr (no_secret.err, "secret"));
  }

  run (&bad, "https://relay.example/v1/m/nope#hXlr6aRC7KgJpOLTNZaLsw==\n", "inspect-link", NULL);
  g_assert_cmpint (bad.status, ==, CLI_EXIT_BAD_INPUT);
  g_assert_nonnull (strstr (bad.err, "UUID"));

  run (&empty, "", "inspect-link", NULL);
  g_assert_cmpint (empty.status, ==, CLI_EXIT_BAD_INPUT);

  /* The link is never taken from the command line. */
  run (&extra, "", "inspect-link", "https://relay.example/", NULL);
  g_assert_cmpint (extra.status, ==, CLI_EXIT_USAGE);
}

/* One rule for every server address, from the command line or the
 * environment: https, or http to this machine only. */
static void
test_server_urls (void)
{
  static const char * const bad[] = {
    "http://relay.example",
    "http://10.0.0.7:8080",
    "ftp://relay.example",
    "https://user@relay.example",
    "https://relay.example/path",
    "not a url",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto(Result) relay = { 0 };
      g_auto(Result) partner = { 0 };
      g_auto(Result) env_relay = { 0 };
      g_auto(Result) env_partner = { 0 };

      run (&relay, "", "--relay", bad[i], "list", NULL);
      g_assert_cmpint (relay.status, ==, CLI_EXIT_USAGE);
      g_assert_nonnull (strstr (relay.err, "--relay"));

      run (&partner, "", "--partner", bad[i], "enroll", "home", NULL);
      g_assert_cmpint (partner.status, ==, CLI_EXIT_USAGE);
      g_assert_nonnull (strstr (partner.err, "--partner"));

      g_setenv ("LATCHKEY_RELAY_URL", bad[i], TRUE);
      run (&env_relay, "", "list", NULL);
      g_unsetenv ("LATCHKEY_RELAY_URL");
      g_assert_cmpint (env_relay.status, ==, CLI_EXIT_USAGE);
      g_assert_nonnull (strstr (env_relay.err, "LATCHKEY_RELAY_URL"));

      g_setenv ("LATCHKEY_PARTNER_URL", bad[i], TRUE);
      run (&env_partner, "", "enroll", "car", NULL);
      g_unsetenv ("LATCHKEY_PARTNER_URL");
      g_assert_cmpint (env_partner.status, ==, CLI_EXIT_USAGE);
      g_assert_nonnull (strstr (env_partner.err, "LATCHKEY_PARTNER_URL"));
    }

  /* Loopback may use http (a relay on this machine), and the option wins
   * over the environment. */
  {
    g_auto(Result) ok = { 0 };

    g_setenv ("LATCHKEY_RELAY_URL", "http://relay.example", TRUE);
    run (&ok, "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=c#hXlr6aRC7KgJpOLTNZaLsw==\n",
         "--relay", "http://127.0.0.1:8080", "--partner", "http://[::1]:9", "inspect-link", NULL);
    g_unsetenv ("LATCHKEY_RELAY_URL");
    g_assert_cmpint (ok.status, ==, CLI_EXIT_OK);
  }
}

/* Core dumps of the app and the CLI could hold keyring secrets. */
static void
test_harden (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      struct rlimit limit;

      g_assert_cmpint (prctl (PR_GET_DUMPABLE, 0, 0, 0, 0), ==, 1);
      g_assert_true (lk_process_harden (&error));
      g_assert_no_error (error);
      g_assert_cmpint (prctl (PR_GET_DUMPABLE, 0, 0, 0, 0), ==, 0);
      g_assert_cmpint (getrlimit (RLIMIT_CORE, &limit), ==, 0);
      g_assert_cmpuint (limit.rlim_cur, ==, 0);
      g_assert_cmpuint (limit.rlim_max, ==, 0);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Allows core dumps in the child, so that turning them off shows. */
static void
allow_core_dumps (gpointer user_data)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_CORE, &limit) == 0 && limit.rlim_max != 0)
    {
      limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? 1024 * 1024 : limit.rlim_max;
      setrlimit (RLIMIT_CORE, &limit);
    }
}

static gboolean
core_limit_is_zero (const char *pid)
{
  g_autofree char *path = g_build_filename ("/proc", pid, "limits", NULL);
  g_autofree char *limits = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &limits, NULL, NULL))
    return FALSE;
  lines = g_strsplit (limits, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "Max core file size"))
      {
        g_auto(GStrv) fields = g_strsplit_set (lines[i] + strlen ("Max core file size"), " ", -1);
        guint zeros = 0;

        for (guint j = 0; fields[j] != NULL; j++)
          zeros += strcmp (fields[j], "0") == 0;
        return zeros == 2;
      }
  return FALSE;
}

/* The real latchkey-cli, waiting for a link on standard input: no core
 * dumps from the start of main(). */
static void
test_no_core_dumps (void)
{
  const char *cli = g_getenv ("LATCHKEY_CLI");
  const char *argv[] = { cli, "receive", NULL };
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  struct rlimit limit;
  const char *pid;
  gint64 deadline;

  g_assert_nonnull (cli);
  if (getrlimit (RLIMIT_CORE, &limit) == 0 && limit.rlim_max == 0)
    {
      g_test_skip ("Core dumps are off for this test already; turning them off cannot show");
      return;
    }

  g_subprocess_launcher_set_child_setup (launcher, allow_core_dumps, NULL, NULL);
  g_subprocess_launcher_unsetenv (launcher, "LATCHKEY_RELAY_URL");
  g_subprocess_launcher_unsetenv (launcher, "LATCHKEY_PARTNER_URL");
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  pid = g_subprocess_get_identifier (process);

  /* It turns them off at once, then waits on its input. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!core_limit_is_zero (pid) && g_get_monotonic_time () < deadline)
    g_usleep (10 * 1000);
  g_assert_true (core_limit_is_zero (pid));

  /* Non-dumpable: its /proc files belong to root, so another process of
   * the same user cannot read its memory. (Root can anyway.) */
  if (getuid () != 0)
    {
      g_autofree char *path = g_build_filename ("/proc", pid, "environ", NULL);
      GStatBuf st;

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpuint (st.st_uid, ==, 0);
    }

  g_subprocess_force_exit (process);
  g_subprocess_wait (process, NULL, NULL);
}

static char *
temp_path (const char *name)
{
  static char *dir = NULL;

  if (dir == NULL)
    dir = g_dir_make_tmp ("test-cli-XXXXXX", NULL);
  return g_build_filename (dir, name, NULL);
}

/* @text as a clean QR code, 4 px a module with its quiet zone, as a PNG. */
static char *
qr_png (const char *text,
        const char *name)
{
  QRcode *qr = QRcode_encodeString8bit (text, 0, QR_ECLEVEL_M);
  int side = (qr->width + 8) * 4;
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, side, side);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  char *path = temp_path (name);

  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      {
        int mx = x / 4 - 4, my = y / 4 - 4;
        gboolean dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width && (qr->data[my * qr->width + mx] & 1);

        memset (pixels + y * rowstride + x * 3, dark ? 0 : 255, 3);
      }
  QRcode_free (qr);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", NULL, NULL));
  return path;
}

static guint32
crc32 (const guint8 *data,
       gsize         len)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
    }
  return ~crc;
}

static void
png_chunk (GByteArray   *png,
           const char   *type,
           const guint8 *data,
           guint32       len)
{
  g_autoptr(GByteArray) body = g_byte_array_new ();
  guint32 be = GUINT32_TO_BE (len), crc;

  g_byte_array_append (body, (const guint8 *) type, 4);
  if (len > 0)
    g_byte_array_append (body, data, len);
  crc = GUINT32_TO_BE (crc32 (body->data, body->len));
  g_byte_array_append (png, (const guint8 *) &be, 4);
  g_byte_array_append (png, body->data, body->len);
  g_byte_array_append (png, (const guint8 *) &crc, 4);
}

/* 50 kB that decode to 20000 × 20000 pixels: 400 megapixels, 1.2 GB as
 * the RGB pixbuf a loader would make. 1-bit grey rows of zeros. */
#define HUGE_SIDE 20000

static GBytes *
huge_png (void)
{
  static const guint8 signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  guint8 ihdr[13] = { 0, 0, HUGE_SIDE >> 8, HUGE_SIDE & 0xff, 0, 0, HUGE_SIDE >> 8, HUGE_SIDE & 0xff, 1, 0, 0, 0, 0 };
  g_autoptr(GConverter) zlib = G_CONVERTER (g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9));
  gsize raw_size = (gsize) HUGE_SIDE * (1 + HUGE_SIDE / 8);
  g_autofree guint8 *zeros = g_malloc0 (raw_size);
  g_autofree guint8 *idat = g_malloc (256 * 1024);
  gsize read, written;
  GByteArray *png = g_byte_array_new ();

  g_assert_cmpint (g_converter_convert (zlib, zeros, raw_size, idat, 256 * 1024, G_CONVERTER_INPUT_AT_END, &read,
                                        &written, NULL), ==, G_CONVERTER_FINISHED);
  g_assert_cmpuint (read, ==, raw_size);
  g_byte_array_append (png, signature, sizeof signature);
  png_chunk (png, "IHDR", ihdr, sizeof ihdr);
  png_chunk (png, "IDAT", idat, (guint32) written);
  png_chunk (png, "IEND", NULL, 0);
  return g_byte_array_free_to_bytes (png);
}

static glong
max_rss_kb (void)
{
  struct rusage usage;

  g_assert_no_errno (getrusage (RUSAGE_SELF, &usage));
  return usage.ru_maxrss;
}

static void
test_scan (void)
{
  g_autoptr(LkTestFrame) small = lk_test_frame_new (12);     /* read only by variants */
  g_autoptr(LkTestFrame) dark = lk_test_frame_new (2);       /* light on dark */
  g_autofree char *frame_path = temp_path ("frame.png");
  g_autofree char *text_path = temp_path ("notes.txt");
  g_autofree char *wifi_path = qr_png ("WIFI:S:cafe;T:WPA;P:hunter2;;", "wifi.png");
  g_autofree char *expected = g_strconcat (small->link, "\n", NULL);
  g_autofree char *expected_dark = g_strconcat (dark->link, "\n", NULL);
  g_autofree char *jpeg = NULL;
  g_autoptr(GBytes) jpeg_bytes = NULL;
  g_autoptr(GBytes) huge = huge_png ();
  g_autoptr(GdkPixbuf) dark_pixbuf = NULL;
  g_autoptr(GBytes) dark_bytes = NULL;
  g_autoptr(GError) error = NULL;
  gsize jpeg_len;
  glong rss;
  g_auto(Result) file = { 0 };
  g_auto(Result) piped = { 0 };
  g_auto(Result) wifi = { 0 };
  g_auto(Result) text = { 0 };
  g_auto(Result) big = { 0 };
  g_auto(Result) missing = { 0 };
  g_auto(Result) usage = { 0 };

  /* A webcam frame as a PNG file, and another as JPEG on standard input. */
  g_assert_true (lk_test_frame_save_png (small, frame_path, &error));
  g_assert_no_error (error);
  run (&file, "", "scan", frame_path, NULL);
  g_assert_cmpint (file.status, ==, CLI_EXIT_OK);
  g_assert_cmpstr (file.out, ==, expected);

  dark_bytes = g_bytes_new_static (dark->rgb, (gsize) LK_TEST_FRAME_WIDTH * LK_TEST_FRAME_HEIGHT * 3);
  dark_pixbuf = gdk_pixbuf_new_from_bytes (dark_bytes, GDK_COLORSPACE_RGB, FALSE, 8, LK_TEST_FRAME_WIDTH,
                                           LK_TEST_FRAME_HEIGHT, LK_TEST_FRAME_WIDTH * 3);
  g_assert_true (gdk_pixbuf_save_to_buffer (dark_pixbuf, &jpeg, &jpeg_len, "jpeg", &error, "quality", "90", NULL));
  jpeg_bytes = g_bytes_new (jpeg, jpeg_len);
  run_bytes (&piped, jpeg_bytes, "scan", "-", NULL);
  g_assert_cmpint (piped.status, ==, CLI_EXIT_OK);
  g_assert_cmpstr (piped.out, ==, expected_dark);

  /* Issue 13: a link whose secret was sent apart is printed, with a word on
   * where the secret goes. */
  {
    g_autofree char *apart_path = qr_png ("https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=h",
                                          "apart.png");
    g_auto(Result) apart = { 0 };

    run (&apart, "", "scan", apart_path, NULL);
    g_assert_cmpint (apart.status, ==, CLI_EXIT_OK);
    g_assert_cmpstr (apart.out, ==, "https://relay.example/v1/m/6ba7b810-9dad-11d1-80b4-00c04fd430c8?v=h\n");
    g_assert_nonnull (strstr (apart.err, "secret"));
    g_unlink (apart_path);
  }

  /* A code, but not ours: exit 3, and what it holds is not printed. */
  run (&wifi, "", "scan", wifi_path, NULL);
  g_assert_cmpint (wifi.status, ==, CLI_EXIT_BAD_INPUT);
  g_assert_cmpstr (wifi.out, ==, "");
  g_assert_null (strstr (wifi.err, "hunter2"));

  g_assert_true (g_file_set_contents (text_path, "not an image\n", -1, NULL));
  run (&text, "", "scan", text_path, NULL);
  g_assert_cmpint (text.status, ==, CLI_EXIT_BAD_INPUT);
  g_assert_nonnull (strstr (text.err, "PNG or JPEG"));

  /* Refused from its header, before its pixels are decoded: without the
   * check, the loader fills 1.2 GB. */
  rss = max_rss_kb ();
  run_bytes (&big, huge, "scan", "-", NULL);
  g_assert_cmpint (big.status, ==, CLI_EXIT_BAD_INPUT);
  g_assert_nonnull (strstr (big.err, "20000 × 20000"));
  g_assert_cmpint (max_rss_kb () - rss, <, 256 * 1024);

  run (&missing, "", "scan", "/nonexistent/code.png", NULL);
  g_assert_cmpint (missing.status, ==, CLI_EXIT_FAILURE);

  run (&usage, "", "scan", NULL);
  g_assert_cmpint (usage.status, ==, CLI_EXIT_USAGE);

  g_unlink (frame_path);
  g_unlink (text_path);
  g_unlink (wifi_path);
}

/* Noise and a blank page hold no code: exit 3, nothing printed. */
static void
test_scan_nothing (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 640, 480);
  g_autofree char *path = temp_path ("blank.png");
  g_auto(Result) blank = { 0 };

  gdk_pixbuf_fill (pixbuf, 0xf0f0f0ff);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", NULL, NULL));
  run (&blank, "", "scan", path, NULL);
  g_assert_cmpint (blank.status, ==, CLI_EXIT_BAD_INPUT);
  g_assert_cmpstr (blank.out, ==, "");
  g_assert_nonnull (strstr (blank.err, "No QR code"));
  g_unlink (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/usage", test_usage);
  g_test_add_func ("/cli/inspect-link", test_inspect_link);
  g_test_add_func ("/cli/server-urls", test_server_urls);
  g_test_add_func ("/cli/harden", test_harden);
  g_test_add_func ("/cli/no-core-dumps", test_no_core_dumps);
  g_test_add_func ("/cli/scan", test_scan);
  g_test_add_func ("/cli/scan-nothing", test_scan_nothing);

  status = g_test_run ();
  dir = temp_path ("");
  g_rmdir (dir);
  return status;
}
