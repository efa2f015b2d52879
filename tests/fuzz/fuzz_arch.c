/* libFuzzer target: the NAS-Bench-201 arch-string parser (src/encoding/arch.c).
 * Any bytes: parse (with the length, so embedded NULs are seen); on success the arch must
 * format back to a string that parses to the same arch and is the canonical spelling, and its
 * derived quantities must be sane; on failure the error must be located inside the string. */
#include <math.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "nasrank/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nr_arch a;
    nr_error e;
    nr_error_clear(&e);
    nr_status st = nr_arch_parse_n((const char *)data, size, "fuzz", 3, 5, &a, &e);
    if (st != NR_OK) {
        FUZZ_CHECK_ERROR(st, e);
        FUZZ_CHECK(st == NR_ERR_PARSE);
        FUZZ_CHECK(e.line == 3 && e.column >= 5 && e.column < 5 + NR_ARCH_STR_MAX);
        FUZZ_CHECK(e.column <= 5 + (long)size || size >= NR_ARCH_STR_MAX);
        return 0;
    }
    char buf[NR_ARCH_STR_MAX];
    size_t n = nr_arch_format(&a, buf, sizeof buf);
    FUZZ_CHECK(n == size && memcmp(buf, data, size) == 0); /* only the canonical form parses */
    nr_arch b;
    FUZZ_CHECK(nr_arch_parse(buf, &b, NULL) == NR_OK && nr_arch_equal(&a, &b));
    int id = nr_arch_to_id(&a);
    FUZZ_CHECK(id >= 0 && id < NR_NUM_ARCHS);
    nr_arch c = nr_arch_from_id(id);
    FUZZ_CHECK(nr_arch_equal(&a, &c));
    char key[NR_ARCH_KEY_MAX];
    FUZZ_CHECK(nr_arch_canonical_key(&a, key, sizeof key) < NR_ARCH_KEY_MAX);
    FUZZ_CHECK(nr_arch_params(&a, NULL) > 0);
    double fl = nr_arch_flops(&a, NULL);
    FUZZ_CHECK(isfinite(fl) && fl > 0);
    return 0;
}
