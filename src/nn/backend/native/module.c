// The native kernel pack's exports: each kernel lives in the file named after it (gemm.c,
// attention.c, head.c, adamw.c, elementwise.c) and is registered here under the name native.ts declares.
#include "napi-args.h"

static int export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_fn(env, exports, "gemm", gemm) || !export_fn(env, exports, "setThreads", set_threads) ||
      !export_fn(env, exports, "info", blas_info) ||
      !export_fn(env, exports, "attentionForward", attention_forward) ||
      !export_fn(env, exports, "attentionBackward", attention_backward) ||
      !export_fn(env, exports, "adamwUpdate", adamw_update) || !export_fn(env, exports, "headChunk", head_chunk) ||
      !export_fn(env, exports, "geluForward", gelu_forward) || !export_fn(env, exports, "geluBackward", gelu_backward) ||
      !export_fn(env, exports, "layerNormForward", layer_norm_forward) ||
      !export_fn(env, exports, "layerNormBackward", layer_norm_backward))
    return NULL;
  return exports;
}
