/* nasrank — reference convolution (any kernel, stride, padding, dilation, groups): plain
 * loops over the definition in ops/ref.h.  Also the executor's kernel for depthwise and
 * dilated convs, whose work per output is small (k*k taps per group channel).
 */
#include "ops/ref.h"

/* The input pixel a tap reads, or -1 when it falls in the padding. */
static long tap(int i, int p, const nr_window *s, int n)
{
    int v = i * s->stride - s->pad + p * s->dilation;
    return v < 0 || v >= n ? -1 : v;
}

void nr_ref_conv_forward(float *y, const float *x, const float *w, const nr_window *s)
{
    int cig = s->Cin / s->groups, cog = s->Cout / s->groups, k = s->k;
    for (int b = 0; b < s->B; b++)
        for (int co = 0; co < s->Cout; co++) {
            int g = co / cog;
            const float *wc = w + (size_t)co * cig * k * k;
            float *yc = y + ((size_t)b * s->Cout + co) * s->Ho * s->Wo;
            for (int i = 0; i < s->Ho; i++)
                for (int j = 0; j < s->Wo; j++) {
                    double acc = 0.0;
                    for (int c = 0; c < cig; c++) {
                        const float *xc = x + ((size_t)b * s->Cin + g * cig + c) * s->H * s->W;
                        for (int p = 0; p < k; p++) {
                            long r = tap(i, p, s, s->H);
                            if (r < 0) continue;
                            for (int q = 0; q < k; q++) {
                                long col = tap(j, q, s, s->W);
                                if (col >= 0) acc += (double)wc[(c * k + p) * k + q] * xc[r * s->W + col];
                            }
                        }
                    }
                    yc[i * s->Wo + j] = (float)acc;
                }
        }
}

/* dx[tap] += w * dy and dw += dy * x[tap] over the same index set as the forward.  dw is
 * summed per weight in double over the batch and the output pixels. */
void nr_ref_conv_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                          const nr_window *s)
{
    int cig = s->Cin / s->groups, cog = s->Cout / s->groups, k = s->k;
    for (int co = 0; co < s->Cout; co++) {
        int g = co / cog;
        for (int c = 0; c < cig; c++)
            for (int p = 0; p < k; p++)
                for (int q = 0; q < k; q++) {
                    size_t wi = (((size_t)co * cig + c) * k + p) * k + q;
                    double gw = 0.0;
                    for (int b = 0; b < s->B; b++) {
                        const float *dyc = dy + ((size_t)b * s->Cout + co) * s->Ho * s->Wo;
                        size_t xoff = ((size_t)b * s->Cin + g * cig + c) * s->H * s->W;
                        for (int i = 0; i < s->Ho; i++) {
                            long r = tap(i, p, s, s->H);
                            if (r < 0) continue;
                            for (int j = 0; j < s->Wo; j++) {
                                long col = tap(j, q, s, s->W);
                                if (col < 0) continue;
                                float d = dyc[i * s->Wo + j];
                                if (dw) gw += (double)d * x[xoff + r * s->W + col];
                                if (dx) dx[xoff + r * s->W + col] += w[wi] * d;
                            }
                        }
                    }
                    if (dw) dw[wi] += (float)gw;
                }
    }
}
