/* latchkey-tracker-list.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The application makes one, and gives it to the window and to the pages
 * that start transfers: a page adds the transfer it started, the window
 * lists the shares, the application notifies the desktop. None of them
 * needs the others for it. "tracker-changed" passes on every tracker's
 * "changed", so that whoever watches them all connects once.
 */

#define G_LOG_DOMAIN "latchkey-tracker-list"

#include "config.h"

#include "latchkey-tracker-list.h"

struct _LatchkeyTrackerList
{
  GObject     parent_instance;

  GListStore *trackers;
};

enum {
  SIGNAL_TRACKER_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LatchkeyTrackerList, latchkey_tracker_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
get_item_type (GListModel *model)
{
  return LATCHKEY_TYPE_TRACKER;
}

static guint
get_n_items (GListModel *model)
{
  return g_list_model_get_n_items (G_LIST_MODEL (LATCHKEY_TRACKER_LIST (model)->trackers));
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  return g_list_model_get_item (G_LIST_MODEL (LATCHKEY_TRACKER_LIST (model)->trackers), position);
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
on_items_changed (LatchkeyTrackerList *self,
                  guint                position,
                  guint                removed,
                  guint                added)
{
  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
}

static void
latchkey_tracker_list_dispose (GObject *object)
{
  LatchkeyTrackerList *self = LATCHKEY_TRACKER_LIST (object);

  g_clear_object (&self->trackers);

  G_OBJECT_CLASS (latchkey_tracker_list_parent_class)->dispose (object);
}

static void
latchkey_tracker_list_class_init (LatchkeyTrackerListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = latchkey_tracker_list_dispose;

  /**
   * LatchkeyTrackerList::tracker-changed:
   * @tracker: a tracker in the list
   * @previous: its state before (a #LkTransferState)
   *
   * A tracker of the list emitted "changed".
   */
  signals[SIGNAL_TRACKER_CHANGED] = g_signal_new ("tracker-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                  0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                                  LATCHKEY_TYPE_TRACKER, G_TYPE_INT);
}

static void
on_tracker_changed (LatchkeyTracker     *tracker,
                    int                  previous,
                    LatchkeyTrackerList *self)
{
  g_signal_emit (self, signals[SIGNAL_TRACKER_CHANGED], 0, tracker, previous);
}

static void
latchkey_tracker_list_init (LatchkeyTrackerList *self)
{
  self->trackers = g_list_store_new (LATCHKEY_TYPE_TRACKER);
  g_signal_connect_object (self->trackers, "items-changed", G_CALLBACK (on_items_changed), self,
                           G_CONNECT_SWAPPED);
}

LatchkeyTrackerList *
latchkey_tracker_list_new (void)
{
  return g_object_new (LATCHKEY_TYPE_TRACKER_LIST, NULL);
}

/**
 * latchkey_tracker_list_find:
 *
 * Returns: (transfer none) (nullable): the tracker of the transfer @id
 */
LatchkeyTracker *
latchkey_tracker_list_find (LatchkeyTrackerList *self,
                            const char          *id)
{
  guint n;

  g_return_val_if_fail (LATCHKEY_IS_TRACKER_LIST (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->trackers));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LatchkeyTracker) tracker = g_list_model_get_item (G_LIST_MODEL (self->trackers), i);

      if (g_strcmp0 (latchkey_tracker_get_id (tracker), id) == 0)
        return tracker;
    }

  return NULL;
}

/**
 * latchkey_tracker_list_add:
 *
 * Lists @tracker with the others and keeps it moving until it ends; a
 * transfer already followed is left as it is.
 */
void
latchkey_tracker_list_add (LatchkeyTrackerList *self,
                           LatchkeyTracker     *tracker)
{
  g_return_if_fail (LATCHKEY_IS_TRACKER_LIST (self));
  g_return_if_fail (LATCHKEY_IS_TRACKER (tracker));

  if (latchkey_tracker_list_find (self, latchkey_tracker_get_id (tracker)) != NULL)
    return;

  g_signal_connect_object (tracker, "changed", G_CALLBACK (on_tracker_changed), self, 0);
  g_list_store_insert (self->trackers, 0, tracker);
  latchkey_tracker_follow (tracker);
}

/* At the end: no transfer goes on being followed. */
void
latchkey_tracker_list_stop_all (LatchkeyTrackerList *self)
{
  guint n;

  g_return_if_fail (LATCHKEY_IS_TRACKER_LIST (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->trackers));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LatchkeyTracker) tracker = g_list_model_get_item (G_LIST_MODEL (self->trackers), i);

      latchkey_tracker_stop (tracker);
    }
}
