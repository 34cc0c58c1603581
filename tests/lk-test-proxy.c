/* lk-test-proxy.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A test-only HTTP proxy in front of the real relay, on its own thread and
 * main context (the test blocks on the CLI meanwhile). SoupServer is fine
 * for this: it serves a few requests, on loopback, in a test.
 */

#define G_LOG_DOMAIN "lk-test-proxy"

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "lk-json.h"
#include "lk-test-proxy.h"

struct _LkTestProxy
{
  char            *upstream;
  char            *url;
  LkTestProxyMode  mode;             /* atomic: the test changes it */
  GThread         *thread;
  GMainContext    *context;
  GMainLoop       *loop;
  SoupServer      *server;
  SoupSession     *session;
  GMutex           lock;
  GCond            ready;
  gboolean         started;

  /* Owned by the proxy thread */
  GHashTable      *first_payload;    /* mailbox path → payload JSON text */
  GHashTable      *first_reader;     /* mailbox path → the claim that read it */
  GHashTable      *put_counts;       /* mailbox path → number of writes */
  GHashTable      *held;             /* mailbox path → Held */
  guint            tampered;
};

typedef struct
{
  LkTestProxy       *proxy;
  SoupServerMessage *msg;
  char              *path;
  char              *claim;
} Forward;

typedef struct
{
  char    *claim;     /* who wrote it */
  GBytes  *body;
  GStrv    headers;
  gboolean waiting_for_read;
} Held;

static void
held_free (Held *held)
{
  g_free (held->claim);
  g_bytes_unref (held->body);
  g_strfreev (held->headers);
  g_free (held);
}

static JsonObject *
parse (GBytes *body)
{
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  return lk_json_parse_object (data, len, G_MAXSIZE, G_IO_ERROR, G_IO_ERROR_FAILED, NULL);
}

static GBytes *
serialize (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  char *text = lk_json_to_string (node);

  return g_bytes_new_take (text, strlen (text));
}

static char *
payload_text (JsonObject *read)
{
  JsonObject *payload = lk_json_get_object (read, "payload", FALSE, 0, 0, NULL);
  g_autoptr(JsonNode) node = NULL;

  if (payload == NULL)
    return NULL;
  node = json_node_init_object (json_node_alloc (), payload);
  return lk_json_to_string (node);
}

static void
set_payload (JsonObject *read,
             const char *text)
{
  g_autoptr(JsonObject) payload = lk_json_parse_object (text, strlen (text), G_MAXSIZE, G_IO_ERROR, G_IO_ERROR_FAILED,
                                                        NULL);

  json_object_set_object_member (read, "payload", json_object_ref (payload));
}

/* The misbehaviour, applied to a read's answer. */
static GBytes *
tamper_read (LkTestProxy *self,
             const char  *path,
             const char  *claim,
             GBytes      *body)
{
  g_autoptr(JsonObject) read = NULL;
  g_autofree char *current = NULL;
  LkTestProxyMode mode = (LkTestProxyMode) g_atomic_int_get ((int *) &self->mode);

  if (mode == LK_TEST_PROXY_DEEP)
    {
      /* A comment hid the quote from the old depth guard; json-glib then
       * recursed once per bracket. */
      GString *text = g_string_new ("{\"payload\":/*\"*/");

      for (guint i = 0; i < 250000; i++)
        g_string_append_c (text, '[');
      self->tampered++;
      return g_string_free_to_bytes (text);
    }

  read = parse (body);
  if (read == NULL)
    return g_bytes_ref (body);
  current = payload_text (read);
  if (current == NULL)
    return g_bytes_ref (body);

  switch (mode)
    {
    case LK_TEST_PROXY_BAD_TEXT:
      {
        /* What a relay that stored a lone surrogate would serve. */
        g_autoptr(GBytes) serialized = NULL;
        GString *text;
        JsonObject *display = json_object_new ();

        json_object_set_string_member (display, "title", "@@TITLE@@");
        json_object_set_object_member (read, "displayInformation", display);
        serialized = serialize (read);
        text = g_string_new_len (g_bytes_get_data (serialized, NULL), g_bytes_get_size (serialized));
        g_string_replace (text, "\"@@TITLE@@\"", "\"a\\udfffb\"", 0);
        self->tampered++;
        return g_string_free_to_bytes (text);
      }

    case LK_TEST_PROXY_REPLAY:
      {
        const char *first = g_hash_table_lookup (self->first_payload, path);

        if (first == NULL)
          {
            g_hash_table_insert (self->first_payload, g_strdup (path), g_strdup (current));
            g_hash_table_insert (self->first_reader, g_strdup (path), g_strdup (claim));
            return g_bytes_ref (body);
          }
        /* Stale news, to the reader who has already seen it. */
        if (strcmp (first, current) == 0 || g_strcmp0 (claim, g_hash_table_lookup (self->first_reader, path)) != 0)
          return g_bytes_ref (body);
        set_payload (read, first);
        self->tampered++;
        return serialize (read);
      }

    case LK_TEST_PROXY_SWAP:
      {
        GHashTableIter iter;
        gpointer key, value;

        if (!g_hash_table_contains (self->first_payload, path))
          g_hash_table_insert (self->first_payload, g_strdup (path), g_strdup (current));

        g_hash_table_iter_init (&iter, self->first_payload);
        while (g_hash_table_iter_next (&iter, &key, &value))
          if (strcmp (key, path) != 0)
            {
              set_payload (read, value);
              self->tampered++;
              return serialize (read);
            }
        return g_bytes_ref (body);
      }

    case LK_TEST_PROXY_CORRUPT:
      {
        JsonObject *payload = json_object_get_object_member (read, "payload");
        g_autofree char *data = g_strdup (json_object_get_string_member (payload, "data"));

        data[strlen (data) / 2] = data[strlen (data) / 2] == 'A' ? 'B' : 'A';
        json_object_set_string_member (payload, "data", data);
        self->tampered++;
        return serialize (read);
      }

    case LK_TEST_PROXY_PASS:
    case LK_TEST_PROXY_REORDER:
    case LK_TEST_PROXY_DEEP:
    case LK_TEST_PROXY_ELSEWHERE:
    case LK_TEST_PROXY_LEGACY:
    default:
      return g_bytes_ref (body);
    }
}

static void forward (LkTestProxy *self, Forward *fw, const char *method, GBytes *body, GStrv headers);

static void
release_held (LkTestProxy *self,
              const char  *path)
{
  Held *held = g_hash_table_lookup (self->held, path);
  g_autofree char *url = NULL;
  g_autoptr(SoupMessage) msg = NULL;

  if (held == NULL)
    return;

  url = g_strconcat (self->upstream, path, NULL);
  msg = soup_message_new ("PUT", url);
  for (guint i = 0; held->headers[i] != NULL; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg), held->headers[i], held->headers[i + 1]);
  soup_message_set_request_body_from_bytes (msg, "application/json", held->body);
  g_bytes_unref (soup_session_send_and_read (self->session, msg, NULL, NULL));
  self->tampered++;
  g_hash_table_remove (self->held, path);
}

static void
on_upstream (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Forward *fw = user_data;
  LkTestProxy *self = fw->proxy;
  SoupMessage *upstream = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);
  g_autoptr(GBytes) answer = NULL;
  SoupMessageHeadersIter iter;
  const char *name, *value;
  guint status = body ? soup_message_get_status (upstream) : 502;
  gboolean is_read = strcmp (soup_server_message_get_method (fw->msg), "POST") == 0 &&
                     g_str_has_prefix (fw->path, "/v1/m/");

  if (body == NULL)
    body = g_bytes_new_static ("", 0);
  /* The deep answer goes to every read, changed or not. */
  if (is_read && g_atomic_int_get ((int *) &self->mode) == LK_TEST_PROXY_DEEP)
    status = 200;
  answer = (is_read && status == 200) ? tamper_read (self, fw->path, fw->claim, body) : g_bytes_ref (body);

  /* The relay names itself in urlLink: name the proxy instead (or, to
   * misbehave, another host). */
  if (strcmp (fw->path, "/v1/m") == 0)
    {
      g_autoptr(GString) text = g_string_new_len (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
      gboolean elsewhere = g_atomic_int_get ((int *) &self->mode) == LK_TEST_PROXY_ELSEWHERE;

      g_string_replace (text, self->upstream, elsewhere ? "https://relay.attacker.example" : self->url, 0);
      if (elsewhere)
        self->tampered++;
      g_bytes_unref (answer);
      answer = g_string_free_to_bytes (g_steal_pointer (&text));
    }

  soup_server_message_set_status (fw->msg, status, NULL);
  if (soup_message_get_response_headers (upstream) != NULL)
    {
      soup_message_headers_iter_init (&iter, soup_message_get_response_headers (upstream));
      while (soup_message_headers_iter_next (&iter, &name, &value))
        if (g_ascii_strcasecmp (name, "Content-Length") != 0 && g_ascii_strcasecmp (name, "Connection") != 0 &&
            g_ascii_strcasecmp (name, "Transfer-Encoding") != 0)
          soup_message_headers_append (soup_server_message_get_response_headers (fw->msg), name, value);
    }
  soup_server_message_set_response (fw->msg, "application/json", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  soup_server_message_unpause (fw->msg);

  /* A held write goes in once the other side has read what followed it. */
  if (g_atomic_int_get ((int *) &self->mode) == LK_TEST_PROXY_REORDER && is_read)
    {
      Held *held = g_hash_table_lookup (self->held, fw->path);

      if (held != NULL && !held->waiting_for_read && g_strcmp0 (held->claim, fw->claim) != 0)
        release_held (self, fw->path);
    }

  g_object_unref (fw->msg);
  g_free (fw->path);
  g_free (fw->claim);
  g_free (fw);
}

static void
forward (LkTestProxy *self,
         Forward     *fw,
         const char  *method,
         GBytes      *body,
         GStrv        headers)
{
  g_autofree char *url = g_strconcat (self->upstream, fw->path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);

  for (guint i = 0; headers[i] != NULL; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg), headers[i], headers[i + 1]);
  if (body != NULL && g_bytes_get_size (body) > 0)
    soup_message_set_request_body_from_bytes (msg, "application/json", body);

  soup_server_message_pause (fw->msg);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, NULL, on_upstream, fw);
}

static void
handle (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  LkTestProxy *self = user_data;
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) body = soup_message_body_flatten (request_body);
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
  const char *method = soup_server_message_get_method (msg);
  Forward *fw = g_new0 (Forward, 1);
  SoupMessageHeadersIter iter;
  const char *name, *value;

  fw->proxy = self;
  fw->msg = g_object_ref (msg);
  fw->path = g_strdup (path);
  fw->claim = g_strdup (soup_message_headers_get_one (request_headers, "Mailbox-Device-Claim"));

  soup_message_headers_iter_init (&iter, request_headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    {
      if (g_ascii_strcasecmp (name, "Host") == 0 || g_ascii_strcasecmp (name, "Content-Length") == 0 ||
          g_ascii_strcasecmp (name, "Connection") == 0)
        continue;
      /* Reordering writes must not trip the relay's own version check. */
      if (g_atomic_int_get ((int *) &self->mode) == LK_TEST_PROXY_REORDER && g_ascii_strcasecmp (name, "If-Match") == 0)
        continue;
      g_ptr_array_add (headers, g_strdup (name));
      g_ptr_array_add (headers, g_strdup (value));
    }
  g_ptr_array_add (headers, NULL);

  if (g_atomic_int_get ((int *) &self->mode) == LK_TEST_PROXY_REORDER && strcmp (method, "PUT") == 0)
    {
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->put_counts, path)) + 1;

      g_hash_table_insert (self->put_counts, g_strdup (path), GUINT_TO_POINTER (count));

      /* The receiver's first write is held back and acknowledged. */
      if (count == 2)
        {
          Held *held = g_new0 (Held, 1);

          held->claim = g_strdup (fw->claim);
          held->body = g_bytes_ref (body);
          held->headers = g_strdupv ((char **) headers->pdata);
          held->waiting_for_read = TRUE;
          g_hash_table_insert (self->held, g_strdup (path), held);

          soup_server_message_set_status (msg, 200, NULL);
          soup_message_headers_append (soup_server_message_get_response_headers (msg), "ETag", "\"1000\"");
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                            "{\"isPushNotificationSupported\":true}", 36);
          g_object_unref (fw->msg);
          g_free (fw->path);
          g_free (fw->claim);
          g_free (fw);
          return;
        }
      if (count == 3)
        {
          Held *held = g_hash_table_lookup (self->held, path);

          if (held != NULL)
            held->waiting_for_read = FALSE;
        }
    }

  /* A relay that does not know the extension ignores it: one recipient. */
  if (g_atomic_int_get ((int *) &self->mode) == LK_TEST_PROXY_LEGACY && strcmp (path, "/v1/m") == 0)
    {
      g_autoptr(JsonObject) create = parse (body);
      JsonObject *config = create ? lk_json_get_object (create, "mailboxConfiguration", FALSE, 0, 0, NULL) : NULL;

      if (config != NULL && json_object_has_member (config, "maxRecipients"))
        {
          json_object_remove_member (config, "maxRecipients");
          g_bytes_unref (body);
          body = serialize (create);
          self->tampered++;
        }
    }

  forward (self, fw, method, body, (GStrv) headers->pdata);
}

static gpointer
proxy_thread (gpointer data)
{
  LkTestProxy *self = data;
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (self->context);

  self->session = soup_session_new_with_options ("timeout", 60, NULL);
  self->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (self->server, NULL, handle, self, NULL);
  soup_server_listen_local (self->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (self->server);
  {
    g_autofree char *text = g_uri_to_string (uris->data);

    /* No trailing slash, like the relay's own origin. */
    self->url = g_strndup (text, strlen (text) - (g_str_has_suffix (text, "/") ? 1 : 0));
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_mutex_lock (&self->lock);
  self->started = TRUE;
  g_cond_signal (&self->ready);
  g_mutex_unlock (&self->lock);

  g_main_loop_run (self->loop);

  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_object (&self->session);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/**
 * lk_test_proxy_new:
 * @upstream: the real relay's origin
 *
 * Returns once the proxy listens on loopback.
 */
LkTestProxy *
lk_test_proxy_new (const char      *upstream,
                   LkTestProxyMode  mode)
{
  LkTestProxy *self = g_new0 (LkTestProxy, 1);

  self->upstream = g_strdup (upstream);
  self->mode = mode;
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->first_payload = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->first_reader = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->put_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) held_free);
  g_mutex_init (&self->lock);
  g_cond_init (&self->ready);

  self->thread = g_thread_new ("lk-test-proxy", proxy_thread, self);
  g_mutex_lock (&self->lock);
  while (!self->started)
    g_cond_wait (&self->ready, &self->lock);
  g_mutex_unlock (&self->lock);

  return self;
}

const char *
lk_test_proxy_get_url (LkTestProxy *self)
{
  return self->url;
}

/**
 * lk_test_proxy_get_tampered:
 *
 * Returns: how many times the proxy misbehaved; a test that checks its
 *   misbehaviour was caught checks first that there was some
 */
guint
lk_test_proxy_get_tampered (LkTestProxy *self)
{
  return self->tampered;
}

/**
 * lk_test_proxy_set_mode:
 *
 * Changes the misbehaviour from the next request on: a transfer can start
 * through a faithful relay and go on through a hostile one.
 */
void
lk_test_proxy_set_mode (LkTestProxy     *self,
                        LkTestProxyMode  mode)
{
  g_atomic_int_set ((int *) &self->mode, mode);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
lk_test_proxy_free (LkTestProxy *self)
{
  g_main_context_invoke (self->context, quit_loop, self->loop);
  g_thread_join (self->thread);

  g_hash_table_unref (self->first_payload);
  g_hash_table_unref (self->first_reader);
  g_hash_table_unref (self->put_counts);
  g_hash_table_unref (self->held);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->ready);
  g_free (self->upstream);
  g_free (self->url);
  g_free (self);
}
