/**
 * Reading llama.cpp's own log lines (and bench/llamacpp/measure.c's RSS lines) into buffer sizes. The formats
 * are llama.cpp's: `load_tensors: %12s model buffer size = %8.2f MiB` (llama-model.cpp), `llama_kv_cache: %10s KV
 * buffer size = %8.2f MiB` and `llama_kv_cache: size = ... (%6u cells, %3d layers, %2u/%u seqs)`
 * (llama-kv-cache.cpp), `llama_context: %10s  output buffer size = %8.2f MiB`, `sched_reserve: %10s compute
 * buffer size = %8.2f MiB` and, at free, `~llama_context: %10s compute buffer size is %8.4f MiB`
 * (llama-context.cpp).
 */
export interface MeasuredBuffer {
  kind: "model" | "kv" | "output" | "compute";
  buffer: string;
  /** As logged, in MiB (2 decimals; compute at free has 4). */
  mib: number;
  /**
   * Exact bytes: the allocation (measure.c's ALLOC lines, ggml_aligned_malloc -> posix_memalign) made just before
   * the log line whose size the log rounds to `mib`. Absent for mapped buffers (the file's pages, not an allocation).
   */
  bytes?: number;
}

export interface KvCacheLine {
  mib: number;
  cells: number;
  layers: number;
  seqs: number;
  streams: number;
  typeK: string;
  kMib: number;
  typeV: string;
  vMib: number;
}

export interface ParsedRun {
  buffers: MeasuredBuffer[];
  kvCaches: KvCacheLine[];
  /** kB of VmRSS / RssAnon / RssFile at each stage (backend, load, context, prompt). */
  rss: Record<string, { vm: number; anon: number; file: number }>;
  /** Tokens of the prompt decoded before the `prompt` stage (0: none). */
  promptTokens?: number;
  /** Allocations of 64 KiB or more made while decoding the prompt (the CPU backend's work buffer among them), bytes. */
  promptAllocs?: number[];
  /** Tensors the CPU backend repacked, with the layout it chose (`repack: repack tensor X with q4_0_8x8`). */
  repacked: Record<string, string>;
  cpuBackend: string | undefined;
  flashAttention: string | undefined;
  done: boolean;
}

export function parseLlamaLog(text: string): ParsedRun {
  const run: ParsedRun = { buffers: [], kvCaches: [], rss: {}, repacked: {}, cpuBackend: undefined, flashAttention: undefined, done: false };
  let precise: { buffer: string; mib: number }[] = [];
  // posix_memalign sizes since the last buffer line: ggml allocates a buffer, then llama.cpp logs its size.
  let pending: number[] = [];
  let stage = "";
  // The loader allocates every model buffer and then logs them all (the mapped one first), so a match is taken
  // out of the pending list rather than clearing it; a new stage starts a new list.
  const push = (kind: MeasuredBuffer["kind"], buffer: string, mib: number) => {
    const b: MeasuredBuffer = { kind, buffer, mib };
    const i = buffer === "CPU_Mapped" ? -1 : pending.map((n) => logMiB(n) === mib).lastIndexOf(true);
    if (i >= 0) {
      b.bytes = pending[i]!;
      pending.splice(i, 1);
    }
    run.buffers.push(b);
  };
  for (const raw of text.split("\n")) {
    const line = raw.startsWith("LOG ") ? raw.slice(4) : raw;
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^ALLOC (\w+) (\d+)/))) {
      if (m[1] === "posix_memalign") pending.push(Number(m[2]));
      if (stage === "context") (run.promptAllocs ??= []).push(Number(m[2]));
    } else if ((m = line.match(/^load_tensors:\s+(\S+) model buffer size =\s+([\d.]+) MiB/))) {
      push("model", m[1]!, Number(m[2]));
    } else if ((m = line.match(/^llama_kv_cache:\s+(\S+) KV buffer size =\s+([\d.]+) MiB/))) {
      push("kv", m[1]!, Number(m[2]));
    } else if ((m = line.match(/^llama_kv_cache: size =\s+([\d.]+) MiB \(\s*(\d+) cells,\s+(\d+) layers,\s+(\d+)\/(\d+) seqs\), K \((\w+)\):\s+([\d.]+) MiB, V \((\w+)\):\s+([\d.]+) MiB/))) {
      run.kvCaches.push({ mib: Number(m[1]), cells: Number(m[2]), layers: Number(m[3]), seqs: Number(m[4]), streams: Number(m[5]), typeK: m[6]!, kMib: Number(m[7]), typeV: m[8]!, vMib: Number(m[9]) });
    } else if ((m = line.match(/^llama_context:\s+(\S+)\s+output buffer size =\s+([\d.]+) MiB/))) {
      push("output", m[1]!, Number(m[2]));
    } else if ((m = line.match(/^sched_reserve:\s+(\S+) compute buffer size =\s+([\d.]+) MiB/))) {
      push("compute", m[1]!, Number(m[2]));
    } else if ((m = line.match(/^~llama_context:\s+(\S+) compute buffer size (?:is|of)\s+([\d.]+) MiB/))) {
      precise.push({ buffer: m[1]!, mib: Number(m[2]) });
    } else if ((m = line.match(/^repack: repack tensor (\S+) with (\S+)/))) {
      run.repacked[m[1]!] = m[2]!;
    } else if ((m = line.match(/^load_backend: loaded CPU backend from \S*libggml-cpu-(\w+)\.so/))) {
      run.cpuBackend = m[1];
    } else if ((m = line.match(/^llama_context: flash_attn\s+= (\w+)/))) {
      run.flashAttention = m[1];
    } else if ((m = line.match(/^RSS (\w+) (-?\d+) (-?\d+) (-?\d+)/))) {
      run.rss[m[1]!] = { vm: Number(m[2]), anon: Number(m[3]), file: Number(m[4]) };
      stage = m[1]!;
      pending = [];
    } else if ((m = line.match(/^PROMPT (\d+)/))) {
      run.promptTokens = Number(m[1]);
    } else if (line.startsWith("DONE")) run.done = true;
  }
  // The 4-decimal figure logged when the context is freed replaces the 2-decimal one, buffer by buffer.
  for (const b of run.buffers) {
    if (b.kind !== "compute") continue;
    const i = precise.findIndex((p) => p.buffer === b.buffer);
    if (i >= 0) {
      b.mib = precise[i]!.mib;
      precise = precise.filter((_, j) => j !== i);
    }
  }
  return run;
}

/** A size as llama.cpp logs it: printf("%.2f", MiB), half-way values to the even hundredth. */
export function logMiB(bytes: number): number {
  const x = (bytes / 2 ** 20) * 100;
  const f = Math.floor(x);
  const r = x - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(x);
  return r / 100;
}
