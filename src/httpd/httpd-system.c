/* httpd-system.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "httpd-system"

#include "config.h"

#include <malloc.h>
#include <string.h>
#include <sys/resource.h>

#include <gio/gio.h>

#include "httpd-system.h"

/**
 * httpd_system_raise_fd_limit:
 * @hard: (out) (optional): the hard limit
 *
 * Raises the soft limit on open descriptors to the hard one, where allowed
 * (a sandbox may forbid setrlimit(); systemd's LimitNOFILE= sets both).
 *
 * Returns: the soft limit now in force
 */
guint64
httpd_system_raise_fd_limit (guint64 *hard)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 1024;

  if (limit.rlim_cur < limit.rlim_max)
    {
      struct rlimit raised = { limit.rlim_max, limit.rlim_max };

      if (setrlimit (RLIMIT_NOFILE, &raised) == 0)
        limit.rlim_cur = limit.rlim_max;
    }

  if (hard != NULL)
    *hard = limit.rlim_max;
  return limit.rlim_cur;
}

static gint64
read_limit (const char *path)
{
  g_autofree char *text = NULL;
  guint64 value;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  g_strstrip (text);
  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    return -1;   /* "max", or nothing usable */
  /* cgroup v1 says "no limit" with a huge number. */
  return value >= (guint64) G_MAXINT64 / 2 ? -1 : (gint64) value;
}

/**
 * httpd_system_memory_limit:
 *
 * Returns: the memory limit of this process's control group and its
 *   parents (systemd's MemoryMax=), in bytes, or -1 if none is known
 */
gint64
httpd_system_memory_limit (void)
{
  g_autofree char *cgroup = NULL;
  g_auto(GStrv) lines = NULL;
  gint64 lowest = -1;

  if (!g_file_get_contents ("/proc/self/cgroup", &cgroup, NULL, NULL))
    return -1;

  lines = g_strsplit (cgroup, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *dir = NULL;
      const char *path;
      const char *file;

      /* cgroup v2: "0::/system.slice/x.service"; v1: "N:memory:/path". */
      if (g_str_has_prefix (lines[i], "0::"))
        {
          path = lines[i] + 3;
          dir = g_strconcat ("/sys/fs/cgroup", path, NULL);
          file = "memory.max";
        }
      else if ((path = strstr (lines[i], ":memory:")) != NULL)
        {
          path += strlen (":memory:");
          dir = g_strconcat ("/sys/fs/cgroup/memory", path, NULL);
          file = "memory.limit_in_bytes";
        }
      else
        continue;

      /* A parent's limit binds as well. */
      while (dir != NULL && strlen (dir) >= strlen ("/sys/fs/cgroup"))
        {
          g_autofree char *limit_path = g_build_filename (dir, file, NULL);
          gint64 limit = read_limit (limit_path);
          char *slash;

          if (limit > 0 && (lowest < 0 || limit < lowest))
            lowest = limit;
          slash = strrchr (dir, '/');
          if (slash == NULL || slash == dir)
            break;
          *slash = '\0';
        }
    }

  return lowest;
}

/**
 * httpd_system_trim_memory:
 *
 * glibc keeps what connections freed in its arenas; hand it back to the
 * system, so that memory falls again after a flood of connections.
 */
void
httpd_system_trim_memory (void)
{
  malloc_trim (0);
}

char *
httpd_format_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}
