/**
 * Shape rules: string ops (StringNormalizer, TfIdfVectorizer, RegexFullMatch, StringConcat, StringSplit)
 * and ai.onnx.ml's LabelEncoder. Where the output length depends on the strings themselves (stopwords
 * removed, split counts) it is a fresh symbol bounded by what the input allows, with a warning.
 */
import type { DType } from "../../graph/dtype.js";
import { max, mul, type Dim } from "../../sym/expr.js";
import type { InferContext, OpFamily, OpRule } from "../types.js";
import { broadcast, numel } from "../util.js";

const stringNormalizer: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    if (x.length === 2 && x[0] !== 1 && typeof x[0] === "number") ctx.error(`2-D input must be [1, C], got [${x.map(String)}]`);
    if (x.length !== 1 && x.length !== 2) ctx.error(`input must be [C] or [1, C], got rank ${x.length}`);
    const stopwords = ctx.strings("stopwords") ?? [];
    if (stopwords.length === 0) return [{ dtype: "string", shape: x.slice() }];
    // Removing stopwords leaves between 1 (an empty string when all are removed) and C strings.
    const c = x[x.length - 1]!;
    ctx.warn(`stopwords make the output length data-dependent: a symbol bounded by ${String(max(c, 1))}`);
    const kept = ctx.fresh("strings_kept", max(c, 1));
    return [{ dtype: "string", shape: x.length === 1 ? [kept] : [1, kept] }];
  },
};

const tfIdfVectorizer: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const indexes = ctx.ints("ngram_indexes");
    if (!indexes || indexes.length === 0) ctx.error("attribute 'ngram_indexes' is required");
    const width = Math.max(...indexes) + 1;
    if (x.length === 1) return [{ dtype: "float32", shape: [width] }];
    if (x.length === 2) return [{ dtype: "float32", shape: [x[0]!, width] }];
    return ctx.error(`input must be [C] or [N, C], got rank ${x.length}`);
  },
  // Every n-gram of every row is looked up once per gram length.
  flops: (ctx) => mul(numel(ctx.shape(0)), ctx.int("max_gram_length", 1)),
};

const regexFullMatch: OpRule = {
  infer: (ctx) => [{ dtype: "bool", shape: ctx.shape(0).slice() }],
};

const stringConcat: OpRule = {
  infer: (ctx) => [{ dtype: "string", shape: broadcast(ctx, [ctx.shape(0), ctx.shape(1)]) }],
};

const stringSplit: OpRule = {
  infer(ctx: InferContext) {
    const x = ctx.shape(0);
    const maxsplit = ctx.int("maxsplit");
    // The substring count per string is data-dependent; with maxsplit it is at most maxsplit + 1.
    const bound: Dim | undefined = maxsplit !== undefined ? maxsplit + 1 : undefined;
    ctx.warn(`the number of substrings is data-dependent${bound !== undefined ? `, at most ${bound}` : " and unbounded"}`);
    const parts = ctx.fresh("substrings", bound);
    return [
      { dtype: "string", shape: [...x, parts] },
      { dtype: "int64", shape: x.slice() },
    ];
  },
};

/** LabelEncoder: the output type is that of the values attribute that is set. */
const labelEncoder: OpRule = {
  domain: "ai.onnx.ml",
  infer(ctx: InferContext) {
    let dtype: DType | undefined;
    if (ctx.strings("values_strings")) dtype = "string";
    else if (ctx.ints("values_int64s")) dtype = "int64";
    else if (ctx.floats("values_floats")) dtype = "float32";
    else dtype = ctx.tensor("values_tensor")?.dtype;
    if (!dtype) ctx.unknown("no values_* attribute: output type unknown");
    return [{ dtype, shape: ctx.shape(0).slice() }];
  },
};

export const rules: OpFamily = {
  StringNormalizer: stringNormalizer,
  TfIdfVectorizer: tfIdfVectorizer,
  RegexFullMatch: regexFullMatch,
  StringConcat: stringConcat,
  StringSplit: stringSplit,
  LabelEncoder: labelEncoder,
};
