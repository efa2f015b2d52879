/* nasrank — reference data-movement kernels: clipped ReLU, channel blocks, spatial crops. */
#include <string.h>

#include "ops/ref.h"

void nr_ref_relu_forward(float *y, const float *x, size_t n, float clip)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] < 0.0f ? 0.0f : x[i]; /* NaN passes, as in PyTorch */
        y[i] = clip > 0.0f && v > clip ? clip : v;
    }
}

void nr_ref_relu_backward(float *dx, const float *dy, const float *x, size_t n, float clip)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] > 0.0f && !(clip > 0.0f && x[i] >= clip)) dx[i] += dy[i];
}

void nr_ref_channels_put(float *y, const float *x, int B, int Cy, int c0, int Cx, int HW, int add)
{
    size_t block = (size_t)Cx * HW;
    for (int b = 0; b < B; b++) {
        float *dst = y + ((size_t)b * Cy + c0) * HW;
        const float *src = x + b * block;
        if (!add) memcpy(dst, src, block * sizeof *dst);
        else
            for (size_t i = 0; i < block; i++) dst[i] += src[i];
    }
}

void nr_ref_channels_take(float *x, const float *y, int B, int Cy, int c0, int Cx, int HW, int add)
{
    size_t block = (size_t)Cx * HW;
    for (int b = 0; b < B; b++) {
        const float *src = y + ((size_t)b * Cy + c0) * HW;
        float *dst = x + b * block;
        if (!add) memcpy(dst, src, block * sizeof *dst);
        else
            for (size_t i = 0; i < block; i++) dst[i] += src[i];
    }
}

void nr_ref_crop_forward(float *y, const float *x, int B, int C, int H, int W, int top, int left,
                         int Ho, int Wo)
{
    for (long bc = 0; bc < (long)B * C; bc++)
        for (int i = 0; i < Ho; i++)
            memcpy(y + (bc * Ho + i) * Wo, x + (bc * H + top + i) * W + left, (size_t)Wo * sizeof *y);
}

void nr_ref_crop_backward(float *dx, const float *dy, int B, int C, int H, int W, int top,
                          int left, int Ho, int Wo)
{
    for (long bc = 0; bc < (long)B * C; bc++)
        for (int i = 0; i < Ho; i++) {
            float *d = dx + (bc * H + top + i) * W + left;
            const float *g = dy + (bc * Ho + i) * Wo;
            for (int j = 0; j < Wo; j++) d[j] += g[j];
        }
}
