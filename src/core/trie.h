/* SPDX-License-Identifier: MPL-2.0 */
/*
 * trie.h - the name bindings of one bus (semantics §3, §6).
 */
#ifndef KBUS_CORE_TRIE_H
#define KBUS_CORE_TRIE_H

#include <bsd/sys/queue.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/name.h"

struct Client;
typedef struct TrieNode TrieNode;

typedef struct Binding {
        struct Client *client;
        uint32_t id;       /* unique per client */
        bool replier;
        NameKind kind;
        TrieNode *node;
        TAILQ_ENTRY(Binding) node_link;
        TAILQ_ENTRY(Binding) client_link; /* owned by the client */
        uint32_t name_len;
        char name[];       /* NUL-terminated */
} Binding;

TAILQ_HEAD(BindingList, Binding);

typedef struct Trie {
        TrieNode *root;    /* the node for "$" */
        TrieNode **slots;  /* child lookup: open addressing on (parent, word) */
        size_t nslots;
        size_t nnodes;
        size_t nbindings;
} Trie;

#define TRIE_INIT ((Trie){ 0 })

enum {
        TRIE_E_REPLIER_EXISTS = 1,
};

typedef void (*TrieVisit)(Binding *b, void *ctx);

int trie_init(Trie *t);
void trie_deinit(Trie *t);
int trie_add(Trie *t, const char *name, size_t len, bool replier, struct Client *client,
             uint32_t id, Binding **ret);
void trie_remove(Trie *t, Binding *b);
Binding *trie_find_replier(const Trie *t, const char *name, size_t len);
Binding *trie_replier_of(const Trie *t, const char *name, size_t len);
void trie_match(const Trie *t, const char *name, size_t len, TrieVisit fn, void *ctx);
void trie_walk(const Trie *t, TrieVisit fn, void *ctx);

#endif
