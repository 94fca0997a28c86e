# plots/loss.gp — loss_<task>_L<L>.gp: training-loss curves of the first seed, one line per
# mixer, a marker every ~1/8 of the curve so the style's marker tells mixers apart too
# (harness/report/plot_lines.c). Data blocks: "step loss".
# Template syntax: plots/frame.gp.

#@~ line
$d{{j}} using 1:2 with linespoints ls {{ls}} pi {{every}} title {{mixer:q}} noenhanced
