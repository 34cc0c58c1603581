/* bench-transfer.c: how long a share takes, per vertical, on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Not a test: build-aux/bench-transfer.sh runs it against a relay and a
 * partner it starts, inside a private session with a real gnome-keyring,
 * and it prints figures. A sender and a receiver engine share the process
 * (and the keyring); the human steps (typing the code, the owner's
 * confirmation) take no time here: the code is given at once and car
 * shares are confirmed automatically.
 */

#define G_LOG_DOMAIN "bench-transfer"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey-core.h"

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static LkTransfer *
finish (LkTransferEngine *engine,
        GAsyncResult    **slot)
{
  g_autoptr(GError) error = NULL;
  LkTransfer *transfer = lk_transfer_engine_transfer_finish (engine, wait_for (slot), &error);

  g_clear_object (slot);
  if (transfer == NULL)
    g_error ("%s", error->message);
  return transfer;
}

static int
compare (gconstpointer a,
         gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
report (const char *what,
        GArray     *ms,
        double      target)
{
  double median, p90;

  g_array_sort (ms, compare);
  median = g_array_index (ms, double, ms->len / 2);
  p90 = g_array_index (ms, double, MIN (ms->len - 1, ms->len * 9 / 10));

  if (target > 0)
    printf ("%-34s %6u  %8.1f ms  %8.1f ms  %8.0f ms  %s\n", what, ms->len, median, p90, target,
            median <= target ? "PASS" : "MISS");
  else
    printf ("%-34s %6u  %8.1f ms  %8.1f ms  %11s\n", what, ms->len, median, p90, "—");
}

/* From share to the credential stored on the receiving side. */
static double
one_share_made (LkTransferEngine *sender,
                LkTransferEngine *receiver,
                LkCredential     *credential,
                gboolean          code,
                GPtrArray        *made)
{
  g_auto(LkShareOptions) options = { 0 };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LkTransfer) shared = NULL;
  g_autoptr(LkTransfer) received = NULL;
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  gint64 started = g_get_monotonic_time ();

  options.activation_code = code;
  options.auto_confirm = TRUE;
  if (lk_credential_get_vertical (credential) == LK_VERTICAL_CAR)
    options.valid_until = g_date_time_add_days (now, 1);

  lk_transfer_engine_share_async (sender, credential, &options, NULL, on_done, &result);
  shared = finish (sender, &result);
  link = lk_transfer_get_link (shared);

  lk_transfer_engine_receive_async (receiver, link, lk_transfer_get_activation_code (shared), NULL, on_done, &result);
  received = finish (receiver, &result);

  /* The car: the owner answers the signing request, the friend imports. */
  while (lk_transfer_get_state (received) != LK_TRANSFER_STATE_DONE)
    {
      g_autoptr(LkTransfer) a = NULL;
      g_autoptr(LkTransfer) b = NULL;

      if (lk_transfer_state_is_final (lk_transfer_get_state (received)))
        g_error ("The share ended as %s: %s", lk_transfer_state_to_string (lk_transfer_get_state (received)),
                 lk_transfer_get_state_detail (received));

      lk_transfer_engine_step_async (sender, shared, 0, NULL, on_done, &result);
      a = finish (sender, &result);
      lk_transfer_engine_step_async (receiver, received, 0, NULL, on_done, &result);
      b = finish (receiver, &result);
    }

  if (made != NULL)
    {
      g_ptr_array_add (made, g_strconcat ("t", lk_transfer_get_id (shared), NULL));
      g_ptr_array_add (made, g_strconcat ("t", lk_transfer_get_id (received), NULL));
      g_ptr_array_add (made, g_strconcat ("c", lk_transfer_get_credential_id (received), NULL));
    }
  return (g_get_monotonic_time () - started) / 1000.0;
}

static double
one_share (LkTransferEngine *sender,
           LkTransferEngine *receiver,
           LkCredential     *credential,
           gboolean          code)
{
  return one_share_made (sender, receiver, credential, code, NULL);
}

/* From one side's write to the other side's waiting read returning. */
typedef struct
{
  GAsyncResult *read;
  gint64        woken;
} Wake;

static void
on_woken (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Wake *wake = user_data;

  wake->woken = g_get_monotonic_time ();
  wake->read = g_object_ref (result);
}

static void
measure_wake (const char *relay_url,
              guint       rounds,
              GArray     *to_write_start,
              GArray     *to_write_ack)
{
  g_autoptr(LkHttp) reader_http = lk_http_new ();
  g_autoptr(LkHttp) writer_http = lk_http_new ();
  g_autoptr(LkMailboxClient) reader = lk_mailbox_client_new (reader_http);
  g_autoptr(LkMailboxClient) writer = lk_mailbox_client_new (writer_http);
  g_autoptr(JsonObject) payload = json_object_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LkMailboxReply) created = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *initiator = lk_uuid_new_random ();
  g_autofree char *recipient = lk_uuid_new_random ();
  gint64 version;

  json_object_set_string_member (payload, "type", "AEAD_AES_256_GCM");
  json_object_set_string_member (payload, "data", "oKGio6SlpqeoqaqrnToaQjemY8tAX6W3bh2pqhHALnH+2ycYsmlD6BrZ");

  lk_mailbox_client_create_async (writer, relay_url, initiator, payload, "Bench", NULL, "RWD", 0, NULL, NULL,
                                  NULL, on_done, &result);
  created = lk_mailbox_client_finish (writer, wait_for (&result), &error);
  g_clear_object (&result);
  if (created == NULL)
    g_error ("%s", error->message);

  {
    g_autoptr(LkMailboxReply) bound = NULL;

    lk_mailbox_client_read_async (reader, created->url_link, recipient, -1, 0, NULL, on_done, &result);
    bound = lk_mailbox_client_finish (reader, wait_for (&result), &error);
    g_clear_object (&result);
    version = bound->version;
  }

  for (guint i = 0; i < rounds; i++)
    {
      g_autoptr(LkMailboxReply) written = NULL;
      g_autoptr(LkMailboxReply) read = NULL;
      Wake wake = { NULL, 0 };
      gint64 write_start, write_ack;
      double ms;

      /* The recipient parks a waiting read; the initiator writes. */
      lk_mailbox_client_read_async (reader, created->url_link, recipient, version, 30, NULL, on_woken, &wake);
      /* Let the read reach the relay and park before writing. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (20 * 1000);
      while (g_main_context_iteration (NULL, FALSE))
        ;

      write_start = g_get_monotonic_time ();
      lk_mailbox_client_update_async (writer, created->url_link, initiator, payload, -1, NULL, NULL,
                                      on_done, &result);
      written = lk_mailbox_client_finish (writer, wait_for (&result), &error);
      write_ack = g_get_monotonic_time ();
      g_clear_object (&result);

      while (wake.read == NULL)
        g_main_context_iteration (NULL, TRUE);
      read = lk_mailbox_client_finish (reader, wake.read, &error);
      g_clear_object (&wake.read);
      if (read == NULL || read->not_modified)
        g_error ("The waiting read did not see the write");
      version = read->version;

      ms = (wake.woken - write_start) / 1000.0;
      g_array_append_val (to_write_start, ms);
      ms = (wake.woken - write_ack) / 1000.0;
      g_array_append_val (to_write_ack, ms);
    }
}


/* Keyring size sweep: the keyring is topped up with copies of a real
 * credential and of a real finished share, each under a new id, so that the
 * hot path meets as many items as a busy host's keyring holds. */
static char *
with_new_id (const char *json,
             const char *id)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  JsonObject *object;

  if (!json_parser_load_from_data (parser, json, -1, NULL))
    g_error ("Cannot parse a keyring item");
  object = json_node_get_object (json_parser_get_root (parser));
  json_object_set_string_member (object, "id", id);
  json_generator_set_root (generator, json_parser_get_root (parser));
  return json_generator_to_data (generator, NULL);
}

static void
fill (LkStore    *store,
      LkStoreKind kind,
      const char *json,
      guint       count)
{
  for (guint i = 0; i < count; i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *id = lk_uuid_new_random ();
      g_autofree char *copy = with_new_id (json, id);

      lk_store_save_async (store, kind, id, "Latchkey bench filler", copy, NULL, on_done, &result);
      if (!lk_store_save_finish (store, wait_for (&result), &error))
        g_error ("%s", error->message);
    }
}

static guint
count_items (LkStore    *store,
             LkStoreKind kind)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = NULL;

  lk_store_load_all_async (store, kind, NULL, on_done, &result);
  all = lk_store_load_all_finish (store, wait_for (&result), &error);
  if (all == NULL)
    g_error ("%s", error->message);
  return all->len;
}

static void
sweep (LkTransferEngine *sender,
       LkTransferEngine *receiver,
       const char       *partner,
       guint             rounds)
{
  g_autoptr(LkStore) store = lk_store_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LkCredential) credential = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LkTransfer) shared = NULL;
  g_autofree char *credential_json = NULL;
  g_autofree char *transfer_json = NULL;
  g_auto(LkShareOptions) options = { 0 };
  const guint sizes[] = { 10, 100, 1000 };
  double p90[G_N_ELEMENTS (sizes)];

  lk_transfer_engine_enroll_async (sender, partner, LK_VERTICAL_HOME, NULL, NULL, on_done, &result);
  credential = lk_transfer_engine_enroll_finish (sender, wait_for (&result), &error);
  g_clear_object (&result);
  if (credential == NULL)
    g_error ("%s", error->message);
  credential_json = lk_credential_to_json (credential, LK_CREDENTIAL_JSON_PRIVATE, &error);

  options.auto_confirm = TRUE;
  lk_transfer_engine_share_async (sender, credential, &options, NULL, on_done, &result);
  shared = finish (sender, &result);
  lk_transfer_engine_cancel_async (sender, shared, NULL, on_done, &result);
  g_clear_object (&shared);
  shared = finish (sender, &result);
  transfer_json = lk_transfer_to_json (shared);

  printf ("\n%-34s %6s  %11s  %11s  %11s\n", "share → stored, by keyring size", "runs", "median", "p90",
          "target");
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autoptr(GArray) ms = g_array_new (FALSE, FALSE, sizeof (double));
      guint credentials = count_items (store, LK_STORE_KIND_CREDENTIAL);
      guint transfers = count_items (store, LK_STORE_KIND_TRANSFER);
      g_autofree char *name = NULL;

      /* Half credentials, half finished transfers. */
      if (credentials < sizes[s] / 2)
        fill (store, LK_STORE_KIND_CREDENTIAL, credential_json, sizes[s] / 2 - credentials);
      if (transfers < sizes[s] - sizes[s] / 2)
        fill (store, LK_STORE_KIND_TRANSFER, transfer_json, sizes[s] - sizes[s] / 2 - transfers);
      credentials = count_items (store, LK_STORE_KIND_CREDENTIAL);
      transfers = count_items (store, LK_STORE_KIND_TRANSFER);

      /* One warm-up; after each share its three items are deleted again
       * (not timed), so that every share meets the same keyring. */
      for (guint i = 0; i <= rounds; i++)
        {
          g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func (g_free);
          double t = one_share_made (sender, receiver, credential, FALSE, made);

          if (i > 0)
            g_array_append_val (ms, t);
          for (guint m = 0; m < made->len; m++)
            {
              const char *item = g_ptr_array_index (made, m);

              lk_store_delete_async (store, item[0] == 'c' ? LK_STORE_KIND_CREDENTIAL : LK_STORE_KIND_TRANSFER,
                                     item + 1, NULL, on_done, &result);
              lk_store_delete_finish (store, wait_for (&result), NULL);
              g_clear_object (&result);
            }
        }
      name = g_strdup_printf ("home, %u items (%u keys, %u shares)", credentials + transfers, credentials,
                              transfers);
      report (name, ms, 0);
      p90[s] = g_array_index (ms, double, MIN (ms->len - 1, ms->len * 9 / 10));
    }
  printf ("%-34s %.2f× (target ≤ 2.00×: %s)\n", "p90 at 1,000 / p90 at 10", p90[2] / p90[0],
          p90[2] <= 2 * p90[0] ? "PASS" : "MISS");
}

int
main (int   argc,
      char *argv[])
{
  const char *relay = g_getenv ("LATCHKEY_RELAY_URL");
  const char *partner = g_getenv ("LATCHKEY_PARTNER_URL");
  guint rounds = argc > 1 ? atoi (argv[1]) : 20;
  gboolean sizes_only = argc > 2 && g_str_equal (argv[2], "--sizes-only");
  g_autoptr(LkTransferEngine) sender = NULL;
  g_autoptr(LkTransferEngine) receiver = NULL;
  const struct {
    LkVertical vertical;
    gboolean code;
    const char *name;
    double target;
  } cases[] = {
    { LK_VERTICAL_GENERIC, FALSE, "generic (copied token)", 0 },
    { LK_VERTICAL_HOME, FALSE, "hotel/home (partner token)", 100 },
    { LK_VERTICAL_HOME, TRUE, "hotel/home, activation code", 100 },
    { LK_VERTICAL_CAR, FALSE, "car (CCC, 4 messages)", 200 },
    { LK_VERTICAL_CAR, TRUE, "car, activation code", 200 },
  };

  if (relay == NULL || partner == NULL)
    g_error ("Set LATCHKEY_RELAY_URL and LATCHKEY_PARTNER_URL");

  sender = lk_transfer_engine_new (relay);
  receiver = lk_transfer_engine_new (relay);

  /* First, while the keyring holds only what the sweep puts there. */
  sweep (sender, receiver, partner, rounds);
  if (sizes_only)
    return 0;
  printf ("\n");

  printf ("%-34s %6s  %11s  %11s  %11s\n", "share → credential stored", "runs", "median", "p90", "target");
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(LkCredential) credential = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) ms = g_array_new (FALSE, FALSE, sizeof (double));

      lk_transfer_engine_enroll_async (sender, partner, cases[c].vertical, NULL, NULL, on_done, &result);
      credential = lk_transfer_engine_enroll_finish (sender, wait_for (&result), &error);
      if (credential == NULL)
        g_error ("%s", error->message);

      /* One warm-up, not counted. */
      one_share (sender, receiver, credential, cases[c].code);
      for (guint i = 0; i < rounds; i++)
        {
          double t = one_share (sender, receiver, credential, cases[c].code);
          g_array_append_val (ms, t);
        }
      report (cases[c].name, ms, cases[c].target);
    }

  {
    g_autoptr(GArray) from_start = g_array_new (FALSE, FALSE, sizeof (double));
    g_autoptr(GArray) from_ack = g_array_new (FALSE, FALSE, sizeof (double));

    measure_wake (relay, rounds * 5, from_start, from_ack);
    printf ("\n%-34s %6s  %11s  %11s  %11s\n", "write → other side wakes", "runs", "median", "p90", "target");
    report ("from the write's start", from_start, 100);
    report ("from the write's acknowledgement", from_ack, 0);
  }

  return 0;
}
