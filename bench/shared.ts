/**
 * Where ../shared is: beside the repository (CI lays a copy there), or MEMLENS_SHARED. Resolved from this
 * file's place (dist/bench/shared.js), so tests and benchmarks find it whatever the working directory.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHARED = process.env["MEMLENS_SHARED"] ?? join(REPO_ROOT, "..", "shared");
export const LEGACY_FIXTURES = join(SHARED, "fixtures", "onnx-legacy");
export const DYNAMO_FIXTURES = join(SHARED, "fixtures", "onnx-dynamo");
