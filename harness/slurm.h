/* harness/slurm.h — a suite as a Slurm job array (`xbench slurm SUITE --shards N`): xbench
 * never schedules anything itself; it writes scripts for the cluster's own scheduler.
 *
 * In DIR (absolute paths are written into the scripts, so DIR must be on a file system the
 * compute nodes share, like the xbench binary and the suite):
 *
 *   xbench.sbatch  a job array 1-N, one shard per array task: task K runs
 *                  `xbench run SUITE --shard K/N --threads $SLURM_CPUS_PER_TASK --resume
 *                  -o DIR/shard-K` (a thread-count axis in the suite is kept instead, and the
 *                  task gets its largest count). `run` exiting 1 (the shard finished, some
 *                  cells not ok) counts as success: those cells are results the merge
 *                  reports; a crash, a bad suite or a time limit fail the task. --resume
 *                  makes a resubmitted or requeued task continue where it stopped.
 *   merge.sbatch   `xbench merge DIR/shard-1 ... DIR/shard-N -o DIR/merged`
 *   submit.sh      cd DIR; sbatch --parsable xbench.sbatch, then sbatch the merge with
 *                  --dependency=afterok:<array job> --kill-on-invalid-dep=yes (a failed shard
 *                  cancels the merge instead of leaving it pending forever); writes the two
 *                  job ids to DIR/array.jobid and DIR/merge.jobid. Its arguments go to both
 *                  sbatch calls (./submit.sh --account=A).
 *   logs/          shard-K.log and merge.log (created by submit.sh)
 *
 * Every path reaches the shell single-quoted; values written into #SBATCH lines (partition,
 * time, extra lines) are checked for characters that would end or split the line. */
#ifndef XB_SLURM_H
#define XB_SLURM_H

#include <stdio.h>

#include "harness/suite.h"

#define XB_SLURM_MAX_EXTRA 16

typedef struct xb_slurm_opts {
    int shards;                 /* N ≥ 1 */
    const char *out_dir;        /* DIR (created); NULL → results/<suite name>-slurm */
    const char *partition;      /* NULL: the cluster's default */
    const char *time_limit;     /* per array task, Slurm's formats (MM, HH:MM:SS, D-HH, ...); NULL: default */
    int cpus;                   /* --cpus-per-task; 0: the suite's largest thread count */
    const char *only;           /* passed to run --only (NULL: every mixer) */
    const char *machine;        /* passed to run --machine (NULL: run's default) */
    int no_plots;               /* run and merge with --no-plots */
    const char *xbench;         /* the binary the jobs run; NULL: this process's (/proc/self/exe) */
    const char *extra[XB_SLURM_MAX_EXTRA];   /* more "#SBATCH <line>" options, e.g. "--mem=4G" */
    int n_extra;
    FILE *err;
} xb_slurm_opts;

/* s must be loaded from suite_path. Writes the three scripts (mode 0755) into the folder.
 * Returns 0, XB_EINVAL (bad option: message on err) or XB_EIO. *dir_out (may be NULL) gets
 * the absolute folder (malloc'd). */
int xb_slurm_write(const xb_suite *s, const char *suite_path, const xb_slurm_opts *o, char **dir_out);

/* s as one single-quoted shell word ("it's" → 'it'\''s'), malloc'd. */
char *xb_shell_quote(const char *s);

#endif
