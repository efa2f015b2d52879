/* nasrank — UTF-8 checks for text that leaves the program (JSON strings, plot labels), where
 * hand-edited input files bring Latin-1 and binary junk. */
#ifndef NASRANK_CORE_UTF8_H
#define NASRANK_CORE_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one
 * (stray continuation, overlong form, surrogate, beyond U+10FFFF, truncated). */
int nr_utf8_len(const unsigned char *s);

/* s copied into out (size >= 1 bytes with the NUL) as valid UTF-8 without control
 * characters: an invalid byte or a control character becomes '?', and a full out ends at a
 * character boundary, never inside one. */
void nr_utf8_clean(const char *s, char *out, size_t size);

#endif
