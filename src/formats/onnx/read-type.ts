/** ValueInfoProto and TypeProto -> IR value types, with declared shapes' dims as numbers or symbols. */
import { ModelFormatError } from "../../errors.js";
import { dtypeFromCode, type DType } from "../../graph/dtype.js";
import type { ValueInfo, ValueType } from "../../graph/ir.js";
import { MAX_EXPRESSION_CHARS, overflowCount, sym, type Dim } from "../../sym/expr.js";
import { parseDim } from "../../sym/parse.js";
import { quote } from "../quote.js";
import { count, MAX_DECLARED_DIMS, MAX_DIM_EXPRESSION_CHARS, MAX_NAME_BYTES, MAX_RANK, MAX_TYPE_DEPTH, type DecodeState } from "./limits.js";
import { expectWire, type ProtoReader, WIRE_LEN, WIRE_VARINT } from "./proto.js";

export function readValueInfo(r: ProtoReader, st: DecodeState): ValueInfo {
  let name = "";
  let type: ValueType = { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) name = r.string(MAX_NAME_BYTES, "value name");
    else if (f === 2 && w === WIRE_LEN) type = r.message((m) => readType(m, st, 0, type));
    else r.skip(w);
  }
  return { name, type };
}

/** A TypeProto; `prior` is an earlier occurrence of the same field, merged with this one as protobuf does. */
export function readType(r: ProtoReader, st: DecodeState, depth: number, prior?: ValueType): ValueType {
  if (depth > MAX_TYPE_DEPTH) throw new ModelFormatError(`types nested deeper than ${MAX_TYPE_DEPTH}`);
  let type: ValueType = prior ?? { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (w !== WIRE_LEN) {
      r.skip(w);
      continue;
    }
    if (f === 1) type = r.message((m) => readTensorType(m, "tensor", st, type.kind === "tensor" ? type : undefined));
    else if (f === 8) type = r.message((m) => readTensorType(m, "sparse", st, type.kind === "sparse" ? type : undefined));
    else if (f === 4) type = { kind: "sequence", elem: r.message((m) => readElemType(m, st, depth)) };
    else if (f === 9) type = { kind: "optional", elem: r.message((m) => readElemType(m, st, depth)) };
    else if (f === 5) {
      r.skip(w);
      type = { kind: "map" };
    } else r.skip(w);
  }
  return type;
}

function readElemType(r: ProtoReader, st: DecodeState, depth: number): ValueType {
  let t: ValueType = { kind: "unknown" };
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) t = r.message((m) => readType(m, st, depth + 1));
    else r.skip(w);
  }
  return t;
}

/** A tensor type; merged into `prior` (its last elem_type wins, shapes' dims concatenate, as protobuf merges). */
function readTensorType(r: ProtoReader, kind: "tensor" | "sparse", st: DecodeState, prior?: Extract<ValueType, { kind: "tensor" | "sparse" }>): ValueType {
  let dtype: DType | undefined = prior?.dtype;
  let shape: Dim[] | undefined = prior?.shape;
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) dtype = dtypeFromCode(expectWire(r, w, WIRE_VARINT, "elem_type").varint());
    else if (f === 2 && w === WIRE_LEN) shape = r.message((m) => readShape(m, st, shape));
    else r.skip(w);
  }
  return { kind, dtype, shape };
}

let anonymous = 0;
function readShape(r: ProtoReader, st: DecodeState, prior?: Dim[]): Dim[] {
  const dims: Dim[] = prior ?? [];
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      if (dims.length >= MAX_RANK) throw new ModelFormatError(`a shape has more than ${MAX_RANK} dimensions`);
      count(st, "declaredDims", MAX_DECLARED_DIMS, "declared dimensions");
      dims.push(
        r.message((m) => {
          let d: Dim | undefined;
          while (!m.done()) {
            const [ff, ww] = m.tag();
            if (ff === 1) d = expectWire(m, ww, WIRE_VARINT, "dim_value").varint();
            else if (ff === 2 && ww === WIRE_LEN) {
              const p = m.string(MAX_NAME_BYTES, "dim_param");
              if (p === "") d = undefined;
              else if (p.length <= MAX_DIM_EXPRESSION_CHARS) {
                d = st.dimParams.get(p);
                if (d === undefined) {
                  const before = overflowCount();
                  st.dimParams.set(p, (d = parseDim(p)));
                  if (overflowCount() !== before && !st.warnings.some((x) => x.startsWith("dim_param expands past"))) {
                    st.warnings.push(`dim_param expands past ${MAX_EXPRESSION_CHARS} characters (${quote(p.slice(0, 40))}...): kept as one symbol`);
                  }
                }
              } else {
                // Expanding a long expression costs quadratic time (a 59 KB sum took 5.6 s): keep it opaque.
                d = sym(p);
                if (!st.warnings.some((x) => x.startsWith("dim_param longer than"))) {
                  st.warnings.push(`dim_param longer than ${MAX_DIM_EXPRESSION_CHARS} characters kept as one symbol, not parsed`);
                }
              }
            } else m.skip(ww);
          }
          // A dim with neither value nor name is unknown: give it a unique symbol so it equals nothing else.
          return d ?? parseDim(`unk__${anonymous++}`);
        }),
      );
    } else r.skip(w);
  }
  return dims;
}
