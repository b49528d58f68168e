/* SPDX-License-Identifier: MPL-2.0 */
/*
 * trie.c - the name bindings of one bus (semantics §3, §6).
 *
 * One node per name prefix: the root is "$", its children are the first
 * words, and so on.  A binding hangs on the node of its name without the
 * wildcard, in one of three slots by kind: plain ("$.a.b" on node a.b),
 * star ("$.a.*" on node a) or percent ("$.a.%" on node a).  Each slot holds a
 * list of listener bindings and at most one replier binding.
 *
 * Matching a name of n words walks n nodes from the root: every star slot on
 * the way matches, the percent slot of the parent of the last word matches,
 * and the plain slot of the last node matches.  Children are found through a
 * hash table keyed by (parent, word), so the cost of a lookup grows with the
 * depth of the name and not with how many bindings or siblings exist.
 * Nodes with nothing bound below them are freed at once.
 *
 * Names are validated by the caller (name_check()); this module trusts them.
 */
#include "trie.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TRIE_SLOTS_MIN 64u

struct TrieNode {
        TrieNode *parent;
        uint64_t hash;
        uint32_t nchildren;
        struct BindingList listeners[3]; /* by NameKind */
        Binding *repliers[3];
        uint32_t word_len;
        char word[];
};

static uint64_t trie_hash(const TrieNode *parent, const char *word, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull);

        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)word[i];
                h *= 0x100000001b3ull;
        }
        return h ^ (h >> 29);
}

static TrieNode *trie_node_new(TrieNode *parent, const char *word, size_t len, uint64_t hash)
{
        TrieNode *n = calloc(1, sizeof(*n) + len + 1);

        if (!n)
                return NULL;
        n->parent = parent;
        n->hash = hash;
        for (int k = 0; k < 3; k++)
                TAILQ_INIT(&n->listeners[k]);
        n->word_len = (uint32_t)len;
        memcpy(n->word, word, len);
        return n;
}

static bool trie_node_is_empty(const TrieNode *n)
{
        for (int k = 0; k < 3; k++)
                if (n->repliers[k] || !TAILQ_EMPTY(&n->listeners[k]))
                        return false;
        return n->nchildren == 0;
}

/**
 * trie_init() - set up an empty trie.
 * @t: a TRIE_INIT trie
 *
 * Return: 0, or -ENOMEM.
 */
int trie_init(Trie *t)
{
        *t = TRIE_INIT;
        t->nslots = TRIE_SLOTS_MIN;
        t->slots = calloc(t->nslots, sizeof(*t->slots));
        t->root = trie_node_new(NULL, "$", 1, 0);
        if (!t->slots || !t->root) {
                trie_deinit(t);
                return -ENOMEM;
        }
        return 0;
}

static TrieNode **trie_slot_find(const Trie *t, const TrieNode *parent, const char *word,
                                 size_t len, uint64_t hash)
{
        size_t mask = t->nslots - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                TrieNode *n = t->slots[i];
                if (!n || (n->hash == hash && n->parent == parent && n->word_len == len &&
                           memcmp(n->word, word, len) == 0))
                        return &t->slots[i];
        }
}

/* Moves every node to a table of @nslots (a power of two, over twice the nodes). */
static int trie_rehash(Trie *t, size_t nslots)
{
        size_t old_n = t->nslots;
        TrieNode **old = t->slots;
        TrieNode **slots = calloc(nslots, sizeof(*slots));

        if (!slots)
                return -ENOMEM;
        t->slots = slots;
        t->nslots = nslots;
        for (size_t i = 0; i < old_n; i++)
                if (old[i])
                        *trie_slot_find(t, old[i]->parent, old[i]->word, old[i]->word_len,
                                        old[i]->hash) = old[i];
        free(old);
        return 0;
}

/* Removes @n from the hash table, shifting later entries of its run back. */
static void trie_slot_delete(Trie *t, TrieNode *n)
{
        size_t mask = t->nslots - 1;
        size_t i = (size_t)(trie_slot_find(t, n->parent, n->word, n->word_len, n->hash) -
                            t->slots);

        t->slots[i] = NULL;
        for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
                size_t home = t->slots[j]->hash & mask;
                /* move j back to i unless its home lies cyclically in (i, j] */
                if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
                        t->slots[i] = t->slots[j];
                        t->slots[j] = NULL;
                        i = j;
                }
        }
}

static TrieNode *trie_child(const Trie *t, const TrieNode *parent, const char *word, size_t len)
{
        return *trie_slot_find(t, parent, word, len, trie_hash(parent, word, len));
}

static int trie_child_add(Trie *t, TrieNode *parent, const char *word, size_t len,
                          TrieNode **ret)
{
        uint64_t hash = trie_hash(parent, word, len);
        TrieNode **slot = trie_slot_find(t, parent, word, len, hash);

        if (*slot) {
                *ret = *slot;
                return 0;
        }
        if ((t->nnodes + 1) * 2 > t->nslots) {
                if (trie_rehash(t, t->nslots * 2) < 0)
                        return -ENOMEM;
                slot = trie_slot_find(t, parent, word, len, hash);
        }
        TrieNode *n = trie_node_new(parent, word, len, hash);
        if (!n)
                return -ENOMEM;
        *slot = n;
        t->nnodes++;
        parent->nchildren++;
        *ret = n;
        return 0;
}

/*
 * Frees @n and its ancestors for as long as nothing is bound at or below
 * them; a table left mostly empty is halved, so that the memory of many
 * bindings comes back when they go.
 */
static void trie_prune(Trie *t, TrieNode *n)
{
        while (n != t->root && trie_node_is_empty(n)) {
                TrieNode *parent = n->parent;
                trie_slot_delete(t, n);
                parent->nchildren--;
                t->nnodes--;
                free(n);
                n = parent;
        }
        if (t->nslots > TRIE_SLOTS_MIN && t->nnodes * 8 < t->nslots)
                (void)trie_rehash(t, t->nslots / 2); /* without memory, it stays as it is */
}

/* The length of the word starting at @p (up to '.' or @end). */
static size_t trie_word_len(const char *p, const char *end)
{
        const char *q = memchr(p, '.', (size_t)(end - p));

        return q ? (size_t)(q - p) : (size_t)(end - p);
}

/* The prefix of a binding name that names its node, and the binding's kind. */
static void trie_split_binding(const char *name, size_t len, const char **words, size_t *wlen,
                               NameKind *kind)
{
        char last = name[len - 1];

        *kind = NAME_PLAIN;
        *words = name + 2;
        *wlen = len - 2;
        if (last == '*' || last == '%') {
                *kind = last == '*' ? NAME_STAR : NAME_PERCENT;
                *wlen = len == 3 ? 0 : len - 4;
        }
}

/**
 * trie_add() - add a binding.
 * @t:       the trie
 * @name:    a valid binding name (name_check() with wildcards allowed)
 * @len:     its length
 * @replier: bind as the replier
 * @client:  the owner
 * @id:      the owner's id for this binding
 * @ret:     the new binding
 *
 * Return: 0; TRIE_E_REPLIER_EXISTS if @replier and a replier is bound to
 * exactly @name; -ENOMEM.
 */
int trie_add(Trie *t, const char *name, size_t len, bool replier, struct Client *client,
             uint32_t id, Binding **ret)
{
        const char *p, *end;
        size_t wlen;
        NameKind kind;
        TrieNode *n = t->root;

        trie_split_binding(name, len, &p, &wlen, &kind);
        end = p + wlen;
        while (p < end) {
                size_t w = trie_word_len(p, end);
                int r = trie_child_add(t, n, p, w, &n);
                if (r < 0) {
                        trie_prune(t, n);
                        return r;
                }
                p += w + 1;
        }
        if (replier && n->repliers[kind]) {
                trie_prune(t, n);
                return TRIE_E_REPLIER_EXISTS;
        }
        Binding *b = calloc(1, sizeof(*b) + len + 1);
        if (!b) {
                trie_prune(t, n);
                return -ENOMEM;
        }
        b->client = client;
        b->id = id;
        b->replier = replier;
        b->kind = kind;
        b->node = n;
        b->name_len = (uint32_t)len;
        memcpy(b->name, name, len);
        if (replier)
                n->repliers[kind] = b;
        else
                TAILQ_INSERT_TAIL(&n->listeners[kind], b, node_link);
        t->nbindings++;
        *ret = b;
        return 0;
}

/**
 * trie_remove() - remove and free a binding.
 * @t: the trie
 * @b: a binding of @t (the caller unlinks it from its client first)
 */
void trie_remove(Trie *t, Binding *b)
{
        TrieNode *n = b->node;

        if (b->replier) {
                assert(n->repliers[b->kind] == b);
                n->repliers[b->kind] = NULL;
        } else {
                TAILQ_REMOVE(&n->listeners[b->kind], b, node_link);
        }
        t->nbindings--;
        free(b);
        trie_prune(t, n);
}

/**
 * trie_find_replier() - the replier for a request named @name (semantics §6): the
 * plain binding, else the percent binding of the parent, else the deepest
 * star binding on the way.
 * @t:    the trie
 * @name: a valid name without wildcard
 * @len:  its length
 *
 * Return: the replier's binding, or NULL.
 */
Binding *trie_find_replier(const Trie *t, const char *name, size_t len)
{
        const char *p = name + 2, *end = name + len;
        const TrieNode *n = t->root;
        Binding *star = NULL, *pct = NULL;

        while (n) {
                if (p >= end)
                        return n->repliers[NAME_PLAIN] ? n->repliers[NAME_PLAIN] : pct ? pct : star;
                size_t w = trie_word_len(p, end);
                if (n->repliers[NAME_STAR])
                        star = n->repliers[NAME_STAR];
                if (p + w == end)
                        pct = n->repliers[NAME_PERCENT];
                n = trie_child(t, n, p, w);
                p += w + 1;
        }
        return pct ? pct : star;
}

/**
 * trie_replier_of() - the replier bound to exactly the binding name @name.
 * @t:    the trie
 * @name: a valid binding name
 * @len:  its length
 *
 * Return: the binding, or NULL.
 */
Binding *trie_replier_of(const Trie *t, const char *name, size_t len)
{
        const char *p, *end;
        size_t wlen;
        NameKind kind;
        const TrieNode *n = t->root;

        trie_split_binding(name, len, &p, &wlen, &kind);
        for (end = p + wlen; n && p < end;) {
                size_t w = trie_word_len(p, end);
                n = trie_child(t, n, p, w);
                p += w + 1;
        }
        return n ? n->repliers[kind] : NULL;
}

static void trie_visit_list(const struct BindingList *l, TrieVisit fn, void *ctx)
{
        Binding *b, *next;

        TAILQ_FOREACH_SAFE(b, l, node_link, next)
                fn(b, ctx);
}

/**
 * trie_match() - call @fn for every listener binding that matches @name.
 * @t:    the trie
 * @name: a valid name without wildcard
 * @len:  its length
 * @fn:   called once per matching binding; it must not change the trie
 * @ctx:  passed to @fn
 */
void trie_match(const Trie *t, const char *name, size_t len, TrieVisit fn, void *ctx)
{
        const char *p = name + 2, *end = name + len;
        const TrieNode *n = t->root;

        while (n) {
                if (p >= end) {
                        trie_visit_list(&n->listeners[NAME_PLAIN], fn, ctx);
                        return;
                }
                size_t w = trie_word_len(p, end);
                trie_visit_list(&n->listeners[NAME_STAR], fn, ctx);
                if (p + w == end)
                        trie_visit_list(&n->listeners[NAME_PERCENT], fn, ctx);
                n = trie_child(t, n, p, w);
                p += w + 1;
        }
}

/**
 * trie_walk() - call @fn for every binding, repliers included (introspection).
 * @t:   the trie
 * @fn:  called once per binding; it must not change the trie
 * @ctx: passed to @fn
 */
void trie_walk(const Trie *t, TrieVisit fn, void *ctx)
{
        if (t->root) {
                for (int k = 0; k < 3; k++) {
                        if (t->root->repliers[k])
                                fn(t->root->repliers[k], ctx);
                        trie_visit_list(&t->root->listeners[k], fn, ctx);
                }
        }
        for (size_t i = 0; i < t->nslots; i++) {
                TrieNode *n = t->slots[i];
                if (!n)
                        continue;
                for (int k = 0; k < 3; k++) {
                        if (n->repliers[k])
                                fn(n->repliers[k], ctx);
                        trie_visit_list(&n->listeners[k], fn, ctx);
                }
        }
}

/**
 * trie_deinit() - free the trie; every binding must have been removed.
 * @t: the trie (safe on TRIE_INIT and twice)
 */
void trie_deinit(Trie *t)
{
        assert(t->nbindings == 0);
        free(t->root);
        free(t->slots);
        *t = TRIE_INIT;
}
