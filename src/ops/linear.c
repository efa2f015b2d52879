/* nasrank — fully connected layer: out(B, Out) = in(B, In) * w(Out, In)^T + b(Out).
 * The bias is written into out first and the GEMM accumulates onto it (beta = 1). */
#include <string.h>

#include "ops/ops.h"

void nr_linear_forward(float *out, const float *in, const float *w, const float *b, int B,
                       int In, int Out)
{
    if (B <= 0 || Out <= 0) return;
    if (b)
        for (int i = 0; i < B; i++) memcpy(out + (size_t)i * Out, b, (size_t)Out * sizeof(float));
    nr_sgemm(0, 1, B, Out, In, 1.0f, in, In > 0 ? In : 1, w, In > 0 ? In : 1, b ? 1.0f : 0.0f,
             out, Out);
}
