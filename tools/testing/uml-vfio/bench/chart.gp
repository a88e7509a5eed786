# SPDX-License-Identifier: GPL-2.0
# Bar chart of the benchmark's ratios; report.py writes the data file (a
# header row of series titles, then one row per metric).
# Usage: gnuplot -e "dat='chart.dat'; png='chart.png'; n=SERIES; sub='...'" chart.gp

set terminal pngcairo size 1400,650 font "sans,10"
set output png
set title "uml-vfio: our driver relative to L1's native drivers and to upstream's UML driver\n{/*0.8 ".sub."}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set format y "%g"
set ylabel "ratio of medians (log scale; 1 = equal)"
set grid ytics
set key top left autotitle columnhead
set xtics rotate by -35 left nomirror
set bmargin 7
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
plot for [i=2:n+1] dat using i:xtic(1)
