/* harness/report/plot.h — gnuplot figures of a results folder (`xbench plot DIR`, and at the
 * end of `xbench run`), written to DIR/plots/ from the templates of the repository's plots/
 * (compiled into the binary; harness/report/plot_gp.h):
 *
 *   latency.gp          model forward latency vs length, log-log, one line per mixer, the
 *                       fitted exponent k in the legend (latency sweep, else the first task);
 *                       time ticks in readable units (100 µs, 1 ms, 10 ms), lengths at the
 *                       lengths measured (256, 1k, 16k)
 *   latency_mixer.gp    the same for the mixer layer alone
 *   flops.gp            analytic model forward FLOPs vs length, log-log (ticks 10M, 1G)
 *   accuracy.gp         test accuracy of every task (label) and length as grouped bars, one
 *                       bar per mixer (mean ± std over seeds), chance dashed over each group
 *   accuracy_<task>.gp  one length: a bar per mixer, its value over it; several: test
 *                       accuracy vs training length, one line per mixer (± std), chance
 *   pareto_<task>.gp    accuracy vs model forward latency, marker size ∝ sqrt peak RSS,
 *                       the Pareto frontier
 *   loss_<task>_L<L>.gp training-loss curves (first seed), one line per mixer
 *   decode.gp           with decode cells: time per generated token vs context, log-log
 *
 * A failed cell never shows as 0: a bar whose seeds all failed is left out with its status
 * written where it would stand. Every mixer has one style (colour, marker, dash; bar fill)
 * in every figure of a run, keyed by its position among the run's mixers; 32 styles differ
 * in colour and marker both, beyond 32 they repeat.
 *
 * <task> in a file name is the task label ("mqar kv_pairs=8") with every byte outside
 * [A-Za-z0-9_.=-] mapped to '_' ("accuracy_mqar_kv_pairs=8"), "-2", "-3", ... appended when
 * two labels map to one name; titles show labels as they are. Names from cells.jsonl reach a
 * script only as quoted gnuplot strings (see harness/report/plot_gp.h), so no name runs anything.
 *
 * Each script holds its data inline and renders itself to <name>.png (pngcairo, else png),
 * <name>.svg and, where gnuplot has cairo, <name>.pdf (vector, sized for a paper page):
 * `cd DIR/plots && gnuplot latency.gp` redraws them. Without gnuplot on PATH the scripts are
 * still written and a warning says so. */
#ifndef XB_PLOT_H
#define XB_PLOT_H

#include <stdio.h>

/* 0, or XB_E* when the scripts could not be written. A failing gnuplot is a warning. */
int xb_plot_dir(const char *dir, FILE *err);

#endif
