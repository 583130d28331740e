{
  "targets": [
    {
      "target_name": "flowlm_native",
      "sources": ["module.c", "gemm.c", "attention.c", "adamw.c", "head.c", "elementwise.c"],
      "include_dirs": ["/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O3", "-std=c11", "-ffp-contract=off", "-Wall", "-Wextra"]
    }
  ]
}
