/* lk-test-balancer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two relay instances behind one address, as behind nginx, with the
 * sender's requests on one and the receiver's on the other (issue 14:
 * "the sender on one instance and the receiver on another"). A link
 * file cannot name two addresses, so the balancer tells the sides apart
 * by the first request of each connection: a create (POST /v1/m) makes
 * its Mailbox-Device-Claim a sender's, and a connection that starts with
 * a sender's claim goes to instance A; every other one goes to B. Each
 * latchkey-cli run opens its own connections, and a run is one side, so
 * a whole run stays on one instance.
 *
 * At the TCP level, blocking sockets, a thread per direction: no main
 * context is needed while the test waits on a child.
 */

#define G_LOG_DOMAIN "lk-test-balancer"

#include "config.h"

#include <string.h>

#include "lk-test-balancer.h"

/* A request head larger than this is not the relay's client. */
#define MAX_HEAD 16384

struct _LkTestBalancer
{
  GSocket      *listener;
  char         *url;
  guint         ports[LK_TEST_BALANCER_UPSTREAMS];
  GThread      *thread;
  GCancellable *cancellable;

  GMutex        lock;
  GCond         idle;
  GPtrArray    *sockets;       /* open ones, shut down at the end */
  guint         links;         /* connections being copied */
  GHashTable   *sender_claims; /* claims seen in creates */
  guint         connections[LK_TEST_BALANCER_UPSTREAMS];
};

typedef struct
{
  LkTestBalancer *self;
  GSocket        *client;
  GSocket        *upstream;
} Link;

static GSocket *
connect_upstream (guint port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  if (socket == NULL || !g_socket_connect (socket, address, NULL, NULL))
    return NULL;
  return g_steal_pointer (&socket);
}

/* Reads until the first request's head is complete (or the client stops,
 * or it is too long). What was read is sent on as it came. */
static GByteArray *
read_head (GSocket *client)
{
  g_autoptr(GByteArray) head = g_byte_array_new ();
  char buffer[4096];

  while (head->len < MAX_HEAD)
    {
      gssize n = g_socket_receive (client, buffer, sizeof buffer, NULL, NULL);

      if (n <= 0)
        break;
      g_byte_array_append (head, (const guint8 *) buffer, (guint) n);
      if (g_strstr_len ((const char *) head->data, head->len, "\r\n\r\n") != NULL)
        break;
    }
  return g_steal_pointer (&head);
}

/* 0 (instance A) for a sender's request, 1 (B) for any other. */
static guint
choose_upstream (LkTestBalancer *self,
                 GByteArray     *head)
{
  g_autofree char *text = g_strndup ((const char *) head->data, head->len);
  g_auto(GStrv) lines = g_strsplit (text, "\r\n", -1);
  g_autofree char *claim = NULL;
  gboolean create, sender;

  if (lines[0] == NULL)
    return 1;
  create = g_str_has_prefix (lines[0], "POST /v1/m ");
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    if (g_ascii_strncasecmp (lines[i], "Mailbox-Device-Claim:", strlen ("Mailbox-Device-Claim:")) == 0)
      claim = g_strstrip (g_strdup (lines[i] + strlen ("Mailbox-Device-Claim:")));

  g_mutex_lock (&self->lock);
  if (create && claim != NULL)
    g_hash_table_add (self->sender_claims, g_strdup (claim));
  sender = create || (claim != NULL && g_hash_table_contains (self->sender_claims, claim));
  g_mutex_unlock (&self->lock);
  return sender ? 0 : 1;
}

/* Copies until @from ends, then passes the end on (a half close). */
static void
pump (GSocket *from,
      GSocket *to)
{
  char buffer[16384];

  for (;;)
    {
      gssize n = g_socket_receive (from, buffer, sizeof buffer, NULL, NULL);

      if (n <= 0)
        break;
      for (gssize done = 0; done < n;)
        {
          gssize sent = g_socket_send (to, buffer + done, (gsize) (n - done), NULL, NULL);

          if (sent <= 0)
            goto out;
          done += sent;
        }
    }
out:
  g_socket_shutdown (to, FALSE, TRUE, NULL);
}

static gpointer
back_thread (gpointer data)
{
  Link *link = data;

  pump (link->upstream, link->client);
  return NULL;
}

static gpointer
link_thread (gpointer data)
{
  Link *link = data;
  LkTestBalancer *self = link->self;
  g_autoptr(GByteArray) head = read_head (link->client);
  GThread *back = NULL;

  if (head->len > 0)
    {
      guint which = choose_upstream (self, head);

      link->upstream = connect_upstream (self->ports[which]);
      if (link->upstream != NULL)
        {
          gsize done = 0;

          g_mutex_lock (&self->lock);
          self->connections[which]++;
          g_ptr_array_add (self->sockets, link->upstream);
          g_mutex_unlock (&self->lock);

          while (done < head->len)
            {
              gssize sent = g_socket_send (link->upstream, (const char *) head->data + done, head->len - done,
                                           NULL, NULL);

              if (sent <= 0)
                break;
              done += (gsize) sent;
            }
          back = g_thread_new ("lk-test-balancer-back", back_thread, link);
          pump (link->client, link->upstream);
          g_thread_join (back);
        }
    }

  g_mutex_lock (&self->lock);
  g_ptr_array_remove (self->sockets, link->client);
  if (link->upstream != NULL)
    g_ptr_array_remove (self->sockets, link->upstream);
  self->links--;
  g_cond_broadcast (&self->idle);
  g_mutex_unlock (&self->lock);

  g_socket_close (link->client, NULL);
  g_object_unref (link->client);
  if (link->upstream != NULL)
    {
      g_socket_close (link->upstream, NULL);
      g_object_unref (link->upstream);
    }
  g_free (link);
  return NULL;
}

static gpointer
accept_thread (gpointer data)
{
  LkTestBalancer *self = data;

  for (;;)
    {
      g_autoptr(GSocket) client = g_socket_accept (self->listener, self->cancellable, NULL);
      Link *link;

      if (client == NULL)
        {
          if (g_cancellable_is_cancelled (self->cancellable))
            break;
          continue;
        }

      /* The instance is chosen on the link's thread, once the request's
       * head has come: accepting never waits on a client. */
      link = g_new0 (Link, 1);
      link->self = self;
      link->client = g_steal_pointer (&client);
      g_mutex_lock (&self->lock);
      g_ptr_array_add (self->sockets, link->client);
      self->links++;
      g_mutex_unlock (&self->lock);
      g_thread_unref (g_thread_new ("lk-test-balancer-link", link_thread, link));
    }
  return NULL;
}

/**
 * lk_test_balancer_new:
 * @port_a: a loopback port, the first instance's: the sender's
 * @port_b: the second instance's: the receiver's (and any other's)
 *
 * Returns once the balancer listens on a loopback port of its own.
 */
LkTestBalancer *
lk_test_balancer_new (guint port_a,
                      guint port_b)
{
  LkTestBalancer *self = g_new0 (LkTestBalancer, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  self->ports[0] = port_a;
  self->ports[1] = port_b;
  self->cancellable = g_cancellable_new ();
  self->sockets = g_ptr_array_new ();
  self->sender_claims = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&self->lock);
  g_cond_init (&self->idle);

  self->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (self->listener, any, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (self->listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (self->listener, &error);
  g_assert_no_error (error);
  self->url = g_strdup_printf ("http://127.0.0.1:%u",
                               g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  self->thread = g_thread_new ("lk-test-balancer", accept_thread, self);
  return self;
}

const char *
lk_test_balancer_get_url (LkTestBalancer *self)
{
  return self->url;
}

/**
 * lk_test_balancer_get_connections:
 *
 * Returns: how many connections went to @upstream (0: the sender's, 1: the
 *   others') so far
 */
guint
lk_test_balancer_get_connections (LkTestBalancer *self,
                                  guint           upstream)
{
  guint n;

  g_assert_cmpuint (upstream, <, LK_TEST_BALANCER_UPSTREAMS);
  g_mutex_lock (&self->lock);
  n = self->connections[upstream];
  g_mutex_unlock (&self->lock);
  return n;
}

void
lk_test_balancer_free (LkTestBalancer *self)
{
  if (self == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_thread_join (self->thread);
  g_socket_close (self->listener, NULL);

  /* Connections still open end now: their threads see the shutdown. */
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->sockets->len; i++)
    g_socket_shutdown (g_ptr_array_index (self->sockets, i), TRUE, TRUE, NULL);
  while (self->links > 0)
    g_cond_wait (&self->idle, &self->lock);
  g_mutex_unlock (&self->lock);

  g_ptr_array_unref (self->sockets);
  g_hash_table_unref (self->sender_claims);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->idle);
  g_object_unref (self->listener);
  g_object_unref (self->cancellable);
  g_free (self->url);
  g_free (self);
}
