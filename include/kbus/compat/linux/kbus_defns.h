/* SPDX-License-Identifier: MPL-2.0 */
/*
 * linux/kbus_defns.h - where the original KBUS programs found the message
 * layout, flags and names (the kernel module's user header), so that they
 * build unchanged with `pkg-config --cflags kbus-compat`.  Everything a
 * program can still use is in <kbus/kbus.h>; this adds the names that only
 * old programs spell this way.  The KBUS_IOC_* ioctl numbers are left out
 * on purpose: a ksock is a socket, and an ioctl on it would only fail at
 * run time (docs/compat.md).  New programs include <kbus/kbus.h>.
 */
#ifndef KBUS_COMPAT_LINUX_KBUS_DEFNS_H
#define KBUS_COMPAT_LINUX_KBUS_DEFNS_H

#include <linux/types.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <kbus/kbus.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef BIT
#define BIT(num) (((unsigned)1) << (num))
#endif

/* The arguments of the old BIND/UNBIND and REPLIER ioctls, kept as types. */
struct kbus_bind_request {
        __u32 is_replier;
        __u32 name_len;
        char *name;
};

struct kbus_bind_query {
        __u32 return_id;
        __u32 name_len;
        char *name;
};

#ifdef __cplusplus
}
#endif

#endif
