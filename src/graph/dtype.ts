/** ONNX element types (TensorProto.DataType), with their names and sizes. The only table of them. */
export type DType =
  | "float32" | "uint8" | "int8" | "uint16" | "int16" | "int32" | "int64" | "string" | "bool"
  | "float16" | "float64" | "uint32" | "uint64" | "complex64" | "complex128" | "bfloat16"
  | "float8e4m3fn" | "float8e4m3fnuz" | "float8e5m2" | "float8e5m2fnuz" | "uint4" | "int4" | "float4e2m1";

interface DTypeInfo {
  code: number;
  /** Bits per element; 4-bit types pack two per byte. 0 for strings (size unknown). */
  bits: number;
  /** The short name the report uses (`fp32`, `int64`). */
  short: string;
}

export const DTYPES: Record<DType, DTypeInfo> = {
  float32: { code: 1, bits: 32, short: "fp32" },
  uint8: { code: 2, bits: 8, short: "uint8" },
  int8: { code: 3, bits: 8, short: "int8" },
  uint16: { code: 4, bits: 16, short: "uint16" },
  int16: { code: 5, bits: 16, short: "int16" },
  int32: { code: 6, bits: 32, short: "int32" },
  int64: { code: 7, bits: 64, short: "int64" },
  string: { code: 8, bits: 0, short: "string" },
  bool: { code: 9, bits: 8, short: "bool" },
  float16: { code: 10, bits: 16, short: "fp16" },
  float64: { code: 11, bits: 64, short: "fp64" },
  uint32: { code: 12, bits: 32, short: "uint32" },
  uint64: { code: 13, bits: 64, short: "uint64" },
  complex64: { code: 14, bits: 64, short: "complex64" },
  complex128: { code: 15, bits: 128, short: "complex128" },
  bfloat16: { code: 16, bits: 16, short: "bf16" },
  float8e4m3fn: { code: 17, bits: 8, short: "fp8e4m3fn" },
  float8e4m3fnuz: { code: 18, bits: 8, short: "fp8e4m3fnuz" },
  float8e5m2: { code: 19, bits: 8, short: "fp8e5m2" },
  float8e5m2fnuz: { code: 20, bits: 8, short: "fp8e5m2fnuz" },
  uint4: { code: 21, bits: 4, short: "uint4" },
  int4: { code: 22, bits: 4, short: "int4" },
  float4e2m1: { code: 23, bits: 4, short: "fp4e2m1" },
};

const BY_CODE = new Map<number, DType>(
  (Object.entries(DTYPES) as [DType, DTypeInfo][]).map(([name, info]) => [info.code, name]),
);

export function dtypeFromCode(code: number): DType | undefined {
  return BY_CODE.get(code);
}

export function dtypeCode(t: DType): number {
  return DTYPES[t].code;
}

/** Bytes for `elements` elements, 4-bit types packed two per byte (rounded up). */
export function byteSize(t: DType, elements: number): number {
  const bits = DTYPES[t].bits;
  return bits === 4 ? Math.ceil(elements / 2) : (elements * bits) / 8;
}

export function isFloat(t: DType): boolean {
  return t.startsWith("float") || t === "bfloat16";
}

export function isInteger(t: DType): boolean {
  return /^u?int/.test(t);
}

/** Parse a user's dtype name (`fp16`, `float16`, `bf16`, `int8`). */
export function parseDType(name: string): DType | undefined {
  const n = name.toLowerCase();
  if (Object.hasOwn(DTYPES, n)) return n as DType;
  for (const [t, info] of Object.entries(DTYPES) as [DType, DTypeInfo][]) if (info.short === n) return t;
  if (n === "float") return "float32";
  if (n === "half") return "float16";
  if (n === "double") return "float64";
  return undefined;
}
