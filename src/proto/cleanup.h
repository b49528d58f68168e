/* SPDX-License-Identifier: MPL-2.0 */
/*
 * cleanup.h - freeing on every path out of a scope (gcc and clang's
 * cleanup attribute), and handing ownership on (TAKE_PTR).
 *
 *     _cleanup_(message_unrefp) Message *m = NULL;
 *     ...                          every return frees m ...
 *     slot->msg = TAKE_PTR(m);     ... unless it was handed on
 */
#ifndef KBUS_PROTO_CLEANUP_H
#define KBUS_PROTO_CLEANUP_H

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Defines funcp(type *p), which calls func(*p) unless *p is NULL. */
#define KBUS_DEFINE_CLEANUP(type, func)                \
        static inline void func##p(type *p)            \
        {                                              \
                if (*p)                                \
                        func(*p);                      \
        }

/* The pointer @p holds, with @p set to NULL: ownership moves to the caller. */
#define TAKE_PTR(p)                              \
        ({                                       \
                __typeof__(p) take_ptr_ = (p);   \
                (p) = NULL;                      \
                take_ptr_;                       \
        })

#endif
