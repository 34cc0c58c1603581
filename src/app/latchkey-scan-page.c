/* latchkey-scan-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The camera runs only while the page is on screen. Images (opened,
 * dropped, pasted or from the Screenshot portal) are decoded on a worker
 * thread, with every variant of the decoder at once if the image as it is
 * holds no code it can read. A link that is found is handed on, parsed,
 * with "link-found": the window opens its receive preview, which claims
 * nothing until the user accepts.
 */

#define G_LOG_DOMAIN "latchkey-scan-page"

#include "config.h"

#include <glib/gi18n.h>
#include <libportal-gtk4/portal-gtk4.h>

#include "lk-error.h"
#include "lk-crypto.h"
#include "lk-qr-decoder.h"
#include "lk-share-link.h"
#include "latchkey-scan-page.h"
#include "latchkey-utils.h"

/* An image file bigger than this is not a screenshot or a photo of a code;
 * lk_qr_decoder_decode_image() bounds its pixels as well. */
#define MAX_IMAGE_BYTES (64 * 1024 * 1024)

struct _LatchkeyScanPage
{
  AdwBin          parent_instance;

  GtkDropDown    *camera_picker;
  GtkStack       *stack;
  GtkPicture     *viewfinder;
  GtkLabel       *hint_label;
  GtkSpinner     *busy_spinner;
  GtkLabel       *busy_label;
  AdwStatusPage  *problem_page;
  GtkWidget      *retry_button;

  LatchkeyCamera *camera;
  XdpPortal      *portal;
  GCancellable   *cancellable;    /* image work */
  gboolean        use_camera;     /* else an image is shown or being read */
};

G_DEFINE_FINAL_TYPE (LatchkeyScanPage, latchkey_scan_page, ADW_TYPE_BIN)

enum {
  SIGNAL_LINK_FOUND,
  SIGNAL_SECRETLESS_LINK_FOUND,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
show_busy (LatchkeyScanPage *self,
           const char       *text)
{
  gtk_label_set_text (self->busy_label, text);
  gtk_spinner_set_spinning (self->busy_spinner, TRUE);
  gtk_stack_set_visible_child_name (self->stack, "busy");
}

static void
show_problem (LatchkeyScanPage *self,
              const char       *icon,
              const char       *title,
              const char       *description,
              gboolean          camera_retry)
{
  g_autofree char *escaped = g_markup_escape_text (description, -1);

  gtk_spinner_set_spinning (self->busy_spinner, FALSE);
  adw_status_page_set_icon_name (self->problem_page, icon);
  adw_status_page_set_title (self->problem_page, title);
  adw_status_page_set_description (self->problem_page, escaped);
  gtk_widget_set_visible (self->retry_button, camera_retry);
  gtk_stack_set_visible_child_name (self->stack, "problem");
}

/* What a code holds is untrusted: only a valid share link goes on. */
static void
take_text (LatchkeyScanPage *self,
           const char       *text)
{
  g_autoptr(LkShareLink) link = NULL;
  g_autoptr(GError) error = NULL;

  link = lk_share_link_parse (text, &error);
  /* A link whose secret the sender sent apart (PROTOCOL.md §2.1): the
   * receive page asks for it. */
  if (g_error_matches (error, LK_LINK_ERROR, LK_LINK_ERROR_SECRET_MISSING))
    {
      g_signal_emit (self, signals[SIGNAL_SECRETLESS_LINK_FOUND], 0, text);
      return;
    }
  if (link == NULL)
    {
      g_autofree char *description = g_strdup_printf (_("This QR code holds something other than a Latchkey "
                                                         "invitation (%s)."), error->message);

      self->use_camera = FALSE;
      show_problem (self, "dialog-warning-symbolic", _("Not a Latchkey Code"), description, TRUE);
      return;
    }

  g_signal_emit (self, signals[SIGNAL_LINK_FOUND], 0, link);
}

/* The camera */

static void
on_camera_state (LatchkeyScanPage *self)
{
  const char *message = latchkey_camera_get_message (self->camera);

  if (!self->use_camera)
    return;

  switch (latchkey_camera_get_state (self->camera))
    {
    case LATCHKEY_CAMERA_STARTING:
      show_busy (self, _("Starting the camera…"));
      break;
    case LATCHKEY_CAMERA_SCANNING:
      gtk_spinner_set_spinning (self->busy_spinner, FALSE);
      gtk_stack_set_visible_child_name (self->stack, "camera");
      break;
    case LATCHKEY_CAMERA_NO_CAMERA:
      show_problem (self, "camera-disabled-symbolic", _("No Camera Found"),
                    _("Open an image of the QR code, paste one, or take a screenshot of it instead."), FALSE);
      break;
    case LATCHKEY_CAMERA_DENIED:
      show_problem (self, "camera-disabled-symbolic", _("Camera Access Denied"),
                    _("To scan with the camera, allow Latchkey to use it in Settings, under Apps or "
                      "Privacy → Camera, then try again. Or use an image of the code."), TRUE);
      break;
    case LATCHKEY_CAMERA_FAILED:
      {
        /* The camera's own words, then what to do: two paragraphs. */
        g_autofree char *text = g_strconcat (message ? message : _("The camera failed"), "\n\n",
                                             _("Check that no other app is using the camera, then try again, "
                                               "or use an image of the code."), NULL);

        show_problem (self, "camera-disabled-symbolic", _("Camera Not Working"), text, TRUE);
      }
      break;
    case LATCHKEY_CAMERA_FOUND:
    case LATCHKEY_CAMERA_IDLE:
    default:
      break;
    }
}

/* What helps, when the camera sees a code it cannot read yet. */
static void
on_camera_hint (LatchkeyScanPage *self)
{
  switch (latchkey_camera_get_hint (self->camera))
    {
    case LK_QR_HINT_MOVE_CLOSER:
      gtk_label_set_text (self->hint_label, _("Move the QR code closer to the camera"));
      break;
    case LK_QR_HINT_HOLD_STILL:
      gtk_label_set_text (self->hint_label, _("Hold the QR code still"));
      break;
    case LK_QR_HINT_NONE:
    default:
      gtk_label_set_text (self->hint_label, _("Point the camera at the QR code"));
      break;
    }
}

static void
on_camera_found (LatchkeyScanPage *self,
                 const char       *text)
{
  take_text (self, text);
}

static void
on_cameras_changed (LatchkeyScanPage *self)
{
  GListModel *cameras = latchkey_camera_get_cameras (self->camera);

  gtk_widget_set_visible (GTK_WIDGET (self->camera_picker), g_list_model_get_n_items (cameras) > 1);
  if (gtk_drop_down_get_selected (self->camera_picker) != latchkey_camera_get_selected (self->camera))
    gtk_drop_down_set_selected (self->camera_picker, latchkey_camera_get_selected (self->camera));
}

static void
on_camera_picked (LatchkeyScanPage *self)
{
  latchkey_camera_set_selected (self->camera, gtk_drop_down_get_selected (self->camera_picker));
}

static void
start_camera (LatchkeyScanPage *self)
{
  self->use_camera = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_set_object (&self->cancellable, g_cancellable_new ());
  latchkey_camera_start (self->camera, GTK_WIDGET (self));
  on_camera_state (self);
}

static void
camera_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  start_camera (LATCHKEY_SCAN_PAGE (widget));
}

/* Images: every one, whatever its source, goes through
 * lk_qr_decoder_decode_image(), which reads at most MAX_IMAGE_BYTES and
 * measures the image from its header before decoding its pixels. */

static void
decode_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GInputStream *stream = task_data;
  g_autoptr(LkQrDecoder) decoder = lk_qr_decoder_new ();
  GError *error = NULL;
  char *text;

  text = lk_qr_decoder_decode_image (decoder, stream, MAX_IMAGE_BYTES, LK_QR_DECODE_ALL_VARIANTS,
                                     cancellable, &error);
  if (text == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, text, (GDestroyNotify) lk_secure_str_free);
}

static void
on_decoded (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  LatchkeyScanPage *self = LATCHKEY_SCAN_PAGE (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(LkSecureString) text = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->use_camera)
    return;

  if (text == NULL)
    {
      if (g_error_matches (error, LK_QR_ERROR, LK_QR_ERROR_NOT_FOUND))
        show_problem (self, "image-x-generic-symbolic", _("No QR Code Found"),
                      _("No QR code could be read in this image. Try a sharper image, or one where the code "
                        "is larger and whole."), TRUE);
      else
        show_problem (self, "image-x-generic-symbolic", _("Image Not Readable"), error->message, TRUE);
      return;
    }

  take_text (self, text);
}

/* Stops the camera and whatever image was being read, for a new image. */
static void
begin_image (LatchkeyScanPage *self)
{
  self->use_camera = FALSE;
  latchkey_camera_stop (self->camera);
  g_cancellable_cancel (self->cancellable);
  g_set_object (&self->cancellable, g_cancellable_new ());
  show_busy (self, _("Reading the image…"));
}

/* Looks for a QR code in the image @stream holds, off the main thread. */
static void
scan_stream (LatchkeyScanPage *self,
             GInputStream     *stream)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, on_decoded, NULL);

  g_task_set_task_data (task, g_object_ref (stream), g_object_unref);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, decode_thread);
}

static void
on_file_opened (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LatchkeyScanPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInputStream) stream = g_file_read_finish (G_FILE (source), result, &error);

  if (stream == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !self->use_camera)
        show_problem (self, "image-x-generic-symbolic", _("Image Not Readable"), error->message, TRUE);
      return;
    }

  scan_stream (self, G_INPUT_STREAM (stream));
}

/**
 * latchkey_scan_page_scan_file:
 *
 * Looks for a QR code in the image @file: opened, dropped or a screenshot.
 */
void
latchkey_scan_page_scan_file (LatchkeyScanPage *self,
                              GFile            *file)
{
  g_return_if_fail (LATCHKEY_IS_SCAN_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  begin_image (self);
  g_file_read_async (file, G_PRIORITY_DEFAULT, self->cancellable, on_file_opened, g_object_ref (self));
}

/* The image types gdk-pixbuf reads, for the clipboard and drops. */
static const char * const *
image_mime_types (void)
{
  static GStrv types = NULL;

  if (g_once_init_enter (&types))
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      GSList *formats = gdk_pixbuf_get_formats ();

      for (GSList *l = formats; l != NULL; l = l->next)
        {
          g_auto(GStrv) mime = gdk_pixbuf_format_get_mime_types (l->data);

          for (guint i = 0; mime != NULL && mime[i] != NULL; i++)
            g_strv_builder_add (builder, mime[i]);
        }
      g_slist_free (formats);
      g_once_init_leave (&types, g_strv_builder_end (builder));
    }

  return (const char * const *) types;
}

static void
on_image_chosen (GtkNativeDialog  *dialog,
                 int               response,
                 LatchkeyScanPage *self)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  if (file != NULL)
    latchkey_scan_page_scan_file (self, file);
  g_object_unref (dialog);
}

static void
open_image_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  LatchkeyScanPage *self = LATCHKEY_SCAN_PAGE (widget);
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Images"));
  gtk_file_filter_add_pixbuf_formats (filter);
  dialog = gtk_file_chooser_native_new (_("Open an Image of the QR Code"),
                                        latchkey_parent_window (widget),
                                        GTK_FILE_CHOOSER_ACTION_OPEN,
                                        _("_Open"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_image_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_clipboard_image (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(LatchkeyScanPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stream = gdk_clipboard_read_finish (GDK_CLIPBOARD (source), result, NULL, &error);

  if (stream == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_problem (self, "edit-paste-symbolic", _("No Image on the Clipboard"),
                      _("Copy an image of the QR code first, for example a screenshot, then paste it here."),
                      TRUE);
      return;
    }
  scan_stream (self, stream);
}

/* The clipboard's image as a file's bytes: decoded by us, within bounds,
 * not by GTK into a texture of any size. */
static void
paste_image_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LatchkeyScanPage *self = LATCHKEY_SCAN_PAGE (widget);

  begin_image (self);
  gdk_clipboard_read_async (gtk_widget_get_clipboard (widget), (const char **) image_mime_types (),
                            G_PRIORITY_DEFAULT, self->cancellable, on_clipboard_image, g_object_ref (self));
}

static void
on_screenshot (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LatchkeyScanPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = xdp_portal_take_screenshot_finish (XDP_PORTAL (source), result, &error);
  g_autoptr(GFile) file = NULL;

  if (uri == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* Translators: %s is the desktop portal's error message */
          g_autofree char *text = g_strdup_printf (_("The desktop did not take a screenshot (%s). Take one with "
                                                     "the desktop’s screenshot tool and paste or open it."),
                                                   error->message);

          show_problem (self, "dialog-warning-symbolic", _("No Screenshot"), text, TRUE);
        }
      return;
    }

  file = g_file_new_for_uri (uri);
  latchkey_scan_page_scan_file (self, file);
}

/* The Screenshot portal asks the user which part of the screen to take. */
static void
screenshot_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  LatchkeyScanPage *self = LATCHKEY_SCAN_PAGE (widget);
  g_autoptr(XdpParent) parent = NULL;
  GtkWindow *window = latchkey_parent_window (widget);

  self->use_camera = FALSE;
  latchkey_camera_stop (self->camera);
  if (self->portal == NULL)
    self->portal = xdp_portal_new ();
  if (window != NULL)
    parent = xdp_parent_new_gtk (window);
  show_busy (self, _("Taking a screenshot…"));
  xdp_portal_take_screenshot (self->portal, parent, XDP_SCREENSHOT_FLAG_INTERACTIVE, self->cancellable,
                              on_screenshot, g_object_ref (self));
}

typedef struct
{
  LatchkeyScanPage *self;
  GdkDrop          *drop;
} Dropped;

static void
dropped_free (Dropped *dropped)
{
  g_object_unref (dropped->self);
  g_object_unref (dropped->drop);
  g_free (dropped);
}

static void
on_dropped_file (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Dropped *dropped = user_data;
  g_autoptr(GError) error = NULL;
  const GValue *value = gdk_drop_read_value_finish (GDK_DROP (source), result, &error);

  gdk_drop_finish (dropped->drop, value != NULL ? GDK_ACTION_COPY : 0);
  if (value != NULL && G_VALUE_HOLDS (value, G_TYPE_FILE))
    latchkey_scan_page_scan_file (dropped->self, g_value_get_object (value));
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_problem (dropped->self, "image-x-generic-symbolic", _("Image Not Readable"),
                  error != NULL ? error->message : _("Nothing could be read from what was dropped."), TRUE);
  dropped_free (dropped);
}

static void
on_dropped_image (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Dropped *dropped = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stream = gdk_drop_read_finish (GDK_DROP (source), result, NULL, &error);

  gdk_drop_finish (dropped->drop, stream != NULL ? GDK_ACTION_COPY : 0);
  if (stream != NULL)
    scan_stream (dropped->self, stream);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_problem (dropped->self, "image-x-generic-symbolic", _("Image Not Readable"), error->message, TRUE);
  dropped_free (dropped);
}

/* A dropped file, or an image's bytes (read as a file is, within bounds;
 * never a texture GTK would decode whatever its size). */
static gboolean
on_drop (GtkDropTargetAsync *target,
         GdkDrop            *drop,
         double              x,
         double              y,
         LatchkeyScanPage   *self)
{
  GdkContentFormats *formats = gdk_drop_get_formats (drop);
  Dropped *dropped = g_new0 (Dropped, 1);

  dropped->self = g_object_ref (self);
  dropped->drop = g_object_ref (drop);
  if (gdk_content_formats_contain_gtype (formats, G_TYPE_FILE))
    {
      gdk_drop_read_value_async (drop, G_TYPE_FILE, G_PRIORITY_DEFAULT, NULL, on_dropped_file, dropped);
      return TRUE;
    }

  begin_image (self);
  gdk_drop_read_async (drop, (const char **) image_mime_types (), G_PRIORITY_DEFAULT, self->cancellable,
                       on_dropped_image, dropped);
  return TRUE;
}

/* The camera only while the page is on screen. */
static void
latchkey_scan_page_map (GtkWidget *widget)
{
  LatchkeyScanPage *self = LATCHKEY_SCAN_PAGE (widget);

  GTK_WIDGET_CLASS (latchkey_scan_page_parent_class)->map (widget);

  if (self->use_camera)
    start_camera (self);
}

static void
latchkey_scan_page_unmap (GtkWidget *widget)
{
  LatchkeyScanPage *self = LATCHKEY_SCAN_PAGE (widget);

  latchkey_camera_stop (self->camera);

  GTK_WIDGET_CLASS (latchkey_scan_page_parent_class)->unmap (widget);
}

static void
latchkey_scan_page_dispose (GObject *object)
{
  LatchkeyScanPage *self = LATCHKEY_SCAN_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->camera != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->camera, self);
      latchkey_camera_stop (self->camera);
    }
  g_clear_object (&self->camera);
  g_clear_object (&self->portal);
  gtk_widget_dispose_template (GTK_WIDGET (self), LATCHKEY_TYPE_SCAN_PAGE);

  G_OBJECT_CLASS (latchkey_scan_page_parent_class)->dispose (object);
}

static void
latchkey_scan_page_class_init (LatchkeyScanPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = latchkey_scan_page_dispose;
  widget_class->map = latchkey_scan_page_map;
  widget_class->unmap = latchkey_scan_page_unmap;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/latchkey/Latchkey/latchkey-scan-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LatchkeyScanPage, camera_picker);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyScanPage, stack);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyScanPage, viewfinder);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyScanPage, hint_label);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyScanPage, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyScanPage, busy_label);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyScanPage, problem_page);
  gtk_widget_class_bind_template_child (widget_class, LatchkeyScanPage, retry_button);

  gtk_widget_class_install_action (widget_class, "page.camera", NULL, camera_action);
  gtk_widget_class_install_action (widget_class, "page.open-image", NULL, open_image_action);
  gtk_widget_class_install_action (widget_class, "page.paste-image", NULL, paste_image_action);
  gtk_widget_class_install_action (widget_class, "page.screenshot", NULL, screenshot_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_v, GDK_CONTROL_MASK, "page.paste-image", NULL);

  /**
   * LatchkeyScanPage::link-found:
   * @link: the share link a code held, parsed
   *
   * Whoever shows the page takes the link on; the page has done its job.
   */
  signals[SIGNAL_LINK_FOUND] = g_signal_new ("link-found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                             NULL, NULL, NULL, G_TYPE_NONE, 1, LK_TYPE_SHARE_LINK);
  /* A link without its secret, as text: nothing else in it is checked yet. */
  signals[SIGNAL_SECRETLESS_LINK_FOUND] = g_signal_new ("secretless-link-found", G_TYPE_FROM_CLASS (klass),
                                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                                        G_TYPE_STRING);
}

static void
latchkey_scan_page_init (LatchkeyScanPage *self)
{
  GtkDropTargetAsync *target;
  GdkContentFormatsBuilder *formats = gdk_content_formats_builder_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  self->use_camera = TRUE;
  self->cancellable = g_cancellable_new ();
  self->camera = latchkey_camera_new ();
  g_object_bind_property (self->camera, "texture", self->viewfinder, "paintable", G_BINDING_SYNC_CREATE);
  g_signal_connect_swapped (self->camera, "notify::state", G_CALLBACK (on_camera_state), self);
  g_signal_connect_swapped (self->camera, "found", G_CALLBACK (on_camera_found), self);
  g_signal_connect_swapped (self->camera, "notify::hint", G_CALLBACK (on_camera_hint), self);
  /* The drop-down first takes the change in, then the page looks at it. */
  gtk_drop_down_set_model (self->camera_picker, latchkey_camera_get_cameras (self->camera));
  g_signal_connect_swapped (latchkey_camera_get_cameras (self->camera), "items-changed",
                            G_CALLBACK (on_cameras_changed), self);
  g_signal_connect_swapped (self->camera_picker, "notify::selected", G_CALLBACK (on_camera_picked), self);

  gdk_content_formats_builder_add_gtype (formats, G_TYPE_FILE);
  for (const char * const *type = image_mime_types (); *type != NULL; type++)
    gdk_content_formats_builder_add_mime_type (formats, *type);
  target = gtk_drop_target_async_new (gdk_content_formats_builder_free_to_formats (formats),
                                      GDK_ACTION_COPY);
  g_signal_connect (target, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  show_busy (self, _("Starting the camera…"));
}

LatchkeyScanPage *
latchkey_scan_page_new (void)
{
  return g_object_new (LATCHKEY_TYPE_SCAN_PAGE, NULL);
}

/* For tests: the viewfinder's hint, as shown. */
const char *
latchkey_scan_page_get_hint (LatchkeyScanPage *self)
{
  g_return_val_if_fail (LATCHKEY_IS_SCAN_PAGE (self), NULL);
  return gtk_label_get_text (self->hint_label);
}

/* For tests: the camera the page drives. */
LatchkeyCamera *
latchkey_scan_page_get_camera (LatchkeyScanPage *self)
{
  g_return_val_if_fail (LATCHKEY_IS_SCAN_PAGE (self), NULL);
  return self->camera;
}

/**
 * latchkey_scan_page_get_view:
 *
 * Returns: "camera", "busy" or "problem"
 */
const char *
latchkey_scan_page_get_view (LatchkeyScanPage *self)
{
  g_return_val_if_fail (LATCHKEY_IS_SCAN_PAGE (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}
