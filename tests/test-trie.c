/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test-trie.c - unit tests for the binding trie (src/core/trie.c, semantics §3, §6).
 *
 * Listener matching must visit each matching binding exactly once: exact
 * names, "*" (that level and every level below, never the prefix itself),
 * "%" (exactly one word), duplicates each visited.  Replier choice must
 * follow semantics §6 (exact, then "%", then the deepest "*").  Nodes are pruned
 * as soon as nothing is bound at or below them, and the child hash table
 * must stay correct through growth and backward-shift deletion, which the
 * large test checks after every batch of removals.  Clients are fake
 * pointers: the trie never dereferences them.  Bindings are told apart by
 * their ids, which are unique within each test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/trie.h"

static char fake_clients[8];
#define CL(i) ((struct Client *)&fake_clients[i])

#define MAX_SEEN 64

typedef struct Seen {
        size_t n;
        uint32_t ids[MAX_SEEN];
} Seen;

static void collect(Binding *b, void *ctx)
{
        Seen *s = ctx;

        assert_true(s->n < MAX_SEEN);
        s->ids[s->n++] = b->id;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

static Binding *add(Trie *t, const char *name, bool replier, struct Client *c, uint32_t id)
{
        Binding *b = NULL;
        size_t len = strlen(name);

        assert_int_equal(name_check(name, len, true, NULL), 0);
        assert_int_equal(trie_add(t, name, len, replier, c, id, &b), 0);
        assert_non_null(b);
        return b;
}

/* Checks that trie_match(@name) visits exactly the bindings @ids (a multiset). */
static void expect_match(const Trie *t, const char *name, const uint32_t *ids, size_t n)
{
        Seen s = { 0 };
        uint32_t want[MAX_SEEN];

        assert_int_equal(name_check(name, strlen(name), false, NULL), 0);
        trie_match(t, name, strlen(name), collect, &s);
        assert_true(n <= MAX_SEEN);
        if (n)
                memcpy(want, ids, n * sizeof(*ids));
        qsort(want, n, sizeof(*want), cmp_u32);
        qsort(s.ids, s.n, sizeof(*s.ids), cmp_u32);
        if (s.n != n)
                print_error("match %s: %zu bindings, want %zu\n", name, s.n, n);
        assert_int_equal(s.n, n);
        assert_memory_equal(s.ids, want, n * sizeof(*want));
}

#define EXPECT_MATCH(t, name, ...)                                                    \
        expect_match(t, name, (const uint32_t[]){ __VA_ARGS__ },                      \
                     sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))
#define EXPECT_NONE(t, name) expect_match(t, name, NULL, 0)

static Binding *find_replier(const Trie *t, const char *name)
{
        return trie_find_replier(t, name, strlen(name));
}

static Binding *replier_of(const Trie *t, const char *name)
{
        return trie_replier_of(t, name, strlen(name));
}

static void test_init_deinit(void **state)
{
        Trie t = TRIE_INIT;

        trie_deinit(&t); /* safe on TRIE_INIT */
        assert_int_equal(trie_init(&t), 0);
        assert_non_null(t.root);
        assert_int_equal(t.nnodes, 0);
        assert_int_equal(t.nbindings, 0);
        EXPECT_NONE(&t, "$.a");
        assert_null(find_replier(&t, "$.a"));
        trie_deinit(&t);
        assert_null(t.root);
        trie_deinit(&t); /* and twice */
}

static void test_add_remove(void **state)
{
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        Binding *b = add(&t, "$.a.b", false, CL(1), 42);
        assert_ptr_equal(b->client, CL(1));
        assert_int_equal(b->id, 42);
        assert_false(b->replier);
        assert_int_equal(b->kind, NAME_PLAIN);
        assert_int_equal(b->name_len, 5);
        assert_string_equal(b->name, "$.a.b");
        assert_int_equal(t.nbindings, 1);
        assert_int_equal(t.nnodes, 2);
        EXPECT_MATCH(&t, "$.a.b", 42);

        Binding *s = add(&t, "$.a.*", true, CL(2), 43);
        assert_true(s->replier);
        assert_int_equal(s->kind, NAME_STAR);
        assert_string_equal(s->name, "$.a.*");
        Binding *p = add(&t, "$.%", false, CL(2), 44);
        assert_int_equal(p->kind, NAME_PERCENT);
        assert_int_equal(t.nbindings, 3);
        assert_int_equal(t.nnodes, 2);

        trie_remove(&t, b);
        assert_int_equal(t.nbindings, 2);
        assert_int_equal(t.nnodes, 1); /* "a" stays for "$.a.*" */
        EXPECT_NONE(&t, "$.a.b");
        assert_ptr_equal(find_replier(&t, "$.a.b"), s);
        trie_remove(&t, s);
        assert_int_equal(t.nnodes, 0);
        assert_null(find_replier(&t, "$.a.b"));
        EXPECT_MATCH(&t, "$.a", 44);
        trie_remove(&t, p);
        assert_int_equal(t.nbindings, 0);
        assert_int_equal(t.nnodes, 0);
        EXPECT_NONE(&t, "$.a");
        trie_deinit(&t);
}

static void test_match_exact(void **state)
{
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        Binding *b = add(&t, "$.a.b", false, CL(1), 1);
        EXPECT_MATCH(&t, "$.a.b", 1);
        EXPECT_NONE(&t, "$.a");
        EXPECT_NONE(&t, "$.a.b.c");
        EXPECT_NONE(&t, "$.a.bc");
        EXPECT_NONE(&t, "$.a.B");
        EXPECT_NONE(&t, "$.A.b");
        EXPECT_NONE(&t, "$.b");
        EXPECT_NONE(&t, "$.b.a.b");
        trie_remove(&t, b);
        trie_deinit(&t);
}

static void test_match_star(void **state)
{
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        Binding *b = add(&t, "$.Sensors.*", false, CL(1), 1);
        EXPECT_MATCH(&t, "$.Sensors.Kitchen", 1);
        EXPECT_MATCH(&t, "$.Sensors.Kitchen.Toaster", 1);
        EXPECT_MATCH(&t, "$.Sensors.a.b.c.d.e", 1);
        EXPECT_NONE(&t, "$.Sensors");
        EXPECT_NONE(&t, "$.SensorsX.Kitchen");
        EXPECT_NONE(&t, "$.Sensor.Kitchen");
        EXPECT_NONE(&t, "$.Other.Sensors.Kitchen");
        trie_remove(&t, b);
        assert_int_equal(t.nnodes, 0);
        trie_deinit(&t);
}

static void test_match_percent(void **state)
{
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        Binding *b = add(&t, "$.Sensors.%", false, CL(1), 1);
        EXPECT_MATCH(&t, "$.Sensors.Kitchen", 1);
        EXPECT_MATCH(&t, "$.Sensors.Hall", 1);
        EXPECT_NONE(&t, "$.Sensors.Kitchen.Toaster");
        EXPECT_NONE(&t, "$.Sensors");
        EXPECT_NONE(&t, "$.Other.Kitchen");
        trie_remove(&t, b);
        assert_int_equal(t.nnodes, 0);
        trie_deinit(&t);
}

static void test_match_root_wildcards(void **state)
{
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        Binding *s = add(&t, "$.*", false, CL(1), 1);
        Binding *p = add(&t, "$.%", false, CL(1), 2);
        assert_int_equal(t.nnodes, 0);
        EXPECT_MATCH(&t, "$.a", 1, 2);
        EXPECT_MATCH(&t, "$.a.b", 1);
        EXPECT_MATCH(&t, "$.a.b.c.d", 1);
        EXPECT_MATCH(&t, "$.KBUS.ReplierBindEvent", 1);
        trie_remove(&t, s);
        trie_remove(&t, p);
        trie_deinit(&t);
}

static void test_match_combined(void **state)
{
        static const char *names[] = { "$.*", "$.a.*", "$.a.%", "$.a.b", "$.a.b.*",
                                       "$.a.b.%", "$.a", "$.%", "$.b.c" };
        Binding *b[9];
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        for (uint32_t i = 0; i < 9; i++)
                b[i] = add(&t, names[i], false, CL(i % 3), i + 1);
        /* repliers are not listeners */
        Binding *r = add(&t, "$.a.b", true, CL(4), 100);
        Binding *rs = add(&t, "$.*", true, CL(4), 101);

        EXPECT_MATCH(&t, "$.a", 1, 7, 8);
        EXPECT_MATCH(&t, "$.a.b", 1, 2, 3, 4);
        EXPECT_MATCH(&t, "$.a.c", 1, 2, 3);
        EXPECT_MATCH(&t, "$.a.b.c", 1, 2, 5, 6);
        EXPECT_MATCH(&t, "$.a.b.c.d", 1, 2, 5);
        EXPECT_MATCH(&t, "$.b", 1, 8);
        EXPECT_MATCH(&t, "$.b.c", 1, 9);
        EXPECT_MATCH(&t, "$.b.c.d", 1);
        EXPECT_MATCH(&t, "$.c", 1, 8);

        trie_remove(&t, r);
        trie_remove(&t, rs);
        for (int i = 0; i < 9; i++)
                trie_remove(&t, b[i]);
        assert_int_equal(t.nnodes, 0);
        trie_deinit(&t);
}

static void test_match_duplicates(void **state)
{
        Binding *b[6];
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        b[0] = add(&t, "$.a.b", false, CL(1), 1);
        b[1] = add(&t, "$.a.b", false, CL(1), 2);
        b[2] = add(&t, "$.a.b", false, CL(2), 3);
        b[3] = add(&t, "$.a.*", false, CL(1), 4);
        b[4] = add(&t, "$.a.*", false, CL(1), 5);
        b[5] = add(&t, "$.a.%", false, CL(1), 6);
        EXPECT_MATCH(&t, "$.a.b", 1, 2, 3, 4, 5, 6);
        EXPECT_MATCH(&t, "$.a.b.c", 4, 5);

        /* removing one duplicate leaves the other */
        trie_remove(&t, b[1]);
        EXPECT_MATCH(&t, "$.a.b", 1, 3, 4, 5, 6);
        trie_remove(&t, b[3]);
        EXPECT_MATCH(&t, "$.a.b", 1, 3, 5, 6);
        EXPECT_MATCH(&t, "$.a.b.c", 5);
        trie_remove(&t, b[0]);
        trie_remove(&t, b[2]);
        trie_remove(&t, b[4]);
        trie_remove(&t, b[5]);
        assert_int_equal(t.nnodes, 0);
        trie_deinit(&t);
}

static void test_replier_specificity(void **state)
{
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        Binding *all = add(&t, "$.*", true, CL(1), 1);
        Binding *star = add(&t, "$.Fred.*", true, CL(2), 2);
        Binding *pct = add(&t, "$.Fred.%", true, CL(3), 3);
        Binding *exact = add(&t, "$.Fred.Jim", true, CL(4), 4);
        /* listeners never answer requests */
        Binding *l1 = add(&t, "$.Fred.Jim.Sheila", false, CL(5), 5);
        Binding *l2 = add(&t, "$.Bill", false, CL(5), 6);

        assert_ptr_equal(find_replier(&t, "$.Fred.Jim"), exact);
        assert_ptr_equal(find_replier(&t, "$.Fred.Bob"), pct);
        assert_ptr_equal(find_replier(&t, "$.Fred.Jim.Sheila"), star);
        assert_ptr_equal(find_replier(&t, "$.Fred.Bob.Sheila"), star);
        assert_ptr_equal(find_replier(&t, "$.Fred"), all);
        assert_ptr_equal(find_replier(&t, "$.Bill"), all);
        assert_ptr_equal(find_replier(&t, "$.Bill.Ben"), all);

        trie_remove(&t, exact);
        assert_ptr_equal(find_replier(&t, "$.Fred.Jim"), pct);
        trie_remove(&t, pct);
        assert_ptr_equal(find_replier(&t, "$.Fred.Jim"), star);
        assert_ptr_equal(find_replier(&t, "$.Fred.Bob"), star);
        trie_remove(&t, star);
        assert_ptr_equal(find_replier(&t, "$.Fred.Jim"), all);
        trie_remove(&t, all);
        assert_null(find_replier(&t, "$.Fred.Jim"));
        assert_null(find_replier(&t, "$.Fred.Jim.Sheila"));
        trie_remove(&t, l1);
        trie_remove(&t, l2);
        assert_int_equal(t.nnodes, 0);
        trie_deinit(&t);
}

static void test_replier_deeper_star(void **state)
{
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        Binding *all = add(&t, "$.*", true, CL(1), 1);
        Binding *a = add(&t, "$.a.*", true, CL(2), 2);
        Binding *ab = add(&t, "$.a.b.*", true, CL(3), 3);
        Binding *abcp = add(&t, "$.a.b.c.%", true, CL(4), 4);
        Binding *rootp = add(&t, "$.%", true, CL(5), 5);

        assert_ptr_equal(find_replier(&t, "$.a.b.c.d.e"), ab);
        assert_ptr_equal(find_replier(&t, "$.a.b.c.d"), abcp); /* % at the deepest level */
        assert_ptr_equal(find_replier(&t, "$.a.b.c"), ab);
        assert_ptr_equal(find_replier(&t, "$.a.b.x.y"), ab);
        assert_ptr_equal(find_replier(&t, "$.a.b"), a); /* "$.a.b.*" is not "$.a.b" */
        assert_ptr_equal(find_replier(&t, "$.a.x"), a);
        assert_ptr_equal(find_replier(&t, "$.a"), rootp);
        assert_ptr_equal(find_replier(&t, "$.z"), rootp);
        assert_ptr_equal(find_replier(&t, "$.z.y"), all);

        trie_remove(&t, ab);
        assert_ptr_equal(find_replier(&t, "$.a.b.c.d.e"), a);
        assert_ptr_equal(find_replier(&t, "$.a.b.c.d"), abcp);
        trie_remove(&t, abcp);
        assert_ptr_equal(find_replier(&t, "$.a.b.c.d"), a);
        trie_remove(&t, a);
        assert_ptr_equal(find_replier(&t, "$.a.b.c.d"), all);
        assert_ptr_equal(find_replier(&t, "$.a"), rootp);
        trie_remove(&t, rootp);
        assert_ptr_equal(find_replier(&t, "$.a"), all);
        trie_remove(&t, all);
        assert_int_equal(t.nnodes, 0);
        trie_deinit(&t);
}

static void test_replier_exists(void **state)
{
        Trie t;
        Binding *b[5];

        assert_int_equal(trie_init(&t), 0);
        b[0] = add(&t, "$.a.b", true, CL(1), 1);
        size_t nodes = t.nnodes;

        Binding *ret = (Binding *)&fake_clients[7];
        assert_int_equal(trie_add(&t, "$.a.b", 5, true, CL(2), 2, &ret), TRIE_E_REPLIER_EXISTS);
        assert_ptr_equal(ret, (Binding *)&fake_clients[7]); /* not written */
        assert_int_equal(trie_add(&t, "$.a.b", 5, true, CL(1), 3, &ret), TRIE_E_REPLIER_EXISTS);
        assert_int_equal(t.nbindings, 1);
        assert_int_equal(t.nnodes, nodes);

        /* other kinds on the same node, and listeners, are fine */
        b[1] = add(&t, "$.a.*", true, CL(2), 4);
        b[2] = add(&t, "$.a.%", true, CL(3), 5);
        b[3] = add(&t, "$.a", true, CL(4), 6);
        b[4] = add(&t, "$.a.b", false, CL(2), 7);
        assert_int_equal(trie_add(&t, "$.a.*", 5, true, CL(5), 8, &ret), TRIE_E_REPLIER_EXISTS);
        assert_int_equal(trie_add(&t, "$.a.%", 5, true, CL(5), 9, &ret), TRIE_E_REPLIER_EXISTS);
        assert_int_equal(trie_add(&t, "$.a", 3, true, CL(5), 10, &ret), TRIE_E_REPLIER_EXISTS);
        assert_int_equal(t.nbindings, 5);

        assert_ptr_equal(replier_of(&t, "$.a.b"), b[0]);
        assert_ptr_equal(replier_of(&t, "$.a.*"), b[1]);
        assert_ptr_equal(replier_of(&t, "$.a.%"), b[2]);
        assert_ptr_equal(replier_of(&t, "$.a"), b[3]);
        assert_null(replier_of(&t, "$.*"));
        assert_null(replier_of(&t, "$.%"));
        assert_null(replier_of(&t, "$.a.b.*"));
        assert_null(replier_of(&t, "$.a.b.c"));
        assert_null(replier_of(&t, "$.x.y.*"));
        assert_null(replier_of(&t, "$.b"));

        /* once the replier has gone, another may bind */
        trie_remove(&t, b[0]);
        assert_null(replier_of(&t, "$.a.b"));
        b[0] = add(&t, "$.a.b", true, CL(5), 11);
        assert_ptr_equal(replier_of(&t, "$.a.b"), b[0]);
        assert_ptr_equal(find_replier(&t, "$.a.b"), b[0]);

        for (int i = 0; i < 5; i++)
                trie_remove(&t, b[i]);
        assert_int_equal(t.nnodes, 0);

        /* root-level repliers */
        Binding *rs = add(&t, "$.*", true, CL(1), 12);
        Binding *rp = add(&t, "$.%", true, CL(1), 13);
        assert_int_equal(trie_add(&t, "$.*", 3, true, CL(2), 14, &ret), TRIE_E_REPLIER_EXISTS);
        assert_ptr_equal(replier_of(&t, "$.*"), rs);
        assert_ptr_equal(replier_of(&t, "$.%"), rp);
        trie_remove(&t, rs);
        trie_remove(&t, rp);
        assert_int_equal(t.nbindings, 0);
        trie_deinit(&t);
}

static void test_pruning(void **state)
{
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        Binding *abc = add(&t, "$.a.b.c", false, CL(1), 1);
        Binding *ax = add(&t, "$.a.x", true, CL(1), 2);
        assert_int_equal(t.nnodes, 4); /* a, b, c, x */
        Binding *ab = add(&t, "$.a.b.%", false, CL(1), 3);
        assert_int_equal(t.nnodes, 4);
        Binding *deep = add(&t, "$.p.q.r.s.t.u.v.*", false, CL(1), 4);
        assert_int_equal(t.nnodes, 11);

        trie_remove(&t, abc);
        assert_int_equal(t.nnodes, 10); /* c goes; b stays for "$.a.b.%" */
        EXPECT_MATCH(&t, "$.a.b.c", 3);
        trie_remove(&t, ab);
        assert_int_equal(t.nnodes, 9);
        trie_remove(&t, deep);
        assert_int_equal(t.nnodes, 2);
        EXPECT_NONE(&t, "$.p.q.r.s.t.u.v.w");
        trie_remove(&t, ax);
        assert_int_equal(t.nnodes, 0);
        assert_int_equal(t.nbindings, 0);

        /* the same names again, on the pruned trie */
        abc = add(&t, "$.a.b.c", false, CL(1), 5);
        EXPECT_MATCH(&t, "$.a.b.c", 5);
        assert_int_equal(t.nnodes, 3);
        trie_remove(&t, abc);
        assert_int_equal(t.nnodes, 0);
        trie_deinit(&t);
}

static void test_walk(void **state)
{
        static const struct {
                const char *name;
                bool replier;
        } bs[] = {
                { "$.*", false }, { "$.*", true }, { "$.%", false }, { "$.%", true },
                { "$.a", false }, { "$.a", false }, { "$.a", true }, { "$.a.*", true },
                { "$.a.%", false }, { "$.a.b.c", false }, { "$.x.y.z.%", true },
        };
        enum { N = sizeof(bs) / sizeof(bs[0]) };
        Binding *b[N];
        Trie t;
        Seen s = { 0 };

        assert_int_equal(trie_init(&t), 0);
        trie_walk(&t, collect, &s);
        assert_int_equal(s.n, 0);
        for (uint32_t i = 0; i < N; i++)
                b[i] = add(&t, bs[i].name, bs[i].replier, CL(i % 4), i + 1);
        trie_walk(&t, collect, &s);
        assert_int_equal(s.n, N);
        qsort(s.ids, s.n, sizeof(*s.ids), cmp_u32);
        for (uint32_t i = 0; i < N; i++)
                assert_int_equal(s.ids[i], i + 1);
        for (uint32_t i = 0; i < N; i++)
                trie_remove(&t, b[i]);
        s.n = 0;
        trie_walk(&t, collect, &s);
        assert_int_equal(s.n, 0);
        trie_deinit(&t);
}

/* ---- many bindings ---- */

/*
 * MANY names: A_COUNT siblings "$.s.<i>" under one node, and the rest
 * "$.d<i % GROUPS>.e<i>.f" (two nodes each).  The counts make exactly 16384
 * nodes, so the child hash table ends at its maximum load of one half, where
 * long probe runs (also ones wrapping round the end of the table) are common.
 */
enum {
        MANY = 10000,
        A_COUNT = 3667,
        GROUPS = 50,
        ID_PCT_S = 100001,   /* "$.s.%" */
        ID_STAR_D7 = 100002, /* "$.d7.*" */
        ID_ALL = 100003,     /* "$.*" */
        ID_ALL_R = 100004,   /* "$.*" as replier */
        ID_D7_R = 100005,    /* "$.d7.*" as replier */
        ID_MAX = ID_D7_R,
        ID_REPLIER = 50000,  /* + i + 1 */
        NFIXED = 5,
};

typedef struct Many {
        Trie t;
        char names[MANY][24];
        Binding *listener[MANY];
        Binding *replier[MANY]; /* for i % 3 == 0 */
        Binding *fixed[NFIXED];
        uint32_t group_left[GROUPS];
        size_t a_left, b_left;
        uint32_t walked[ID_MAX + 1]; /* visits per binding id */
} Many;

static void count_walk(Binding *b, void *ctx)
{
        Many *m = ctx;

        assert_true(b->id <= ID_MAX);
        m->walked[b->id]++;
}

/* trie_walk() visits each binding of @m exactly once, and nothing else. */
static void many_walk(Many *m)
{
        size_t total = 0;

        memset(m->walked, 0, sizeof(m->walked));
        trie_walk(&m->t, count_walk, m);
        for (size_t id = 0; id <= ID_MAX; id++)
                total += m->walked[id];
        assert_int_equal(total, m->t.nbindings);
        for (size_t i = 0; i < MANY; i++) {
                assert_int_equal(m->walked[i + 1], m->listener[i] ? 1 : 0);
                assert_int_equal(m->walked[ID_REPLIER + i + 1], m->replier[i] ? 1 : 0);
        }
        for (int k = 0; k < NFIXED; k++)
                assert_int_equal(m->walked[m->fixed[k]->id], 1);
}

static void many_check(Many *m, size_t i)
{
        const char *name = m->names[i];
        bool d7 = i >= A_COUNT && i % GROUPS == 7;
        uint32_t want[4];
        size_t n = 0;

        if (m->listener[i])
                want[n++] = (uint32_t)i + 1;
        want[n++] = ID_ALL;
        if (i < A_COUNT)
                want[n++] = ID_PCT_S;
        else if (d7)
                want[n++] = ID_STAR_D7;
        expect_match(&m->t, name, want, n);

        Binding *r = m->replier[i] ? m->replier[i] : d7 ? m->fixed[4] : m->fixed[3];
        assert_ptr_equal(find_replier(&m->t, name), r);
        assert_ptr_equal(replier_of(&m->t, name), m->replier[i]);
}

static size_t many_nodes(const Many *m)
{
        size_t n = 1 + m->a_left + 2 * m->b_left; /* "s" is kept by "$.s.%" */

        for (int g = 0; g < GROUPS; g++)
                if (m->group_left[g] || g == 7) /* "d7" is kept by "$.d7.*" */
                        n++;
        return n;
}

static void many_remove(Many *m, size_t i)
{
        trie_remove(&m->t, m->listener[i]);
        m->listener[i] = NULL;
        if (m->replier[i]) {
                trie_remove(&m->t, m->replier[i]);
                m->replier[i] = NULL;
        }
        if (i < A_COUNT) {
                m->a_left--;
        } else {
                m->b_left--;
                m->group_left[i % GROUPS]--;
        }
}

static void many_add(Many *m)
{
        m->fixed[0] = add(&m->t, "$.s.%", false, CL(2), ID_PCT_S);
        m->fixed[1] = add(&m->t, "$.d7.*", false, CL(2), ID_STAR_D7);
        m->fixed[2] = add(&m->t, "$.*", false, CL(2), ID_ALL);
        m->fixed[3] = add(&m->t, "$.*", true, CL(3), ID_ALL_R);
        m->fixed[4] = add(&m->t, "$.d7.*", true, CL(3), ID_D7_R);
        for (size_t i = 0; i < MANY; i++) {
                if (i < A_COUNT) {
                        snprintf(m->names[i], sizeof(m->names[i]), "$.s.%zu", i);
                        m->a_left++;
                } else {
                        snprintf(m->names[i], sizeof(m->names[i]), "$.d%zu.e%zu.f",
                                 i % GROUPS, i);
                        m->b_left++;
                        m->group_left[i % GROUPS]++;
                }
                m->listener[i] = add(&m->t, m->names[i], false, CL(0), (uint32_t)i + 1);
                if (i % 3 == 0)
                        m->replier[i] = add(&m->t, m->names[i], true, CL(1),
                                            ID_REPLIER + (uint32_t)i + 1);
        }
}

static void test_many(void **state)
{
        Many *m = calloc(1, sizeof(*m));
        static size_t order[MANY];

        assert_non_null(m);
        assert_int_equal(trie_init(&m->t), 0);
        many_add(m);
        assert_int_equal(m->t.nnodes, 16384);
        assert_int_equal(m->t.nnodes, many_nodes(m));
        assert_int_equal(m->t.nbindings, NFIXED + MANY + (MANY + 2) / 3);
        assert_int_equal(m->t.nslots, 32768);
        for (size_t i = 0; i < MANY; i++)
                many_check(m, i);
        many_walk(m);

        /* remove in a shuffled order, checking every name after each batch */
        uint32_t x = 0x2545f491u;
        for (size_t i = 0; i < MANY; i++)
                order[i] = i;
        for (size_t i = MANY - 1; i > 0; i--) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                size_t j = x % (i + 1);
                size_t tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
        }
        for (size_t batch = 0; batch < 20; batch++) {
                for (size_t k = batch * (MANY / 20); k < (batch + 1) * (MANY / 20); k++)
                        many_remove(m, order[k]);
                assert_int_equal(m->t.nnodes, many_nodes(m));
                for (size_t i = 0; i < MANY; i++)
                        many_check(m, i);
                many_walk(m);
        }
        assert_int_equal(m->t.nbindings, NFIXED);
        assert_int_equal(m->t.nnodes, 2); /* "s" and "d7" */
        for (int i = 0; i < NFIXED; i++)
                trie_remove(&m->t, m->fixed[i]);
        assert_int_equal(m->t.nnodes, 0);
        assert_int_equal(m->t.nbindings, 0);
        for (size_t i = 0; i < m->t.nslots; i++)
                assert_null(m->t.slots[i]);
        trie_deinit(&m->t);
        free(m);
}

/*
 * Churn in a table that never grows: 31 of 100 sibling names bound at any
 * time, one unbound and another bound per step, in a table of 64 slots.  At
 * this load, deletions whose probe run wraps round the end of the table
 * happen hundreds of times, so backward-shift deletion is exercised there too.
 */
static void test_churn(void **state)
{
        enum { POOL = 100, ALIVE = 31, STEPS = 5000 };
        static char names[POOL][8];
        Binding *b[POOL] = { 0 };
        size_t alive[ALIVE];
        uint32_t x = 99991;
        Trie t;

        assert_int_equal(trie_init(&t), 0);
        for (size_t k = 0; k < POOL; k++)
                snprintf(names[k], sizeof(names[k]), "$.c%zu", k);
        for (size_t k = 0; k < ALIVE; k++) {
                alive[k] = k * 3;
                b[k * 3] = add(&t, names[k * 3], false, CL(0), (uint32_t)(k * 3) + 1);
        }
        for (size_t step = 0; step < STEPS; step++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                size_t victim = x % ALIVE, k = (x >> 8) % POOL;
                while (b[k])
                        k = (k + 1) % POOL;
                trie_remove(&t, b[alive[victim]]);
                b[alive[victim]] = NULL;
                b[k] = add(&t, names[k], false, CL(0), (uint32_t)k + 1);
                alive[victim] = k;
                assert_int_equal(t.nnodes, ALIVE);
                for (size_t n = 0; n < POOL; n++) {
                        if (b[n])
                                EXPECT_MATCH(&t, names[n], (uint32_t)n + 1);
                        else
                                EXPECT_NONE(&t, names[n]);
                }
        }
        assert_int_equal(t.nslots, 64);
        for (size_t k = 0; k < ALIVE; k++)
                trie_remove(&t, b[alive[k]]);
        assert_int_equal(t.nnodes, 0);
        for (size_t i = 0; i < t.nslots; i++)
                assert_null(t.slots[i]);
        trie_deinit(&t);
}

/* Many bindings come and go: the table grows with them and shrinks back. */
static void test_table_shrinks(void **state)
{
        enum { N = 20000 };
        static Binding *b[N];
        char name[32];
        Trie t;

        (void)state;
        assert_int_equal(trie_init(&t), 0);
        size_t empty = t.nslots;
        for (unsigned i = 0; i < N; i++) {
                snprintf(name, sizeof(name), "$.s%u.leaf", i);
                b[i] = add(&t, name, false, CL(0), i + 1);
        }
        assert_int_equal(t.nnodes, 2 * N);
        assert_true(t.nslots >= 4 * N);
        for (unsigned i = 0; i < N; i++) {
                trie_remove(&t, b[i]);
                assert_true(t.nnodes * 2 <= t.nslots); /* still room for every node */
        }
        assert_int_equal(t.nnodes, 0);
        assert_int_equal(t.nbindings, 0);
        assert_int_equal(t.nslots, empty);
        trie_deinit(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_init_deinit),
                cmocka_unit_test(test_add_remove),
                cmocka_unit_test(test_match_exact),
                cmocka_unit_test(test_match_star),
                cmocka_unit_test(test_match_percent),
                cmocka_unit_test(test_match_root_wildcards),
                cmocka_unit_test(test_match_combined),
                cmocka_unit_test(test_match_duplicates),
                cmocka_unit_test(test_replier_specificity),
                cmocka_unit_test(test_replier_deeper_star),
                cmocka_unit_test(test_replier_exists),
                cmocka_unit_test(test_pruning),
                cmocka_unit_test(test_walk),
                cmocka_unit_test(test_many),
                cmocka_unit_test(test_churn),
                cmocka_unit_test(test_table_shrinks),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
