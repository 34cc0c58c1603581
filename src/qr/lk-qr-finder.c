/* lk-qr-finder.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * zbar says nothing about a code it sees but cannot read. To tell the user
 * what would help, this looks for QR finder patterns (the three squares in
 * the corners) in a thresholded frame: dark, light, dark, light, dark runs
 * in the proportions 1:1:3:1:1 along a row, confirmed along the column
 * through their centre. Their width gives the code's module size.
 */

#define G_LOG_DOMAIN "lk-qr-decoder"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lk-qr-variants.h"

#define MAX_CANDIDATES 64

typedef struct
{
  double x, y, module;
  guint  hits;
} Candidate;

/* Whether five runs are 1:1:3:1:1 within half a module each. */
static gboolean
finder_ratio (const guint runs[5],
              double     *module)
{
  guint total = runs[0] + runs[1] + runs[2] + runs[3] + runs[4];
  double u = total / 7.0, slack = MAX (u / 2, 1.0);

  if (total < 7)
    return FALSE;
  for (guint i = 0; i < 5; i++)
    if (ABS (runs[i] - (i == 2 ? 3 * u : u)) > (i == 2 ? 2 * slack : slack))
      return FALSE;
  *module = u;
  return TRUE;
}

/* The same pattern across, along the column @x around row @y. */
static gboolean
column_confirms (const guint8 *image,
                 guint         width,
                 guint         height,
                 guint         x,
                 guint         y,
                 double        module)
{
  guint runs[5] = { 0 };
  guint reach = (guint) (module * 6) + 2;
  int yy;
  double u;

  if (image[(gsize) y * width + x] != 0)
    return FALSE;
  /* Up from the centre: the middle run, then light, then dark. */
  for (yy = (int) y; yy >= 0 && image[(gsize) yy * width + x] == 0 && runs[2] < reach; yy--)
    runs[2]++;
  for (; yy >= 0 && image[(gsize) yy * width + x] != 0 && runs[1] < reach; yy--)
    runs[1]++;
  for (; yy >= 0 && image[(gsize) yy * width + x] == 0 && runs[0] < reach; yy--)
    runs[0]++;
  for (yy = (int) y + 1; yy < (int) height && image[(gsize) yy * width + x] == 0 && runs[2] < 2 * reach; yy++)
    runs[2]++;
  for (; yy < (int) height && image[(gsize) yy * width + x] != 0 && runs[3] < reach; yy++)
    runs[3]++;
  for (; yy < (int) height && image[(gsize) yy * width + x] == 0 && runs[4] < reach; yy++)
    runs[4]++;

  /* Across a tilted code the column's module differs from the row's. */
  return finder_ratio (runs, &u) && u > module / 2 && u < module * 2;
}

/**
 * lk_qr_find_finders:
 * @binary: a thresholded image, 0 for dark and anything else for light
 * @module_px: (out): the median module size of the patterns found, pixels
 *
 * Returns: how many distinct finder patterns were seen (at most 16)
 */
guint
lk_qr_find_finders (const guint8 *binary,
                    guint         width,
                    guint         height,
                    double       *module_px)
{
  Candidate candidates[MAX_CANDIDATES];
  guint n_candidates = 0, found = 0;
  double modules[16];

  for (guint y = 0; y < height; y += 2)
    {
      const guint8 *row = binary + (gsize) y * width;
      guint runs[5] = { 0 }, n_runs = 0, x = 0;

      /* Runs along the row, a window of the last five starting dark. */
      while (x < width)
        {
          guint start = x;
          gboolean dark = row[x] == 0;
          double module;

          while (x < width && (row[x] == 0) == dark)
            x++;
          if (n_runs == 5)
            {
              memmove (runs, runs + 1, 4 * sizeof runs[0]);
              n_runs = 4;
            }
          runs[n_runs++] = x - start;
          if (n_runs < 5 || !dark || !finder_ratio (runs, &module))
            continue;

          {
            guint centre = x - runs[4] - runs[3] - runs[2] / 2 - 1;
            guint i;

            if (!column_confirms (binary, width, height, centre, y, module))
              continue;
            for (i = 0; i < n_candidates; i++)
              if (ABS (candidates[i].x - centre) < 3 * module && ABS (candidates[i].y - y) < 5 * module)
                {
                  candidates[i].hits++;
                  candidates[i].y = y;
                  break;
                }
            if (i == n_candidates && n_candidates < MAX_CANDIDATES)
              candidates[n_candidates++] = (Candidate) { centre, y, module, 1 };
          }
        }
    }

  /* A pattern is seen on a few rows; a stray match on one. */
  for (guint i = 0; i < n_candidates && found < G_N_ELEMENTS (modules); i++)
    if (candidates[i].hits >= 2)
      modules[found++] = candidates[i].module;

  *module_px = 0;
  if (found > 0)
    {
      /* The median, by insertion sort of at most 16. */
      for (guint i = 1; i < found; i++)
        for (guint j = i; j > 0 && modules[j - 1] > modules[j]; j--)
          {
            double t = modules[j];

            modules[j] = modules[j - 1];
            modules[j - 1] = t;
          }
      *module_px = modules[found / 2];
    }
  return found;
}
