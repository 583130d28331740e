// flowlm's native kernels: single-precision matrix products through the system BLAS (OpenBLAS),
// computed in place on Float32Array views of tfjs-backend-wasm's heap, so no tensor is copied.
// JS (native-matmul.ts) works out shapes, transposes and batch broadcasting; this file checks
// every bound it is given (a bad offset throws instead of writing outside the arrays).
#include <cblas.h>
#include "napi-args.h"
#include <stdint.h>
#include <string.h>

// openblas_config.h declares these; repeated so the file also builds against another cblas.h
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

// gemm(a, b, c, bias | null, offsets | null, batch, m, n, k, transA, transB): for each i < batch,
// C_i[m, n] = op(A_i) op(B_i) (+ bias[n]); offsets holds a_i, b_i, c_i element offsets (3 per batch),
// null meaning one product at offset 0. Row-major; op(A) is [m, k], op(B) is [k, n].
napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) return fail(env, "flowlm native gemm: expected 11 arguments");
  float *a, *b, *c, *bias;
  int32_t *offs;
  size_t la, lb, lc, lbias, loffs;
  if (!typed(env, argv[0], napi_float32_array, (void **)&a, &la) ||
      !typed(env, argv[1], napi_float32_array, (void **)&b, &lb) ||
      !typed(env, argv[2], napi_float32_array, (void **)&c, &lc) ||
      !typed(env, argv[3], napi_float32_array, (void **)&bias, &lbias) ||
      !typed(env, argv[4], napi_int32_array, (void **)&offs, &loffs))
    return fail(env, "flowlm native gemm: a, b, c must be Float32Arrays, bias a Float32Array or null, "
                     "offsets an Int32Array or null");
  int64_t batch, m, n, k, ta, tb;
  if (!int_arg(env, argv[5], &batch) || !int_arg(env, argv[6], &m) || !int_arg(env, argv[7], &n) ||
      !int_arg(env, argv[8], &k) || !flag_arg(env, argv[9], &ta) || !flag_arg(env, argv[10], &tb))
    return fail(env, "flowlm native gemm: batch, m, n, k must be numbers and transA, transB booleans");
  if (batch < 0 || m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
    return fail(env, "flowlm native gemm: negative or oversized dimension");
  if (offs ? loffs < (size_t)(3 * batch) : batch != 1)
    return fail(env, "flowlm native gemm: offsets must hold 3 entries per batch (or batch be 1 without them)");
  if (bias && lbias < (size_t)n) return fail(env, "flowlm native gemm: bias shorter than n");
  const size_t sa = (size_t)(m * k), sb = (size_t)(k * n), sc = (size_t)(m * n);
  for (int64_t i = 0; i < batch; i++) {
    const int64_t oa = offs ? offs[3 * i] : 0, ob = offs ? offs[3 * i + 1] : 0, oc = offs ? offs[3 * i + 2] : 0;
    if (oa < 0 || ob < 0 || oc < 0 || (size_t)oa + sa > la || (size_t)ob + sb > lb || (size_t)oc + sc > lc)
      return fail(env, "flowlm native gemm: a matrix lies outside its array (offset or shape wrong)");
  }
  if (m == 0 || n == 0) return NULL;
  for (int64_t i = 0; i < batch; i++) {
    float *ci = c + (offs ? offs[3 * i + 2] : 0);
    // C starts as the bias (beta 1) or zero (beta 0); with k = 0 the product adds nothing
    if (bias)
      for (int64_t r = 0; r < m; r++) memcpy(ci + r * n, bias, (size_t)n * sizeof(float));
    else if (k == 0)
      memset(ci, 0, sc * sizeof(float));
    if (k == 0) continue;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, 1.0f, a + (offs ? offs[3 * i] : 0), ta ? (int)m : (int)k, b + (offs ? offs[3 * i + 1] : 0),
                tb ? (int)k : (int)n, bias ? 1.0f : 0.0f, ci, (int)n);
  }
  return NULL;
}

napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t t;
  if (argc != 1 || !int_arg(env, argv[0], &t) || t < 1 || t > 1024)
    return fail(env, "flowlm native setThreads: expected a thread count from 1 to 1024");
  openblas_set_num_threads((int)t);
  return NULL;
}

napi_value blas_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, config, threads;
  CHECK(env, napi_create_object(env, &obj));
  CHECK(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &config));
  CHECK(env, napi_create_int32(env, openblas_get_num_threads(), &threads));
  CHECK(env, napi_set_named_property(env, obj, "config", config));
  CHECK(env, napi_set_named_property(env, obj, "threads", threads));
  return obj;
}
