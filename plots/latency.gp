# plots/latency.gp — figures of one quantity against sequence length, log-log, one line per
# mixer with its fitted exponent k in the legend (harness/report/plot_lines.c): latency.gp
# (whole-model forward), latency_mixer.gp (the mixer layer alone), flops.gp (analytic FLOPs)
# and decode.gp (time per generated token). Data blocks: "L value".
# Template syntax: plots/frame.gp.

#@ axes
set logscale xy
#@ key
set key title 'k: slope of the log-log fit'
#: one plot item per mixer; title is "mixer (k = 1.93)"
#@~ line
$d{{j}} using 1:2 with linespoints ls {{ls}} title {{title:q}} noenhanced
