/* harness/machine.c — machine description (CPU, cores, caches from sysfs, compiler and flags,
 * BLAS, OpenBLAS/OpenMP environment) and measured ceilings: FMA peak per thread count with a
 * register-resident loop, SGEMM through core/gemm.c, STREAM triad bandwidth. */
#include "harness/machine.h"

#include <ctype.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif

#include "core/clock.h"
#include "core/gemm.h"
#include "core/xb.h"

extern char **environ;

#ifndef XB_CFLAGS
#define XB_CFLAGS "(not recorded: build through the Makefile to record CFLAGS)"
#endif

/* ------------------------------------------------------------------------------------------
 * Description */

static int read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    if (!fgets(buf, (int)n, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* Number of CPUs in a sysfs cpu list such as "0-7,16-23". */
static int count_cpulist(const char *s)
{
    int n = 0;
    while (*s) {
        char *e;
        long a = strtol(s, &e, 10), b = a;
        if (e == s) break;
        s = e;
        if (*s == '-') {
            b = strtol(s + 1, &e, 10);
            s = e;
        }
        n += (int)(b - a + 1);
        if (*s == ',') s++;
    }
    return n;
}

static size_t parse_size(const char *s)   /* "48K", "32768K", "1M" */
{
    char *e;
    size_t v = strtoull(s, &e, 10);
    if (*e == 'K') v <<= 10;
    else if (*e == 'M') v <<= 20;
    else if (*e == 'G') v <<= 30;
    return v;
}

static void describe_cpu(xb_machine *m)
{
    snprintf(m->cpu, sizeof m->cpu, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *v = strchr(line, ':');
                if (v) {
                    v++;
                    while (isspace((unsigned char)*v)) v++;
                    v[strcspn(v, "\n")] = '\0';
                    snprintf(m->cpu, sizeof m->cpu, "%s", v);
                }
                break;
            }
        fclose(f);
    }
    cpu_set_t set;
    m->n_online = (int)sysconf(_SC_NPROCESSORS_ONLN);
    m->n_cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : m->n_online;
    if (m->n_cpus < 1) m->n_cpus = 1;

    /* physical cores: distinct (package, core) pairs over the online CPUs */
    enum { MAXC = 4096 };
    static long ids[MAXC];
    int n_ids = 0;
    for (int c = 0; c < MAXC && n_ids < MAXC; c++) {
        char p[128], v[64];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/topology/core_id", c);
        if (read_line(p, v, sizeof v)) {
            if (c >= m->n_online + 64) break;
            continue;
        }
        long core = atol(v), pkg = 0;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);
        if (!read_line(p, v, sizeof v)) pkg = atol(v);
        long id = pkg * 1000000 + core;
        int seen = 0;
        for (int i = 0; i < n_ids && !seen; i++) seen = ids[i] == id;
        if (!seen) ids[n_ids++] = id;
    }
    m->n_cores = n_ids ? n_ids : m->n_online;
}

static void describe_caches(xb_machine *m)
{
    size_t used = 0;
    int llc_level = 0, llc_index = -1;
    size_t llc_size = 0;
    m->caches[0] = '\0';
    for (int i = 0; i < 16; i++) {
        char p[128], level[16], type[32], size[32], shared[256] = "";
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if (read_line(p, level, sizeof level)) break;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (read_line(p, type, sizeof type)) continue;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (read_line(p, size, sizeof size)) continue;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
        read_line(p, shared, sizeof shared);
        const char *t = !strcmp(type, "Data") ? "d" : !strcmp(type, "Instruction") ? "i" : "";
        int w = snprintf(m->caches + used, sizeof m->caches - used, "%sL%s%s %s (per %d CPU%s)",
                         used ? ", " : "", level, t, size, count_cpulist(shared),
                         count_cpulist(shared) == 1 ? "" : "s");
        if (w > 0 && (size_t)w < sizeof m->caches - used) used += (size_t)w;
        if (atoi(level) >= llc_level && strcmp(type, "Instruction")) {
            llc_level = atoi(level);
            llc_index = i;
            llc_size = parse_size(size);
        }
    }
    if (!used) snprintf(m->caches, sizeof m->caches, "unknown (no /sys/devices/system/cpu/cpu0/cache)");
    /* instances of the last level: distinct shared_cpu_list strings over the CPUs */
    int instances = 0;
    if (llc_index >= 0) {
        enum { MAXI = 256 };
        static char lists[MAXI][64];
        for (int c = 0; c < 4096; c++) {
            char p[128], v[64];
            snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/cache/index%d/shared_cpu_list", c, llc_index);
            if (read_line(p, v, sizeof v)) {
                if (c >= m->n_online + 64) break;
                continue;
            }
            int seen = 0;
            for (int i = 0; i < instances && !seen; i++) seen = !strcmp(lists[i], v);
            if (!seen && instances < MAXI) snprintf(lists[instances++], sizeof lists[0], "%s", v);
        }
    }
    m->llc_bytes = llc_size * (size_t)(instances ? instances : 1);
}

static void describe_env(xb_machine *m)
{
    size_t used = 0;
    m->env[0] = '\0';
    m->coretype_set = 0;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "OPENBLAS_", 9) && strncmp(*e, "OMP_", 4) && strncmp(*e, "GOMP_", 5)) continue;
        if (!strncmp(*e, "OPENBLAS_CORETYPE=", 18)) m->coretype_set = 1;
        int w = snprintf(m->env + used, sizeof m->env - used, "%s\n", *e);
        if (w > 0 && (size_t)w < sizeof m->env - used) used += (size_t)w;
    }
}

void xb_machine_describe(xb_machine *m)
{
    memset(m, 0, sizeof *m);
    describe_cpu(m);
    describe_caches(m);
#if defined(__clang__)
    snprintf(m->compiler, sizeof m->compiler, "clang %s", __clang_version__);
#elif defined(__GNUC__)
    snprintf(m->compiler, sizeof m->compiler, "gcc %s", __VERSION__);
#else
    snprintf(m->compiler, sizeof m->compiler, "unknown C compiler");
#endif
    snprintf(m->cflags, sizeof m->cflags, "%s", XB_CFLAGS);
#if defined(__AVX512F__)
    snprintf(m->simd, sizeof m->simd, "avx512f");
#elif defined(__FMA__)
    snprintf(m->simd, sizeof m->simd, "avx2+fma");
#else
    snprintf(m->simd, sizeof m->simd, "scalar");
#endif
    snprintf(m->blas, sizeof m->blas, "%s", xb_blas_config());
    describe_env(m);
}

/* ------------------------------------------------------------------------------------------
 * FMA peak: ACC independent accumulators, each acc = acc * a + b per step, kept in registers
 * (ACC ≥ FMA latency × FMA ports, so the loop is throughput-bound). FLOPs = 2 × lanes per FMA. */

#define ACC 12
#if defined(__AVX512F__)
typedef __m512 fvec;
#define LANES 16
#define VFMA(x, a, b) _mm512_fmadd_ps(x, a, b)
#define VSET(v) _mm512_set1_ps(v)
static float vsum(fvec v) { return _mm512_reduce_add_ps(v); }
#elif defined(__FMA__)
typedef __m256 fvec;
#define LANES 8
#define VFMA(x, a, b) _mm256_fmadd_ps(x, a, b)
#define VSET(v) _mm256_set1_ps(v)
static float vsum(fvec v)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#else
typedef float fvec;   /* portable fallback: fmaf (a library call where there is no FMA unit) */
#define LANES 1
#define VFMA(x, a, b) fmaf(x, a, b)
#define VSET(v) (v)
static float vsum(fvec v) { return v; }
#endif

/* reps steps of ACC FMAs on one thread; returns a value that depends on every step. */
static float fma_kernel(long reps, float seed)
{
    fvec acc[ACC];
    fvec a = VSET(0.999999f), b = VSET(1e-7f);
    for (int k = 0; k < ACC; k++) acc[k] = VSET(seed + (float)k);
    for (long r = 0; r < reps; r++)
        for (int k = 0; k < ACC; k++) acc[k] = VFMA(acc[k], a, b);
    float s = 0;
    for (int k = 0; k < ACC; k++) s += vsum(acc[k]);
    return s;
}

static volatile float sink;

/* Seconds for `threads` threads each running fma_kernel(reps). */
static double fma_time(int threads, long reps)
{
    double t0 = xb_now();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        float s = fma_kernel(reps, (float)omp_get_thread_num());
        if (s == 12345.0f) sink = s;
    }
#else
    (void)threads;
    sink = fma_kernel(reps, 0.0f);
#endif
    return xb_now() - t0;
}

static void measure_fma(xb_machine *m, int max_threads, int quick)
{
    double target = quick ? 0.01 : 0.1;
    long reps = 1024;
    fma_time(1, reps);   /* warm up (and start the thread pool) */
    while (fma_time(1, reps) < target / 4 && reps < (1L << 40)) reps *= 2;
    double per = fma_time(1, reps);
    if (per > 0) reps = (long)(reps * (target / per)) + 1;
    double flops = (double)reps * ACC * LANES * 2.0;
    m->n_fma = max_threads;
    for (int t = 1; t <= max_threads; t++) {
        double best = INFINITY;
        for (int r = 0; r < 3; r++) {
            double s = fma_time(t, reps);
            if (s < best) best = s;
        }
        m->fma_gflops[t - 1] = flops * t / best / 1e9;
    }
}

double xb_machine_fma_probe(int threads, double seconds)
{
    static long reps;          /* calibrated once per process: about `seconds` on one thread */
    static double for_seconds;
    if (threads < 1) threads = 1;
    if (reps == 0 || for_seconds != seconds) {
        reps = 1024;
        fma_time(1, reps);
        while (fma_time(1, reps) < seconds / 4 && reps < (1L << 40)) reps *= 2;
        double per = fma_time(1, reps);
        if (per > 0) reps = (long)(reps * (seconds / per)) + 1;
        for_seconds = seconds;
    }
    double best = INFINITY;
    for (int r = 0; r < 3; r++) {
        double s = fma_time(threads, reps);
        if (s < best) best = s;
    }
    return (double)reps * ACC * LANES * 2.0 * threads / best / 1e9;
}

/* ------------------------------------------------------------------------------------------
 * SGEMM n³ through xb_gemm, best of a few. */

static double gemm_rate(int n, int threads, int reps)
{
    size_t nn = (size_t)n * n;
    float *A = xb_alloc(nn * sizeof *A), *B = xb_alloc(nn * sizeof *B), *C = xb_alloc(nn * sizeof *C);
    double best = INFINITY;
    if (A && B && C) {
        for (size_t i = 0; i < nn; i++) {
            A[i] = (float)((i * 7) % 13) * 0.01f;
            B[i] = (float)((i * 5) % 11) * 0.01f;
        }
        xb_blas_set_threads(threads);
        xb_gemm(0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);   /* warm-up */
        for (int r = 0; r < reps; r++) {
            double t0 = xb_now();
            xb_gemm(0, 0, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
            double s = xb_now() - t0;
            if (s < best) best = s;
        }
    }
    xb_free(A);
    xb_free(B);
    xb_free(C);
    return isfinite(best) ? 2.0 * n * (double)n * n / best / 1e9 : 0.0;
}

/* ------------------------------------------------------------------------------------------
 * STREAM triad a = b + s·c over doubles, arrays ≥ 4× the last-level cache; 24 bytes moved per
 * element (STREAM's convention: write-allocate traffic not counted). First touch in parallel. */

static double triad_rate(double *a, const double *b, const double *c, size_t n, int threads, int reps)
{
    double best = INFINITY;
    (void)threads;
    for (int r = 0; r < reps; r++) {
        double t0 = xb_now();
#pragma omp parallel for schedule(static) num_threads(threads)
        for (size_t i = 0; i < n; i++) a[i] = b[i] + 3.0 * c[i];
        double s = xb_now() - t0;
        if (s < best) best = s;
    }
    return 24.0 * (double)n / best / 1e9;
}

static int measure_stream(xb_machine *m, int max_threads, int quick)
{
    size_t bytes = 4 * m->llc_bytes;
    if (bytes < ((size_t)64 << 20)) bytes = (size_t)64 << 20;
    if (bytes > ((size_t)1 << 30)) bytes = (size_t)1 << 30;
    if (quick) bytes = (size_t)8 << 20;
    size_t n = bytes / sizeof(double);
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return XB_ENOMEM;
    }
#pragma omp parallel for schedule(static) num_threads(max_threads)
    for (size_t i = 0; i < n; i++) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    m->stream_bytes = n * sizeof(double);
    int reps = quick ? 2 : 5;
    m->stream_gbs_1 = triad_rate(a, b, c, n, 1, reps);
    m->stream_gbs_all = triad_rate(a, b, c, n, max_threads, reps);
    free(a);
    free(b);
    free(c);
    return 0;
}

int xb_machine_measure(xb_machine *m, int max_threads, int quick)
{
    if (max_threads <= 0) max_threads = m->n_cpus > 0 ? m->n_cpus : 1;
    if (max_threads > XB_MACHINE_MAX_T) max_threads = XB_MACHINE_MAX_T;
#ifndef _OPENMP
    max_threads = 1;
#endif
    measure_fma(m, max_threads, quick);
    m->gemm_n = quick ? 256 : 2048;
    m->gemm_threads = max_threads;
    m->gemm_gflops_1 = gemm_rate(m->gemm_n, 1, quick ? 2 : 3);
    m->gemm_gflops_all = gemm_rate(m->gemm_n, max_threads, quick ? 2 : 3);
    xb_blas_set_threads(max_threads);
    int rc = measure_stream(m, max_threads, quick);
    m->measured = rc == 0;
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Report */

void xb_machine_print(const xb_machine *m, FILE *f)
{
    fprintf(f, "cpu        %s\n", m->cpu);
    fprintf(f, "cpus       %d usable (affinity), %d online, %d physical cores\n", m->n_cpus,
            m->n_online, m->n_cores);
    fprintf(f, "caches     %s\n", m->caches);
    fprintf(f, "           last level in total: %.1f MiB\n", (double)m->llc_bytes / (1 << 20));
    fprintf(f, "compiler   %s\n", m->compiler);
    fprintf(f, "cflags     %s\n", m->cflags);
    fprintf(f, "fma loop   %s\n", m->simd);
    fprintf(f, "blas       %s\n", m->blas);
    fprintf(f, "env        %s", m->env[0] ? "" : "(no OPENBLAS_*, OMP_* or GOMP_* variables)\n");
    for (const char *p = m->env; *p;) {
        const char *e = strchr(p, '\n');
        int n = e ? (int)(e - p) : (int)strlen(p);
        fprintf(f, "%s%.*s\n", p == m->env ? "" : "           ", n, p);
        p += n + (e != NULL);
    }
    if (m->coretype_set)
        fprintf(f, "warning: OPENBLAS_CORETYPE is set: OpenBLAS uses that kernel instead of the one "
                   "for this CPU, so GEMM may be slower than the machine can do\n");
    if (!m->measured) return;
    fprintf(f, "\nFMA peak (register-resident %s loop), GFLOP/s:\n  threads  GFLOP/s  per thread\n",
            m->simd);
    for (int t = 1; t <= m->n_fma; t++)
        fprintf(f, "  %7d  %7.1f  %10.1f\n", t, m->fma_gflops[t - 1], m->fma_gflops[t - 1] / t);
    fprintf(f, "\nSGEMM %d^3 (core/gemm.c), best of a few:\n", m->gemm_n);
    fprintf(f, "  1 thread    %7.1f GFLOP/s  (%.0f%% of FMA peak)\n", m->gemm_gflops_1,
            100.0 * m->gemm_gflops_1 / m->fma_gflops[0]);
    fprintf(f, "  %d threads %s %7.1f GFLOP/s  (%.0f%% of FMA peak)\n", m->gemm_threads,
            m->gemm_threads < 10 ? " " : "", m->gemm_gflops_all,
            100.0 * m->gemm_gflops_all / m->fma_gflops[m->gemm_threads - 1]);
    fprintf(f, "\nSTREAM triad (3 arrays of %.0f MiB), best of a few:\n",
            (double)m->stream_bytes / (1 << 20));
    fprintf(f, "  1 thread    %7.1f GB/s\n", m->stream_gbs_1);
    fprintf(f, "  %d threads %s %7.1f GB/s\n", m->n_fma, m->n_fma < 10 ? " " : "", m->stream_gbs_all);
}
