/* SPDX-License-Identifier: MPL-2.0 */
/*
 * watch.h - telling a ksock that the bus's listener bindings changed
 * (CTL_WATCH_LISTENERS, docs/protocol.md): what a Limpet needs to keep the
 * far side told what this bus listens to, without polling.
 */
#ifndef KBUS_CORE_WATCH_H
#define KBUS_CORE_WATCH_H

#include <stdbool.h>

struct Client;

int watch_switch(struct Client *c, bool on);
void watch_listeners_changed(struct Client *changer);
void watch_queried(struct Client *c);

#endif
