/* latchkey-camera.h: a camera that looks for QR codes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "lk-qr-decoder.h"

G_BEGIN_DECLS

/**
 * LatchkeyCameraState:
 * @LATCHKEY_CAMERA_IDLE: stopped
 * @LATCHKEY_CAMERA_STARTING: looking for a camera, asking for access, or starting it
 * @LATCHKEY_CAMERA_NO_CAMERA: there is no camera
 * @LATCHKEY_CAMERA_DENIED: the user or the system refused access to the camera
 * @LATCHKEY_CAMERA_SCANNING: frames are coming and being read
 * @LATCHKEY_CAMERA_FOUND: a QR code was read; the camera stopped
 * @LATCHKEY_CAMERA_FAILED: the camera broke (see the error message)
 */
typedef enum
{
  LATCHKEY_CAMERA_IDLE,
  LATCHKEY_CAMERA_STARTING,
  LATCHKEY_CAMERA_NO_CAMERA,
  LATCHKEY_CAMERA_DENIED,
  LATCHKEY_CAMERA_SCANNING,
  LATCHKEY_CAMERA_FOUND,
  LATCHKEY_CAMERA_FAILED,
} LatchkeyCameraState;

/* A GStreamer source description used instead of a real camera, for tests
 * and demonstrations, such as
 * "multifilesrc location=code.png loop=true caps=image/png,framerate=10/1 ! pngdec". */
#define LATCHKEY_CAMERA_PIPELINE_ENV "LATCHKEY_CAMERA_PIPELINE"

#define LATCHKEY_TYPE_CAMERA (latchkey_camera_get_type ())

G_DECLARE_FINAL_TYPE (LatchkeyCamera, latchkey_camera, LATCHKEY, CAMERA, GObject)

LatchkeyCamera      *latchkey_camera_new           (void);
void                 latchkey_camera_start         (LatchkeyCamera *self,
                                                    GtkWidget      *parent);
void                 latchkey_camera_stop          (LatchkeyCamera *self);
LatchkeyCameraState  latchkey_camera_get_state     (LatchkeyCamera *self);
const char          *latchkey_camera_get_message   (LatchkeyCamera *self);
GdkTexture          *latchkey_camera_get_texture   (LatchkeyCamera *self);
LkQrHint             latchkey_camera_get_hint      (LatchkeyCamera *self);
GListModel          *latchkey_camera_get_cameras   (LatchkeyCamera *self);
guint                latchkey_camera_get_selected  (LatchkeyCamera *self);
void                 latchkey_camera_set_selected  (LatchkeyCamera *self,
                                                    guint           position);

G_END_DECLS
