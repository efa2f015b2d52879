/* nasrank — UTF-8 checks (see utf8.h). */
#include "core/utf8.h"

#include <string.h>

int nr_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n <= 1) return n;
    unsigned cp = c & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

void nr_utf8_clean(const char *s, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t k = 0;
    while (*p) {
        int n = nr_utf8_len(p);
        if (n == 0 || *p < 0x20 || *p == 0x7F) {
            if (k + 1 >= size) break;
            out[k++] = '?';
            p++;
            continue;
        }
        if (k + (size_t)n >= size) break;
        memcpy(out + k, p, (size_t)n);
        k += (size_t)n;
        p += n;
    }
    out[k] = '\0';
}
