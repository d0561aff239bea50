/** Worker-only API (lib.webworker), used by web/worker.ts; the page's lib is DOM. */
declare class FileReaderSync {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}

/** The worker bundle's source, inlined by scripts/build-web.mjs (esbuild `define`). */
declare const __MEMLENS_WORKER__: string;
