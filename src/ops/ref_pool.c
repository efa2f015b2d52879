/* nasrank — reference pools (average with either divisor, max) and their adjoints. */
#include <math.h>

#include "ops/ref.h"

/* The in-bounds window of output (i, j): rows [r0, r1), columns [c0, c1). */
static void window(const nr_window *s, int i, int j, int *r0, int *r1, int *c0, int *c1)
{
    int top = i * s->stride - s->pad, left = j * s->stride - s->pad;
    *r0 = top < 0 ? 0 : top;
    *r1 = top + s->k > s->H ? s->H : top + s->k;
    *c0 = left < 0 ? 0 : left;
    *c1 = left + s->k > s->W ? s->W : left + s->k;
}

static double divisor(const nr_window *s, int r0, int r1, int c0, int c1, int count_include_pad)
{
    return count_include_pad ? (double)s->k * s->k : (double)(r1 - r0) * (c1 - c0);
}

void nr_ref_avgpool_forward(float *y, const float *x, const nr_window *s, int count_include_pad)
{
    for (long bc = 0; bc < (long)s->B * s->Cin; bc++) {
        const float *xp = x + bc * s->H * s->W;
        float *yp = y + bc * s->Ho * s->Wo;
        for (int i = 0; i < s->Ho; i++)
            for (int j = 0; j < s->Wo; j++) {
                int r0, r1, c0, c1;
                window(s, i, j, &r0, &r1, &c0, &c1);
                double acc = 0.0;
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) acc += xp[r * s->W + c];
                yp[i * s->Wo + j] = (float)(acc / divisor(s, r0, r1, c0, c1, count_include_pad));
            }
    }
}

void nr_ref_avgpool_backward(float *dx, const float *dy, const nr_window *s, int count_include_pad)
{
    for (long bc = 0; bc < (long)s->B * s->Cin; bc++) {
        float *dxp = dx + bc * s->H * s->W;
        const float *dyp = dy + bc * s->Ho * s->Wo;
        for (int i = 0; i < s->Ho; i++)
            for (int j = 0; j < s->Wo; j++) {
                int r0, r1, c0, c1;
                window(s, i, j, &r0, &r1, &c0, &c1);
                float g = (float)(dyp[i * s->Wo + j] / divisor(s, r0, r1, c0, c1, count_include_pad));
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) dxp[r * s->W + c] += g;
            }
    }
}

/* Flat index (in the plane) of the first maximal in-bounds tap of output (i, j). */
static int argmax(const float *xp, const nr_window *s, int i, int j)
{
    int r0, r1, c0, c1;
    window(s, i, j, &r0, &r1, &c0, &c1);
    int best = r0 * s->W + c0;
    float m = -INFINITY;
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) {
            float v = xp[r * s->W + c];
            if (v > m || isnan(v)) { /* PyTorch's CPU rule: a NaN always takes over */
                m = v;
                best = r * s->W + c;
            }
        }
    return best;
}

void nr_ref_maxpool_forward(float *y, const float *x, const nr_window *s)
{
    for (long bc = 0; bc < (long)s->B * s->Cin; bc++) {
        const float *xp = x + bc * s->H * s->W;
        float *yp = y + bc * s->Ho * s->Wo;
        for (int i = 0; i < s->Ho; i++)
            for (int j = 0; j < s->Wo; j++) yp[i * s->Wo + j] = xp[argmax(xp, s, i, j)];
    }
}

void nr_ref_maxpool_backward(float *dx, const float *dy, const float *x, const nr_window *s)
{
    for (long bc = 0; bc < (long)s->B * s->Cin; bc++) {
        const float *xp = x + bc * s->H * s->W;
        float *dxp = dx + bc * s->H * s->W;
        const float *dyp = dy + bc * s->Ho * s->Wo;
        for (int i = 0; i < s->Ho; i++)
            for (int j = 0; j < s->Wo; j++) dxp[argmax(xp, s, i, j)] += dyp[i * s->Wo + j];
    }
}
