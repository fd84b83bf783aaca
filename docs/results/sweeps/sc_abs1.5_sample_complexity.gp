# Made by modnet (modnet/analysis/plot.cpp); a self-contained gnuplot script, data inline.
# Remake the figure with:  cd <this directory> && gnuplot <this file>
# or write it elsewhere:   gnuplot -e "outfile='other.png'" <this file>
if (!exists("outfile")) outfile = 'sc_abs1.5_sample_complexity.png'
set encoding utf8
set terminal pngcairo noenhanced size 560,420 font ',10'
set output outfile
$s0_0 << EOD
2 100
2 100
2 100
3 100
3 130.4467271528058
3 100.05680408935517
4 206.88136225027952
4 206.3208891156661
4 245.38516159141244
5 452.13140641742734
5 529.5132072959052
5 560.1665975760967
EOD
$s0_1 << EOD
2 100
3 100.05680408935517
4 206.88136225027952
5 529.5132072959052
EOD
$s0_2 << EOD
2 164.7472515352122
2 100
2 100
3 188.31544538160955
3 232.40643386509106
3 104.21741894863129
4 284.550591524054
4 229.69493695909364
4 217.96118790419897
5 585.7448754554674
5 1133.6973943497064
5 959.2639848845744
EOD
$s0_3 << EOD
2 100
3 188.31544538160955
4 229.69493695909364
5 959.2639848845744
EOD
$s0_4 << EOD
2 100
2 100
2 100
3 100
3 100
3 100
4 138.6743946905538
4 231.44382557497434
4 103.60859884910658
5 864.3242995409146
5 1034.4988566298036
5 911.799647957962
EOD
$s0_5 << EOD
2 100
3 100
4 138.6743946905538
5 911.799647957962
EOD

# ---- panel 0 ----
set title 'sample complexity'
set xlabel 'task.module_dim'
set ylabel 'samples to reach the threshold'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
set logscale y
plot $s0_0 using 1:2 with points lw 1.5 dt 1 lc rgb '#661f77b4' pt 7 ps 0.5249999999999999 notitle, \
     $s0_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'kernel_modular (median)', \
     $s0_2 using 1:2 with points lw 1.5 dt 1 lc rgb '#66d62728' pt 7 ps 0.5249999999999999 notitle, \
     $s0_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular (median)', \
     $s0_4 using 1:2 with points lw 1.5 dt 1 lc rgb '#662ca02c' pt 7 ps 0.5249999999999999 notitle, \
     $s0_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'monolithic (median)'
set output
