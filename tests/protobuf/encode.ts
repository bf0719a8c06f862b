/**
 * A hand encoder of the protobuf wire format for tests, written from the encoding spec and kept
 * apart from the decoder under test: each call appends one field.
 */
export class Encoder {
  private parts: number[] = [];

  private varintRaw(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    do {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      this.parts.push(v > 0n ? byte | 0x80 : byte);
    } while (v > 0n);
  }
  private key(field: number, wire: number): void {
    this.varintRaw(BigInt(field) << 3n | BigInt(wire));
  }
  varint(field: number, value: bigint | number): this {
    this.key(field, 0);
    this.varintRaw(BigInt(value));
    return this;
  }
  /** sint32/sint64: zigzag. */
  zigzag(field: number, value: bigint | number): this {
    const v = BigInt(value);
    return this.varint(field, v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }
  fixed64(field: number, value: bigint): this {
    this.key(field, 1);
    const b = new DataView(new ArrayBuffer(8));
    b.setBigUint64(0, BigInt.asUintN(64, value), true);
    this.parts.push(...new Uint8Array(b.buffer));
    return this;
  }
  double(field: number, value: number): this {
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, value, true);
    return this.fixed64(field, b.getBigUint64(0, true));
  }
  fixed32(field: number, value: number): this {
    this.key(field, 5);
    const b = new DataView(new ArrayBuffer(4));
    b.setUint32(0, value >>> 0, true);
    this.parts.push(...new Uint8Array(b.buffer));
    return this;
  }
  float(field: number, value: number): this {
    const b = new DataView(new ArrayBuffer(4));
    b.setFloat32(0, value, true);
    return this.fixed32(field, b.getUint32(0, true));
  }
  bytes(field: number, value: Uint8Array | Encoder): this {
    const b = value instanceof Encoder ? value.finish() : value;
    this.key(field, 2);
    this.varintRaw(BigInt(b.length));
    this.parts.push(...b);
    return this;
  }
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }
  /** Varints back to back in one length-delimited field (a packed repeated field). */
  packedVarints(field: number, values: (bigint | number)[]): this {
    const inner = new Encoder();
    for (const v of values) inner.varintRaw(BigInt(v));
    return this.bytes(field, inner.finish());
  }
  group(field: number, body: Encoder): this {
    this.key(field, 3);
    this.parts.push(...body.finish());
    this.key(field, 4);
    return this;
  }
  finish(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

/** A gRPC body: each message behind a flag byte (0: not compressed) and a 4-byte length. */
export function grpcFrame(...messages: Uint8Array[]): Uint8Array {
  const out: number[] = [];
  for (const m of messages) {
    out.push(
      0,
      (m.length >>> 24) & 255,
      (m.length >>> 16) & 255,
      (m.length >>> 8) & 255,
      m.length & 255,
    );
    out.push(...m);
  }
  return new Uint8Array(out);
}
