{
  "targets": [
    {
      "target_name": "flowlm_native",
      "sources": ["gemm.c"],
      "include_dirs": ["/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"]
    }
  ]
}
