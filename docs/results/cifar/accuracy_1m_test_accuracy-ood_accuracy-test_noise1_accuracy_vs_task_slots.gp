# Made by modnet (modnet/analysis/plot.cpp); a self-contained gnuplot script, data inline.
# Remake the figure with:  cd <this directory> && gnuplot <this file>
# or write it elsewhere:   gnuplot -e "outfile='other.png'" <this file>
if (!exists("outfile")) outfile = 'accuracy_1m_test_accuracy-ood_accuracy-test_noise1_accuracy_vs_task_slots.png'
set encoding utf8
set terminal pngcairo noenhanced size 1680,420 font ',10'
set output outfile
$s0_0 << EOD
1 0.508
2 0.5189
4 0.4958
1 0.505
2 0.5365
4 0.49995
6 0.4743166666666666
6 0.4715166666666666
6 0.4702833333333334
8 0.446075
EOD
$s0_1 << EOD
1 0.5065
2 0.5277000000000001
4 0.497875
6 0.47203888888888884
8 0.446075
EOD
$s0_2 << EOD
1 0.529
2 0.537
3 0.504
4 0.476
5 0.45
6 0.429
7 0.409
8 0.39
EOD
$s0_3 << EOD
1 0.5214
2 0.5246
4 0.5203
1 0.5164
2 0.5411
4 0.51155
6 0.4914833333333333
6 0.4947666666666667
6 0.4858666666666666
8 0.477975
EOD
$s0_4 << EOD
1 0.5188999999999999
2 0.53285
4 0.515925
6 0.49070555555555556
8 0.477975
EOD
$s0_5 << EOD
1 0.536
2 0.535
3 0.512
4 0.488
5 0.472
6 0.455
7 0.443
8 0.434
EOD
$s0_6 << EOD
1 0.5148
2 0.5208
4 0.51445
1 0.5274
2 0.5552
4 0.5139
6 0.4925666666666667
6 0.4973833333333333
6 0.4946833333333334
8 0.48125
EOD
$s0_7 << EOD
1 0.5211
2 0.538
4 0.514175
6 0.4948777777777778
8 0.48125
EOD
$s0_8 << EOD
1 0.552
2 0.542
3 0.538
4 0.525
5 0.516
6 0.505
7 0.493
8 0.482
EOD
$s1_0 << EOD
2 0.4099
4 0.4803
2 0.3779
4 0.4899
6 0.4694166666666667
6 0.4655166666666667
6 0.4699333333333333
8 0.448875
EOD
$s1_1 << EOD
2 0.39390000000000003
4 0.4851
6 0.4682888888888889
8 0.448875
EOD
$s1_2 << EOD
6 0.4256
EOD
$s1_3 << EOD
2 0.4353
4 0.50745
2 0.3925
4 0.50415
6 0.4903
6 0.4875166666666666
6 0.48935
8 0.47985
EOD
$s1_4 << EOD
2 0.41390000000000005
4 0.5058
6 0.4890555555555555
8 0.47985
EOD
$s1_5 << EOD
6 0.4526
EOD
$s1_6 << EOD
2 0.4331
4 0.5048
2 0.4015
4 0.51075
6 0.4872333333333333
6 0.491
6 0.5001333333333334
8 0.48475
EOD
$s1_7 << EOD
2 0.4173
4 0.5077750000000001
6 0.4927888888888889
8 0.48475
EOD
$s1_8 << EOD
6 0.499
EOD
$s2_0 << EOD
1 0.4664
2 0.4766
4 0.4696
1 0.462
2 0.4986
4 0.4712
6 0.4534666666666667
6 0.45165
6 0.4493166666666667
8 0.4311
EOD
$s2_1 << EOD
1 0.4642
2 0.48760000000000003
4 0.47040000000000004
6 0.4514777777777778
8 0.4311
EOD
$s2_2 << EOD
1 0.4724
2 0.4939
4 0.4912
1 0.4738
2 0.4992
4 0.48425
6 0.4694833333333333
6 0.47425
6 0.4638166666666667
8 0.459575
EOD
$s2_3 << EOD
1 0.47309999999999997
2 0.49655
4 0.487725
6 0.46918333333333334
8 0.459575
EOD
$s2_4 << EOD
1 0.4546
2 0.4885
4 0.49005
1 0.474
2 0.5122
4 0.4907
6 0.4703666666666667
6 0.4773333333333333
6 0.4734166666666666
8 0.46285
EOD
$s2_5 << EOD
1 0.4643
2 0.50035
4 0.490375
6 0.47370555555555555
8 0.46285
EOD
set multiplot layout 1,3

# ---- panel 0 ----
set title 'test_accuracy'
set xlabel 'task.slots'
set ylabel 'test_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s0_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s0_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s0_2 using 1:2 with linespoints lw 1.5 dt 2 lc rgb '#001f77b4' pt 7 ps 0.5249999999999999 title 'monolithic (reference)', \
     $s0_3 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s0_4 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s0_5 using 1:2 with linespoints lw 1.5 dt 2 lc rgb '#00d62728' pt 7 ps 0.5249999999999999 title 'modular (reference)', \
     $s0_6 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s0_7 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular', \
     $s0_8 using 1:2 with linespoints lw 1.5 dt 2 lc rgb '#002ca02c' pt 7 ps 0.5249999999999999 title 'kernel_modular (reference)'

# ---- panel 1 ----
set title 'ood_accuracy'
set xlabel 'task.slots'
set ylabel 'ood_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s1_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s1_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s1_2 using 1:2 with linespoints lw 1.5 dt 2 lc rgb '#001f77b4' pt 7 ps 0.5249999999999999 title 'monolithic (reference)', \
     $s1_3 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s1_4 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s1_5 using 1:2 with linespoints lw 1.5 dt 2 lc rgb '#00d62728' pt 7 ps 0.5249999999999999 title 'modular (reference)', \
     $s1_6 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s1_7 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular', \
     $s1_8 using 1:2 with linespoints lw 1.5 dt 2 lc rgb '#002ca02c' pt 7 ps 0.5249999999999999 title 'kernel_modular (reference)'

# ---- panel 2 ----
set title 'test_noise1_accuracy'
set xlabel 'task.slots'
set ylabel 'test_noise1_accuracy'
unset label 1
set autoscale xy
unset logscale
set grid xtics ytics lt 1 lw 1 lc rgb '#e0e0e0'
set key top right samplen 2
plot $s2_0 using 1:2 with points lw 1 dt 1 lc rgb '#a61f77b4' pt 7 ps 0.35 notitle, \
     $s2_1 using 1:2 with linespoints lw 2 dt 1 lc rgb '#001f77b4' pt 7 ps 0.7 title 'monolithic', \
     $s2_2 using 1:2 with points lw 1 dt 1 lc rgb '#a6d62728' pt 7 ps 0.35 notitle, \
     $s2_3 using 1:2 with linespoints lw 2 dt 1 lc rgb '#00d62728' pt 7 ps 0.7 title 'modular', \
     $s2_4 using 1:2 with points lw 1 dt 1 lc rgb '#a62ca02c' pt 7 ps 0.35 notitle, \
     $s2_5 using 1:2 with linespoints lw 2 dt 1 lc rgb '#002ca02c' pt 7 ps 0.7 title 'kernel_modular'
unset multiplot
set output
