/* harness/slurm.c — the sbatch scripts of a sharded suite (see harness/slurm.h). */
#include "harness/slurm.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/xb.h"
#include "harness/machine.h"
#include "harness/report/store.h"
#include "harness/sweep.h"

char *xb_shell_quote(const char *s)
{
    size_t n = 3;
    for (const char *p = s; *p; p++) n += *p == '\'' ? 4 : 1;
    char *q = malloc(n), *w = q;
    if (!q) return NULL;
    *w++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(w, "'\\''", 4);
            w += 4;
        } else {
            *w++ = *p;
        }
    }
    *w++ = '\'';
    *w = 0;
    return q;
}

/* Only characters in ok. */
static int only_chars(const char *s, const char *ok)
{
    return s && *s && strspn(s, ok) == strlen(s);
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* A path that an #SBATCH line can carry as it is (sbatch splits those lines at blanks). */
static int plain_path(const char *s) { return only_chars(s, ALNUM "/._+=,@:-"); }

static int check_opts(const xb_slurm_opts *o, FILE *err)
{
    if (o->shards < 1) {
        fprintf(err, "error: --shards: expected a positive number of shards\n");
        return XB_EINVAL;
    }
    if (o->partition && !only_chars(o->partition, ALNUM "_.,-")) {
        fprintf(err, "error: --partition: '%s' is not a partition name (letters, digits, _ . - "
                "and commas for a list)\n", o->partition);
        return XB_EINVAL;
    }
    if (o->time_limit && !only_chars(o->time_limit, "0123456789:-")) {
        fprintf(err, "error: --time: '%s' is not a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, "
                "D-HH:MM or D-HH:MM:SS)\n", o->time_limit);
        return XB_EINVAL;
    }
    if (o->cpus < 0) {
        fprintf(err, "error: --cpus-per-task: expected a positive number\n");
        return XB_EINVAL;
    }
    if (o->machine && strcmp(o->machine, "full") && strcmp(o->machine, "quick") && strcmp(o->machine, "none")) {
        fprintf(err, "error: --machine: expected full, quick or none, got '%s'\n", o->machine);
        return XB_EINVAL;
    }
    for (int i = 0; i < o->n_extra; i++)
        if (!o->extra[i] || o->extra[i][0] != '-' || strpbrk(o->extra[i], "\n\r")) {
            fprintf(err, "error: --sbatch: '%s' is not one sbatch option (it starts with '-' and "
                    "is one line)\n", o->extra[i] ? o->extra[i] : "");
            return XB_EINVAL;
        }
    return 0;
}

/* The #SBATCH lines every script shares. */
static void common_lines(FILE *f, const xb_slurm_opts *o, const char *dir)
{
    if (o->partition) fprintf(f, "#SBATCH --partition=%s\n", o->partition);
    if (o->time_limit) fprintf(f, "#SBATCH --time=%s\n", o->time_limit);
    if (plain_path(dir)) fprintf(f, "#SBATCH --chdir=%s\n", dir);
    for (int i = 0; i < o->n_extra; i++) fprintf(f, "#SBATCH %s\n", o->extra[i]);
}

static int write_script(const char *dir, const char *name, const char *text, FILE *err)
{
    char *p = xb_path_join(dir, name);
    int rc = p ? xb_write_atomic(p, text, strlen(text)) : XB_ENOMEM;
    if (rc == 0 && chmod(p, 0755) != 0) rc = XB_EIO;
    if (rc) fprintf(err, "error: cannot write '%s': %s\n", p ? p : name, strerror(errno));
    free(p);
    return rc;
}

int xb_slurm_write(const xb_suite *s, const char *suite_path, const xb_slurm_opts *o, char **dir_out)
{
    FILE *err = o->err ? o->err : stderr;
    if (dir_out) *dir_out = NULL;
    int rc = check_opts(o, err);
    if (rc) return rc;

    /* how many cells the shards split: more shards than cells leaves some empty */
    xb_sweep_opts so;
    memset(&so, 0, sizeof so);
    so.only = o->only;
    xb_cell_spec *cells = NULL;
    int n_cells = 0;
    rc = xb_sweep_expand(s, &so, &cells, &n_cells, err);
    xb_sweep_cells_free(cells, n_cells);
    if (rc) return rc;
    if (o->shards > n_cells) {
        fprintf(err, "error: --shards %d: the suite has %d cell%s%s, so some shards would have "
                "nothing to do\n", o->shards, n_cells, n_cells == 1 ? "" : "s", o->only ? " with --only" : "");
        return XB_EINVAL;
    }

    int max_thr = 1;
    for (int i = 0; i < s->n_threads; i++)
        if (s->threads[i] > max_thr) max_thr = s->threads[i];
    int axis = s->n_threads > 1;   /* a thread-count axis: keep it, do not pass --threads */
    int cpus = o->cpus > 0 ? o->cpus : max_thr;
    if (axis && cpus < max_thr)
        fprintf(err, "warning: the suite runs cells with up to %d threads but each task gets "
                "--cpus-per-task %d: those cells will share cores\n", max_thr, cpus);

    /* the suite's name as the scripts write it: no character the shell or sbatch reads */
    char name[64], job[80];
    snprintf(name, sizeof name, "%s", s->name && *s->name ? s->name : "run");
    for (char *p = name; *p; p++)
        if (!strchr(ALNUM "_.-", *p)) *p = '_';
    snprintf(job, sizeof job, "xbench-%s", name);

    char def_dir[PATH_MAX];
    snprintf(def_dir, sizeof def_dir, "results/%s-slurm", name);
    const char *want_dir = o->out_dir ? o->out_dir : def_dir;
    if (xb_mkdirs(want_dir) != 0) {
        fprintf(err, "error: cannot create '%s': %s\n", want_dir, strerror(errno));
        return XB_EIO;
    }
    char *dir = realpath(want_dir, NULL);
    char *suite = realpath(suite_path, NULL);
    char *bin = realpath(o->xbench ? o->xbench : "/proc/self/exe", NULL);
    char *qdir = NULL, *qsuite = NULL, *qbin = NULL, *qonly = NULL;
    char *sb = NULL, *mb = NULL, *sub = NULL;
    size_t len;
    FILE *f = NULL;
    if (!dir || !suite || !bin) {
        fprintf(err, "error: cannot resolve the path of %s: %s\n", !dir ? want_dir : !suite ? suite_path : "xbench",
                strerror(errno));
        rc = XB_EIO;
        goto out;
    }
    qdir = xb_shell_quote(dir);
    qsuite = xb_shell_quote(suite);
    qbin = xb_shell_quote(bin);
    qonly = o->only ? xb_shell_quote(o->only) : NULL;
    if (!qdir || !qsuite || !qbin || (o->only && !qonly)) {
        rc = XB_ENOMEM;
        goto out;
    }
    const int N = o->shards;
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->hash);

    /* ---- xbench.sbatch: the job array ---- */
    f = open_memstream(&sb, &len);
    if (!f) { rc = XB_ENOMEM; goto out; }
    fprintf(f, "#!/bin/bash\n"
               "# xbench.sbatch — written by `xbench slurm` (xbench %s, commit %s) for suite '%s'\n"
               "# (hash %s): a job array of %d task%s, task K runs shard K/%d of the suite's cells\n"
               "# (split by estimated cost, the same split in every task) into shard-K/.\n"
               "# Submit it with submit.sh, which also queues merge.sbatch after every task ended ok.\n",
            XB_VERSION, xb_git_commit(), name, hash, N, N == 1 ? "" : "s", N);
    fprintf(f, "#SBATCH --job-name=%s\n#SBATCH --array=1-%d\n#SBATCH --ntasks=1\n"
               "#SBATCH --cpus-per-task=%d\n", job, N, cpus);
    common_lines(f, o, dir);
    fprintf(f, "#SBATCH --output=logs/shard-%%a.log\n\n");
    fprintf(f, "set -u\nxbench=%s\nsuite=%s\ndir=%s\n", qbin, qsuite, qdir);
    fprintf(f, "k=\"${SLURM_ARRAY_TASK_ID:?xbench.sbatch runs as a Slurm array task: submit it with sbatch}\"\n");
    if (!axis) fprintf(f, "threads=\"${SLURM_CPUS_PER_TASK:-%d}\"\n", cpus);
    fprintf(f, "echo \"xbench: shard $k/%d of suite '%s' on $(hostname)%s, job ${SLURM_ARRAY_JOB_ID:-?}_$k\"\n",
            N, name, axis ? "" : ", threads=$threads");
    fprintf(f, "\"$xbench\" run \"$suite\" --shard \"$k/%d\"%s --resume -o \"$dir/shard-$k\"", N,
            axis ? "" : " --threads \"$threads\"");
    if (qonly) fprintf(f, " --only %s", qonly);
    if (o->machine) fprintf(f, " --machine %s", o->machine);
    if (o->no_plots) fprintf(f, " --no-plots");
    fprintf(f, "\nrc=$?\n"
               "# 1: the shard finished and some cells did not end ok: they are recorded, and the\n"
               "# merge reports them. Anything else (2 bad suite, 130 stopped, a crash) fails the task.\n"
               "if [ \"$rc\" -eq 1 ]; then exit 0; fi\nexit \"$rc\"\n");
    fclose(f);
    f = NULL;

    /* ---- merge.sbatch ---- */
    f = open_memstream(&mb, &len);
    if (!f) { rc = XB_ENOMEM; goto out; }
    fprintf(f, "#!/bin/bash\n"
               "# merge.sbatch — written by `xbench slurm`: joins the %d shard folders of suite '%s'\n"
               "# into merged/ (tables, plots); submit.sh queues it after the job array.\n"
               "# Exit 1: some cells are missing or did not end ok (listed in logs/merge.log).\n",
            N, name);
    fprintf(f, "#SBATCH --job-name=%s-merge\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n", job);
    common_lines(f, o, dir);
    fprintf(f, "#SBATCH --output=logs/merge.log\n\n");
    fprintf(f, "set -u\nxbench=%s\ndir=%s\n", qbin, qdir);
    fprintf(f, "shards=()\nfor k in $(seq 1 %d); do shards+=(\"$dir/shard-$k\"); done\n", N);
    fprintf(f, "exec \"$xbench\" merge \"${shards[@]}\" -o \"$dir/merged\"%s\n", o->no_plots ? " --no-plots" : "");
    fclose(f);
    f = NULL;

    /* ---- submit.sh ---- */
    f = open_memstream(&sub, &len);
    if (!f) { rc = XB_ENOMEM; goto out; }
    fprintf(f, "#!/bin/bash\n"
               "# submit.sh — written by `xbench slurm`: queue suite '%s' as a job array of %d shard%s\n"
               "# and the merge after it (--dependency=afterok; a failed shard cancels the merge).\n"
               "# Arguments go to both sbatch calls: ./submit.sh --account=A --qos=Q\n",
            name, N, N == 1 ? "" : "s");
    fprintf(f, "set -eu\ndir=%s\ncd \"$dir\"\nmkdir -p logs\n", qdir);
    fprintf(f, "array=$(sbatch --parsable \"$@\" xbench.sbatch)\narray=${array%%%%;*}\n");
    fprintf(f, "merge=$(sbatch --parsable \"$@\" --dependency=afterok:\"$array\" --kill-on-invalid-dep=yes merge.sbatch)\n"
               "merge=${merge%%%%;*}\n");
    fprintf(f, "echo \"$array\" > array.jobid\necho \"$merge\" > merge.jobid\n");
    fprintf(f, "echo \"xbench: array job $array (%d shard%s, logs in $dir/logs/), merge job $merge after it\"\n",
            N, N == 1 ? "" : "s");
    fprintf(f, "echo \"xbench: results in $dir/merged/ once it ends; watch with: squeue -j $array,$merge\"\n");
    fclose(f);
    f = NULL;

    rc = write_script(dir, "xbench.sbatch", sb, err);
    if (rc == 0) rc = write_script(dir, "merge.sbatch", mb, err);
    if (rc == 0) rc = write_script(dir, "submit.sh", sub, err);
    if (rc == 0 && dir_out) {
        *dir_out = dir;
        dir = NULL;
    }
out:
    if (f) fclose(f);
    free(sb);
    free(mb);
    free(sub);
    free(qdir);
    free(qsuite);
    free(qbin);
    free(qonly);
    free(dir);
    free(suite);
    free(bin);
    return rc;
}
