/* latchkey-camera.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * source ! videoconvert ! tee ─ queue ! RGBA appsink   → the viewfinder
 *                             └ queue ! GRAY8 appsink  → zbar
 *
 * Both queues are leaky and both sinks keep one buffer: a slow decoder
 * drops frames instead of lagging. The appsinks' callbacks run on
 * GStreamer's streaming threads, so decoding never touches the main loop;
 * results come back to it through idle callbacks.
 *
 * The source is, in this order: $LATCHKEY_CAMERA_PIPELINE; in a Flatpak,
 * the camera portal's PipeWire remote; otherwise the cameras GStreamer's
 * device monitor finds (PipeWire, libcamera or V4L2), the back one first.
 */

#define G_LOG_DOMAIN "latchkey-camera"

#include "config.h"

#include <glib/gi18n.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <libportal-gtk4/portal-gtk4.h>
#include <unistd.h>

#include "lk-qr-decoder.h"
#include "latchkey-camera.h"

struct _LatchkeyCamera
{
  GObject              parent_instance;

  LatchkeyCameraState  state;
  char                *message;
  GstElement          *pipeline;
  guint                bus_watch;
  GtkStringList       *names;
  GPtrArray           *devices;      /* GstDevice, in the order of names */
  guint                selected;
  XdpPortal           *portal;
  GCancellable        *cancellable;
  GdkTexture          *texture;

  /* Shared with the streaming threads */
  GMutex               lock;
  GdkTexture          *next_texture;
  guint                texture_source;
  char                *found_text;
  int                  found;
  int                  hint;          /* LkQrHint, set by the scan thread */
  LkQrHint             shown_hint;    /* the main thread's copy */
  LkQrDecoder         *decoder;      /* the scan sink's thread only */
};

G_DEFINE_FINAL_TYPE (LatchkeyCamera, latchkey_camera, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_TEXTURE,
  PROP_HINT,
  N_PROPS
};

enum {
  FOUND,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
set_state (LatchkeyCamera      *self,
           LatchkeyCameraState  state,
           const char          *message)
{
  g_free (self->message);
  self->message = g_strdup (message);
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  if (state != LATCHKEY_CAMERA_SCANNING && self->shown_hint != LK_QR_HINT_NONE)
    {
      self->shown_hint = LK_QR_HINT_NONE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HINT]);
    }
}

static void
teardown (LatchkeyCamera *self)
{
  /* Setting the pipeline to NULL joins the streaming threads: after it,
   * nothing else touches the shared fields. */
  if (self->pipeline != NULL)
    {
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      g_clear_object (&self->pipeline);
    }
  g_clear_handle_id (&self->bus_watch, g_source_remove);
  g_clear_handle_id (&self->texture_source, g_source_remove);
  g_clear_object (&self->next_texture);
  g_clear_pointer (&self->found_text, g_free);
}

/* Streaming threads */

static gboolean
show_texture (gpointer user_data)
{
  LatchkeyCamera *self = user_data;
  GdkTexture *texture;

  g_mutex_lock (&self->lock);
  texture = g_steal_pointer (&self->next_texture);
  self->texture_source = 0;
  g_mutex_unlock (&self->lock);

  if (texture != NULL)
    {
      g_clear_object (&self->texture);
      self->texture = texture;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
    }
  return G_SOURCE_REMOVE;
}

static GstFlowReturn
on_view_sample (GstAppSink *sink,
                gpointer    user_data)
{
  LatchkeyCamera *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  GstVideoInfo info;
  GstMapInfo map;
  GstBuffer *buffer;
  g_autoptr(GBytes) bytes = NULL;
  GdkTexture *texture;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer (sample);
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)) ||
      !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;

  bytes = g_bytes_new (map.data, MIN (map.size, (gsize) GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) * info.height));
  gst_buffer_unmap (buffer, &map);
  texture = gdk_memory_texture_new (info.width, info.height, GDK_MEMORY_R8G8B8A8, bytes,
                                    GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));

  g_mutex_lock (&self->lock);
  g_clear_object (&self->next_texture);
  self->next_texture = texture;
  if (self->texture_source == 0)
    self->texture_source = g_idle_add (show_texture, self);
  g_mutex_unlock (&self->lock);

  return GST_FLOW_OK;
}

static gboolean
report_found (gpointer user_data)
{
  g_autoptr(LatchkeyCamera) self = user_data;
  g_autofree char *text = NULL;

  g_mutex_lock (&self->lock);
  text = g_steal_pointer (&self->found_text);
  g_mutex_unlock (&self->lock);

  /* Only a stopped camera drops a code (teardown and run_pipeline clear
   * found_text). Not the state: the first frame can be read before the
   * bus says the pipeline plays, and the camera reports one code only,
   * so a code dropped then was a scan that never ended. */
  if (text == NULL || self->pipeline == NULL)
    return G_SOURCE_REMOVE;

  teardown (self);
  set_state (self, LATCHKEY_CAMERA_FOUND, NULL);
  g_signal_emit (self, signals[FOUND], 0, text);
  return G_SOURCE_REMOVE;
}

static gboolean
report_hint (gpointer user_data)
{
  g_autoptr(LatchkeyCamera) self = user_data;
  LkQrHint hint = g_atomic_int_get (&self->hint);

  if (self->state != LATCHKEY_CAMERA_SCANNING)
    hint = LK_QR_HINT_NONE;
  if (hint != self->shown_hint)
    {
      self->shown_hint = hint;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HINT]);
    }
  return G_SOURCE_REMOVE;
}

static GstFlowReturn
on_scan_sample (GstAppSink *sink,
                gpointer    user_data)
{
  LatchkeyCamera *self = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  GstVideoInfo info;
  GstMapInfo map;
  GstBuffer *buffer;
  char *text;

  if (sample == NULL)
    return GST_FLOW_EOS;
  if (g_atomic_int_get (&self->found))
    return GST_FLOW_OK;

  buffer = gst_sample_get_buffer (sample);
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)) ||
      !gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_OK;

  if (map.size < (gsize) GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) * info.height)
    {
      gst_buffer_unmap (buffer, &map);
      return GST_FLOW_OK;
    }

  /* Each frame gets the next step of the decoder's round of variants. */
  text = lk_qr_decoder_decode_frame (self->decoder, map.data, info.width, info.height,
                                     GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), NULL);
  gst_buffer_unmap (buffer, &map);

  /* The hint changes at most once a round of frames. */
  if ((int) lk_qr_decoder_get_hint (self->decoder) != g_atomic_int_get (&self->hint))
    {
      g_atomic_int_set (&self->hint, lk_qr_decoder_get_hint (self->decoder));
      g_idle_add (report_hint, g_object_ref (self));
    }

  if (text != NULL && g_atomic_int_compare_and_exchange (&self->found, 0, 1))
    {
      g_mutex_lock (&self->lock);
      g_free (self->found_text);
      self->found_text = text;
      g_mutex_unlock (&self->lock);
      g_idle_add (report_found, g_object_ref (self));
    }
  else
    g_free (text);

  return GST_FLOW_OK;
}

/* Main thread */

static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  LatchkeyCamera *self = user_data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *debug = NULL;

      gst_message_parse_error (message, &error, &debug);
      g_debug ("Camera pipeline error: %s (%s)", error->message, debug ? debug : "");
      self->bus_watch = 0;
      teardown (self);
      set_state (self, LATCHKEY_CAMERA_FAILED, error->message);
      return G_SOURCE_REMOVE;
    }

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS)
    {
      self->bus_watch = 0;
      teardown (self);
      set_state (self, LATCHKEY_CAMERA_FAILED, _("The camera stopped sending pictures"));
      return G_SOURCE_REMOVE;
    }

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_STATE_CHANGED &&
      GST_MESSAGE_SRC (message) == GST_OBJECT (self->pipeline))
    {
      GstState new_state;

      gst_message_parse_state_changed (message, NULL, &new_state, NULL);
      if (new_state == GST_STATE_PLAYING && self->state == LATCHKEY_CAMERA_STARTING)
        set_state (self, LATCHKEY_CAMERA_SCANNING, NULL);
    }

  return G_SOURCE_CONTINUE;
}

static void
run_pipeline (LatchkeyCamera *self,
              GstElement     *source)
{
  static const char sinks[] =
    "videoconvert ! tee name=t "
    "t. ! queue leaky=downstream max-size-buffers=1 ! videoconvert ! video/x-raw,format=RGBA "
    "   ! appsink name=view max-buffers=1 drop=true sync=false "
    "t. ! queue leaky=downstream max-size-buffers=1 ! videoconvert ! video/x-raw,format=GRAY8 "
    "   ! appsink name=scan max-buffers=1 drop=true sync=false";
  g_autoptr(GError) error = NULL;
  g_autoptr(GstBus) bus = NULL;
  GstAppSinkCallbacks view_callbacks = { .new_sample = on_view_sample };
  GstAppSinkCallbacks scan_callbacks = { .new_sample = on_scan_sample };
  GstElement *rest, *view, *scan;

  rest = gst_parse_bin_from_description (sinks, TRUE, &error);
  if (rest == NULL)
    {
      gst_object_unref (source);
      set_state (self, LATCHKEY_CAMERA_FAILED, error->message);
      return;
    }

  self->pipeline = gst_object_ref_sink (gst_pipeline_new ("latchkey-camera"));
  gst_bin_add_many (GST_BIN (self->pipeline), source, rest, NULL);
  if (!gst_element_link (source, rest))
    {
      teardown (self);
      set_state (self, LATCHKEY_CAMERA_FAILED, _("The camera’s pictures are in a format that cannot be read"));
      return;
    }

  view = gst_bin_get_by_name (GST_BIN (rest), "view");
  scan = gst_bin_get_by_name (GST_BIN (rest), "scan");
  gst_app_sink_set_callbacks (GST_APP_SINK (view), &view_callbacks, self, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (scan), &scan_callbacks, self, NULL);
  gst_object_unref (view);
  gst_object_unref (scan);

  g_atomic_int_set (&self->found, 0);
  g_atomic_int_set (&self->hint, LK_QR_HINT_NONE);
  g_clear_pointer (&self->found_text, g_free);
  bus = gst_element_get_bus (self->pipeline);
  self->bus_watch = gst_bus_add_watch (bus, on_bus_message, self);

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      teardown (self);
      set_state (self, LATCHKEY_CAMERA_FAILED, _("The camera could not be started"));
    }
}

static void
start_selected_device (LatchkeyCamera *self)
{
  GstElement *source;

  if (self->devices->len == 0)
    {
      set_state (self, LATCHKEY_CAMERA_NO_CAMERA, NULL);
      return;
    }

  source = gst_device_create_element (g_ptr_array_index (self->devices, MIN (self->selected, self->devices->len - 1)),
                                      NULL);
  if (source == NULL)
    {
      set_state (self, LATCHKEY_CAMERA_FAILED, _("The camera could not be opened"));
      return;
    }
  run_pipeline (self, source);
}

/* The back camera first: that is the one pointed at someone else's screen. */
static int
camera_rank (GstDevice *device)
{
  g_autoptr(GstStructure) props = gst_device_get_properties (device);
  g_autofree char *name = gst_device_get_display_name (device);
  g_autofree char *lower = g_utf8_strdown (name ? name : "", -1);
  const char *location = props ? gst_structure_get_string (props, "api.libcamera.location") : NULL;

  if (g_strcmp0 (location, "back") == 0 || strstr (lower, "back") != NULL || strstr (lower, "rear") != NULL ||
      strstr (lower, "world") != NULL)
    return 0;
  if (g_strcmp0 (location, "front") == 0 || strstr (lower, "front") != NULL || strstr (lower, "user") != NULL)
    return 2;
  return 1;
}

static int
compare_devices (gconstpointer a,
                 gconstpointer b)
{
  return camera_rank (*(GstDevice **) a) - camera_rank (*(GstDevice **) b);
}

static void
list_devices_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new ();
  GPtrArray *devices = g_ptr_array_new_with_free_func (gst_object_unref);
  GList *found;

  gst_device_monitor_add_filter (monitor, "Video/Source", NULL);
  if (gst_device_monitor_start (monitor))
    {
      found = gst_device_monitor_get_devices (monitor);
      for (GList *l = found; l != NULL; l = l->next)
        g_ptr_array_add (devices, l->data);
      g_list_free (found);
      gst_device_monitor_stop (monitor);
    }

  g_ptr_array_sort (devices, compare_devices);
  g_task_return_pointer (task, devices, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_devices_listed (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  LatchkeyCamera *self = LATCHKEY_CAMERA (source);
  g_autoptr(GPtrArray) devices = g_task_propagate_pointer (G_TASK (result), NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (devices == NULL || self->state != LATCHKEY_CAMERA_STARTING)
    return;

  for (guint i = 0; i < devices->len; i++)
    {
      g_autofree char *name = gst_device_get_display_name (g_ptr_array_index (devices, i));

      g_ptr_array_add (names, g_strdup (name ? name : _("Camera")));
    }
  g_ptr_array_add (names, NULL);

  g_ptr_array_unref (self->devices);
  self->devices = g_steal_pointer (&devices);
  gtk_string_list_splice (self->names, 0, g_list_model_get_n_items (G_LIST_MODEL (self->names)),
                          (const char * const *) names->pdata);
  self->selected = 0;
  start_selected_device (self);
}

static void
on_camera_access (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  /* The reference taken for the call: the page may have gone meanwhile. */
  g_autoptr(LatchkeyCamera) self = user_data;
  g_autoptr(GError) error = NULL;
  GstElement *pipewire;
  int fd;

  if (!xdp_portal_access_camera_finish (XDP_PORTAL (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->state != LATCHKEY_CAMERA_STARTING)
        return;
      set_state (self, LATCHKEY_CAMERA_DENIED, error->message);
      return;
    }

  if (self->state != LATCHKEY_CAMERA_STARTING)
    return;

  fd = xdp_portal_open_pipewire_remote_for_camera (XDP_PORTAL (source));
  if (fd < 0)
    {
      set_state (self, LATCHKEY_CAMERA_NO_CAMERA, NULL);
      return;
    }

  pipewire = gst_element_factory_make ("pipewiresrc", NULL);
  if (pipewire == NULL)
    {
      close (fd);
      set_state (self, LATCHKEY_CAMERA_FAILED, _("PipeWire support for GStreamer is missing"));
      return;
    }
  g_object_set (pipewire, "fd", fd, NULL);
  run_pipeline (self, pipewire);
}

/**
 * latchkey_camera_start:
 * @parent: (nullable): the widget whose window asks for camera access
 *
 * Finds a camera, asks for access where a portal requires it, and starts
 * reading frames. ::found is emitted, once, with the first QR code read.
 */
void
latchkey_camera_start (LatchkeyCamera *self,
                       GtkWidget      *parent)
{
  const char *description = g_getenv (LATCHKEY_CAMERA_PIPELINE_ENV);

  g_return_if_fail (LATCHKEY_IS_CAMERA (self));

  latchkey_camera_stop (self);
  self->cancellable = g_cancellable_new ();
  set_state (self, LATCHKEY_CAMERA_STARTING, NULL);

  if (description != NULL && *description != '\0')
    {
      g_autoptr(GError) error = NULL;
      /* A queue after it: a description may end with caps, which the
       * parser only takes between two elements. */
      g_autofree char *full = g_strconcat (description, " ! queue", NULL);
      GstElement *source = gst_parse_bin_from_description (full, TRUE, &error);

      gtk_string_list_splice (self->names, 0, g_list_model_get_n_items (G_LIST_MODEL (self->names)),
                              (const char * const[]) { _("Test Camera"), NULL });
      if (source == NULL)
        set_state (self, LATCHKEY_CAMERA_FAILED, error->message);
      else
        run_pipeline (self, source);
      return;
    }

  if (xdp_portal_running_under_flatpak ())
    {
      g_autoptr(XdpParent) xdp_parent = NULL;

      if (self->portal == NULL)
        self->portal = xdp_portal_new ();
      if (!xdp_portal_is_camera_present (self->portal))
        {
          set_state (self, LATCHKEY_CAMERA_NO_CAMERA, NULL);
          return;
        }
      if (parent != NULL && GTK_IS_WINDOW (gtk_widget_get_root (parent)))
        xdp_parent = xdp_parent_new_gtk (GTK_WINDOW (gtk_widget_get_root (parent)));
      xdp_portal_access_camera (self->portal, xdp_parent, XDP_CAMERA_FLAG_NONE, self->cancellable,
                                on_camera_access, g_object_ref (self));
      return;
    }

  if (self->devices->len > 0)
    {
      start_selected_device (self);
      return;
    }

  {
    g_autoptr(GTask) task = g_task_new (self, self->cancellable, on_devices_listed, NULL);

    g_task_run_in_thread (task, list_devices_thread);
  }
}

/**
 * latchkey_camera_stop:
 *
 * Stops the camera and lets it go, as soon as the view is hidden.
 */
void
latchkey_camera_stop (LatchkeyCamera *self)
{
  g_return_if_fail (LATCHKEY_IS_CAMERA (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  teardown (self);
  if (self->state == LATCHKEY_CAMERA_STARTING || self->state == LATCHKEY_CAMERA_SCANNING)
    set_state (self, LATCHKEY_CAMERA_IDLE, NULL);
}

LatchkeyCameraState
latchkey_camera_get_state (LatchkeyCamera *self)
{
  g_return_val_if_fail (LATCHKEY_IS_CAMERA (self), LATCHKEY_CAMERA_IDLE);
  return self->state;
}

/* Why the camera failed or was denied, if there is something to say. */
const char *
latchkey_camera_get_message (LatchkeyCamera *self)
{
  g_return_val_if_fail (LATCHKEY_IS_CAMERA (self), NULL);
  return self->message;
}

/**
 * latchkey_camera_get_hint:
 *
 * What would help read a code the camera sees but cannot read yet: see
 * #LkQrHint. Changes at most once a round of frames (half a second).
 */
LkQrHint
latchkey_camera_get_hint (LatchkeyCamera *self)
{
  g_return_val_if_fail (LATCHKEY_IS_CAMERA (self), LK_QR_HINT_NONE);
  return self->shown_hint;
}

GdkTexture *
latchkey_camera_get_texture (LatchkeyCamera *self)
{
  g_return_val_if_fail (LATCHKEY_IS_CAMERA (self), NULL);
  return self->texture;
}

/**
 * latchkey_camera_get_cameras:
 *
 * Returns: (transfer none): the cameras' names, as #GtkStringObject
 */
GListModel *
latchkey_camera_get_cameras (LatchkeyCamera *self)
{
  g_return_val_if_fail (LATCHKEY_IS_CAMERA (self), NULL);
  return G_LIST_MODEL (self->names);
}

guint
latchkey_camera_get_selected (LatchkeyCamera *self)
{
  g_return_val_if_fail (LATCHKEY_IS_CAMERA (self), 0);
  return self->selected;
}

void
latchkey_camera_set_selected (LatchkeyCamera *self,
                              guint           position)
{
  g_return_if_fail (LATCHKEY_IS_CAMERA (self));

  if (position == self->selected || position >= self->devices->len)
    return;

  self->selected = position;
  if (self->state == LATCHKEY_CAMERA_SCANNING || self->state == LATCHKEY_CAMERA_FAILED)
    {
      teardown (self);
      set_state (self, LATCHKEY_CAMERA_STARTING, NULL);
      start_selected_device (self);
    }
}

static void
latchkey_camera_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  LatchkeyCamera *self = LATCHKEY_CAMERA (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case PROP_HINT:
      g_value_set_int (value, self->shown_hint);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
latchkey_camera_dispose (GObject *object)
{
  LatchkeyCamera *self = LATCHKEY_CAMERA (object);

  latchkey_camera_stop (self);
  g_clear_object (&self->portal);

  G_OBJECT_CLASS (latchkey_camera_parent_class)->dispose (object);
}

static void
latchkey_camera_finalize (GObject *object)
{
  LatchkeyCamera *self = LATCHKEY_CAMERA (object);

  g_free (self->message);
  g_free (self->found_text);
  g_clear_object (&self->texture);
  g_clear_object (&self->names);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  g_clear_object (&self->decoder);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (latchkey_camera_parent_class)->finalize (object);
}

static void
latchkey_camera_class_init (LatchkeyCameraClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  /* Here rather than in main(): the app starts faster when GStreamer
   * waits until a camera is first wanted. */
  gst_init (NULL, NULL);

  object_class->get_property = latchkey_camera_get_property;
  object_class->dispose = latchkey_camera_dispose;
  object_class->finalize = latchkey_camera_finalize;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, LATCHKEY_CAMERA_IDLE, LATCHKEY_CAMERA_FAILED, LATCHKEY_CAMERA_IDLE,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HINT] =
    g_param_spec_int ("hint", NULL, NULL, LK_QR_HINT_NONE, LK_QR_HINT_HOLD_STILL, LK_QR_HINT_NONE,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LatchkeyCamera::found:
   * @text: what the QR code holds
   */
  signals[FOUND] = g_signal_new ("found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
latchkey_camera_init (LatchkeyCamera *self)
{
  g_mutex_init (&self->lock);
  self->names = gtk_string_list_new (NULL);
  self->devices = g_ptr_array_new_with_free_func (gst_object_unref);
  self->decoder = lk_qr_decoder_new ();
}

LatchkeyCamera *
latchkey_camera_new (void)
{
  return g_object_new (LATCHKEY_TYPE_CAMERA, NULL);
}
