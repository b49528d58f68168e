/* SPDX-License-Identifier: MPL-2.0 */
/*
 * caps.h - every cap kbusd enforces, named in one place.
 */
#ifndef KBUS_CORE_CAPS_H
#define KBUS_CORE_CAPS_H

#include "../proto/wire.h"

#define KBUS_BUSES_DEFAULT 1u
#define KBUS_BUSES_MAX 256u

#define KBUS_QUEUE_LEN_DEFAULT 100u        /* semantics §5 */
#define KBUS_QUEUE_LEN_MAX (1u << 20)      /* a larger request is clamped */
#define KBUS_QUEUE_BYTES_MAX (64u << 20)   /* a queue holding this much is full */

#define KBUS_SET_ASIDE_MAX 1000u           /* semantics §11, per bus */

#define KBUS_READ_CHUNK (64u * 1024u)      /* bytes read per wakeup */
#define KBUS_FRAMES_PER_WAKEUP 1024u       /* then let other clients run */
#define KBUS_OUT_PAUSE_BYTES (1u << 20)    /* stop reading a client whose answers pile up */
#define KBUS_OUT_KEEP_BYTES (256u * 1024u) /* a larger output buffer is freed once written */
#define KBUS_IDLE_SWEEP_MS 1000u           /* buffers of ksocks idle this long are freed */
#define KBUS_SMALL_FRAME_MAX 4096u         /* non-SEND frames: names and small fixed bodies */

#endif
