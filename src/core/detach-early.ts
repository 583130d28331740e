// V8 compiles typed-array code on the assumption that no ArrayBuffer has been detached yet, and throws
// all of that code away the first time one is (a buffer transferred to another thread, a WebAssembly
// memory that grows). In a long-lived process that moment can come late: in a cluster worker it came
// mid-job and deoptimized ~20 hot functions at once (the tokenizer's scanners, piece cache and rank
// table; node --trace-protector-invalidation --trace-deopt), each then compiled again. Detaching one
// empty buffer as soon as flowlm loads settles the question before anything is optimized.
const buffer = new ArrayBuffer(0);
structuredClone(buffer, { transfer: [buffer] });
