/* SPDX-License-Identifier: MPL-2.0 */
/*
 * export.h - marks the functions libkbus.so exports (the rest is hidden),
 * and sets errno as they return.
 */
#ifndef KBUS_LIB_EXPORT_H
#define KBUS_LIB_EXPORT_H

#include <errno.h>

#define KBUS_EXPORT __attribute__((visibility("default")))

/*
 * lib_result() - what an exported function returns: @r unchanged, and, when
 * @r is a negative errno, errno set to -@r too, as the original libkbus did
 * (its programs print strerror(errno) after a negative return).
 */
static inline int lib_result(int r)
{
        if (r < 0)
                errno = -r;
        return r;
}

#endif
