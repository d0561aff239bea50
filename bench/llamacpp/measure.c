/*
 * One llama.cpp setting in one fresh process: load the CPU backend, the model, then the context, and print
 * llama.cpp's own log lines (prefixed "LOG ") and this process's RSS after each stage ("RSS stage VmRSS RssAnon
 * RssFile", kB from /proc/self/status). Built by bench/llamacpp-measure.ts against the libllama that
 * node-llama-cpp ships; it only calls llama.cpp's public C API (llama.h).
 *
 * Every allocation of ALLOC_MIN bytes or more is printed as "ALLOC posix_memalign|malloc BYTES": the executable
 * defines posix_memalign and malloc, so the dynamic linker binds ggml's calls to them (ggml_aligned_malloc, which
 * every CPU buffer comes from, calls posix_memalign; the CPU backend's work buffer is a new[]), and they forward
 * to glibc's own __libc_memalign / __libc_malloc. This gives each buffer's exact bytes where the log rounds them
 * to 0.01 MiB, and the work buffer, which llama.cpp does not log.
 *
 * usage: measure MODEL BACKEND_DIR n_ctx n_seq n_batch n_ubatch fa(-1 auto|0|1) type_k type_v load_mode(1 mmap|0 no-mmap|-1 auto) kv_unified(0|1) swa_full(0|1) prompt_tokens
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "llama.h"
#include "ggml-backend.h"

#define ALLOC_MIN 65536
extern void * __libc_malloc(size_t);
extern void * __libc_memalign(size_t, size_t);
static __thread int in_trace;

static void trace(const char * what, size_t size) {
    if (size < ALLOC_MIN || in_trace) return;
    in_trace = 1;
    printf("ALLOC %s %zu\n", what, size);
    in_trace = 0;
}

void * malloc(size_t size) {
    trace("malloc", size);
    return __libc_malloc(size);
}

int posix_memalign(void ** out, size_t alignment, size_t size) {
    void * p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    trace("posix_memalign", size);
    *out = p;
    return 0;
}

static void on_log(enum ggml_log_level level, const char * text, void * user) {
    (void) level; (void) user;
    fputs("LOG ", stdout);
    fputs(text, stdout);
    size_t n = strlen(text);
    if (n == 0 || text[n - 1] != '\n') fputc('\n', stdout);
}

static void rss(const char * stage) {
    FILE * f = fopen("/proc/self/status", "r");
    char line[256];
    long vm = -1, anon = -1, file = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) vm = atol(line + 6);
        else if (!strncmp(line, "RssAnon:", 8)) anon = atol(line + 8);
        else if (!strncmp(line, "RssFile:", 8)) file = atol(line + 8);
    }
    if (f) fclose(f);
    printf("RSS %s %ld %ld %ld\n", stage, vm, anon, file);
    fflush(stdout);
}

int main(int argc, char ** argv) {
    if (argc < 14) { fprintf(stderr, "usage: measure MODEL BACKEND_DIR n_ctx n_seq n_batch n_ubatch fa type_k type_v mmap kv_unified swa_full prompt\n"); return 2; }
    llama_log_set(on_log, NULL);
    ggml_backend_load_all_from_path(argv[2]);
    llama_backend_init();
    rss("backend");
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.load_mode = (enum llama_load_mode) atoi(argv[10]); /* 1 mmap, 0 read into buffers (--no-mmap), -1 auto */
    struct llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "model load failed\n"); return 1; }
    rss("load");
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) atoi(argv[3]);
    cp.n_seq_max = (uint32_t) atoi(argv[4]);
    cp.n_batch = (uint32_t) atoi(argv[5]);
    cp.n_ubatch = (uint32_t) atoi(argv[6]);
    int fa = atoi(argv[7]);
    cp.flash_attn_type = fa < 0 ? LLAMA_FLASH_ATTN_TYPE_AUTO : fa ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = (enum ggml_type) atoi(argv[8]);
    cp.type_v = (enum ggml_type) atoi(argv[9]);
    cp.kv_unified = atoi(argv[11]) != 0;
    cp.swa_full = atoi(argv[12]) != 0;
    cp.n_threads = 2;
    cp.n_threads_batch = 2;
    cp.no_perf = true;
    struct llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "context creation failed\n"); return 1; }
    rss("context");
    int prompt = atoi(argv[13]);
    if (prompt > 0) {
        struct llama_batch batch = llama_batch_init(prompt, 0, 1);
        for (int i = 0; i < prompt; i++) {
            batch.token[i] = 3 + (i % 200);
            batch.pos[i] = i;
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = i == prompt - 1;
        }
        batch.n_tokens = prompt;
        printf("PROMPT %d\n", prompt);
        if (llama_decode(ctx, batch) != 0) fprintf(stderr, "decode failed\n");
        rss("prompt");
        llama_batch_free(batch);
    }
    llama_free(ctx);
    llama_model_free(model);
    printf("DONE\n");
    return 0;
}
