// Argument checking shared by the native kernels: every typed array is checked for its element type
// and every kernel checks its bounds before touching memory, so a bad call throws in JS instead of
// writing outside an array.
#ifndef FLOWLM_NAPI_ARGS_H
#define FLOWLM_NAPI_ARGS_H
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#define CHECK(env, call)                                                   \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error((env), NULL, "flowlm native: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static inline napi_value fail(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

// The float32 (or int32) elements of a typed array argument; NULL data with length 0 for null.
static inline int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, data, &buf, &off) != napi_ok) return 0;
  return type == want;
}

static inline int int_arg(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static inline int flag_arg(napi_env env, napi_value v, int64_t *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  *out = b;
  return 1;
}


// The kernels each file defines; module.c exports them.
napi_value gemm(napi_env env, napi_callback_info info);
napi_value set_threads(napi_env env, napi_callback_info info);
napi_value blas_info(napi_env env, napi_callback_info info);
napi_value attention_forward(napi_env env, napi_callback_info info);
napi_value attention_backward(napi_env env, napi_callback_info info);
napi_value adamw_update(napi_env env, napi_callback_info info);
napi_value head_chunk(napi_env env, napi_callback_info info);
napi_value gelu_forward(napi_env env, napi_callback_info info);
napi_value gelu_backward(napi_env env, napi_callback_info info);
napi_value layer_norm_forward(napi_env env, napi_callback_info info);
napi_value layer_norm_backward(napi_env env, napi_callback_info info);

#endif
