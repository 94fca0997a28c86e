/* harness/machine.h — what the machine is and what it can do: CPU, cores, caches, compiler
 * and flags, BLAS and its environment (xb_machine_describe: cheap, starts no threads), and
 * measured ceilings (xb_machine_measure: FMA peak per thread count, SGEMM, STREAM triad).
 * `xbench info` prints both; `xbench run` calls them in a forked child (measuring enters
 * OpenMP parallel regions, which the parent must never do) and records them in meta.json. */
#ifndef XB_MACHINE_H
#define XB_MACHINE_H

#include <stddef.h>
#include <stdio.h>

#define XB_MACHINE_MAX_T 512

typedef struct xb_machine {
    /* description */
    char cpu[128];          /* model name */
    int n_cpus;             /* CPUs this process may run on (its affinity mask) */
    int n_online;           /* CPUs online */
    int n_cores;            /* physical cores online (distinct package/core ids) */
    char caches[384];       /* "L1d 48K (per 1 CPU), L2 1024K (per 1 CPU), L3 32768K (per 8 CPUs) ..." */
    size_t llc_bytes;       /* last-level cache summed over its instances */
    char compiler[128];
    char cflags[768];       /* CFLAGS the harness was built with (Makefile's -DXB_CFLAGS) */
    char simd[32];          /* vector ISA of the FMA loop: "avx512f", "avx2+fma", "scalar" */
    char blas[256];         /* xb_blas_config(): OpenBLAS build and the kernel it chose */
    char env[2048];         /* every OPENBLAS_*, OMP_*, GOMP_* variable, "NAME=value\n" each */
    int coretype_set;       /* OPENBLAS_CORETYPE is set: OpenBLAS may run an older kernel */

    /* measurements (measured = 1 once xb_machine_measure ran) */
    int measured;
    int n_fma;                              /* fma_gflops[t-1] for t = 1 .. n_fma threads */
    double fma_gflops[XB_MACHINE_MAX_T];
    int gemm_n;                             /* SGEMM size n (n x n x n) */
    int gemm_threads;                       /* threads of the "all" figure */
    double gemm_gflops_1, gemm_gflops_all;  /* best of a few */
    size_t stream_bytes;                    /* bytes of each of the three triad arrays */
    double stream_gbs_1, stream_gbs_all;    /* STREAM triad, 24 bytes per element, GB/s = 1e9 */
} xb_machine;

/* The git commit the binary was built from, "-dirty" appended when the tree had
 * uncommitted changes; "unknown" outside a git checkout. */
const char *xb_git_commit(void);

/* Fill the description (reads /proc, /sys and the environment; no threads). */
void xb_machine_describe(xb_machine *m);
/* Measure the ceilings with up to max_threads threads (0 = n_cpus). `quick` shrinks the
 * problem sizes and times (for tests and --quick). Starts OpenMP threads: call it only in
 * a process that will not fork afterwards. Returns 0 or XB_ENOMEM. */
int xb_machine_measure(xb_machine *m, int max_threads, int quick);
/* FMA rate (GFLOP/s) of `threads` threads now: best of 3 runs of about `seconds` each of the
 * peak's loop. A cell records it before and after its timings, so a report can compare a
 * speedup with the ceiling's own speedup at the same moment on a machine whose capacity drifts
 * (a shared host). Enters an OpenMP parallel region. */
double xb_machine_fma_probe(int threads, double seconds);
/* Human-readable report (what `xbench info` prints). */
void xb_machine_print(const xb_machine *m, FILE *f);

#endif
