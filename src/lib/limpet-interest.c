/* SPDX-License-Identifier: MPL-2.0 */
/*
 * limpet-interest.c - what a Limpet listens to (kbus extension).
 *
 * The original Limpet listened to its message pattern ($.* by default) and
 * passed everything it heard to the far bus, whether or not anyone there
 * listened.  A kbus Limpet can do better: the far Limpet tells it what the
 * far bus's listeners are bound to (kbus_limpet_listened_names(), which
 * kbusd keeps it told about with $.KBUS.ListenerBindsChanged), and it
 * listens on its own bus to exactly those names (kbus_limpet_listen_for()).
 * kbusd then routes to the Limpet only what someone far away may want, and
 * the Limpet's listener bindings show, on its own bus, what crosses.  In a
 * chain of buses each Limpet's bindings are listeners like any other, so
 * what a bus listens to includes what the buses beyond it listen to.
 *
 * The same trick finds loops: each Limpet listens to
 * $.KBUS.Limpet.Reach.<id> for its own network id, its pair's, and every id
 * its pair says the far bus leads to (kbus_limpet_set_reach()).  Nobody may
 * send such a name, so the bindings cost nothing but say, to anyone who
 * reads a bus's bindings, which Limpets the bus leads to
 * (kbus_limpet_reachable_ids()); kbusd drops them when the Limpet goes.
 * Two buses a new link would join already lead to a common Limpet exactly
 * when the link would close a loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/name.h"
#include "export.h"
#include "ksock.h"
#include "limpet-context.h"
#include "query.h"

#define KBUS_PREFIX "$.KBUS."
#define REACH_PREFIX "$.KBUS.Limpet.Reach."

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **names, size_t count)
{
        for (size_t i = 0; i < count; i++)
                free(names[i]);
        free(names);
}

/* Sorts @names and frees the repeats; returns how many are left. */
static size_t names_sort_unique(char **names, size_t count)
{
        size_t unique = 0;

        if (count > 1)
                qsort(names, count, sizeof(*names), name_cmp);
        for (size_t i = 0; i < count; i++) {
                if (unique && strcmp(names[unique - 1], names[i]) == 0)
                        free(names[i]);
                else
                        names[unique++] = names[i];
        }
        return unique;
}

static bool names_have(char *const *names, size_t count, const char *name)
{
        return count && bsearch(&name, names, count, sizeof(*names), name_cmp) != NULL;
}

/* Whether a listener binding @name is for the far side: not kbusd's own messages. */
static bool name_is_for_far_side(const char *name)
{
        return strncmp(name, KBUS_PREFIX, sizeof(KBUS_PREFIX) - 1) != 0;
}

KBUS_EXPORT int kbus_limpet_listened_names(kbus_limpet_context_t *context, char ***names,
                                           size_t *count)
{
        KbusBindingInfo *b;
        size_t n, kept = 0;
        int r = 0;

        *names = NULL;
        *count = 0;
        if (!context->watching) /* before the query: a change after it is never missed */
                context->watching = ksock_watch_listeners(context->ksock, 1) >= 0;
        r = kbus_query_bindings(context->ksock, &b, &n);
        if (r < 0)
                return lib_result(r);
        char **list = n ? calloc(n, sizeof(*list)) : NULL;
        if (n && !list)
                r = -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++)
                if (!b[i].is_replier && b[i].ksock_id != context->ksock_id &&
                    name_is_for_far_side(b[i].name) && !(list[kept++] = strdup(b[i].name)))
                        r = -ENOMEM;
        kbus_query_bindings_free(b, n);
        if (r < 0) {
                names_free(list, kept);
                return lib_result(r);
        }
        *count = names_sort_unique(list, kept);
        *names = *count ? list : NULL;
        if (!*count)
                free(list);
        return 0;
}

int limpet_listening_init(kbus_limpet_context_t *ctx)
{
        NameSet *set = &ctx->listening;

        set->names = malloc(sizeof(*set->names));
        if (!set->names || !(set->names[0] = strdup(ctx->message_name))) {
                free(set->names);
                set->names = NULL;
                return -ENOMEM;
        }
        set->count = 1; /* the binding limpet_setup_ksock() made */
        return 0;
}

void name_set_free(NameSet *set)
{
        names_free(set->names, set->count);
        set->names = NULL;
        set->count = 0;
}

/*
 * What to bind for the far side's @name within our message pattern: @name
 * itself, the pattern when @name is wider, or NULL when they share nothing
 * (KBUS wildcards only end a name, so two names nest or are disjoint).
 */
static const char *limpet_narrowed(const kbus_limpet_context_t *ctx, const char *name)
{
        const char *pattern = ctx->message_name;

        if (name_check(name, strlen(name), true, NULL) != 0)
                return NULL;
        switch (name_relate(name, strlen(name), pattern, strlen(pattern))) {
        case NAME_SAME:
        case NAME_INSIDE:
                return name;
        case NAME_AROUND:
                return pattern;
        default:
                return NULL;
        }
}

/* The bindings wanted for @names: malloc'd copies, sorted, each once. */
static int limpet_wanted(const kbus_limpet_context_t *ctx, char *const *names, size_t count,
                         char ***ret, size_t *ret_count)
{
        char **want = count ? calloc(count, sizeof(*want)) : NULL;
        size_t n = 0;

        if (count && !want)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                const char *name = limpet_narrowed(ctx, names[i]);
                if (name && !(want[n++] = strdup(name))) {
                        names_free(want, n - 1);
                        return -ENOMEM;
                }
        }
        *ret_count = names_sort_unique(want, n);
        *ret = want;
        return 0;
}

/*
 * Makes @set (sorted names this ksock listens to) exactly @want (sorted,
 * each once; taken over): binds the new first, so a name in both is never
 * unheard, then unbinds the rest keeping what they queued.  A name that
 * cannot be bound is left out.  Returns 0 or the first negative errno.
 */
static int limpet_bind_exactly(kbus_limpet_context_t *ctx, NameSet *set, char **want,
                               size_t nwant)
{
        int r, err = 0;

        for (size_t i = 0; i < nwant; i++) {
                if (names_have(set->names, set->count, want[i]))
                        continue;
                r = kbus_ksock_bind(ctx->ksock, want[i], 0);
                if (r < 0) {
                        limpet_warn(ctx, "cannot listen to", want[i], r);
                        free(want[i]);
                        want[i] = NULL; /* not bound: not kept */
                        err = err ? err : r;
                }
        }
        size_t kept = 0;
        for (size_t i = 0; i < nwant; i++)
                if (want[i])
                        want[kept++] = want[i];
        for (size_t i = 0; i < set->count; i++) {
                if (names_have(want, kept, set->names[i]))
                        continue;
                r = ksock_unbind_keeping(ctx->ksock, set->names[i]);
                if (r < 0)
                        err = err ? err : r; /* kbusd is gone, or soon will be */
        }
        name_set_free(set);
        set->names = want;
        set->count = kept;
        return err;
}

KBUS_EXPORT int kbus_limpet_listen_for(kbus_limpet_context_t *context, char *const *names,
                                       size_t count)
{
        char **want;
        size_t nwant;
        int r = limpet_wanted(context, names, count, &want, &nwant);

        if (r == 0)
                r = limpet_bind_exactly(context, &context->listening, want, nwant);
        return lib_result(r);
}

/* ---- the Limpets a bus leads to, for refusing loops ----------------- */

/* The network id a Reach binding names; 0 for any other name. */
static uint32_t reach_id(const char *name)
{
        size_t plen = sizeof(REACH_PREFIX) - 1;
        char *end;

        if (strncmp(name, REACH_PREFIX, plen) != 0 || name[plen] < '1' || name[plen] > '9')
                return 0;
        errno = 0;
        unsigned long id = strtoul(name + plen, &end, 10);
        return errno || *end || id > UINT32_MAX ? 0 : (uint32_t)id;
}

static int id_cmp(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

KBUS_EXPORT int kbus_limpet_reachable_ids(kbus_limpet_context_t *context, uint32_t **ids,
                                          size_t *count)
{
        KbusBindingInfo *b;
        size_t n, kept = 0;

        *ids = NULL;
        *count = 0;
        if (!context->watching) /* before the query: a change after it is never missed */
                context->watching = ksock_watch_listeners(context->ksock, 1) >= 0;
        int r = kbus_query_bindings(context->ksock, &b, &n);
        if (r < 0)
                return lib_result(r);
        uint32_t *list = n ? malloc(n * sizeof(*list)) : NULL;
        for (size_t i = 0; list && i < n; i++)
                if (!b[i].is_replier && b[i].ksock_id != context->ksock_id && reach_id(b[i].name))
                        list[kept++] = reach_id(b[i].name);
        kbus_query_bindings_free(b, n);
        if (n && !list)
                return lib_result(-ENOMEM);
        if (kept > 1)
                qsort(list, kept, sizeof(*list), id_cmp);
        size_t unique = 0;
        for (size_t i = 0; i < kept; i++)
                if (!unique || list[unique - 1] != list[i])
                        list[unique++] = list[i];
        *ids = unique ? list : NULL;
        if (!unique)
                free(list);
        *count = unique;
        return 0;
}

KBUS_EXPORT int kbus_limpet_set_reach(kbus_limpet_context_t *context, const uint32_t *ids,
                                      size_t count)
{
        kbus_limpet_context_t *ctx = context;
        size_t n = 0;

        if (count > KBUS_LIMPET_REACH_MAX)
                return lib_result(-E2BIG);
        char **want = calloc(count + 2, sizeof(*want));
        if (!want)
                return lib_result(-ENOMEM);
        for (size_t i = 0; i < count + 2; i++) {
                uint32_t id = i == 0 ? ctx->network_id : i == 1 ? ctx->other_network_id
                                                                : ids[i - 2];
                if (id && asprintf(&want[n++], REACH_PREFIX "%u", (unsigned)id) < 0) {
                        names_free(want, n - 1);
                        return lib_result(-ENOMEM);
                }
        }
        n = names_sort_unique(want, n);
        return lib_result(limpet_bind_exactly(ctx, &ctx->reach, want, n));
}
