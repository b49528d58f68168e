/* SPDX-License-Identifier: MPL-2.0 */
/*
 * replay.c - run a libFuzzer target once on each input of its corpus, as a
 * plain program built by any compiler.
 *
 * Linked with a fuzz-*.c target instead of libFuzzer, it gives the target a
 * main(): the empty input first, then every file under each path on the
 * command line (a directory is read recursively, in name order; a file is one
 * input).  Each input is copied into a heap block of exactly its size, as
 * libFuzzer does, so a sanitized build sees any read past its end.  This is
 * how the committed seeds and crashers stay regression tests under meson.
 *
 * Invariants: a path that cannot be read, or a path that yields no input
 * (an empty or missing corpus), fails the run; it never passes by running
 * nothing.  A failed check in the target traps and kills the process, which
 * the caller sees as a failed test.  Each input's name goes to stderr before
 * it runs, so the last one printed is the one that crashed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* optional in a target, as with libFuzzer */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static const char *prog = "replay";

/*
 * A block of exactly @size bytes, so that ASan reports a read one past the
 * end; malloc(0) gives a valid pointer to nothing (glibc and ASan).
 */
static uint8_t *alloc_exact(const char *path, size_t size)
{
        uint8_t *buf = malloc(size);

        if (!buf)
                fprintf(stderr, "%s: %s: out of memory\n", prog, path);
        return buf;
}

static void run_input(const char *path, const uint8_t *data, size_t size)
{
        fprintf(stderr, "%s: %s (%zu bytes)\n", prog, path, size);
        LLVMFuzzerTestOneInput(data, size);
}

static int read_all(int fd, uint8_t *buf, size_t size)
{
        size_t done = 0;

        while (done < size) {
                ssize_t n = read(fd, buf + done, size - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* the file shrank under us */
                done += (size_t)n;
        }
        return 0;
}

/* Runs one file; returns 0, or -errno having said what failed. */
static int run_file(const char *path, int fd, const struct stat *st)
{
        size_t size = (size_t)st->st_size;
        uint8_t *buf = alloc_exact(path, size);
        int r;

        if (!buf)
                return -ENOMEM;
        r = read_all(fd, buf, size);
        if (r < 0)
                fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-r));
        else
                run_input(path, buf, size);
        free(buf);
        return r;
}

static int run_path(const char *path, unsigned long *count);

static int run_dir(const char *path, unsigned long *count)
{
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        int r = 0;

        if (n < 0) {
                r = -errno;
                fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-r));
                return r;
        }
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                char *sub;

                if (r == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
                        if (asprintf(&sub, "%s/%s", path, name) < 0) {
                                fprintf(stderr, "%s: out of memory\n", prog);
                                r = -ENOMEM;
                        } else {
                                r = run_path(sub, count);
                                free(sub);
                        }
                }
                free(names[i]);
        }
        free(names);
        return r;
}

/*
 * Runs the file at @path, or every file under it; adds the inputs run to
 * *@count.  Returns 0, or -errno at the first failure, having said what.
 */
static int run_path(const char *path, unsigned long *count)
{
        struct stat st;
        /* O_NONBLOCK: a FIFO in a corpus is refused below, not waited on */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        int r;

        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-r));
        } else if (S_ISDIR(st.st_mode)) {
                r = run_dir(path, count);
        } else if (S_ISREG(st.st_mode)) {
                r = run_file(path, fd, &st);
                if (r == 0)
                        (*count)++;
        } else {
                fprintf(stderr, "%s: %s: not a regular file or directory\n", prog, path);
                r = -EINVAL;
        }
        if (fd >= 0)
                close(fd);
        return r;
}

int main(int argc, char **argv)
{
        unsigned long total = 1;
        uint8_t *empty;

        prog = argc > 0 ? argv[0] : prog;
        if (strrchr(prog, '/'))
                prog = strrchr(prog, '/') + 1;
        if (argc < 2) {
                fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", prog);
                return 2;
        }
        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);

        setvbuf(stdout, NULL, _IOLBF, 0); /* keep the order of stdout and stderr */
        empty = alloc_exact("(empty input)", 0);
        if (!empty)
                return 1;
        run_input("(empty input)", empty, 0);
        free(empty);
        for (int i = 1; i < argc; i++) {
                unsigned long count = 0;

                if (run_path(argv[i], &count) < 0)
                        return 1;
                if (count == 0) {
                        fprintf(stderr, "%s: %s: no inputs\n", prog, argv[i]);
                        return 1;
                }
                printf("%s: %lu input%s from %s\n", prog, count, count == 1 ? "" : "s", argv[i]);
                total += count;
        }
        printf("%s: ran %lu inputs (the empty input and %lu file%s), no failure\n", prog, total,
               total - 1, total == 2 ? "" : "s");
        return 0;
}
