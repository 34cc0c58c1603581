/* lk-test-balancer.h: two relay instances behind one loopback address, the sender's
 * requests on one and the receiver's on the other, for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LK_TEST_BALANCER_UPSTREAMS 2

typedef struct _LkTestBalancer LkTestBalancer;

LkTestBalancer *lk_test_balancer_new             (guint           port_a,
                                                  guint           port_b);
const char     *lk_test_balancer_get_url         (LkTestBalancer *self);
guint           lk_test_balancer_get_connections (LkTestBalancer *self,
                                                  guint           upstream);
void            lk_test_balancer_free            (LkTestBalancer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LkTestBalancer, lk_test_balancer_free)

G_END_DECLS
