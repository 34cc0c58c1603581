/* app-firstframe.c: launch a program under X11 and time its first frame,
 * then read its resident memory once it is idle, then stop it.
 *
 * Used by build-aux/bench-app.sh, which compiles it on the fly:
 *
 *   cc -O2 -o app-firstframe app-firstframe.c -lXdamage -lXfixes -lX11
 *   app-firstframe [OPTION…] -- PROGRAM [ARG…]
 *
 * Options:
 *   --timeout=MS      give up waiting for the first frame after MS (20000)
 *   --min-idle=MS     wait at least MS after the first frame before reading
 *                     the memory (1500)
 *   --stable=MS       ...and until VmRSS has stayed within --tolerance for MS
 *                     (500)
 *   --tolerance=KB    (64)
 *   --max-idle=MS     but read it anyway after MS (10000); "settled=0" then
 *   --log=FILE        the program's stdout and stderr go there (else /dev/null)
 *   --shot-cmd=CMD    run "sh -c CMD" once the memory is read, before the
 *                     program is stopped (e.g. a screenshot)
 *   --wait-log=TEXT   and not settled before the --log file holds TEXT
 *
 * Prints one line on stdout:
 *   pid=N map_ms=M first_frame_ms=F rss_kb=R pss_kb=P idle_ms=I settled=0|1
 *     window=0xW width=W height=H blank_damage=B launch_ms=L
 * (B: damage reports passed over because the window was still one colour;
 * L: CLOCK_MONOTONIC just before the fork, for times the program reports)
 * (pss_kb=-1 when /proc/PID/smaps_rollup is missing) and exits 0; exits 1
 * with a message on stderr when the program exits early, nothing appears
 * within --timeout, or X fails.  The program is always stopped (SIGTERM,
 * then SIGKILL after 3 s) and reaped before this exits, and it is killed if
 * this dies (PR_SET_PDEATHSIG).
 *
 * Method.  Everything is observed from outside the program, through the X
 * server, so that it is the same for any X11 client:
 *
 *  1. Connect to $DISPLAY and select SubstructureNotify on the root window:
 *     the server then reports every top-level window created (CreateNotify)
 *     and mapped (MapNotify).  This is done and synced before the launch.
 *  2. t0 = CLOCK_MONOTONIC just before fork(); the child execs the program.
 *  3. On each CreateNotify of a top-level window, create a DAMAGE object
 *     (XDamageReportNonEmpty) on it at once, before it can be mapped and
 *     drawn, so that no drawing can slip past unobserved.
 *  4. The program's window is the first top-level, non-override-redirect
 *     window mapped whose _NET_WM_PID is the child's PID (GTK sets it before
 *     mapping).  Its MapNotify gives map_ms.
 *  5. The first DamageNotify on that window after its MapNotify is the
 *     first frame: the program has drawn into its mapped window.  To be
 *     sure it is a frame with content and not the server clearing a window
 *     background, the window's pixels are read back (XGetImage) and must
 *     not be all one colour; if they are, the damage is subtracted and the
 *     next DamageNotify is taken.  first_frame_ms is the time the accepted
 *     DamageNotify was received (the read-back comes after the stamp).
 *  6. Then VmRSS is sampled from /proc/PID/status every 50 ms until at
 *     least --min-idle has passed and the last --stable ms of samples
 *     differ by no more than --tolerance (or --max-idle passed), and VmRSS
 *     and PSS (/proc/PID/smaps_rollup) are read.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/Xdamage.h>

#define MAX_WINDOWS 256

static pid_t child = -1;

static double
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Whether the file at @path holds @text (always, for no @text). */
static int
log_has (const char *path,
         const char *text)
{
  char buf[65536];
  size_t len;
  FILE *f;

  if (text == NULL)
    return 1;
  if (path == NULL || (f = fopen (path, "r")) == NULL)
    return 0;
  len = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[len] = '\0';
  return strstr (buf, text) != NULL;
}

static void
stop_child (void)
{
  int status;
  double deadline;

  if (child <= 0)
    return;
  if (waitpid (child, &status, WNOHANG) == child)
    {
      child = -1;
      return;
    }
  kill (child, SIGTERM);
  deadline = now_ms () + 3000;
  while (now_ms () < deadline)
    {
      if (waitpid (child, &status, WNOHANG) == child)
        {
          child = -1;
          return;
        }
      usleep (20000);
    }
  fprintf (stderr, "app-firstframe: PID %d ignored SIGTERM for 3 s, killing it\n", (int) child);
  kill (child, SIGKILL);
  waitpid (child, &status, 0);
  child = -1;
}

static void __attribute__ ((noreturn, format (printf, 1, 2)))
die (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fputs ("app-firstframe: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  stop_child ();
  exit (1);
}

static void
on_signal (int sig)
{
  (void) sig;
  /* Not async-signal-safe in general, but we are about to exit anyway and
   * the main loop only polls and reads. */
  if (child > 0)
    {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
    }
  _exit (1);
}

/* Windows vanish under us (GTK's short-lived helper windows): ignore the
 * resulting BadWindow/BadDamage errors instead of exiting. */
static int
on_x_error (Display *dpy, XErrorEvent *ev)
{
  (void) dpy;
  (void) ev;
  return 0;
}

static long
proc_kb (const char *path, const char *key)
{
  char line[256];
  size_t len = strlen (key);
  long value = -1;
  FILE *f = fopen (path, "r");

  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    {
      if (strncmp (line, key, len) == 0 && line[len] == ':')
        {
          value = strtol (line + len + 1, NULL, 10);
          break;
        }
    }
  fclose (f);
  return value;
}

static long
window_pid (Display *dpy, Window w, Atom net_wm_pid)
{
  Atom type;
  int format;
  unsigned long n, after;
  unsigned char *data = NULL;
  long pid = -1;

  if (XGetWindowProperty (dpy, w, net_wm_pid, 0, 1, False, XA_CARDINAL, &type, &format,
                          &n, &after, &data) == Success &&
      data != NULL && type == XA_CARDINAL && format == 32 && n == 1)
    pid = (long) *(unsigned long *) data;
  if (data)
    XFree (data);
  return pid;
}

/* True when the window's pixels are not all one colour. */
static int
has_content (Display *dpy, Window w, int width, int height)
{
  XImage *img;
  unsigned long first;
  int x, y, varied = 0;

  if (width <= 0 || height <= 0)
    return 0;
  img = XGetImage (dpy, w, 0, 0, (unsigned) width, (unsigned) height, AllPlanes, ZPixmap);
  if (img == NULL)
    return 0;
  first = XGetPixel (img, 0, 0);
  for (y = 0; y < height && !varied; y += 2)
    for (x = 0; x < width; x += 2)
      if (XGetPixel (img, x, y) != first)
        {
          varied = 1;
          break;
        }
  XDestroyImage (img);
  return varied;
}

static long
parse_num (const char *arg, const char *name)
{
  char *end;
  long v = strtol (arg, &end, 10);

  if (*arg == '\0' || *end != '\0' || v < 0)
    die ("bad value for %s: %s", name, arg);
  return v;
}

int
main (int argc, char **argv)
{
  long timeout = 20000, min_idle = 1500, stable = 500, tolerance = 64, max_idle = 10000;
  const char *log_path = "/dev/null";
  const char *shot_cmd = NULL;
  const char *wait_log = NULL;
  Display *dpy;
  Window root;
  Atom net_wm_pid;
  int damage_event, damage_error;
  int i, argi;
  struct { Window w; Damage d; } wins[MAX_WINDOWS];
  int n_wins = 0;
  Window target = None;
  Damage target_damage = None;
  int width = 0, height = 0, blank_damage = 0;
  double t0, t_map = -1, t_frame = -1, deadline;
  struct sigaction sa;

  for (argi = 1; argi < argc; argi++)
    {
      const char *a = argv[argi];

      if (strcmp (a, "--") == 0)
        {
          argi++;
          break;
        }
      else if (strncmp (a, "--timeout=", 10) == 0)
        timeout = parse_num (a + 10, "--timeout");
      else if (strncmp (a, "--min-idle=", 11) == 0)
        min_idle = parse_num (a + 11, "--min-idle");
      else if (strncmp (a, "--stable=", 9) == 0)
        stable = parse_num (a + 9, "--stable");
      else if (strncmp (a, "--tolerance=", 12) == 0)
        tolerance = parse_num (a + 12, "--tolerance");
      else if (strncmp (a, "--max-idle=", 11) == 0)
        max_idle = parse_num (a + 11, "--max-idle");
      else if (strncmp (a, "--log=", 6) == 0)
        log_path = a + 6;
      else if (strncmp (a, "--shot-cmd=", 11) == 0)
        shot_cmd = a + 11;
      else if (strncmp (a, "--wait-log=", 11) == 0)
        wait_log = a + 11;
      else
        die ("unknown option %s (usage: app-firstframe [OPTION…] -- PROGRAM [ARG…])", a);
    }
  if (argi >= argc)
    die ("no program given (usage: app-firstframe [OPTION…] -- PROGRAM [ARG…])");

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);

  dpy = XOpenDisplay (NULL);
  if (dpy == NULL)
    die ("cannot open display %s", getenv ("DISPLAY") ? getenv ("DISPLAY") : "(unset)");
  if (!XDamageQueryExtension (dpy, &damage_event, &damage_error))
    die ("the X server has no DAMAGE extension");
  {
    int major = 1, minor = 1;
    XDamageQueryVersion (dpy, &major, &minor);
  }
  XSetErrorHandler (on_x_error);
  root = DefaultRootWindow (dpy);
  net_wm_pid = XInternAtom (dpy, "_NET_WM_PID", False);
  XSelectInput (dpy, root, SubstructureNotifyMask);
  XSync (dpy, False);

  t0 = now_ms ();
  child = fork ();
  if (child < 0)
    die ("fork: %s", strerror (errno));
  if (child == 0)
    {
      int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (fd >= 0)
        {
          dup2 (fd, STDOUT_FILENO);
          dup2 (fd, STDERR_FILENO);
        }
      fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        dup2 (fd, STDIN_FILENO);
      signal (SIGINT, SIG_DFL);
      signal (SIGTERM, SIG_DFL);
      signal (SIGHUP, SIG_DFL);
      execvp (argv[argi], argv + argi);
      fprintf (stderr, "app-firstframe: cannot run %s: %s\n", argv[argi], strerror (errno));
      _exit (127);
    }

  deadline = t0 + timeout;
  while (t_frame < 0)
    {
      XEvent ev;
      int status;

      if (waitpid (child, &status, WNOHANG) == child)
        {
          child = -1;
          die ("%s exited (status %d) before its first frame", argv[argi],
               WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
        }

      if (XPending (dpy) == 0)
        {
          struct pollfd pfd = { ConnectionNumber (dpy), POLLIN, 0 };
          double left = deadline - now_ms ();

          if (left <= 0)
            die ("%s: no %s within %ld ms", argv[argi],
                 target == None ? "window mapped" : "frame drawn", timeout);
          /* Wake at least every 100 ms to notice an early exit. */
          poll (&pfd, 1, left < 100 ? (int) left + 1 : 100);
          continue;
        }

      XNextEvent (dpy, &ev);

      if (ev.type == CreateNotify && ev.xcreatewindow.parent == root)
        {
          if (n_wins < MAX_WINDOWS)
            {
              wins[n_wins].w = ev.xcreatewindow.window;
              wins[n_wins].d = XDamageCreate (dpy, ev.xcreatewindow.window,
                                              XDamageReportNonEmpty);
              n_wins++;
            }
        }
      else if (ev.type == MapNotify && ev.xmap.event == root && target == None &&
               !ev.xmap.override_redirect)
        {
          Window w = ev.xmap.window;
          long pid = window_pid (dpy, w, net_wm_pid);
          XWindowAttributes attr;

          if (pid != (long) child)
            continue;
          target = w;
          t_map = now_ms ();
          for (i = 0; i < n_wins; i++)
            if (wins[i].w == w)
              target_damage = wins[i].d;
          if (target_damage == None)      /* not seen created: cannot happen */
            target_damage = XDamageCreate (dpy, w, XDamageReportNonEmpty);
          if (XGetWindowAttributes (dpy, w, &attr))
            {
              width = attr.width;
              height = attr.height;
            }
          /* Anything reported before the map was not a visible frame. */
          XDamageSubtract (dpy, target_damage, None, None);
        }
      else if (ev.type == ConfigureNotify && ev.xconfigure.window == target)
        {
          width = ev.xconfigure.width;
          height = ev.xconfigure.height;
        }
      else if (ev.type == damage_event + XDamageNotify && target != None)
        {
          XDamageNotifyEvent *dev = (XDamageNotifyEvent *) &ev;
          double t = now_ms ();

          if (dev->drawable != target)
            continue;
          XDamageSubtract (dpy, target_damage, None, None);
          if (has_content (dpy, target, width, height))
            t_frame = t;
          else
            blank_damage++;
        }
    }

  /* Idle: VmRSS stable for `stable` ms, at least `min_idle` after the frame. */
  {
    char status_path[64], rollup_path[64];
    enum { MAX_SAMPLES = 4096 };
    static double ts[MAX_SAMPLES];
    static long rss[MAX_SAMPLES];
    int n = 0, settled = 0;
    double start = now_ms ();
    long rss_kb, pss_kb;

    snprintf (status_path, sizeof status_path, "/proc/%d/status", (int) child);
    snprintf (rollup_path, sizeof rollup_path, "/proc/%d/smaps_rollup", (int) child);

    for (;;)
      {
        double t = now_ms ();
        long lo, hi;
        int status, j;

        if (waitpid (child, &status, WNOHANG) == child)
          {
            child = -1;
            die ("%s exited after its first frame", argv[argi]);
          }
        /* Keep the X queue drained; nothing else to do with it. */
        while (XPending (dpy))
          {
            XEvent ev;
            XNextEvent (dpy, &ev);
          }
        if (n < MAX_SAMPLES)
          {
            ts[n] = t;
            rss[n] = proc_kb (status_path, "VmRSS");
            n++;
          }
        if (t - start >= (double) min_idle)
          {
            lo = hi = rss[n - 1];
            for (j = n - 1; j >= 0 && t - ts[j] <= (double) stable; j--)
              {
                if (rss[j] < lo) lo = rss[j];
                if (rss[j] > hi) hi = rss[j];
              }
            /* j < 0 would mean the window is not yet covered by samples. */
            if (j >= 0 && hi - lo <= tolerance && log_has (log_path, wait_log))
              {
                settled = 1;
                break;
              }
          }
        if (t - start >= (double) max_idle)
          break;
        usleep (50000);
      }

    rss_kb = proc_kb (status_path, "VmRSS");
    pss_kb = proc_kb (rollup_path, "Pss");
    printf ("pid=%d map_ms=%.1f first_frame_ms=%.1f rss_kb=%ld pss_kb=%ld idle_ms=%.0f "
            "settled=%d window=0x%lx width=%d height=%d blank_damage=%d launch_ms=%.3f\n",
            (int) child, t_map - t0, t_frame - t0, rss_kb, pss_kb, now_ms () - t_frame,
            settled, (unsigned long) target, width, height, blank_damage, t0);
    fflush (stdout);
  }

  if (shot_cmd != NULL)
    {
      int rc = system (shot_cmd);

      if (rc != 0)
        fprintf (stderr, "app-firstframe: \"%s\" failed (%d)\n", shot_cmd, rc);
    }

  stop_child ();
  XCloseDisplay (dpy);
  return 0;
}
