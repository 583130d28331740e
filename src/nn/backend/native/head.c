// The fused output head + cross-entropy for one chunk of rows (src/nn/head/head-rows.ts's contract):
// logits = h W^T through the system BLAS in vocabulary blocks, each turned into exps in place while in
// cache (one [rows, V] buffer: the logits are never kept beside the probabilities), each row's loss with label smoothing, and with gradients
//   G = diag(s) P;  dW (+)= G^T h  ([V, d], W's own layout);  dh = G W - s_r ((1 - eps) W[y_r] + eps mean(W))
// The one-hot and smoothing parts of dW are the rank-one corrections the caller applies once
// (head-loss.ts), as for the JS path.
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "napi-args.h"

// e^x for x <= 0 over an array, in place: Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, Cephes'
// degree-5 polynomial for e^r (about 1 ulp), 2^n built in the exponent bits. Plain arithmetic and
// integer conversions only, so the compiler vectorizes the loop (libm's expf is a call per element);
// below -87 (e^x < 2^-125, a probability of nothing) the input is clamped.
static void exp_nonpositive(float *x, size_t n) {
  for (size_t j = 0; j < n; j++) {
    float a = x[j] < -87.0f ? -87.0f : x[j];
    const int k = (int)(a * 1.44269504088896341f - 0.5f);  // rounds a / ln2 to nearest (a <= 0)
    const float fk = (float)k;
    float r = a - fk * 0.693359375f;
    r = r + fk * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3333519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    const int32_t bits = (k + 127) << 23;
    float two;
    memcpy(&two, &bits, sizeof two);
    x[j] = y * two;
  }
}

// headChunk(h, w, targets, scale, eps, wMean | null, loss, dh | null, dw | null, accumulate)
//   h [r, d], w [V, d], targets [r], scale [r]; loss [r] (Float64Array) gets s_r loss_r; dh [r, d];
//   dw [V, d] gets G^T h added (accumulate) or written.
napi_value head_chunk(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 10) return fail(env, "flowlm native headChunk: expected 10 arguments");
  float *h, *w, *scale, *wMean, *dh, *dw;
  int32_t *targets;
  double *loss, eps;
  size_t lh, lw, lt, ls, lm, ll, ldh, ldw;
  int64_t acc;
  if (!typed(env, argv[0], napi_float32_array, (void **)&h, &lh) ||
      !typed(env, argv[1], napi_float32_array, (void **)&w, &lw) ||
      !typed(env, argv[2], napi_int32_array, (void **)&targets, &lt) ||
      !typed(env, argv[3], napi_float32_array, (void **)&scale, &ls) ||
      napi_get_value_double(env, argv[4], &eps) != napi_ok ||
      !typed(env, argv[5], napi_float32_array, (void **)&wMean, &lm) ||
      !typed(env, argv[6], napi_float64_array, (void **)&loss, &ll) ||
      !typed(env, argv[7], napi_float32_array, (void **)&dh, &ldh) ||
      !typed(env, argv[8], napi_float32_array, (void **)&dw, &ldw) || !flag_arg(env, argv[9], &acc) || !h || !w ||
      !targets || !scale || !loss)
    return fail(env, "flowlm native headChunk: bad argument types (see native.ts)");
  const size_t r = lt;
  if (r == 0) return NULL;
  if (lh % r != 0) return fail(env, "flowlm native headChunk: h is not [rows, d]");
  const size_t d = lh / r;
  if (d == 0 || lw % d != 0) return fail(env, "flowlm native headChunk: w is not [V, d]");
  const size_t v = lw / d;
  if (ls < r || ll < r || (wMean && lm < d) || (dh && ldh < r * d) || (dw && ldw < v * d))
    return fail(env, "flowlm native headChunk: scale, loss, wMean, dh or dw too short");
  if ((dh == NULL) != (dw == NULL)) return fail(env, "flowlm native headChunk: give both dh and dw or neither");
  if (eps > 0 && !wMean) return fail(env, "flowlm native headChunk: label smoothing needs wMean");
  for (size_t i = 0; i < r; i++)
    if (targets[i] < 0 || (size_t)targets[i] >= v) return fail(env, "flowlm native headChunk: target outside the vocabulary");
  // [rows, V] in blocks of VB columns: each block's logits are made, turned into exps and summed while
  // they are in cache; the products of the backward pass then read them block by block again
  enum { VB = 2048 };
  const size_t nb = (v + VB - 1) / VB;
  float *p = malloc(r * v * sizeof(float));
  double *bm = malloc(r * nb * sizeof(double)), *bs = malloc(r * nb * sizeof(double));
  double *xy = malloc(r * sizeof(double)), *lse = malloc(r * sizeof(double));
  if (!p || !bm || !bs || !xy || !lse) {
    free(p), free(bm), free(bs), free(xy), free(lse);
    return fail(env, "flowlm native headChunk: out of memory for the [rows, V] probabilities");
  }
  for (size_t b = 0; b < nb; b++) {
    const size_t v0 = b * VB, vb = v - v0 < VB ? v - v0 : VB;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)r, (int)vb, (int)d, 1.0f, h, (int)d, w + v0 * d, (int)d,
                0.0f, p + v0, (int)v);
    for (size_t i = 0; i < r; i++) {
      float *x = p + i * v + v0;
      const size_t y = (size_t)targets[i];
      if (y >= v0 && y < v0 + vb) xy[i] = x[y - v0];
      float mx = -INFINITY;
      for (size_t j = 0; j < vb; j++) mx = x[j] > mx ? x[j] : mx;
      for (size_t j = 0; j < vb; j++) x[j] -= mx;
      exp_nonpositive(x, vb);
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t j = 0;
      for (; j + 3 < vb; j += 4) {
        s0 += x[j];
        s1 += x[j + 1];
        s2 += x[j + 2];
        s3 += x[j + 3];
      }
      for (; j < vb; j++) s0 += x[j];
      bm[i * nb + b] = mx;
      bs[i * nb + b] = s0 + s1 + s2 + s3;
    }
  }
  for (size_t i = 0; i < r; i++) {
    double mx = -INFINITY, sum = 0;
    for (size_t b = 0; b < nb; b++) mx = bm[i * nb + b] > mx ? bm[i * nb + b] : mx;
    for (size_t b = 0; b < nb; b++) sum += bs[i * nb + b] * exp(bm[i * nb + b] - mx);
    lse[i] = mx + log(sum);
    double xm = 0;  // mean over the vocabulary of the logits = h_i . mean(W)
    if (eps > 0)
      for (size_t c = 0; c < d; c++) xm += (double)h[i * d + c] * wMean[c];
    loss[i] = scale[i] * ((1 - eps) * (lse[i] - xy[i]) + (eps > 0 ? eps * (lse[i] - xm) : 0));
  }
  if (dh) {
    // G = diag(s) softmax, block by block: the block's exps times s_r e^(m_rb - lse_r)
    for (size_t b = 0; b < nb; b++) {
      const size_t v0 = b * VB, vb = v - v0 < VB ? v - v0 : VB;
      for (size_t i = 0; i < r; i++) {
        const float f = (float)(scale[i] * exp(bm[i * nb + b] - lse[i]));
        float *x = p + i * v + v0;
        for (size_t j = 0; j < vb; j++) x[j] *= f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)r, (int)d, (int)vb, 1.0f, p + v0, (int)v, w + v0 * d,
                  (int)d, b ? 1.0f : 0.0f, dh, (int)d);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)vb, (int)d, (int)r, 1.0f, p + v0, (int)v, h, (int)d,
                  acc ? 1.0f : 0.0f, dw + v0 * d, (int)d);
    }
    for (size_t i = 0; i < r; i++) {
      const float *wy = w + (size_t)targets[i] * d;
      const double s = scale[i];
      for (size_t c = 0; c < d; c++)
        dh[i * d + c] = (float)(dh[i * d + c] - s * ((1 - eps) * wy[c] + (eps > 0 ? eps * wMean[c] : 0)));
    }
  }
  free(bm), free(bs), free(xy), free(lse);
  free(p);
  return NULL;
}
