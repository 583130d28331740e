// One AdamW update over arrays: the loop of src/nn/optim/adamw-update.ts compiled, with the same
// float64 arithmetic in the same order (IEEE add, multiply, divide and sqrt round the same in C and
// JS), so the result is bit for bit the JS one:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2   (stored as float32, then read back)
//   out = p decay - stepSize m / (sqrt(v) / bc2Sqrt + eps)
#include <math.h>
#include "napi-args.h"

static int num_arg(napi_env env, napi_value v, double *out) { return napi_get_value_double(env, v, out) == napi_ok; }

// adamwUpdate(p, out, g, m, v, b1, b2, stepSize, bc2Sqrt, decay, eps): n = p.length elements
napi_value adamw_update(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) return fail(env, "flowlm native adamwUpdate: expected 11 arguments");
  float *p, *out, *g, *m, *v;
  size_t lp, lo, lg, lm, lv;
  if (!typed(env, argv[0], napi_float32_array, (void **)&p, &lp) ||
      !typed(env, argv[1], napi_float32_array, (void **)&out, &lo) ||
      !typed(env, argv[2], napi_float32_array, (void **)&g, &lg) ||
      !typed(env, argv[3], napi_float32_array, (void **)&m, &lm) ||
      !typed(env, argv[4], napi_float32_array, (void **)&v, &lv) || !p || !out || !g || !m || !v)
    return fail(env, "flowlm native adamwUpdate: p, out, g, m, v must be Float32Arrays");
  if (lo < lp || lg < lp || lm < lp || lv < lp)
    return fail(env, "flowlm native adamwUpdate: out, g, m or v shorter than p");
  double s[6];
  for (int i = 0; i < 6; i++)
    if (!num_arg(env, argv[5 + i], &s[i])) return fail(env, "flowlm native adamwUpdate: the scalars must be numbers");
  const double b1 = s[0], b2 = s[1], stepSize = s[2], bc2Sqrt = s[3], decay = s[4], eps = s[5];
  for (size_t i = 0; i < lp; i++) {
    const double gi = g[i];
    m[i] = (float)(b1 * m[i] + (1 - b1) * gi);
    v[i] = (float)(b2 * v[i] + (1 - b2) * gi * gi);
    out[i] = (float)((double)p[i] * decay - (stepSize * (double)m[i]) / (sqrt((double)v[i]) / bc2Sqrt + eps));
  }
  return NULL;
}
