/* SPDX-License-Identifier: MPL-2.0 */
/*
 * policy-load.c - reading the policy file from the system: kbusd trusts it
 * only if no one but root or kbusd's own user could have written it; the
 * core parses it (policy-file.c), with the user and group names it names
 * looked up here.
 */
#include "policy-load.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POLICY_FILE_MAX (1u << 20) /* bytes */

static int policy_user_id(const char *name, uint32_t *ret)
{
        char buf[4096];
        struct passwd pw, *found = NULL;

        if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) != 0 || !found)
                return -ENOENT;
        *ret = (uint32_t)found->pw_uid;
        return 0;
}

static int policy_group_id(const char *name, uint32_t *ret)
{
        char buf[16384];
        struct group gr, *found = NULL;

        if (getgrnam_r(name, &gr, buf, sizeof(buf), &found) != 0 || !found)
                return -ENOENT;
        *ret = (uint32_t)found->gr_gid;
        return 0;
}

/* user:NAME and group:NAME, looked up in the system's databases (NSS). */
const PolicyNames policy_system_names = { .user = policy_user_id, .group = policy_group_id };

/* Reads a policy file that only its owner (root or kbusd's user) may write. */
static int policy_read_file(const char *path, uid_t admin_uid, char **ret, char *err,
                            size_t errlen)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = errno;
                snprintf(err, errlen, "%s: %s", path, strerror(e));
                if (fd >= 0)
                        close(fd);
                return -e;
        }
        const char *why = NULL;
        if (!S_ISREG(st.st_mode))
                why = "not a regular file";
        else if (st.st_uid != 0 && st.st_uid != admin_uid)
                why = "owned by another user (it must belong to root or kbusd's user)";
        else if (st.st_mode & (S_IWGRP | S_IWOTH))
                why = "group or others may write to it (chmod go-w)";
        else if (st.st_size > POLICY_FILE_MAX)
                why = "larger than 1 MiB";
        char *text = why ? NULL : calloc(1, (size_t)st.st_size + 1);
        ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
        close(fd);
        if (!why && n != st.st_size)
                why = text ? "could not be read whole" : "out of memory";
        if (why) {
                snprintf(err, errlen, "%s: %s", path, why);
                free(text);
                return -EPERM;
        }
        *ret = text;
        return 0;
}

/**
 * policy_load() - read a policy file.
 * @path:      the file
 * @admin_uid: kbusd's own uid
 * @ret:       the policy
 * @err:       on failure, why (with the line number for a bad rule)
 * @errlen:    size of @err
 *
 * Return: 0; -EPERM (an unsafe file), -EINVAL (a bad line), or the errno of
 * opening it.
 */
int policy_load(const char *path, uid_t admin_uid, Policy **ret, char *err, size_t errlen)
{
        char *text = NULL;
        int r = policy_read_file(path, admin_uid, &text, err, errlen);

        if (r < 0)
                return r;
        r = policy_parse(path, text, admin_uid, &policy_system_names, ret, err, errlen);
        free(text);
        return r;
}

