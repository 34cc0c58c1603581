/* lk-test-balancer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What nginx's round-robin upstream does for several relay instances, at
 * the TCP level: each new connection goes to the next instance, and bytes
 * are copied both ways until each side has closed. So a client's requests
 * land on every instance (each latchkey-cli run opens its own connections),
 * and a test can count how many went where. Blocking sockets, a thread per
 * direction: no main context is needed while the test waits on a child.
 */

#define G_LOG_DOMAIN "lk-test-balancer"

#include "config.h"

#include "lk-test-balancer.h"

struct _LkTestBalancer
{
  GSocket      *listener;
  char         *url;
  guint         ports[LK_TEST_BALANCER_UPSTREAMS];
  GThread      *thread;
  GCancellable *cancellable;

  GMutex        lock;
  GCond         idle;
  GPtrArray    *sockets;     /* open ones, shut down at the end */
  guint         links;       /* connections being copied */
  guint         next;
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
  GThread *back = g_thread_new ("lk-test-balancer-back", back_thread, link);

  pump (link->client, link->upstream);
  g_thread_join (back);

  g_mutex_lock (&self->lock);
  g_ptr_array_remove (self->sockets, link->client);
  g_ptr_array_remove (self->sockets, link->upstream);
  self->links--;
  g_cond_broadcast (&self->idle);
  g_mutex_unlock (&self->lock);

  g_socket_close (link->client, NULL);
  g_socket_close (link->upstream, NULL);
  g_object_unref (link->client);
  g_object_unref (link->upstream);
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
      g_autoptr(GSocket) upstream = NULL;
      Link *link;

      if (client == NULL)
        {
          if (g_cancellable_is_cancelled (self->cancellable))
            break;
          continue;
        }

      /* The next instance; one that refuses is skipped, as nginx would. */
      for (guint tries = 0; tries < LK_TEST_BALANCER_UPSTREAMS && upstream == NULL; tries++)
        {
          guint which;

          g_mutex_lock (&self->lock);
          which = self->next++ % LK_TEST_BALANCER_UPSTREAMS;
          g_mutex_unlock (&self->lock);
          upstream = connect_upstream (self->ports[which]);
          if (upstream != NULL)
            {
              g_mutex_lock (&self->lock);
              self->connections[which]++;
              g_mutex_unlock (&self->lock);
            }
        }
      if (upstream == NULL)
        continue;   /* the client's connection is closed */

      link = g_new0 (Link, 1);
      link->self = self;
      link->client = g_steal_pointer (&client);
      link->upstream = g_steal_pointer (&upstream);
      g_mutex_lock (&self->lock);
      g_ptr_array_add (self->sockets, link->client);
      g_ptr_array_add (self->sockets, link->upstream);
      self->links++;
      g_mutex_unlock (&self->lock);
      g_thread_unref (g_thread_new ("lk-test-balancer-link", link_thread, link));
    }
  return NULL;
}

/**
 * lk_test_balancer_new:
 * @port_a: a loopback port, the first instance's
 * @port_b: the second instance's
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
 * Returns: how many connections went to @upstream (0 or 1) so far
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
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->idle);
  g_object_unref (self->listener);
  g_object_unref (self->cancellable);
  g_free (self->url);
  g_free (self);
}
