// A growing list of uint32 pairs (a partition's drops: item, position; or its candidate pairs: document,
// holder), written as little-endian bytes (x86, arm64: every platform flowlm runs on; readers check the length).
export class PairList {
  private data = new Uint32Array(1024);
  count = 0;

  push(a: number, b: number): void {
    if (2 * this.count + 2 > this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[2 * this.count] = a;
    this.data[2 * this.count + 1] = b;
    this.count++;
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, 0, 8 * this.count);
  }
}
