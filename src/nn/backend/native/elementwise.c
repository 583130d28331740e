// GELU (GPT-2's tanh form, as x sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3)) and layer norm over the
// last axis, forward and backward: the JS kernels of src/nn/model/gelu.ts and layer-norm.ts compiled,
// with the same float64 arithmetic where they use it; GELU's exp is libm's (the JS kernel's is V8's),
// so results agree to the last bit or two.
#include <math.h>
#include "napi-args.h"

#define GELU_K 0.7978845608028654 /* sqrt(2 / pi) */
#define GELU_C 0.044715

// geluForward(x, y, s): y = x sigmoid(2u), s = sigmoid(2u) kept for the backward pass
napi_value gelu_forward(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *y, *s;
  size_t lx, ly, ls;
  if (argc != 3 || !typed(env, argv[0], napi_float32_array, (void **)&x, &lx) ||
      !typed(env, argv[1], napi_float32_array, (void **)&y, &ly) ||
      !typed(env, argv[2], napi_float32_array, (void **)&s, &ls) || !x || !y || !s)
    return fail(env, "flowlm native geluForward: expected (x, y, s) Float32Arrays");
  if (ly < lx || ls < lx) return fail(env, "flowlm native geluForward: y or s shorter than x");
  for (size_t i = 0; i < lx; i++) {
    const double v = x[i];
    const double sg = 1 / (1 + exp(-2 * GELU_K * (v + GELU_C * v * v * v)));
    s[i] = (float)sg;
    y[i] = (float)(v * sg);
  }
  return NULL;
}

// geluBackward(x, s, dy, dx): dx = dy (s + x s (1 - s) 2 K (1 + 3 C x^2))
napi_value gelu_backward(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *s, *dy, *dx;
  size_t lx, ls, ldy, ldx;
  if (argc != 4 || !typed(env, argv[0], napi_float32_array, (void **)&x, &lx) ||
      !typed(env, argv[1], napi_float32_array, (void **)&s, &ls) ||
      !typed(env, argv[2], napi_float32_array, (void **)&dy, &ldy) ||
      !typed(env, argv[3], napi_float32_array, (void **)&dx, &ldx) || !x || !s || !dy || !dx)
    return fail(env, "flowlm native geluBackward: expected (x, s, dy, dx) Float32Arrays");
  if (ls < lx || ldy < lx || ldx < lx) return fail(env, "flowlm native geluBackward: s, dy or dx shorter than x");
  for (size_t i = 0; i < lx; i++) {
    const double v = x[i], sg = s[i];
    dx[i] = (float)(dy[i] * (sg + v * sg * (1 - sg) * 2 * GELU_K * (1 + 3 * GELU_C * v * v)));
  }
  return NULL;
}

// layerNormForward(x, gamma, beta, eps, y, xhat, rstd): rows of d = gamma.length
napi_value layer_norm_forward(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *x, *g, *b, *y, *xhat;
  double *rstd, eps;
  size_t lx, lg, lb, ly, lh, lr;
  if (argc != 7 || !typed(env, argv[0], napi_float32_array, (void **)&x, &lx) ||
      !typed(env, argv[1], napi_float32_array, (void **)&g, &lg) ||
      !typed(env, argv[2], napi_float32_array, (void **)&b, &lb) || napi_get_value_double(env, argv[3], &eps) != napi_ok ||
      !typed(env, argv[4], napi_float32_array, (void **)&y, &ly) ||
      !typed(env, argv[5], napi_float32_array, (void **)&xhat, &lh) ||
      !typed(env, argv[6], napi_float64_array, (void **)&rstd, &lr) || !x || !g || !b || !y || !xhat || !rstd)
    return fail(env, "flowlm native layerNormForward: expected (x, gamma, beta, eps, y, xhat, rstd)");
  const size_t d = lg;
  if (d == 0 || lb < d || lx % d != 0) return fail(env, "flowlm native layerNormForward: x is not [n, gamma.length]");
  const size_t n = lx / d;
  if (ly < lx || lh < lx || lr < n) return fail(env, "flowlm native layerNormForward: y, xhat or rstd too short");
  for (size_t r = 0; r < n; r++) {
    const float *xr = x + r * d;
    double mean = 0, v = 0;
    for (size_t j = 0; j < d; j++) mean += xr[j];
    mean /= (double)d;
    for (size_t j = 0; j < d; j++) {
      const double c = xr[j] - mean;
      v += c * c;
    }
    const double rs = 1 / sqrt(v / (double)d + eps);
    rstd[r] = rs;
    for (size_t j = 0; j < d; j++) {
      const double h = (xr[j] - mean) * rs;
      xhat[r * d + j] = (float)h;
      y[r * d + j] = (float)(h * g[j] + b[j]);
    }
  }
  return NULL;
}

// layerNormBackward(dy, gamma, xhat, rstd, dx, dgamma, dbeta): dgamma, dbeta Float64Arrays, added to
napi_value layer_norm_backward(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *dy, *g, *xhat, *dx;
  double *rstd, *dg, *db;
  size_t ldy, lg, lh, lr, ldx, ldg, ldb;
  if (argc != 7 || !typed(env, argv[0], napi_float32_array, (void **)&dy, &ldy) ||
      !typed(env, argv[1], napi_float32_array, (void **)&g, &lg) ||
      !typed(env, argv[2], napi_float32_array, (void **)&xhat, &lh) ||
      !typed(env, argv[3], napi_float64_array, (void **)&rstd, &lr) ||
      !typed(env, argv[4], napi_float32_array, (void **)&dx, &ldx) ||
      !typed(env, argv[5], napi_float64_array, (void **)&dg, &ldg) ||
      !typed(env, argv[6], napi_float64_array, (void **)&db, &ldb) || !dy || !g || !xhat || !rstd || !dx || !dg || !db)
    return fail(env, "flowlm native layerNormBackward: expected (dy, gamma, xhat, rstd, dx, dgamma, dbeta)");
  const size_t d = lg;
  if (d == 0 || ldy % d != 0) return fail(env, "flowlm native layerNormBackward: dy is not [n, gamma.length]");
  const size_t n = ldy / d;
  if (lh < ldy || ldx < ldy || lr < n || ldg < d || ldb < d)
    return fail(env, "flowlm native layerNormBackward: xhat, dx, rstd, dgamma or dbeta too short");
  for (size_t r = 0; r < n; r++) {
    const float *dyr = dy + r * d, *hr = xhat + r * d;
    double a = 0, c = 0;
    for (size_t j = 0; j < d; j++) {
      const double gy = (double)dyr[j] * g[j];
      a += gy;
      c += gy * hr[j];
      dg[j] += (double)dyr[j] * hr[j];
      db[j] += dyr[j];
    }
    a /= (double)d;
    c /= (double)d;
    const double rs = rstd[r];
    for (size_t j = 0; j < d; j++) dx[r * d + j] = (float)(rs * ((double)dyr[j] * g[j] - a - hr[j] * c));
  }
  return NULL;
}
