# plots/accuracy.gp — test accuracy (harness/report/plot_bars.c, plot_lines.c): grouped bars
# (accuracy.gp: every task and length; accuracy_<task>.gp at one length), one bar per mixer
# with mean ± std over seeds, chance dashed over each group, a bar whose seeds all failed
# replaced by its status; or, at several lengths, one line per mixer against length.
# Template syntax: plots/frame.gp.

#: ---- bars ----
#@ bars_columns
# columns: x, test accuracy % (mean over seeds), std, seeds ok
#: where a bar whose seeds all failed would stand
#@ bars_status
set label {{n}} {{status:q}} at {{x}}, 1 rotate by 90 left font ',8' tc rgb 'gray30' noenhanced front
#: a mixer with no bar anywhere still has its key entry
#@~ bars_keyentry
keyentry with boxes ls {{ls}} dt 1 lw 1 fs {{fill}} border lc rgb 'gray20' title {{mixer:q}} noenhanced
#@~ bars_box
$b{{k}} using 1:2:({{width}}) with boxes ls {{ls}} dt 1 lw 1 fs {{fill}} border lc rgb 'gray20' title {{mixer:q}} noenhanced
#: error bars as capped vectors: yerrorbars leaves a gap around its (hidden) point
#@~ bars_error
$b{{k}} using 1:($2 - $3):(0):($4 > 1 ? 2 * $3 : 1/0) with vectors heads size screen 0.006,90 lc rgb 'black' lw 1 notitle
#: values over the bars (one group, while they fit)
#@~ bars_values
$b{{k}} using 1:($2 + ($4 > 1 ? $3 : 0)):(sprintf('%.1f', $2)) with labels offset 0,0.7 font ',9' notitle
#@~ bars_chance
$chance using 1:2 with lines dt 2 lw 1.5 lc rgb 'gray30' title 'chance'
#: tick labels: the mixers under their bars (one group), else the groups ('task' x, or with
#: several lengths 'task'."\n".'L = 64' x)
#@ bars_xtics
set xtics scale 0 ({{tics}})
#@~ bars_xtic_length
."\n".'L = {{L}}'
#@ bars_rotate
set xtics rotate by {{angle}} right
#@ bars_bmargin
set bmargin {{lines}}
#@ bars_ranges
set xrange [{{lo}}:{{hi}}]
set yrange [0:105]
unset grid
set grid ytics lt 1 lw 0.5 lc rgb '#d0d0d0'
#@ bars_one_group
unset key
#@ bars_chance_label
set label 2 'chance' at graph 0.99, first {{y}} right offset 0,0.6 font ',9' tc rgb 'gray30'

#: ---- lines: accuracy against training length ----
#@ lines_columns
# columns: L, test accuracy % (mean over seeds), std
#@~ lines_item
$d{{j}} using 1:2:3 with yerrorlines ls {{ls}} title {{mixer:q}} noenhanced
#@~ lines_chance
$chance using 1:2 with linespoints dt 2 lw 1.5 pt 6 lc rgb 'gray40' title 'chance'
#@ lines_range
set yrange [0:105]
