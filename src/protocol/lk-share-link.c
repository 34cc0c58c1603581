/* lk-share-link.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lk-share-link"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>

#include "lk-crypto.h"
#include "lk-error.h"
#include "lk-share-link.h"

#define MAX_HOST_LENGTH 253

struct _LkShareLink
{
  GObject     parent_instance;

  char       *scheme;
  char       *host;
  int         port;
  char       *mailbox_id;
  LkVertical  vertical;
  GBytes     *secret;
};

G_DEFINE_FINAL_TYPE (LkShareLink, lk_share_link, G_TYPE_OBJECT)

static void
lk_share_link_finalize (GObject *object)
{
  LkShareLink *self = (LkShareLink *) object;

  g_free (self->scheme);
  g_free (self->host);
  g_free (self->mailbox_id);
  g_clear_pointer (&self->secret, g_bytes_unref);

  G_OBJECT_CLASS (lk_share_link_parent_class)->finalize (object);
}

static void
lk_share_link_class_init (LkShareLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lk_share_link_finalize;
}

static void
lk_share_link_init (LkShareLink *self)
{
  self->port = -1;
}

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

static gboolean
check_secret_length (gsize    len,
                     GError **error)
{
  if (len < LK_SECRET_MIN_LENGTH)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_SHORT,
                   _("The link’s secret is too short: %u bytes, at least %u are needed"),
                   (guint) len, LK_SECRET_MIN_LENGTH);
      return FALSE;
    }

  if (lk_aead_type_for_key (len) == NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_INVALID,
                   _("The link’s secret has %u bytes; it must have 16 or 32"), (guint) len);
      return FALSE;
    }

  return TRUE;
}

static GBytes *
decode_secret (const char  *fragment,
               GError     **error)
{
  g_autoptr(LkSecureString) unescaped = NULL;
  guint8 *raw;
  gsize raw_len;

  if (fragment == NULL || *fragment == '\0')
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_MISSING,
                   _("The link has no secret; ask the sender for the complete link"));
      return NULL;
    }

  /* Some messengers percent-encode '=' or '/' in fragments. */
  unescaped = g_uri_unescape_string (fragment, NULL);
  if (unescaped == NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_INVALID,
                   _("The link’s secret is not valid base64"));
      return NULL;
    }

  raw = lk_base64_decode_strict (unescaped, strlen (unescaped), &raw_len);
  if (raw == NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_INVALID,
                   _("The link’s secret is not valid base64"));
      return NULL;
    }

  if (!check_secret_length (raw_len, error))
    {
      gnutls_memset (raw, 0, raw_len);
      g_free (raw);
      return NULL;
    }

  return lk_secure_bytes_take (raw, raw_len);
}

static gboolean
parse_path (LkShareLink  *self,
            const char   *path,
            GError      **error)
{
  g_auto(GStrv) parts = NULL;
  guint n_parts;

  if (path == NULL || *path == '\0' || strcmp (path, "/") == 0)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_PATH,
                   _("The link has no mailbox path"));
      return FALSE;
    }

  parts = g_strsplit (path, "/", 6);
  n_parts = g_strv_length (parts);

  if (parts[0][0] != '\0')
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_PATH,
                   _("The link’s path is not absolute"));
      return FALSE;
    }

  if (n_parts >= 2 && strcmp (parts[1], "v1") != 0)
    {
      gboolean versioned = parts[1][0] == 'v' && parts[1][1] != '\0' &&
                           strspn (parts[1] + 1, "0123456789") == strlen (parts[1] + 1);

      if (versioned)
        g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_VERSION,
                     _("The link uses protocol version “%s”; only v1 is supported"), parts[1]);
      else
        g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_PATH,
                     _("The link’s path does not start with /v1/m/"));
      return FALSE;
    }

  if (n_parts >= 3 && strcmp (parts[2], "m") != 0)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_PATH,
                   _("The link’s path does not start with /v1/m/"));
      return FALSE;
    }

  if (n_parts < 4 || parts[3][0] == '\0')
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_PATH,
                   _("The link’s path lacks a mailbox identifier"));
      return FALSE;
    }

  if (n_parts > 4)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_PATH,
                   _("The link’s path has parts after the mailbox identifier"));
      return FALSE;
    }

  if (!g_uuid_string_is_valid (parts[3]))
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_MAILBOX_ID,
                   _("The link’s mailbox identifier is not a UUID"));
      return FALSE;
    }

  self->mailbox_id = g_ascii_strdown (parts[3], -1);
  return TRUE;
}

static gboolean
parse_query (LkShareLink  *self,
             const char   *query,
             GError      **error)
{
  g_auto(GStrv) params = NULL;
  gboolean seen_vertical = FALSE;

  self->vertical = LK_VERTICAL_GENERIC;

  if (query == NULL || *query == '\0')
    return TRUE;

  params = g_strsplit (query, "&", 0);
  for (guint i = 0; params[i] != NULL; i++)
    {
      const char *eq = strchr (params[i], '=');
      g_autofree char *name = eq ? g_strndup (params[i], eq - params[i]) : g_strdup (params[i]);

      /* Messengers and mail add their own (fbclid, utm_*); a link that
       * arrived through one must still open. Only v means anything to us. */
      if (strcmp (name, "v") != 0)
        continue;

      if (seen_vertical)
        {
          g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_PARAMETER,
                       _("The link names its vertical twice"));
          return FALSE;
        }
      seen_vertical = TRUE;

      if (eq == NULL || !lk_vertical_from_code (eq + 1, &self->vertical))
        {
          g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_VERTICAL,
                       _("The link is for an unknown kind of credential; Latchkey knows a, h and c"));
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
set_origin (LkShareLink  *self,
            GUri         *uri,
            GError      **error)
{
  const char *scheme = g_uri_get_scheme (uri);
  const char *host = g_uri_get_host (uri);
  gboolean is_http = g_ascii_strcasecmp (scheme, "http") == 0;

  if (g_ascii_strcasecmp (scheme, "https") != 0 && !is_http)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SCHEME,
                   _("This is not a Latchkey link: it must start with https:// or latchkey:"));
      return FALSE;
    }

  if (host == NULL || *host == '\0')
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_HOST, _("The link has no host"));
      return FALSE;
    }

  /* "https://relay.example@evil.example/…" reads as one host and is another. */
  if (g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_HOST,
                   _("The link has user information before its host"));
      return FALSE;
    }

  if (strlen (host) > MAX_HOST_LENGTH || strpbrk (host, "%/\\ ") != NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_HOST, _("The link’s host is not valid"));
      return FALSE;
    }

  /* The draft requires HTTPS; plain HTTP is only for a relay on this machine. */
  if (is_http && !host_is_loopback (host))
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SCHEME,
                   _("The link uses unencrypted http:// for a relay on another machine"));
      return FALSE;
    }

  self->scheme = g_ascii_strdown (scheme, -1);
  self->host = g_ascii_strdown (host, -1);
  self->port = g_uri_get_port (uri);
  if (self->port == 0)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_HOST, _("The link’s port is not valid"));
      return FALSE;
    }

  return TRUE;
}

static LkShareLink *
parse_link (const char  *text,
            gboolean     want_secret,
            GError     **error)
{
  g_autoptr(LkShareLink) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(LkSecureString) trimmed = NULL;
  const char *body;
  char *fragment;
  gsize len;

  g_return_val_if_fail (text != NULL, NULL);

  len = strnlen (text, LK_SHARE_LINK_MAX_LENGTH + 1);
  if (len > LK_SHARE_LINK_MAX_LENGTH)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_TOO_LONG,
                   _("The link is longer than %u characters"), LK_SHARE_LINK_MAX_LENGTH);
      return NULL;
    }

  /* Links are pasted from messages, so surrounding white space is forgiven. */
  trimmed = g_strstrip (g_strndup (text, len));
  body = trimmed;

  if (g_ascii_strncasecmp (body, LK_SHARE_LINK_SCHEME ":", strlen (LK_SHARE_LINK_SCHEME ":")) == 0)
    body += strlen (LK_SHARE_LINK_SCHEME ":");

  /* Cut the secret off here, so that it never sits in GUri's unwiped copies. */
  fragment = strchr (body, '#');
  if (fragment != NULL)
    *fragment++ = '\0';

  uri = g_uri_parse (body, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_MALFORMED,
                   _("This is not a link"));
      return NULL;
    }

  self = g_object_new (LK_TYPE_SHARE_LINK, NULL);

  if (!set_origin (self, uri, error) ||
      !parse_path (self, g_uri_get_path (uri), error) ||
      !parse_query (self, g_uri_get_query (uri), error))
    return NULL;

  if (want_secret)
    {
      /* A fragment that is present must be well formed even when the caller
       * brings the secret separately. */
      self->secret = decode_secret (fragment, error);
      if (self->secret == NULL)
        return NULL;
    }

  return g_steal_pointer (&self);
}

/**
 * lk_share_link_parse_with_secret:
 * @text: a share link without its secret (no fragment, or an empty one)
 * @secret: the secret, given separately as the draft recommends: base64 or
 *   base64url, as in a link's fragment
 *
 * For a link whose secret came another way. Call it when
 * lk_share_link_parse() fails with %LK_LINK_ERROR_SECRET_MISSING.
 *
 * Returns: (transfer full) (nullable): the link, or %NULL with an
 *   #LK_LINK_ERROR
 */
LkShareLink *
lk_share_link_parse_with_secret (const char  *text,
                                 const char  *secret,
                                 GError     **error)
{
  g_autoptr(LkShareLink) self = NULL;
  g_autoptr(LkSecureString) trimmed = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (secret != NULL, NULL);

  /* The link must not carry a secret of its own: which one would count? */
  self = parse_link (text, TRUE, &local_error);
  if (self != NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_MALFORMED,
                   _("The link already holds its secret; give only the link"));
      return NULL;
    }
  if (!g_error_matches (local_error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_MISSING))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  self = parse_link (text, FALSE, error);
  if (self == NULL)
    return NULL;

  trimmed = g_strstrip (g_strndup (secret, LK_SHARE_LINK_MAX_LENGTH));
  /* A secret pasted with its '#' is the fragment all the same. */
  self->secret = decode_secret (trimmed[0] == '#' ? trimmed + 1 : trimmed, error);
  if (self->secret == NULL)
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * lk_share_link_parse:
 * @text: a share link, `https://HOST[:PORT]/v1/m/{id}?v={a|h|c}#{secret}`,
 *   or the same link after `latchkey:`
 *
 * Returns: (transfer full) (nullable): the link, or %NULL with an
 *   #LK_LINK_ERROR that says what is wrong with it
 */
LkShareLink *
lk_share_link_parse (const char  *text,
                     GError     **error)
{
  return parse_link (text, TRUE, error);
}

/**
 * lk_share_link_looks_like_link:
 *
 * A cheap test for offering clipboard contents: it does not validate.
 */
gboolean
lk_share_link_looks_like_link (const char *text)
{
  g_autoptr(LkShareLink) link = NULL;

  if (text == NULL)
    return FALSE;

  link = parse_link (text, TRUE, NULL);
  return link != NULL;
}

/**
 * lk_share_link_new_for_mailbox:
 * @mailbox_url: the `urlLink` the relay answered at creation
 * @secret: 16 or 32 bytes
 */
LkShareLink *
lk_share_link_new_for_mailbox (const char  *mailbox_url,
                               LkVertical   vertical,
                               GBytes      *secret,
                               GError     **error)
{
  g_autoptr(LkShareLink) self = NULL;

  g_return_val_if_fail (mailbox_url != NULL, NULL);
  g_return_val_if_fail (secret != NULL, NULL);

  self = parse_link (mailbox_url, FALSE, error);
  if (self == NULL)
    return NULL;

  if (!check_secret_length (g_bytes_get_size (secret), error))
    return NULL;

  self->vertical = vertical;
  self->secret = g_bytes_ref (secret);

  return g_steal_pointer (&self);
}

/**
 * lk_share_link_new:
 * @relay_url: the relay's origin, such as `https://relay.example:8443`
 * @mailbox_id: a UUID
 * @secret: 16 or 32 bytes
 */
LkShareLink *
lk_share_link_new (const char  *relay_url,
                   const char  *mailbox_id,
                   LkVertical   vertical,
                   GBytes      *secret,
                   GError     **error)
{
  g_autoptr(GUri) base = NULL;
  g_autofree char *mailbox_url = NULL;
  g_autofree char *port = NULL;
  const char *host;

  g_return_val_if_fail (relay_url != NULL, NULL);
  g_return_val_if_fail (mailbox_id != NULL, NULL);

  base = g_uri_parse (relay_url, G_URI_FLAGS_ENCODED, NULL);
  if (base == NULL || g_uri_get_host (base) == NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_MALFORMED,
                   _("The relay address is not a URL"));
      return NULL;
    }

  host = g_uri_get_host (base);
  port = g_uri_get_port (base) > 0 ? g_strdup_printf (":%d", g_uri_get_port (base)) : g_strdup ("");
  mailbox_url = g_strdup_printf ("%s://%s%s%s%s/v1/m/%s",
                                 g_uri_get_scheme (base),
                                 strchr (host, ':') ? "[" : "", host, strchr (host, ':') ? "]" : "",
                                 port, mailbox_id);

  return lk_share_link_new_for_mailbox (mailbox_url, vertical, secret, error);
}

const char *
lk_share_link_get_scheme (LkShareLink *self)
{
  g_return_val_if_fail (LK_IS_SHARE_LINK (self), NULL);
  return self->scheme;
}

const char *
lk_share_link_get_host (LkShareLink *self)
{
  g_return_val_if_fail (LK_IS_SHARE_LINK (self), NULL);
  return self->host;
}

/**
 * lk_share_link_get_port:
 *
 * Returns: the explicit port, or -1 for the scheme's default
 */
int
lk_share_link_get_port (LkShareLink *self)
{
  g_return_val_if_fail (LK_IS_SHARE_LINK (self), -1);
  return self->port;
}

const char *
lk_share_link_get_mailbox_id (LkShareLink *self)
{
  g_return_val_if_fail (LK_IS_SHARE_LINK (self), NULL);
  return self->mailbox_id;
}

LkVertical
lk_share_link_get_vertical (LkShareLink *self)
{
  g_return_val_if_fail (LK_IS_SHARE_LINK (self), LK_VERTICAL_GENERIC);
  return self->vertical;
}

/**
 * lk_share_link_get_secret:
 *
 * Returns: (transfer none): the shared key, wiped when the link is freed
 */
GBytes *
lk_share_link_get_secret (LkShareLink *self)
{
  g_return_val_if_fail (LK_IS_SHARE_LINK (self), NULL);
  return self->secret;
}

/**
 * lk_share_link_get_relay_url:
 *
 * Returns: the relay's origin, `scheme://host[:port]`
 */
char *
lk_share_link_get_relay_url (LkShareLink *self)
{
  gboolean ipv6;

  g_return_val_if_fail (LK_IS_SHARE_LINK (self), NULL);

  ipv6 = strchr (self->host, ':') != NULL;
  if (self->port > 0)
    return g_strdup_printf ("%s://%s%s%s:%d", self->scheme,
                            ipv6 ? "[" : "", self->host, ipv6 ? "]" : "", self->port);
  return g_strdup_printf ("%s://%s%s%s", self->scheme,
                          ipv6 ? "[" : "", self->host, ipv6 ? "]" : "");
}

/**
 * lk_share_link_get_mailbox_url:
 *
 * Returns: the URL the relay serves, without the vertical and without the
 *   secret: the only form of the link that may be sent to the relay
 */
char *
lk_share_link_get_mailbox_url (LkShareLink *self)
{
  g_autofree char *origin = lk_share_link_get_relay_url (self);

  return g_strdup_printf ("%s/v1/m/%s", origin, self->mailbox_id);
}

/**
 * lk_share_link_to_string:
 *
 * Returns: the https form, with the secret as unpadded base64url. It holds
 *   the secret: free it with lk_secure_str_free().
 */
char *
lk_share_link_to_string (LkShareLink *self)
{
  g_autofree char *mailbox_url = NULL;
  g_autoptr(LkSecureString) secret = NULL;
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (LK_IS_SHARE_LINK (self), NULL);

  mailbox_url = lk_share_link_get_mailbox_url (self);
  data = g_bytes_get_data (self->secret, &len);
  secret = lk_base64url_encode (data, len);

  return g_strdup_printf ("%s?v=%s#%s", mailbox_url, lk_vertical_to_code (self->vertical), secret);
}

/**
 * lk_share_link_to_uri:
 *
 * Returns: the link after `latchkey:`, for the desktop's scheme handler.
 *   Free it with lk_secure_str_free().
 */
char *
lk_share_link_to_uri (LkShareLink *self)
{
  g_autoptr(LkSecureString) link = lk_share_link_to_string (self);

  return g_strconcat (LK_SHARE_LINK_SCHEME ":", link, NULL);
}

/* The one rule for every server the wallet talks to: https, or http to
 * this machine only; a host, and nothing before it. */
static gboolean
check_origin (GUri     *uri,
              GError  **error)
{
  const char *scheme = g_uri_get_scheme (uri);
  const char *host = g_uri_get_host (uri);

  if (g_ascii_strcasecmp (scheme, "https") != 0 && g_ascii_strcasecmp (scheme, "http") != 0)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SCHEME, _("The address must start with https://"));
      return FALSE;
    }
  if (host == NULL || *host == '\0' || g_uri_get_userinfo (uri) != NULL ||
      strlen (host) > MAX_HOST_LENGTH || strpbrk (host, "%/\\ ") != NULL || g_uri_get_port (uri) == 0)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_HOST, _("The address needs a server name, and nothing before it"));
      return FALSE;
    }
  if (g_ascii_strcasecmp (scheme, "http") == 0 && !host_is_loopback (host))
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_SCHEME,
                   _("Only a server on this computer may use http://; use https://"));
      return FALSE;
    }

  return TRUE;
}

static GUri *
parse_server_url (const char  *url,
                  GError     **error)
{
  GUri *uri;

  if (strlen (url) > LK_SHARE_LINK_MAX_LENGTH)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_TOO_LONG, _("The address is too long"));
      return NULL;
    }

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_MALFORMED,
                 _("This is not a web address such as https://relay.example"));
  return uri;
}

/**
 * lk_share_link_check_server_url:
 * @url: a relay or partner base URL: typed by a user, given on the command
 *   line or in the environment, or named in a received offer
 *
 * Checks @url by the rules links follow: https, or http to this machine
 * only; a host; no user information, path, query or fragment.
 *
 * Returns: %TRUE if @url can be used as a server's base URL
 */
gboolean
lk_share_link_check_server_url (const char  *url,
                                GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *path;

  g_return_val_if_fail (url != NULL, FALSE);

  uri = parse_server_url (url, error);
  if (uri == NULL || !check_origin (uri, error))
    return FALSE;

  path = g_uri_get_path (uri);
  if ((*path != '\0' && strcmp (path, "/") != 0) || g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, LK_LINK_ERROR, LK_LINK_ERROR_PATH,
                   _("Give only the server’s address, without a path, query or fragment"));
      return FALSE;
    }

  return TRUE;
}

/**
 * lk_share_link_check_request_url:
 * @url: a URL about to be requested
 *
 * The same rule as lk_share_link_check_server_url() for the server, for a
 * URL with a path: what every request of the HTTP client is held to.
 */
gboolean
lk_share_link_check_request_url (const char  *url,
                                 GError     **error)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (url != NULL, FALSE);

  uri = parse_server_url (url, error);
  return uri != NULL && check_origin (uri, error);
}

static int
effective_port (const char *scheme,
                int         port)
{
  if (port > 0)
    return port;
  return g_ascii_strcasecmp (scheme, "https") == 0 ? 443 : 80;
}

/**
 * lk_share_link_is_on_server:
 * @server_url: a server's base URL
 *
 * Returns: whether the link's relay is @server_url: the same scheme, host
 *   and port (a default port written out or not)
 */
gboolean
lk_share_link_is_on_server (LkShareLink *self,
                            const char  *server_url)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *host = NULL;

  g_return_val_if_fail (LK_IS_SHARE_LINK (self), FALSE);
  g_return_val_if_fail (server_url != NULL, FALSE);

  uri = g_uri_parse (server_url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return FALSE;

  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  return g_ascii_strcasecmp (g_uri_get_scheme (uri), self->scheme) == 0 &&
         strcmp (host, self->host) == 0 &&
         effective_port (g_uri_get_scheme (uri), g_uri_get_port (uri)) == effective_port (self->scheme, self->port);
}
