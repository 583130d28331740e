// Scaled dot-product attention over packed q|k|v rows ([batch*t, 3d] -> [batch*t, d], heads side by
// side as in GPT-2), forward and backward: the same algorithm, order of operations and float64
// accumulators as the JS kernel in src/nn/model/attention-core.ts (each query walks only its allowed
// key span [lo, hi], the softmax is kept for the backward pass, dropout factors multiply the
// probabilities), compiled. Results match the JS kernel up to exp()'s last bit.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "napi-args.h"

typedef struct {
  int64_t batch, t, heads, d, hd;
  const int32_t *lo, *hi;
  const float *keep;  // dropout factors, [batch, heads, t, t], or NULL
} Shape;

// Copies head h of sequence b (columns col..col+hd of rows of rowLen) into dst [t, hd], times scale.
static void gather(const float *src, int64_t rowLen, int64_t col, int64_t b, const Shape *s, float *dst, float scale) {
  for (int64_t i = 0; i < s->t; i++) {
    const float *o = src + (b * s->t + i) * rowLen + col;
    for (int64_t c = 0; c < s->hd; c++) dst[i * s->hd + c] = o[c] * scale;
  }
}

static double dot(const float *a, const float *b, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t c = 0;
  for (; c + 3 < n; c += 4) {
    s0 += (double)a[c] * b[c];
    s1 += (double)a[c + 1] * b[c + 1];
    s2 += (double)a[c + 2] * b[c + 2];
    s3 += (double)a[c + 3] * b[c + 3];
  }
  for (; c < n; c++) s0 += (double)a[c] * b[c];
  return s0 + s1 + s2 + s3;
}

static void forward(const float *qkv, const Shape *s, float *out, float *probs, float *buf, double *dbuf) {
  const int64_t t = s->t, hd = s->hd, d = s->d, row = 3 * d;
  const float scale = (float)(1.0 / sqrt((double)hd));
  float *q = buf, *k = buf + t * hd, *v = buf + 2 * t * hd;
  double *sc = dbuf, *acc = dbuf + t;
  for (int64_t b = 0; b < s->batch; b++)
    for (int64_t h = 0; h < s->heads; h++) {
      gather(qkv, row, h * hd, b, s, q, scale);
      gather(qkv, row, d + h * hd, b, s, k, 1.0f);
      gather(qkv, row, 2 * d + h * hd, b, s, v, 1.0f);
      const int64_t pBase = (b * s->heads + h) * t * t;
      for (int64_t i = 0; i < t; i++) {
        const int64_t j0 = s->lo[b * t + i], j1 = s->hi[b * t + i];
        double mx = -INFINITY;
        for (int64_t j = j0; j <= j1; j++) {
          const double x = dot(q + i * hd, k + j * hd, hd);
          sc[j] = x;
          if (x > mx) mx = x;
        }
        double sum = 0;
        for (int64_t j = j0; j <= j1; j++) {
          const double e = exp(sc[j] - mx);
          sc[j] = e;
          sum += e;
        }
        const double inv = 1 / sum;
        const int64_t po = pBase + i * t;
        memset(acc, 0, (size_t)hd * sizeof(double));
        for (int64_t j = j0; j <= j1; j++) {
          const float p0 = (float)(sc[j] * inv);
          probs[po + j] = p0;
          const double p = s->keep ? (double)p0 * s->keep[po + j] : p0;
          const float *vj = v + j * hd;
          for (int64_t c = 0; c < hd; c++) acc[c] += p * vj[c];
        }
        float *o = out + (b * t + i) * d + h * hd;
        for (int64_t c = 0; c < hd; c++) o[c] = (float)acc[c];
      }
    }
}

static void backward(const float *dO, const float *qkv, const float *probs, const Shape *s, float *dqkv, float *buf,
                     double *dbuf) {
  const int64_t t = s->t, hd = s->hd, d = s->d, row = 3 * d;
  const double scale = 1 / sqrt((double)hd);
  float *q = buf, *k = buf + t * hd, *v = buf + 2 * t * hd, *g = buf + 3 * t * hd;
  double *dq = dbuf, *dk = dbuf + t * hd, *dv = dbuf + 2 * t * hd, *dp = dbuf + 3 * t * hd;
  for (int64_t b = 0; b < s->batch; b++)
    for (int64_t h = 0; h < s->heads; h++) {
      gather(qkv, row, h * hd, b, s, q, 1.0f);
      gather(qkv, row, d + h * hd, b, s, k, 1.0f);
      gather(qkv, row, 2 * d + h * hd, b, s, v, 1.0f);
      gather(dO, d, h * hd, b, s, g, 1.0f);
      memset(dq, 0, (size_t)(3 * t * hd) * sizeof(double));
      const int64_t pBase = (b * s->heads + h) * t * t;
      for (int64_t i = 0; i < t; i++) {
        const int64_t j0 = s->lo[b * t + i], j1 = s->hi[b * t + i];
        const float *gi = g + i * hd;
        const int64_t po = pBase + i * t;
        double pdp = 0;
        for (int64_t j = j0; j <= j1; j++) {
          const double p0 = probs[po + j];
          const double m = s->keep ? s->keep[po + j] : 1;
          const double p = p0 * m;
          const float *vj = v + j * hd;
          double *dvj = dv + j * hd;
          // dP_ij = dO_i . V_j and dV_j += P_ij dO_i (P after dropout)
          const double x = dot(gi, vj, hd) * m;
          for (int64_t c = 0; c < hd; c++) dvj[c] += p * gi[c];
          dp[j] = x;
          pdp += x * p0;
        }
        double *dqi = dq + i * hd;
        const float *qi = q + i * hd;
        for (int64_t j = j0; j <= j1; j++) {
          const double ds = probs[po + j] * (dp[j] - pdp) * scale;  // softmax backward, then 1/sqrt(hd)
          const float *kj = k + j * hd;
          double *dkj = dk + j * hd;
          for (int64_t c = 0; c < hd; c++) {
            dqi[c] += ds * kj[c];
            dkj[c] += ds * qi[c];
          }
        }
      }
      for (int64_t i = 0; i < t; i++) {
        float *o = dqkv + (b * t + i) * row + h * hd;
        for (int64_t c = 0; c < hd; c++) {
          o[c] = (float)dq[i * hd + c];
          o[d + c] = (float)dk[i * hd + c];
          o[2 * d + c] = (float)dv[i * hd + c];
        }
      }
    }
}

// Reads (batch, t, heads, lo, hi, keep) from argv[first..first+5] and checks the spans and sizes.
static const char *shape_of(napi_env env, napi_value *argv, Shape *s, size_t qkvLen, size_t keepLen) {
  size_t llo, lhi;
  int32_t *lo, *hi;
  if (!int_arg(env, argv[0], &s->batch) || !int_arg(env, argv[1], &s->t) || !int_arg(env, argv[2], &s->heads))
    return "batch, t and heads must be numbers";
  if (!typed(env, argv[3], napi_int32_array, (void **)&lo, &llo) ||
      !typed(env, argv[4], napi_int32_array, (void **)&hi, &lhi) || !lo || !hi)
    return "lo and hi must be Int32Arrays";
  if (s->batch < 1 || s->t < 1 || s->heads < 1 || s->t > (1 << 20)) return "batch, t, heads must be >= 1";
  const int64_t n = s->batch * s->t;
  if ((int64_t)llo < n || (int64_t)lhi < n) return "lo/hi shorter than batch * t";
  if (qkvLen % (size_t)(3 * n) != 0) return "qkv is not [batch * t, 3d]";
  s->d = (int64_t)qkvLen / (3 * n);
  if (s->d % s->heads != 0) return "d is not a multiple of heads";
  s->hd = s->d / s->heads;
  for (int64_t i = 0; i < n; i++)
    if (lo[i] < 0 || hi[i] >= s->t || lo[i] > hi[i]) return "a span [lo, hi] lies outside the sequence";
  if (s->keep && keepLen < (size_t)(s->batch * s->heads * s->t * s->t)) return "keep shorter than batch*heads*t*t";
  s->lo = lo;
  s->hi = hi;
  return NULL;
}

// attentionForward(qkv, batch, t, heads, lo, hi, keep | null, out, probs)
napi_value attention_forward(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 9) return fail(env, "flowlm native attentionForward: expected 9 arguments");
  float *qkv, *keep, *out, *probs;
  size_t lq, lk, lo, lp;
  if (!typed(env, argv[0], napi_float32_array, (void **)&qkv, &lq) ||
      !typed(env, argv[6], napi_float32_array, (void **)&keep, &lk) ||
      !typed(env, argv[7], napi_float32_array, (void **)&out, &lo) ||
      !typed(env, argv[8], napi_float32_array, (void **)&probs, &lp) || !qkv || !out || !probs)
    return fail(env, "flowlm native attentionForward: qkv, out, probs must be Float32Arrays, keep one or null");
  Shape s = {.keep = keep};
  const char *bad = shape_of(env, argv + 1, &s, lq, lk);
  if (bad) return fail(env, bad);
  if (lo < (size_t)(s.batch * s.t * s.d) || lp < (size_t)(s.batch * s.heads * s.t * s.t))
    return fail(env, "flowlm native attentionForward: out or probs too short");
  float *buf = malloc((size_t)(3 * s.t * s.hd) * sizeof(float));
  double *dbuf = malloc((size_t)(s.t + s.hd) * sizeof(double));
  if (!buf || !dbuf) {
    free(buf);
    free(dbuf);
    return fail(env, "flowlm native attentionForward: out of memory");
  }
  forward(qkv, &s, out, probs, buf, dbuf);
  free(buf);
  free(dbuf);
  return NULL;
}

// attentionBackward(dO, qkv, probs, batch, t, heads, lo, hi, keep | null, dqkv)
napi_value attention_backward(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 10) return fail(env, "flowlm native attentionBackward: expected 10 arguments");
  float *dO, *qkv, *probs, *keep, *dqkv;
  size_t ldo, lq, lp, lk, ld;
  if (!typed(env, argv[0], napi_float32_array, (void **)&dO, &ldo) ||
      !typed(env, argv[1], napi_float32_array, (void **)&qkv, &lq) ||
      !typed(env, argv[2], napi_float32_array, (void **)&probs, &lp) ||
      !typed(env, argv[8], napi_float32_array, (void **)&keep, &lk) ||
      !typed(env, argv[9], napi_float32_array, (void **)&dqkv, &ld) || !dO || !qkv || !probs || !dqkv)
    return fail(env, "flowlm native attentionBackward: dO, qkv, probs, dqkv must be Float32Arrays, keep one or null");
  Shape s = {.keep = keep};
  const char *bad = shape_of(env, argv + 3, &s, lq, lk);
  if (bad) return fail(env, bad);
  if (ldo < (size_t)(s.batch * s.t * s.d) || ld < lq || lp < (size_t)(s.batch * s.heads * s.t * s.t))
    return fail(env, "flowlm native attentionBackward: dO, dqkv or probs too short");
  float *buf = malloc((size_t)(4 * s.t * s.hd) * sizeof(float));
  double *dbuf = malloc((size_t)(3 * s.t * s.hd + s.t) * sizeof(double));
  if (!buf || !dbuf) {
    free(buf);
    free(dbuf);
    return fail(env, "flowlm native attentionBackward: out of memory");
  }
  backward(dO, qkv, probs, &s, dqkv, buf, dbuf);
  free(buf);
  free(dbuf);
  return NULL;
}
