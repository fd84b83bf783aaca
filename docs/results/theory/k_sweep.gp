# Made by modnet (modnet/analysis/plot.cpp); a self-contained gnuplot script, data inline.
# Remake the figure with:  cd <this directory> && gnuplot <this file>
# or write it elsewhere:   gnuplot -e "outfile='other.png'" <this file>
if (!exists("outfile")) outfile = 'k_sweep.png'
set encoding utf8
set terminal pngcairo noenhanced size 1120,420 font ',10'
set output outfile
$s0_0 << EOD
1 0.158879895269177
2 0.21094753084937767
3 0.24885297920054475
4 0.27970092661735785
5 0.3061466458085569
6 0.3295201890908974
7 0.3505977694599735
8 0.36987799410021505
9 0.38770312851050304
EOD
$s0_1 << EOD
1 0.158879895269177
2 0.6324698494075235
3 1.1157738673538724
4 1.4089039779328352
5 1.5506333183184329
6 1.6129262773846795
7 1.6392431064993276
8 1.6501811330730944
9 1.6546968493697805
EOD
$s0_2 << EOD
1 3.342052658607971
EOD
$s1_0 << EOD
1 0.07781775050571402
2 0.10331994679139188
3 0.12188564837119774
4 0.13699465805192512
5 0.14994750129542228
6 0.16139562414632241
7 0.1717192078045696
8 0.18116246497821342
9 0.18989303381400313
EOD
$s1_1 << EOD
1 0.07781775050571402
2 0.3097772745896909
3 0.5464946479441939
4 0.6900667831857219
5 0.7594843670202294
6 0.7899948223466703
7 0.8028845365466677
8 0.808241870282948
9 0.8104536220186521
EOD
set multiplot layout 1,2

# ---- panel 0 ----
set title 'Test loss vs k (n = 1000, p = 300 in all)'
set xlabel 'k (modules)'
set ylabel 'test loss (predicted; log)'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
set logscale y
plot $s0_0 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'modular, b = 2', \
     $s0_1 using 1:2 with linespoints lw 2 dt 2 lc rgb '#00ff7f0e' pt 7 ps 0.7 title 'monolithic, m = k*2', \
     $s0_2 using 1:2 with points lw 0.01 dt 1 lc rgb '#00ffffff' pt 7 ps 0.0034999999999999996 notitle

# ---- panel 1 ----
set title 'Train loss vs k (n = 1000, p = 300 in all)'
set xlabel 'k (modules)'
set ylabel 'train loss (predicted)'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
unset key
plot $s1_0 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'modular, b = 2', \
     $s1_1 using 1:2 with linespoints lw 2 dt 2 lc rgb '#00ff7f0e' pt 7 ps 0.7 title 'monolithic, m = k*2'
unset multiplot
set output
