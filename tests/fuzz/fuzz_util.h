/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Readers that take a path (the table loader, the CIFAR reader) get the fuzz input through a
 * memfd: an anonymous in-memory file, opened again by path as /proc/self/fd/N, so no disk I/O
 * and nothing left behind.  A target aborts (a "crash" for libFuzzer) when an invariant that
 * must hold for every input fails: FUZZ_CHECK(cond).
 */
#ifndef NASRANK_FUZZ_UTIL_H
#define NASRANK_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_CHECK(cond)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* A memfd holding data[0..size); its path goes into path (>= 32 bytes).  Returns the fd
 * (close it when done) or -1. */
static inline int fuzz_memfile(const void *data, size_t size, char *path, size_t pathsize)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0) return -1;
    const char *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t k = write(fd, p, left);
        if (k <= 0) {
            close(fd);
            return -1;
        }
        p += k;
        left -= (size_t)k;
    }
    snprintf(path, pathsize, "/proc/self/fd/%d", fd);
    return fd;
}

/* An nr_error must be well-formed whatever the input: a failure code, a message. */
#define FUZZ_CHECK_ERROR(st, e)                                                         \
    do {                                                                                \
        FUZZ_CHECK((st) < 0 && (e).code == (st));                                       \
        FUZZ_CHECK((e).text[0] != '\0' && memchr((e).text, '\0', sizeof (e).text));     \
        FUZZ_CHECK((e).line >= 0 && (e).column >= 0);                                   \
    } while (0)

#endif
