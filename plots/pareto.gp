# plots/pareto.gp — pareto_<task>.gp: test accuracy against whole-model forward latency, one
# marker per (mixer, length), its size ∝ sqrt peak RSS, and the Pareto frontier (points no
# other beats on both latency and accuracy) (harness/report/plot_pareto.c).
# Template syntax: plots/frame.gp.

#@ columns
# columns: latency s, accuracy %, bubble size (∝ sqrt peak RSS), peak RSS MiB, L
#@~ points
$d{{j}} using 1:2:($3 * PS) with points ls {{ls}} ps variable title {{mixer:q}} noenhanced
#: several lengths: each marker labelled with its L, in its mixer's colour
#@~ lengths
$d{{j}} using 1:2:(sprintf('L=%d', $5)) with labels offset 0,1.6 font ',8' tc rgb '{{colour}}' notitle
#@~ frontier
$frontier using 1:2 with steps dt 2 lw 1.5 lc rgb 'gray30' title 'Pareto frontier'
#: room for a marker at 0
#@ range
set yrange [-3:105]
