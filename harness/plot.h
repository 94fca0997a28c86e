/* harness/plot.h — gnuplot figures of a results folder (`xbench plot DIR`, and at the end of
 * `xbench run`), written to DIR/plots/:
 *
 *   latency.gp          model forward latency vs length, log-log, one line per mixer, the
 *                       fitted exponent k in the legend (latency sweep, else the first task)
 *   latency_mixer.gp    the same for the mixer layer alone
 *   flops.gp            analytic model forward FLOPs vs length, log-log
 *   accuracy_<task>.gp  test accuracy vs training length, one line per mixer (± std), chance
 *   pareto_<task>.gp    accuracy vs model forward latency, bubble size ∝ peak RSS, frontier
 *   loss_<task>_L<L>.gp training-loss curves (first seed), one line per mixer
 *
 * Each script holds its data inline and renders itself to <name>.png (pngcairo, else png)
 * and <name>.svg: `cd DIR/plots && gnuplot latency.gp` redraws it. Without gnuplot on PATH
 * the scripts are still written and a warning says so. */
#ifndef XB_PLOT_H
#define XB_PLOT_H

#include <stdio.h>

/* 0, or XB_E* when the scripts could not be written. A failing gnuplot is a warning. */
int xb_plot_dir(const char *dir, FILE *err);

#endif
