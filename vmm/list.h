/* SPDX-License-Identifier: GPL-2.0 */
/* A circular doubly linked list with the head embedded in its items. */
#ifndef THAW_VMM_LIST_H
#define THAW_VMM_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
	struct list_node *next, *prev;
};

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void list__init(struct list_node *h)
{
	h->next = h->prev = h;
}

static inline bool list__empty(const struct list_node *h)
{
	return h->next == h;
}

static inline void list__add_tail(struct list_node *n, struct list_node *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void list__del(struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define list_for_each_safe(pos, tmp, head) \
	for (pos = (head)->next, tmp = pos->next; pos != (head); \
	     pos = tmp, tmp = pos->next)

#endif
