/* latchkey-tracker.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine changes a transfer on its worker thread, so the interface never
 * reads the transfer itself: it reads a copy taken here, on the main thread,
 * whenever no operation runs. Operations are serialised: a user action
 * cancels the waiting read in flight and runs once it has stopped.
 */

#define G_LOG_DOMAIN "latchkey-tracker"

#include "config.h"

#include <glib/gi18n.h>

#include "lk-crypto.h"
#include "latchkey-tracker.h"

/* A waiting read at the relay: the relay answers as soon as the other side
 * writes, so this is only how often an idle share is looked at again. */
#define STEP_WAIT_SECONDS 30
#define RETRY_FIRST_MS    2000
#define RETRY_MAX_MS      60000

struct _LatchkeyTracker
{
  GObject                parent_instance;

  LkTransferEngine      *engine;
  LkTransfer            *transfer;      /* only touched while no job runs */
  GCancellable          *cancellable;   /* the job in flight */
  gboolean               running;
  gboolean               running_action; /* else a waiting read */
  gboolean               following;
  gboolean               has_action;
  LatchkeyTrackerAction  action;
  char                  *action_code;   /* secret */
  guint                  retry_source;
  guint                  retry_ms;

  /* The copy the interface reads */
  char                  *id;
  LkRole                 role;
  LkVertical             vertical;
  LkTransferState        state;
  char                  *detail;
  char                  *title;
  char                  *credential_id;
  GDateTime             *expires;
  GDateTime             *created;
  char                  *link;          /* secret: holds the share key */
  char                  *code;          /* secret */
  guint                  attempts_left;
  char                  *provider_host;
  gboolean               revoked;
  gboolean               revocable;
  guint                  receivers;
  guint                  received;
  /* What the owner is asked to sign (car) */
  GStrv                  entitlements;
  GDateTime             *valid_from;
  GDateTime             *valid_until;
  char                  *friend_fingerprint;
  char                  *own_fingerprint;   /* receiver, car: of our new key */
  char                  *receiver_name;
  gboolean               code_required;
  GError                *error;
};

G_DEFINE_FINAL_TYPE (LatchkeyTracker, latchkey_tracker, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void next (LatchkeyTracker *self);

static void
take_copy (LatchkeyTracker *self)
{
  LkTransfer *t = self->transfer;
  LkShareLink *link = lk_transfer_get_link (t);

  self->state = lk_transfer_get_state (t);
  g_free (self->detail);
  self->detail = g_strdup (lk_transfer_get_state_detail (t));
  g_free (self->title);
  self->title = g_strdup (lk_transfer_get_title (t));
  g_free (self->credential_id);
  self->credential_id = g_strdup (lk_transfer_get_credential_id (t));
  g_clear_pointer (&self->expires, g_date_time_unref);
  if (lk_transfer_get_expires (t) != NULL)
    self->expires = g_date_time_ref (lk_transfer_get_expires (t));
  g_clear_pointer (&self->created, g_date_time_unref);
  if (lk_transfer_get_created (t) != NULL)
    self->created = g_date_time_ref (lk_transfer_get_created (t));
  g_clear_pointer (&self->link, lk_secure_str_free);
  if (link != NULL)
    self->link = lk_share_link_to_string (link);
  g_clear_pointer (&self->code, lk_secure_str_free);
  if (lk_transfer_get_activation_code (t) != NULL)
    self->code = g_strdup (lk_transfer_get_activation_code (t));
  self->attempts_left = lk_transfer_get_attempts_left (t);
  self->revoked = lk_transfer_get_revoked (t);
  self->revocable = lk_transfer_get_revocable (t);
  self->receivers = lk_transfer_get_receivers (t);
  self->received = lk_transfer_get_received (t);
  g_strfreev (self->entitlements);
  self->entitlements = g_strdupv ((char **) lk_transfer_get_entitlements (t));
  g_clear_pointer (&self->valid_from, g_date_time_unref);
  if (lk_transfer_get_valid_from (t) != NULL)
    self->valid_from = g_date_time_ref (lk_transfer_get_valid_from (t));
  g_clear_pointer (&self->valid_until, g_date_time_unref);
  if (lk_transfer_get_valid_until (t) != NULL)
    self->valid_until = g_date_time_ref (lk_transfer_get_valid_until (t));
  g_free (self->friend_fingerprint);
  self->friend_fingerprint = lk_transfer_dup_friend_fingerprint (t);
  g_free (self->own_fingerprint);
  self->own_fingerprint = lk_transfer_dup_own_fingerprint (t);
  g_free (self->receiver_name);
  self->receiver_name = g_strdup (lk_transfer_get_receiver_name (t));
  self->code_required = lk_transfer_get_code_required (t);
  g_free (self->provider_host);
  self->provider_host = lk_transfer_dup_provider_host (t);
}

static void
latchkey_tracker_dispose (GObject *object)
{
  LatchkeyTracker *self = LATCHKEY_TRACKER (object);

  latchkey_tracker_stop (self);

  G_OBJECT_CLASS (latchkey_tracker_parent_class)->dispose (object);
}

static void
latchkey_tracker_finalize (GObject *object)
{
  LatchkeyTracker *self = LATCHKEY_TRACKER (object);

  g_clear_object (&self->engine);
  g_clear_object (&self->transfer);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->action_code, lk_secure_str_free);
  g_free (self->id);
  g_free (self->detail);
  g_free (self->title);
  g_free (self->credential_id);
  g_free (self->provider_host);
  g_strfreev (self->entitlements);
  g_clear_pointer (&self->valid_from, g_date_time_unref);
  g_clear_pointer (&self->valid_until, g_date_time_unref);
  g_free (self->own_fingerprint);
  g_free (self->friend_fingerprint);
  g_free (self->receiver_name);
  g_clear_pointer (&self->expires, g_date_time_unref);
  g_clear_pointer (&self->created, g_date_time_unref);
  g_clear_pointer (&self->link, lk_secure_str_free);
  g_clear_pointer (&self->code, lk_secure_str_free);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (latchkey_tracker_parent_class)->finalize (object);
}

static void
latchkey_tracker_class_init (LatchkeyTrackerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = latchkey_tracker_dispose;
  object_class->finalize = latchkey_tracker_finalize;

  /**
   * LatchkeyTracker::changed:
   * @previous: the state before, as an #LkTransferState
   *
   * The copy changed: a new state, an error, or the end of an operation.
   */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
latchkey_tracker_init (LatchkeyTracker *self)
{
  self->retry_ms = RETRY_FIRST_MS;
}

LatchkeyTracker *
latchkey_tracker_new (LkTransferEngine *engine,
                      LkTransfer       *transfer)
{
  LatchkeyTracker *self;

  g_return_val_if_fail (LK_IS_TRANSFER_ENGINE (engine), NULL);
  g_return_val_if_fail (LK_IS_TRANSFER (transfer), NULL);

  self = g_object_new (LATCHKEY_TYPE_TRACKER, NULL);
  self->engine = g_object_ref (engine);
  self->transfer = g_object_ref (transfer);
  self->id = g_strdup (lk_transfer_get_id (transfer));
  self->role = lk_transfer_get_role (transfer);
  self->vertical = lk_transfer_get_vertical (transfer);
  take_copy (self);

  return self;
}

static gboolean
needs_user (LatchkeyTracker *self)
{
  return self->state == LK_TRANSFER_STATE_AWAITING_CONFIRMATION ||
         self->state == LK_TRANSFER_STATE_AWAITING_CODE;
}

static gboolean
retry_cb (gpointer user_data)
{
  LatchkeyTracker *self = user_data;

  self->retry_source = 0;
  next (self);
  return G_SOURCE_REMOVE;
}

static void
on_job_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LatchkeyTracker) self = user_data;
  g_autoptr(LkTransfer) transfer = NULL;
  g_autoptr(GError) error = NULL;
  LkTransferState previous = self->state;
  gboolean was_action = self->running_action;

  transfer = lk_transfer_engine_transfer_finish (LK_TRANSFER_ENGINE (source), result, &error);
  self->running = FALSE;
  self->running_action = FALSE;
  g_clear_object (&self->cancellable);

  if (transfer == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Stopped for an action, or for good. */
      next (self);
      return;
    }

  g_clear_error (&self->error);
  if (transfer == NULL)
    {
      self->error = g_steal_pointer (&error);
      /* A failed read is tried again, more slowly each time; a failed
       * action is reported and left for the user to repeat. */
      if (!was_action && self->following)
        {
          self->retry_source = g_timeout_add (self->retry_ms, retry_cb, self);
          self->retry_ms = MIN (self->retry_ms * 2, RETRY_MAX_MS);
        }
    }
  else
    {
      self->retry_ms = RETRY_FIRST_MS;
    }

  take_copy (self);
  g_signal_emit (self, signals[CHANGED], 0, (int) previous);

  if (self->retry_source == 0)
    next (self);
}

static void
next (LatchkeyTracker *self)
{
  if (self->running || self->engine == NULL)
    return;

  self->cancellable = g_cancellable_new ();

  if (self->has_action)
    {
      g_autoptr(LkSecureString) code = g_steal_pointer (&self->action_code);

      self->has_action = FALSE;
      self->running = TRUE;
      self->running_action = TRUE;
      g_clear_handle_id (&self->retry_source, g_source_remove);

      switch (self->action)
        {
        case LATCHKEY_TRACKER_CONFIRM:
          lk_transfer_engine_confirm_async (self->engine, self->transfer, self->cancellable,
                                            on_job_done, g_object_ref (self));
          break;
        case LATCHKEY_TRACKER_CANCEL:
          lk_transfer_engine_cancel_async (self->engine, self->transfer, self->cancellable,
                                           on_job_done, g_object_ref (self));
          break;
        case LATCHKEY_TRACKER_REVOKE:
          lk_transfer_engine_revoke_async (self->engine, self->transfer, self->cancellable,
                                           on_job_done, g_object_ref (self));
          break;
        case LATCHKEY_TRACKER_CODE:
          lk_transfer_engine_provide_code_async (self->engine, self->transfer, code ? code : "",
                                                 self->cancellable, on_job_done, g_object_ref (self));
          break;
        default:
          g_assert_not_reached ();
        }
      g_signal_emit (self, signals[CHANGED], 0, (int) self->state);
      return;
    }

  if (self->following && self->retry_source == 0 &&
      !lk_transfer_state_is_final (self->state) && !needs_user (self))
    {
      self->running = TRUE;
      lk_transfer_engine_step_async (self->engine, self->transfer, STEP_WAIT_SECONDS,
                                     self->cancellable, on_job_done, g_object_ref (self));
      return;
    }

  g_clear_object (&self->cancellable);
}

/**
 * latchkey_tracker_follow:
 *
 * Keeps moving the transfer on with waiting reads until it ends or needs
 * the user, and again after each action.
 */
void
latchkey_tracker_follow (LatchkeyTracker *self)
{
  g_return_if_fail (LATCHKEY_IS_TRACKER (self));

  self->following = TRUE;
  /* Asked again: try now rather than at the next back-off. */
  g_clear_handle_id (&self->retry_source, g_source_remove);
  next (self);
}

void
latchkey_tracker_stop (LatchkeyTracker *self)
{
  g_return_if_fail (LATCHKEY_IS_TRACKER (self));

  self->following = FALSE;
  self->has_action = FALSE;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/**
 * latchkey_tracker_run:
 * @activation_code: (nullable): for %LATCHKEY_TRACKER_CODE
 *
 * Runs @action as soon as the operation in flight, if any, has stopped.
 * The outcome arrives with #LatchkeyTracker::changed.
 */
void
latchkey_tracker_run (LatchkeyTracker       *self,
                      LatchkeyTrackerAction  action,
                      const char            *activation_code)
{
  g_return_if_fail (LATCHKEY_IS_TRACKER (self));

  self->has_action = TRUE;
  self->action = action;
  g_clear_pointer (&self->action_code, lk_secure_str_free);
  self->action_code = g_strdup (activation_code);

  if (self->running)
    {
      /* Only a waiting read is interrupted; an action runs to its end. */
      if (!self->running_action)
        g_cancellable_cancel (self->cancellable);
      return;
    }

  next (self);
}

const char *
latchkey_tracker_get_id (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->id;
}

LkRole
latchkey_tracker_get_role (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), LK_ROLE_INITIATOR);
  return self->role;
}

LkVertical
latchkey_tracker_get_vertical (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), LK_VERTICAL_GENERIC);
  return self->vertical;
}

LkTransferState
latchkey_tracker_get_state (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), LK_TRANSFER_STATE_FAILED);
  return self->state;
}

const char *
latchkey_tracker_get_detail (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->detail;
}

const char *
latchkey_tracker_get_title (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->title;
}

const char *
latchkey_tracker_get_credential_id (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->credential_id;
}

GDateTime *
latchkey_tracker_get_expires (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->expires;
}

GDateTime *
latchkey_tracker_get_created (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->created;
}

/* The share link, with its key: show it, never log it. */
const char *
latchkey_tracker_get_link (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->link;
}

const char *
latchkey_tracker_get_activation_code (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->code;
}

guint
latchkey_tracker_get_attempts_left (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), 0);
  return self->attempts_left;
}

gboolean
latchkey_tracker_get_revocable (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), FALSE);
  return self->revocable;
}

/* How many devices the share may go to (1, or up to 10), and how many have
 * received it (issue 13). */
guint
latchkey_tracker_get_receivers (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), 1);
  return MAX (self->receivers, 1);
}

guint
latchkey_tracker_get_received (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), 0);
  return self->received;
}

const char * const *
latchkey_tracker_get_entitlements (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return (const char * const *) self->entitlements;
}

GDateTime *
latchkey_tracker_get_valid_from (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->valid_from;
}

GDateTime *
latchkey_tracker_get_valid_until (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->valid_until;
}

const char *
latchkey_tracker_get_friend_fingerprint (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->friend_fingerprint;
}

/**
 * latchkey_tracker_get_own_fingerprint:
 *
 * Returns: (nullable): receiving a car key, the short fingerprint of this
 *   device's new key, the same the owner's app shows with the request
 */
const char *
latchkey_tracker_get_own_fingerprint (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->own_fingerprint;
}

const char *
latchkey_tracker_get_receiver_name (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->receiver_name;
}

gboolean
latchkey_tracker_get_code_required (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), FALSE);
  return self->code_required;
}

gboolean
latchkey_tracker_get_revoked (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), FALSE);
  return self->revoked;
}

/* The key's provider, as the sender's offer names it (a receipt). */
const char *
latchkey_tracker_get_provider_host (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->provider_host;
}

/* An operation is in flight that the user asked for. */
gboolean
latchkey_tracker_get_busy (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), FALSE);
  return self->has_action || self->running_action;
}

/* The last operation's error, cleared by the next success. */
const GError *
latchkey_tracker_get_error (LatchkeyTracker *self)
{
  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);
  return self->error;
}

/**
 * latchkey_tracker_describe_state:
 *
 * Returns: the state as a short sentence for the user
 */
char *
latchkey_tracker_describe_state (LatchkeyTracker *self)
{
  gboolean sender;

  g_return_val_if_fail (LATCHKEY_IS_TRACKER (self), NULL);

  sender = self->role == LK_ROLE_INITIATOR;

  switch (self->state)
    {
    case LK_TRANSFER_STATE_WAITING:
      return g_strdup (sender ? _("Waiting for the invitation to be opened")
                              : _("Waiting for the sender"));
    case LK_TRANSFER_STATE_OPENED:
      return g_strdup (sender ? _("Opened; waiting for the recipient")
                              : _("Waiting for the sender to confirm"));
    case LK_TRANSFER_STATE_AWAITING_CONFIRMATION:
      return g_strdup (_("Waiting for your confirmation"));
    case LK_TRANSFER_STATE_AWAITING_CODE:
      return g_strdup (_("Waiting for the activation code"));
    case LK_TRANSFER_STATE_DONE:
      if (self->revoked)
        return g_strdup (_("Revoked"));
      return g_strdup (sender ? _("Done: the key was received") : _("Done: the key is in your wallet"));
    case LK_TRANSFER_STATE_DECLINED:
      return g_strdup (_("Declined"));
    case LK_TRANSFER_STATE_CANCELLED:
      return g_strdup (_("Cancelled"));
    case LK_TRANSFER_STATE_EXPIRED:
      return g_strdup (_("Expired"));
    case LK_TRANSFER_STATE_FAILED:
    default:
      return g_strdup (_("Failed"));
    }
}
